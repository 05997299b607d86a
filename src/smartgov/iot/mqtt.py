"""The shared MQTT layer (物联网接入): broker addresses and credentials, a publisher, and the ingest worker
every app's device data goes through (grain's scans, park's telemetry).

Delivery guarantee of :class:`IngestWorker` (the same for every app that subclasses it):

- **shared subscription.** ``$share/<group>/<topic filter>`` so that several workers split the load.
- **ack after commit.** Manual acknowledgement: a message's PUBACK is sent only after the database
  transaction holding it (or its rejection, for a malformed message) has committed. A worker killed
  (kill -9) before that never acknowledged the message, and the broker redelivers it.
- **persistent session.** ``clean_start=False`` with a session expiry (default one day) and a stable
  client id: messages that arrive while the worker is down are queued by the broker and delivered when
  it reconnects with the same client id. (Mosquitto: raise ``max_queued_messages`` above its default
  1000 in production so a long outage does not drop queued messages.)
- **idempotent store.** The subclass's ``store`` keys every message by (device, time), so a redelivered
  message is stored once.
"""

import logging
import os
import queue
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from abc import ABC, abstractmethod
from dataclasses import dataclass
from urllib.parse import unquote, urlparse

import paho.mqtt.client as mqtt
from django.conf import settings
from django.db import IntegrityError, OperationalError, close_old_connections
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties
from paho.mqtt.subscribeoptions import SubscribeOptions

log = logging.getLogger("smartgov.iot.mqtt")

DEFAULT_URL = "mqtt://127.0.0.1:1883"
DEFAULT_PREFIX = "smartgov"


def broker_url() -> str:
    return settings.MQTT_URL or DEFAULT_URL


@dataclass(frozen=True)
class Broker:
    """Where and how to connect: ``mqtt://[user:password@]host[:1883]`` or ``mqtts://…[:8883]`` (TLS, the
    system's CA store; SMARTGOV_MQTT_CA_FILE for a private CA). The user name is the publishing identity
    the broker authenticates; the password may also come from
    SMARTGOV_MQTT_PASSWORD(_FILE) so it stays out of process listings."""

    host: str
    port: int
    tls: bool = False
    username: str | None = None
    password: str | None = None


def parse_broker_url(url: str | None = None) -> Broker:
    """A broker URL, or ValueError with a clear sentence (never a silent fall-back to localhost)."""
    raw = (url or broker_url()).strip()
    parsed = urlparse(raw)
    if parsed.scheme not in ("mqtt", "tcp", "mqtts", "ssl"):
        raise ValueError(f"MQTT地址 {raw!r} 无效：应为 mqtt://主机:端口 或 mqtts://主机:端口"
                         f" / invalid MQTT URL (use mqtt://host:port or mqtts://host:port)")
    if not parsed.hostname:
        raise ValueError(f"MQTT地址 {raw!r} 缺少主机名 / the MQTT URL names no host")
    try:
        port = parsed.port
    except ValueError:
        raise ValueError(f"MQTT地址 {raw!r} 的端口无效 / invalid port in the MQTT URL") from None
    if parsed.path not in ("", "/") or parsed.query or parsed.fragment:
        raise ValueError(f"MQTT地址 {raw!r} 不应含路径或参数 / the MQTT URL has a path or query")
    tls = parsed.scheme in ("mqtts", "ssl")
    password = unquote(parsed.password) if parsed.password else None
    if parsed.username and password is None:
        password = settings.MQTT_PASSWORD or None
    return Broker(host=parsed.hostname, port=port or (8883 if tls else 1883), tls=tls,
                  username=unquote(parsed.username) if parsed.username else None, password=password)


def broker_address(url: str | None = None) -> tuple[str, int]:
    broker = parse_broker_url(url)
    return broker.host, broker.port


def connect_client(client: mqtt.Client, broker: Broker, **kwargs) -> None:
    """Credentials and TLS as the URL says, then connect."""
    if broker.username:
        client.username_pw_set(broker.username, broker.password)
    if broker.tls:
        client.tls_set(ca_certs=settings.MQTT_CA_FILE or None)
    client.connect(broker.host, broker.port, **kwargs)


def broker_reachable(url: str | None = None, timeout: float = 1.0) -> bool:
    try:
        with socket.create_connection(broker_address(url), timeout=timeout):
            return True
    except OSError:
        return False


class IngestFailed(RuntimeError):
    """A batch could not be stored after repeated attempts: the worker stops, its messages unacknowledged."""


class IngestWorker(ABC):
    """Consume messages from the broker and store them in batches; acknowledge each message after commit.

    A subclass sets ``topic_filter`` (the subscription without ``$share/<group>/``) and implements
    ``store(batch)``: store the good messages and reject the malformed ones in one transaction, adding to
    ``stored``/``duplicates``/``rejected``. Bad input must not raise; anything that raises is treated as
    an outage or a bug: the batch is retried and, failing that, left unacknowledged."""

    default_group = "iot-ingest"
    client_prefix = "iot-ingest"

    def __init__(self, *, url: str | None = None, prefix: str = DEFAULT_PREFIX, group: str | None = None,
                 client_id: str | None = None, batch_max: int = 500, batch_wait: float = 0.05,
                 session_expiry: int = 86400, receive_maximum: int = 2000, report=None, idle_exit: float | None = None):
        self.url, self.prefix, self.group = url or broker_url(), prefix, group or self.default_group
        self.client_id = client_id or f"{self.client_prefix}-{socket.gethostname()}-{os.getpid()}"
        self.batch_max, self.batch_wait, self.idle_exit = batch_max, batch_wait, idle_exit
        self.session_expiry, self.receive_maximum = session_expiry, receive_maximum
        self.report = report or (lambda line: None)
        self.inbox: queue.Queue = queue.Queue()
        self.subscribed = threading.Event()
        self.stopping = threading.Event()
        self.stored = self.duplicates = self.rejected = self.messages = 0
        self.max_attempts = 5

    @abstractmethod
    def topic_filter(self) -> str:
        """The topic filter this worker's messages arrive on (without the shared-subscription prefix)."""

    def share_topic(self) -> str:
        return f"$share/{self.group}/{self.topic_filter()}"

    @abstractmethod
    def store(self, batch) -> None:
        """Store one batch of messages in one transaction (the batch is acknowledged after it commits)."""

    def delivered_by(self) -> str:
        """Who delivered, for the audit entry: the worker's broker identity and client id (publishers are
        authenticated by the broker)."""
        who = parse_broker_url(self.url).username or "anonymous"
        return f"mqtt:{who}:{self.client_id}"[:150]

    # --- MQTT callbacks (paho's network thread)
    def _on_connect(self, client, userdata, flags, reason_code, properties):
        if reason_code.is_failure:
            log.error("MQTT connect refused: %s", reason_code)
            return
        client.subscribe(self.share_topic(), options=SubscribeOptions(qos=1))

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
        broker = parse_broker_url(self.url)
        c = self.client()
        props = Properties(PacketTypes.CONNECT)
        props.SessionExpiryInterval = self.session_expiry
        props.ReceiveMaximum = self.receive_maximum
        connect_client(c, broker, keepalive=30, clean_start=False, properties=props)
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
        for attempt in range(self.max_attempts):
            try:
                self.store(batch)
                return
            except (OperationalError, IntegrityError):
                # database busy or connection lost, or another worker opened the same alarm at the same moment:
                # the batch rolled back, nothing acknowledged; again
                log.warning("database error storing a batch; retrying", exc_info=True)
                close_old_connections()
            except Exception:
                # not bad input (that is rejected inside store()): a bug or an outage. Nothing is acknowledged, so
                # the broker keeps the messages; after repeated failures the worker stops for a person to look.
                log.exception("error storing a batch of %d messages (attempt %d of %d); not acknowledged",
                              len(batch), attempt + 1, self.max_attempts)
            time.sleep(0.2 * (attempt + 1))
        raise IngestFailed(f"could not store a batch after {self.max_attempts} attempts; "
                           "exiting without acknowledging it (the broker redelivers it)")


class Publisher:
    """Publish at QoS 1 and wait for the broker's PUBACKs (simulators and benchmarks)."""

    def __init__(self, *, url: str | None = None, client_id: str | None = None, max_inflight: int = 1000,
                 username: str | None = None, password: str | None = None):
        self.url = url or broker_url()
        self.username, self.password = username, password
        self.client = mqtt.Client(callback_api_version=CallbackAPIVersion.VERSION2,
                                  client_id=client_id or f"pub-{uuid.uuid4().hex[:8]}", protocol=mqtt.MQTTv5)
        self.client.max_inflight_messages_set(max_inflight)
        self.client.max_queued_messages_set(0)

    def __enter__(self):
        broker = parse_broker_url(self.url)
        if self.username:  # a device's own credentials instead of the URL's
            broker = Broker(broker.host, broker.port, broker.tls, self.username, self.password)
        connect_client(self.client, broker, keepalive=30)
        self.client.loop_start()
        return self

    def publish(self, topic: str, payload: bytes):
        return self.client.publish(topic, payload, qos=1)

    def __exit__(self, *exc):
        self.client.loop_stop()
        self.client.disconnect()


def start_ingest_workers(command: list[str], n: int, *, prefix: str, group: str, batch: int, env: dict,
                         module: str = "smartgov"):
    """For benchmarks: ``n`` worker processes (``python -m <module> <command…> --prefix … --group …``, by
    default ``smartgov <command…>``) sharing one subscription; waits until each has subscribed. Returns (processes, messages acknowledged per worker,
    batches per worker), the two lists kept current from each worker's ``ready``/``acked`` report lines."""
    procs, acked, batches = [], [0] * n, [0] * n
    ready = [threading.Event() for _ in range(n)]
    for k in range(n):
        p = subprocess.Popen([sys.executable, "-m", module, *command, "--prefix", prefix, "--group", group,
                              "--client-id", f"bench-{prefix}-{k}", "--batch", str(batch), "--session-expiry", "60"],
                             env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)

        def read(p=p, k=k):
            for line in p.stdout:
                if line.startswith("ready"):
                    ready[k].set()
                elif line.startswith("acked"):
                    acked[k] = int(line.split()[1])
                    batches[k] += 1

        threading.Thread(target=read, daemon=True).start()
        procs.append(p)
    for k, ev in enumerate(ready):
        if not ev.wait(60):
            for p in procs:
                p.kill()
            raise RuntimeError(f"ingest worker {k} did not start")
    return procs, acked, batches

