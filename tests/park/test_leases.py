"""Lease billing: monthly periods, rent-free periods by the day, escalation, short last period, move-out,
payments; space and enterprise validation."""

from datetime import date
from decimal import Decimal
from itertools import pairwise

import pytest
from hypothesis import given
from hypothesis import strategies as st

from smartgov.core.errors import Conflict, InvalidInput
from smartgov.park import billing, services
from smartgov.park.industry import parse_industry
from smartgov.park.models import BillStatus, UnitStatus
from tests.park import factories as pf

D = Decimal


def _amounts(lease):
    return [(b.period_start.isoformat(), b.amount) for b in lease.bills.order_by("period_start")]


def test_periods_follow_calendar_months_from_the_start_day():
    ps = billing.periods(start=date(2026, 1, 31), end=date(2026, 4, 29), monthly_rent=D("3000"))
    assert [(p.start.isoformat(), p.end.isoformat()) for p in ps] == [
        ("2026-01-31", "2026-02-27"), ("2026-02-28", "2026-03-30"), ("2026-03-31", "2026-04-29")]
    assert [p.amount for p in ps] == [D("3000.00")] * 3


def test_rent_free_days_are_deducted_by_the_day():
    ps = billing.periods(start=date(2026, 1, 1), end=date(2026, 6, 30), monthly_rent=D("3100"),
                         rent_free=[(date(2026, 1, 1), date(2026, 2, 10))])
    assert ps[0].amount == D("0.00")  # all of January free
    assert ps[1].billable_days == 18 and ps[1].amount == (D("3100") * 18 / 28).quantize(D("0.01"))
    assert ps[2].amount == D("3100.00")


def test_escalation_compounds_every_twelve_months_by_default():
    ps = billing.periods(start=date(2026, 3, 1), end=date(2029, 2, 28), monthly_rent=D("10000"),
                         escalation_pct=D("5"))
    assert {p.amount for p in ps[:12]} == {D("10000.00")}
    assert {p.amount for p in ps[12:24]} == {D("10500.00")}
    assert {p.amount for p in ps[24:]} == {D("11025.00")}
    every6 = billing.periods(start=date(2026, 1, 1), end=date(2026, 12, 31), monthly_rent=D("1000"),
                             escalation_pct=D("10"), escalation_every_months=6)
    assert every6[5].amount == D("1000.00") and every6[6].amount == D("1100.00")


def test_a_short_last_period_is_prorated():
    ps = billing.periods(start=date(2026, 1, 1), end=date(2026, 2, 14), monthly_rent=D("2800"))
    assert ps[-1].billable_days == 14 and ps[-1].full_days == 28 and ps[-1].amount == D("1400.00")


@given(st.dates(min_value=date(2020, 1, 1), max_value=date(2030, 1, 1)), st.integers(0, 800))
def test_periods_tile_the_term_without_gap_or_overlap(start, days):
    from datetime import timedelta

    end = start + timedelta(days=days)
    ps = billing.periods(start=start, end=end, monthly_rent=D("1000"))
    assert ps[0].start == start and ps[-1].end == end
    for a, b in pairwise(ps):
        assert b.start == a.end + timedelta(days=1)
    assert sum(p.billable_days for p in ps) == days + 1


@pytest.mark.django_db
def test_a_lease_issues_every_bill_and_takes_its_units():
    p = pf.park()
    b = pf.building(p)
    u1, u2 = pf.unit(b, code="101"), pf.unit(b, code="102")
    ent = pf.enterprise(p)
    lease = pf.lease(p, ent, [u1, u2], rent_free=[["2026-01-01", "2026-03-31"]], escalation_pct="3",
                     escalation_every_months=6)
    amounts = _amounts(lease)
    assert len(amounts) == 12
    assert [a for _, a in amounts[:3]] == [D("0.00")] * 3
    assert amounts[3][1] == D("10000.00") and amounts[6][1] == D("10300.00")
    assert lease.bills.filter(status=BillStatus.PAID).count() == 3  # nothing to pay in the free months
    u1.refresh_from_db()
    assert u1.status == UnitStatus.LEASED
    with pytest.raises(Conflict):
        pf.lease(p, ent, [u2], code="L-2")


@pytest.mark.django_db
def test_payments_and_arrears():
    from smartgov.park import selectors

    p = pf.park()
    ent = pf.enterprise(p)
    lease = pf.lease(p, ent, [pf.unit(pf.building(p))])
    jan, feb = lease.bills.order_by("period_start")[:2]
    officer = pf.officer(p)
    with pytest.raises(InvalidInput):
        services.record_payment(actor=officer, bill=jan, amount="10000.01")
    services.record_payment(actor=officer, bill=jan, amount="4000")
    jan = services.record_payment(actor=officer, bill=jan, amount="6000")
    assert jan.status == BillStatus.PAID
    assert [b.pk for b in selectors.arrears(p, today=date(2026, 2, 15))] == [feb.pk]


@pytest.mark.django_db
def test_moving_out_withdraws_later_bills_and_prorates_the_last():
    p = pf.park()
    ent = pf.enterprise(p)
    u = pf.unit(pf.building(p))
    lease = pf.lease(p, ent, [u], rent="3100")
    services.end_lease(actor=pf.officer(p), lease=lease, ended_on=date(2026, 3, 10))
    amounts = _amounts(lease)
    assert amounts == [("2026-01-01", D("3100.00")), ("2026-02-01", D("3100.00")), ("2026-03-01", D("1000.00"))]
    u.refresh_from_db()
    assert u.status == UnitStatus.VACANT


@pytest.mark.django_db
@pytest.mark.parametrize("free", [[["2025-12-01", "2026-01-31"]], [["2026-02-01", "2026-01-01"]],
                                  [["2026-01-01", "2026-02-01"], ["2026-02-01", "2026-03-01"]], [["x", "y"]]])
def test_bad_rent_free_periods_are_refused(free):
    p = pf.park()
    with pytest.raises(InvalidInput):
        pf.lease(p, pf.enterprise(p), [pf.unit(pf.building(p))], rent_free=free)


@pytest.mark.django_db
def test_enterprises_need_a_valid_uscc_and_industry_code():
    p = pf.park()
    with pytest.raises(InvalidInput):
        services.register_enterprise(actor=pf.SYS, park=p, name="x", uscc="91350100M000100Y40", industry="C3911")
    with pytest.raises(InvalidInput):
        pf.enterprise(p, industry="I3911")  # division 39 is manufacturing, not section I
    assert parse_industry("c39") == "C39" and parse_industry("I6510") == "I6510"


@pytest.mark.django_db
def test_an_officer_of_another_park_cannot_lease():
    p, other = pf.park(), pf.park()
    with pytest.raises(Exception) as e:
        services.create_lease(
            actor=pf.officer(other), park=p, enterprise=pf.enterprise(p), code="X", units=[pf.unit(pf.building(p))],
            start_date=date(2026, 1, 1), end_date=date(2026, 2, 1), monthly_rent="1")
    assert getattr(e.value, "status", None) == 403
