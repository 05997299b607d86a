"""Equilibrium moisture (ASAE D245.6 equations) with worked values, and the ventilation rules."""

import math

import pytest

from smartgov.grain import ventilation as v

# --- Equilibrium moisture against values printed by others (ASAE D245.6 and tables computed from it) ---

# Issue 13 quotes ASAE D245.6 at 10 °C and 60 % RH: corn (modified Chung-Pfost) about 16.0 % d.b.,
# rough rice (modified Henderson) about 15.2 % d.b.
def test_d245_corn_chung_pfost_and_rough_rice_henderson_at_10c_60pct():
    assert v.chung_pfost_emc("corn", 10.0, 0.60) == pytest.approx(16.0, abs=0.1)
    assert v.henderson_emc("paddy", 10.0, 0.60) == pytest.approx(15.2, abs=0.1)
    # the old coefficients gave 13.9 and 16.3: corn and paddy no longer share C = 35.703
    assert v.CHUNG_PFOST["corn"][2] != v.CHUNG_PFOST["paddy"][2]


# Airstream 18 owner's manual, p. 18, "Equilibrium moisture table for shelled corn, % wet basis (values
# calculated from the Henderson-Thompson equation)", https://manualsdump.com/en/manuals/airstream-18model/37962/18
# Rows °F, columns RH 10 … 90 %; printed to one decimal.
AIRSTREAM_CORN_WB = """
35 5.2 7.6 9.5 11.3 13.0 14.8 16.8 19.1 22.2
40 5.0 7.4 9.3 11.0 12.7 14.5 16.4 18.7 21.7
45 4.9 7.2 9.0 10.8 12.4 14.2 16.0 18.3 21.3
50 4.8 7.0 8.8 10.5 12.2 13.9 15.7 17.9 20.9
55 4.7 6.9 8.6 10.3 11.9 13.6 15.4 17.5 20.5
60 4.6 6.7 8.5 10.1 11.7 13.3 15.1 17.2 20.1
65 4.5 6.6 8.3 9.9 11.4 13.0 14.8 16.9 19.7
70 4.4 6.4 8.1 9.7 11.2 12.8 14.5 16.6 19.4
75 4.3 6.3 8.0 9.5 11.0 12.6 14.3 16.3 19.1
80 4.2 6.2 7.8 9.3 10.8 12.4 14.0 16.0 18.8
85 4.2 6.1 7.7 9.2 10.6 12.1 13.8 15.8 18.5
90 4.1 6.0 7.6 9.0 10.5 12.0 13.6 15.5 18.2
95 4.0 5.9 7.4 8.9 10.3 11.8 13.4 15.3 17.9
100 3.9 5.8 7.3 8.7 10.1 11.6 13.2 15.1 17.7
"""


def _airstream_cells():
    for line in AIRSTREAM_CORN_WB.strip().splitlines():
        f, *values = (float(x) for x in line.split())
        for k, printed in enumerate(values):
            yield (f - 32) / 1.8, (k + 1) / 10, printed


def test_corn_henderson_reproduces_every_cell_of_a_printed_emc_table():
    cells = list(_airstream_cells())
    assert len(cells) == 126
    for t_c, rh, printed_wb in cells:
        ours = v.dry_to_wet(v.henderson_emc("corn", t_c, rh))  # the equation gives d.b.; the table is w.b.
        assert abs(ours - printed_wb) <= 0.05 + 1e-9, (t_c, rh, printed_wb, ours)


def test_equilibrium_relative_humidity_reads_the_printed_table_backwards():
    # 50 °F and 13.9 % w.b. were printed under 60 % RH; 35 °F and 22.2 % w.b. under 90 %. One printed decimal
    # of moisture is worth about ±0.3 % RH here.
    assert v.henderson_erh("corn", 10.0, v.wet_to_dry(13.9)) == pytest.approx(0.60, abs=0.004)
    assert v.henderson_erh("corn", (35 - 32) / 1.8, v.wet_to_dry(22.2)) == pytest.approx(0.90, abs=0.003)


# Brooker, Bakker-Arkema & Hall, Drying and Storage of Grains and Oilseeds (1992), table 3.5, print the same
# Chung-Pfost fits as M = E − F ln[−(T + C) ln RH] (M decimal d.b.); the same E, F, C (to four places) are in
# Rizoma's grove_sht31.cpp (github, MIT). A = exp(E/F), B = 1/(100 F).
@pytest.mark.parametrize(("variety", "e", "f", "c"), [
    ("corn", 0.33872, 0.05897, 30.205),
    ("paddy", 0.29394, 0.046015, 35.703),
    ("soybean", 0.41631, 0.071853, 100.288),
])
def test_chung_pfost_coefficients_agree_with_the_e_f_printing(variety, e, f, c):
    a, b, cc = v.CHUNG_PFOST[variety]
    assert cc == c
    assert a == pytest.approx(math.exp(e / f), rel=1e-3)
    assert b == pytest.approx(1 / (100 * f), rel=1e-3)
    for t in (0.0, 10.0, 25.0):
        for rh in (0.4, 0.6, 0.8):
            printed_form = 100 * (e - f * math.log(-(t + c) * math.log(rh)))
            assert v.chung_pfost_emc(variety, t, rh) == pytest.approx(printed_form, abs=0.02)


def test_wet_and_dry_basis_conversions():
    # M_db = 100 M_wb / (100 − M_wb): 14 % w.b. is 16.28 % d.b.; 20 % d.b. is 16.67 % w.b.
    assert v.wet_to_dry(14.0) == pytest.approx(16.279, abs=0.001)
    assert v.dry_to_wet(20.0) == pytest.approx(16.667, abs=0.001)
    assert v.dry_to_wet(v.wet_to_dry(16.5)) == pytest.approx(16.5, abs=1e-12)


@pytest.mark.parametrize("variety", ["corn", "wheat", "paddy", "soybean"])
def test_equilibrium_rh_is_the_inverse_of_equilibrium_moisture(variety):
    for t in (0.0, 15.0, 30.0):
        for rh in (0.4, 0.65, 0.9):
            assert v.henderson_erh(variety, t, v.henderson_emc(variety, t, rh)) == pytest.approx(rh, abs=1e-9)
            assert v.chung_pfost_erh(variety, t, v.chung_pfost_emc(variety, t, rh)) == pytest.approx(rh, abs=1e-9)


def test_equilibrium_moisture_falls_as_air_warms():
    assert v.henderson_emc("wheat", 5, 0.7) > v.henderson_emc("wheat", 25, 0.7)


def test_dew_point_and_vapour_pressure():
    assert v.saturation_vapour_pressure_hpa(20.0) == pytest.approx(23.33, abs=0.01)
    assert v.dew_point_c(20.0, 0.5) == pytest.approx(9.26, abs=0.01)
    assert v.dew_point_c(12.0, 1.0) == pytest.approx(12.0, abs=1e-9)


def advice(**kw):
    base = {"variety": "corn", "grain_mean_c": 25.0, "grain_moisture_wb": 14.0, "air_c": 12.0, "air_rh_pct": 60.0}
    return v.ventilation_advice(**(base | kw))


def test_cool_dry_air_eight_degrees_below_the_grain_starts_cooling_ventilation():
    a = advice()
    assert a.action == "start" and a.allowed
    assert a.numbers["temperature_difference_c"] == 13.0 and a.numbers["required_difference_c"] == 8.0
    assert a.numbers["air_vapour_pressure_hpa"] < a.numbers["grain_vapour_pressure_hpa"]
    assert all(ok for ok, _ in a.checks)
    assert any("13.0℃ ≥ 8℃" in text for _, text in a.checks)


def test_six_degrees_is_too_little_to_start_but_enough_to_continue():
    assert advice(air_c=19.0).action == "not_advised"
    assert advice(air_c=19.0, ventilating=True).action == "continue"
    assert advice(air_c=22.0, ventilating=True).action == "stop"  # 3 °C < 4 °C


def test_no_ventilation_in_rain_or_fog():
    assert advice(raining=True).action == "not_advised"
    fog = advice(air_rh_pct=97.0)
    assert fog.action == "not_advised" and any(not ok and "雾" in text for ok, text in fog.checks)


def test_air_that_would_wet_dry_grain_is_refused_even_when_cold_enough():
    # corn at 11 % w.b. (12.36 % d.b.) and 17 °C: Henderson ERH 46.6 %, vapour pressure ≈ 9.0 hPa;
    # air at 9 °C and 90 % holds ≈ 10.3 hPa, so it would wet the grain.
    a = advice(grain_mean_c=17.0, grain_moisture_wb=11.0, air_c=9.0, air_rh_pct=90.0)
    assert a.action == "not_advised"
    failed = [text for ok, text in a.checks if not ok]
    assert len(failed) == 1 and "会使粮食增湿" in failed[0]
    assert a.numbers["henderson_grain_erh_pct"] == pytest.approx(46.6, abs=0.1)
    assert math.isclose(a.numbers["air_vapour_pressure_hpa"], 0.9 * v.saturation_vapour_pressure_hpa(9.0), abs_tol=1e-3)


# --- Ventilation purposes (LS/T 1202-2002 储粮机械通风技术规程 and 储粮机械通风 practice) ---

def plan(**kw):
    base = {"variety": "paddy", "grain_mean_c": 25.0, "grain_moisture_wb": 16.5, "air_c": 24.0, "air_rh_pct": 50.0}
    return v.ventilation_plan(**(base | kw))


def test_wet_paddy_in_dry_warm_air_is_told_to_dry_not_that_ventilation_is_unsuitable():
    # issue 13: paddy at 16.5 % w.b., air 24 °C / 50 % RH. Rough-rice MHE at the air: 12.5 % d.b. = 11.1 % w.b.
    p = plan()
    drying = p["purposes"]["drying"]
    assert p["label"] == "建议开始降水通风" != "不宜通风"
    assert drying.action == "start" and p["recommended"] is drying
    assert drying.numbers["air_emc_wb"] == pytest.approx(11.1, abs=0.05)
    assert drying.numbers["target_moisture_wb"] == 13.5
    assert p["purposes"]["cooling"].action == "not_advised"  # 1 °C is no cooling difference
    assert any("需要降水" in text for _, text in drying.checks)


def test_drying_respects_the_grains_allowed_temperature_rise():
    warm = plan(grain_mean_c=15.0)  # air 9 °C warmer than the grain: it would heat it
    assert warm["purposes"]["drying"].action == "not_advised"
    assert any(not ok and "允许粮温升高不超过 3℃" in text for ok, text in warm["purposes"]["drying"].checks)
    assert plan(grain_mean_c=22.0)["purposes"]["drying"].action == "start"  # 2 °C within the 3 °C allowed


def test_drying_refused_in_humid_air_and_stopped_once_the_grain_is_safe():
    humid = plan(air_rh_pct=85.0)
    assert humid["purposes"]["drying"].action == "not_advised" and humid["label"] == "不宜通风"
    done = plan(grain_moisture_wb=13.2, ventilating="drying")
    assert done["purposes"]["drying"].action == "stop" and done["label"] == "应停止降水通风"


def test_conditioning_adds_moisture_to_over_dry_grain_but_not_past_safe_moisture():
    # wheat at 10 % w.b. (safe 12.5 − 1.5 = 11 → over-dry), grain 15 °C, air 15 °C / 50 %: MCPE EMC 11.9 % w.b.
    p = plan(variety="wheat", grain_mean_c=15.0, grain_moisture_wb=10.0, air_c=15.0, air_rh_pct=50.0)
    cond = p["purposes"]["conditioning"]
    assert cond.action == "start" and p["label"] == "建议开始调质通风"
    assert 10.0 < cond.numbers["air_emc_wb"] <= 12.5
    wet_air = plan(variety="wheat", grain_mean_c=15.0, grain_moisture_wb=10.0, air_c=15.0, air_rh_pct=65.0)
    assert wet_air["purposes"]["conditioning"].action == "not_advised"  # EMC above 12.5: would over-wet
    assert plan(variety="wheat", grain_moisture_wb=12.0)["purposes"]["conditioning"].action == "not_needed"


def test_surface_heat_and_condensation_use_the_bin_air():
    hot = plan(grain_moisture_wb=13.0, top_c=26.0, bin_air_c=31.0, bin_air_rh=55.0, air_c=24.0, air_rh_pct=60.0)
    surface = hot["purposes"]["surface"]
    assert surface.action == "start" and hot["label"] == "建议开始排积热/防结露通风"
    assert surface.numbers["bin_minus_air_c"] == 7.0 and any("有积热" in t for _, t in surface.checks)
    # bin air at 20 °C / 90 %: dew point 18.3 °C, within 1 °C of a 19 °C grain surface → condensation risk
    damp = plan(grain_moisture_wb=13.0, top_c=19.0, bin_air_c=20.0, bin_air_rh=90.0, air_c=12.0, air_rh_pct=50.0)
    assert damp["purposes"]["surface"].action == "start"
    assert any("有结露危险" in t for _, t in damp["purposes"]["surface"].checks)
    calm = plan(grain_moisture_wb=13.0, top_c=20.0, bin_air_c=21.0, bin_air_rh=50.0, air_c=20.0, air_rh_pct=50.0)
    assert calm["purposes"]["surface"].action == "not_needed"


# End conditions as printed in 储粮机械通风 practice (e.g. http://fuhemei.com.cn/supply_details_1637831850.html and
# http://m.zgsnsb.com/flxx/dhycc123x5-4571943.html, following LS/T 1202): temperature gradient ≤ 1 ℃ per metre of
# grain, top-to-bottom difference ≤ 3 ℃ in a 房式仓 (≤ 10 ℃ in a 筒式仓), moisture gradient ≤ 0.3 % per metre.
def test_end_conditions_from_the_printed_limits():
    even = v.end_conditions(layer_means=[20.0, 19.5, 19.2, 19.0], grain_height_m=6.0, silo=False,
                            moisture_top=13.3, moisture_bottom=13.0)
    assert [ok for ok, _ in even] == [True, True, True]
    uneven = v.end_conditions(layer_means=[26.0, 24.0, 22.0, 21.0], grain_height_m=6.0, silo=False,
                              moisture_top=15.0, moisture_bottom=13.0)
    assert [ok for ok, _ in uneven] == [False, False, False]
    assert "1.33℃/m > 1℃/m" in uneven[0][1] and "5.0℃ > 3℃（房式仓）" in uneven[1][1] and "0.44%/m > 0.3%/m" in uneven[2][1]
    silo = v.end_conditions(layer_means=[26.0, 24.0, 22.0, 21.0], grain_height_m=6.0, silo=True)
    assert silo[1][0] is True and silo[2][0] is None  # no moisture samples: not judged, and said so


def test_seven_ecological_storage_zones_and_a_depots_own_zone():
    assert sorted(v.ECO_ZONES) == [1, 2, 3, 4, 5, 6, 7]
    assert [z["name"] for z in v.ECO_ZONES.values()] == [
        "高寒干燥储粮区", "低温干燥储粮区", "低温高湿储粮区", "中温干燥储粮区", "中温高湿储粮区", "中温低湿储粮区",
        "高温高湿储粮区"]
    params = {"eco_zone": 5, "eco_zone_by_depot": {"HLJ-01": 3}}
    assert v.zone_for(params, "HLJ-01") == 3 and v.zone_for(params, "SH-02") == 5
    p = plan(month=10, zone=3)
    assert p["zone"]["name"] == "低温高湿储粮区" and p["zone"]["season_change"] is True


def test_no_ventilation_during_a_fumigation_or_a_controlled_atmosphere_but_airing_once_it_has_held():
    from datetime import UTC, datetime, timedelta

    from smartgov.grain import analysis

    t0 = datetime(2026, 8, 1, tzinfo=UTC)
    holding = analysis.fumigation_status([(t0 + timedelta(days=k), 300.0) for k in range(3)], grain_c=26.0)
    p = plan(gas_checks=v.gas_checks(fumigation=holding))
    assert p["label"] == "不宜通风" and p["purposes"]["drying"].action == "not_advised"
    assert any(not ok and "正在熏蒸" in t for ok, t in p["purposes"]["drying"].checks)
    held = analysis.fumigation_status([(t0 + timedelta(days=k), 300.0) for k in range(15)], grain_c=26.0)
    assert plan(gas_checks=v.gas_checks(fumigation=held))["label"] == "建议开始降水通风"  # 散气 allowed
    low_oxygen = plan(gas_checks=v.gas_checks(o2=1.5))
    assert low_oxygen["label"] == "不宜通风" and any("气调" in t for _, t in low_oxygen["purposes"]["cooling"].checks)
    assert v.gas_checks(o2=20.9) == []
