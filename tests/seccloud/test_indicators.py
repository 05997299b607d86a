"""安全云 figures and alerts for the city overview: open incidents by severity, alerts per day, and the
high/critical incidents in the leaders' rolling list — scoped to the department tree."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from smartgov.core.errors import NotFound
from smartgov.core.permissions import Role
from smartgov.seccloud import selectors, services
from smartgov.seccloud.models import Incident
from tests import factories

from .factories import ADMIN, http_source, load_pack, send

pytestmark = pytest.mark.django_db


def test_open_incidents_by_severity_alerts_today_and_the_rolling_list():
    load_pack()
    dept_a, dept_b = factories.department(), factories.department()
    src_a, _ = http_source(dept_a)
    send(src_a, ['{"action": "accounts.user.set_role", "user": "x"}'], kind="json")
    incident = Incident.objects.get()
    leader_a = factories.user(Role.SUPERVISOR, department=dept_a)
    leader_b = factories.user(Role.SUPERVISOR, department=dept_b)

    with CaptureQueriesContext(connection) as ctx:
        got = {i["key"]: i for i in selectors.indicators(actor=leader_a, department=dept_a)}
    assert len(ctx.captured_queries) == 3  # incidents, alerts per day, the latest kept audit-chain verification
    assert got["seccloud.open_incidents"]["value"] == 1
    assert got["seccloud.open_incidents"]["breakdown"] == [
        {"name": selectors.SEVERITY_LABELS[incident.severity], "value": 1}]
    assert got["seccloud.alerts_today"]["value"] == incident.alerts.count() >= 1
    assert incident.severity == "medium" and selectors.alerts(actor=leader_a, department=dept_a) == []
    Incident.objects.filter(pk=incident.pk).update(severity="high")  # as a later high alert escalates it
    rolling = selectors.alerts(actor=leader_a, department=dept_a)
    assert [a["key"] for a in rolling] == [f"seccloud.incident:{incident.pk}"]
    assert rolling[0]["url"] == f"/seccloud/incidents/{incident.pk}/" and rolling[0]["title"].startswith("高 · ")

    other = {i["key"]: i["value"] for i in selectors.indicators(actor=leader_b, department=dept_b)}
    assert other["seccloud.open_incidents"] == 0 and other["seccloud.alerts_today"] == 0
    with pytest.raises(NotFound):
        selectors.indicators(actor=leader_b, department=dept_a)

    services.set_incident_status(actor=ADMIN, incident=incident, status="closed", note="已处置")
    closed = {i["key"]: i["value"] for i in selectors.indicators(actor=leader_a, department=dept_a)}
    assert closed["seccloud.open_incidents"] == 0 and selectors.alerts(actor=leader_a, department=dept_a) == []
