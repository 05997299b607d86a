"""The leaders' screen in a real browser: a department head opens it, sees the tiles of the installed apps,
a red card and a cold-chain excursion in the rolling list, clicks through to the case; a case submitted in
another session changes the tile without a reload (pushed by SSE from the live server)."""

import datetime
import re

from playwright.sync_api import expect

from smartgov.audit.services import verify_and_keep
from smartgov.core.permissions import system_actor
from smartgov.onestop.models import Application
from smartgov.workflow.models import Instance
from tests import factories as f
from tests.browser.test_onestop_flow import (  # noqa: F401
    CHROMIUM,
    audit_triggers_restored,
    browser,
    flushable,
    page_as,
    pytestmark,
)
from tests.onestop.conftest import citizen_client, officer_client, world  # noqa: F401
from tests.onestop.test_pages import act, apply_page
from tests.overview.helpers import cold_chain_excursion


def test_leader_sees_every_app_a_red_card_and_a_cold_chain_alert_and_a_new_case_arrives_live(
        world, citizen_client, officer_client, live_server, browser, settings):  # noqa: F811
    settings.OVERVIEW_LIVE_POLL_S = 0.2
    settings.OVERVIEW_LIVE_MAX_S = 20
    late = apply_page(citizen_client, world)
    act(officer_client, late, "prereview")
    act(officer_client, late, "accept")
    ten_days_ago = datetime.date.today() - datetime.timedelta(days=10)  # as if the clock had run out
    Instance.objects.filter(pk=late.instance_id).update(due_on=ten_days_ago)
    Application.objects.filter(pk=late.pk).update(due_on=ten_days_ago)
    cold_chain_excursion(world["regulator"])
    verify_and_keep(actor=system_actor("test"))  # the audit chain's kept verification

    page = page_as(browser, live_server, f.staff_client(world["chief"]))
    page.goto(live_server.url + "/overview/")
    tile = page.locator(".ov-tile[data-key='onestop.received_today'] .ov-value")
    assert tile.inner_text().startswith("1")
    apps_shown = {page.locator(".ov-tile").nth(i).get_attribute("data-key").split(".")[0]
                  for i in range(page.locator(".ov-tile").count())}
    assert {"onestop", "workflow", "trace", "grain", "licences", "audit"} <= apps_shown
    # a status tile: the audit chain in words and colour, not a number and unit
    expect(page.locator(".ov-tile.ov-status-ok[data-key='seccloud.audit_chain'] .ov-value")).to_have_text("通过")
    alerts = page.locator("#overview-alerts")
    assert late.number in alerts.inner_text() and "冷链超温" in alerts.inner_text()
    # Polled with locators, not wait_for_function: the page's CSP forbids the eval that a string predicate needs.
    expect(page.locator("#overview[data-live='on']")).to_have_count(1, timeout=15000)

    apply_page(citizen_client, world)  # another session submits a case
    expect(page.locator(".ov-tile[data-key='onestop.received_today'] .ov-value")).to_have_text(
        re.compile(r"^2"), timeout=15000)
    assert page.evaluate("performance.getEntriesByType('navigation').length") == 1  # no reload happened

    page.click(f"#overview-alerts a:has-text('{late.number}')")
    page.wait_for_url(f"**/onestop/work/{late.number}/")  # the case page (the link resolves the id)
    assert late.number in page.content()
    page.context.close()

