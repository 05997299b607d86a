"""The hall's figures for the city overview: people waiting, today's mean wait, tickets per day — scoped to
the department tree, in one query whatever the number of tickets."""

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from smartgov.core.errors import NotFound
from smartgov.core.permissions import Role
from smartgov.hall import selectors, services
from tests import factories as f

M = datetime.timedelta(minutes=1)


def _figures(actor, department):
    return {i["key"]: i for i in selectors.indicators(actor=actor, department=department)}


def test_waiting_mean_wait_and_tickets_today(hall_world, monkeypatch):
    w = hall_world
    t0 = w["morning"]
    monkeypatch.setattr(timezone, "localdate", lambda *a, **k: t0.date())  # the fixture's hall day is "today"
    leader = f.user(Role.SUPERVISOR, department=w["dept"])
    assert _figures(leader, w["dept"])["hall.waiting"]["value"] == 0
    assert _figures(leader, w["dept"])["hall.mean_wait"]["value"] is None
    for i in range(4):
        services.issue_ticket(actor=w["officers"][0], hall=w["hall"], service=w["passport"], at=t0 + i * M)
    services.call_next(actor=w["officers"][0], window=w["windows"][0], at=t0 + 10 * M)  # waited 10 min
    services.call_next(actor=w["officers"][0], window=w["windows"][0], at=t0 + 15 * M)  # waited 14 min

    with CaptureQueriesContext(connection) as ctx:
        got = _figures(leader, w["dept"])
    assert len(ctx.captured_queries) == 1
    assert got["hall.waiting"]["value"] == 2
    assert got["hall.mean_wait"]["value"] == 12.0
    assert got["hall.tickets_today"]["value"] == 4 and got["hall.tickets_today"]["yesterday"] == 0
    assert got["hall.tickets_today"]["series"][-1] == [t0.date().isoformat(), 4]


def test_another_departments_leader_gets_not_found(hall_world):
    stranger = f.user(Role.SUPERVISOR, department=f.department("别的局"))
    with pytest.raises(NotFound):
        selectors.indicators(actor=stranger, department=hall_world["dept"])
