import json

import pytest

from smartgov.onestop.models import Application, Rectification, Submission, TicketStatus
from tests import factories as f
from tests.onestop.conftest import COMPANY_FORM, upload

pytestmark = pytest.mark.django_db


def post(client, url, body=None):
    return client.post(url, json.dumps(body or {}), content_type="application/json")


def run_to_issue(officer, chief, number):
    for action, body in (("prereview", {}), ("accept", {}), ("review", {"outcome": "approve"})):
        assert post(officer, f"/api/onestop/applications/{number}/actions/{action}", body).status_code == 200
    if chief is not None:
        post(chief, f"/api/onestop/applications/{number}/actions/review", {"outcome": "approve"})
    return post(officer, f"/api/onestop/applications/{number}/actions/issue")


def test_bundle_fans_out_one_case_per_department_and_the_licence_result_feeds_the_next(
        world, citizen_client, officer_client, chief_client):
    resp = post(citizen_client, "/api/onestop/bundles/TKBQY/apply", {
        "answers": {"premises_owned": "yes"}, "form_data": COMPANY_FORM,
        "materials": {"articles": upload(citizen_client)}})
    assert resp.status_code == 201, resp.content
    sub = resp.json()
    company, tax = sub["applications"]
    assert {company["department"], tax["department"]} == {world["regulator"].name, world["tax"].name}
    tax_case = Application.objects.get(number=tax["number"])
    awaited = tax_case.materials.get(key="business_licence")
    assert awaited.source == "bundle" and awaited.awaits.number == company["number"]
    # the tax result is a document: it does not wait for the company
    tax_officer = f.staff_client(world["tax_officer"])
    assert run_to_issue(tax_officer, None, tax["number"]).status_code == 200  # a document result needs no company
    assert run_to_issue(officer_client, chief_client, company["number"]).json()["state"] == "issued"
    awaited.refresh_from_db()
    assert awaited.licence is not None and awaited.awaits is None
    tax_case.refresh_from_db()
    assert tax_case.applicant_enterprise is not None  # the new company became the applicant
    assert tax_case.form_data["uscc"] == tax_case.applicant_enterprise.uscc  # asked of no one: filled in
    for client, number in ((officer_client, company["number"]), (tax_officer, tax["number"])):
        post(client, f"/api/onestop/applications/{number}/actions/deliver", {"method": "electronic"})
        post(client, f"/api/onestop/applications/{number}/actions/close")
    assert Submission.objects.get(pk=sub["id"]).completed_at is not None


def test_an_invalid_bundle_stores_no_case_at_all(world, citizen_client):
    resp = post(citizen_client, "/api/onestop/bundles/TKBQY/apply", {"answers": {"premises_owned": "yes"},
                                                                     "form_data": {"enterprise_name": "X"}})
    assert resp.status_code == 422
    assert Application.objects.count() == 0 and Submission.objects.count() == 0


def test_a_negative_evaluation_opens_a_rectification_ticket_followed_up_to_closed(world, citizen_client,
                                                                                  officer_client, chief_client):
    resp = post(citizen_client, "/api/onestop/applications", {
        "item": world["company"].implementation_code, "answers": {"premises_owned": "yes"},
        "form_data": COMPANY_FORM, "materials": {"articles": upload(citizen_client)}})
    number = resp.json()["number"]
    url = f"/api/onestop/applications/{number}/evaluation"
    assert post(citizen_client, url, {"grade": 1}).json()["code"] == "comment_required"
    resp = post(citizen_client, url, {"grade": 1, "comment": "预审太慢"})
    assert resp.status_code == 201 and resp.json()["ticket"]
    assert post(citizen_client, url, {"grade": 5}).status_code == 409  # one per case online
    ticket = Rectification.objects.get()
    assert ticket.department == world["regulator"] and ticket.due_on > ticket.created_at.date()
    tickets = officer_client.get("/api/onestop/rectifications").json()
    assert tickets["count"] == 1 and tickets["results"][0]["comment"] == "预审太慢"
    assert post(chief_client, f"/api/onestop/rectifications/{ticket.pk}/follow-up", {"text": "x"}).status_code == 409
    post(officer_client, f"/api/onestop/rectifications/{ticket.pk}/reply", {"text": "已加派预审人员"})
    resp = post(chief_client, f"/api/onestop/rectifications/{ticket.pk}/follow-up", {"text": "电话回访，群众满意"})
    assert resp.json()["status"] == TicketStatus.CLOSED
    outsider = f.staff_client(world["tax_officer"])
    assert outsider.get("/api/onestop/rectifications").json()["count"] == 0


def test_a_material_uploaded_once_is_reused_in_the_next_application(world, citizen_client, officer_client):
    stored = upload(citizen_client)
    first = post(citizen_client, "/api/onestop/applications", {
        "item": world["company"].implementation_code, "answers": {"premises_owned": "yes"},
        "form_data": COMPANY_FORM, "materials": {"articles": stored}}).json()
    plan = post(citizen_client, f"/api/onestop/items/{world['company'].implementation_code}/plan",
                {"answers": {"premises_owned": "yes"}}).json()
    by_key = {m["key"]: m for m in plan["materials"]}
    assert by_key["articles"]["reuse"] == "library" and by_key["id_card"]["reuse"] == "register"
    assert plan["prefill"]["applicant_name"] == "王小明"
    second = post(citizen_client, "/api/onestop/applications", {
        "item": world["company"].implementation_code, "answers": {"premises_owned": "yes"},
        "form_data": COMPANY_FORM}).json()
    assert {m["key"]: m["source"] for m in second["materials"]}["articles"] == "library"
    assert first["number"] != second["number"]
    measures = officer_client.get("/api/onestop/measures").json()
    assert measures["materials_reused"] >= 3 and measures["applications"] == 2


def test_catalogue_is_public_and_versioned(world, citizen_client, chief_client):
    from django.test import Client

    anon = Client()
    code = world["company"].implementation_code
    assert anon.get("/api/onestop/items").json()["count"] == 2
    item = anon.get(f"/api/onestop/items/{code}").json()
    assert item["version"] == 1
    content = item["content"] | {"promised_limit_days": 2}
    resp = chief_client.put(f"/api/onestop/items/{code}", json.dumps({"content": content}),
                            content_type="application/json")
    assert resp.status_code == 200 and resp.json()["version"] == 2
    bad = chief_client.put(f"/api/onestop/items/{code}", json.dumps({"content": {"result": {}}}),
                           content_type="application/json")
    assert bad.status_code == 422 and bad.json()["code"] == "invalid_item_content"
    tax_chief = f.staff_client(f.user(f.Role.DEPT_ADMIN, department=world["tax"]))
    assert tax_chief.put(f"/api/onestop/items/{code}", json.dumps({"content": content}),
                         content_type="application/json").status_code == 403


def test_only_the_applicants_own_register_record_is_reused_other_government_papers_are_asked_for(world):
    from smartgov.onestop import selectors
    from smartgov.onestop.catalogue import ItemContent

    content = ItemContent.model_validate({
        "legal_limit_days": 1, "promised_limit_days": 1, "result": {"kind": "document", "name": "结果"},
        "materials": [{"key": "id_card", "name": "居民身份证", "source": "government"},
                      {"key": "no_crime_proof", "name": "无犯罪记录证明", "source": "government"}]})
    plan = selectors.reuse_plan(world["citizen"], content, {})
    assert set(plan) == {"id_card"} and plan["id_card"].source == "register"
