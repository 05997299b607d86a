"""Gases (entry safety, controlled atmosphere, fumigation) and inspection intervals, against printed values."""

from datetime import UTC, datetime, timedelta

import pytest

from smartgov.core.permissions import system_actor
from smartgov.grain import analysis as a
from smartgov.grain import services
from smartgov.grain.models import Alert, AlertKind, Source
from smartgov.grain.readings import WarehouseDirectory, scan_from_dict
from tests import factories
from tests.grain import factories as gf

# 粮温检测周期 as printed in 粮油储藏技术规范（试行）(国粮发〔2002〕), table 粮温检查的期限, reprinted at
# http://meeyo.cn/news/484.html: (safety, highest grain temperature ≤ 15 ℃, above 15 ℃) in days.
PRINTED_2002 = {"safe": (15, 10), "semi_safe": (10, 5), "dangerous": (5, 1)}


@pytest.mark.parametrize("safety", ["safe", "semi_safe", "dangerous"])
def test_the_printed_2002_table_is_reproduced_with_its_10_day_figure(safety):
    p = a.parameters({"check_safe_warm_days": 10})
    cool, warm = PRINTED_2002[safety]
    assert a.inspection_interval_days(safety, 15.0, False, p) == cool  # "粮温低于15℃（含15℃）"
    assert a.inspection_interval_days(safety, 15.1, False, p) == warm


def test_gb_t_29890_default_checks_safe_warm_grain_every_7_days():
    # Default: 7 days for safe grain above 15 ℃, taken as GB/T 29890-2013's figure (issue 13 asks to check 7 against
    # 10; the 2013 text was not available to print here, so this one cell is not a printed value). The rest of the
    # table is the printed one, and a hot spot means every day (our rule).
    assert a.inspection_interval_days("safe", 18.0, False) == 7
    assert a.inspection_interval_days("safe", 12.0, False) == 15
    assert a.inspection_interval_days("semi_safe", 18.0, False) == 5
    assert a.inspection_interval_days("dangerous", 12.0, False) == 5
    assert a.inspection_interval_days("safe", 12.0, True) == 1


def test_pest_and_moisture_inspection_intervals_as_printed():
    # same source: 害虫检查时间 — below 15 ℃ set locally, 15–25 ℃ at least every 15 days, above 25 ℃ every 7 days;
    # 储粮水分检测期限 — safe grain every quarter, semi-safe every month, dangerous grain at any time.
    assert a.pest_interval_days(14.0) is None
    assert a.pest_interval_days(20.0) == 15 and a.pest_interval_days(25.0) == 15
    assert a.pest_interval_days(26.0) == 7
    assert a.MOISTURE_CHECK_DAYS == {"safe": 90, "semi_safe": 30, "dangerous": None}
    plan = a.inspection_plan(safety="semi_safe", t_max=27.0, has_hot_spot=False, season_change=True)
    assert (plan["temperature_days"], plan["pest_days"], plan["moisture_days"]) == (5, 7, 30)
    assert "结露" in plan["season_reason"]


def test_entry_thresholds_come_from_the_occupational_limits():
    # GBZ 2.1-2019: PH₃ MAC 0.3 mg/m³, CO₂ PC-TWA 9000 mg/m³; converted at 25 ℃ (24.45 L/mol)
    assert a.ppm_from_mg_per_m3(0.3, 34.00) == pytest.approx(0.216, abs=0.001)
    assert a.ppm_from_mg_per_m3(9000, 44.01) == pytest.approx(5000, rel=0.001)
    assert a.DEFAULTS["ph3_entry_max_ppm"] <= a.ppm_from_mg_per_m3(0.3, 34.00)
    assert a.DEFAULTS["co2_entry_max_ppm"] <= a.ppm_from_mg_per_m3(9000, 44.01)
    # GB 8958-2006: air with less than 19.5 % oxygen is oxygen-deficient
    assert a.DEFAULTS["o2_entry_min_pct"] == 19.5


def codes(**kw):
    return {g["code"]: g["level"] for g in a.evaluate_gases(**kw)}


def test_oxygen_phosphine_and_carbon_dioxide_are_each_judged():
    assert codes(o2=20.9, co2=600, ph3=0.0) == {}
    assert codes(o2=19.5) == {}
    assert codes(o2=19.4) == {"o2_low_entry": "danger"}
    assert codes(o2=8.0) == {"o2_low_entry": "danger", "ca_low": "info"}  # 低氧 2–12 %
    assert codes(o2=1.5) == {"o2_low_entry": "danger", "ca_kill": "info"}  # 缺氧 ≤ 2 %
    assert codes(ph3=0.2) == {} and codes(ph3=0.3) == {"ph3_entry": "danger"}
    assert codes(co2=2500) == {"co2_biological": "warn"}
    assert codes(co2=6000) == {"co2_entry": "danger", "co2_biological": "warn"}


def test_fumigation_concentration_times_time():
    t0 = datetime(2026, 8, 1, tzinfo=UTC)
    day = timedelta(days=1)
    readings = [(t0, 0.0), (t0 + day, 0.1), (t0 + 2 * day, 400.0), (t0 + 3 * day, 300.0), (t0 + 4 * day, 250.0)]
    f = a.fumigation_status(readings, grain_c=22.0)
    # starts after the last reading at or below the entry limit; CT = (400+300)/2·24 + (300+250)/2·24
    assert f["since"] == t0 + 2 * day and f["ct_ppm_h"] == 15000.0 and f["held_hours"] == 48.0
    assert f["required_days"] == 21 and f["required_hours"] == 504 and not f["complete"]
    long = [(t0 + k * day, 300.0) for k in range(15)]
    assert a.fumigation_status(long, grain_c=26.0)["complete"]  # 14 days held at ≥ 25 ℃
    assert a.fumigation_status(long, grain_c=12.0)["required_days"] is None
    assert a.fumigation_status([(t0, 0.1)], grain_c=20.0) is None  # no fumigation under way


def ingest(wh, **extra):
    info = WarehouseDirectory(actor=system_actor("tests")).by_id(wh.pk)
    services.ingest_scans(actor=system_actor("test"), scans=[scan_from_dict(gf.scan_json(wh, gf.temps(wh, 14.0), **extra), info)],
                          source=Source.MQTT)


@pytest.mark.django_db
def test_low_oxygen_and_phosphine_raise_a_gas_alert_and_show_on_the_page():
    wh = gf.warehouse()
    ingest(wh, o2=18.0, ph3=1.2, co2=800.0)
    alert = Alert.objects.get(kind=AlertKind.GAS)
    assert "氧气 18% 低于 19.5%" in alert.message and "磷化氢 1.2 mL/m³ 超过进仓限值 0.2" in alert.message
    html = factories.staff_client(gf.officer(wh.depot)).get(f"/grain/warehouses/{wh.pk}/").content.decode()
    assert "人员不得进仓" in html and 'data-testid="inspection"' in html


@pytest.mark.django_db
def test_clean_air_raises_no_gas_alert_and_the_field_api_says_entry_is_safe():
    wh = gf.warehouse()
    ingest(wh, o2=20.8, ph3=0.0, co2=700.0)
    assert not Alert.objects.filter(kind=AlertKind.GAS).exists()
    body = factories.staff_client(gf.officer(wh.depot)).get(f"/api/grain/warehouses/{wh.pk}/field").json()
    assert body["scan"]["entry_safe"] is True and body["scan"]["gases"] == []
    assert body["scan"]["inspection"]["temperature_days"] == 15


@pytest.mark.django_db
def test_new_parameters_are_validated_and_a_depot_can_be_put_in_its_own_zone():
    from smartgov.core.errors import InvalidInput

    bureau = gf.bureau()
    wh = gf.warehouse(gf.depot(bureau))
    sup = gf.supervisor(bureau)
    for bad in ({"eco_zone": 8}, {"eco_zone": 2.5}, {"eco_zone_by_depot": {"X": 9}},
                {"fumigation_days": {"warm": 14}}, {"fumigation_days": {}}):
        with pytest.raises(InvalidInput):
            services.set_parameters(actor=sup, changes=bad)
    services.set_parameters(actor=sup, changes={"eco_zone_by_depot": {wh.depot.code: 7},
                                                "check_safe_warm_days": 10})
    ingest(wh, o2=20.9)
    client = factories.staff_client(gf.officer(wh.depot))
    body = client.get(f"/api/grain/warehouses/{wh.pk}/field").json()
    assert body["scan"]["inspection"]["temperature_days"] == 15  # 14 ℃ grain
    ingest_warm = gf.warehouse(gf.depot(bureau), code="P2")
    info = WarehouseDirectory(actor=system_actor("tests")).by_id(ingest_warm.pk)
    services.ingest_scans(actor=system_actor("test"), scans=[scan_from_dict(gf.scan_json(ingest_warm, gf.temps(ingest_warm, 18.0)),
                                                            info)], source=Source.MQTT)
    assert ingest_warm.scans.get().next_check_days == 10  # the 2002 table's figure, chosen as a parameter
    vent = client.get(f"/api/grain/warehouses/{wh.pk}/ventilation?air_c=5&air_rh=50").json()
    assert vent["zone"]["number"] == 7 and vent["zone"]["name"] == "高温高湿储粮区"
