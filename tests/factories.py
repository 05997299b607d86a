"""Test data made through the real services, as the platform makes it."""

import datetime
import itertools

import pyotp
from django.test import Client

from smartgov.accounts import services
from smartgov.accounts.models import Department, Level, User
from smartgov.core.permissions import Role, system_actor
from smartgov.core.validators import id_number_check_char, org_code_check_char, uscc_check_char

PASSWORD = "correct-horse-battery-9"
_seq = itertools.count(1)


def uscc() -> str:
    body8 = f"{next(_seq):08d}"
    body = "11330100" + body8 + org_code_check_char(body8)
    return body + uscc_check_char(body)


def id_number(birth: str = "19900101", seq: int | None = None) -> str:
    first17 = f"330106{birth}{(seq if seq is not None else next(_seq)) % 1000:03d}"
    return first17 + id_number_check_char(first17)


def department(name="测试局", *, parent: Department | None = None, level=None) -> Department:
    n = next(_seq)
    level = level or (Level.CITY if parent is None else Level.COUNTY)
    return services.create_department(actor=system_actor("test"), name=f"{name}{n}", code=f"D{n}", level=level,
                                      parent=parent, uscc=uscc())


def user(role=Role.OFFICER, *, department: Department | None = None, **kw) -> User:
    n = next(_seq)
    if department is None and role in (Role.OFFICER, Role.DEPT_ADMIN, Role.SUPERVISOR):
        department = globals()["department"]()
    return services.create_user(actor=system_actor("test"), username=kw.pop("username", f"u{n}"), password=PASSWORD,
                                role=role, name=kw.pop("name", f"用户{n}"), department=department, **kw)


def totp_code(user: User) -> str:
    """A valid one-time code the user has not used yet (RFC 6238 §5.2: each time step is accepted once), so
    tests can sign one user in several times within 30 s: the current step, then the next one."""
    user.refresh_from_db()
    totp = pyotp.TOTP(user.totp_secret)
    now = totp.timecode(datetime.datetime.now(datetime.UTC))
    step = next(s for s in (now, now + 1, now - 1) if user.totp_last_step is None or s > user.totp_last_step)
    return totp.generate_otp(step)


def staff_client(user: User) -> Client:
    """A client signed in the way staff sign in: password, then the TOTP second factor. Citizens and
    enterprise users (who sign in at /eid/login/ with a one-time code) get a signed-in session directly."""
    client = Client()
    if not user.is_staff_role:
        client.force_login(user)
        return client
    resp = client.post("/accounts/login/", {"username": user.username, "password": PASSWORD})
    assert resp.status_code == 302, resp.content
    if resp["Location"].endswith("/enrol/"):
        client.get("/accounts/login/enrol/")
        user.refresh_from_db()
        resp = client.post("/accounts/login/enrol/", {"code": totp_code(user)})
    else:
        resp = client.post("/accounts/login/otp/", {"code": totp_code(user)})
    assert resp.status_code == 302, resp.content
    return client


def indicator_values(selectors, actor, department, *, queries: int) -> dict:
    """An app's overview figures as {key: value}, asserting they took exactly ``queries`` queries."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as ctx:
        got = {i["key"]: i["value"] for i in selectors.indicators(actor=actor, department=department)}
    assert len(ctx.captured_queries) == queries, ctx.captured_queries
    return got
