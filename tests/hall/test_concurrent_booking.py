"""Two people can never get the last place of a slot: both book at the same moment from separate
database connections (PostgreSQL; SQLite serialises writers, so there is nothing to race)."""

import datetime
import threading

import pytest
from django.db import connection, connections

from smartgov.core.errors import Conflict
from smartgov.hall import services
from smartgov.hall.models import Appointment, Slot

from .conftest import citizen, workday_at


@pytest.mark.postgres
# committed data seen by every thread: a transactional test, whose flush leaves out the audit app (its
# append-only triggers rightly refuse TRUNCATE)
@pytest.mark.django_db(transaction=True, available_apps=[
    "django.contrib.contenttypes", "django.contrib.auth", "django.contrib.sessions", "smartgov.core",
    "smartgov.accounts", "smartgov.identity", "smartgov.eid", "smartgov.licences", "smartgov.workflow",
    "smartgov.onestop", "smartgov.hall"])
def test_last_place_goes_to_exactly_one_of_many_simultaneous_bookers(hall_world):
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL (run with DATABASE_URL=postgresql://…)")
    w = hall_world
    slot = workday_at(15, 0)
    now = slot - datetime.timedelta(days=1)
    services.book_appointment(actor=w["citizen"], service=w["passport"], starts_at=slot, at=now)  # 1 of 2 left
    people = [citizen(f"抢号{i}", f"1985010{i + 1}") for i in range(8)]
    barrier = threading.Barrier(len(people))
    outcome: dict[int, str] = {}

    def book(i, user):
        try:
            barrier.wait()
            services.book_appointment(actor=user, service=w["passport"], starts_at=slot, at=now)
            outcome[i] = "booked"
        except Conflict as exc:
            outcome[i] = exc.code
        finally:
            connections.close_all()

    threads = [threading.Thread(target=book, args=(i, u)) for i, u in enumerate(people)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(outcome.values()) == ["booked"] + ["slot_full"] * (len(people) - 1)
    s = Slot.objects.get(service=w["passport"], starts_at=slot)
    assert s.booked == s.capacity == 2
    assert Appointment.objects.filter(slot=s, status="booked").count() == 2
