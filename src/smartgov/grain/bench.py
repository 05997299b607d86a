"""``smartgov bench grain --workers N --json``: temperature points ingested end to end, against the raw
load rate of the same rows.

End to end = publish (QoS 1) → Mosquitto → N ``smartgov grain ingest`` processes on one MQTT 5 shared
subscription → parse, validate, numpy analysis, alerts, insert, audit entry, commit → PUBACK. The clock
runs from the first publish to the last acknowledgement; every scan is then counted in the database.

``raw_point_rows_per_s`` is the alternative design for reference: the same temperatures loaded as one
row per point (the rate that decided the storage format, docs/adr/0006).

Raw = the very rows the workers stored, loaded straight into an identical table in batches of the same
size (``COPY`` on PostgreSQL, ``executemany`` in one transaction per batch on SQLite): the database's
own speed for this data, the ceiling the pipeline is measured against (``ratio``).

The publisher keeps at most ``lead`` scans ahead of the acknowledgements (``iot.loadtest``).
"""

import os
import time
import uuid
from datetime import UTC, datetime, timedelta

import numpy as np
import orjson
from django.db import connection, transaction

from smartgov.accounts.models import Level
from smartgov.accounts.services import create_department
from smartgov.core.permissions import system_actor
from smartgov.iot import loadtest

from . import mqtt
from .ingest import COLUMNS, TABLE
from .models import Alert
from .simulate import ensure_structure, generate, plan

GRID = (12, 8, 4)  # a 58 m × 38 m flat warehouse: 96 cables, 4 layers — 384 points per scan


def _raw_load(batch: int) -> tuple[float, int]:
    """The stored scans copied into an identical empty table, ``batch`` rows per transaction."""
    return loadtest.raw_load(TABLE, COLUMNS, batch, unique=('"warehouse_id"', '"taken_at"'),
                             convert=lambda r: tuple(bytes(v) if isinstance(v, memoryview) else v for v in r))


def _raw_point_rows(limit_scans: int, batch_points: int) -> tuple[float, int]:
    """For the storage decision (docs/adr/0006): the same temperatures as one row per point
    (warehouse, scan time, point, temperature) with its primary key, loaded the same way."""
    with connection.cursor() as cur:
        cur.execute(f"SELECT warehouse_id, taken_at, temps FROM {TABLE} LIMIT %s", [limit_scans])  # noqa: S608
        scans = cur.fetchall()
        cur.execute("DROP TABLE IF EXISTS grain_point_raw")
        cur.execute("CREATE TABLE grain_point_raw (warehouse_id bigint NOT NULL, taken_at timestamp NOT NULL,"
                    " point smallint NOT NULL, temp real, PRIMARY KEY (warehouse_id, taken_at, point))")
    rows = []
    for wid, taken_at, temps in scans:
        values = np.frombuffer(bytes(temps), dtype="<f4").tolist()
        rows.extend((wid, taken_at, i, v) for i, v in enumerate(values))
    start = time.perf_counter()
    for i in range(0, len(rows), batch_points):
        chunk = rows[i:i + batch_points]
        with transaction.atomic(), connection.cursor() as cur:
            if connection.vendor == "postgresql":
                with cur.cursor.copy("COPY grain_point_raw (warehouse_id, taken_at, point, temp) FROM STDIN") as copy:
                    for r in chunk:
                        copy.write_row(r)
            else:
                cur.executemany("INSERT INTO grain_point_raw VALUES (%s, %s, %s, %s)", chunk)
    seconds = time.perf_counter() - start
    with connection.cursor() as cur:
        cur.execute("DROP TABLE grain_point_raw")
    return seconds, len(rows)


def run(*, progress, workers: int = 1, size: int | None = None, **_) -> dict:
    scans = size or 4000
    rows, cols, layers = GRID
    depots, per_depot = 10, 10
    bureau = create_department(actor=system_actor("grain.bench"), name="基准测试粮食局", code=f"BENCH-{uuid.uuid4().hex[:6]}",
                               level=Level.CITY)
    whs = ensure_structure(bureau=bureau, depots=depots, warehouses=per_depot, rows=rows, cols=cols, layers=layers,
                           prefix=bureau.code)
    sims = plan([w.depot.code for w in whs[::per_depot]], per_depot, rows=rows, cols=cols, layers=layers)
    per_wh = -(-scans // len(sims))
    prefix, group = f"bench{uuid.uuid4().hex[:8]}", f"bench{uuid.uuid4().hex[:6]}"
    messages = []
    for sim, _, payload in generate(sims, start=datetime.now(UTC) - timedelta(days=-(-per_wh // 4) + 1), days=-(-per_wh // 4),
                                    per_day=4):
        messages.append((mqtt.scan_topic(prefix, sim.depot_code, sim.code), orjson.dumps(payload)))
    messages = messages[:scans]
    points = len(messages) * rows * cols * layers
    batch = 500
    lead = 800 * workers
    with loadtest.ingest_workers(["grain", "ingest"], workers, prefix=prefix, group=group, batch=batch) as (acked, batches):
        seconds = loadtest.publish_acknowledged(messages, acked, lead=lead, progress=progress, timeout_s=600,
                                                report_every=200)
    with connection.cursor() as cur:
        cur.execute(f"SELECT COUNT(*) FROM {TABLE}")  # noqa: S608
        stored = cur.fetchone()[0]
    if stored != len(messages):
        raise RuntimeError(f"{stored} scans stored, {len(messages)} published")
    sink_seconds = loadtest.broker_passthrough(messages, prefix=prefix, topic_filter=mqtt.scan_topic(prefix, "+", "+"),
                                               workers=workers, batch=batch, lead=lead, progress=lambda n: None,
                                               report_every=200)
    raw_seconds, raw_rows = _raw_load(batch)
    point_seconds, point_rows = _raw_point_rows(1000, batch * rows * cols * layers)
    points_per_s = points / seconds
    raw_per_s = raw_rows * rows * cols * layers / raw_seconds

    return {
        "workers": workers, "scans": len(messages), "points_per_scan": rows * cols * layers, "points": points,
        "seconds": round(seconds, 3), "scans_per_s": round(len(messages) / seconds, 1),
        "points_per_s": round(points_per_s), "raw_load_seconds": round(raw_seconds, 3),
        "raw_load_per_s": round(raw_per_s), "ratio": round(points_per_s / raw_per_s, 3),
        "raw_point_rows_per_s": round(point_rows / point_seconds),
        "broker_passthrough_points_per_s": round(points / sink_seconds),
        "broker_ratio": round(sink_seconds / seconds, 3),
        "alerts_open": Alert.objects.count(), "mean_batch_scans": round(len(messages) / max(sum(batches), 1), 1), "cpu_count": os.cpu_count(),
    }


BENCHMARKS = {"grain": run}
