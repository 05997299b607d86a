"""What the ingest benchmarks of the apps on the IoT layer share (``smartgov bench grain``, ``bench park``):
ingest workers on a scratch database, a publisher that keeps a bounded lead over the acknowledgements,
and the raw load of the stored rows into an identical table — the database's own speed, the ceiling.

The publisher keeps at most ``lead`` messages ahead of the acknowledgements: Mosquitto drops QoS 1
messages beyond ``max_queued_messages`` (default 1000) per subscriber, so a publisher must not outrun
its consumers by more than that."""

import signal
import subprocess
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager

from django.db import connection, transaction

from smartgov.core.benchhttp import database_url
from smartgov.core.processes import child_env

from .mqtt import Publisher, start_ingest_workers


@contextmanager
def ingest_workers(command: list[str], n: int, *, prefix: str, group: str, batch: int,
                   module: str = "smartgov") -> Iterator[tuple[list, list]]:
    """``n`` ingest processes (``smartgov <command…>``) on this process's database, one shared subscription;
    yields (messages acknowledged per worker, batches per worker), kept current; stops them on exit."""
    env = child_env({"DATABASE_URL": database_url(), "PYTHONUNBUFFERED": "1"})
    procs, acked, batches = start_ingest_workers(command, n, prefix=prefix, group=group, batch=batch, env=env,
                                                 module=module)
    try:
        yield acked, batches
    finally:
        for p in procs:
            p.send_signal(signal.SIGINT)
        for p in procs:
            try:
                p.wait(20)
            except subprocess.TimeoutExpired:
                p.kill()


def publish_acknowledged(messages: Sequence[tuple[str, bytes]], acked: list[int], *, lead: int, progress,
                         timeout_s: float, report_every: int = 1000,
                         on_publish: Callable[[int], None] | None = None) -> float:
    """Publish (QoS 1) every (topic, body), at most ``lead`` ahead of the acknowledgements, and wait for
    the last one; seconds from the first publish to the last acknowledgement. ``on_publish(n)`` is called
    just before message ``n`` goes out (for latency marks)."""
    with Publisher() as pub:
        start = time.perf_counter()
        done_before = 0
        for n, (topic, body) in enumerate(messages):
            while n - sum(acked) >= lead:
                time.sleep(0.0005)
            if on_publish:
                on_publish(n)
            pub.publish(topic, body)
            if n % report_every == 0:
                now = sum(acked)
                progress(now - done_before)
                done_before = now
        while sum(acked) < len(messages):
            if time.perf_counter() - start > timeout_s:
                raise RuntimeError(f"only {sum(acked)} of {len(messages)} messages acknowledged after {timeout_s:.0f} s")
            time.sleep(0.002)
        seconds = time.perf_counter() - start
        progress(sum(acked) - done_before)
    return seconds


def broker_passthrough(messages: Sequence[tuple[str, bytes]], *, prefix: str, topic_filter: str, workers: int,
                       batch: int, lead: int, progress, timeout_s: float = 600, report_every: int = 1000) -> float:
    """The same messages, published the same way, through ``workers`` sink processes (``iot.sink``: the
    ingest worker's MQTT side with nothing stored) — seconds from the first publish to the last
    acknowledgement: what Mosquitto and the MQTT client allow here, the ceiling beside the raw database
    load. The messages go out under a prefix of their own, so nothing reaches the real workers' sessions."""
    own = f"bench{uuid.uuid4().hex[:8]}"
    moved = [(own + topic[len(prefix):], body) for topic, body in messages]
    with ingest_workers(["--topic", own + topic_filter[len(prefix):]], workers, prefix=own,
                        group=f"bench-sink-{uuid.uuid4().hex[:6]}", batch=batch, module="smartgov.iot.sink") as (acked, _):
        return publish_acknowledged(moved, acked, lead=lead, progress=progress, timeout_s=timeout_s,
                                    report_every=report_every)


def raw_load(table: str, columns: Sequence[str], batch: int, *, unique: Sequence[str],
             convert: Callable[[tuple], tuple] | None = None) -> tuple[float, int]:
    """Copy the rows of ``table`` into an identical empty table, ``batch`` rows a transaction (``COPY`` on
    PostgreSQL, ``executemany`` on SQLite, the unique index ``unique`` on both); (seconds, rows)."""
    cols = ", ".join(columns)
    raw = f"{table}_raw"
    with connection.cursor() as cur:
        cur.execute(f"SELECT {cols} FROM {table}")  # noqa: S608
        rows = [convert(r) if convert else r for r in cur.fetchall()]
        cur.execute(f"DROP TABLE IF EXISTS {raw}")
        if connection.vendor == "postgresql":
            cur.execute(f"CREATE TABLE {raw} (LIKE {table} INCLUDING ALL)")
        else:
            cur.execute("SELECT sql FROM sqlite_master WHERE name = %s", [table])
            cur.execute(cur.fetchone()[0].replace(f'"{table}"', f'"{raw}"', 1))
            cur.execute(f"CREATE UNIQUE INDEX {raw}_once ON {raw} ({', '.join(unique)})")
    marks = ", ".join(["%s"] * len(columns))
    start = time.perf_counter()
    for i in range(0, len(rows), batch):
        chunk = rows[i:i + batch]
        with transaction.atomic(), connection.cursor() as cur:
            if connection.vendor == "postgresql":
                with cur.cursor.copy(f"COPY {raw} ({cols}) FROM STDIN") as copy:
                    for r in chunk:
                        copy.write_row(r)
            else:
                cur.executemany(f"INSERT INTO {raw} ({cols}) VALUES ({marks})", chunk)  # noqa: S608
    seconds = time.perf_counter() - start
    with connection.cursor() as cur:
        cur.execute(f"DROP TABLE {raw}")
    return seconds, len(rows)
