"""企业服务 (报修、政策申报、投诉) as one-stop cases of the park operator's items: an enterprise's legal
representative raises them (a repair only for a unit the enterprise leases), the operator's officers take
them through the one-stop queue on the shared workflow (deadline, 好差评 after closing), the operator's page
lists its park's cases through the one-stop selectors. Through the services, the API and the pages."""

from datetime import date

import pytest
from django.test import Client

from smartgov.core.errors import Conflict, Forbidden, InvalidInput, NotFound
from smartgov.core.permissions import Role
from smartgov.identity.services import link_account, register_enterprise, register_person
from smartgov.onestop import services as onestop
from smartgov.onestop.models import Application, State
from smartgov.park import selectors, services
from tests import factories
from tests.park import factories as pf

pytestmark = pytest.mark.django_db


def _world():
    p = pf.park()
    b = pf.building(p)
    u1, u2 = pf.unit(b, code="101"), pf.unit(b, code="102")
    ent = pf.enterprise(p, name="光谷智能装备有限公司")
    pf.lease(p, ent, [u1])
    boss = factories.user(Role.CITIZEN)
    person = register_person(actor=pf.SYS, name="李总", id_number=factories.id_number("19800101"),
                             phone="13900001111")
    link_account(person=person, user=boss)
    boss.refresh_from_db()
    register_enterprise(actor=pf.SYS, name=ent.name, uscc=ent.uscc, legal_representative=person,
                        department=factories.department("市场监管局"))
    services.publish_service_items(actor=pf.SYS, park=p)
    return {"park": p, "ent": ent, "u1": u1, "u2": u2, "boss": boss, "officer": pf.officer(p), "admin": pf.admin(p)}


REPAIR = {"unit": "A-101", "category": "空调暖通", "description": "空调不制冷", "contact_phone": "13900001111"}


def test_a_repair_request_runs_on_the_one_stop_workflow_and_is_evaluated():
    w = _world()
    app = services.raise_service(actor=w["boss"], enterprise=w["ent"], kind="repair", form=REPAIR)
    assert app.state == State.SUBMITTED and app.department == w["park"].department
    assert app.applicant_name == "光谷智能装备有限公司" and app.form_data["park"] == w["park"].code
    officer = w["officer"]
    onestop.start_prereview(actor=officer, application=app)
    app = onestop.accept(actor=officer, application=app)
    assert app.due_on is not None and app.instance.time_limit_days == 2  # the item's promised limit
    app = onestop.review(actor=officer, application=app, outcome="approve", opinion="已派维修工")
    assert app.state == State.APPROVED
    onestop.issue_result(actor=officer, application=app)
    onestop.deliver(actor=officer, application=app, method="electronic")
    onestop.close(actor=officer, application=app)
    onestop.evaluate(actor=w["boss"], application=app, grade=5, comment="修得很快")
    [case] = selectors.service_cases(officer, w["park"])
    assert case.number == app.number and case.state == State.CLOSED and case.evaluations.all()[0].grade == 5
    assert [c.number for c in selectors.my_service_cases(w["boss"])] == [app.number]


def test_a_repair_of_a_unit_the_enterprise_does_not_lease_is_refused_and_nothing_is_filed():
    w = _world()
    with pytest.raises(InvalidInput) as bad:
        services.raise_service(actor=w["boss"], enterprise=w["ent"], kind="repair", form={**REPAIR, "unit": "A-102"})
    assert bad.value.code == "application_invalid" and bad.value.detail["unit"] == "该单元不是贵企业在租的单元"
    with pytest.raises(InvalidInput) as missing:
        services.raise_service(actor=w["boss"], enterprise=w["ent"], kind="repair", form={"unit": "A-101"})
    assert {"category", "description", "contact_phone"} <= set(missing.value.detail)
    assert not Application.objects.exists()


def test_the_one_stop_application_itself_is_checked_by_the_park():
    """Applying on the one-stop pages (not the park's) meets the same checks: no bypass."""
    w = _world()
    item = services.publish_service_items(actor=pf.SYS, park=w["park"])[0]  # again: nothing new
    form = {**REPAIR, "park": w["park"].code, "unit": "A-102"}
    with pytest.raises(InvalidInput) as bad:
        onestop.apply(actor=w["boss"], item=item, answers={}, form_data=form, enterprise_uscc=w["ent"].uscc)
    assert "unit" in bad.value.detail
    with pytest.raises(InvalidInput) as nobody:  # not in an enterprise's name
        onestop.apply(actor=w["boss"], item=item, answers={}, form_data={**form, "unit": "A-101"})
    assert "enterprise" in nobody.value.detail
    with pytest.raises(InvalidInput) as elsewhere:
        onestop.apply(actor=w["boss"], item=item, answers={}, form_data={**form, "park": "nowhere"},
                      enterprise_uscc=w["ent"].uscc)
    assert "park" in elsewhere.value.detail
    assert not Application.objects.exists()


def test_policy_applications_and_complaints_take_their_own_items_and_limits():
    w = _world()
    policy = services.raise_service(actor=w["boss"], enterprise=w["ent"], kind="policy",
                                    form={"policy": "租金补贴", "period": "2026年度", "amount": "120000"})
    complaint = services.raise_service(actor=w["boss"], enterprise=w["ent"], kind="complaint",
                                       form={"subject": "电梯", "content": "3号电梯经常停运"})
    assert policy.item.name.startswith("园区企业政策申报") and complaint.item.name == "园区企业投诉"
    onestop.start_prereview(actor=w["officer"], application=policy)
    policy = onestop.accept(actor=w["officer"], application=policy)
    assert policy.instance.time_limit_days == 15
    policy = onestop.review(actor=w["officer"], application=policy, outcome="approve")
    assert policy.state == State.REVIEW  # 审查 → 决定 by the department admin (standard process)
    policy = onestop.review(actor=w["admin"], application=policy, outcome="approve", opinion="核定补贴12万元")
    assert policy.state == State.APPROVED
    assert {c.number for c in selectors.service_cases(w["admin"], w["park"])} == {policy.number, complaint.number}


def test_only_the_legal_representative_raises_and_other_operators_see_nothing():
    w = _world()
    stranger = factories.user(Role.CITIZEN)
    with pytest.raises(Forbidden):
        services.raise_service(actor=stranger, enterprise=w["ent"], kind="complaint",
                               form={"subject": "x", "content": "y"})
    with pytest.raises(NotFound):
        selectors.get_resident_enterprise_for(stranger, w["ent"].pk)
    with pytest.raises(InvalidInput) as kind:
        services.raise_service(actor=w["boss"], enterprise=w["ent"], kind="parking", form={})
    assert kind.value.code == "invalid_service_kind"
    services.raise_service(actor=w["boss"], enterprise=w["ent"], kind="complaint", form={"subject": "x", "content": "y"})
    other = pf.officer(pf.park())
    with pytest.raises(NotFound):
        list(selectors.service_cases(other, w["park"]))


def test_an_operator_without_the_items_is_told_so():
    p = pf.park()
    ent = pf.enterprise(p)
    with pytest.raises(Conflict) as none:
        services.raise_service(actor=pf.SYS, enterprise=ent, kind="complaint", form={})
    assert none.value.code == "service_not_offered"


# ---------------------------------------------------------------- API and pages
def _client(user):
    c = Client()
    c.force_login(user)
    return c


def test_api_raise_list_and_scope():
    w = _world()
    boss = _client(w["boss"])
    r = boss.post("/api/park/enterprise-services", {"enterprise": w["ent"].pk, "kind": "repair", "form": REPAIR},
                  content_type="application/json")
    assert r.status_code == 201, r.content
    number = r.json()["number"]
    bad = boss.post("/api/park/enterprise-services", {"enterprise": w["ent"].pk, "kind": "repair",
                                                      "form": {**REPAIR, "unit": "A-102"}}, content_type="application/json")
    assert bad.status_code == 422 and bad.json()["code"] == "application_invalid" and "unit" in bad.json()["detail"]
    mine = boss.get("/api/park/my/service-cases").json()
    assert [c["number"] for c in mine["results"]] == [number]
    stranger = _client(factories.user(Role.CITIZEN))
    r = stranger.post("/api/park/enterprise-services", {"enterprise": w["ent"].pk, "kind": "repair", "form": REPAIR},
                      content_type="application/json")
    assert r.status_code == 404 and r.json()["code"] == "enterprise_not_found"
    officer = factories.staff_client(w["officer"])
    listed = officer.get(f"/api/park/parks/{w['park'].pk}/service-cases").json()
    assert [(c["number"], c["kind"], c["unit"]) for c in listed["results"]] == [(number, "repair", "A-101")]
    other = factories.staff_client(pf.officer(pf.park()))
    r = other.get(f"/api/park/parks/{w['park'].pk}/service-cases")
    assert r.status_code == 404 and r.json()["code"] == "park_not_found"
    assert Application.objects.count() == 1


def test_pages_enterprise_raises_a_repair_and_the_operator_lists_it():
    w = _world()
    boss = _client(w["boss"])
    page = boss.get("/park/my/")
    assert page.status_code == 200 and "光谷智能装备有限公司" in page.content.decode() and "A-101" in page.content.decode()
    r = boss.post(f"/park/my/{w['ent'].pk}/services/", {"kind": "repair", **{**REPAIR, "unit": "A-102"}})
    assert r.status_code == 302 and not Application.objects.exists()
    r = boss.post(f"/park/my/{w['ent'].pk}/services/", {"kind": "repair", **REPAIR})
    app = Application.objects.get()
    assert r.status_code == 302 and r["Location"] == f"/onestop/cases/{app.number}/"
    assert boss.post(f"/park/my/{pf.enterprise(w['park'], name='别家').pk}/services/",
                     {"kind": "repair", **REPAIR}).status_code == 404
    officer = factories.staff_client(w["officer"])
    listing = officer.get(f"/park/{w['park'].pk}/services/")
    assert listing.status_code == 200 and app.number in listing.content.decode()
    other = factories.staff_client(pf.officer(pf.park()))
    assert other.get(f"/park/{w['park'].pk}/services/").status_code == 404
    assert date.today()  # the pages use today's deadlines only


def test_service_case_list_takes_a_fixed_number_of_queries(django_assert_max_num_queries):
    w = _world()
    for i in range(5):
        services.raise_service(actor=w["boss"], enterprise=w["ent"], kind="complaint",
                               form={"subject": f"事项{i}", "content": "内容"})
    officer = factories.staff_client(w["officer"])
    with django_assert_max_num_queries(12):
        r = officer.get(f"/api/park/parks/{w['park'].pk}/service-cases")
    assert r.json()["count"] == 5


def test_cli_opens_the_items_and_lists_the_cases():
    import io

    from django.core.management import call_command

    w = _world()
    services.raise_service(actor=w["boss"], enterprise=w["ent"], kind="repair", form=REPAIR)
    out = io.StringIO()
    call_command("park", "service-items", "--park", w["park"].code, stdout=out)
    assert out.getvalue().count("\n") == 3
    out = io.StringIO()
    call_command("park", "service-cases", "--park", w["park"].code, stdout=out)
    assert "报修" in out.getvalue() and "光谷智能装备有限公司" in out.getvalue()


def test_pages_in_english(settings):
    w = _world()
    services.raise_service(actor=w["boss"], enterprise=w["ent"], kind="repair", form=REPAIR)
    boss = _client(w["boss"])
    boss.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    page = boss.get("/park/my/").content.decode()
    assert "My park" in page and "Report the repair" in page and "Air conditioning and heating" in page
    officer = factories.staff_client(w["officer"])
    officer.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    page = officer.get(f"/park/{w['park'].pk}/services/").content.decode()
    assert "Enterprise services" in page and "Repair" in page


def test_the_citizen_home_links_my_park_for_a_legal_representative():
    w = _world()
    page = _client(w["boss"]).get("/my/").content.decode()
    assert 'data-testid="my-park"' in page and "/park/my/" in page and "光谷智能装备有限公司" in page
    assert 'data-testid="my-park"' not in _client(factories.user(Role.CITIZEN)).get("/my/").content.decode()
