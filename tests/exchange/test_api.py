import datetime
import io

import orjson
import pytest
from django.test import Client
from django.utils import timezone
from openpyxl import load_workbook

from smartgov.core.permissions import Role
from smartgov.exchange import evidence, services
from smartgov.exchange.models import Message, Resource
from tests import factories as f
from tests.exchange import factories as xf

pytestmark = pytest.mark.django_db


def _json(resp):
    return orjson.loads(resp.content)


def test_a_department_system_calls_with_its_key_and_gets_the_agreed_fields():
    res = xf.resource()
    officer = xf.consumer_officer()
    xf.agreement(res, officer, fields=["name", "result"])
    person = f.id_number()
    xf.certificate(person)
    _, key = services.issue_key(actor=f.user(Role.DEPT_ADMIN, department=officer.department), label="审批系统")
    c = Client()
    resp = c.post(f"/api/exchange/call/{res.code}", orjson.dumps({"params": {"id_number": person}, "purpose": "审批"}),
                  content_type="application/json", HTTP_X_EXCHANGE_KEY=key)
    assert resp.status_code == 200, resp.content
    body = _json(resp)
    assert body["data"] == {"name": "张*", "result": "未发现有犯罪记录"} and body["masked"] == ["name"]
    assert Message.objects.get(message_id=body["message_id"]).caller.startswith("key:")
    resp = c.post(f"/api/exchange/call/{res.code}", orjson.dumps({"params": {"id_number": person},
                                                                   "fields": ["id_number"]}),
                  content_type="application/json", HTTP_X_EXCHANGE_KEY=key)
    assert resp.status_code == 403 and _json(resp)["code"] == "field_not_agreed"
    resp = c.post(f"/api/exchange/call/{res.code}", b"{}", content_type="application/json",
                  HTTP_X_EXCHANGE_KEY=key + "x")
    assert resp.status_code == 401


def test_a_revoked_key_or_agreement_stops_the_very_next_call():
    res = xf.resource()
    officer = xf.consumer_officer()
    ag = xf.agreement(res, officer, fields=["result"])
    person = f.id_number()
    xf.certificate(person)
    admin = f.user(Role.DEPT_ADMIN, department=officer.department)
    ck, key = services.issue_key(actor=admin, label="审批系统")
    c = Client()

    def call():
        return c.post(f"/api/exchange/call/{res.code}", orjson.dumps({"params": {"id_number": person}}),
                      content_type="application/json", HTTP_X_EXCHANGE_KEY=key)

    assert call().status_code == 200
    services.revoke_agreement(actor=admin, agreement=ag, reason="停止共享")
    resp = call()
    assert resp.status_code == 403 and _json(resp)["code"] == "agreement_revoked"
    services.revoke_key(actor=admin, key=ck)
    assert call().status_code == 401  # nothing about keys or agreements is cached between calls


def test_the_api_applies_decides_and_lists_with_a_fixed_number_of_queries(django_assert_max_num_queries):
    provider = f.department()
    for _ in range(5):
        xf.resource(provider, share_type="conditional")
    admin = f.user(Role.DEPT_ADMIN, department=provider)
    officer = xf.consumer_officer()
    c = f.staff_client(officer)
    code = Resource.objects.filter(department=provider).first().code
    resp = c.post("/api/exchange/agreements", orjson.dumps({
        "resource": code, "purpose": "审批", "legal_basis": "条例", "fields": ["name", "result"],
        "valid_until": (timezone.localdate() + datetime.timedelta(days=10)).isoformat()}),
        content_type="application/json")
    assert resp.status_code == 201 and _json(resp)["status"] == "pending"
    ag_id = _json(resp)["id"]
    pc = f.staff_client(admin)
    resp = pc.post(f"/api/exchange/agreements/{ag_id}/approve", orjson.dumps({"fields": ["result"]}),
                   content_type="application/json")
    assert resp.status_code == 200 and _json(resp)["fields"] == ["result"]
    with django_assert_max_num_queries(8):
        resp = pc.get("/api/exchange/resources?page_size=50")
    assert _json(resp)["count"] >= 5
    with django_assert_max_num_queries(8):
        assert pc.get("/api/exchange/agreements?side=provider").status_code == 200


def test_excel_export_imports_back_and_a_bad_row_imports_nothing():
    provider = f.department()
    res = xf.resource(provider)
    admin = f.user(Role.DEPT_ADMIN, department=provider)
    c = f.staff_client(admin)
    resp = c.get("/api/exchange/resources.xlsx")
    assert resp.status_code == 200
    wb = load_workbook(io.BytesIO(resp.content))
    rows = list(wb["信息资源"].iter_rows(min_row=2, values_only=True))
    assert any(r[0] == res.code for r in rows)
    # the same workbook with a new summary → a new version
    ws = wb["信息资源"]
    for row in ws.iter_rows(min_row=2):
        if row[0].value == res.code:
            row[6].value = "更新后的摘要"
    buf = io.BytesIO()
    wb.save(buf)
    resp = c.post("/api/exchange/resources/import", {"file": _upload(buf.getvalue())})
    assert resp.status_code == 200, resp.content
    res.refresh_from_db()
    assert res.current_version == 2
    for row in ws.iter_rows(min_row=2):
        if row[0].value == res.code:
            row[3].value = "随便共享"
    buf = io.BytesIO()
    wb.save(buf)
    resp = c.post("/api/exchange/resources/import", {"file": _upload(buf.getvalue())})
    assert resp.status_code == 422 and _json(resp)["code"] == "import_errors"
    res.refresh_from_db()
    assert res.current_version == 2


def _upload(data):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile("catalogue.xlsx", data, content_type="application/octet-stream")


def test_evidence_downloads_for_the_auditor_and_verifies():
    res = xf.resource()
    officer = xf.consumer_officer()
    xf.agreement(res, officer)
    person = f.id_number()
    xf.certificate(person)
    out = services.call_resource(actor=officer, resource_code=res.code, params={"id_number": person})
    services.seal_all(actor=xf.SYSTEM)
    c = f.staff_client(f.user(Role.AUDITADMIN))
    resp = c.get(f"/api/exchange/messages/{out.message_id}/evidence")
    assert resp.status_code == 200
    assert evidence.verify_evidence(resp.content)["message_id"] == out.message_id
    other = f.staff_client(f.user(Role.DEPT_ADMIN, department=f.department()))
    assert other.get(f"/api/exchange/messages/{out.message_id}/evidence").status_code == 404


def test_the_exchange_api_is_in_the_api_docs():
    resp = Client().get("/api/openapi.json")
    paths = _json(resp)["paths"]
    assert "/api/exchange/call/{resource}" in paths and "/api/exchange/messages/{message_id}/evidence" in paths
