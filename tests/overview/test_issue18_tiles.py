"""The indicators issue 18 named last — doses in circulation, 账实相符, audit chain status, energy today — reach
the screen's data (the overview API), with their units and drill-down links, and the 运行报告."""

import datetime
import io

import orjson
import pytest
from openpyxl import load_workbook

from smartgov.audit import services as audit_services
from smartgov.core.permissions import Role, system_actor
from smartgov.grain import services as grain_services
from smartgov.overview import services
from tests import factories
from tests.grain import factories as gf

from .test_overview import city  # noqa: F401

pytestmark = pytest.mark.django_db

NEW = {"trace.doses_in_circulation": ("剂", "/trace/"), "grain.stock_agreement": ("%", "/grain/"),
       "seccloud.audit_chain": ("", "/seccloud/self-check/"), "park.energy_today": ("kWh", "/park/")}


def test_the_new_tiles_are_in_the_overview_api_and_the_report(city):  # noqa: F811
    city, a, _b = city
    wh = gf.warehouse(gf.depot(a))
    grain_services.check_stock(actor=gf.officer(wh.depot), warehouse=wh, volume_m3=4000, bulk_density_kg_m3=740)
    audit_services.verify_and_keep(actor=system_actor("test"))
    mayor = factories.user(Role.DEPT_ADMIN, department=city)

    data = orjson.loads(factories.staff_client(mayor).get("/overview/data/").content)
    tiles = {i["key"]: i for g in data["apps"] for i in g["indicators"]}
    assert {k: (tiles[k]["unit"], tiles[k]["url"]) for k in NEW} == NEW
    assert tiles["grain.stock_agreement"]["value"] == 100.0
    assert tiles["seccloud.audit_chain"]["text"] == "通过" and tiles["seccloud.audit_chain"]["value"] == 1
    assert tiles["trace.doses_in_circulation"]["value"] == 0 and tiles["park.energy_today"]["value"] == 0.0
    assert all(tiles[k]["department"] == city.path for k in NEW)

    report, _ = services.generate_report(actor=system_actor("overview.report"), department=city, period="week",
                                         today=datetime.date(2026, 12, 7))
    sheet = load_workbook(io.BytesIO(bytes(report.xlsx)))["指标"]
    figures = {row[6]: (row[2], row[3]) for row in sheet.iter_rows(min_row=5, values_only=True)}
    assert figures["grain.stock_agreement"] == (100, "%")
    assert figures["park.energy_today"] == (0, "kWh") and figures["trace.doses_in_circulation"] == (0, "剂")
    assert figures["seccloud.audit_chain"][0].startswith("通过（")
