"""``smartgov bench overview [--cases N] --json``: how long the leader's full indicator set takes.

A scratch database gets ``--cases`` one-stop cases (default 100,000; bulk-loaded by the one-stop benchmark's
loader over its twelve departments), then the snapshot (every installed app's indicators and alerts plus the
leader's acknowledgements — what each SSE push and each page load computes) is taken ``ROUNDS`` times for a
department admin of one of those departments, twice a round: first with the figure cache emptied — the first
look after an audited write, every app computing (``screen_uncached_p50_ms``/``screen_uncached_p99_ms``, and
each app's share ``per_app_p99_ms``) — then again with no write between, as every other screen and page load
gets it until the next write or ``OVERVIEW_CACHE_SECONDS`` (``screen_p50_ms``/``screen_p99_ms``).

Then the live screens: an ASGI server (``smartgov hall live``, the platform's uvicorn process serving the whole
application) on 127.0.0.1 only, ``--clients`` screens (default 500) of the leader's department open
``/overview/live/``, and ``PUSHES`` times a figure changes (an audited action by the leader: 今日留痕操作): the time
from its commit until each screen has the new snapshot (``push_p50_ms``/``push_p99_ms``; it includes up to one
``SMARTGOV_OVERVIEW_LIVE_POLL_S`` — ``live_poll_s`` — of waiting for the department's next look) and how many
screens were connected (``sse_clients``).
"""

import asyncio
import os
import secrets
import socket
import subprocess
import sys
import time

from django.conf import settings
from django.db import connection, connections

from smartgov.accounts.services import create_user
from smartgov.audit.services import record
from smartgov.core.benchhttp import database_url, free_port
from smartgov.core.permissions import Role, system_actor
from smartgov.core.processes import child_env
from smartgov.onestop import bench as onestop_bench

from . import selectors
from .registry import providers

ROUNDS = 60
PUSHES = 5
LIVE_POLL_S = "0.5"


def _p(values: list[float], q: float) -> float:
    values = sorted(values)
    return round(values[min(len(values) - 1, int(q * len(values)))], 2)


async def _open_stream(port: int, session: str):
    reader, writer = await asyncio.open_connection("127.0.0.1", port, limit=1 << 22)
    writer.write(f"GET /overview/live/ HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: text/event-stream\r\n"
                 f"Cookie: sessionid={session}\r\n\r\n".encode())
    await writer.drain()
    head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 120)
    if b" 200 " not in head.split(b"\r\n", 1)[0]:
        raise RuntimeError(f"live stream refused: {head[:120]!r}")
    buf = b""
    while b"event: snapshot" not in buf:  # the picture at once
        buf += await asyncio.wait_for(reader.read(1 << 20), 120)
    return reader, writer


async def _push_latencies(port: int, sessions: list[str], trigger, pushes: int, progress) -> tuple[int, list[float]]:
    streams = []
    for i in range(0, len(sessions), 50):  # connect in waves, as screens would come up
        streams += await asyncio.gather(*(_open_stream(port, s) for s in sessions[i:i + 50]))
        progress(f"{len(streams)} screens connected")
    await asyncio.sleep(2.0)
    for reader, _ in streams:  # drain whatever the first looks sent
        while True:
            try:
                await asyncio.wait_for(reader.read(1 << 20), 0.01)
            except TimeoutError:
                break
    latencies: list[float] = []
    for _ in range(pushes):
        committed = await asyncio.to_thread(trigger)

        async def wait_for(reader, committed=committed):
            buf = b""
            while b"event: snapshot" not in buf:
                buf += await reader.read(1 << 20)
            while b"\n\n" not in buf[buf.index(b"event: snapshot"):]:  # the whole event (the body is chunked)
                buf += await reader.read(1 << 20)
            return (time.perf_counter() - committed) * 1000

        latencies += await asyncio.wait_for(asyncio.gather(*(wait_for(r) for r, _ in streams)), 60)
        await asyncio.sleep(1.0)
    for _, writer in streams:
        writer.close()
    return len(streams), latencies


def _live(leader, clients: int, progress) -> dict:
    """``clients`` screens on an ASGI server on 127.0.0.1; PUSHES changes; latency from commit to every screen."""
    sessions = [onestop_bench._session(leader) for _ in range(clients)]
    port = free_port()
    env = child_env({"DATABASE_URL": database_url(), "SMARTGOV_VAR_DIR": str(settings.VAR_DIR),
                     "SMARTGOV_OVERVIEW_LIVE_POLL_S": LIVE_POLL_S, "SMARTGOV_OVERVIEW_LIVE_MAX_S": "1800"})
    log = open(os.path.join(settings.VAR_DIR, "bench-overview-live.log"), "wb")
    server = subprocess.Popen([sys.executable, "-m", "smartgov", "hall", "live", "--bind", f"127.0.0.1:{port}"],
                              env=env, stdout=log, stderr=log)
    try:
        deadline = time.monotonic() + 180  # a loaded machine boots Django slowly
        while True:
            if server.poll() is not None:
                raise RuntimeError(f"the live server exited ({server.returncode}); see {log.name}")
            try:
                socket.create_connection(("127.0.0.1", port), 0.5).close()
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)

        def trigger():
            record(actor=leader, action="bench.overview_push")  # 今日留痕操作 of the scope goes up by one
            committed = time.perf_counter()
            connections.close_all()
            return committed

        connected, push = asyncio.run(_push_latencies(port, sessions, trigger, PUSHES, progress))
    finally:
        server.terminate()
        try:
            server.wait(10)
        except subprocess.TimeoutExpired:
            server.kill()
        log.close()
    return {"sse_clients": connected, "pushes": PUSHES, "push_p50_ms": _p(push, 0.5), "push_p99_ms": _p(push, 0.99),
            "live_poll_s": float(LIVE_POLL_S)}


def run(*, progress, cases: int = 100_000, clients: int | None = None, **_) -> dict:
    depts, items, citizens, _officer = onestop_bench._setup()
    rate, _numbers, _names = onestop_bench._bulk_cases(cases, items, citizens, progress)
    leader = create_user(actor=system_actor("overview.bench"), username=f"bench_leader_{secrets.token_hex(3)}", password=None,
                         role=Role.DEPT_ADMIN, name="基准领导", department=depts[0])
    selectors.snapshot(leader, depts[0])  # warm the caches of the catalogue and the registry
    total, cached, per_app = [], [], {p.label: [] for p in providers()}
    for _ in range(ROUNDS):
        selectors.FIGURES.clear()  # the first look after a write: every app computes
        t0 = time.perf_counter()
        selectors.snapshot(leader, depts[0])
        total.append((time.perf_counter() - t0) * 1000)
        t0 = time.perf_counter()  # the next look, no write between: the audit head and the acknowledgements
        selectors.snapshot(leader, depts[0])
        cached.append((time.perf_counter() - t0) * 1000)
        for p in providers():
            t1 = time.perf_counter()
            p.indicators(actor=leader, department=depts[0])
            if p.alerts:
                p.alerts(actor=leader, department=depts[0], limit=selectors.ALERTS_PER_APP)
            per_app[p.label].append((time.perf_counter() - t1) * 1000)
        progress(1)
    out = {"cases": cases, "cases_in_scope": cases // len(depts), "raw_load_per_s": round(rate),
           "rounds": ROUNDS, "screen_p50_ms": _p(cached, 0.5), "screen_p99_ms": _p(cached, 0.99),
           "screen_uncached_p50_ms": _p(total, 0.5), "screen_uncached_p99_ms": _p(total, 0.99),
           "cache_seconds": settings.OVERVIEW_CACHE_SECONDS,
           "per_app_p99_ms": {k: _p(v, 0.99) for k, v in per_app.items()}}
    if clients != 0:
        out.update(_live(leader, clients or 500, progress))

    out["database"] = connection.vendor
    return out


BENCHMARKS = {"overview": run}
