import orjson
import pytest
from django.conf import settings
from django.db import connection
from django.test.utils import CaptureQueriesContext

from smartgov.core.permissions import system_actor
from smartgov.grain import services
from smartgov.grain.models import Alert, AlertStatus, Source
from smartgov.grain.readings import WarehouseDirectory, scan_from_dict
from tests import factories
from tests.grain import factories as gf

pytestmark = pytest.mark.django_db


def ingest(wh, t, taken_at=gf.T0, **extra):
    info = WarehouseDirectory(actor=system_actor("tests")).by_id(wh.pk)
    services.ingest_scans(actor=system_actor("test"), scans=[scan_from_dict(gf.scan_json(wh, t, taken_at, **extra), info)],
                          source=Source.MQTT)


def test_warehouse_page_shows_the_layers_with_the_hot_spot_marked_and_the_ventilation_reasoning():
    wh = gf.warehouse(rows=3, cols=4, layers=2, variety="corn", moisture=14.0)
    ingest(wh, gf.temps(wh, 20.0, p17=27.0), out_temp=8.0, out_rh=55.0)
    client = factories.staff_client(gf.officer(wh.depot))
    resp = client.get(f"/grain/warehouses/{wh.pk}/")
    assert resp.status_code == 200
    html = resp.content.decode()
    field = resp.context["field"]
    assert field["scan"]["hot"][0] | {"value": 0} == {"i": 17, "why": "margin", "value": 0, "ref": 20.58,
                                                     "layer": 1, "row": 1, "col": 1}
    assert field["scan"]["layers"][1][1][1] == 27.0 and len(field["scan"]["layers"]) == 2
    assert "1 个发热点" in html and "echarts.min.js" in html
    advice = resp.context["advice"]
    assert advice["action"] == "start" and "建议开始降温通风" in html
    assert "粮堆平衡水汽压" in html and str(advice["numbers"]["grain_vapour_pressure_hpa"]) in html


def test_warehouse_page_without_scans_says_so():
    wh = gf.warehouse()
    resp = factories.staff_client(gf.officer(wh.depot)).get(f"/grain/warehouses/{wh.pk}/")
    assert resp.status_code == 200 and "还没有粮情检测数据" in resp.content.decode()


def test_depot_staff_cannot_open_another_depots_warehouse():
    wh = gf.warehouse()
    client = factories.staff_client(gf.officer(gf.depot()))
    assert client.get(f"/grain/warehouses/{wh.pk}/").status_code == 404
    assert client.get(f"/api/grain/warehouses/{wh.pk}/field").status_code == 404


def test_supervisor_sees_every_depot_below_the_bureau_and_not_others():
    bureau = gf.bureau()
    mine = [gf.warehouse(gf.depot(bureau)) for _ in range(2)]
    other = gf.warehouse()
    ingest(mine[0], gf.temps(mine[0], 12.0, p5=18.0))
    client = factories.staff_client(gf.supervisor(bureau))
    resp = client.get("/grain/")
    assert resp.status_code == 200
    names = [d["depot"].name for d in resp.context["depots"]]
    assert sorted(names) == sorted(w.depot.name for w in mine) and other.depot.name not in names
    assert resp.context["totals"]["alerts"] == 1
    ids = [d["id"] for d in client.get("/api/grain/depots").json()["results"]]
    assert sorted(ids) == sorted(w.depot_id for w in mine)


def test_depot_keeper_resolves_an_alert_with_a_note_and_the_supervisor_cannot():
    bureau = gf.bureau()
    wh = gf.warehouse(gf.depot(bureau))
    ingest(wh, gf.temps(wh, 12.0, p5=18.0))
    alert = Alert.objects.get()
    sup = factories.staff_client(gf.supervisor(bureau))
    resp = sup.post(f"/api/grain/alerts/{alert.pk}/handle", {"status": "resolved", "note": "已翻仓"},
                    content_type="application/json")
    assert resp.status_code == 403
    keeper = factories.staff_client(gf.officer(wh.depot))
    resp = keeper.post(f"/api/grain/alerts/{alert.pk}/handle", {"status": "resolved"}, content_type="application/json")
    assert resp.status_code == 422 and resp.json()["code"] == "note_required"
    resp = keeper.post(f"/api/grain/alerts/{alert.pk}/handle", {"status": "resolved", "note": "已翻倒降温"},
                       content_type="application/json")
    assert resp.status_code == 200 and resp.json()["status"] == AlertStatus.RESOLVED
    # the hot spot seen again opens a new alert
    ingest(wh, gf.temps(wh, 12.0, p5=18.0), gf.T0 + gf.days(1))
    assert Alert.objects.filter(status=AlertStatus.OPEN).count() == 1


@pytest.mark.parametrize("path", ["/api/grain/depots", "/api/grain/warehouses", "/api/grain/alerts", "/grain/"])
def test_lists_take_a_constant_number_of_queries(path):
    bureau = gf.bureau()
    client = factories.staff_client(gf.supervisor(bureau))

    def add_depot():
        wh = gf.warehouse(gf.depot(bureau))
        ingest(wh, gf.temps(wh, 12.0, p5=18.0))

    add_depot()
    client.get(path)
    with CaptureQueriesContext(connection) as one:
        assert client.get(path).status_code == 200
    for _ in range(3):
        add_depot()
    with CaptureQueriesContext(connection) as four:
        assert client.get(path).status_code == 200
    assert len(four) == len(one), [q["sql"] for q in four.captured_queries]


def test_ventilation_api_returns_the_numbers_and_checks():
    wh = gf.warehouse(variety="wheat", moisture=12.5)
    ingest(wh, gf.temps(wh, 22.0), out_temp=20.0, out_rh=60.0)
    client = factories.staff_client(gf.officer(wh.depot))
    body = client.get(f"/api/grain/warehouses/{wh.pk}/ventilation").json()
    assert body["action"] == "not_advised" and body["numbers"]["temperature_difference_c"] == 2.0
    body = client.get(f"/api/grain/warehouses/{wh.pk}/ventilation?air_c=10&air_rh=50").json()
    assert body["action"] == "start" and all(c["passed"] for c in body["checks"])
    bad = client.get(f"/api/grain/warehouses/{wh.pk}/ventilation?air_c=10&air_rh=0")
    assert bad.status_code == 422 and bad.json()["code"] == "invalid_air"


def test_field_api_lists_faulty_points_apart_from_the_statistics():
    wh = gf.warehouse()
    ingest(wh, gf.temps(wh, 12.0, p0=85.0))
    client = factories.staff_client(gf.officer(wh.depot))
    body = client.get(f"/api/grain/warehouses/{wh.pk}/field").json()
    assert body["scan"]["faulty"] == [{"i": 0, "why": "range", "value": 85.0, "layer": 0, "row": 0, "col": 0}]
    assert body["scan"]["layers"][0][0][0] is None and body["scan"]["t_max"] == 12.0
    assert orjson.loads(orjson.dumps(body))  # plain JSON


def test_pages_are_chinese_first_with_english_available():
    bureau = gf.bureau()
    gf.warehouse(gf.depot(bureau))
    client = factories.staff_client(gf.supervisor(bureau))
    assert "粮食监管" in client.get("/grain/").content.decode()
    client.post("/i18n/setlang/", {"language": "en", "next": "/grain/"})
    html = client.get("/grain/").content.decode()
    assert "Grain supervision" in html and "Rotation due" in html


def test_back_office_lists_are_read_only_and_scoped():
    bureau = gf.bureau()
    mine = gf.warehouse(gf.depot(bureau))
    other = gf.warehouse()
    ingest(mine, gf.temps(mine))
    client = factories.staff_client(gf.supervisor(bureau))
    html = client.get("/admin/grain/warehouse/").content.decode()
    assert mine.depot.code in html and other.depot.code not in html
    assert client.get("/admin/grain/scan/").status_code == 200
    assert client.get("/admin/grain/warehouse/add/").status_code == 403


def test_supervisor_edits_parameters_on_the_page_and_depot_staff_only_read_them():
    bureau = gf.bureau()
    wh = gf.warehouse(gf.depot(bureau))
    sup = factories.staff_client(gf.supervisor(bureau))
    assert sup.post("/grain/parameters/", {"hot_margin_c": "2.5", "jump_c": "x"}).status_code == 302
    assert services.current_parameters()["hot_margin_c"] == 3.0  # a bad value: nothing saved
    sup.post("/grain/parameters/", {"hot_margin_c": "2.5"})
    assert services.current_parameters()["hot_margin_c"] == 2.5
    keeper = factories.staff_client(gf.officer(wh.depot))
    assert 'name="hot_margin_c"' not in keeper.get("/grain/parameters/").content.decode()
    keeper.post("/grain/parameters/", {"hot_margin_c": "9"})
    assert services.current_parameters()["hot_margin_c"] == 2.5


def test_each_point_has_its_position_in_the_warehouse():
    wh = gf.warehouse(rows=3, cols=4, layers=2)  # 13.5 m × 18 m, grain 3.6 m high
    client = factories.staff_client(gf.officer(wh.depot))
    positions = client.get(f"/api/grain/warehouses/{wh.pk}/field").json()["warehouse"]["positions"]
    assert len(positions) == 24
    assert positions[0] == [2.25, 2.25, 2.7]  # layer 1 (top), row 1, column 1: half a spacing in from the walls
    assert positions[23] == [11.25, 15.75, 0.9]  # bottom layer, last row and column


def test_ventilation_api_and_page_judge_every_purpose_with_end_conditions_and_the_bin_air():
    wh = gf.warehouse(variety="paddy", moisture=16.5, layers=2)
    ingest(wh, gf.temps(wh, 25.0), out_temp=24.0, out_rh=50.0, air_temp=27.0, air_rh=60.0)
    client = factories.staff_client(gf.officer(wh.depot))
    body = client.get(f"/api/grain/warehouses/{wh.pk}/ventilation").json()
    assert body["label"] == "建议开始降水通风" and body["purpose"] == "drying" and body["action"] == "start"
    assert [p["purpose"] for p in body["purposes"]] == ["drying", "cooling", "surface", "conditioning"]
    assert {p["purpose"]: p["action"] for p in body["purposes"]}["cooling"] == "not_advised"
    assert body["bin_air"] == {"air_temp": 27.0, "air_rh": 60.0, "top_layer_c": 25.0}
    assert body["zone"]["number"] == 4 and body["zone"]["name"] == "中温干燥储粮区"
    assert [e["passed"] for e in body["ends"]] == [True, True, None]
    body = client.get(f"/api/grain/warehouses/{wh.pk}/ventilation?moisture_top=16.9&moisture_bottom=16.2").json()
    assert body["ends"][2]["passed"] is False  # 0.7 points over 1.8 m: 0.39 %/m > 0.3 %/m
    running = client.get(f"/api/grain/warehouses/{wh.pk}/ventilation?purpose=drying&air_rh=90").json()
    assert running["label"] == "应停止降水通风" and running["action"] == "stop"
    bad = client.get(f"/api/grain/warehouses/{wh.pk}/ventilation?purpose=heating")
    assert bad.status_code == 422 and bad.json()["code"] == "invalid_purpose"
    html = client.get(f"/grain/warehouses/{wh.pk}/").content.decode()
    assert "建议开始降水通风" in html and "通风结束条件" in html and "中温干燥储粮区" in html
    assert 'data-purpose="conditioning"' in html


def test_the_ventilation_and_gas_sections_read_in_english():
    wh = gf.warehouse(variety="paddy", moisture=16.5, layers=2)
    ingest(wh, gf.temps(wh, 25.0), out_temp=24.0, out_rh=50.0, air_temp=27.0, air_rh=60.0, o2=18.0)
    client = factories.staff_client(gf.officer(wh.depot))
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"  # the language switch's cookie
    html = client.get(f"/grain/warehouses/{wh.pk}/").content.decode()
    for text in ("Start drying ventilation", "End conditions", "Moderate-temperature dry zone",
                 "No entry for people", "Gases and inspection intervals", "Cooling ventilation: not advised"):
        assert text in html, text


def test_ventilation_api_refuses_while_the_bin_is_being_fumigated():
    wh = gf.warehouse(variety="paddy", moisture=16.5, layers=2)
    ingest(wh, gf.temps(wh, 25.0), out_temp=24.0, out_rh=50.0, ph3=0.0)
    ingest(wh, gf.temps(wh, 25.0), gf.T0 + gf.days(1), out_temp=24.0, out_rh=50.0, ph3=320.0)
    body = factories.staff_client(gf.officer(wh.depot)).get(f"/api/grain/warehouses/{wh.pk}/ventilation").json()
    assert body["label"] == "不宜通风"
    drying = next(p for p in body["purposes"] if p["purpose"] == "drying")
    assert drying["action"] == "not_advised" and any("正在熏蒸" in c["text"] and not c["passed"]
                                                      for c in drying["checks"])
