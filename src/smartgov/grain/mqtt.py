"""Grain readings over MQTT: the ingest worker and a publisher.

Topic: ``<prefix>/grain/<depot code>/<warehouse code>/scan`` (prefix default ``smartgov``), payload one
scan as JSON (``{"taken_at", "temps": [...], "air_temp", "air_rh", "out_temp", "out_rh", ...}``), QoS 1.

The worker (``smartgov grain ingest``) subscribes through an MQTT 5 shared subscription
``$share/<group>/<prefix>/grain/+/+/scan`` so that several workers split the load. Delivery guarantee:

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
import os
import queue
import signal
import socket
import threading
import time
import uuid
from urllib.parse import urlparse

import orjson
import paho.mqtt.client as mqtt
from django.db import IntegrityError, OperationalError, close_old_connections
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties
from paho.mqtt.subscribeoptions import SubscribeOptions

log = logging.getLogger("smartgov.grain.mqtt")

DEFAULT_URL = "mqtt://127.0.0.1:1883"
DEFAULT_PREFIX = "smartgov"
DEFAULT_GROUP = "grain-ingest"


def broker_url() -> str:
    return os.environ.get("SMARTGOV_MQTT_URL", DEFAULT_URL)


def broker_address(url: str | None = None) -> tuple[str, int]:
    parsed = urlparse(url or broker_url())
    if parsed.scheme not in ("mqtt", "tcp", ""):
        raise ValueError(f"unsupported MQTT URL scheme {parsed.scheme!r} (use mqtt://host:port)")
    return parsed.hostname or "127.0.0.1", parsed.port or 1883


def broker_reachable(url: str | None = None, timeout: float = 1.0) -> bool:
    try:
        with socket.create_connection(broker_address(url), timeout=timeout):
            return True
    except OSError:
        return False


def scan_topic(prefix: str, depot_code: str, warehouse_code: str) -> str:
    return f"{prefix}/grain/{depot_code}/{warehouse_code}/scan" if prefix else f"grain/{depot_code}/{warehouse_code}/scan"


def share_topic(prefix: str, group: str) -> str:
    return f"$share/{group}/{scan_topic(prefix, '+', '+')}"


class IngestWorker:
    """Consume scans from the broker and store them in batches; acknowledge each message after commit."""

    def __init__(self, *, url: str | None = None, prefix: str = DEFAULT_PREFIX, group: str = DEFAULT_GROUP,
                 client_id: str | None = None, batch_max: int = 500, batch_wait: float = 0.05,
                 session_expiry: int = 86400, receive_maximum: int = 2000, report=None, idle_exit: float | None = None):
        self.url, self.prefix, self.group = url or broker_url(), prefix, group
        self.client_id = client_id or f"grain-ingest-{socket.gethostname()}-{os.getpid()}"
        self.batch_max, self.batch_wait, self.idle_exit = batch_max, batch_wait, idle_exit
        self.session_expiry, self.receive_maximum = session_expiry, receive_maximum
        self.report = report or (lambda line: None)
        self.inbox: queue.Queue = queue.Queue()
        self.subscribed = threading.Event()
        self.stopping = threading.Event()
        self.stored = self.duplicates = self.rejected = self.messages = 0
        self._params, self._params_at = None, 0.0
        self._directory = None

    # --- MQTT callbacks (paho's network thread)
    def _on_connect(self, client, userdata, flags, reason_code, properties):
        if reason_code.is_failure:
            log.error("MQTT connect refused: %s", reason_code)
            return
        client.subscribe(share_topic(self.prefix, self.group), options=SubscribeOptions(qos=1))

    def _on_subscribe(self, client, userdata, mid, reason_codes, properties):
        if any(rc.is_failure for rc in reason_codes):
            log.error("MQTT subscribe refused: %s", reason_codes)
            return
        self.subscribed.set()

    def _on_message(self, client, userdata, msg):
        self.inbox.put(msg)

    def client(self) -> mqtt.Client:
        c = mqtt.Client(callback_api_version=CallbackAPIVersion.VERSION2, client_id=self.client_id,
                        protocol=mqtt.MQTTv5, manual_ack=True)
        c.on_connect, c.on_subscribe, c.on_message = self._on_connect, self._on_subscribe, self._on_message
        return c

    def stop(self, *_) -> None:
        """Finish the batch in hand (store, acknowledge), then disconnect: SIGTERM and SIGINT."""
        self.stopping.set()

    def run(self) -> None:
        if threading.current_thread() is threading.main_thread():
            signal.signal(signal.SIGTERM, self.stop)
            signal.signal(signal.SIGINT, self.stop)
        host, port = broker_address(self.url)
        c = self.client()
        props = Properties(PacketTypes.CONNECT)
        props.SessionExpiryInterval = self.session_expiry
        props.ReceiveMaximum = self.receive_maximum
        c.connect(host, port, keepalive=30, clean_start=False, properties=props)
        c.loop_start()
        try:
            if not self.subscribed.wait(15):
                raise RuntimeError(f"could not subscribe at {self.url}")
            self.report(f"ready {self.client_id}")
            idle_since = time.monotonic()
            while not self.stopping.is_set():
                batch = self._take_batch()
                if not batch:
                    if self.idle_exit is not None and time.monotonic() - idle_since > self.idle_exit:
                        break
                    continue
                idle_since = time.monotonic()
                self._store_with_retry(batch)
                for msg in batch:  # PUBACK only now: the batch is committed
                    c.ack(msg.mid, msg.qos)
                self.messages += len(batch)
                self.report(f"acked {self.messages} stored {self.stored} duplicates {self.duplicates}"
                            f" rejected {self.rejected}")
        finally:
            c.loop_stop()
            c.disconnect()

    def _take_batch(self) -> list:
        try:
            first = self.inbox.get(timeout=0.2)
        except queue.Empty:
            return []
        batch = [first]
        deadline = time.monotonic() + self.batch_wait
        while len(batch) < self.batch_max:
            try:
                batch.append(self.inbox.get_nowait())
            except queue.Empty:
                left = deadline - time.monotonic()
                if left <= 0:
                    break
                try:
                    batch.append(self.inbox.get(timeout=left))
                except queue.Empty:
                    break
        return batch

    def _store_with_retry(self, batch) -> None:
        for attempt in range(5):
            try:
                self.store(batch)
                return
            except (OperationalError, IntegrityError):
                # database busy or connection lost, or another worker opened the same alert at the same moment
                # (one open alert per warehouse and kind): the batch rolled back, nothing acknowledged; again
                log.warning("database error storing a batch; retrying", exc_info=True)
                close_old_connections()
                time.sleep(0.2 * (attempt + 1))
        raise RuntimeError("could not store a batch after 5 attempts; exiting without acknowledging it")

    def store(self, batch) -> None:
        from . import services
        from .models import Source
        from .readings import WarehouseDirectory, parse_mqtt_topic, scan_from_dict

        now = time.monotonic()
        if self._params is None or now - self._params_at > 60:
            self._params, self._params_at = services.current_parameters(), now
            self._directory = WarehouseDirectory()  # also picks up new lots and warehouses
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
            except Exception as exc:
                reason = getattr(exc, "message", None) or str(exc)
                rejected.append({"topic": msg.topic, "error": reason[:200]})
                log.warning("rejected message on %s: %s", msg.topic, reason)
        result = services.ingest_scans(actor=None, actor_label=f"mqtt:{self.client_id}", scans=scans,
                                       source=Source.MQTT, params=self._params, rejected=rejected)
        self.stored += result.stored
        self.duplicates += result.duplicates
        self.rejected += len(rejected)


class Publisher:
    """Publish scans at QoS 1 and wait for the broker's PUBACKs (simulator and benchmark)."""

    def __init__(self, *, url: str | None = None, client_id: str | None = None, max_inflight: int = 1000):
        self.url = url or broker_url()
        self.client = mqtt.Client(callback_api_version=CallbackAPIVersion.VERSION2,
                                  client_id=client_id or f"grain-pub-{uuid.uuid4().hex[:8]}", protocol=mqtt.MQTTv5)
        self.client.max_inflight_messages_set(max_inflight)
        self.client.max_queued_messages_set(0)

    def __enter__(self):
        host, port = broker_address(self.url)
        self.client.connect(host, port, keepalive=30)
        self.client.loop_start()
        return self

    def publish(self, topic: str, payload: bytes):
        return self.client.publish(topic, payload, qos=1)

    def __exit__(self, *exc):
        self.client.loop_stop()
        self.client.disconnect()
