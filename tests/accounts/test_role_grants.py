"""三员分立: who may grant which role, the same through the API, the admin and the CLI (one service).

The system administrator manages ordinary accounts; a department administrator its own department's
staff; nobody signed in may create (or change) one of the three administrators — only the installation."""

import io
import itertools

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import Client

from smartgov.accounts.models import User
from smartgov.accounts.views import VERIFIED
from smartgov.core.permissions import ADMIN_TRIAD, STAFF_ROLES, Role
from tests import factories as f

pytestmark = pytest.mark.django_db

ALLOWED = {
    (Role.SYSADMIN, granted) for granted in (Role.CITIZEN, Role.ENTERPRISE, Role.OFFICER, Role.DEPT_ADMIN,
                                             Role.SUPERVISOR)
} | {(Role.DEPT_ADMIN, Role.OFFICER), (Role.DEPT_ADMIN, Role.DEPT_ADMIN)}
PAIRS = list(itertools.product(list(Role), list(Role)))


def _signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    if user.is_staff_role:
        session = client.session
        session[VERIFIED] = True
        session.save()
    return client


def _actor(role):
    return f.user(role, department=f.department() if role in STAFF_ROLES - ADMIN_TRIAD else None)


def _dept_for(actor, granted):
    if granted in STAFF_ROLES - ADMIN_TRIAD:
        return actor.department or f.department()
    return None


@pytest.mark.parametrize(("actor_role", "granted"), PAIRS, ids=[f"{a}-grants-{g}" for a, g in PAIRS])
def test_role_grants_through_the_api(actor_role, granted):
    actor = _actor(actor_role)
    dept = _dept_for(actor, granted)
    resp = _signed_in(actor).post("/api/accounts/users", {
        "username": f"new_{actor_role}_{granted}", "password": f.PASSWORD, "role": granted, "name": "新账号",
        "department_id": dept.pk if dept else None}, content_type="application/json")
    made = User.objects.filter(username=f"new_{actor_role}_{granted}").exists()
    if (actor_role, granted) in ALLOWED:
        assert resp.status_code == 201, resp.content
        assert made
    else:
        assert resp.status_code == 403, resp.content
        assert not made


@pytest.mark.parametrize(("actor_role", "granted"), PAIRS, ids=[f"{a}-grants-{g}" for a, g in PAIRS])
def test_role_grants_through_the_admin(actor_role, granted):
    actor = _actor(actor_role)
    dept = _dept_for(actor, granted)
    username = f"adm_{actor_role}_{granted}"
    resp = _signed_in(actor).post("/admin/accounts/user/add/", {
        "username": username, "name": "新账号", "role": granted, "department": dept.pk if dept else "",
        "password": f.PASSWORD, "id_number": "", "phone": ""})
    made = User.objects.filter(username=username).exists()
    assert made == ((actor_role, granted) in ALLOWED), resp.status_code


@pytest.mark.parametrize(("actor_role", "granted"), PAIRS, ids=[f"{a}-grants-{g}" for a, g in PAIRS])
def test_role_grants_through_the_cli(actor_role, granted, monkeypatch):
    actor = _actor(actor_role)
    dept = _dept_for(actor, granted)
    username = f"cli_{actor_role}_{granted}"
    monkeypatch.setattr("sys.stdin", io.StringIO(f.PASSWORD + "\n"))
    args = ["accounts", "create-user", "--username", username, "--role", granted, "--as", actor.username]
    if dept:
        args += ["--department", dept.code]
    if (actor_role, granted) in ALLOWED:
        call_command(*args, stdout=io.StringIO())
        assert User.objects.filter(username=username).exists()
    else:
        with pytest.raises(CommandError, match=r"role_not_allowed|permission|权限"):
            call_command(*args, stdout=io.StringIO())
        assert not User.objects.filter(username=username).exists()


@pytest.mark.parametrize("granted", sorted(ADMIN_TRIAD))
def test_the_installation_creates_the_three_administrators(granted, monkeypatch):
    monkeypatch.setattr("sys.stdin", io.StringIO(f.PASSWORD + "\n"))
    call_command("accounts", "create-user", "--username", f"inst_{granted}", "--role", granted,
                 stdout=io.StringIO())
    assert User.objects.get(username=f"inst_{granted}").role == granted


@pytest.mark.parametrize("target_role", sorted(ADMIN_TRIAD))
def test_sysadmin_cannot_promote_demote_or_disable_an_administrator(target_role):
    sysadmin = f.user(Role.SYSADMIN)
    officer, target = f.user(Role.OFFICER), f.user(target_role)
    client = _signed_in(sysadmin)
    client.post(f"/admin/accounts/user/{officer.pk}/change/", {
        "name": officer.name, "role": target_role, "department": officer.department_id, "is_active": "on"})
    client.post(f"/admin/accounts/user/{target.pk}/change/", {
        "name": target.name, "role": Role.OFFICER, "department": officer.department_id})
    officer.refresh_from_db()
    target.refresh_from_db()
    assert officer.role == Role.OFFICER
    assert target.role == target_role and target.is_active
