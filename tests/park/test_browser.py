"""The "Done when" flow in the system Chromium: an operator registers a tenant and a lease, provisions a
meter and writes "power above 80 kW for 5 minutes"; the meter reports over MQTT (the real broker, the
real ingest worker); the alarm appears on the open dashboard without a reload; the tenant's monthly
energy statement follows."""

import threading
import uuid
from datetime import UTC, datetime, timedelta

import orjson
import pytest

from smartgov.iot import mqtt
from smartgov.iot.ingest import TelemetryWorker
from smartgov.iot.readings import telemetry_topic
from tests import chromium, factories
from tests.park import factories as pf

pytestmark = [
    chromium.needs_chromium,
    pytest.mark.django_db(transaction=True, available_apps=[
        "django.contrib.contenttypes", "django.contrib.auth", "django.contrib.sessions", "django.contrib.messages",
        "django.contrib.staticfiles", "smartgov.core", "smartgov.accounts", "smartgov.iot", "smartgov.park"]),
]


def test_tenant_lease_meter_alarm_live_and_statement(live_server, settings):
    if not mqtt.broker_reachable():
        pytest.skip("no MQTT broker")
    p = pf.park()
    unit = pf.unit(pf.building(p), code="101")
    client = factories.staff_client(pf.admin(p))
    prefix, cid = f"t{uuid.uuid4().hex[:8]}", f"w{uuid.uuid4().hex[:8]}"
    worker_args = {"prefix": prefix, "group": f"g{uuid.uuid4().hex[:6]}", "client_id": cid, "session_expiry": 120}
    TelemetryWorker(idle_exit=0.3, **worker_args).run()  # opens the worker's persistent session
    with chromium.page_for(live_server, client, settings) as (page, errors):
        page.goto(f"{live_server.url}/park/{p.pk}/")
        page.fill("[data-testid=ent-name]", "光谷智能装备有限公司")
        page.fill("[data-testid=ent-uscc]", factories.uscc())
        page.fill("[data-testid=ent-industry]", "C3491")
        page.click("[data-testid=ent-submit]")
        page.wait_for_url("**/park/enterprises/*/")
        enterprise_url = page.url
        today = datetime.now(UTC).date()
        page.fill("[data-testid=lease-code]", "ZL-E2E-1")
        page.select_option("[data-testid=lease-units]", str(unit.pk))
        page.fill("[data-testid=lease-start]", today.replace(day=1).isoformat())
        page.fill("[data-testid=lease-end]", today.replace(day=1, year=today.year + 1).isoformat())
        page.fill("[data-testid=lease-rent]", "20000")
        page.click("[data-testid=lease-submit]")
        page.wait_for_selector("[data-testid=bill]")
        assert page.locator("[data-testid=bill]").count() >= 12
        page.goto(f"{live_server.url}/park/{p.pk}/")
        page.select_option("[data-testid=dev-kind]", "meter")
        page.fill("[data-testid=dev-code]", "em-e2e")
        page.fill("[data-testid=dev-name]", "101电表")
        page.select_option("[data-testid=dev-unit]", str(unit.pk))
        page.click("[data-testid=dev-submit]")
        secret = page.inner_text("[data-testid=device-secret]").strip()
        assert len(secret) > 20 and page.inner_text("[data-testid=device-user]") == "em-e2e"
        page.goto(f"{live_server.url}/park/{p.pk}/")
        page.fill("[data-testid=rule-name]", "功率过高")
        page.fill("[data-testid=rule-key]", "activePower")
        page.fill("[data-testid=rule-value]", "80")
        page.fill("[data-testid=rule-minutes]", "5")
        page.click("[data-testid=rule-submit]")
        page.wait_for_selector("[data-testid=alarm-count]")
        assert page.inner_text("[data-testid=alarm-count]") == "0"
        # the meter reports: 95 kW for six minutes, its counter rising
        t0 = datetime.now(UTC) - timedelta(minutes=6)
        with mqtt.Publisher(username="em-e2e", password=secret) as pub:
            infos = [pub.publish(telemetry_topic(prefix, "em-e2e"), orjson.dumps(
                {"ts": (t0 + timedelta(minutes=m)).timestamp(),
                 "values": {"activePower": 95.0, "totalActiveEnergyImport": 5000 + 95 * m / 60}}))
                for m in range(7)]
            for info in infos:
                info.wait_for_publish(10)
        worker = TelemetryWorker(idle_exit=1.0, **worker_args)
        # in a thread of its own: Playwright's sync API runs an event loop on this one, and Django refuses
        # database calls from a thread with a running loop
        runner = threading.Thread(target=worker.run)
        runner.start()
        runner.join(30)
        assert worker.stored == 7 and worker.alarms_raised == 1
        page.wait_for_function(
            "() => document.querySelector('[data-testid=alarm-count]').textContent.trim() === '1'", timeout=10000)
        assert "功率过高" in page.inner_text("[data-testid=alarms]")
        page.goto(enterprise_url)
        page.click("[data-testid=statement-submit]")
        page.wait_for_selector("[data-testid=statement-kwh]")
        assert float(page.inner_text("[data-testid=statement-kwh]")) == pytest.approx(95 * 6 / 60, abs=0.01)
        assert errors == []
