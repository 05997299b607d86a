"""The API and pages: scoping (out of scope answers like missing), query counts of the lists, the
citizen's confirm page, the officer's pages and the overview indicators."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from smartgov.core.permissions import Role
from smartgov.smart import selectors, services
from smartgov.smart.models import Grant, GrantStatus, InstantApproval
from tests import factories as f
from tests.smart import world as sw

pytestmark = pytest.mark.django_db


@pytest.fixture
def w(db):
    world = sw.make()
    services.screen(actor=sw.SYSTEM)
    return world


def test_citizen_sees_why_and_confirms_on_the_page(w):
    client = f.staff_client(w["elder_user"])
    grant = Grant.objects.get(person=w["elder"])
    body = client.get(f"/smart/mine/{grant.pk}/").content.decode()
    assert "年满80周岁" in body and "确认领取" in body and w["elder"].birth_date.isoformat() in body
    resp = client.post(f"/smart/mine/{grant.pk}/", {"action": "accept", "bank_name": "示范银行",
                                                     "bank_account": "6222000011112222"})
    assert resp.status_code == 302
    grant.refresh_from_db()
    assert grant.status == GrantStatus.ACTIVE
    assert f.staff_client(w["young_user"]).get(f"/smart/mine/{grant.pk}/").status_code == 404


def test_my_grants_api_and_its_query_count(w):
    client = f.staff_client(w["elder_user"])
    resp = client.get("/api/smart/my/grants")
    assert resp.status_code == 200
    [row] = resp.json()["results"]
    assert (row["entitlement_name"], row["status"], row["amount"]) == ("高龄津贴", "offered", 100.0)
    assert row["case_number"] == Grant.objects.get(pk=row["id"]).application.number  # the one-stop case
    detail = client.get(f"/api/smart/my/grants/{row['id']}").json()
    assert detail["decisions"][0]["facts"]["person.birth_date"] == w["elder"].birth_date.isoformat()
    resp = client.post(f"/api/smart/my/grants/{row['id']}/respond", {"accept": False}, content_type="application/json")
    assert resp.json()["status"] == "declined"


def test_officer_grant_list_query_count_is_constant(w):
    client = f.staff_client(w["street_admin"])
    with CaptureQueriesContext(connection) as one:
        assert client.get("/api/smart/grants").status_code == 200
    for n in range(3):
        sw.citizen(f"高龄{n}", sw.years_ago(w["today"], 85), 60 + n, w["police"])
    services.screen(actor=sw.SYSTEM)
    with CaptureQueriesContext(connection) as many:
        resp = client.get("/api/smart/grants")
    assert resp.json()["count"] == 5
    assert all(r["case_number"] for r in resp.json()["results"])
    assert len(many.captured_queries) == len(one.captured_queries)


def test_other_department_gets_404_for_a_grant(w):
    grant = Grant.objects.get(person=w["elder"])
    other = f.staff_client(w["bureau_admin"])
    assert other.get(f"/api/smart/grants/{grant.pk}").status_code == 404
    assert other.get(f"/api/smart/grants/{grant.pk + 9999}").status_code == 404
    assert other.post(f"/api/smart/grants/{grant.pk}/end", {"reason": "x"},
                      content_type="application/json").status_code == 404
    assert Grant.objects.get(pk=grant.pk).status == GrantStatus.OFFERED


def test_rule_publish_api_refuses_bad_rules_and_records_versions(w):
    client = f.staff_client(w["street_admin"])
    defn = sw.elder_definition()
    defn["sources"]["person"]["resource"] = w["person_res"].code
    resp = client.put("/api/smart/entitlements/TGLJT", {"code": "TGLJT", "name": "高龄津贴", "definition": {**defn,
                      "condition": {"fact": "person.birth_date", "op": "older", "value": 80}}},
                      content_type="application/json")
    assert resp.status_code == 422 and resp.json()["code"] == "invalid_rule"
    defn["amount"] = 120
    resp = client.put("/api/smart/entitlements/TGLJT", {"code": "TGLJT", "name": "高龄津贴", "definition": defn},
                      content_type="application/json")
    assert resp.status_code == 200 and resp.json()["version"] == 2
    assert f.staff_client(w["bureau_admin"]).put("/api/smart/entitlements/TGLJT", {
        "code": "TGLJT", "name": "高龄津贴", "definition": defn}, content_type="application/json").status_code == 409


def test_instant_api_rules_trial_and_approvals(w, django_capture_on_commit_callbacks):
    sw.publish_instant(w, sample_rate=1.0)
    with django_capture_on_commit_callbacks(execute=True):
        sw.apply(w, w["driver_user"])
    admin = f.staff_client(w["bureau_admin"])
    code = w["item"].implementation_code
    draft = sw.instant_definition()
    draft["sources"] = {}
    draft["rules"] = draft["rules"][2:]
    trial = admin.post(f"/api/smart/items/{code}/instant-rules/trial", {"definition": draft},
                       content_type="application/json").json()
    assert (trial["cases"], trial["would_approve"]) == (1, 1)
    assert f.staff_client(w["street_admin"]).post(f"/api/smart/items/{code}/instant-rules/trial", {"definition": draft},
                                                  content_type="application/json").status_code == 404
    officer = f.staff_client(w["bureau_officer"])
    with CaptureQueriesContext(connection) as q:
        rows = officer.get("/api/smart/approvals?pending=true").json()["results"]
    assert len(rows) == 1 and rows[0]["approved"] and len(q.captured_queries) <= 8
    resp = officer.post(f"/api/smart/approvals/{rows[0]['id']}/review", {"revoke": False},
                        content_type="application/json")
    assert resp.json()["review_status"] == "confirmed"
    page = admin.get(f"/smart/rules/{code}/").content.decode()
    assert "准驾车型为C1或C2" in page
    assert officer.get(f"/smart/approvals/{rows[0]['id']}/").status_code == 200


def test_dashboard_and_entitlement_pages(w):
    client = f.staff_client(w["street_admin"])
    body = client.get("/smart/").content.decode()
    assert "免申即享人次" in body and "TGLJT" in body and 'id="smart-chart"' in body
    body = client.get("/smart/entitlements/TGLJT/").content.decode()
    assert "年满80周岁" in body and "王大爷" in body
    assert f.staff_client(w["bureau_admin"]).get("/smart/entitlements/TGLJT/").status_code == 404


def test_indicators_are_scoped(w):
    [ind] = [i for i in selectors.indicators(actor=w["street_admin"], department=w["street"])
             if i["key"] == "smart.granted_without_application"]
    assert ind["value"] == 2
    from smartgov.core.errors import NotFound

    with pytest.raises(NotFound):
        selectors.indicators(actor=f.user(Role.OFFICER, department=w["bureau"]), department=w["street"])
    assert not InstantApproval.objects.exists()


def test_every_page_renders_for_its_users(w, django_capture_on_commit_callbacks):
    sw.publish_instant(w, sample_rate=1.0)
    with django_capture_on_commit_callbacks(execute=True):
        sw.apply(w, w["driver_user"])
    grant = Grant.objects.get(person=w["elder"])
    citizen = f.staff_client(w["elder_user"])
    for url in ("/smart/mine/", "/smart/prereview/"):
        assert citizen.get(url).status_code == 200, url
    assert "高龄津贴" in citizen.get("/smart/mine/").content.decode()
    street = f.staff_client(w["street_admin"])
    body = street.get(f"/smart/grants/{grant.pk}/").content.decode()
    assert "认定与复核记录" in body and "TGLJT" in body
    officer = f.staff_client(w["bureau_officer"])
    body = officer.get("/smart/approvals/?pending=1").content.decode()
    assert "秒批通过" in body and "待抽查" in body
    assert citizen.get("/smart/").status_code == 403
    resp = street.post(f"/smart/grants/{grant.pk}/", {"reason": "核实户籍已迁出"})
    assert resp.status_code == 302
    grant.refresh_from_db()
    assert grant.status == GrantStatus.ENDED and grant.end_reason == "核实户籍已迁出"
