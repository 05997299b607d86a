"""Syslog listener: UDP and TCP (RFC 6587 framing; TLS per RFC 5425 when a certificate is set).
Lines are batched (every 50 ms or 5,000 lines) and handed to ``ingest.ingest`` in a worker thread;
a sender whose address is not a registered source is quarantined with reason ``unknown_source``.

``serve_processes`` runs one listener process per core on sockets bound once: the kernel hands each
datagram (and each TCP connection) to one of them, so parsing and rule evaluation run in parallel
even for a single sender, and the processes only take turns on the log's append (the head lock)."""

import asyncio
import contextlib
import logging
import os
import signal
import socket
import ssl
import time
from collections import defaultdict

from django.db import close_old_connections, connections
from django.utils import timezone

from smartgov.core.permissions import system_actor

from . import ingest
from .models import Quarantine, Source
from .syslog import split_tcp_stream

log = logging.getLogger("smartgov.seccloud.listener")
FLUSH_S = 0.05
FLUSH_LINES = 5000


class Collector:
    def __init__(self, *, defer: bool = False):
        self.defer = defer  # keep lines until the caller flushes (tests: inside the test's transaction)
        self.pending: dict[tuple[str, str], list[str]] = defaultdict(list)
        self.count = 0
        self.sources: dict[str, Source | None] = {}
        self.loaded_at = 0.0
        self.actor = system_actor("seccloud.syslog")
        self.stats = {"lines": 0, "stored": 0, "quarantined": 0, "alerts": 0}

    def add(self, peer: str, transport: str, line: str) -> None:
        self.pending[(peer, transport)].append(line)
        self.count += 1

    def flush(self) -> None:
        """Runs in a worker thread: one transaction per (sender, transport)."""
        batches, self.pending, self.count = self.pending, defaultdict(list), 0
        if time.monotonic() - self.loaded_at > 5:
            self.sources = {s.address: s for s in Source.objects.filter(kind=Source.Kind.SYSLOG, active=True)
                            .select_related("department")}
            self.loaded_at = time.monotonic()
        if not self.defer:
            close_old_connections()
        for (peer, transport), lines in batches.items():
            source = self.sources.get(peer)
            if source is None:
                Quarantine.objects.bulk_create([Quarantine(at=_now(), transport=transport, peer=peer,
                                                           reason="unknown_source", raw=line[:65536]) for line in lines])
                self.stats["quarantined"] += len(lines)
                continue
            out = ingest.ingest(actor=self.actor, source=source, lines=lines, kind="syslog", transport=transport,
                                peer=peer)
            self.stats["lines"] += out["received"]
            self.stats["stored"] += out["stored"]
            self.stats["quarantined"] += out["quarantined"]
            self.stats["alerts"] += out["alerts"]


def _now():
    return timezone.now()


class _UDP(asyncio.DatagramProtocol):
    def __init__(self, collector: Collector):
        self.c = collector

    def datagram_received(self, data: bytes, addr) -> None:
        self.c.add(addr[0], "udp", data.decode("utf-8", errors="replace"))


async def _tcp_client(collector: Collector, reader, writer) -> None:
    peer = writer.get_extra_info("peername")[0]
    transport = "tls" if writer.get_extra_info("sslcontext") else "tcp"
    tail = b""
    try:
        while data := await reader.read(65536):
            frames, tail = split_tcp_stream(tail + data)
            for f in frames:
                collector.add(peer, transport, f.decode("utf-8", errors="replace"))
            if len(tail) > 65536:  # a frame that never ends: keep it in quarantine, drop the connection
                collector.add(peer, transport, tail[:65536].decode("utf-8", errors="replace"))
                break
    finally:
        if tail.strip():
            collector.add(peer, transport, tail.decode("utf-8", errors="replace"))
        writer.close()


async def _flush(collector: Collector) -> None:
    if not collector.defer:
        await asyncio.to_thread(collector.flush)


def bind_sockets(host: str, port: int) -> tuple[socket.socket, socket.socket]:
    """The UDP socket and the listening TCP socket on ``host:port``, for ``serve(sockets=…)``."""
    family = socket.getaddrinfo(host, port, type=socket.SOCK_DGRAM)[0][0]
    udp = socket.socket(family, socket.SOCK_DGRAM)
    with contextlib.suppress(OSError):  # a large receive buffer rides out bursts while a batch commits
        udp.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 16 * 1024 * 1024)
    udp.bind((host, port))
    tcp = socket.socket(family, socket.SOCK_STREAM)
    tcp.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    tcp.bind((host, port))
    tcp.listen(128)
    for s in (udp, tcp):
        s.setblocking(False)
    return udp, tcp


def serve_processes(host: str, port: int, *, workers: int, tls_cert: str | None = None) -> None:
    """``workers`` listener processes on the same sockets (forked after binding, before any database
    connection is shared). SIGINT or SIGTERM stops them all after they commit what they hold."""
    udp, tcp = bind_sockets(host, port)
    ingest.rule_pack()  # compiled once here (pySigma takes seconds for the pack), inherited by every process
    connections.close_all()
    children = []
    for _ in range(max(workers, 1) - 1):
        pid = os.fork()
        if pid == 0:  # pragma: no cover - a child process
            code = 0
            try:
                asyncio.run(_serve_until_signalled(host, port, tls_cert, (udp, tcp)))
            except BaseException:  # logged; a child must never return into the parent's code
                log.exception("syslog listener process failed")
                code = 1
            os._exit(code)
        children.append(pid)
    try:
        asyncio.run(_serve_until_signalled(host, port, tls_cert, (udp, tcp)))
    finally:
        for pid in children:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGTERM)
        for pid in children:
            with contextlib.suppress(ChildProcessError):
                os.waitpid(pid, 0)


async def _serve_until_signalled(host, port, tls_cert, sockets) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    await serve(host, port, tls_cert=tls_cert, stop=stop, sockets=sockets)


async def serve(host: str, port: int, *, tls_cert: str | None = None, stop: asyncio.Event | None = None,
                ready=None, collector: Collector | None = None,
                sockets: tuple[socket.socket, socket.socket] | None = None) -> Collector:
    collector = collector or Collector()
    loop = asyncio.get_running_loop()
    udp_sock, tcp_sock = sockets or bind_sockets(host, port)
    udp, _ = await loop.create_datagram_endpoint(lambda: _UDP(collector), sock=udp_sock)
    ctx = None
    if tls_cert:
        ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        ctx.load_cert_chain(tls_cert)
    tcp = await asyncio.start_server(lambda r, w: _tcp_client(collector, r, w), sock=tcp_sock, ssl=ctx)
    log.info("syslog listening on %s:%s (udp, %s)", host, port, "tls" if ctx else "tcp")
    if ready:
        ready()
    stop = stop or asyncio.Event()
    try:
        while not stop.is_set():
            try:
                await asyncio.wait_for(stop.wait(), FLUSH_S)
            except TimeoutError:
                pass
            if collector.count:
                await _flush(collector)
        await asyncio.sleep(FLUSH_S)
        if collector.count:
            await _flush(collector)
    finally:
        udp.close()
        tcp.close()
    return collector
