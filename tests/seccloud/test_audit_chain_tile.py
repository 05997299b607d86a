"""审计链状态 on the city overview (issue 18): the latest kept verification of the platform's audit trail — not a
re-hash on each look — shown on every scope; a failed one also reaches the rolling list."""

import datetime

import pytest
from django.core.management import call_command
from django.utils import timezone

from smartgov.accounts.models import Level
from smartgov.audit import selectors as audit_selectors
from smartgov.audit import services as audit_services
from smartgov.audit.models import AuditEntry, Verification
from smartgov.audit.tasks import verify_audit_trail
from smartgov.core.permissions import Role, system_actor
from smartgov.overview import selectors as overview
from smartgov.seccloud import selectors
from tests import factories
from tests.audit.test_trail import behind_the_back

pytestmark = pytest.mark.django_db


@pytest.fixture
def city():
    city = factories.department("示范市", level=Level.CITY)
    return city, factories.department("甲县", parent=city, level=Level.COUNTY)


def _tile(actor, dept):
    return next(i for i in selectors.indicators(actor=actor, department=dept) if i["key"] == "seccloud.audit_chain")


def test_the_tile_shows_the_latest_kept_verification_on_every_scope(city):
    city, county = city
    mayor = factories.user(Role.DEPT_ADMIN, department=city)
    leader = factories.user(Role.SUPERVISOR, department=county)
    tile = _tile(mayor, city)
    assert (tile["value"], tile["text"], tile["status"]) == (None, "未校验", "warn")
    assert tile["url"] == "/seccloud/self-check/"

    entries = audit_selectors.trail_length()
    assert entries > 0
    verify_audit_trail.call()  # the worker's periodic job
    tile = _tile(leader, county)
    assert (tile["value"], tile["text"], tile["text_en"], tile["status"]) == (1, "通过", "Verified", "ok")
    assert f"校验 {entries} 条" in tile["note"]
    assert AuditEntry.objects.filter(action="audit.verify").count() == 1  # keeping the result is audited


def test_a_screen_refresh_does_not_re_verify_the_trail(city, monkeypatch, settings):
    settings.OVERVIEW_CACHE_SECONDS = 0
    city, _county = city
    mayor = factories.user(Role.DEPT_ADMIN, department=city)
    audit_services.verify_and_keep(actor=system_actor("test"))

    def expensive(**kw):
        raise AssertionError("the screen must not re-hash the trail")

    monkeypatch.setattr(audit_selectors, "verify_trail", expensive)
    monkeypatch.setattr(audit_services, "verify_trail", expensive)  # its caller's own name for it
    data = overview.snapshot(mayor, city)
    [tile] = [i for g in data["apps"] for i in g["indicators"] if i["key"] == "seccloud.audit_chain"]
    assert tile["text"] == "通过"


def test_a_tampered_trail_turns_the_tile_red_and_raises_an_alert_for_every_leader(city):
    city, county = city
    leader = factories.user(Role.SUPERVISOR, department=county)
    behind_the_back("UPDATE audit_auditentry SET actor = 'mallory' WHERE seq = 2")
    with pytest.raises(Exception, match="第 2 条"):
        call_command("audit", "verify", "--no-progress")
    kept = audit_selectors.latest_verification()
    assert not kept.ok and kept.first_bad_seq == 2
    tile = _tile(leader, county)
    assert (tile["value"], tile["text"], tile["status"]) == (0, "未通过", "alert") and "第 2 条起" in tile["note"]
    [alert] = [a for a in selectors.alerts(actor=leader, department=county) if a["kind"] == "审计链校验失败"]
    assert alert["key"] == f"seccloud.audit_chain:{kept.pk}" and alert["level"] == "red"


def test_a_verification_older_than_two_periods_is_overdue(city, settings):
    settings.AUDIT_VERIFY_SECONDS = 600
    city, _county = city
    mayor = factories.user(Role.DEPT_ADMIN, department=city)
    audit_services.verify_and_keep(actor=system_actor("test"))
    assert _tile(mayor, city)["status"] == "ok"
    Verification.objects.update(checked_at=timezone.now() - datetime.timedelta(seconds=1300))  # as if the job stopped
    assert (_tile(mayor, city)["text"], _tile(mayor, city)["status"]) == ("校验过期", "warn")
