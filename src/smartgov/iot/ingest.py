"""The telemetry ingest worker (``smartgov iot ingest``): the shared worker with the telemetry topic and
store. Topic ``<prefix>/iot/<device code>/telemetry`` (see readings.py); the broker authenticates each
device by its own credentials (``smartgov iot passwd`` writes Mosquitto's password and ACL files)."""

import logging
import time

import orjson

from smartgov.core.errors import DomainError
from smartgov.core.permissions import system_actor

from .mqtt import IngestWorker
from .readings import DeviceDirectory, parse_topic, reading_from_dict, telemetry_topic, time_window
from .services import RuleBook, ingest_telemetry

log = logging.getLogger("smartgov.iot.ingest")


class TelemetryWorker(IngestWorker):
    default_group = "iot-ingest"
    client_prefix = "iot-ingest"
    refresh_seconds = 10.0  # rules and devices are re-read this often (a new rule applies within this time)

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.alarms_raised = 0
        self._directory, self._rulebook, self._loaded_at = None, None, 0.0
        self.actor = system_actor("iot.ingest")

    def topic_filter(self) -> str:
        return telemetry_topic(self.prefix, "+")

    def store(self, batch) -> None:
        now = time.monotonic()
        if self._rulebook is None or now - self._loaded_at > self.refresh_seconds:
            self._directory, self._rulebook, self._loaded_at = DeviceDirectory(), RuleBook(), now
        codes = []
        for msg in batch:
            try:
                codes.append(parse_topic(msg.topic, self.prefix))
            except ValueError:
                codes.append(None)
        self._directory.preload(c for c in codes if c)
        readings, rejected = [], []
        window = time_window()
        for msg, code in zip(batch, codes, strict=True):
            try:
                if code is None:
                    parse_topic(msg.topic, self.prefix)  # raises with the sentence
                readings.append(reading_from_dict(orjson.loads(msg.payload), self._directory.by_code(code), window))
            except (ValueError, DomainError) as exc:
                reason = getattr(exc, "message", None) or str(exc)
                rejected.append({"topic": msg.topic[:200], "error": reason[:200]})
                log.warning("rejected message on %s: %s", msg.topic, reason)
        result = ingest_telemetry(actor=self.actor, actor_label=self.delivered_by(), readings=readings,
                                  source="mqtt", rejected=rejected, rulebook=self._rulebook)
        self.stored += result.stored
        self.duplicates += result.duplicates
        self.rejected += len(rejected)
        self.alarms_raised += result.alarms_raised
