"""Bad input versus bugs in the MQTT worker, and the scan-time window (no broker needed: the worker's store
path is driven with messages as paho hands them over)."""

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import orjson
import pytest

from smartgov.grain import mqtt
from smartgov.grain.models import Scan
from tests import factories
from tests.grain import factories as gf

pytestmark = pytest.mark.django_db


@dataclass
class Message:
    topic: str
    payload: bytes
    mid: int = 1
    qos: int = 1


def _message(wh, **overrides):
    body = {**gf.scan_json(wh, gf.temps(wh), taken_at=datetime.now(UTC) - timedelta(hours=1)), **overrides}
    return Message(mqtt.scan_topic("t", wh.depot.code, wh.code), orjson.dumps(body))


def _worker():
    worker = mqtt.IngestWorker(url="mqtt://127.0.0.1:1883", prefix="t", client_id="test-worker")
    worker.max_attempts = 2
    return worker


def test_malformed_messages_are_rejected_and_good_ones_stored(monkeypatch):
    wh = gf.warehouse()
    worker = _worker()
    batch = [_message(wh), Message(mqtt.scan_topic("t", wh.depot.code, wh.code), b"{not json"),
             _message(wh, taken_at=1e30), _message(wh, temps="hot"), Message("t/grain/nope", b"{}")]
    worker._store_with_retry(batch)
    assert worker.stored == 1 and worker.rejected == 4
    assert Scan.objects.count() == 1


def test_a_bug_in_our_code_is_not_malformed_input_the_batch_stays_unacknowledged(monkeypatch, caplog):
    wh = gf.warehouse()
    worker = _worker()
    monkeypatch.setattr("time.sleep", lambda s: None)

    def broken(data, info):
        raise KeyError("a bug, not bad input")

    monkeypatch.setattr("smartgov.grain.mqtt.scan_from_dict", broken)  # mqtt imports it at its top
    with pytest.raises(mqtt.IngestFailed):
        worker._store_with_retry([_message(wh)])  # run() acknowledges only after this returns
    assert worker.rejected == 0 and worker.stored == 0
    assert Scan.objects.count() == 0
    assert sum("not acknowledged" in r.getMessage() for r in caplog.records) == worker.max_attempts


@pytest.mark.parametrize("taken_at", [datetime(2099, 1, 1, tzinfo=UTC), datetime(1970, 1, 1, tzinfo=UTC),
                                      "future"])
def test_scans_from_the_future_or_the_far_past_are_refused(settings, taken_at):
    settings.GRAIN_SCAN_MAX_AGE_DAYS = 400
    settings.GRAIN_SCAN_MAX_FUTURE_SECONDS = 600
    if taken_at == "future":
        taken_at = datetime.now(UTC) + timedelta(seconds=900)
    wh = gf.warehouse()
    client = factories.staff_client(gf.officer(wh.depot))
    real = client.post("/api/grain/scans", orjson.dumps({"scans": [
        gf.scan_json(wh, gf.temps(wh), taken_at=datetime.now(UTC) - timedelta(minutes=5))]}),
        content_type="application/json")
    assert real.status_code == 201
    resp = client.post("/api/grain/scans", orjson.dumps({"scans": [gf.scan_json(wh, gf.temps(wh, 30.0),
                                                                                taken_at=taken_at)]}),
                       content_type="application/json")
    assert resp.status_code == 422 and resp.json()["code"] == "invalid_scan"
    assert "不在允许范围内" in resp.json()["message"]
    assert Scan.objects.count() == 1  # the real scan stays the warehouse's latest
    worker = _worker()
    worker._store_with_retry([_message(wh, taken_at=taken_at.isoformat())])
    assert worker.rejected == 1 and Scan.objects.count() == 1


def test_the_window_is_configurable(settings):
    settings.GRAIN_SCAN_MAX_FUTURE_SECONDS = 3600
    wh = gf.warehouse()
    client = factories.staff_client(gf.officer(wh.depot))
    resp = client.post("/api/grain/scans", orjson.dumps({"scans": [
        gf.scan_json(wh, gf.temps(wh), taken_at=datetime.now(UTC) + timedelta(seconds=1800))]}),
        content_type="application/json")
    assert resp.status_code == 201
