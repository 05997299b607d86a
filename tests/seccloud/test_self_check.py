"""等保 2.0 self-check: items evaluated from live configuration with evidence, score, PDF report,
department questionnaires, and an audit verification failure raising the critical rule."""

import pytest

from smartgov.core.errors import Forbidden
from smartgov.core.permissions import Role
from smartgov.seccloud import selfcheck
from smartgov.seccloud.models import Alert
from tests import factories

from .factories import ADMIN, load_pack


def _items(check):
    return {i["code"]: i for i in check.items}


@pytest.mark.django_db
def test_items_follow_the_live_configuration(settings):
    for role in (Role.SYSADMIN, Role.SECADMIN, Role.AUDITADMIN):
        factories.user(role)
    settings.SESSION_COOKIE_SECURE = settings.CSRF_COOKIE_SECURE = False
    check = selfcheck.run_self_check(actor=ADMIN)
    items = _items(check)
    assert items["cookies"]["passed"] is False and "SESSION_COOKIE_SECURE=False" in items["cookies"]["evidence"]
    assert items["lockout"]["passed"] and items["password"]["passed"] and items["session"]["passed"]
    assert items["retention"]["passed"] and items["audit_chain"]["passed"] and items["crypto_kat"]["passed"]
    assert items["pii_encrypted"]["passed"] and "accounts.User.id_number" in items["pii_encrypted"]["evidence"]
    assert items["triad"]["passed"]
    assert 0 < check.score < 100 and len(check.items) == len(selfcheck.CHECKS)

    settings.SESSION_COOKIE_SECURE = settings.CSRF_COOKIE_SECURE = True
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    settings.SECURE_HSTS_SECONDS = 31536000
    settings.LOGIN_MAX_FAILURES = 50
    settings.SECCLOUD_RETENTION_DAYS = 90
    items = _items(selfcheck.run_self_check(actor=ADMIN))
    assert items["cookies"]["passed"] and items["tls"]["passed"]
    assert not items["lockout"]["passed"] and not items["retention"]["passed"]


@pytest.mark.django_db
def test_missing_triad_role_fails_the_item():
    factories.user(Role.SYSADMIN)
    assert not _items(selfcheck.run_self_check(actor=ADMIN))["triad"]["passed"]


@pytest.mark.django_db
def test_audit_chain_failure_is_reported_and_raises_the_critical_rule(monkeypatch):
    from smartgov.audit import services as audit_services  # where the self-check's verification calls it

    load_pack()
    factories.department()
    real = audit_services.verify_trail

    def broken(**kw):
        result = real(**kw)
        result.fail(1, "entry 1: hash mismatch")
        return result

    monkeypatch.setattr(audit_services, "verify_trail", broken)
    items = _items(selfcheck.run_self_check(actor=ADMIN))
    assert not items["audit_chain"]["passed"] and "hash mismatch" in items["audit_chain"]["evidence"]
    alert = Alert.objects.get(rule__title="审计日志链校验失败")
    assert alert.severity == "critical" and alert.incident is not None


@pytest.mark.django_db
def test_report_pdf_downloads_and_questionnaire_scores():
    secadmin = factories.user(Role.SECADMIN)
    client = factories.staff_client(secadmin)
    resp = client.post("/seccloud/self-check/", {"op": "run"})
    assert resp.status_code == 302
    check_id = int(resp["Location"].rsplit("=", 1)[1])
    pdf = client.get(f"/seccloud/self-check/{check_id}.pdf")
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF") and pdf["Content-Type"] == "application/pdf"

    dept = factories.department()
    admin = factories.user(Role.DEPT_ADMIN, department=dept)
    check = selfcheck.assess_system(actor=admin, department=dept, system_name="不动产登记系统",
                                    answers={"2fa": True, "audit": True, "pii": False})
    assert check.score == round(100 * 2 / len(selfcheck.QUESTIONS))
    other = factories.user(Role.DEPT_ADMIN, department=factories.department())
    with pytest.raises(Forbidden):
        selfcheck.assess_system(actor=other, department=dept, system_name="x", answers={})
    assert factories.staff_client(other).get(f"/seccloud/self-check/{check.pk}.pdf").status_code == 404
