"""三员分立 and department scoping, through the API, the pages and the admin."""

import pytest
from django.contrib import admin
from django.test import RequestFactory

from smartgov.accounts.models import User
from smartgov.audit.models import AuditEntry
from smartgov.core.permissions import Role
from tests import factories as f

pytestmark = pytest.mark.django_db


def test_security_admin_cannot_read_audit_entries():
    client = f.staff_client(f.user(Role.SECADMIN))
    resp = client.get("/api/audit/entries")
    assert resp.status_code == 403
    assert resp.json()["code"] == "forbidden"
    assert client.get("/audit/").status_code == 403
    assert client.get("/admin/audit/auditentry/").status_code == 403
    # it may run the integrity check, which reveals no entry
    assert client.post("/api/audit/verify").json()["ok"] is True


def test_system_admin_can_neither_read_nor_delete_audit_entries():
    sysadmin = f.user(Role.SYSADMIN)
    client = f.staff_client(sysadmin)
    assert client.get("/api/audit/entries").status_code == 403
    seq = AuditEntry.objects.order_by("-seq").values_list("seq", flat=True).first()
    assert client.post(f"/admin/audit/auditentry/{seq}/delete/", {"post": "yes"}).status_code == 403
    assert client.delete(f"/api/audit/entries/{seq}").status_code in (404, 405)
    request = RequestFactory().get("/")
    request.user = sysadmin
    model_admin = admin.site._registry[AuditEntry]
    assert not model_admin.has_delete_permission(request)
    assert AuditEntry.objects.filter(seq=seq).exists()


def test_only_the_audit_admin_reads_the_trail():
    client = f.staff_client(f.user(Role.AUDITADMIN))
    body = client.get("/api/audit/entries?action=accounts.login").json()
    assert body["count"] >= 1
    assert all(e["action"].startswith("accounts.login") for e in body["results"])
    page = client.get("/audit/")
    assert page.status_code == 200 and "审计日志" in page.content.decode()
    # but nobody deletes, not even the audit admin
    request = RequestFactory().get("/")
    request.user = f.user(Role.AUDITADMIN)
    assert not admin.site._registry[AuditEntry].has_delete_permission(request)


def test_officer_of_department_a_cannot_see_department_b_records():
    dept_a, dept_b = f.department("甲局"), f.department("乙局")
    officer_a = f.user(Role.DEPT_ADMIN, department=dept_a)
    colleague = f.user(Role.OFFICER, department=dept_a)
    stranger = f.user(Role.OFFICER, department=dept_b)
    client = f.staff_client(officer_a)
    assert client.get(f"/api/accounts/users/{colleague.pk}").status_code == 200
    resp = client.get(f"/api/accounts/users/{stranger.pk}")
    assert resp.status_code == 404 and resp.json()["code"] == "not_found"
    listed = {u["id"] for u in client.get("/api/accounts/users").json()["results"]}
    assert colleague.pk in listed and stranger.pk not in listed
    assert client.post(f"/api/accounts/users/{stranger.pk}/personal-data").status_code == 404


def test_department_admin_sees_sub_departments_but_not_parents():
    city = f.department("市局")
    county = f.department("县局", parent=city)
    admin_city = f.user(Role.DEPT_ADMIN, department=city)
    admin_county = f.user(Role.DEPT_ADMIN, department=county)
    county_officer = f.user(Role.OFFICER, department=county)
    city_officer = f.user(Role.OFFICER, department=city)
    assert f.staff_client(admin_city).get(f"/api/accounts/users/{county_officer.pk}").status_code == 200
    assert f.staff_client(admin_county).get(f"/api/accounts/users/{city_officer.pk}").status_code == 404


def test_officer_may_not_list_users_at_all():
    client = f.staff_client(f.user(Role.OFFICER))
    resp = client.get("/api/accounts/users")
    assert resp.status_code == 403 and resp.json()["message"]


def test_department_admin_cannot_create_staff_in_another_department():
    dept_a, dept_b = f.department(), f.department()
    client = f.staff_client(f.user(Role.DEPT_ADMIN, department=dept_a))
    payload = {"username": "newbie", "password": "a-long-password-1", "role": "officer",
               "department_id": dept_b.pk}
    entries = AuditEntry.objects.count()
    resp = client.post("/api/accounts/users", payload, content_type="application/json")
    assert resp.status_code == 403
    assert not User.objects.filter(username="newbie").exists() and AuditEntry.objects.count() == entries
    payload["department_id"] = dept_a.pk
    assert client.post("/api/accounts/users", payload, content_type="application/json").status_code == 201


def test_admin_add_user_goes_through_the_service_and_is_audited():
    dept = f.department()
    client = f.staff_client(f.user(Role.DEPT_ADMIN, department=dept))
    idn = f.id_number("19950505")
    resp = client.post("/admin/accounts/user/add/", {
        "username": "new_officer", "name": "新同事", "role": "officer", "department": dept.pk,
        "id_number": idn, "phone": "13600001111", "password": "a-strong-password-1"})
    assert resp.status_code == 302, resp.content.decode()[:2000]
    from smartgov.accounts.models import User

    created = User.objects.get(username="new_officer")
    assert created.id_number == idn and created.department == dept and created.is_staff
    entry = AuditEntry.objects.get(action="accounts.user.create", target_id=str(created.pk))
    assert idn not in entry.changes
    listing = client.get("/admin/accounts/user/").content.decode()
    assert idn not in listing and idn[:6] + "********" + idn[-4:] in listing


def test_department_admin_cannot_move_staff_out_of_their_scope():
    from smartgov.accounts import services
    from smartgov.core.errors import Forbidden

    mine, other = f.department(), f.department()
    admin_user = f.user(Role.DEPT_ADMIN, department=mine)
    officer = f.user(Role.OFFICER, department=mine)
    with pytest.raises(Forbidden):
        services.set_role(actor=admin_user, user=officer, role=Role.OFFICER, department=other)
    with pytest.raises(Forbidden, match="三员分立"):
        services.set_role(actor=admin_user, user=officer, role=Role.SYSADMIN)
