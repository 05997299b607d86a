"""A tenant asks for its own renewal or move-out from 我的园区: the enterprise's legal representative files
the case, the operator's officers and admin take it on the shared workflow as when the operator files it,
the tenant sees its status and may withdraw it. Nobody else can ask for that lease (404, nothing written)."""

from datetime import date

import pytest

from smartgov.audit.models import AuditEntry
from smartgov.core.errors import Forbidden, NotFound
from smartgov.core.permissions import Role
from smartgov.identity.services import link_account, register_enterprise, register_person
from smartgov.park import selectors, services
from smartgov.park.models import LeaseChange, LeaseChangeStatus
from smartgov.workflow.models import TaskStatus
from tests import factories
from tests.park import factories as pf

pytestmark = pytest.mark.django_db


def _world():
    p = pf.park()
    ent = pf.enterprise(p, name="光谷智能装备有限公司")
    lease = pf.lease(p, ent, [pf.unit(pf.building(p), code="101")])
    boss = factories.user(Role.CITIZEN)
    person = register_person(actor=pf.SYS, name="李总", id_number=factories.id_number("19800101"), phone="13900001111")
    link_account(person=person, user=boss)
    boss.refresh_from_db()
    register_enterprise(actor=pf.SYS, name=ent.name, uscc=ent.uscc, legal_representative=person,
                        department=factories.department("市场监管局"))
    return {"park": p, "ent": ent, "lease": lease, "boss": boss, "officer": pf.officer(p), "admin": pf.admin(p)}


def test_the_tenant_asks_for_a_renewal_from_my_park_and_the_operator_approves_it():
    w = _world()
    client = factories.staff_client(w["boss"])
    page = client.get("/park/my/")
    assert page.status_code == 200 and 'data-testid="my-lease"' in page.text and w["lease"].code in page.text
    r = client.post(f"/park/my/leases/{w['lease'].pk}/renewal/", {"date": "2027-12-31", "reason": "扩产续租"})
    assert r.status_code == 302 and r["Location"] == "/park/my/"
    change = LeaseChange.objects.get()
    assert change.status == LeaseChangeStatus.RUNNING and change.requested_by == w["boss"]
    assert change.instance.department == w["park"].department
    [task] = change.instance.tasks.filter(status=TaskStatus.OPEN)
    assert task.step_key == "review"  # the operator's officer takes it, as when the operator files it
    assert AuditEntry.objects.filter(action="park.lease_change.renewal", actor_id=w["boss"].pk).count() == 1
    page = client.get("/park/my/")
    assert 'data-testid="my-lease-change"' in page.text and "2027-12-31" in page.text
    services.act_on_lease_change(actor=w["officer"], change=change, outcome="approve")
    services.act_on_lease_change(actor=w["admin"], change=change, outcome="approve")
    w["lease"].refresh_from_db()
    assert w["lease"].end_date == date(2027, 12, 31)
    with pytest.raises(Forbidden):  # the tenant asks; it does not decide
        services.act_on_lease_change(actor=w["boss"], change=change, outcome="approve")


def test_the_tenant_asks_for_a_move_out_and_withdraws_it():
    w = _world()
    client = factories.staff_client(w["boss"])
    client.post(f"/park/my/leases/{w['lease'].pk}/move-out/", {"date": "2026-06-30"})
    change = LeaseChange.objects.get()
    assert change.kind == "move_out" and change.move_out_on == date(2026, 6, 30)
    r = client.post(f"/park/my/lease-changes/{change.pk}/cancel/", {"reason": "不搬了"})
    assert r.status_code == 302
    change.refresh_from_db()
    assert change.status == LeaseChangeStatus.CANCELLED
    w["lease"].refresh_from_db()
    assert w["lease"].ended_on is None


def test_nobody_else_can_ask_for_the_lease_and_bad_dates_change_nothing():
    w = _world()
    stranger = factories.user(Role.CITIZEN)
    other = factories.staff_client(stranger)
    assert other.post(f"/park/my/leases/{w['lease'].pk}/renewal/", {"date": "2027-12-31"}).status_code == 404
    assert selectors.my_leases(stranger) == []
    with pytest.raises(Forbidden):  # a citizen without the operator's permission, not the tenant
        services.request_renewal(actor=stranger, lease=w["lease"], end_date=date(2027, 12, 31))
    with pytest.raises(NotFound):  # another park's officer: the lease does not exist for them
        services.request_renewal(actor=pf.officer(pf.park()), lease=w["lease"], end_date=date(2027, 12, 31))
    boss = factories.staff_client(w["boss"])
    r = boss.post(f"/park/my/leases/{w['lease'].pk}/renewal/", {"date": "2026-01-31"}, follow=True)
    assert "续租到期日应晚于原到期日" in r.text
    r = boss.post(f"/park/my/leases/{w['lease'].pk}/move-out/", {"date": "not a date"}, follow=True)
    assert "YYYY-MM-DD" in r.text
    assert not LeaseChange.objects.exists()
    change = services.request_renewal(actor=w["officer"], lease=w["lease"], end_date=date(2027, 12, 31))
    assert other.post(f"/park/my/lease-changes/{change.pk}/cancel/", {"reason": "x"}).status_code == 404
    change.refresh_from_db()
    assert change.status == LeaseChangeStatus.RUNNING


def test_the_api_lets_the_tenant_ask_and_follow_its_requests():
    w = _world()
    api = factories.staff_client(w["boss"])
    leases = api.get("/api/park/my/leases").json()
    assert [x["code"] for x in leases] == [w["lease"].code]
    r = api.post(f"/api/park/my/leases/{w['lease'].pk}/renewal", {"end_date": "2027-12-31", "reason": "续租", "monthly_rent": "11000"},
                 content_type="application/json")
    assert r.status_code == 201 and r.json()["status"] == "running" and r.json()["new_end_date"] == "2027-12-31"
    assert r.json()["new_monthly_rent"] == "11000.00" and r.json()["new_escalation_pct"] is None
    r = api.post(f"/api/park/my/leases/{w['lease'].pk}/move-out", {"move_out_on": "2026-06-30"},
                 content_type="application/json")
    assert r.status_code == 409 and r.json()["code"] == "lease_change_open"  # one open case per lease
    assert [c["kind"] for c in api.get("/api/park/my/lease-changes").json()["results"]] == ["renewal"]
    stranger = factories.staff_client(factories.user(Role.CITIZEN))
    assert stranger.get("/api/park/my/leases").json() == []
    r = stranger.post(f"/api/park/my/leases/{w['lease'].pk}/renewal", {"end_date": "2027-12-31"},
                      content_type="application/json")
    assert r.status_code == 404 and r.json()["code"] == "lease_not_found"
    assert LeaseChange.objects.count() == 1
