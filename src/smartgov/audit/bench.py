"""``smartgov bench audit``: audit append and verify rates, beside the raw database and SM3 speeds."""

import time

from django.db import connection, transaction

from smartgov.core.crypto.sm3 import sm3
from smartgov.core.permissions import system_actor

from .models import AuditEntry
from .selectors import verify_trail
from .services import record


def bench_audit(*, size: int = 100_000, progress=None) -> dict:
    progress = progress or (lambda n: None)
    # 1. append: one record() per transaction, as a service call does it
    t0 = time.perf_counter()
    for i in range(size):
        with transaction.atomic():
            record(actor=system_actor("audit.bench"), action="bench.append", target=("bench.item", str(i)),
                   changes={"i": i, "name": "基准测试", "amount": i * 3})
        if i % 1000 == 999:
            progress(1000)
    append_s = time.perf_counter() - t0

    # 2. the layer underneath: the same number of plain one-row INSERT transactions, no hashing
    table = "bench_raw_rows"
    with connection.cursor() as cur:
        cur.execute(f"CREATE TABLE {table} (id BIGINT PRIMARY KEY, at_us BIGINT, action VARCHAR(64),"
                    " target_id VARCHAR(64), changes TEXT, hash VARCHAR(64))")
    t0 = time.perf_counter()
    for i in range(size):
        with transaction.atomic(), connection.cursor() as cur:
            cur.execute(f"INSERT INTO {table} VALUES (%s, %s, %s, %s, %s, %s)",  # noqa: S608
                        [i, time.time_ns() // 1000, "bench.append", str(i), '{"i":1}', "0" * 64])
    raw_insert_s = time.perf_counter() - t0

    # 3. verify: the whole chain and every checkpoint, from the database
    entries = AuditEntry.objects.count()
    result = verify_trail()
    # 4. the layer underneath: reading the same rows, and hashing the same number of messages
    t0 = time.perf_counter()
    with connection.cursor() as cur:
        cur.execute(f"SELECT * FROM {AuditEntry._meta.db_table} ORDER BY seq")  # noqa: S608
        while cur.fetchmany(20_000):
            pass
    scan_s = time.perf_counter() - t0
    msg = b"x" * 200
    t0 = time.perf_counter()
    for _ in range(entries):
        sm3(msg)
    sm3_s = time.perf_counter() - t0
    with connection.cursor() as cur:
        cur.execute(f"DROP TABLE {table}")
    return {
        "entries": entries,
        "append_per_s": round(size / append_s),
        "raw_insert_per_s": round(size / raw_insert_s),
        "verify_per_s": round(entries / result.seconds),
        "verify_ok": result.ok,
        "raw_scan_per_s": round(entries / scan_s),
        "sm3_200B_per_s": round(entries / sm3_s),
        "checkpoints": result.checkpoints,
    }


BENCHMARKS = {"audit": bench_audit}
