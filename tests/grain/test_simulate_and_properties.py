import math
import os
import threading
import uuid

import numpy as np
import orjson
import paho.mqtt.client as mqtt_client
import pytest
from django.core.management import CommandError, call_command
from hypothesis import given, settings
from hypothesis import strategies as st
from paho.mqtt.enums import CallbackAPIVersion

from smartgov.grain import mqtt
from smartgov.grain.analysis import DEFAULTS, analyse_scan
from smartgov.grain.readings import WarehouseInfo, scan_from_dict
from tests.grain import factories as gf

INFO = WarehouseInfo(1, 1, 1, "/1/", "K", "P1", 3, 4, 2, "wheat", 12.0)


@pytest.mark.django_db
def test_simulate_publishes_a_scan_per_warehouse_and_day_with_the_injected_faults():
    if not mqtt.broker_reachable():
        if os.environ.get("CI") == "true":
            pytest.fail("MQTT broker unreachable and CI=true")
        pytest.skip("MQTT broker unreachable")
    bureau = gf.bureau()
    prefix = f"t{uuid.uuid4().hex[:10]}"
    got, subscribed = [], threading.Event()
    c = mqtt_client.Client(callback_api_version=CallbackAPIVersion.VERSION2, protocol=mqtt_client.MQTTv5)
    c.on_connect = lambda cl, *a: cl.subscribe(f"{prefix}/grain/+/+/scan", qos=1)
    c.on_subscribe = lambda *a: subscribed.set()
    c.on_message = lambda cl, u, msg: got.append((msg.topic, orjson.loads(msg.payload)))
    c.connect(*mqtt.broker_address())
    c.loop_start()
    try:
        assert subscribed.wait(10)
        call_command("grain", "simulate", "--depots", "1", "--warehouses", "2", "--days", "8", "--prefix", prefix,
                     "--bureau", bureau.code, "--grid", "3x4x2")
        deadline = threading.Event()
        for _ in range(100):
            if len(got) >= 16:
                break
            deadline.wait(0.05)
    finally:
        c.loop_stop()
        c.disconnect()
    assert len(got) == 16
    by_wh = {}
    for topic, payload in got:
        by_wh.setdefault(topic.split("/")[-2], []).append(payload)
        assert len(payload["temps"]) == 24 and payload["out_rh"] is not None
    hot = [np.array(p["temps"]) for p in sorted(by_wh["P01"], key=lambda p: p["taken_at"])]
    i = (1 * 3 + 1) * 4 + 2  # layer 2, centre cable of a 3 × 4 grid
    assert hot[-1][i] - hot[0][i] > 6  # warming 1.5 °C a day for the last days
    assert all(p["temps"][3 * 4 + 1] == 85.0 for p in by_wh["P02"])  # the faulty sensor


@pytest.mark.django_db
def test_simulate_refuses_an_unknown_bureau_with_a_sentence():
    if not mqtt.broker_reachable():
        pytest.skip("MQTT broker unreachable")
    with pytest.raises(CommandError, match="没有部门") as exc:
        call_command("grain", "simulate", "--bureau", "NOPE")
    assert exc.value.returncode == 2


temps_strategy = st.lists(st.one_of(st.none(), st.floats(-60, 130, allow_nan=False, width=32)), min_size=24,
                          max_size=24)


@settings(max_examples=150, deadline=None)
@given(temps=temps_strategy, prev=st.one_of(st.none(), temps_strategy))
def test_analysis_never_counts_a_faulty_point_and_keeps_min_mean_max_in_order(temps, prev):
    scan = scan_from_dict({"taken_at": "2026-11-01T08:00:00+08:00", "temps": temps}, INFO)
    prev_arr = None if prev is None else np.array([math.nan if v is None else v for v in prev], dtype=np.float32)
    a = analyse_scan(scan.temps, layers=2, prev=prev_arr, rate_ref=prev_arr, rate_hours=24, params=DEFAULTS)
    faulty = {f["i"] for f in a.faulty}
    for i, v in enumerate(temps):
        if v is None or not DEFAULTS["valid_min_c"] <= np.float32(v) <= DEFAULTS["valid_max_c"]:
            assert i in faulty
    valid = [float(np.float32(v)) for i, v in enumerate(temps) if i not in faulty]
    if valid:
        assert a.t_min <= a.t_mean <= a.t_max
        assert a.t_max == round(max(valid), 2) and a.t_min == round(min(valid), 2)
    else:
        assert a.t_max is None and a.t_mean is None
    assert not faulty & {h["i"] for h in a.hot}
    assert len(a.stuck) == 6 * 24


@settings(max_examples=100, deadline=None)
@given(st.one_of(st.text(max_size=30), st.integers(), st.lists(st.text(max_size=3), max_size=30), st.none()))
def test_scan_parser_turns_any_malformed_temps_into_a_value_error(garbage):
    with pytest.raises(ValueError):
        scan_from_dict({"taken_at": "2026-11-01T08:00:00", "temps": garbage}, INFO)


@pytest.mark.parametrize("temps", [["12.5"] * 24, [True] * 24, [[1.0]] * 24, [1e40] * 24])
def test_numbers_as_strings_booleans_nesting_and_overflow_are_refused(temps):
    with pytest.raises(ValueError):
        scan_from_dict({"taken_at": "2026-11-01T08:00:00", "temps": temps}, INFO)


def test_ingest_without_a_broker_exits_with_a_sentence(settings):
    settings.MQTT_URL = "mqtt://127.0.0.1:1"
    with pytest.raises(CommandError, match="无法连接MQTT代理") as exc:
        call_command("grain", "ingest")
    assert exc.value.returncode == 2
