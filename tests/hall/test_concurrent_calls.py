"""Windows calling and kiosks issuing at the same moment from separate database connections: no ticket is
called twice or skipped, the announcement schedule stays a total order (never two calls spoken over each
other), and ticket numbers stay consecutive. On PostgreSQL the claim is ``FOR UPDATE SKIP LOCKED`` and the
announcement clock a row lock; on SQLite the threads queue for the single writer in-process."""

import datetime
import importlib
import itertools
import threading

import pytest
from django.apps import apps
from django.db import connections

from smartgov.hall import services
from smartgov.hall.models import Announcement, Hall, HallEvent, Ticket, TicketCounter, TicketStatus

from .conftest import SETUP

M = datetime.timedelta(minutes=1)
# committed data seen by every thread: a transactional test, whose flush leaves out the audit app (its
# append-only triggers rightly refuse TRUNCATE)
transactional = pytest.mark.django_db(transaction=True, available_apps=[
    "django.contrib.contenttypes", "django.contrib.auth", "django.contrib.sessions", "smartgov.core",
    "smartgov.accounts", "smartgov.identity", "smartgov.eid", "smartgov.licences", "smartgov.workflow",
    "smartgov.onestop", "smartgov.hall"])


def _at_once(count, work):
    """Run ``work(i)`` in ``count`` threads released together; return their results, re-raise a failure."""
    barrier = threading.Barrier(count)
    results, errors = {}, []

    def run(i):
        try:
            barrier.wait()
            results[i] = work(i)
        except Exception as exc:  # re-raised below, in the test's thread
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if errors:
        raise errors[0]
    return results


@transactional
def test_simultaneous_calls_take_each_ticket_once_and_announcements_never_overlap(hall_world):
    w = hall_world
    hall, t0 = w["hall"], w["morning"]
    windows = w["windows"] + [services.add_window(actor=SETUP, hall=hall, number=n, services=[w["passport"], w["permit"]])
                              for n in range(4, 9)]
    tickets = [services.issue_ticket(actor=SETUP, hall=hall, service=(w["passport"], w["permit"])[i % 2],
                                     at=t0 + i * datetime.timedelta(seconds=10)) for i in range(40)]

    def call_until_empty(i):
        called = []
        while (t := services.call_next(actor=SETUP, window=windows[i], at=t0 + 10 * M)) is not None:
            called.append(t.pk)
        return called

    called = _at_once(len(windows), call_until_empty)
    every = list(itertools.chain.from_iterable(called.values()))
    assert sorted(every) == sorted(t.pk for t in tickets)  # each ticket called once, none left behind
    assert not Ticket.objects.filter(hall=hall, status=TicketStatus.WAITING).exists()
    # a window called a ticket only of a service it serves
    for i, pks in called.items():
        served = set(windows[i].services.values_list("pk", flat=True))
        assert set(Ticket.objects.filter(pk__in=pks).values_list("service_id", flat=True)) <= served
    anns = list(Announcement.objects.filter(hall=hall).order_by("speak_at"))
    assert len(anns) == len(tickets)
    for first, second in itertools.pairwise(anns):
        assert second.speak_at >= first.ends_at
    assert HallEvent.objects.filter(hall=hall, kind="call").count() == len(tickets)


@transactional
def test_simultaneous_kiosks_number_tickets_consecutively(hall_world):
    w = hall_world
    t0 = w["morning"]

    def issue_ten(i):
        return [services.issue_ticket(actor=SETUP, hall=w["hall"], service=w["passport"], at=t0 + i * M).number
                for _ in range(10)]

    numbers = list(itertools.chain.from_iterable(_at_once(4, issue_ten).values()))
    assert sorted(numbers) == [f"A{n:03d}" for n in range(1, 41)]
    # the next day starts again at 001
    nxt = services.issue_ticket(actor=SETUP, hall=w["hall"], service=w["passport"], at=t0 + datetime.timedelta(days=1))
    assert nxt.number == "A001"


def test_migration_carries_existing_halls_over_to_the_clock_and_counters(hall_world):
    """Migration 0003 starts each hall's announcement clock at the end of its last announcement and each
    service's counter at its last ticket number of the day, so numbering and the schedule go on."""
    start_clocks = importlib.import_module("smartgov.hall.migrations.0003_queue_clocks").start_clocks
    w = hall_world
    hall, t0 = w["hall"], w["morning"]
    for i in range(3):
        services.issue_ticket(actor=SETUP, hall=hall, service=w["passport"], at=t0 + i * M)
    services.call_next(actor=SETUP, window=w["windows"][0], at=t0 + 5 * M)
    services.call_next(actor=SETUP, window=w["windows"][2], at=t0 + 5 * M)
    last = Announcement.objects.filter(hall=hall).order_by("-speak_at").first()
    # as before the migration: no counters, no clock
    TicketCounter.objects.all().delete()
    Hall.objects.filter(pk=hall.pk).update(announced_until_us=0)
    start_clocks(apps, None)
    assert services.issue_ticket(actor=SETUP, hall=hall, service=w["passport"], at=t0 + 6 * M).number == "A004"
    services.call_next(actor=SETUP, window=w["windows"][0], at=t0 + 5 * M)
    newest = Announcement.objects.filter(hall=hall).order_by("-speak_at").first()
    assert newest.speak_at == last.ends_at
