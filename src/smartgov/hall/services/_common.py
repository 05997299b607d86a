"""What every hall service shares: the clock, the hall lock, the event log and live-page wake-up."""

import datetime
import json
import threading
from contextlib import contextmanager

from django.db import connection, transaction
from django.utils import timezone

from .. import live
from ..models import Hall, HallEvent


def now_or(at: datetime.datetime | None) -> datetime.datetime:
    """``at`` (the simulator's clock) or the real time."""
    return at if at is not None else timezone.now()


def local(at: datetime.datetime) -> datetime.datetime:
    return timezone.localtime(at)


# SQLite has one writer, and a writer that finds the database locked polls for it with growing sleeps
# (sqlite3_busy_timeout: 1, 2, 5 … then 100 ms at a time), so under contention the unlucky ones wait
# for hundreds of milliseconds while later arrivals get in (the benchmark's 40 windows: 566 ms of a slow
# call's 616 in BEGIN IMMEDIATE). The threads of one process therefore queue for the write lock here
# first, where a release wakes the next waiter at once. Other processes still meet the busy timeout.
_sqlite_writer = threading.Lock()


@contextmanager
def hall_transaction():
    """``transaction.atomic`` for the hall's writes; on SQLite, an outermost one first waits its turn
    among this process's writers (an inner one already holds the database's write lock)."""
    if connection.vendor == "sqlite" and not connection.in_atomic_block:
        with _sqlite_writer, transaction.atomic():
            yield
    else:
        with transaction.atomic():
            yield


def emit(hall: Hall | int, kind: str, data: dict, at: datetime.datetime) -> HallEvent:
    """Append to the hall's event log; live pages are woken after the commit (never before, so a page
    never shows a change that rolled back)."""
    hall_id = hall if isinstance(hall, int) else hall.pk
    event = HallEvent.objects.create(hall_id=hall_id, kind=kind, data=data, at=at)

    def wake():
        live.wake(hall_id)

    transaction.on_commit(wake)
    return event


_EVENT_INSERT = f"INSERT INTO {HallEvent._meta.db_table} (hall_id, kind, data, at) VALUES "  # noqa: S608


def emit_many(hall_id: int, events: list[tuple[str, dict]], at: datetime.datetime) -> None:
    """``emit`` for the hot paths (a call writes two events): one INSERT statement, no ORM compilation."""
    if not events:
        return
    stamp = connection.ops.adapt_datetimefield_value(at)
    params = []
    for kind, data in events:
        params += [hall_id, kind, json.dumps(data), stamp]
    with connection.cursor() as cur:
        cur.execute(_EVENT_INSERT + ", ".join(["(%s, %s, %s, %s)"] * len(events)), params)
    transaction.on_commit(lambda: live.wake(hall_id))
