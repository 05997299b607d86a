"""``smartgov bench trace --doses N``: capture a simulated chain of N doses end to end, bulk-load the
same rows raw for comparison, time traces of random doses and the recall of one batch.

- ``epc_events_per_s``: (event, EPC) pairs captured per second through ``capture_epcis_document``
  (parse, validate, hash, store, rules and state), documents prepared beforehand;
- ``raw_load_per_s``: the same event and event-EPC rows loaded into empty copies of the two tables
  (same indexes) in one transaction — ``COPY`` on PostgreSQL, ``executemany`` on SQLite — counted the
  same way (EPC pairs per second);
- ``trace_p50_ms``/``trace_p99_ms``: ``selectors.trace_code`` (whole life incl. containers and cold-chain
  readings) for 500 random doses;
- ``recall_s``: ``services.recall_batch`` of one batch (100,000 doses, or a tenth when fewer).
"""

import datetime
import random
import statistics
import time

from django.db import connection, transaction
from django.utils import timezone

from smartgov.accounts import services as accounts
from smartgov.accounts.models import Department, Level, User
from smartgov.core.permissions import Role, system_actor

from . import ingest, selectors, services, sim
from .codes import normalize_epc

BATCH_DOSES = 100_000


def _department_and_regulator():
    dept = Department.objects.filter(code="BENCH-SJJ").first() or accounts.create_department(
        actor=system_actor("trace.bench"), name="基准测试药监局", code="BENCH-SJJ", level=Level.PROVINCE)

    user = User.objects.filter(username="bench_supervisor").first() or accounts.create_user(
        actor=system_actor("trace.bench"), username="bench_supervisor", password=None, role=Role.SUPERVISOR, name="基准监管员", department=dept)
    return dept, user


def run(*, progress, doses: int = 1_000_000, administer: float = 0.01, **_) -> dict:
    dept, regulator = _department_and_regulator()
    net = sim.build_network(dept, counties=6, sites_per_county=4)
    batch_size = BATCH_DOSES if doses >= 10 * BATCH_DOSES else max(doses // 10, 10)
    start = timezone.now() - datetime.timedelta(days=60)
    plans, batches = [], []
    t_plan = time.perf_counter()
    made = 0
    seq = 0
    while made < doses:
        n = min(batch_size, doses - made)
        batch, issue = sim.make_batch(net, f"B{seq:04d}", start.date(), doses=n)
        plans.append(sim.plan_batch(net, batch, issue, start=start + datetime.timedelta(hours=seq), seq=seq + 1,
                                    administer=administer))
        batches.append(batch)
        made += n
        seq += 1
    plan_s = time.perf_counter() - t_plan
    documents = sum(len(p.documents) for p in plans)
    expected = sum(p.epc_events for p in plans)

    # --- capture, end to end
    t0 = time.perf_counter()
    captured = 0
    for plan in plans:
        captured += sim.capture_plan(plan, progress=progress)
    capture_s = time.perf_counter() - t0
    assert captured == expected, (captured, expected)
    with connection.cursor() as cur:
        cur.execute("SELECT COUNT(*) FROM trace_event")
        events = cur.fetchone()[0]
        cur.execute("SELECT COUNT(*) FROM trace_codestate")
        codes_count = cur.fetchone()[0]

    # --- the same rows, bulk-loaded raw
    raw_s, raw_rows = _raw_load()

    # --- traces of random doses
    rnd = random.Random(1)
    sample = [rnd.choice(rnd.choice(plans).doses) for _ in range(500)]

    timings = []
    for code in sample:
        epc = normalize_epc(code)
        t = time.perf_counter()
        result = selectors.trace_code(epc)
        timings.append((time.perf_counter() - t) * 1000)
        assert result["events"], epc
    timings.sort()

    # --- recall of one batch
    t = time.perf_counter()
    recall = services.recall_batch(actor=regulator, batch=batches[0], reason="基准测试：召回一个批次")
    recall_s = time.perf_counter() - t
    epc_rate = captured / capture_s
    raw_rate = raw_rows / raw_s
    return {
        "doses": doses,
        "documents": documents,
        "events": events,
        "codes": codes_count,
        "epc_events": captured,
        "capture_s": round(capture_s, 2),
        "epc_events_per_s": round(epc_rate),
        "raw_load_per_s": round(raw_rate),
        "ratio": round(epc_rate / raw_rate, 3),
        "trace_p50_ms": round(statistics.median(timings), 2),
        "trace_p99_ms": round(timings[int(len(timings) * 0.99) - 1], 2),
        "recall_doses": recall.codes_total,
        "recall_s": round(recall_s, 3),
        "plan_s": round(plan_s, 1),
    }


def _raw_load() -> tuple[float, int]:
    """Copy the captured rows into memory, then time loading them into empty same-shaped tables."""
    pg = connection.vendor == "postgresql"
    with connection.cursor() as cur:
        cols = ", ".join(ingest.EVENT_COLUMNS)
        cur.execute(f"SELECT {cols} FROM trace_event")  # noqa: S608 (constant columns)
        event_rows = cur.fetchall()
        if not pg:  # SQLite hands back datetimes; store them as the capture does (text, UTC)
            event_rows = [tuple(str(v) if isinstance(v, datetime.datetime) else v for v in row) for row in event_rows]
        cur.execute("SELECT event_id, epc, role FROM trace_eventepc")
        epc_rows = cur.fetchall()
        for table in ("bench_raw_event", "bench_raw_eventepc"):
            cur.execute(f"DROP TABLE IF EXISTS {table}")
        if pg:
            cur.execute("CREATE TABLE bench_raw_event (LIKE trace_event INCLUDING ALL)")
            cur.execute("CREATE TABLE bench_raw_eventepc (LIKE trace_eventepc INCLUDING ALL)")
        else:
            for table, raw in (("trace_event", "bench_raw_event"), ("trace_eventepc", "bench_raw_eventepc")):
                cur.execute("SELECT type, sql FROM sqlite_master WHERE tbl_name = %s AND sql IS NOT NULL "
                            "ORDER BY type DESC", [table])
                for kind, sql in cur.fetchall():
                    sql = sql.replace(f'"{table}"', f'"{raw}"')
                    if kind == "index":
                        sql = sql.replace('INDEX "', f'INDEX "{raw}_', 1)
                    cur.execute(sql)
    t = time.perf_counter()
    with transaction.atomic():
        ingest.write_rows("bench_raw_event", ingest.EVENT_COLUMNS, event_rows)
        ingest.write_epc_rows(epc_rows, table="bench_raw_eventepc")
    elapsed = time.perf_counter() - t
    with connection.cursor() as cur:
        for table in ("bench_raw_event", "bench_raw_eventepc"):
            cur.execute(f"DROP TABLE {table}")
    return elapsed, len(epc_rows)


BENCHMARKS = {"trace": run}
