"""The warehouse page in the system Chromium: the layer heatmaps render, with the hot spot marked."""

import os
import shutil

import pytest

from smartgov.core.permissions import system_actor
from smartgov.grain import services
from smartgov.grain.models import Source
from smartgov.grain.readings import WarehouseDirectory, scan_from_dict
from tests import factories
from tests.grain import factories as gf

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
playwright = pytest.importorskip("playwright.sync_api", reason="playwright is a dev dependency")
pytestmark = [
    pytest.mark.skipif(not os.path.exists(CHROMIUM) and os.environ.get("CI") != "true",
                       reason="system Chromium not installed (apt-get install chromium)"),
    # a live server needs committed data; the flush leaves out the append-only audit tables
    pytest.mark.django_db(transaction=True, available_apps=[
        "django.contrib.contenttypes", "django.contrib.auth", "django.contrib.sessions", "django.contrib.messages",
        "django.contrib.staticfiles", "smartgov.core", "smartgov.accounts", "smartgov.grain"]),
]


def test_warehouse_page_draws_a_heatmap_per_layer_with_the_hot_spot_marked(live_server, settings):
    settings.STORAGES = {**settings.STORAGES,
                         "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}}
    wh = gf.warehouse(rows=3, cols=4, layers=3)
    info = WarehouseDirectory(actor=system_actor("tests")).by_id(wh.pk)
    t = gf.temps(wh, 12.0, p17=19.0)  # layer 2, row 2, column 2
    services.ingest_scans(actor=system_actor("test"), scans=[scan_from_dict(gf.scan_json(wh, t, out_temp=3, out_rh=60), info)],
                          source=Source.HTTP)
    client = factories.staff_client(gf.officer(wh.depot))
    cookie = client.cookies[django_session_cookie()]
    with playwright.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=[
            "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"])
        try:
            context = browser.new_context(viewport={"width": 1280, "height": 900})
            context.add_cookies([{"name": cookie.key, "value": cookie.value, "url": live_server.url}])
            page = context.new_page()
            errors = []
            page.on("pageerror", lambda exc: errors.append(str(exc)))
            page.goto(f"{live_server.url}/grain/warehouses/{wh.pk}/")
            page.wait_for_selector("#layers .heat canvas")
            assert page.locator("#layers .heat").count() == 3
            marked = page.evaluate("""() => Array.from(document.querySelectorAll('#layers .heat')).map(
                el => echarts.getInstanceByDom(el).getOption().series[1].data.map(d => d.value.slice(0, 2)))""")
            assert marked == [[], [[1, 1]], []]
            assert "建议开始降温通风" in page.inner_text("[data-testid=ventilation]")
            assert errors == []
        finally:
            browser.close()


def django_session_cookie():
    from django.conf import settings

    return settings.SESSION_COOKIE_NAME
