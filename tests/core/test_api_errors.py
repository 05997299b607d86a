"""Every API error has one shape: {"code", "message" (中文), "detail"} with the right status."""

import pytest
from django.test import Client

from smartgov.core.permissions import Role
from tests import factories as f

pytestmark = pytest.mark.django_db


def assert_error(resp, status, code):
    assert resp.status_code == status
    body = resp.json()
    assert set(body) == {"code", "message", "detail"}
    assert body["code"] == code
    assert any("\u4e00" <= ch <= "\u9fff" for ch in body["message"])  # a Chinese message
    return body


def test_unauthenticated():
    assert_error(Client().get("/api/accounts/me"), 401, "not_authenticated")


def test_schema_validation_and_bad_json_and_not_found():
    client = f.staff_client(f.user(Role.SYSADMIN))
    body = assert_error(client.post("/api/accounts/departments", {"name": ""}, content_type="application/json"),
                        422, "invalid_input")
    assert body["detail"]
    assert_error(client.post("/api/accounts/departments", "{not json", content_type="application/json"),
                 400, "invalid_json")
    assert_error(client.get("/api/accounts/users/999999"), 404, "not_found")
    assert_error(client.get("/api/accounts/users?page=0"), 422, "invalid_page")


def test_domain_validation_changes_nothing():
    from smartgov.accounts.models import Department
    from smartgov.audit.models import AuditEntry

    client = f.staff_client(f.user(Role.SYSADMIN))
    before = (Department.objects.count(), AuditEntry.objects.count())
    body = assert_error(client.post("/api/accounts/departments",
                                    {"name": "坏局", "code": "BAD", "level": "city", "uscc": "91350100M000100Y44"},
                                    content_type="application/json"), 422, "invalid_input")
    assert "uscc" in body["detail"]
    assert (Department.objects.count(), AuditEntry.objects.count()) == before


def test_openapi_document_is_served():
    spec = Client().get("/api/openapi.json").json()
    assert spec["openapi"].startswith("3.")
    assert "/api/accounts/users" in spec["paths"] and "/api/audit/entries" in spec["paths"]
    for path in ("/api/onestop/applications", "/api/workflow/tasks", "/api/trace/epcis/capture", "/api/grain/scans"):
        assert path in spec["paths"], path
    assert Client().get("/api/docs").status_code == 200
