"""Equilibrium moisture (ASAE D245.6 equations) with worked values, and the ventilation rules."""

import math

import pytest

from smartgov.grain import ventilation as v


def test_modified_henderson_corn_worked_value():
    # M = [ln(1 − RH) / (−A (T + C))]^(1/B), corn A = 8.6541e-5, B = 1.8634, C = 49.810, T = 25 °C, RH = 0.70:
    # ln(0.30) = −1.20397; A (T + C) = 8.6541e-5 × 74.810 = 6.47413e-3; ratio = 185.967;
    # ln 185.967 = 5.22557; / 1.8634 = 2.80432; e^2.80432 = 16.516 % d.b. = 14.175 % w.b.
    assert v.henderson_emc("corn", 25.0, 0.70) == pytest.approx(16.516, abs=0.002)
    assert v.dry_to_wet(v.henderson_emc("corn", 25.0, 0.70)) == pytest.approx(14.175, abs=0.002)


def test_modified_chung_pfost_corn_worked_value():
    # M = −(1/B) ln[−(T + C) ln(RH) / A], corn A = 312.40, B = 0.18661, C = 35.703, T = 25, RH = 0.70:
    # −(60.703)(−0.356675) / 312.40 = 0.0693063; ln = −2.66924; / −0.18661 → 14.304 % d.b.
    assert v.chung_pfost_emc("corn", 25.0, 0.70) == pytest.approx(14.304, abs=0.002)


@pytest.mark.parametrize(("variety", "henderson", "chung_pfost"), [
    ("wheat", 16.980, 17.213),  # both equations agree within a quarter point for hard red wheat
    ("paddy", 16.696, 15.244),
    ("soybean", 13.998, None),
])
def test_other_varieties_worked_values_at_25c_70pct(variety, henderson, chung_pfost):
    assert v.henderson_emc(variety, 25.0, 0.70) == pytest.approx(henderson, abs=0.002)
    if chung_pfost is None:
        assert variety not in v.CHUNG_PFOST
    else:
        assert v.chung_pfost_emc(variety, 25.0, 0.70) == pytest.approx(chung_pfost, abs=0.002)


@pytest.mark.parametrize("variety", ["corn", "wheat", "paddy"])
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
