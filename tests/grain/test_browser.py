"""The warehouse page in the system Chromium: the layer heatmaps render, with the hot spot marked."""

import pytest

from smartgov.core.permissions import system_actor
from smartgov.grain import services
from smartgov.grain.models import Source
from smartgov.grain.readings import WarehouseDirectory, scan_from_dict
from tests import chromium, factories
from tests.grain import factories as gf

pytestmark = [
    chromium.needs_chromium,
    # a live server needs committed data; the flush leaves out the append-only audit tables
    pytest.mark.django_db(transaction=True, available_apps=[
        "django.contrib.contenttypes", "django.contrib.auth", "django.contrib.sessions", "django.contrib.messages",
        "django.contrib.staticfiles", "smartgov.core", "smartgov.accounts", "smartgov.grain"]),
]


def test_warehouse_page_draws_a_heatmap_per_layer_with_the_hot_spot_marked(live_server, settings):
    wh = gf.warehouse(rows=3, cols=4, layers=3)
    info = WarehouseDirectory(actor=system_actor("tests")).by_id(wh.pk)
    t = gf.temps(wh, 12.0, p17=19.0)  # layer 2, row 2, column 2
    services.ingest_scans(actor=system_actor("test"), scans=[scan_from_dict(gf.scan_json(wh, t, out_temp=3, out_rh=60), info)],
                          source=Source.HTTP)
    client = factories.staff_client(gf.officer(wh.depot))
    with chromium.page_for(live_server, client, settings) as (page, errors):
        page.goto(f"{live_server.url}/grain/warehouses/{wh.pk}/")
        page.wait_for_selector("#layers .heat canvas")
        assert page.locator("#layers .heat").count() == 3
        marked = page.evaluate("""() => Array.from(document.querySelectorAll('#layers .heat')).map(
            el => echarts.getInstanceByDom(el).getOption().series[1].data.map(d => d.value.slice(0, 2)))""")
        assert marked == [[], [[1, 1]], []]
        assert "建议开始降温通风" in page.inner_text("[data-testid=ventilation]")
        assert errors == []

