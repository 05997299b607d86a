"""The region map in a real browser: a city leader's screen draws the demo regions and the places the apps
publish (a depot with a hot spot, a vaccination site with an excursion, a vehicle's last BeiDou position), at a
desktop's and a phone's width. Screenshots go to SMARTGOV_SCREENSHOT_DIR when it is set."""

import os
from pathlib import Path

from playwright.sync_api import expect

from smartgov.core.permissions import Role
from tests import factories as f
from tests.browser.test_onestop_flow import (  # noqa: F401
    CHROMIUM,
    audit_triggers_restored,
    browser,
    flushable,
    page_as,
    pytestmark,
)
from tests.overview.helpers import cold_chain_excursion
from tests.overview.test_map import coded, truck
from tests.overview.test_overview import hot_spot


def test_city_leader_sees_the_region_map_with_places_at_desktop_and_phone_width(live_server, browser, settings):  # noqa: F811
    from smartgov.accounts.models import Level

    settings.OVERVIEW_LIVE_POLL_S = 0.5
    city = f.department("示范市", level=Level.CITY)
    a = f.department("东城区", parent=city, level=Level.COUNTY)
    b = f.department("西城区", parent=city, level=Level.COUNTY)
    coded(city, a, b)
    hot_spot(a)
    cold_chain_excursion(b)
    truck(b, [(34.34, 108.70), (34.31, 108.78)])
    leader = f.user(Role.DEPT_ADMIN, department=city)
    client = f.staff_client(leader)
    out = os.environ.get("SMARTGOV_SCREENSHOT_DIR")
    for width, height in ((1280, 900), (390, 844)):
        page = page_as(browser, live_server, client)
        page.set_viewport_size({"width": width, "height": height})
        page.goto(live_server.url + "/overview/")
        expect(page.locator("#overview-map[data-markers='3'] canvas")).to_have_count(1)
        box = page.locator("#overview-map").bounding_box()
        assert box["width"] <= width and box["height"] >= 300
        if out:
            page.locator("#overview-map").scroll_into_view_if_needed()
            page.wait_for_timeout(600)
            page.screenshot(path=str(Path(out) / f"overview-map-{width}.png"), full_page=True)
        page.context.close()
