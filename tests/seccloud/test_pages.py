"""Pages and lists: dashboard, search with filters and full text, CSV/Excel export, sources with a
one-time token, rule upload/enable/test, quarantine; query counts do not grow with rows."""

import io
import json

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from smartgov.core.permissions import Role
from smartgov.seccloud.models import Rule, Source
from tests import factories

from .factories import http_source, load_pack, send


@pytest.fixture
def world():
    load_pack()
    dept = factories.department()
    source, _ = http_source(dept)
    lines = [json.dumps({"action": "http.request", "src_ip": f"10.0.0.{i}", "path": "/.env" if i % 2 else "/",
                         "message": f"GET {'/.env' if i % 2 else '/'} from 10.0.0.{i}", "user": "=cmd()"})
             for i in range(6)]
    send(source, [*lines, "{broken"], kind="json")
    return {"dept": dept, "source": source, "client": factories.staff_client(factories.user(Role.SECADMIN))}


@pytest.mark.django_db
def test_dashboard_and_lists_render(world):
    c = world["client"]
    for url in ("/seccloud/", "/seccloud/events/", "/seccloud/quarantine/", "/seccloud/sources/", "/seccloud/rules/",
                "/seccloud/incidents/", "/seccloud/keys/", "/seccloud/self-check/"):
        assert c.get(url).status_code == 200, url
    body = c.get("/seccloud/").content.decode()
    assert 'id="seccloud-data"' in body and "echarts.min.js" in body
    assert "bad_json" in c.get("/seccloud/quarantine/").content.decode()


@pytest.mark.django_db
def test_search_filters_and_full_text(world):
    c = world["client"]
    assert c.get("/api/seccloud/events", {"q": ".env"}).json()["count"] == 3
    assert c.get("/api/seccloud/events", {"q": ".env 10.0.0.3"}).json()["count"] == 1
    assert c.get("/api/seccloud/events", {"src_ip": "10.0.0.2"}).json()["count"] == 1
    assert c.get("/api/seccloud/events", {"action": "http."}).json()["count"] == 6
    assert "10.0.0.5" in c.get("/seccloud/events/", {"q": ".env"}).content.decode()


@pytest.mark.django_db
def test_export_csv_and_excel_neutralise_formulas(world):
    c = world["client"]
    csv_text = c.get("/seccloud/events/export/", {"q": ".env"}).content.decode("utf-8-sig")
    assert csv_text.splitlines()[0].startswith("seq,at,source") and len(csv_text.splitlines()) == 4
    assert "'=cmd()" in csv_text
    from openpyxl import load_workbook

    resp = c.get("/seccloud/events/export/", {"format": "xlsx"})
    rows = list(load_workbook(io.BytesIO(resp.content)).active.iter_rows(values_only=True))
    assert len(rows) == 7 and rows[1][6] == "'=cmd()"


@pytest.mark.django_db
def test_department_registers_a_source_and_sees_the_token_once(world):
    dept = world["dept"]
    admin = factories.user(Role.DEPT_ADMIN, department=dept)
    c = factories.staff_client(admin)
    resp = c.post("/seccloud/sources/", {"department": dept.pk, "name": "办事大厅", "kind": "http"})
    assert resp.status_code == 200 and "sgl_" in resp.content.decode()
    resp = c.post("/seccloud/sources/", {"department": dept.pk, "name": "办事大厅", "kind": "http"})
    assert "同名" in resp.content.decode()
    other = factories.department()
    resp = c.post("/seccloud/sources/", {"department": other.pk, "name": "x", "kind": "http"})
    assert not Source.objects.filter(department=other).exists()
    resp = c.post("/api/seccloud/sources", {"department_id": dept.pk, "name": "主机", "kind": "syslog",
                                            "address": "10.1.1.1"}, content_type="application/json")
    assert resp.status_code == 201 and resp.json()["token"] == ""


@pytest.mark.django_db
def test_rule_upload_enable_and_test_against_stored_events(world):
    c = world["client"]
    yaml_text = """title: 根路径访问
id: 22222222-2222-4222-8222-222222222222
logsource: {category: webserver}
level: low
tags: [attack.t1595]
detection:
  sel: {action: http.request, path: /}
  condition: sel
"""
    assert c.post("/seccloud/rules/", {"yaml": yaml_text}).status_code == 302
    rule = Rule.objects.get(rule_id="22222222-2222-4222-8222-222222222222")
    body = c.post(f"/seccloud/rules/{rule.pk}/", {"op": "test"}).content.decode()
    assert "命中 3 条" in body
    c.post(f"/seccloud/rules/{rule.pk}/", {"op": "toggle"})
    rule.refresh_from_db()
    assert not rule.enabled
    resp = c.post("/seccloud/rules/", {"yaml": "title: x\ndetection: {}"})
    assert Rule.objects.filter(title="x").count() == 0 and resp.status_code == 200


@pytest.mark.django_db
def test_list_query_counts_do_not_grow(world):
    c = world["client"]
    with CaptureQueriesContext(connection) as small:
        c.get("/api/seccloud/events")
    send(world["source"], [json.dumps({"action": "x", "message": str(i)}) for i in range(30)], kind="json")
    with CaptureQueriesContext(connection) as big:
        c.get("/api/seccloud/events")
    assert len(big) == len(small)
    with CaptureQueriesContext(connection) as q:
        c.get("/seccloud/incidents/")
    assert len(q) < 15
