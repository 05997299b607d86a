"""Visitors in the system Chromium: an officer pre-registers a visitor, opens the QR pass, and the gate
panel checks the pass in without a page reload (htmx) — the log below updates itself; a second scan is
refused in place. At 1280 px and on a 390 px phone the page has no horizontal overflow."""

import os
from pathlib import Path

import pytest

from tests import chromium, factories
from tests.park import factories as pf

pytestmark = [
    chromium.needs_chromium,
    pytest.mark.django_db(transaction=True, available_apps=[
        "django.contrib.contenttypes", "django.contrib.auth", "django.contrib.sessions", "django.contrib.messages",
        "django.contrib.staticfiles", "smartgov.core", "smartgov.accounts", "smartgov.iot", "smartgov.park"]),
]
SHOTS = os.environ.get("SMARTGOV_SCREENSHOTS", "")  # a folder to keep the screenshots in, when set


def _no_overflow(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= document.documentElement.clientWidth + 1")


def test_officer_registers_a_visitor_and_the_gate_checks_the_pass_in_place(live_server, settings):
    p = pf.park()
    pf.enterprise(p, name="光谷智能装备有限公司")
    client = factories.staff_client(pf.admin(p))  # the admin sees every form of the dashboard too
    with chromium.page_for(live_server, client, settings) as (page, errors):
        page.goto(f"{live_server.url}/park/{p.pk}/visitors/")
        page.select_option("[data-testid=visit-enterprise]", label="光谷智能装备有限公司")
        page.fill("[data-testid=visit-name]", "张三丰")
        page.fill("[data-testid=visit-phone]", "13812345678")
        page.fill("[data-testid=visit-id]", factories.id_number())
        page.click("[data-testid=visit-submit]")
        page.wait_for_url("**/park/visits/*/")
        assert page.locator("[data-testid=visit-qr] svg").count() == 1
        assert page.inner_text("[data-testid=visit-phone]") == "138****5678"
        if SHOTS:
            Path(SHOTS).mkdir(parents=True, exist_ok=True)
            page.screenshot(path=f"{SHOTS}/park-visit-pass-1280.png", full_page=True)
        token = page.inner_text("[data-testid=visit-token]").strip()
        page.goto(f"{live_server.url}/park/{p.pk}/visitors/")
        page.fill("[data-testid=gate-token]", token)
        page.fill("[data-testid=gate-name]", "东门1号")
        page.click("[data-testid=gate-in]")
        page.wait_for_selector("[data-testid=gate-ok]")
        page.locator("[data-testid=visit-log]", has_text="东门1号").wait_for()  # the log reloaded itself
        page.locator("[data-testid=visitors-on-site]", has_text="1").wait_for()  # and today's figures
        page.click("[data-testid=gate-in]")  # the same pass again
        page.wait_for_selector("[data-testid=gate-refused]")
        assert "不能重复使用" in page.inner_text("[data-testid=gate-result]")
        assert "13812345678" not in page.content()
        assert _no_overflow(page)
        if SHOTS:
            Path(SHOTS).mkdir(parents=True, exist_ok=True)
            page.screenshot(path=f"{SHOTS}/park-visitors-1280.png", full_page=True)
        page.set_viewport_size({"width": 390, "height": 844})
        page.reload()
        assert _no_overflow(page)
        if SHOTS:
            page.screenshot(path=f"{SHOTS}/park-visitors-390.png", full_page=True)
        page.goto(f"{live_server.url}/park/{p.pk}/")
        assert _no_overflow(page)  # the dashboard with its new panels fits a phone too
        if SHOTS:
            page.screenshot(path=f"{SHOTS}/park-dashboard-390.png", full_page=True)
            page.set_viewport_size({"width": 1280, "height": 900})
            page.reload()
            page.screenshot(path=f"{SHOTS}/park-dashboard-1280.png", full_page=True)
        assert errors == []
