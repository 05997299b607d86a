import datetime

import pytest

from smartgov.core.errors import Conflict, Forbidden, InvalidInput
from smartgov.core.permissions import Role
from smartgov.core.workdays import calendar
from smartgov.hall import selectors, services
from smartgov.hall.models import AppointmentStatus, Slot
from tests import factories as f

from .conftest import SETUP, citizen, workday_at


def test_hall_is_closed_on_holidays_and_weekends(hall_world):
    hall = hall_world["hall"]
    day = hall_world["morning"].date()
    periods = selectors.opening_periods(hall, day)
    assert [(s.time(), e.time()) for s, e in periods] == [(datetime.time(9), datetime.time(12)),
                                                          (datetime.time(13, 30), datetime.time(17))]
    sunday = day + datetime.timedelta(days=(6 - day.weekday()))
    if not calendar().is_workday(sunday):
        assert selectors.opening_periods(hall, sunday) == []
    # 30-minute slots: 6 in the morning, 7 in the afternoon
    assert len(selectors.slot_periods(hall, day)) == 13


def test_duty_only_on_workdays_and_for_the_halls_own_officers(hall_world):
    w = hall_world
    stranger = f.user(Role.OFFICER)
    with pytest.raises(InvalidInput) as exc:
        services.assign_duty(actor=SETUP, window=w["windows"][0], officer=stranger, day=w["morning"].date())
    assert exc.value.code == "officer_not_in_department"
    with pytest.raises(Conflict):
        services.assign_duty(actor=SETUP, window=w["windows"][0], officer=w["officers"][1], day=w["morning"].date())
    day = w["morning"].date()
    weekend = day + datetime.timedelta(days=(5 - day.weekday()) % 7 or 7)
    if not calendar().is_workday(weekend):
        with pytest.raises(InvalidInput) as exc:
            services.assign_duty(actor=SETUP, window=w["windows"][0], officer=w["officers"][0], day=weekend)
        assert exc.value.code == "not_workday"


def test_booking_rules(hall_world):
    w = hall_world
    user, svc = w["citizen"], w["passport"]
    slot = workday_at(10, 0)
    now = slot - datetime.timedelta(days=2)
    appt = services.book_appointment(actor=user, service=svc, starts_at=slot, at=now)
    assert appt.status == AppointmentStatus.BOOKED and len(appt.token) >= 20
    with pytest.raises(Conflict) as exc:  # one active booking per person and service
        services.book_appointment(actor=user, service=svc, starts_at=slot + datetime.timedelta(minutes=30), at=now)
    assert exc.value.code == "already_booked"
    # another service is fine
    services.book_appointment(actor=user, service=w["permit"], starts_at=slot, at=now)
    other = citizen("李四", "19900202")
    for starts, code in ((slot + datetime.timedelta(minutes=7), "no_such_slot"),
                         (slot.replace(hour=12, minute=30), "no_such_slot"),  # lunch break
                         (now + datetime.timedelta(minutes=30), None),
                         (slot + datetime.timedelta(days=30), None)):
        with pytest.raises((InvalidInput, Conflict)) as exc:
            services.book_appointment(actor=other, service=svc, starts_at=starts, at=now)
        if code:
            assert exc.value.code == code
    with pytest.raises(Conflict) as exc:
        services.book_appointment(actor=other, service=svc, starts_at=slot, at=slot - datetime.timedelta(minutes=20))
    assert exc.value.code == "too_late_to_book"
    with pytest.raises(Forbidden):
        services.book_appointment(actor=w["officers"][0], service=svc, starts_at=slot, at=now)


def test_slot_capacity_and_cancellation_gives_the_place_back(hall_world):
    w = hall_world
    slot = workday_at(10, 0)
    now = slot - datetime.timedelta(days=1)
    a = services.book_appointment(actor=w["citizen"], service=w["passport"], starts_at=slot, at=now)
    services.book_appointment(actor=citizen("乙", "19910303"), service=w["passport"], starts_at=slot, at=now)
    late = citizen("丙", "19920404")
    with pytest.raises(Conflict) as exc:
        services.book_appointment(actor=late, service=w["passport"], starts_at=slot, at=now)
    assert exc.value.code == "slot_full"
    assert Slot.objects.get(service=w["passport"], starts_at=slot).booked == 2
    with pytest.raises(Conflict) as exc:  # past the cancellation deadline
        services.cancel_appointment(actor=w["citizen"], appointment=a, at=slot - datetime.timedelta(minutes=30))
    assert exc.value.code == "cancel_deadline_passed"
    services.cancel_appointment(actor=w["citizen"], appointment=a, at=now)
    assert services.book_appointment(actor=late, service=w["passport"], starts_at=slot, at=now)
    free = {s["starts_at"]: s["left"] for s in selectors.free_slots(w["passport"], slot.date(), now=now)}
    assert free[slot] == 0 and free[slot + datetime.timedelta(minutes=30)] == 2


def test_no_shows_lead_to_a_temporary_ban(hall_world):
    w = hall_world
    hall, user = w["hall"], w["citizen"]
    first = workday_at(9, 0)
    for i in range(hall.no_show_limit):
        slot = first + datetime.timedelta(minutes=30 * i)
        services.book_appointment(actor=user, service=w["passport"], starts_at=slot,
                                  at=slot - datetime.timedelta(days=1))
        assert services.mark_no_shows(actor=SETUP, hall=hall, at=slot + datetime.timedelta(minutes=20)) == 1
    later = workday_at(10, 0, days_ahead=6)
    with pytest.raises(Conflict) as exc:
        services.book_appointment(actor=user, service=w["passport"], starts_at=later,
                                  at=first + datetime.timedelta(hours=3))
    assert exc.value.code == "booking_banned"
