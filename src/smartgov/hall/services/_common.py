"""What every hall service shares: the clock, the hall lock, the event log and live-page wake-up."""

import datetime

from django.db import connection, transaction
from django.utils import timezone

from .. import live
from ..models import Hall, HallEvent


def now_or(at: datetime.datetime | None) -> datetime.datetime:
    """``at`` (the simulator's clock) or the real time."""
    return at if at is not None else timezone.now()


def local(at: datetime.datetime) -> datetime.datetime:
    return timezone.localtime(at)


def lock_hall(hall: Hall) -> Hall:
    """One row lock per hall serialises ticket numbering and the announcement schedule (both need a
    total order within a hall), while different halls never wait on each other. (A plain statement:
    this runs on every call and ticket, and SQLite's writer lock already serialises.)"""
    if connection.vendor == "postgresql":
        with connection.cursor() as cur:
            cur.execute("SELECT 1 FROM hall_hall WHERE id = %s FOR UPDATE", [hall.pk])
    return hall


def emit(hall: Hall | int, kind: str, data: dict, at: datetime.datetime) -> HallEvent:
    """Append to the hall's event log; live pages are woken after the commit (never before, so a page
    never shows a change that rolled back)."""
    hall_id = hall if isinstance(hall, int) else hall.pk
    event = HallEvent.objects.create(hall_id=hall_id, kind=kind, data=data, at=at)

    def wake():
        live.wake(hall_id)

    transaction.on_commit(wake)
    return event
