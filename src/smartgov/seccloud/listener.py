"""Syslog listener: UDP and TCP (RFC 6587 framing; TLS per RFC 5425 when a certificate is set).
Lines are batched (every 50 ms or 5,000 lines) and handed to ``ingest.ingest`` in a worker thread;
a sender whose address is not a registered source is quarantined with reason ``unknown_source``."""

import asyncio
import contextlib
import logging
import socket
import ssl
import time
from collections import defaultdict

from django.db import close_old_connections
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


async def serve(host: str, port: int, *, tls_cert: str | None = None, stop: asyncio.Event | None = None,
                ready=None, collector: Collector | None = None) -> Collector:
    collector = collector or Collector()
    loop = asyncio.get_running_loop()
    udp, _ = await loop.create_datagram_endpoint(lambda: _UDP(collector), local_addr=(host, port))
    sock = udp.get_extra_info("socket")
    with contextlib.suppress(OSError):  # a large receive buffer rides out bursts while a batch commits
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 16 * 1024 * 1024)
    ctx = None
    if tls_cert:
        ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        ctx.load_cert_chain(tls_cert)
    tcp = await asyncio.start_server(lambda r, w: _tcp_client(collector, r, w), host, port, ssl=ctx)
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
