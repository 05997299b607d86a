"""The licences API: scoping, issuing, revoking, the sharing interface, the wallet and the PDF."""

import shutil
import subprocess

import pytest
from django.test import Client

from smartgov.audit.models import AuditEntry
from smartgov.core.permissions import Role
from smartgov.licences import selectors, services
from smartgov.licences.models import Licence, LicenceAccess
from tests import factories as f

from .factories import person

pytestmark = pytest.mark.django_db


def test_public_verify_needs_no_sign_in(world):
    licence = world.issue_business()
    client = Client()
    body = client.post("/api/licences/verify", {"payload": selectors.payload_for(licence)},
                       content_type="application/json").json()
    assert body["ok"] is True and body["code"] == "valid"
    assert body["licence"]["identifier"] == licence.identifier and body["licence"]["holder_id"] == world.enterprise.uscc
    bad = client.post("/api/licences/verify", {"payload": "SGL1.x.y.z"}, content_type="application/json").json()
    assert bad == {"ok": False, "code": "malformed_payload", "message": bad["message"], "licence": None}
    assert "格式" in bad["message"]


def test_officer_issues_through_the_api_by_id_number(world):
    client = f.staff_client(world.officer)
    resp = client.post("/api/licences/licences", {
        "type_code": world.food.code, "holder": {"kind": "person", "code": world.person.id_number},
        "data": {"premises": "东城区幸福路1号"}}, content_type="application/json")
    assert resp.status_code == 201, resp.content
    body = resp.json()
    assert body["holder_name"] == "张三" and body["status"] == "valid" and body["trust_level"] == "A"
    assert world.person.id_number not in resp.content.decode()
    assert selectors.verify_payload(body["payload"]).ok


def test_bad_input_is_422_with_a_code_and_nothing_written(world):
    client = f.staff_client(world.officer)
    before = (Licence.objects.count(), AuditEntry.objects.count())
    resp = client.post("/api/licences/licences", {
        "type_code": world.food.code, "holder": {"kind": "person", "code": world.person.id_number},
        "data": {"nonsense": "x"}}, content_type="application/json")
    assert resp.status_code == 422 and resp.json()["code"] == "invalid_data"
    assert "premises" in resp.json()["detail"] and "nonsense" in resp.json()["detail"]
    resp = client.post("/api/licences/licences", {
        "type_code": world.food.code, "holder": {"kind": "person", "code": "123"}, "data": {}},
        content_type="application/json")
    assert resp.status_code == 422 and resp.json()["code"] == "invalid_id_number"
    resp = client.post("/api/licences/licences", {
        "type_code": world.food.code, "holder": {"kind": "person", "code": f.id_number()}, "data": {}},
        content_type="application/json")
    assert resp.status_code == 404 and resp.json()["code"] == "holder_not_found"
    assert (Licence.objects.count(), AuditEntry.objects.count()) == before


def test_officer_of_another_department_cannot_issue_or_see(world):
    licence = world.issue_food()
    client = f.staff_client(world.stranger)
    resp = client.post("/api/licences/licences", {
        "type_code": world.food.code, "holder": {"kind": "person", "code": world.person.id_number},
        "data": {"premises": "x"}}, content_type="application/json")
    assert resp.status_code == 403 and resp.json()["code"] == "forbidden"
    for url in (f"/api/licences/licences/{licence.pk}", f"/api/licences/licences/{licence.pk}/pdf"):
        resp = client.get(url)
        assert resp.status_code == 404 and resp.json()["code"] == "not_found"
    resp = client.post(f"/api/licences/licences/{licence.pk}/revoke", {"reason": "越权"},
                       content_type="application/json")
    assert resp.status_code == 404
    assert client.get("/api/licences/licences").json()["count"] == 0
    licence.refresh_from_db()
    assert licence.status == "valid"


def test_list_is_scoped_and_paginated_without_n_plus_one(world, django_assert_max_num_queries):
    for _ in range(3):
        world.issue_food()
    world.issue_business()
    client = f.staff_client(world.officer)
    client.get("/api/licences/licences")  # warm the session
    with django_assert_max_num_queries(8):  # session, user, department, count, page, session save
        body = client.get("/api/licences/licences?page_size=10").json()
    assert body["count"] == 4 and len(body["results"]) == 4
    assert client.get(f"/api/licences/licences?type_code={world.business.code}").json()["count"] == 1
    assert client.get("/api/licences/licences?page_size=0").json()["code"] == "invalid_page"


def test_revoke_and_cancel_through_the_api(world):
    a, b = world.issue_food(), world.issue_food()
    client = f.staff_client(world.officer)
    resp = client.post(f"/api/licences/licences/{a.pk}/revoke", {"reason": "违法经营"}, content_type="application/json")
    assert resp.status_code == 200 and resp.json()["status"] == "revoked"
    assert resp.json()["revocation_reason"] == "违法经营"
    resp = client.post(f"/api/licences/licences/{b.pk}/cancel", {"reason": ""}, content_type="application/json")
    assert resp.status_code == 422
    resp = client.post(f"/api/licences/licences/{a.pk}/cancel", {"reason": "重复"}, content_type="application/json")
    assert resp.status_code == 409 and resp.json()["code"] == "licence_not_valid"


def test_sharing_logs_every_access_and_refuses_without_a_basis(world):
    world.issue_business()
    caller = world.stranger  # another department asks: that is what sharing is for
    client = f.staff_client(caller)
    base = {"type_code": world.business.code, "holder": {"kind": "enterprise", "code": world.enterprise.uscc}}
    resp = client.post("/api/licences/share", {**base, "purpose": "办理食品经营许可"},
                       content_type="application/json")
    assert resp.status_code == 422 and resp.json()["code"] == "legal_basis_required"
    resp = client.post("/api/licences/share", {**base, "legal_basis": "《行政许可法》第三十一条"},
                       content_type="application/json")
    assert resp.status_code == 422 and resp.json()["code"] == "purpose_required"
    assert not LicenceAccess.objects.exists()
    resp = client.post("/api/licences/share", {**base, "purpose": "办理食品经营许可",
                                                "legal_basis": "《行政许可法》第三十一条"},
                       content_type="application/json")
    assert resp.status_code == 200 and len(resp.json()) == 1
    access = LicenceAccess.objects.get()
    assert (access.department, access.officer, access.holder_enterprise, access.result, access.licence_count) == \
        (world.other, caller, world.enterprise, "found", 1)
    entry = AuditEntry.objects.get(action="licences.licence.share")
    assert entry.actor_id == caller.pk and "办理食品经营许可" in entry.changes


def test_sharing_a_person_by_consent_never_returns_the_clear_id_number(world):
    world.issue_food()
    client = f.staff_client(world.stranger)
    resp = client.post("/api/licences/share", {
        "type_code": world.food.code, "holder": {"kind": "person", "code": world.person.id_number},
        "purpose": "社保待遇核验", "consent_reference": "CONSENT-2026-0001"}, content_type="application/json")
    assert resp.status_code == 200 and len(resp.json()) == 1
    assert world.person.id_number not in resp.content.decode()
    assert LicenceAccess.objects.get().consent_reference == "CONSENT-2026-0001"


def test_citizens_cannot_call_the_sharing_interface(world):
    client = Client()
    client.force_login(f.user(Role.CITIZEN))
    resp = client.post("/api/licences/share", {
        "type_code": world.food.code, "holder": {"kind": "person", "code": world.person.id_number},
        "purpose": "x", "legal_basis": "y"}, content_type="application/json")
    assert resp.status_code == 403
    assert not LicenceAccess.objects.exists()  # refused, and nothing was logged as shared
    assert not AuditEntry.objects.filter(action__startswith="licences.share").exists()


def test_wallet_lists_the_citizens_own_licences(world):
    citizen = f.user(Role.CITIZEN)
    world.person.user = citizen
    world.person.save(update_fields=["user"])
    mine = world.issue_food()
    someone_else = person("李四")
    theirs = services.issue_licence(actor=world.officer, licence_type=world.food, holder_person=someone_else,
                                    data={"premises": "别处"})
    client = Client()
    client.force_login(citizen)
    body = client.get("/api/licences/wallet").json()
    assert [lic["identifier"] for lic in body] == [mine.identifier]
    assert world.person.id_number not in str(body)
    assert client.get(f"/api/licences/licences/{mine.pk}").status_code == 200
    assert client.get(f"/api/licences/licences/{theirs.pk}").status_code in (403, 404)
    assert Client().get("/api/licences/wallet").status_code == 401


def test_pdf_renders_with_the_identifier(world):
    licence = world.issue_business()
    client = f.staff_client(world.officer)
    resp = client.get(f"/api/licences/licences/{licence.pk}/pdf")
    assert resp.status_code == 200 and resp["Content-Type"] == "application/pdf"
    assert resp.content.startswith(b"%PDF")
    if shutil.which("pdftotext") is None:
        pytest.skip("pdftotext (poppler-utils) not installed")
    text = subprocess.run(["pdftotext", "-", "-"], input=resp.content, capture_output=True, check=True).stdout.decode()
    assert licence.identifier in text


def test_wallet_of_a_legal_representative_holds_the_enterprises_licences(world):
    citizen = f.user(Role.CITIZEN)
    world.person.user = citizen
    world.person.save(update_fields=["user"])
    business = world.issue_business()
    client = Client()
    client.force_login(citizen)
    assert client.get("/api/licences/wallet").json() == []  # not (yet) the company's representative
    world.enterprise.legal_representative = world.person
    world.enterprise.save(update_fields=["legal_representative"])
    assert [lic["identifier"] for lic in client.get("/api/licences/wallet").json()] == [business.identifier]


def test_a_legal_representative_opens_and_downloads_the_enterprises_licence(world):
    """Every wallet button opens: 查看 and 下载PDF of a company's licence for its legal representative,
    and still 404 for another citizen."""
    citizen = f.user(Role.CITIZEN)
    world.person.user = citizen
    world.person.save(update_fields=["user"])
    world.enterprise.legal_representative = world.person
    world.enterprise.save(update_fields=["legal_representative"])
    business = world.issue_business()
    client = Client()
    client.force_login(citizen)
    assert client.get(f"/licences/{business.pk}/").status_code == 200
    resp = client.get(f"/licences/{business.pk}/pdf/")
    assert resp.status_code == 200 and resp.content.startswith(b"%PDF")
    from tests.core.test_pdf_fonts import assert_embedded_cjk

    assert_embedded_cjk(resp.content)  # the font travels with the licence
    assert client.get(f"/api/licences/licences/{business.pk}/pdf").status_code == 200
    stranger = Client()
    stranger.force_login(f.user(Role.CITIZEN))
    assert stranger.get(f"/licences/{business.pk}/").status_code in (403, 404)
    assert stranger.get(f"/licences/{business.pk}/pdf/").status_code in (403, 404)
