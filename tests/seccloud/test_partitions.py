"""Monthly partitions of the security events table on PostgreSQL (issue 19 point 3; core/partitions.py,
docs/adr/0022): rows waiting in DEFAULT move into their month when it is created, queries on a date
range read only their months, retention drops a whole month exactly and the older days of the cutoff's
month one by one, and the Merkle proofs stay. SQLite keeps a plain table (the retention test in
test_log_store.py covers it there)."""

from datetime import UTC, date, datetime

import pytest
from django.db import connection

from smartgov.audit.models import AuditEntry
from smartgov.core import merkle, partitions
from smartgov.seccloud import ingest, services, store
from smartgov.seccloud.models import Event

from .factories import ADMIN, http_source, send
from .test_log_store import _lines

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(connection.vendor != "postgresql",
                       reason="declarative partitioning is PostgreSQL's; SQLite keeps the plain table"),
]
TABLE = "seccloud_event"


def _rows_by_table():
    with connection.cursor() as cur:
        cur.execute(f"SELECT tableoid::regclass::text, count(*) FROM {TABLE} GROUP BY 1")  # noqa: S608
        return dict(cur.fetchall())


def _at(d: date):
    return datetime(d.year, d.month, d.day, 3, 0, tzinfo=UTC)


def test_rows_move_out_of_default_when_their_month_is_created():
    source, _ = http_source()
    send(source, _lines(4, at=_at(date(2026, 5, 3))), kind="json")
    assert _rows_by_table() == {f"{TABLE}_default": 4}
    made = partitions.ensure_months(TABLE, ahead=1, today=date(2026, 5, 20))
    assert made == [f"{TABLE}_p202605", f"{TABLE}_p202606"]
    assert _rows_by_table() == {f"{TABLE}_p202605": 4}
    assert partitions.ensure_months(TABLE, ahead=1, today=date(2026, 5, 20)) == []  # idempotent
    assert [m.start for m in partitions.months(TABLE)][:2] == [date(2026, 5, 1), date(2026, 6, 1)]


def test_a_date_range_query_reads_only_its_month():
    partitions.ensure_months(TABLE, ahead=2, today=date(2026, 5, 1))
    with connection.cursor() as cur:
        cur.execute(f"EXPLAIN SELECT count(*) FROM {TABLE} WHERE day >= '2026-05-02' AND day < '2026-05-09'")  # noqa: S608
        plan = "\n".join(r[0] for r in cur.fetchall())
    assert f"{TABLE}_p202605" in plan
    assert f"{TABLE}_p202606" not in plan and f"{TABLE}_default" not in plan and f"{TABLE}_p202612" not in plan


def test_retention_drops_a_whole_month_exactly_and_keeps_proofs(settings):
    settings.SECCLOUD_RETENTION_DAYS = 180
    source, _ = http_source()
    partitions.ensure_months(TABLE, ahead=1, today=date(2026, 5, 1))  # May and June 2026
    days = {date(2026, 5, 1): 3, date(2026, 5, 31): 2, date(2026, 6, 3): 2, date(2026, 6, 8): 1}
    for d, n in days.items():
        send(source, _lines(n, at=_at(d)), kind="json")
    size = Event.objects.count()
    root = store.root_at(size)
    out = services.expire_events(actor=ADMIN, today=date(2026, 12, 4))  # cutoff 2026-06-07
    assert out["partitions_dropped"] == [f"{TABLE}_p202605"]
    assert out["deleted"] == 3 + 2 + 2  # May by its partition, June 3 by its day
    assert sorted(Event.objects.values_list("day", flat=True)) == [date(2026, 6, 8)]
    assert f"{TABLE}_p202605" not in {m.table for m in partitions.months(TABLE)}
    entry = AuditEntry.objects.filter(action="seccloud.events.expire").get()
    assert f"{TABLE}_p202605" in entry.changes
    kept = Event.objects.get()
    assert store.root_at(size) == root
    assert merkle.verify_inclusion(ingest.event_leaf_bytes(kept), kept.seq, size,
                                   store.inclusion_proof(kept.seq, size), root)


def test_a_table_with_rows_keys_and_indexes_converts_to_monthly_partitions():
    with connection.cursor() as cur:
        cur.execute("CREATE TABLE part_probe (id bigint PRIMARY KEY, day date NOT NULL, "
                    "dept bigint REFERENCES accounts_department(id), note varchar(20))")
        cur.execute("CREATE INDEX part_probe_note ON part_probe (note)")
        cur.execute("INSERT INTO part_probe SELECT g, DATE '2026-01-15' + g * 20, NULL, 'n' || g "
                    "FROM generate_series(1, 10) g")
    partitions.convert_to_monthly("part_probe", "day", pk="id")
    assert partitions.is_partitioned("part_probe")
    with connection.cursor() as cur:
        cur.execute("SELECT count(*), min(day), max(day) FROM part_probe")
        assert cur.fetchone() == (10, date(2026, 2, 4), date(2026, 8, 3))
        cur.execute("SELECT indexdef FROM pg_indexes WHERE tablename = 'part_probe'")
        defs = " ".join(r[0] for r in cur.fetchall())
        cur.execute("SELECT count(*) FROM pg_constraint WHERE conrelid = 'part_probe'::regclass AND contype = 'f'")
        assert cur.fetchone()[0] == 1
    assert "part_probe_note" in defs and "(id, day)" in defs
    assert partitions.months("part_probe")[0].start == date(2026, 2, 1)
