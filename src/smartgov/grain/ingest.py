"""The ingest hot path: analyse a batch of scans and write them in one statement (set-based SQL).

Called only from ``services.ingest_scans`` (which checks permission, opens the transaction and writes
the audit entry). PostgreSQL: ``COPY`` into a session temp table, then one ``INSERT … SELECT … ON
CONFLICT DO NOTHING RETURNING`` tells which scans were new. SQLite: the write lock is taken at BEGIN
(IMMEDIATE), so one look-up of existing keys and one ``executemany`` are race-free.
"""

from collections import defaultdict
from datetime import UTC, datetime, timedelta

import numpy as np
import orjson
from django.db import connection
from django.utils import timezone

from .analysis import Analysis, analyse_stack, grain_safety
from .models import Scan
from .readings import ScanIn

TABLE = Scan._meta.db_table
COLUMNS = ("warehouse_id", "taken_at", "received_at", "source", "temps", "air_temp", "air_rh", "out_temp",
           "out_rh", "o2", "co2", "ph3", "moisture", "t_max", "t_min", "t_mean", "layer_stats", "faulty", "hot",
           "stuck", "temp_class", "next_check_days")
_COLS = ", ".join(COLUMNS)


def previous_scans(warehouse_firsts: dict[int, datetime], rate_gap: timedelta) -> dict[int, list]:
    """For each warehouse, up to two stored scans as (taken_at, temps, stuck): the latest before its first
    scan in the batch, and the latest at least ``rate_gap`` before it. One round trip (UNION ALL of
    index look-ups)."""
    if not warehouse_firsts:
        return {}
    parts, args = [], []
    adapt = connection.ops.adapt_datetimefield_value
    for wid, first in warehouse_firsts.items():
        for op, when in (("<", first), ("<=", first - rate_gap)):
            parts.append(f"SELECT * FROM (SELECT warehouse_id, taken_at, temps, stuck FROM {TABLE}"  # noqa: S608
                         f" WHERE warehouse_id = %s AND taken_at {op} %s ORDER BY taken_at DESC LIMIT 1)"
                         f" AS p{len(parts)}")
            args += [wid, adapt(when)]
    out: dict[int, list] = defaultdict(list)
    with connection.cursor() as cur:
        cur.execute(" UNION ALL ".join(parts), args)
        for wid, taken_at, temps, stuck in cur.fetchall():
            if isinstance(taken_at, str):  # SQLite may hand back text
                taken_at = datetime.fromisoformat(taken_at)
            if taken_at.tzinfo is None:  # SQLite stores UTC without an offset
                taken_at = taken_at.replace(tzinfo=UTC)
            if all(taken_at != h[0] for h in out[wid]):
                out[wid].append((taken_at, np.frombuffer(bytes(temps), dtype="<f4"), bytes(stuck)))
    for history in out.values():
        history.sort(key=lambda h: h[0])
    return out


def analyse_batch(scans: list[ScanIn], params: dict) -> list[tuple[ScanIn, Analysis]]:
    """Analyse scans in time order per warehouse, each against the scan before it and against one at
    least ``rise_min_hours`` older (stored, or earlier in the batch). Round k analyses the k-th scan of
    every warehouse at once (``analyse_stack``, one stack per grid shape): a scan needs only its own
    warehouse's earlier scans, which earlier rounds have done."""
    by_wh: dict[int, list[ScanIn]] = defaultdict(list)
    for s in scans:
        by_wh[s.warehouse.id].append(s)
    gap = timedelta(hours=params["rise_min_hours"])
    stored = previous_scans({wid: min(s.taken_at for s in group) for wid, group in by_wh.items()}, gap)
    histories = {}
    for wid, group in by_wh.items():
        group.sort(key=lambda s: s.taken_at)
        histories[wid] = list(stored.get(wid, []))
    result: dict[int, Analysis] = {}  # by id() of the scan
    for k in range(max((len(g) for g in by_wh.values()), default=0)):
        shapes: dict[tuple[int, int], list[ScanIn]] = defaultdict(list)
        for group in by_wh.values():
            if k < len(group):
                s = group[k]
                shapes[(s.temps.size, s.warehouse.layers)].append(s)
        for (_, layers), stack in shapes.items():
            last, refs = [], []
            for s in stack:
                history = histories[s.warehouse.id]
                last.append(history[-1] if history else None)
                refs.append(next((h for h in reversed(history) if h[0] <= s.taken_at - gap), None))
            analyses = analyse_stack(
                np.stack([s.temps for s in stack]), layers=layers,
                prev=[h[1] if h else None for h in last], prev_stuck=[h[2] if h else None for h in last],
                rate_ref=[r[1] if r else None for r in refs],
                rate_hours=[(s.taken_at - r[0]).total_seconds() / 3600 if r else None for s, r in zip(stack, refs, strict=True)],
                safety=[grain_safety(s.warehouse.variety, s.moisture if s.moisture is not None else s.warehouse.lot_moisture,
                                     params) for s in stack],
                params=params)
            for s, a in zip(stack, analyses, strict=True):
                result[id(s)] = a
                history = histories[s.warehouse.id]
                history.append((s.taken_at, s.temps, a.stuck))
                if len(history) > 200:
                    del history[:100]
    return [(s, result[id(s)]) for group in by_wh.values() for s in group]


def _row(s: ScanIn, a: Analysis, source: str, now: datetime, *, adapt_time) -> tuple:
    return (s.warehouse.id, adapt_time(s.taken_at), adapt_time(now), source, s.temps.astype("<f4").tobytes(),
            s.air_temp, s.air_rh, s.out_temp, s.out_rh, s.o2, s.co2, s.ph3, s.moisture, a.t_max, a.t_min, a.t_mean,
            orjson.dumps(a.layer_stats).decode(), orjson.dumps(a.faulty).decode(), orjson.dumps(a.hot).decode(),
            a.stuck, a.temp_class, a.next_check_days)


def insert_rows(rows: list[tuple]) -> set[tuple[int, object]]:
    """Insert scan rows, skipping (warehouse, taken_at) already stored; returns the keys inserted.
    Must run inside a transaction."""
    if not rows:
        return set()
    if connection.vendor == "postgresql":
        return _insert_postgresql(rows)
    return _insert_sqlite(rows)


def _insert_sqlite(rows):
    seen_in_batch = set()
    keys = []
    for r in rows:
        k = (r[0], r[1])
        if k not in seen_in_batch:
            seen_in_batch.add(k)
            keys.append(k)
    existing = set()
    with connection.cursor() as cur:
        wids = sorted({k[0] for k in keys})
        lo, hi = min(k[1] for k in keys), max(k[1] for k in keys)
        marks = ", ".join(["%s"] * len(wids))
        cur.execute(f"SELECT warehouse_id, taken_at FROM {TABLE} WHERE warehouse_id IN ({marks})"  # noqa: S608
                    " AND taken_at BETWEEN %s AND %s", [*wids, lo, hi])
        adapt = connection.ops.adapt_datetimefield_value
        existing = {(w, t if isinstance(t, str) else adapt(t)) for w, t in cur.fetchall()}
        new, done = [], set()
        for r in rows:
            k = (r[0], r[1])
            if k in existing or k in done:
                continue
            done.add(k)
            new.append(r)
        if new:
            marks = ", ".join(["%s"] * len(COLUMNS))
            cur.executemany(f"INSERT INTO {TABLE} ({_COLS}) VALUES ({marks})", new)  # noqa: S608
    return done


def _insert_postgresql(rows):
    with connection.cursor() as wrapper:
        cur = wrapper.cursor  # the psycopg 3 cursor, for COPY
        cur.execute(f"CREATE TEMP TABLE IF NOT EXISTS grain_scan_stage ON COMMIT DELETE ROWS"  # noqa: S608
                    f" AS SELECT {_COLS} FROM {TABLE} WITH NO DATA")
        with cur.copy(f"COPY grain_scan_stage ({_COLS}) FROM STDIN") as copy:
            for r in rows:
                copy.write_row(r)
        cur.execute(f"INSERT INTO {TABLE} ({_COLS}) SELECT DISTINCT ON (warehouse_id, taken_at) {_COLS}"  # noqa: S608
                    f" FROM grain_scan_stage ON CONFLICT (warehouse_id, taken_at) DO NOTHING"
                    " RETURNING warehouse_id, taken_at")
        inserted = {(w, t) for w, t in cur.fetchall()}
        cur.execute("TRUNCATE grain_scan_stage")
    return inserted


def store_batch(scans: list[ScanIn], *, source: str, params: dict):
    """Analyse and insert; returns [(scan, analysis)] of the scans that were new (duplicates skipped)."""
    now = timezone.now()
    analysed = analyse_batch(scans, params)
    if connection.vendor == "postgresql":
        def adapt_time(dt):
            return dt
    else:
        adapt_time = connection.ops.adapt_datetimefield_value
    rows = [_row(s, a, source, now, adapt_time=adapt_time) for s, a in analysed]
    inserted = insert_rows(rows)
    new = []
    for (s, a), r in zip(analysed, rows, strict=True):
        key = (r[0], r[1])
        if key in inserted:
            inserted.discard(key)  # a scan repeated inside the batch counts once
            new.append((s, a))
    return new
