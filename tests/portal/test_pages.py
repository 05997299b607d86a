import pytest
from django.test import Client

from smartgov.core.permissions import Role
from tests import factories as f

pytestmark = pytest.mark.django_db


def test_home_is_chinese_first_with_an_english_switch():
    client = Client()
    page = client.get("/").content.decode()
    assert "智慧政务一体化平台" in page and "一网通办" in page and 'lang="zh-CN"' in page
    client.post("/i18n/setlang/", {"language": "en", "next": "/"})
    page = client.get("/").content.decode()
    assert 'lang="en"' in page and "One-stop" in page


def test_workbench_needs_login_and_shows_the_department():
    resp = Client().get("/workbench/", follow=True)
    assert resp.redirect_chain[-1][0].startswith("/accounts/login/?next=/workbench/")
    dept = f.department("东城审批局")
    client = f.staff_client(f.user(Role.OFFICER, department=dept))
    page = client.get("/workbench/").content.decode()
    assert dept.name in page and "暂无待办" in page


def test_friendly_error_pages():
    resp = Client().get("/no-such-page/")
    assert resp.status_code == 404 and "页面不存在" in resp.content.decode()
    client = f.staff_client(f.user(Role.OFFICER))
    resp = client.get("/audit/")
    assert resp.status_code == 403 and "返回首页" in resp.content.decode()


def test_admin_for_the_system_admin_goes_through_our_two_factor_login():
    assert Client().get("/admin/login/")["Location"].startswith("/accounts/login/")
    client = f.staff_client(f.user(Role.SYSADMIN))
    assert client.get("/admin/").status_code == 200
    assert client.get("/admin/accounts/department/").status_code == 200
    assert client.get("/admin/audit/auditentry/").status_code == 403


def test_audit_admin_exports_excel():
    client = f.staff_client(f.user(Role.AUDITADMIN))
    resp = client.get("/audit/export.xlsx?action=accounts")
    assert resp.status_code == 200 and resp.content[:2] == b"PK"
    import io

    from openpyxl import load_workbook

    ws = load_workbook(io.BytesIO(resp.content)).active
    rows = list(ws.iter_rows(values_only=True))
    assert rows[0][0] == "序号" and len(rows) > 1
    assert all(r[4].startswith("accounts") for r in rows[1:])


def test_browser_language_does_not_override_chinese_first():
    page = Client(HTTP_ACCEPT_LANGUAGE="en-US,en;q=0.9").get("/").content.decode()
    assert 'lang="zh-CN"' in page
