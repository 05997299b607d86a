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


# ---------------------------------------------------------------- API and pages
def test_api_renewal_through_its_steps_with_stable_codes_and_scope():
    p, _u, _ent, lease, officer, admin = _world()
    oc, ac = factories.staff_client(officer), factories.staff_client(admin)
    bad = oc.post(f"/api/park/leases/{lease.pk}/renewal", {"end_date": "2026-06-30"}, content_type="application/json")
    assert bad.status_code == 422 and bad.json()["code"] == "invalid_renewal_end" and bad.json()["message"]
    r = oc.post(f"/api/park/leases/{lease.pk}/renewal", {"end_date": "2027-12-31", "reason": "扩产"},
                content_type="application/json")
    assert r.status_code == 201, r.content
    body = r.json()
    assert body["kind"] == "renewal" and body["status"] == "running" and [s["step"] for s in body["steps"]] == ["review"]
    cid = body["id"]
    again = oc.post(f"/api/park/leases/{lease.pk}/move-out", {"move_out_on": "2026-06-30"},
                    content_type="application/json")
    assert again.status_code == 409 and again.json()["code"] == "lease_change_open"
    r = oc.post(f"/api/park/lease-changes/{cid}/act", {"outcome": "approve"}, content_type="application/json")
    assert r.status_code == 200 and [s["status"] for s in r.json()["steps"]] == ["done", "open"]
    r = oc.post(f"/api/park/lease-changes/{cid}/act", {"outcome": "approve"}, content_type="application/json")
    assert r.status_code == 403 and r.json()["code"] == "not_task_actor"
    bad = ac.post(f"/api/park/lease-changes/{cid}/act", {"outcome": "maybe"}, content_type="application/json")
    assert bad.status_code == 422 and bad.json()["code"] == "invalid_outcome"
    r = ac.post(f"/api/park/lease-changes/{cid}/act", {"outcome": "approve"}, content_type="application/json")
    assert r.status_code == 200 and r.json()["status"] == "approved"
    lease.refresh_from_db()
    assert lease.end_date == date(2027, 12, 31)
    listed = oc.get(f"/api/park/parks/{p.pk}/lease-changes").json()
    assert listed["count"] == 1 and listed["results"][0]["colour"] == "done"
    other = factories.staff_client(pf.officer(pf.park()))
    missing = other.get(f"/api/park/lease-changes/{cid}")
    assert missing.status_code == 404 and missing.json()["code"] == "lease_change_not_found"
    assert other.get("/api/park/lease-changes/999999").json() == missing.json()
    r = other.post(f"/api/park/leases/{lease.pk}/move-out", {"move_out_on": "2026-06-30"},
                   content_type="application/json")
    assert r.status_code == 404 and r.json()["code"] == "lease_not_found"


def test_api_move_out_settles_the_deposit_and_cancel():
    _p, _u, _ent, lease, officer, admin = _world(deposit="50000")
    oc, ac = factories.staff_client(officer), factories.staff_client(admin)
    cid = oc.post(f"/api/park/leases/{lease.pk}/move-out", {"move_out_on": "2026-01-31"},
                  content_type="application/json").json()["id"]
    r = oc.post(f"/api/park/lease-changes/{cid}/act", {"outcome": "approve", "inspection": "完好", "damages": "-5"},
                content_type="application/json")
    assert r.status_code == 422 and r.json()["code"] == "invalid_amount"
    oc.post(f"/api/park/lease-changes/{cid}/act", {"outcome": "approve", "inspection": "完好", "damages": "500"},
            content_type="application/json")
    oc.post(f"/api/park/lease-changes/{cid}/act", {"outcome": "approve", "deductions": "100"},
            content_type="application/json")
    r = ac.post(f"/api/park/lease-changes/{cid}/act", {"outcome": "approve"}, content_type="application/json")
    assert r.json()["settlement"]["refund"] == "39400.00" and r.json()["status"] == "approved"
    lease.refresh_from_db()
    assert lease.status == LeaseStatus.ENDED and lease.bills.count() == 1
    r = ac.post(f"/api/park/lease-changes/{cid}/cancel", {"reason": "x"}, content_type="application/json")
    assert r.status_code == 409 and r.json()["code"] == "lease_change_closed"


def test_pages_request_act_and_show_the_case():
    p, _u, ent, lease, officer, admin = _world()
    oc, ac = factories.staff_client(officer), factories.staff_client(admin)
    page = oc.get(f"/park/enterprises/{ent.pk}/").content.decode()
    assert "renewal-submit" in page and "move-out-submit" in page
    r = oc.post(f"/park/leases/{lease.pk}/move-out/", {"date": "not a date"})
    assert r.status_code == 302 and not LeaseChange.objects.exists()
    r = oc.post(f"/park/leases/{lease.pk}/move-out/", {"date": "2026-04-30", "reason": "搬迁"})
    change = LeaseChange.objects.get()
    assert r["Location"] == f"/park/lease-changes/{change.pk}/"
    page = oc.get(r["Location"]).content.decode()
    assert "act-inspection" in page and "现场验收" in page
    oc.post(f"/park/lease-changes/{change.pk}/act/", {"outcome": "approve"})  # no inspection notes: refused
    assert change.instance.tasks.get(step_key="inspect").status == TaskStatus.OPEN
    oc.post(f"/park/lease-changes/{change.pk}/act/", {"outcome": "approve", "inspection": "完好"})
    oc.post(f"/park/lease-changes/{change.pk}/act/", {"outcome": "approve"})
    assert "act-form" not in oc.get(f"/park/lease-changes/{change.pk}/").content.decode()  # the admin's step
    ac.post(f"/park/lease-changes/{change.pk}/act/", {"outcome": "approve"})
    page = ac.get(f"/park/lease-changes/{change.pk}/").content.decode()
    assert 'data-testid="settlement"' in page and "已办结" in page
    assert str(change.lease.code) in ac.get(f"/park/{p.pk}/lease-changes/").content.decode()
    other = factories.staff_client(pf.officer(pf.park()))
    assert other.get(f"/park/lease-changes/{change.pk}/").status_code == 404
    assert other.post(f"/park/leases/{lease.pk}/renewal/", {"date": "2027-12-31"}).status_code == 404


def test_lease_change_list_takes_a_fixed_number_of_queries(django_assert_max_num_queries):
    p = pf.park()
    b = pf.building(p)
    officer = pf.officer(p)
    for i in range(4):
        lease = pf.lease(p, pf.enterprise(p, name=f"企业{i}"), [pf.unit(b, code=f"10{i}")], code=f"L-{i}")
        services.request_renewal(actor=officer, lease=lease, end_date=date(2027, 12, 31))
    client = factories.staff_client(officer)
    with django_assert_max_num_queries(8):
        r = client.get(f"/api/park/parks/{p.pk}/lease-changes")
    assert r.json()["count"] == 4


def test_cli_opens_renewal_and_move_out_cases_and_lists_them():
    import io

    from django.core.management import CommandError, call_command

    p, _u, _ent, lease, _officer, _admin = _world()
    out = io.StringIO()
    with pytest.raises(CommandError) as bad_rent:  # a sentence and exit 2, nothing opened
        call_command("park", "renew", "--park", p.code, "--lease", lease.code, "--until", "2027-12-31", "--rent", "-1")
    assert "invalid_amount" in str(bad_rent.value)
    call_command("park", "renew", "--park", p.code, "--lease", lease.code, "--until", "2027-12-31", "--rent", "11000",
                 stdout=out)
    assert "续租申请" in out.getvalue()
    assert lease.changes.get().new_monthly_rent == Decimal("11000.00")
    with pytest.raises(CommandError) as twice:
        call_command("park", "move-out", "--park", p.code, "--lease", lease.code, "--on", "2026-06-30")
    assert "lease_change_open" in str(twice.value)
    with pytest.raises(CommandError):
        call_command("park", "renew", "--park", p.code, "--lease", "nope", "--until", "2027-12-31")
    out = io.StringIO()
    call_command("park", "lease-changes", "--park", p.code, stdout=out)
    assert lease.code in out.getvalue() and "续租" in out.getvalue()
    lease.refresh_from_db()
    assert lease.end_date == date(2026, 12, 31)  # not until approved


def test_a_lease_ending_on_29_february_renews():
    p = pf.park()
    lease = pf.lease(p, pf.enterprise(p), [pf.unit(pf.building(p))], start=date(2027, 3, 1), end=date(2028, 2, 29))
    change = services.request_renewal(actor=pf.officer(p), lease=lease, end_date=date(2038, 2, 28))
    assert change.new_end_date == date(2038, 2, 28)
    with pytest.raises(InvalidInput):
        services.request_renewal(actor=pf.SYS, lease=pf.lease(p, pf.enterprise(p, name="乙"), [pf.unit(pf.building(p, code="B"))],
                                                              code="L-2", end=date(2028, 2, 29)),
                                 end_date=date(2038, 3, 1))


def test_the_workflow_monitor_links_the_case_page():
    from smartgov.workflow.views import subject_url

    _p, _u, _ent, lease, officer, _admin = _world()
    change = services.request_renewal(actor=officer, lease=lease, end_date=date(2027, 12, 31))
    assert change.instance.subject == f"park.lease_change:{change.pk}"
    assert subject_url(change.instance.subject) == f"/park/lease-changes/{change.pk}/"


def test_a_renewal_at_new_terms_bills_the_added_years_at_the_new_rent_escalating_afresh():
    # worked by hand: 10,000/month rising 5 % a year from 2026; renewed for 2027–2028 at 12,000 rising 3 % a
    # year from the renewal: 2027 at 12,000.00, 2028 at 12,000 × 1.03 = 12,360.00 (on the old terms 2027 would
    # be 10,500.00 and 2028 11,025.00)
    p = pf.park()
    lease = pf.lease(p, pf.enterprise(p), [pf.unit(pf.building(p))], rent="10000", escalation_pct=5)
    officer, admin = pf.officer(p), pf.admin(p)
    change = services.request_renewal(actor=officer, lease=lease, end_date=date(2028, 12, 31), monthly_rent="12000",
                                      escalation_pct="3")
    assert change.new_monthly_rent == Decimal("12000.00") and change.new_escalation_pct == Decimal("3.00")
    assert change.instance.context["monthly_rent"] == "12000.00"
    services.act_on_lease_change(actor=officer, change=change, outcome="approve")
    services.act_on_lease_change(actor=admin, change=change, outcome="approve")
    lease.refresh_from_db()
    amounts = {start: amount for start, _end, amount, _status in _bills(lease)}
    assert amounts[date(2026, 12, 1)] == Decimal("10000.00")
    assert amounts[date(2027, 1, 1)] == amounts[date(2027, 12, 1)] == Decimal("12000.00")
    assert amounts[date(2028, 1, 1)] == amounts[date(2028, 12, 1)] == Decimal("12360.00")
    assert lease.rent_steps == [{"start": "2027-01-01", "monthly_rent": "12000.00", "escalation_pct": "3.00",
                                 "escalation_every_months": 12}]
    # a move-out in the renewed term re-computes its last bill on the renewed terms (12,360 × 15/31)
    services.end_lease(actor=pf.SYS, lease=lease, ended_on=date(2028, 3, 15))
    assert lease.bills.get(period_start=date(2028, 3, 1)).amount == Decimal("5980.65")


def test_a_renewal_that_only_changes_the_escalation_keeps_the_rent_reached():
    p = pf.park()
    lease = pf.lease(p, pf.enterprise(p), [pf.unit(pf.building(p))], rent="10000", escalation_pct=5)
    services.renew_lease(actor=pf.SYS, lease=lease, end_date=date(2028, 12, 31), escalation_pct=Decimal(0))
    amounts = {start: amount for start, _end, amount, _status in _bills(lease)}
    assert amounts[date(2027, 1, 1)] == amounts[date(2028, 12, 1)] == Decimal("10500.00")


def test_new_terms_that_make_no_sense_are_refused_and_change_nothing():
    _p, _u, _ent, lease, officer, _admin = _world()
    for rent, esc, code in (("0", None, "invalid_amount"), ("-5", None, "invalid_amount"), ("abc", None, "invalid_amount"),
                            (None, "101", "invalid_escalation"), (None, "x", "invalid_escalation")):
        with pytest.raises(InvalidInput) as bad:
            services.request_renewal(actor=officer, lease=lease, end_date=date(2027, 12, 31), monthly_rent=rent,
                                     escalation_pct=esc)
        assert bad.value.code == code
    assert not LeaseChange.objects.exists()
