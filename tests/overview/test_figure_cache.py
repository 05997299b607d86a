"""The overview keeps a department's figures until the next audited write, the next day, or
OVERVIEW_CACHE_SECONDS — whichever comes first — and never serves them outside the leader's scope."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from smartgov.accounts.models import Level
from smartgov.core.errors import NotFound
from smartgov.core.permissions import Role
from smartgov.grain.models import Alert
from smartgov.overview import selectors, services
from tests import factories
from tests.overview.test_overview import figure, hot_spot

pytestmark = pytest.mark.django_db


@pytest.fixture
def county():
    city = factories.department("市政府", level=Level.CITY)
    return city, factories.department("甲县", parent=city, level=Level.COUNTY)


def _queries(fn):
    with CaptureQueriesContext(connection) as ctx:
        result = fn()
    return result, len(ctx.captured_queries)


def test_a_second_look_reads_only_the_audit_head_and_an_audited_write_shows_at_once(county):
    _, a = county
    hot_spot(a)
    leader = factories.user(Role.SUPERVISOR, department=a)
    first, cold = _queries(lambda: selectors.snapshot(leader, a))
    again, warm = _queries(lambda: selectors.snapshot(leader, a))
    assert warm == 2 < cold  # the audit head and the leader's acknowledgements
    assert again["apps"] == first["apps"] and figure(again, "grain.hot_spot_warehouses") == 1
    hot_spot(a, code="P2")  # scans are ingested through the audited service
    assert figure(selectors.snapshot(leader, a), "grain.hot_spot_warehouses") == 2


def test_a_change_without_an_audit_entry_shows_once_the_cache_seconds_passed(county, settings, monkeypatch):
    _, a = county
    hot_spot(a)
    leader = factories.user(Role.SUPERVISOR, department=a)
    assert figure(selectors.snapshot(leader, a), "grain.hot_spot_warehouses") == 1
    Alert.objects.all().delete()  # behind the platform's back: no audit entry, the head does not move
    assert figure(selectors.snapshot(leader, a), "grain.hot_spot_warehouses") == 1
    clock = selectors.time.monotonic() + settings.OVERVIEW_CACHE_SECONDS + 1
    monkeypatch.setattr(selectors.time, "monotonic", lambda: clock)
    assert figure(selectors.snapshot(leader, a), "grain.hot_spot_warehouses") == 0


def test_without_cache_seconds_every_look_computes(county, settings):
    settings.OVERVIEW_CACHE_SECONDS = 0
    _, a = county
    leader = factories.user(Role.SUPERVISOR, department=a)
    _, first = _queries(lambda: selectors.snapshot(leader, a))
    _, second = _queries(lambda: selectors.snapshot(leader, a))
    assert first == second > 2


def test_cached_figures_are_never_served_outside_the_leaders_scope(county):
    city, a = county
    b = factories.department("乙县", parent=city, level=Level.COUNTY)
    hot_spot(a)
    selectors.snapshot(factories.user(Role.SUPERVISOR, department=a), a)  # a's figures are now cached
    with pytest.raises(NotFound):
        selectors.snapshot(factories.user(Role.SUPERVISOR, department=b), a)


def test_one_leaders_acknowledgement_does_not_mark_the_cached_alerts_for_another(county):
    _, a = county
    hot_spot(a)
    first = factories.user(Role.SUPERVISOR, department=a)
    second = factories.user(Role.SUPERVISOR, department=a)
    key = selectors.snapshot(first, a)["alerts"][0]["key"]
    services.acknowledge_alert(actor=first, alert_key=key)
    assert selectors.snapshot(first, a)["alerts"] == []
    assert [x["key"] for x in selectors.snapshot(second, a)["alerts"]] == [key]
