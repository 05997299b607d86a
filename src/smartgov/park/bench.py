"""``smartgov bench park [--size MESSAGES] [--workers N] --json``: park telemetry end to end through
Mosquitto with the alarm rules evaluated, against the raw load rate of the same rows.

A park of 50 buildings × 10 floors × 10 units, a meter and an environment sensor per unit (10,000
devices), provisioned in bulk; rules: "activePower > 900 kW for 2 minutes" on every meter, "temperature
> 35 °C OR pm25 > 150" on every sensor, and "no data for 15 minutes". Readings come every 60 s per
device; 1 % of the devices read above the thresholds.

End to end = publish (QoS 1) → Mosquitto → N ``smartgov iot ingest`` processes on one MQTT 5 shared
subscription → parse, validate, insert (ON CONFLICT DO NOTHING), last-seen, rules, alarms, audit entry,
commit → PUBACK. ``msgs_per_s`` runs from the first publish to the last acknowledgement; every message is
then counted in the database. ``raw_load_per_s`` loads the very rows stored into an identical table in
batches of the same size (COPY / executemany): the database's own speed, the ceiling (``ratio``).

``alarm_latency_p99_ms``: for each alarm raised, from the publish of the message that made its rule hold
to the alarm's row being written in the worker's transaction (the PUBACK follows its commit)."""

import os
import time
import uuid
from datetime import UTC, datetime, timedelta

import orjson
from django.db import connection

from smartgov.accounts.models import Level
from smartgov.accounts.services import create_department
from smartgov.core.permissions import system_actor
from smartgov.iot import loadtest
from smartgov.iot.models import Alarm, Telemetry
from smartgov.iot.readings import telemetry_topic

from . import services
from .simulate import ensure_park, messages

BUILDINGS, FLOORS, UNITS = 50, 10, 10


def _raw_load(batch: int) -> tuple[float, int]:
    """The stored telemetry copied into an identical empty table, ``batch`` rows per transaction."""
    def as_text(row):  # jsonb comes back decoded; COPY wants its text
        d, ts, rc, data = row
        return (d, ts, rc, data if isinstance(data, str) else orjson.dumps(data).decode())

    return loadtest.raw_load(Telemetry._meta.db_table, ("device_id", "ts", "received_at", "data"), batch,
                             unique=('"device_id"', '"ts"'), convert=as_text if connection.vendor == "postgresql" else None)


def _p(values: list[float], q: float) -> float:
    if not values:
        return 0.0
    values = sorted(values)
    return values[min(len(values) - 1, int(q * len(values)))]


def run(*, progress, workers: int = 1, size: int | None = None, **_) -> dict:
    actor = system_actor("bench.park")
    dept = create_department(actor=actor, name="基准测试园区管委会", code=f"BENCH-{uuid.uuid4().hex[:6]}",
                             level=Level.CITY)
    t_setup = time.perf_counter()
    park, sims = ensure_park(department=dept, code=f"bench{uuid.uuid4().hex[:6]}", name="基准测试园区",
                             buildings=BUILDINGS, floors=FLOORS, units_per_floor=UNITS)
    setup_s = time.perf_counter() - t_setup
    services.import_rules(actor=actor, park=park, data=[
        {"name": "功率过高", "device_kind": "meter", "severity": "major",
         "conditions": [{"key": "activePower", "cmp": ">", "value": 900, "for_seconds": 120}]},
        {"name": "环境异常", "device_kind": "env", "match": "or", "severity": "minor",
         "conditions": [{"key": "temperature", "cmp": ">", "value": 35}, {"key": "pm25", "cmp": ">", "value": 150}]},
        {"name": "设备离线", "kind": "no_data", "no_data_minutes": 15}])
    total = size or 100_000
    rounds = max(1, -(-total // len(sims)))
    hot = frozenset(s.code for s in sims[::97])  # odd step: meters and sensors alike
    start_ts = datetime.now(UTC) - timedelta(seconds=60 * rounds + 60)
    prefix, group = f"bench{uuid.uuid4().hex[:8]}", f"bench{uuid.uuid4().hex[:6]}"
    batch = 1000
    msgs = [(code, ts, telemetry_topic(prefix, code), orjson.dumps({"ts": ts.timestamp(), "values": values}))
            for code, ts, values in messages(sims, start=start_ts, rounds=rounds, interval_s=60, hot_codes=hot)]
    msgs = msgs[:total]
    lead = 900 * workers
    published: dict[tuple[str, float], float] = {}

    def mark(n):
        code, ts, _topic, _body = msgs[n]
        if code in hot:
            published[(code, ts.timestamp())] = time.time()

    with loadtest.ingest_workers(["iot", "ingest"], workers, prefix=prefix, group=group, batch=batch) as (acked, batches):
        seconds = loadtest.publish_acknowledged([(t, b) for _c, _ts, t, b in msgs], acked, lead=lead, progress=progress,
                                                timeout_s=900, on_publish=mark)
    stored = Telemetry.objects.count()
    if stored != len(msgs):
        raise RuntimeError(f"{stored} messages stored, {len(msgs)} published")
    latencies = []
    for code, raised_at, created_at in Alarm.objects.filter(rule__kind="telemetry").values_list(
            "device__code", "raised_at", "created_at"):
        sent = published.get((code, raised_at.timestamp()))
        if sent is not None:
            latencies.append((created_at.timestamp() - sent) * 1000)
    sink_seconds = loadtest.broker_passthrough([(t, b) for _c, _ts, t, b in msgs], prefix=prefix,
                                               topic_filter=telemetry_topic(prefix, "+"), workers=workers, batch=batch,
                                               lead=lead, progress=lambda n: None)
    raw_seconds, raw_rows = _raw_load(batch)
    msgs_per_s, raw_per_s = len(msgs) / seconds, raw_rows / raw_seconds
    return {
        "workers": workers, "devices": len(sims), "messages": len(msgs), "seconds": round(seconds, 3),
        "msgs_per_s": round(msgs_per_s), "raw_load_seconds": round(raw_seconds, 3), "raw_load_per_s": round(raw_per_s),
        "ratio": round(msgs_per_s / raw_per_s, 3),
        "broker_passthrough_msgs_per_s": round(len(msgs) / sink_seconds), "broker_ratio": round(sink_seconds / seconds, 3),
        "alarms": Alarm.objects.count(), "alarm_latencies": len(latencies),
        "alarm_latency_p50_ms": round(_p(latencies, 0.5), 1), "alarm_latency_p99_ms": round(_p(latencies, 0.99), 1),
        "mean_batch": round(len(msgs) / max(sum(batches), 1), 1), "setup_s": round(setup_s, 1),
        "cpu_count": os.cpu_count(),
    }


BENCHMARKS = {"park": run}
