"""Telemetry over the real broker: a ``smartgov iot ingest`` process killed with -9 mid-stream loses no
acknowledged message and stores each once; devices authenticate with their own credentials against a
Mosquitto configured from ``smartgov iot passwd``. Skipped without a broker/mosquitto unless CI=true."""

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid

import orjson
import paho.mqtt.client as paho
import pytest
from django.core.management import call_command
from paho.mqtt.enums import CallbackAPIVersion

from smartgov.iot import credentials, loadtest, mqtt, sink
from smartgov.iot.readings import telemetry_topic
from tests.grain.test_mqtt import WorkerDatabase, wait_for, wait_ready
from tests.iot import factories as f

pytestmark = pytest.mark.django_db(transaction=True, available_apps=[
    "django.contrib.contenttypes", "django.contrib.auth", "django.contrib.sessions", "smartgov.core",
    "smartgov.accounts", "smartgov.iot"])


@pytest.fixture(autouse=True)
def broker():
    if not mqtt.broker_reachable():
        if os.environ.get("CI") == "true":
            pytest.fail(f"MQTT broker {mqtt.broker_url()} unreachable and CI=true")
        pytest.skip(f"MQTT broker {mqtt.broker_url()} unreachable")


ROWS = "SELECT COUNT(*) FROM iot_telemetry WHERE device_id = %s"


def spawn_worker(db, tmp_path, keys, *, prefix, group, client_id, batch=5):
    env = {**os.environ, "DATABASE_URL": db.url, "SMARTGOV_VAR_DIR": str(tmp_path / "var"),
           "SMARTGOV_SIGNING_KEY_FILE": str(keys), "PYTHONUNBUFFERED": "1",
           "SMARTGOV_IOT_MAX_AGE_DAYS": "36500", "SMARTGOV_IOT_MAX_FUTURE_SECONDS": "3153600000"}
    proc = subprocess.Popen([sys.executable, "-m", "smartgov", "iot", "ingest", "--prefix", prefix, "--group", group,
                             "--client-id", client_id, "--batch", str(batch), "--session-expiry", "120"],
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    lines = []

    def read():
        for line in proc.stdout:
            lines.append(line.strip())

    threading.Thread(target=read, daemon=True).start()
    return wait_ready(proc, lines)


def test_killed_worker_loses_no_acknowledged_reading_and_stores_each_once(tmp_path, platform_keys):
    dept = f.department()
    dev = f.device(dept)
    f.rule(dept, conditions=[{"key": "activePower", "cmp": ">", "value": 50}])
    db = WorkerDatabase(tmp_path)
    prefix, group, cid = f"t{uuid.uuid4().hex[:10]}", f"g{uuid.uuid4().hex[:6]}", f"w{uuid.uuid4().hex[:8]}"
    topic = telemetry_topic(prefix, dev.code)
    worker, lines = spawn_worker(db, tmp_path, platform_keys, prefix=prefix, group=group, client_id=cid)
    total = 200
    payloads = [orjson.dumps({"ts": (f.T0.timestamp() + n), "values": {"activePower": 60 if n == 150 else 10}})
                for n in range(total)]
    with mqtt.Publisher() as pub:
        infos = []
        for n, body in enumerate(payloads):
            infos.append(pub.publish(topic, body))
            if n == 60:
                assert wait_for(lambda: any(line.startswith("acked") for line in lines), 10)
                os.kill(worker.pid, signal.SIGKILL)
                worker.wait()
                stored_at_kill = db.scalar(ROWS, [dev.pk])
            time.sleep(0.003)
        infos.append(pub.publish(topic, payloads[5]))  # a replay
        infos.append(pub.publish(topic, b"{broken"))  # malformed
        for info in infos:
            info.wait_for_publish(10)
    assert stored_at_kill < total
    worker2, _ = spawn_worker(db, tmp_path, platform_keys, prefix=prefix, group=group, client_id=cid)
    try:
        assert wait_for(lambda: db.scalar(ROWS, [dev.pk]) >= total, 30)
        assert wait_for(lambda: db.scalar("SELECT COUNT(*) FROM audit_auditentry WHERE actor = %s AND changes LIKE %s",
                                          [f"mqtt:anonymous:{cid}", '%"rejected_count":1%']) == 1, 10)
    finally:
        worker2.send_signal(signal.SIGINT)
        worker2.wait(10)
    assert db.scalar(ROWS, [dev.pk]) == total
    stored = sum(orjson.loads(c)["stored"] for (c,) in db.rows(
        "SELECT changes FROM audit_auditentry WHERE action = 'iot.telemetry.ingest' AND actor = %s",
        [f"mqtt:anonymous:{cid}"]))
    assert stored == total
    # the one reading above 50 raised one alarm, and the next cleared it
    assert db.rows("SELECT status FROM iot_alarm WHERE device_id = %s", [dev.pk]) == [("cleared",)]


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _connects(port, user, password) -> bool:
    result = {}
    done = threading.Event()
    c = paho.Client(callback_api_version=CallbackAPIVersion.VERSION2, client_id=uuid.uuid4().hex, protocol=paho.MQTTv5)
    c.username_pw_set(user, password)

    def on_connect(client, userdata, flags, rc, props):
        result["ok"] = not rc.is_failure
        done.set()
    c.on_connect = on_connect
    c.connect("127.0.0.1", port)
    c.loop_start()
    done.wait(5)
    c.loop_stop()
    c.disconnect()
    return result.get("ok", False)


@contextlib.contextmanager
def broker_from_passwd(tmp_path):
    """A Mosquitto on 127.0.0.1 configured only from ``smartgov iot passwd`` (ingest account ingest:w0rker);
    yields its port."""
    port = _free_port()
    call_command("iot", "passwd", "--password-file", str(tmp_path / "pw"), "--acl-file", str(tmp_path / "acl"),
                 "--worker", "ingest:w0rker")
    run_as = "user root\n" if os.geteuid() == 0 else ""  # else mosquitto drops to its own user: no access to tmp
    (tmp_path / "m.conf").write_text(f"{run_as}listener {port} 127.0.0.1\nallow_anonymous false\n"
                                     f"password_file {tmp_path / 'pw'}\nacl_file {tmp_path / 'acl'}\n")
    os.chmod(tmp_path / "pw", 0o600)
    os.chmod(tmp_path / "acl", 0o600)
    proc = subprocess.Popen(["mosquitto", "-c", str(tmp_path / "m.conf")], stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT)
    try:
        assert wait_for(lambda: mqtt.broker_reachable(f"mqtt://127.0.0.1:{port}", 0.2), 5)
        yield port
    finally:
        proc.terminate()
        proc.wait(5)


@pytest.mark.skipif(not shutil.which("mosquitto"), reason="no mosquitto binary")
def test_devices_authenticate_to_mosquitto_with_their_own_secret(tmp_path):
    dept = f.department()
    dev = f.device(dept, code="meter-7")
    with broker_from_passwd(tmp_path) as port:
        assert _connects(port, "meter-7", dev.secret)
        assert not _connects(port, "meter-7", "wrong")
        assert _connects(port, "ingest", "w0rker")


@pytest.mark.skipif(not shutil.which("mosquitto_passwd"), reason="no mosquitto_passwd")
def test_our_hash_reads_mosquitto_passwd_output(tmp_path):
    path = tmp_path / "pw"
    path.write_text("")
    subprocess.run(["mosquitto_passwd", "-b", str(path), "dev1", "s3cret"], check=True)
    stored = path.read_text().strip().split(":", 1)[1]
    assert credentials.check_secret("s3cret", stored) and not credentials.check_secret("s3cre", stored)


def test_broker_passthrough_carries_every_message_through_the_sink():
    """The ingest benchmarks' ceiling (``broker_passthrough_*``): the same messages through sink workers
    that acknowledge and keep nothing — every one must come back acknowledged, under a prefix of its own."""
    prefix = f"t{uuid.uuid4().hex[:8]}"
    messages = [(telemetry_topic(prefix, f"d{i % 7}"), orjson.dumps({"ts": 1, "values": {"v": i}})) for i in range(300)]
    seen = []
    seconds = loadtest.broker_passthrough(messages, prefix=prefix, topic_filter=telemetry_topic(prefix, "+"), workers=1,
                                          batch=50, lead=100, progress=seen.append, timeout_s=60, report_every=100)
    assert seconds > 0 and sum(seen) == 300


def test_sink_refuses_a_group_that_is_not_a_benchmarks():
    with pytest.raises(SystemExit) as exc:
        sink.main(["--topic", "smartgov/iot/+/telemetry", "--group", "iot-ingest"])
    assert exc.value.code == 2
