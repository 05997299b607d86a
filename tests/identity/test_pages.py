import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from openpyxl import load_workbook

from smartgov.audit.models import AuditEntry
from smartgov.core.permissions import Role
from smartgov.identity.models import Enterprise, Person
from tests import factories as f

from .helpers import csv_bytes, person, person_row

pytestmark = [pytest.mark.django_db, pytest.mark.urls("tests.identity.urls")]


@pytest.fixture
def office():
    dept = f.department()
    return dept, f.staff_client(f.user(Role.OFFICER, department=dept))


def test_empty_list_explains_itself(office):
    _dept, client = office
    page = client.get("/identity/")
    assert page.status_code == 200 and "本部门还没有登记任何自然人" in page.content.decode()


def test_list_search_and_detail_are_masked_and_reveal_is_audited(office):
    dept, client = office
    p = person(dept, seq=51, name="钱七", phone="13812345678")
    listing = client.get("/identity/").content.decode()
    assert "钱七" in listing and p.id_number not in listing and "138****5678" in listing
    by_id = client.get("/identity/", {"q": p.id_number}).content.decode()
    assert "钱七" in by_id and AuditEntry.objects.filter(action="identity.person.lookup").count() == 1
    assert "钱七" in client.get("/identity/", {"q": "钱"}).content.decode()
    detail = client.get(f"/identity/persons/{p.pk}/").content.decode()
    assert p.id_number not in detail and "查看完整身份证号和手机号" in detail
    revealed = client.post(f"/identity/persons/{p.pk}/reveal/")
    assert p.id_number in revealed.content.decode() and revealed["Cache-Control"] == "no-store"
    assert AuditEntry.objects.filter(action="identity.person.reveal").count() == 1
    assert client.get(f"/identity/persons/{person(f.department(), seq=52).pk}/").status_code == 404


def test_register_form_shows_field_errors_and_creates(office):
    _dept, client = office
    bad = client.post("/identity/persons/new/", {"name": "孙八", "id_number": "110105194912310022", "nationality": "CHN"})
    assert bad.status_code == 200 and "校验码不正确" in bad.content.decode()
    good = client.post("/identity/persons/new/", {"name": "孙八", "id_number": f.id_number(seq=53), "nationality": "CHN"})
    assert good.status_code == 302 and Person.objects.filter(name="孙八").exists()


def test_import_page_all_or_nothing_result_and_report(office):
    _dept, client = office
    rows = [person_row(i, birth="19750505") for i in range(1, 4)]
    rows[0][5] = "999"
    upload = SimpleUploadedFile("人口.csv", csv_bytes(rows, encoding="gbk"))
    resp = client.post("/identity/import/", {"kind": "persons", "mode": "all", "file": upload})
    assert resp.status_code == 302
    result = client.get(resp["Location"]).content.decode()
    assert "本次未导入任何数据" in result and "请输入有效的11位中国大陆手机号码" in result
    report = client.get(resp["Location"] + "report.xlsx")
    sheet = load_workbook(io.BytesIO(report.content)).active
    assert ("行号", "列", "错误说明", "填写的值") in list(sheet.iter_rows(values_only=True))
    assert not Person.objects.exists()
    upload = SimpleUploadedFile("人口.csv", csv_bytes(rows, encoding="gbk"))
    resp = client.post("/identity/import/", {"kind": "persons", "mode": "valid", "file": upload})
    assert "已导入 2 行有效数据" in client.get(resp["Location"]).content.decode()
    other = f.staff_client(f.user(Role.OFFICER))
    assert other.get(resp["Location"]).status_code == 404


def test_exports_are_masked_and_audited(office):
    dept, client = office
    p = person(dept, seq=54, phone="13812345678")
    for fmt in ("xlsx", "csv"):
        resp = client.get(f"/identity/persons/export.{fmt}")
        assert resp.status_code == 200
        body = resp.content if fmt == "csv" else b"".join(
            str(c).encode() for row in load_workbook(io.BytesIO(resp.content)).active.iter_rows(values_only=True)
            for c in row)
        assert p.id_number.encode() not in body and b"13812345678" not in body
        assert (p.id_number[:6] + "********" + p.id_number[-4:]).encode() in body
    assert AuditEntry.objects.filter(action="identity.export.persons").count() == 2


def test_enterprise_pages_and_status_change(office):
    dept, client = office
    rep = person(dept, seq=55)
    resp = client.post("/identity/enterprises/new/", {"name": "示范公司", "uscc": f.uscc(),
                                                      "legal_representative_id_number": rep.id_number})
    assert resp.status_code == 302, resp.content.decode()
    e = Enterprise.objects.get()
    assert "示范公司" in client.get("/identity/enterprises/").content.decode()
    client.post(f"/identity/enterprises/{e.pk}/status/", {"status": "revoked"})
    e.refresh_from_db()
    assert e.status == "revoked"
    assert client.post(f"/identity/enterprises/{e.pk}/status/", {"status": "active"}).status_code == 422
