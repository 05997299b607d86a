"""Inputs that used to end in a server error answer with a 4xx and the one error shape."""

import pytest
from django.test import Client

from smartgov.core.permissions import Role
from tests import factories as f

pytestmark = pytest.mark.django_db

HUGE = ["9223372036854775808", "-9223372036854775809", "99999999999999999999", "1e400", "-1"]


@pytest.fixture
def client():
    return f.staff_client(f.user(Role.SYSADMIN))


@pytest.mark.parametrize("value", HUGE)
def test_huge_page_numbers_are_refused_not_a_crash(client, value):
    for size in ("page", "page_size"):
        resp = client.get(f"/api/accounts/users?{size}={value}")
        assert resp.status_code == 422, resp.content
        assert resp.json()["code"] in ("invalid_page", "invalid_input")


@pytest.mark.parametrize("value", HUGE)
def test_huge_ids_in_paths_and_queries_are_answered_like_missing_ones(client, value):
    c = Client(raise_request_exception=False)
    c.cookies = client.cookies
    for url in (f"/api/accounts/users/{value}", f"/api/grain/warehouses?depot={value}"):
        resp = c.get(url)
        assert 400 <= resp.status_code < 500, (url, resp.status_code, resp.content[:300])
        assert "code" in resp.json()


def test_pages_with_huge_page_numbers_do_not_fail(client):
    c = Client(raise_request_exception=False)
    c.cookies = client.cookies
    for url in ("/audit/", "/trace/recalls/", "/identity/persons/"):
        for value in HUGE:
            resp = c.get(url, {"page": value})
            assert resp.status_code < 500, (url, value, resp.status_code)


def test_patch_with_null_for_a_required_field_is_a_422_and_changes_nothing():
    from smartgov.identity.services import register_enterprise

    dept = f.department()
    officer = f.user(Role.OFFICER, department=dept)
    enterprise = register_enterprise(actor=officer, name="空值公司", uscc=f.uscc(), address="原地址", department=dept)
    client = f.staff_client(officer)
    for field in ("address", "name", "region_code", "status"):
        resp = client.patch(f"/api/identity/enterprises/{enterprise.pk}", {field: None},
                            content_type="application/json")
        assert resp.status_code == 422 and resp.json()["code"] == "null_not_allowed", resp.content
    enterprise.refresh_from_db()
    assert enterprise.address == "原地址"


def test_the_parameters_put_takes_its_body_as_json_in_the_schema():
    from smartgov.config.api import api

    operation = api.get_openapi_schema()["paths"]["/api/grain/parameters"]["put"]
    assert not operation.get("parameters")
    assert "application/json" in operation["requestBody"]["content"]


def test_a_body_that_does_not_match_its_content_type_is_a_400(client):
    c = Client(enforce_csrf_checks=True, raise_request_exception=False)
    c.cookies = client.cookies
    c.cookies["csrftoken"] = "c" * 32
    resp = c.generic("POST", "/api/accounts/departments", b'{"name": "x"}', content_type="multipart/form-data",
                     HTTP_X_CSRFTOKEN="c" * 32)
    assert resp.status_code == 400 and resp.json()["code"] == "bad_request"
