"""A tenant acts for itself from 我的园区: asks for its own renewal or move-out: the enterprise's legal representative files
the case, the operator's officers and admin take it on the shared workflow as when the operator files it,
the tenant sees its status and may withdraw it; and it pre-registers its own visitors, whose passes the gate
accepts. Nobody else can act for that enterprise (404, nothing written)."""

from datetime import date, timedelta

import pytest
from django.utils import timezone

from smartgov.audit.models import AuditEntry
from smartgov.core.errors import Forbidden, NotFound
from smartgov.core.permissions import Role
from smartgov.identity.services import link_account, register_enterprise, register_person
from smartgov.park import passes, selectors, services
from smartgov.park.models import LeaseChange, LeaseChangeStatus, Visit, VisitStatus
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


def test_the_host_enterprise_pre_registers_a_visitor_whose_pass_the_gate_accepts():
    w = _world()
    client = factories.staff_client(w["boss"])
    now = timezone.localtime().replace(second=0, microsecond=0)
    window = {"valid_from": (now - timedelta(minutes=5)).strftime("%Y-%m-%dT%H:%M"),
              "valid_until": (now + timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M")}
    r = client.post(f"/park/my/{w['ent'].pk}/visits/", {"name": "王来访", "phone": "13800138000", "purpose": "洽谈",
                                                          **window})
    visit = Visit.objects.get()
    assert r.status_code == 302 and r["Location"] == f"/park/my/visits/{visit.pk}/"
    assert visit.enterprise == w["ent"] and visit.registered_by == w["boss"]
    page = client.get(r["Location"])
    assert 'data-testid="visit-qr"' in page.text and "王来访" not in page.text and "王**" in page.text  # masked
    mine = client.get("/park/my/").text
    assert 'data-testid="my-visit"' in mine and "13800138000" not in mine
    checked = services.check_in(actor=w["officer"], token=passes.pass_token(visit.pk), gate="东门")
    assert checked.status == VisitStatus.CHECKED_IN
    stranger = factories.staff_client(factories.user(Role.CITIZEN))
    assert stranger.get(f"/park/my/visits/{visit.pk}/").status_code == 404
    assert stranger.post(f"/park/my/{w['ent'].pk}/visits/", {"name": "x", "phone": "13800138001", **window}).status_code == 404
    r = client.post(f"/park/my/{w['ent'].pk}/visits/", {"name": "李", "phone": "123", **window}, follow=True)
    assert "手机号" in r.text and Visit.objects.count() == 1  # bad input: a sentence, nothing written


def test_the_host_cancels_its_own_unused_pass():
    w = _world()
    now = timezone.now()
    visit = services.register_visit(actor=w["boss"], enterprise=w["ent"], name="赵访客", phone="13800138000",
                                    valid_from=now, valid_until=now + timedelta(hours=1))
    client = factories.staff_client(w["boss"])
    assert client.post(f"/park/my/visits/{visit.pk}/cancel/").status_code == 302
    visit.refresh_from_db()
    assert visit.status == VisitStatus.CANCELLED
    with pytest.raises(Forbidden):  # anyone else still needs the front desk's permission
        services.register_visit(actor=factories.user(Role.CITIZEN), enterprise=w["ent"], name="x",
                                phone="13800138000", valid_from=now, valid_until=now + timedelta(hours=1))


def test_the_api_registers_the_hosts_visitor_and_lists_them_masked():
    w = _world()
    api = factories.staff_client(w["boss"])
    now = timezone.now()
    body = {"enterprise": w["ent"].pk, "name": "王来访", "phone": "13800138000",
            "valid_from": now.isoformat(), "valid_until": (now + timedelta(hours=2)).isoformat()}
    r = api.post("/api/park/my/visits", body, content_type="application/json")
    assert r.status_code == 201 and r.json()["token"] and r.json()["phone"] != "13800138000"
    [row] = api.get("/api/park/my/visits").json()["results"]
    assert row["id"] == r.json()["id"] and "13800138000" not in str(row)
    stranger = factories.staff_client(factories.user(Role.CITIZEN))
    r = stranger.post("/api/park/my/visits", body, content_type="application/json")
    assert r.status_code == 404 and Visit.objects.count() == 1
