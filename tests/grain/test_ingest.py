import numpy as np
import orjson
import pytest

from smartgov.audit.models import AuditEntry
from smartgov.core.permissions import system_actor
from smartgov.grain import services
from smartgov.grain.models import Alert, AlertKind, Scan, Source
from smartgov.grain.readings import WarehouseDirectory, scan_from_dict
from tests import factories
from tests.grain import factories as gf

pytestmark = pytest.mark.django_db


def post(client, scans):
    return client.post("/api/grain/scans", orjson.dumps({"scans": scans}), content_type="application/json")


def ingest(wh, t, taken_at=gf.T0, **extra):
    info = WarehouseDirectory(actor=system_actor("tests")).by_id(wh.pk)
    return services.ingest_scans(actor=system_actor("test"), scans=[scan_from_dict(gf.scan_json(wh, t, taken_at, **extra), info)],
                                 source=Source.MQTT)


def test_http_batch_stores_each_scan_once_with_its_analysis():
    wh = gf.warehouse()
    client = factories.staff_client(gf.officer(wh.depot))
    t = gf.temps(wh, 12.0)
    t[wh.rows * wh.cols:] = 14.0  # lower layer warmer
    resp = post(client, [gf.scan_json(wh, t, air_temp=10.5, air_rh=60, out_temp=4, out_rh=70)])
    assert resp.status_code == 201, resp.content
    assert resp.json()["stored"] == 1 and resp.json()["points"] == wh.points
    scan = Scan.objects.get()
    assert np.array_equal(scan.temperature_array(), t)
    assert (scan.t_max, scan.t_min, scan.t_mean) == (14.0, 12.0, 13.0)
    assert orjson.loads(scan.layer_stats) == [[12.0, 12.0, 12.0], [14.0, 14.0, 14.0]]
    assert scan.temp_class == "low" and scan.air_rh == 60

    replay = post(client, [gf.scan_json(wh, t)])
    assert replay.json() | {"batch": ""} == {"received": 1, "stored": 0, "duplicates": 1, "points": 0,
                                             "alerts": 0, "batch": ""}
    assert Scan.objects.count() == 1


def test_a_bad_scan_rejects_the_whole_batch_and_stores_nothing():
    wh = gf.warehouse()
    client = factories.staff_client(gf.officer(wh.depot))
    good = gf.scan_json(wh, gf.temps(wh))
    short = gf.scan_json(wh, gf.temps(wh), gf.T0 + gf.days(1))
    short["temps"] = short["temps"][:-1]
    audit_before = AuditEntry.objects.count()
    resp = post(client, [good, short])
    assert resp.status_code == 422
    body = resp.json()
    assert body["code"] == "invalid_scan" and body["detail"]["index"] == 1 and "第 2 次检测" in body["message"]
    assert Scan.objects.count() == 0 and AuditEntry.objects.count() == audit_before


@pytest.mark.parametrize(("patch", "code"), [
    ({"taken_at": "yesterday"}, "invalid_scan"),
    ({"out_rh": 130}, "invalid_scan"),
    ({"temps": "hot"}, "invalid_scan"),
    ({"warehouse": 999999}, "warehouse_not_found"),
])
def test_invalid_readings_get_a_stable_code(patch, code):
    wh = gf.warehouse()
    client = factories.staff_client(gf.officer(wh.depot))
    resp = post(client, [gf.scan_json(wh, gf.temps(wh)) | patch])
    assert resp.status_code == 422 and resp.json()["code"] == code
    assert Scan.objects.count() == 0


def test_not_json_is_a_400_with_a_code():
    wh = gf.warehouse()
    client = factories.staff_client(gf.officer(wh.depot))
    resp = client.post("/api/grain/scans", b"{not json", content_type="application/json")
    assert resp.status_code == 422 and resp.json()["code"] == "invalid_json"


def test_depot_staff_cannot_push_readings_for_another_depot_nor_tell_it_from_a_missing_one():
    wh = gf.warehouse()
    other = gf.depot()
    client = factories.staff_client(gf.officer(other))
    foreign = post(client, [gf.scan_json(wh, gf.temps(wh))])
    missing_id = wh.pk + 10_000
    missing = post(client, [{**gf.scan_json(wh, gf.temps(wh)), "warehouse": missing_id}])
    assert foreign.status_code == missing.status_code == 422
    body = foreign.json()
    assert body["code"] == missing.json()["code"] == "warehouse_not_found"
    assert body["message"] == missing.json()["message"]
    assert body["detail"] == {**missing.json()["detail"], "warehouse": wh.pk}  # only the ID asked for differs
    by_code = client.post("/api/grain/scans", orjson.dumps({"scans": [{**gf.scan_json(wh, gf.temps(wh)),
                                                                       "warehouse": None, "depot": wh.depot.code,
                                                                       "warehouse_code": wh.code}]}),
                          content_type="application/json")
    assert by_code.status_code == 422 and by_code.json()["code"] == "warehouse_not_found"
    assert Scan.objects.count() == 0


def test_supervisor_may_not_push_readings():
    bureau = gf.bureau()
    wh = gf.warehouse(gf.depot(bureau))
    resp = post(factories.staff_client(gf.supervisor(bureau)), [gf.scan_json(wh, gf.temps(wh))])
    assert resp.status_code == 403 and resp.json()["code"] == "forbidden"


def test_one_audit_entry_per_batch_not_per_point():
    wh = gf.warehouse()
    client = factories.staff_client(gf.officer(wh.depot))
    before = AuditEntry.objects.count()
    post(client, [gf.scan_json(wh, gf.temps(wh), gf.T0 + gf.days(n)) for n in range(5)])
    entries = list(AuditEntry.objects.order_by("seq")[before:])
    assert [e.action for e in entries] == ["grain.scan.ingest"]
    changes = orjson.loads(entries[0].changes)
    assert changes["stored"] == 5 and changes["points"] == 5 * wh.points and changes["source"] == "http"


def test_point_above_its_layer_mean_by_the_margin_is_a_hot_spot_and_raises_one_alert():
    wh = gf.warehouse(rows=3, cols=4, layers=2)
    t = gf.temps(wh, 12.0, p5=17.0)  # layer mean = (11*12 + 17)/12 = 12.42; 17 − 12.42 ≥ 3
    result = ingest(wh, t)
    assert result.alerts == 1
    hot = orjson.loads(Scan.objects.get().hot)
    assert [(h["i"], h["why"]) for h in hot] == [(5, "margin")]
    alert = Alert.objects.get()
    assert alert.kind == AlertKind.HOT_SPOT and "第1层2行2列" in alert.message and alert.points[0]["i"] == 5
    assert Scan.objects.get().next_check_days == 1
    # the next scan with the same hot spot refreshes the open alert instead of opening another
    ingest(wh, t, gf.T0 + gf.days(1))
    alert.refresh_from_db()
    assert Alert.objects.count() == 1 and alert.scans == 2


def test_point_just_below_the_margin_is_not_a_hot_spot():
    wh = gf.warehouse(rows=3, cols=4, layers=2)
    ingest(wh, gf.temps(wh, 12.0, p5=15.0))  # 15 − 12.25 = 2.75 < 3
    assert orjson.loads(Scan.objects.get().hot) == [] and not Alert.objects.exists()


def test_margin_is_a_parameter():
    wh = gf.warehouse()
    services.set_parameters(actor=gf.supervisor(wh.depot.department.parent), changes={"hot_margin_c": 2.0})
    ingest(wh, gf.temps(wh, 12.0, p5=15.0))
    assert orjson.loads(Scan.objects.get().hot)[0]["i"] == 5


def test_out_of_range_sensor_is_faulty_and_left_out_of_the_statistics():
    wh = gf.warehouse()
    ingest(wh, gf.temps(wh, 12.0, p0=85.0, p1=None))
    scan = Scan.objects.get()
    assert scan.t_max == 12.0  # 85 °C (a DS18B20 fault value) does not count
    assert [(f["i"], f["why"]) for f in orjson.loads(scan.faulty)] == [(0, "range"), (1, "missing")]
    assert Alert.objects.get().kind == AlertKind.FAULTY
    assert orjson.loads(scan.hot) == []


def test_a_sensor_that_jumps_between_scans_is_faulty_not_a_hot_spot():
    wh = gf.warehouse()
    ingest(wh, gf.temps(wh, 12.0))
    ingest(wh, gf.temps(wh, 12.1, p3=24.0), gf.T0 + gf.days(1))
    last = Scan.objects.order_by("-taken_at").first()
    assert [(f["i"], f["why"]) for f in orjson.loads(last.faulty)] == [(3, "jump")]
    assert orjson.loads(last.hot) == []


def test_a_sensor_stuck_at_one_value_while_its_layer_warms_is_found_after_five_scans():
    wh = gf.warehouse()
    for n in range(5):
        t = gf.temps(wh, 12.0 + 0.3 * n, p7=13.3)  # the layer's mean moves 1.2 °C in four steps
        ingest(wh, t, gf.T0 + gf.days(n))
    faulty = [orjson.loads(s.faulty) for s in Scan.objects.order_by("taken_at")]
    assert faulty[:4] == [[], [], [], []]
    assert [(f["i"], f["why"]) for f in faulty[4]] == [(7, "stuck")]


def test_a_point_rising_faster_than_the_rate_is_flagged():
    wh = gf.warehouse()
    ingest(wh, gf.temps(wh, 12.0, p2=12.0))
    ingest(wh, gf.temps(wh, 12.0, p2=14.5), gf.T0 + gf.days(2))  # 1.25 °C/day > 1.0, below the margin
    last = Scan.objects.order_by("-taken_at").first()
    assert [(h["i"], h["why"], h["rate"]) for h in orjson.loads(last.hot)] == [(2, "rise", 1.25)]
    assert Alert.objects.get().kind == AlertKind.RISING


def test_scans_arriving_out_of_order_compare_with_the_scan_before_them():
    wh = gf.warehouse()
    ingest(wh, gf.temps(wh, 12.0, p2=14.5), gf.T0 + gf.days(2))
    ingest(wh, gf.temps(wh, 12.0), gf.T0)  # older scan arrives late: no previous scan to compare with
    first = Scan.objects.order_by("taken_at").first()
    assert orjson.loads(first.hot) == []


def test_temperature_class_and_inspection_interval_follow_mean_max_and_moisture():
    wh = gf.warehouse(moisture=13.5)  # wheat, safe ≤ 12.5 → semi-safe
    ingest(wh, gf.temps(wh, 18.0))
    scan = Scan.objects.get()
    assert scan.temp_class == "quasi_low" and scan.next_check_days == 5
    wh2 = gf.warehouse(moisture=12.0)
    ingest(wh2, gf.temps(wh2, 14.0))
    scan2 = Scan.objects.get(warehouse=wh2)
    assert scan2.temp_class == "low" and scan2.next_check_days == 15


def test_an_unchanged_reading_in_a_quiet_layer_is_not_called_stuck():
    wh = gf.warehouse()
    for n in range(7):  # deep grain: the point holds while its neighbours jitter at the sensors' resolution
        ingest(wh, gf.temps(wh, 12.0 + 0.1 * (n % 2), p7=12.0), gf.T0 + gf.days(n))
    assert all(orjson.loads(s.faulty) == [] for s in Scan.objects.all())
