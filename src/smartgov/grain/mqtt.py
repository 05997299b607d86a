"""Grain readings over MQTT: the ingest worker and a publisher.

Topic: ``<prefix>/grain/<depot code>/<warehouse code>/scan`` (prefix default ``smartgov``), payload one
scan as JSON (``{"taken_at", "temps": [...], "air_temp", "air_rh", "out_temp", "out_rh", ...}``), QoS 1.

The worker (``smartgov grain ingest``) subscribes through an MQTT 5 shared subscription
``$share/<group>/<prefix>/grain/+/+/scan`` so that several workers split the load. The worker is the
shared IoT layer's (``smartgov.iot.mqtt.IngestWorker``, docs/iot.md); grain adds the topic and the store.
Delivery guarantee:

- **ack after commit.** Manual acknowledgement: a message's PUBACK is sent only after the database
  transaction holding its scan (or its rejection, for a malformed message) has committed. A worker
  killed before that never acknowledged the message, and the broker redelivers it.
- **persistent session.** ``clean_start=False`` with a session expiry (default one day) and a stable
  client id: messages that arrive while the worker is down are queued by the broker and delivered when
  it reconnects with the same client id. (Mosquitto: raise ``max_queued_messages`` above its default
  1000 in production so a long outage does not drop queued messages.)
- **idempotent store.** A redelivered scan (same warehouse and scan time) is stored once.
"""

import logging
import time

import orjson

from smartgov.core.errors import DomainError
from smartgov.core.permissions import system_actor
from smartgov.iot.mqtt import (  # noqa: F401 - grain's callers and tests use these names from here
    DEFAULT_PREFIX,
    DEFAULT_URL,
    Broker,
    IngestFailed,
    Publisher,
    broker_address,
    broker_reachable,
    broker_url,
    connect_client,
    parse_broker_url,
)
from smartgov.iot.mqtt import IngestWorker as BaseIngestWorker

from . import services
from .models import Source
from .readings import WarehouseDirectory, parse_mqtt_topic, scan_from_dict

log = logging.getLogger("smartgov.grain.mqtt")

INGEST_ACTOR = system_actor("grain.mqtt")  # the broker authenticated the depots; the worker stores for them
DEFAULT_GROUP = "grain-ingest"


def scan_topic(prefix: str, depot_code: str, warehouse_code: str) -> str:
    return f"{prefix}/grain/{depot_code}/{warehouse_code}/scan" if prefix else f"grain/{depot_code}/{warehouse_code}/scan"


def share_topic(prefix: str, group: str) -> str:
    return f"$share/{group}/{scan_topic(prefix, '+', '+')}"


class IngestWorker(BaseIngestWorker):
    """Consume scans from the broker and store them in batches; acknowledge each message after commit."""

    default_group = DEFAULT_GROUP
    client_prefix = "grain-ingest"

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self._params, self._params_at = None, 0.0
        self._directory = None

    def topic_filter(self) -> str:
        return scan_topic(self.prefix, "+", "+")

    def store(self, batch) -> None:
        now = time.monotonic()
        if self._params is None or now - self._params_at > 60:
            self._params, self._params_at = services.current_parameters(), now
            self._directory = WarehouseDirectory(actor=INGEST_ACTOR)  # also picks up new lots and warehouses
        scans, rejected, keys = [], [], []
        for msg in batch:
            try:
                keys.append(parse_mqtt_topic(msg.topic, self.prefix))
            except ValueError:
                keys.append(None)
        self._directory.preload(k for k in keys if k)
        for msg, key in zip(batch, keys, strict=True):
            try:
                if key is None:
                    parse_mqtt_topic(msg.topic, self.prefix)  # raises with the sentence
                scans.append(scan_from_dict(orjson.loads(msg.payload), self._directory.by_code(*key)))
            except (ValueError, DomainError) as exc:
                # only bad input is "malformed" (acknowledged with the batch, named in its audit entry); any
                # other exception is a bug of ours: it propagates, the batch rolls back, nothing is acknowledged
                reason = getattr(exc, "message", None) or str(exc)
                rejected.append({"topic": msg.topic, "error": reason[:200]})
                log.warning("rejected message on %s: %s", msg.topic, reason)
        result = services.ingest_scans(actor=INGEST_ACTOR, actor_label=self.delivered_by(), scans=scans,
                                       source=Source.MQTT, params=self._params, rejected=rejected)
        self.stored += result.stored
        self.duplicates += result.duplicates
        self.rejected += len(rejected)
