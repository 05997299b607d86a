"""Monthly range partitions of big append-only tables on PostgreSQL (declarative partitioning).

Decision and measurements: docs/adr/0022-partitioned-append-only-tables.md. In short: partitions are
created ahead by the platform's own periodic job (no extension to install, works on a managed
PostgreSQL), one per calendar month of a ``date`` column, plus a DEFAULT partition for rows whose date
lies outside every month created so far (a device clock years off). Retention drops whole months at
once (``drop_months_before``) — a catalogue change, not a DELETE of millions of rows. SQLite keeps the
plain table: every function here is a no-op there.

- ``convert_to_monthly`` (used once, by a migration): rebuilds a table as a partitioned one with the
  same columns, indexes, unique constraints and foreign keys, the primary key widened by the partition column (PostgreSQL
  requires the partition key in every unique constraint; the row id stays unique because it comes
  from one counter), and moves the rows.
- ``ensure_months``: the months from the current one ``ahead`` months on exist; rows of such a month
  waiting in DEFAULT are moved into the new partition first (PostgreSQL refuses to attach otherwise).
  A ``timestamp with time zone`` column works too: its months are UTC months.
- ``months``: the partitions with their bounds and row estimates, for pages and tests.
"""

import datetime
import re
from dataclasses import dataclass

from django.db import connection, transaction

_NAME = re.compile(r"^[a-z_][a-z0-9_]{0,40}$")


@dataclass(frozen=True)
class Month:
    table: str
    start: datetime.date
    end: datetime.date  # exclusive


def _check(*names: str) -> None:
    for name in names:
        if not _NAME.match(name):
            raise ValueError(f"not a plain identifier: {name!r}")


def _month_start(day: datetime.date) -> datetime.date:
    return day.replace(day=1)


def _next_month(day: datetime.date) -> datetime.date:
    return (day.replace(day=28) + datetime.timedelta(days=4)).replace(day=1)


def _partition_name(table: str, start: datetime.date) -> str:
    return f"{table}_p{start:%Y%m}"


def is_partitioned(table: str) -> bool:
    if connection.vendor != "postgresql":
        return False
    with connection.cursor() as cur:
        cur.execute("SELECT 1 FROM pg_partitioned_table p JOIN pg_class c ON c.oid = p.partrelid "
                    "WHERE c.relname = %s AND pg_table_is_visible(c.oid)", [table])
        return cur.fetchone() is not None


def convert_to_monthly(table: str, column: str, *, pk: str) -> None:
    """Rebuild ``table`` as RANGE (``column``) partitioned by month, keeping its rows, indexes and
    foreign keys (PostgreSQL only; run inside a migration's transaction)."""
    _check(table, column, pk)
    if connection.vendor != "postgresql" or is_partitioned(table):
        return
    old = f"{table}_unpartitioned"
    with connection.cursor() as cur:
        cur.execute("SELECT indexdef FROM pg_indexes WHERE schemaname = current_schema() AND tablename = %s "
                    "AND indexname NOT IN (SELECT conname FROM pg_constraint WHERE conrelid = %s::regclass "
                    "AND contype IN ('p', 'u'))", [table, table])
        indexes = [row[0] for row in cur.fetchall()]
        cur.execute("SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint WHERE conrelid = %s::regclass "
                    "AND contype = 'f'", [table])
        foreign_keys = cur.fetchall()
        cur.execute("SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint WHERE conrelid = %s::regclass "
                    "AND contype = 'u'", [table])
        uniques = cur.fetchall()  # each must hold the partition column (PostgreSQL refuses otherwise)
        cur.execute(f'SELECT min("{column}"), max("{column}") FROM "{table}"')  # noqa: S608 (checked names)
        first, last = (_as_date(v) for v in cur.fetchone())
        cur.execute(f'ALTER TABLE "{table}" RENAME TO "{old}"')
        for name, _definition in [*foreign_keys, *uniques]:
            cur.execute(f'ALTER TABLE "{old}" DROP CONSTRAINT "{name}"')
        cur.execute(f'ALTER TABLE "{old}" DROP CONSTRAINT IF EXISTS "{table}_pkey"')
        for definition in indexes:  # free the index names for the new table
            cur.execute(f'DROP INDEX IF EXISTS "{_index_name(definition)}"')
        cur.execute(f'CREATE TABLE "{table}" (LIKE "{old}" INCLUDING DEFAULTS INCLUDING CONSTRAINTS '
                    f'INCLUDING IDENTITY) PARTITION BY RANGE ("{column}")')
        cur.execute(f'ALTER TABLE "{table}" ADD CONSTRAINT "{table}_pkey" PRIMARY KEY ("{pk}", "{column}")')
        for definition in indexes:
            cur.execute(definition)  # CREATE INDEX … ON public.<table> …: now on the partitioned table
        for name, definition in uniques:
            cur.execute(f'ALTER TABLE "{table}" ADD CONSTRAINT "{name}" {definition}')
        for name, definition in foreign_keys:
            cur.execute(f'ALTER TABLE "{table}" ADD CONSTRAINT "{name}" {definition}')
        cur.execute(f'CREATE TABLE "{table}_default" PARTITION OF "{table}" DEFAULT')
        today = datetime.date.today()
        start = _month_start(min(first or today, today))
        stop = _next_month(max(last or today, today))
        while start < stop:
            _create_month(cur, table, start)
            start = _next_month(start)
        cur.execute(f'INSERT INTO "{table}" SELECT * FROM "{old}"')  # noqa: S608 (checked names)
        cur.execute(f'DROP TABLE "{old}"')


def _as_date(value) -> datetime.date | None:
    """A partition column's value as a date: a timestamp column is cut by UTC months (the connection's
    time zone, which Django sets to UTC)."""
    if isinstance(value, datetime.datetime):
        return (value.astimezone(datetime.UTC) if value.tzinfo else value).date()
    return value


def _index_name(definition: str) -> str:
    return re.match(r'CREATE (?:UNIQUE )?INDEX "?([^" ]+)"? ON', definition).group(1)


def _create_month(cur, table: str, start: datetime.date) -> bool:
    """Create the partition of the month starting at ``start`` unless it exists; rows of that month
    waiting in DEFAULT move into it first. True if it was created."""
    name = _partition_name(table, start)
    cur.execute("SELECT to_regclass(%s)", [name])
    if cur.fetchone()[0] is not None:
        return False
    end = _next_month(start)
    cur.execute(f'CREATE TABLE "{name}" (LIKE "{table}" INCLUDING DEFAULTS INCLUDING CONSTRAINTS)')
    cur.execute("SELECT to_regclass(%s)", [f"{table}_default"])
    if cur.fetchone()[0] is not None:
        column = _partition_column(cur, table)
        cur.execute(f'WITH moved AS (DELETE FROM "{table}_default" WHERE "{column}" >= %s AND "{column}" < %s '  # noqa: S608
                    f'RETURNING *) INSERT INTO "{name}" SELECT * FROM moved', [start, end])  # (checked names)
    cur.execute(f'ALTER TABLE "{table}" ATTACH PARTITION "{name}" '
                f"FOR VALUES FROM ('{start.isoformat()}') TO ('{end.isoformat()}')")
    return True


def _partition_column(cur, table: str) -> str:
    cur.execute("SELECT pg_get_partkeydef(%s::regclass)", [table])
    column = re.fullmatch(r'RANGE \("?([a-z_][a-z0-9_]*)"?\)', cur.fetchone()[0]).group(1)
    _check(column)
    return column


def ensure_months(table: str, *, ahead: int = 2, today: datetime.date | None = None) -> list[str]:
    """The partitions of the current month and ``ahead`` months after it exist. Returns those created."""
    _check(table)
    if not is_partitioned(table):
        return []
    start, made = _month_start(today or datetime.date.today()), []
    with transaction.atomic(), connection.cursor() as cur:
        cur.execute(f'LOCK TABLE "{table}" IN SHARE UPDATE EXCLUSIVE MODE')  # one creator at a time
        for _ in range(ahead + 1):
            if _create_month(cur, table, start):
                made.append(_partition_name(table, start))
            start = _next_month(start)
    return made


def months(table: str) -> list[Month]:
    """The monthly partitions of ``table`` in date order (not DEFAULT)."""
    _check(table)
    if not is_partitioned(table):
        return []
    with connection.cursor() as cur:
        cur.execute("SELECT c.relname, pg_get_expr(c.relpartbound, c.oid) FROM pg_inherits i "
                    "JOIN pg_class c ON c.oid = i.inhrelid WHERE i.inhparent = %s::regclass", [table])
        out = []
        for name, bound in cur.fetchall():
            found = re.findall(r"'(\d{4}-\d{2}-\d{2})[^']*'", bound or "")  # a date, or a timestamp's
            if len(found) == 2:
                out.append(Month(name, datetime.date.fromisoformat(found[0]), datetime.date.fromisoformat(found[1])))
    return sorted(out, key=lambda m: m.start)


def drop_months_before(table: str, cutoff: datetime.date) -> list[Month]:
    """Drop every monthly partition that lies wholly before ``cutoff`` (its rows all older); the caller
    deletes the older days of the month ``cutoff`` falls in, and audits. Returns the dropped months."""
    dropped = [m for m in months(table) if m.end <= cutoff]
    if not dropped:
        return []
    with transaction.atomic(), connection.cursor() as cur:
        cur.execute("SET CONSTRAINTS ALL IMMEDIATE")  # deferred key checks of rows written in this transaction
        for m in dropped:
            cur.execute(f'ALTER TABLE "{table}" DETACH PARTITION "{m.table}"')
            cur.execute(f'DROP TABLE "{m.table}"')
    return dropped
