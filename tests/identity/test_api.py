import json

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from smartgov.audit.models import AuditEntry
from smartgov.core.permissions import Role
from smartgov.identity.models import Person
from tests import factories as f

from .helpers import csv_bytes, person, person_row

pytestmark = [pytest.mark.django_db, pytest.mark.urls("tests.identity.urls")]


@pytest.fixture
def office():
    dept = f.department()
    officer = f.user(Role.OFFICER, department=dept)
    return dept, officer, f.staff_client(officer)


def test_create_list_and_get_are_masked(office):
    dept, _officer, client = office
    idn = f.id_number("19700101", seq=41)
    resp = client.post("/api/identity/persons", {"name": "赵六", "id_number": idn, "phone": "13812345678"},
                       content_type="application/json")
    assert resp.status_code == 201, resp.content
    pid = resp.json()["id"]
    for _ in range(3):
        person(dept)
    with CaptureQueriesContext(connection) as queries:
        listing = client.get("/api/identity/persons?page_size=10")
    assert listing.json()["count"] == 4
    assert len(queries) <= 8  # session, user, count, page — not one per person
    detail = client.get(f"/api/identity/persons/{pid}")
    for text in (resp.content, listing.content, detail.content):
        body = text.decode()
        assert idn not in body and "13812345678" not in body
    assert detail.json()["id_number"] == idn[:6] + "********" + idn[-4:]
    assert detail.json()["phone"] == "138****5678"


def test_bad_input_writes_nothing_and_duplicates_are_409(office):
    dept, _officer, client = office
    bad = client.post("/api/identity/persons", {"name": "赵六", "id_number": "110105194912310022"},
                      content_type="application/json")
    assert bad.status_code == 422 and bad.json()["code"] == "invalid_input" and "id_number" in bad.json()["detail"]
    existing = person(dept, seq=42)
    dup = client.post("/api/identity/persons", {"name": "赵六", "id_number": existing.id_number},
                      content_type="application/json")
    assert dup.status_code == 409 and dup.json() == {"code": "person_exists", "message": "该公民身份号码已在人口库登记",
                                                     "detail": None}
    assert Person.objects.count() == 1


def test_other_departments_records_are_404_and_supervisors_cannot_write(office):
    dept, _officer, client = office
    elsewhere = person(f.department(), seq=43)
    assert client.get(f"/api/identity/persons/{elsewhere.pk}").status_code == 404
    assert client.post(f"/api/identity/persons/{elsewhere.pk}/reveal").status_code == 404
    supervisor = f.staff_client(f.user(Role.SUPERVISOR, department=dept))
    resp = supervisor.post("/api/identity/persons", {"name": "x", "id_number": f.id_number()},
                           content_type="application/json")
    assert resp.status_code == 403 and resp.json()["code"] == "forbidden"
    citizen = f.staff_client(f.user(Role.CITIZEN))
    assert citizen.get("/api/identity/persons").status_code == 403


def test_lookup_and_reveal_are_audited(office):
    dept, _officer, client = office
    p = person(dept, seq=44, phone="13912345678")
    found = client.post("/api/identity/persons/lookup", {"id_number": p.id_number}, content_type="application/json")
    assert found.status_code == 200 and found.json()["id"] == p.pk and p.id_number not in found.content.decode()
    missing = client.post("/api/identity/persons/lookup", {"id_number": f.id_number("19991231", seq=1)},
                          content_type="application/json")
    assert missing.status_code == 404 and missing.json()["code"] == "person_not_found"
    revealed = client.post(f"/api/identity/persons/{p.pk}/reveal")
    assert revealed.json() == {"id_number": p.id_number, "phone": "13912345678"}
    actions = list(AuditEntry.objects.filter(action__startswith="identity.person.").order_by("seq")
                   .values_list("action", flat=True))
    assert actions[-3:] == ["identity.person.lookup", "identity.person.lookup", "identity.person.reveal"]


def test_import_upload_all_or_nothing_then_valid_only(office):
    _dept, _officer, client = office
    rows = [person_row(i, birth="19800101") for i in range(1, 4)]
    rows[1][3] = "3301"
    data = csv_bytes(rows)
    from django.core.files.uploadedfile import SimpleUploadedFile

    resp = client.post("/api/identity/import/persons", {"file": SimpleUploadedFile("p.csv", data)})
    body = resp.json()
    assert resp.status_code == 200 and (body["imported"], body["rejected"], body["committed"]) == (0, 1, False)
    assert body["errors"] == [{"row": 3, "column": "行政区划代码", "message": "行政区划代码应为6位数字（GB/T 2260）",
                               "value": "3301"}]
    assert body["report_url"] == f"/identity/imports/{body['id']}/report.xlsx"
    assert not Person.objects.exists()
    resp = client.post("/api/identity/import/persons", {"file": SimpleUploadedFile("p.csv", data), "valid_only": "true"})
    assert resp.json()["imported"] == 2 and Person.objects.count() == 2
    for r in rows:
        assert r[1] not in resp.content.decode()
    assert client.post("/api/identity/import/persons", {}).json()["code"] == "file_required"


def test_enterprises_api_with_status_change(office):
    dept, _officer, client = office
    rep = person(dept, seq=45)
    code = f.uscc()
    resp = client.post("/api/identity/enterprises", {"name": "示范公司", "uscc": code,
                                                      "legal_representative_id_number": rep.id_number},
                       content_type="application/json")
    assert resp.status_code == 201 and resp.json()["legal_representative_name"] == rep.name
    eid = resp.json()["id"]
    assert client.get(f"/api/identity/enterprises?q={code}").json()["count"] == 1
    patch = client.patch(f"/api/identity/enterprises/{eid}", {"status": "cancelled"}, content_type="application/json")
    assert patch.json()["status_label"] == "注销"
    back = client.patch(f"/api/identity/enterprises/{eid}", {"status": "active"}, content_type="application/json")
    assert back.status_code == 422 and back.json()["code"] == "invalid_status_change"
    assert json.loads(AuditEntry.objects.filter(action="identity.enterprise.status").get().changes) == {
        "status": ["active", "cancelled"]}
