"""续租 and 退租 as cases on the shared workflow: the lease changes only when the last step approves, through
the lease services; inspection and deposit settlement on the way; rejection, cancellation and a second
open case leave the lease alone; permissions, department scope and bad input through the services, the
API and the pages."""

from datetime import date
from decimal import Decimal

import pytest

from smartgov.audit.models import AuditEntry
from smartgov.core.errors import Conflict, Forbidden, InvalidInput, NotFound
from smartgov.core.permissions import Role
from smartgov.park import selectors, services
from smartgov.park.models import BillStatus, LeaseChange, LeaseChangeStatus, LeaseStatus, UnitStatus
from smartgov.workflow.models import InstanceStatus, TaskStatus
from smartgov.workflow.selectors import colour
from tests import factories
from tests.park import factories as pf

pytestmark = pytest.mark.django_db


def _world(*, deposit="20000"):
    p = pf.park()
    u = pf.unit(pf.building(p), code="101")
    ent = pf.enterprise(p)
    lease = pf.lease(p, ent, [u], deposit=deposit)
    return p, u, ent, lease, pf.officer(p), pf.admin(p)


def _bills(lease):
    return list(lease.bills.order_by("period_start").values_list("period_start", "period_end", "amount", "status"))


def test_a_renewal_changes_the_lease_only_when_the_admin_approves_and_bills_the_added_months():
    _p, _u, _ent, lease, officer, admin = _world()
    before = _bills(lease)
    change = services.request_renewal(actor=officer, lease=lease, end_date=date(2027, 6, 30), reason="续租半年")
    assert change.status == LeaseChangeStatus.RUNNING and change.instance.status == InstanceStatus.RUNNING
    assert change.instance.due_on > date.today() and colour(change.instance) in ("green", "yellow")
    lease.refresh_from_db()
    assert lease.end_date == date(2026, 12, 31) and _bills(lease) == before
    services.act_on_lease_change(actor=officer, change=change, outcome="approve", opinion="租金按时缴纳")
    lease.refresh_from_db()
    assert lease.end_date == date(2026, 12, 31)  # the officer's review is not the decision
    with pytest.raises(Forbidden) as not_theirs:  # 续租审批 is the department admin's
        services.act_on_lease_change(actor=officer, change=change, outcome="approve")
    assert not_theirs.value.code == "not_task_actor"
    change = services.act_on_lease_change(actor=admin, change=change, outcome="approve", opinion="同意续租")
    lease.refresh_from_db()
    assert change.status == LeaseChangeStatus.APPROVED and change.decided_at is not None
    assert lease.end_date == date(2027, 6, 30) and lease.status == LeaseStatus.ACTIVE
    bills = _bills(lease)
    assert bills[:12] == before and len(bills) == 18
    assert bills[12][:2] == (date(2027, 1, 1), date(2027, 1, 31)) and bills[-1][:2] == (date(2027, 6, 1), date(2027, 6, 30))
    assert all(b[2] == Decimal("10000.00") for b in bills[12:])
    actions = set(AuditEntry.objects.filter(target_id=str(change.pk), action__startswith="park.lease_change")
                  .values_list("action", flat=True))
    assert actions == {"park.lease_change.renewal", "park.lease_change.act", "park.lease_change.approve"}
    assert AuditEntry.objects.filter(action="park.lease.renew", target_id=str(lease.pk)).count() == 1


def test_a_renewal_keeps_escalating_from_the_original_start_and_completes_a_short_last_period():
    p = pf.park()
    u = pf.unit(pf.building(p))
    lease = pf.lease(p, pf.enterprise(p), [u], start=date(2026, 1, 15), end=date(2027, 1, 20), rent="1000",
                     escalation_pct=10, escalation_every_months=12)
    short = lease.bills.get(period_start=date(2027, 1, 15))
    assert short.period_end == date(2027, 1, 20) and short.amount < Decimal("1100")
    services.renew_lease(actor=pf.SYS, lease=lease, end_date=date(2027, 3, 14))
    short.refresh_from_db()
    assert short.period_end == date(2027, 2, 14) and short.amount == Decimal("1100.00")
    assert lease.bills.get(period_start=date(2027, 2, 15)).amount == Decimal("1100.00")


def test_a_move_out_is_inspected_settled_and_approved_then_the_deposit_pays_the_arrears():
    _p, u, _ent, lease, officer, admin = _world(deposit="15000")
    change = services.request_move_out(actor=officer, lease=lease, move_out_on=date(2026, 3, 10))
    with pytest.raises(InvalidInput) as no_notes:
        services.act_on_lease_change(actor=officer, change=change, outcome="approve")
    assert no_notes.value.code == "inspection_required"
    with pytest.raises(InvalidInput) as bad_money:
        services.act_on_lease_change(actor=officer, change=change, outcome="approve", inspection="墙面破损",
                                     damages="很多")
    assert bad_money.value.code == "invalid_amount"
    assert change.instance.tasks.get(step_key="inspect").status == TaskStatus.OPEN  # nothing moved
    services.act_on_lease_change(actor=officer, change=change, outcome="approve", inspection="墙面破损一处",
                                 damages="800")
    services.act_on_lease_change(actor=officer, change=change, outcome="approve", deductions="200",
                                 opinion="保洁费")
    lease.refresh_from_db()
    u.refresh_from_db()
    assert lease.status == LeaseStatus.ACTIVE and u.status == UnitStatus.LEASED  # not yet
    change = services.act_on_lease_change(actor=admin, change=change, outcome="approve")
    lease.refresh_from_db()
    u.refresh_from_db()
    assert lease.status == LeaseStatus.ENDED and lease.ended_on == date(2026, 3, 10) and u.status == UnitStatus.VACANT
    # January and February in full, March to the 10th: 10000 + 10000 + 10000 × 10/31 = 23225.81 owed
    assert change.settlement == {"deposit": "15000.00", "arrears": "23225.81", "applied_to_bills": "15000.00",
                                 "damages": "800.00", "deductions": "200.00", "refund": "0",
                                 "still_due": "9225.81"}
    assert [b.status for b in lease.bills.order_by("period_start")] == [BillStatus.PAID, BillStatus.PARTIAL,
                                                                         BillStatus.UNPAID]


def test_a_move_out_with_a_deposit_larger_than_what_is_owed_refunds_the_rest():
    _p, _u, _ent, lease, officer, admin = _world(deposit="30000")
    for bill in lease.bills.order_by("period_start")[:2]:
        services.record_payment(actor=officer, bill=bill, amount=bill.amount)
    change = services.request_move_out(actor=officer, lease=lease, move_out_on=date(2026, 2, 28))
    services.act_on_lease_change(actor=officer, change=change, outcome="approve", inspection="完好")
    services.act_on_lease_change(actor=officer, change=change, outcome="approve")
    change = services.act_on_lease_change(actor=admin, change=change, outcome="approve")
    assert change.settlement["arrears"] == "0" and change.settlement["refund"] == "30000.00"


def test_rejection_and_cancellation_leave_the_lease_as_it_was_and_one_case_at_a_time():
    _p, _u, _ent, lease, officer, admin = _world()
    change = services.request_move_out(actor=officer, lease=lease, move_out_on=date(2026, 6, 30))
    with pytest.raises(Conflict) as twice:
        services.request_renewal(actor=officer, lease=lease, end_date=date(2027, 12, 31))
    assert twice.value.code == "lease_change_open"
    with pytest.raises(InvalidInput) as no_reason:
        services.act_on_lease_change(actor=officer, change=change, outcome="reject")
    assert no_reason.value.code == "reason_required"
    change = services.act_on_lease_change(actor=officer, change=change, outcome="reject", opinion="尚有欠费未清")
    assert change.status == LeaseChangeStatus.REJECTED and change.instance.status == InstanceStatus.COMPLETED
    lease.refresh_from_db()
    assert lease.status == LeaseStatus.ACTIVE and lease.end_date == date(2026, 12, 31)
    with pytest.raises(Conflict) as closed:
        services.act_on_lease_change(actor=admin, change=change, outcome="approve")
    assert closed.value.code == "lease_change_closed"
    renewal = services.request_renewal(actor=officer, lease=lease, end_date=date(2027, 12, 31))
    renewal = services.cancel_lease_change(actor=admin, change=renewal, reason="企业撤回申请")
    assert renewal.status == LeaseChangeStatus.CANCELLED and renewal.instance.status == InstanceStatus.CANCELLED
    lease.refresh_from_db()
    assert lease.end_date == date(2026, 12, 31) and lease.bills.count() == 12


@pytest.mark.parametrize(("kind", "value", "code"), [
    ("renewal", date(2026, 12, 31), "invalid_renewal_end"), ("renewal", date(2040, 1, 1), "invalid_renewal_end"),
    ("move_out", date(2025, 12, 31), "invalid_end"), ("move_out", date(2027, 1, 1), "invalid_end")])
def test_bad_dates_are_refused_and_nothing_is_written(kind, value, code):
    _p, _u, _ent, lease, officer, _admin = _world()
    with pytest.raises(InvalidInput) as bad:
        if kind == "renewal":
            services.request_renewal(actor=officer, lease=lease, end_date=value)
        else:
            services.request_move_out(actor=officer, lease=lease, move_out_on=value)
    assert bad.value.code == code and not LeaseChange.objects.exists()


def test_another_operator_cannot_request_or_act_and_sees_nothing():
    _p, _u, _ent, lease, officer, _admin = _world()
    other = pf.officer(pf.park())
    with pytest.raises(NotFound):
        services.request_renewal(actor=other, lease=lease, end_date=date(2027, 12, 31))
    change = services.request_renewal(actor=officer, lease=lease, end_date=date(2027, 12, 31))
    with pytest.raises(NotFound):
        services.act_on_lease_change(actor=other, change=change, outcome="approve")
    with pytest.raises(NotFound):
        selectors.get_lease_change_for(other, change.pk)
    citizen = factories.user(Role.CITIZEN)
    with pytest.raises(Forbidden):
        services.request_move_out(actor=citizen, lease=lease, move_out_on=date(2026, 6, 30))
