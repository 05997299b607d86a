import datetime
import itertools

import pytest

from smartgov.core.errors import Conflict, Forbidden
from smartgov.hall import selectors, services
from smartgov.hall.models import Announcement, HallEvent, Priority, TicketStatus

from .conftest import SETUP, citizen

M = datetime.timedelta(minutes=1)


def issue(w, service, at, **kw):
    return services.issue_ticket(actor=w["officers"][0], hall=w["hall"], service=service, at=at, **kw)


def test_ticket_from_appointment_qr_on_time_late_and_too_early(hall_world):
    w = hall_world
    slot = w["morning"] + datetime.timedelta(hours=1)
    appt = services.book_appointment(actor=w["citizen"], service=w["passport"], starts_at=slot,
                                     at=slot - datetime.timedelta(days=1))
    with pytest.raises(Conflict) as exc:
        issue(w, None, slot - 45 * M, appointment_token=appt.token)
    assert exc.value.code == "too_early"
    t = issue(w, None, slot - 10 * M, appointment_token=appt.token)
    assert (t.number, t.priority, t.source) == ("A001", Priority.APPOINTMENT, "appointment")
    assert t.order_key == t.issued_at - 10 * M
    with pytest.raises(Conflict) as exc:  # a QR code gives one ticket
        issue(w, None, slot, appointment_token=appt.token)
    assert exc.value.code == "appointment_used"
    late_user = citizen("迟到", "19900505")
    late = services.book_appointment(actor=late_user, service=w["passport"], starts_at=slot,
                                     at=slot - datetime.timedelta(days=1))
    t2 = issue(w, None, slot + 20 * M, appointment_token=late.token)
    assert t2.priority == Priority.WALK_IN and t2.number == "A002"


def test_elderly_get_the_green_channel_from_the_register(hall_world):
    w = hall_world
    old = citizen("老人", "19400101")
    appt = services.book_appointment(actor=old, service=w["permit"], starts_at=w["morning"] + 2 * 30 * M,
                                     at=w["morning"] - datetime.timedelta(days=1))
    t = issue(w, None, w["morning"] + 55 * M, appointment_token=appt.token)
    assert t.priority == Priority.GREEN


def test_calling_order_follows_the_fairness_rule_and_nobody_starves(hall_world):
    """Green tickets keep arriving every minute; a walk-in who has waited green_head_start minutes is
    still called before every ticket issued after that point."""
    w = hall_world
    hall = w["hall"]
    t0 = w["morning"]
    walk_in = issue(w, w["passport"], t0)
    greens = [issue(w, w["passport"], t0 + (i + 1) * M, green=True) for i in range(40)]
    window = w["windows"][0]
    officer = w["officers"][0]
    called = []
    at = t0 + 41 * M
    for _ in range(25):
        at += M
        called.append(services.call_next(actor=officer, window=window, at=at))
    order = [t.pk for t in called]
    # overtaken only by greens issued less than green_head_start minutes after the walk-in
    overtook = order.index(walk_in.pk)
    assert overtook == hall.green_head_start - 1
    assert all(g.issued_at - walk_in.issued_at < datetime.timedelta(minutes=hall.green_head_start)
               for g in greens[:overtook])
    # and among the greens, first come first served
    assert order[:overtook] == [g.pk for g in greens[:overtook]]


def test_call_recall_skip_transfer_and_announcements_never_overlap(hall_world):
    w = hall_world
    t0 = w["morning"]
    a1, a2, b1 = issue(w, w["passport"], t0), issue(w, w["passport"], t0 + M), issue(w, w["permit"], t0 + M)
    w1, w2, w3 = w["windows"]
    o1, o2, o3 = w["officers"]
    with pytest.raises(Forbidden):  # only the officer on duty calls at a window
        services.call_next(actor=o2, window=w1, at=t0 + 2 * M)
    at = t0 + 2 * M
    assert services.call_next(actor=o1, window=w1, at=at).pk == a1.pk
    assert services.call_next(actor=o2, window=w2, at=at).pk == b1.pk  # same instant, another window
    assert services.call_next(actor=o3, window=w3, at=at).pk == a2.pk
    anns = list(Announcement.objects.filter(hall=w["hall"]).order_by("speak_at"))
    assert len(anns) == 3
    for first, second in itertools.pairwise(anns):
        assert second.speak_at >= first.ends_at
    assert anns[0].text == "请A001号到1号窗口办理"
    # recall up to max_calls, then the ticket is skipped (过号)
    for _ in range(w["hall"].max_calls - 1):
        services.recall(actor=o1, ticket=a1, at=at + M)
    a1.refresh_from_db()
    assert a1.calls == w["hall"].max_calls
    assert services.recall(actor=o1, ticket=a1, at=at + 2 * M).status == TicketStatus.NO_SHOW
    # transfer keeps the ticket's place and only the target window may call it
    services.transfer(actor=o3, ticket=a2, to_window=w1, at=at + 3 * M)
    late = issue(w, w["passport"], at + 4 * M)
    assert services.call_next(actor=o3, window=w3, at=at + 5 * M).pk == late.pk
    assert services.call_next(actor=o1, window=w1, at=at + 5 * M).pk == a2.pk
    # calling next finishes the current ticket; skip marks no-show
    assert services.call_next(actor=o1, window=w1, at=at + 9 * M) is None
    a2.refresh_from_db()
    assert a2.status == TicketStatus.DONE and a2.finished_at == at + 9 * M
    services.skip(actor=o2, ticket=b1, at=at + 6 * M)
    kinds = list(HallEvent.objects.filter(hall=w["hall"]).values_list("kind", flat=True))
    assert {"ticket", "call", "recall", "skip", "transfer", "finished"} <= set(kinds)


def test_positions_and_eta(hall_world):
    w = hall_world
    t0 = w["morning"]
    tickets = [issue(w, w["passport"], t0 + i * M) for i in range(5)]
    pos = selectors.waiting_positions(w["hall"], t0.date())
    # passport has two windows with an officer on duty (1 and 3), 6 minutes each
    assert [pos[t.pk] for t in tickets] == [(1, 6.0), (2, 6.0), (3, 12.0), (4, 12.0), (5, 18.0)]
    services.call_next(actor=w["officers"][0], window=w["windows"][0], at=t0 + 6 * M)
    state = selectors.ticket_state(tickets[4])
    assert (state["position"], state["eta_minutes"]) == (4, 12.0)
    display = selectors.display_state(w["hall"], t0.date())
    assert display["windows"][0]["serving"] == "A001"
    assert {x["service"]: x["count"] for x in display["waiting"]} == {"A": 4, "B": 0}


def test_rating_a_visit(hall_world):
    w = hall_world
    t = issue(w, w["permit"], w["morning"])
    services.call_next(actor=w["officers"][1], window=w["windows"][1], at=w["morning"] + M)
    with pytest.raises(Conflict):
        services.rate_visit(actor=SETUP, ticket=t, grade=5)
    services.finish_ticket(actor=w["officers"][1], ticket=t, at=w["morning"] + 5 * M)
    assert services.rate_visit(actor=SETUP, ticket=t, grade=5).grade == 5


def test_display_and_positions_take_a_fixed_number_of_queries(hall_world, django_assert_max_num_queries):
    w = hall_world
    t0 = w["morning"]
    for i in range(3):
        issue(w, w["passport"], t0 + i * M)
    with django_assert_max_num_queries(8) as few:
        selectors.display_state(w["hall"], t0.date())
        selectors.waiting_positions(w["hall"], t0.date())
    for i in range(30):
        issue(w, w["permit"], t0 + (10 + i) * M)
    services.call_next(actor=w["officers"][1], window=w["windows"][1], at=t0 + 50 * M)
    with django_assert_max_num_queries(len(few.captured_queries)):
        selectors.display_state(w["hall"], t0.date())
        selectors.waiting_positions(w["hall"], t0.date())
