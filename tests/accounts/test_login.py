import pyotp
import pytest
from django.db import connection
from django.test import Client

from smartgov.audit.models import AuditEntry
from smartgov.core.permissions import Role
from tests import factories as f

pytestmark = pytest.mark.django_db


def test_staff_need_the_second_factor_before_they_are_signed_in():
    officer = f.user(Role.OFFICER)
    client = Client()
    resp = client.post("/accounts/login/", {"username": officer.username, "password": f.PASSWORD})
    assert resp.status_code == 302 and resp["Location"].endswith("/accounts/login/enrol/")
    assert client.get("/api/accounts/me").status_code == 401  # password alone is not a session
    page = client.get("/accounts/login/enrol/")
    assert b"<svg" in page.content  # the QR code to scan
    officer.refresh_from_db()
    assert client.post("/accounts/login/enrol/", {"code": "000000"}).status_code == 401
    code = pyotp.TOTP(officer.totp_secret).now()
    assert client.post("/accounts/login/enrol/", {"code": code}).status_code == 302
    assert client.get("/api/accounts/me").json()["username"] == officer.username
    # next time: password, then the code from the bound authenticator
    client2 = Client()
    resp = client2.post("/accounts/login/", {"username": officer.username, "password": f.PASSWORD})
    assert resp["Location"].endswith("/accounts/login/otp/")
    client2.post("/accounts/login/otp/", {"code": f.totp_code(officer)})
    assert client2.get("/api/accounts/me").status_code == 200


def test_totp_secret_is_encrypted_at_rest():
    officer = f.user(Role.OFFICER)
    f.staff_client(officer)
    officer.refresh_from_db()
    with connection.cursor() as cur:
        cur.execute("SELECT totp_secret FROM accounts_user WHERE id = %s", [officer.pk])
        stored = cur.fetchone()[0]
    assert len(officer.totp_secret) == 32 and officer.totp_secret not in stored and stored.startswith("v")


def test_repeated_failures_lock_the_account(settings):
    settings.LOGIN_MAX_FAILURES = 3
    citizen = f.user(Role.OFFICER)
    client = Client()
    for _ in range(3):
        resp = client.post("/accounts/login/", {"username": citizen.username, "password": "wrong-password"})
        assert resp.status_code == 401
    citizen.refresh_from_db()
    assert citizen.is_locked
    resp = client.post("/accounts/login/", {"username": citizen.username, "password": f.PASSWORD})
    assert resp.status_code == 401 and "锁定".encode() in resp.content
    assert AuditEntry.objects.filter(action="accounts.user.locked", target_id=str(citizen.pk)).exists()


def test_wrong_one_time_codes_count_towards_lockout(settings):
    settings.LOGIN_MAX_FAILURES = 2
    officer = f.user(Role.OFFICER)
    f.staff_client(officer)  # binds TOTP
    client = Client()
    client.post("/accounts/login/", {"username": officer.username, "password": f.PASSWORD})
    assert client.post("/accounts/login/otp/", {"code": "123456"}).status_code == 401
    assert client.post("/accounts/login/otp/", {"code": "654321"}).status_code == 401
    officer.refresh_from_db()
    assert officer.is_locked
    # a correct code no longer helps: the pending login was dropped
    resp = client.post("/accounts/login/otp/", {"code": pyotp.TOTP(officer.totp_secret).now()})
    assert resp.status_code == 302 and resp["Location"].endswith("/accounts/login/")


def test_security_admin_unlocks(settings):
    settings.LOGIN_MAX_FAILURES = 1
    citizen = f.user(Role.OFFICER)
    Client().post("/accounts/login/", {"username": citizen.username, "password": "nope-nope-nope"})
    citizen.refresh_from_db()
    assert citizen.is_locked
    sec = f.staff_client(f.user(Role.SECADMIN))
    assert sec.post(f"/api/accounts/users/{citizen.pk}/unlock").json()["locked"] is False
    assert Client().post("/accounts/login/", {"username": citizen.username, "password": f.PASSWORD}).status_code == 302


def test_citizens_cannot_sign_in_at_the_staff_login_with_a_password_alone():
    for role in (Role.CITIZEN, Role.ENTERPRISE):
        citizen = f.user(role)
        client = Client()
        right = client.post("/accounts/login/", {"username": citizen.username, "password": f.PASSWORD})
        wrong = client.post("/accounts/login/", {"username": citizen.username, "password": "not-the-password"})
        assert right.status_code == wrong.status_code == 401
        assert "实名（EID）登录" in right.content.decode()
        assert right.content.decode().count("用户名或密码错误") == wrong.content.decode().count("用户名或密码错误")
        assert client.get("/api/accounts/me").status_code == 401
        citizen.refresh_from_db()
        assert citizen.failed_logins == 0 and not citizen.is_locked  # no lockout of citizens from this page


def test_a_one_time_code_is_accepted_once_even_across_sessions():
    """RFC 6238 §5.2: the verifier must not accept the second attempt of the same OTP."""
    officer = f.user(Role.OFFICER)
    f.staff_client(officer)  # binds TOTP (and uses one step)
    code = f.totp_code(officer)
    first, second = Client(), Client()
    for client in (first, second):
        client.post("/accounts/login/", {"username": officer.username, "password": f.PASSWORD})
    assert first.post("/accounts/login/otp/", {"code": code}).status_code == 302
    assert second.post("/accounts/login/otp/", {"code": code}).status_code == 401
    assert second.get("/api/accounts/me").status_code == 401
    assert AuditEntry.objects.filter(action="accounts.totp.replay", target_id=str(officer.pk)).exists()
    older = pyotp.TOTP(officer.totp_secret)
    officer.refresh_from_db()
    assert second.post("/accounts/login/otp/", {"code": older.generate_otp(officer.totp_last_step - 1)}).status_code == 401


def test_citizen_sessions_expire_when_idle(settings):
    citizen = f.user(Role.CITIZEN)
    client = f.staff_client(citizen)
    assert client.get("/api/accounts/me").status_code == 200
    assert settings.SESSION_COOKIE_AGE <= 1800
    session = client.session
    session["_sg_seen"] = 0  # last seen long ago: the next request pushes the expiry forward
    session.set_expiry(None)
    session.save()
    before = client.session.get_expiry_date()
    assert client.get("/api/accounts/me").status_code == 200
    assert client.session.get_expiry_date() >= before and client.session["_sg_seen"] > 0
    session = client.session
    session.set_expiry(-1)
    session.save()
    assert client.get("/api/accounts/me").status_code == 401


def test_staff_session_without_second_factor_is_rejected():
    officer = f.user(Role.OFFICER)
    client = Client()
    client.force_login(officer)  # a session made without the TOTP step
    assert client.get("/api/accounts/me").status_code == 401
    assert client.get("/workbench/").status_code == 302


def test_login_redirect_ignores_foreign_hosts():
    officer = f.user(Role.OFFICER)
    f.staff_client(officer)
    client = Client()
    client.post("/accounts/login/?next=https://evil.example/", {"username": officer.username,
                                                               "password": f.PASSWORD})
    resp = client.post("/accounts/login/otp/", {"code": f.totp_code(officer)})
    assert resp["Location"] == "/workbench/"


def test_password_change_is_validated_and_audited():
    citizen = f.user(Role.CITIZEN)
    client = f.staff_client(citizen)
    bad = client.post("/accounts/password/", {"old_password": "wrong", "new_password": "another-pass-77",
                                              "new_password2": "another-pass-77"})
    assert bad.status_code == 422 and "原密码不正确" in bad.content.decode()
    weak = client.post("/accounts/password/", {"old_password": f.PASSWORD, "new_password": "12345678901",
                                               "new_password2": "12345678901"})
    assert weak.status_code == 422
    ok = client.post("/accounts/password/", {"old_password": f.PASSWORD, "new_password": "another-pass-77",
                                             "new_password2": "another-pass-77"})
    assert ok.status_code == 302
    citizen.refresh_from_db()
    assert citizen.check_password("another-pass-77")
    assert AuditEntry.objects.filter(action="accounts.password.change", target_id=str(citizen.pk)).count() == 1
    assert client.get("/api/accounts/me").status_code == 200  # still signed in
    assert Client().get("/admin/password_change/")["Location"].startswith("/accounts/password/")
