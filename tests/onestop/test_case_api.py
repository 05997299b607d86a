"""The whole case state machine through the API, illegal transitions, scoping and query counts."""

import json

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from smartgov.audit.models import AuditEntry
from smartgov.core.permissions import system_actor
from smartgov.onestop.models import Application, Notice, Notification, State
from tests import factories as f
from tests.onestop.conftest import COMPANY_FORM, upload

pytestmark = pytest.mark.django_db


def post(client, url, body=None):
    return client.post(url, json.dumps(body or {}), content_type="application/json")


def apply_company(client, world, **over):
    body = {"item": world["company"].implementation_code, "answers": {"premises_owned": "yes"},
            "form_data": COMPANY_FORM, "materials": {"articles": upload(client)}, **over}
    return post(client, "/api/onestop/applications", body)


def act(client, number, action, **body):
    return post(client, f"/api/onestop/applications/{number}/actions/{action}", body)


def test_citizen_applies_with_reused_register_data_and_the_case_runs_to_closed(world, citizen_client,
                                                                               officer_client, chief_client):
    resp = apply_company(citizen_client, world)
    assert resp.status_code == 201, resp.content
    case = resp.json()
    number = case["number"]
    assert case["state"] == "submitted" and len(number) == 22
    sources = {m["key"]: m["source"] for m in case["materials"]}
    assert sources == {"id_card": "register", "articles": "upload"}  # 租赁合同 not asked: premises owned
    assert act(officer_client, number, "prereview").json()["state"] == "prereview"
    accepted = act(officer_client, number, "accept").json()
    assert accepted["state"] == "accepted" and accepted["due_on"] and accepted["sla"] == "green"
    assert [n["kind"] for n in accepted["notices"]] == ["acceptance"]
    assert act(officer_client, number, "review", outcome="approve", opinion="符合条件").json()["state"] == "review"
    # the decision step is the department head's: the officer may not take it
    resp = act(officer_client, number, "review", outcome="approve")
    assert resp.status_code == 403 and resp.json()["code"] == "not_task_actor"
    assert act(chief_client, number, "review", outcome="approve").json()["state"] == "approved"
    issued = act(officer_client, number, "issue").json()
    assert issued["state"] == "issued" and issued["result_licence"]
    assert act(officer_client, number, "deliver", method="electronic").json()["state"] == "delivered"
    closed = act(officer_client, number, "close").json()
    assert closed["state"] == "closed"
    assert [s["action"] for s in closed["steps"]] == ["submit", "prereview", "accept", "review", "review", "issue",
                                                      "deliver", "close"]
    app = Application.objects.get(number=number)
    assert app.on_time is True and app.applicant_enterprise.name == COMPANY_FORM["enterprise_name"]
    assert app.result_licence.holder_enterprise == app.applicant_enterprise
    assert Notification.objects.filter(user=world["citizen"], application=app).count() >= 5
    assert AuditEntry.objects.filter(action__startswith="onestop.application.").count() == 8


@pytest.mark.parametrize("action", ["accept", "review", "issue", "deliver", "close", "supplement"])
def test_illegal_transitions_are_409_with_a_stable_code_and_change_nothing(world, citizen_client, officer_client,
                                                                             action):
    number = apply_company(citizen_client, world).json()["number"]
    before = AuditEntry.objects.count()
    client = citizen_client if action == "supplement" else officer_client
    resp = act(client, number, action, outcome="approve", method="electronic")
    assert resp.status_code == 409
    assert resp.json()["code"] == "illegal_transition" and "不能" in resp.json()["message"]
    assert Application.objects.get(number=number).state == State.SUBMITTED
    assert AuditEntry.objects.count() == before


def test_supplement_stops_the_clock_and_resuming_restores_review(world, citizen_client, officer_client):
    number = apply_company(citizen_client, world).json()["number"]
    act(officer_client, number, "prereview")
    act(officer_client, number, "accept")
    act(officer_client, number, "review", outcome="approve")
    resp = act(officer_client, number, "request_supplement", materials=["articles"], opinion="章程未签字")
    assert resp.json()["state"] == "supplement" and resp.json()["sla"] == "paused"
    assert Notice.objects.filter(application__number=number, kind="supplement").exists()
    # the applicant cannot skip the missing material
    resp = act(citizen_client, number, "supplement", materials={})
    assert resp.status_code == 422 and resp.json()["code"] == "supplement_incomplete"
    new = upload(citizen_client, body=b"%PDF-1.4 signed")
    resp = act(citizen_client, number, "supplement", materials={"articles": new})
    assert resp.json()["state"] == "review" and resp.json()["sla"] in ("green", "yellow")
    app = Application.objects.get(number=number)
    assert app.instance.suspensions[0][1] is not None


def test_rejection_needs_reasons_and_ends_in_a_result_notice(world, citizen_client, officer_client):
    number = apply_company(citizen_client, world).json()["number"]
    act(officer_client, number, "prereview")
    act(officer_client, number, "accept")
    resp = act(officer_client, number, "review", outcome="reject")
    assert resp.status_code == 422 and resp.json()["code"] == "reason_required"
    resp = act(officer_client, number, "review", outcome="reject", opinion="经营范围含前置许可项目")
    assert resp.json()["state"] == "rejected"
    assert "result" in [n["kind"] for n in resp.json()["notices"]]
    assert act(officer_client, number, "close").json()["state"] == "closed"


def test_not_accepted_and_withdrawn_cases(world, citizen_client, officer_client):
    a = apply_company(citizen_client, world).json()["number"]
    act(officer_client, a, "prereview")
    assert act(officer_client, a, "not_accept", opinion="不属于本部门职权").json()["state"] == "not_accepted"
    b = apply_company(citizen_client, world).json()["number"]
    assert act(citizen_client, b, "withdraw").json()["state"] == "withdrawn"
    # an officer cannot withdraw for the applicant
    c = apply_company(citizen_client, world).json()["number"]
    assert act(officer_client, c, "withdraw").status_code == 404


def test_special_procedure_suspends_and_resumes_the_clock(world, citizen_client, officer_client):
    number = apply_company(citizen_client, world).json()["number"]
    act(officer_client, number, "prereview")
    act(officer_client, number, "accept")
    resp = act(officer_client, number, "special_procedure", kind="inspection", opinion="现场核查经营场所")
    assert resp.json()["sla"] == "paused"
    resp = act(officer_client, number, "review", outcome="approve")
    assert resp.status_code == 409
    assert act(officer_client, number, "end_special_procedure").json()["sla"] != "paused"
    assert act(officer_client, number, "review", outcome="approve").json()["state"] == "review"


def test_invalid_application_lists_every_problem_and_stores_nothing(world, citizen_client):
    resp = post(citizen_client, "/api/onestop/applications", {
        "item": world["company"].implementation_code, "answers": {"premises_owned": "no"},
        "form_data": {"company_type": "股份公司", "registered_capital": "很多"}})
    assert resp.status_code == 422 and resp.json()["code"] == "application_invalid"
    detail = resp.json()["detail"]
    assert {"enterprise_name", "company_type", "registered_capital", "materials.articles",
            "materials.lease"} <= set(detail)
    assert Application.objects.count() == 0


def test_officers_of_other_departments_cannot_see_or_act_on_a_case(world, citizen_client):
    number = apply_company(citizen_client, world).json()["number"]
    outsider = f.staff_client(world["tax_officer"])
    assert outsider.get(f"/api/onestop/applications/{number}").status_code == 404
    assert act(outsider, number, "prereview").status_code == 404
    other_citizen = f.user(f.Role.CITIZEN)
    from django.test import Client

    c = Client()
    c.force_login(other_citizen)
    assert c.get(f"/api/onestop/applications/{number}").status_code == 404
    assert outsider.get("/api/onestop/applications").json()["count"] == 0


def test_case_list_runs_a_constant_number_of_queries(world, citizen_client, officer_client):
    for _ in range(3):
        apply_company(citizen_client, world)

    def count(size):
        with CaptureQueriesContext(connection) as ctx:
            resp = officer_client.get(f"/api/onestop/applications?page_size={size}")
        assert resp.status_code == 200
        return len(ctx.captured_queries), len(resp.json()["results"])

    small, n_small = count(1)
    large, n_large = count(50)
    assert (n_small, n_large) == (1, 3)
    assert small == large


@pytest.mark.parametrize("url", ["/api/onestop/items", "/api/onestop/rectifications", "/api/onestop/bundles"])
def test_other_list_endpoints_run_a_constant_number_of_queries(world, citizen_client, officer_client, url):
    from smartgov.onestop import services

    for i in range(3):
        number = apply_company(citizen_client, world).json()["number"]
        post(citizen_client, f"/api/onestop/applications/{number}/evaluation", {"grade": 1, "comment": f"慢{i}"})
        services.create_item(actor=system_actor("test"), department=world["regulator"], basic_code=f"GG0090{i}000",
                             name=f"事项{i}", item_type="GG", content={
                                 "legal_limit_days": 1, "promised_limit_days": 1,
                                 "result": {"kind": "document", "name": "结果"}})
    services.create_bundle(actor=system_actor("test"), code="TWO", name="二", items=[world["company"], world["tax_item"]])

    def count(size):
        with CaptureQueriesContext(connection) as ctx:
            resp = officer_client.get(f"{url}?page_size={size}")
        assert resp.status_code == 200, resp.content
        body = resp.json()
        return len(ctx.captured_queries), len(body["results"] if isinstance(body, dict) else body)

    small, n_small = count(1)
    large, n_large = count(50)
    assert n_large > n_small or url.endswith("bundles")
    assert small == large


def test_a_published_version_is_what_the_next_application_uses(world, citizen_client, chief_client):
    code = world["company"].implementation_code
    first = apply_company(citizen_client, world).json()
    content = citizen_client.get(f"/api/onestop/items/{code}").json()["content"]
    content["materials"] = [m for m in content["materials"] if m["key"] != "articles"]
    assert chief_client.put(f"/api/onestop/items/{code}", json.dumps({"content": content}),
                            content_type="application/json").status_code == 200
    second = apply_company(citizen_client, world, materials={}).json()
    assert "articles" not in {m["key"] for m in second["materials"]}
    assert Application.objects.get(number=first["number"]).item_version.version == 1
    assert Application.objects.get(number=second["number"]).item_version.version == 2


def test_id_numbers_typed_into_a_form_are_encrypted_at_rest_and_shown_masked(world, citizen_client, officer_client):
    from smartgov.onestop import selectors, services

    content = citizen_client.get(f"/api/onestop/items/{world['company'].implementation_code}").json()["content"]
    content["fields"].append({"key": "applicant_id_number", "label": "身份证号", "type": "id_number",
                              "prefill": "person.id_number"})
    services.publish_item_version(actor=system_actor("test"), item=world["company"], content=content)
    selectors.forget_item()
    id_number = world["citizen"].person.id_number
    number = apply_company(citizen_client, world,
                           form_data={**COMPANY_FORM, "applicant_id_number": id_number}).json()["number"]
    app = Application.objects.get(number=number)
    stored = app.form_data["applicant_id_number"]
    assert stored != id_number and id_number not in json.dumps(app.form_data)
    assert selectors.form_values(app, reveal=True)["applicant_id_number"] == id_number
    shown = officer_client.get(f"/api/onestop/applications/{number}").json()["form_data"]["applicant_id_number"]
    assert shown != id_number and shown.endswith(id_number[-4:]) and "*" in shown
    with connection.cursor() as cur:
        cur.execute("SELECT form_data FROM onestop_application WHERE number = %s", [number])
        assert id_number not in str(cur.fetchone()[0])


def test_a_colliding_case_number_is_a_retryable_409_and_stores_nothing(world, citizen_client, monkeypatch):
    from smartgov.onestop import services

    first = apply_company(citizen_client, world).json()["number"]
    submits = AuditEntry.objects.filter(action="onestop.application.submit")
    before = (Application.objects.count(), submits.count())
    monkeypatch.setattr(services.applying, "_new_number", lambda: first)
    resp = apply_company(citizen_client, world)  # (its upload to the library is a separate request)
    assert resp.status_code == 409 and resp.json()["code"] == "retry"
    assert (Application.objects.count(), submits.count()) == before


def test_uploads_of_the_wrong_type_or_size_are_refused_and_nothing_is_stored(world, citizen_client, settings):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from smartgov.onestop.models import StoredMaterial

    def send(body, kind):
        return citizen_client.post("/api/onestop/materials", {"key": "articles", "name": "公司章程",
                                                              "file": SimpleUploadedFile("a", body, kind)})

    assert send(b"#!/bin/sh", "text/x-shellscript").json()["code"] == "file_type"
    assert send(b"", "application/pdf").json()["code"] == "empty_file"
    settings.ONESTOP_MAX_UPLOAD_BYTES = 10
    resp = send(b"%PDF-1.4 more than ten bytes", "application/pdf")
    assert resp.status_code == 422 and resp.json()["code"] == "file_too_large"
    assert StoredMaterial.objects.count() == 0
