"""MQTT ingest against the real broker (Mosquitto at SMARTGOV_MQTT_URL, default 127.0.0.1:1883), with the
worker as a real ``smartgov grain ingest`` process. Skipped when no broker is reachable, unless CI=true."""

import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time
import uuid

import orjson
import pytest
from django.db import connection

from smartgov.grain import mqtt
from tests.grain import factories as gf

# The worker processes must see committed data: a transactional test. Its flush leaves out the audit app,
# whose append-only triggers (rightly) refuse DELETE and TRUNCATE; the audit chain stays valid.
pytestmark = pytest.mark.django_db(transaction=True, available_apps=[
    "django.contrib.contenttypes", "django.contrib.auth", "django.contrib.sessions", "smartgov.core",
    "smartgov.accounts", "smartgov.grain"])


@pytest.fixture(autouse=True)
def broker():
    if not mqtt.broker_reachable():
        if os.environ.get("CI") == "true":
            pytest.fail(f"MQTT broker {mqtt.broker_url()} unreachable and CI=true")
        pytest.skip(f"MQTT broker {mqtt.broker_url()} unreachable")


SCANS = "SELECT COUNT(*) FROM grain_scan WHERE warehouse_id = %s"


class WorkerDatabase:
    """The database a worker process sees: on SQLite a file copy of the in-memory test database (made
    after the test's set-up), on PostgreSQL the test database itself."""

    def __init__(self, tmp_path):
        self.vendor = connection.vendor
        if self.vendor == "sqlite":
            self.path = tmp_path / "worker.sqlite3"
            target = sqlite3.connect(self.path)
            connection.ensure_connection()
            connection.connection.backup(target)
            target.close()
            self.url = f"sqlite:///{self.path}"
        else:
            s = connection.settings_dict
            self.url = f"postgresql://{s['USER']}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{s['NAME']}"

    def rows(self, sql, params=()):
        """Run ``sql`` (``%s`` placeholders) on the worker's database."""
        if self.vendor == "sqlite":
            with sqlite3.connect(self.path, timeout=20) as c:
                return c.execute(sql.replace("%s", "?"), params).fetchall()
        with connection.cursor() as cur:
            cur.execute(sql, params)
            return cur.fetchall()

    def scalar(self, sql, params=()):
        return self.rows(sql, params)[0][0]


def spawn_worker(db, tmp_path, keys, *, prefix, group, client_id, batch=2):
    env = {**os.environ, "DATABASE_URL": db.url, "SMARTGOV_VAR_DIR": str(tmp_path / "var"),
           "SMARTGOV_SIGNING_KEY_FILE": str(keys), "PYTHONUNBUFFERED": "1",
           # the scans here are dated from the fixed factories.T0 on: accept them whatever today's date is
           "SMARTGOV_GRAIN_SCAN_MAX_AGE_DAYS": "36500", "SMARTGOV_GRAIN_SCAN_MAX_FUTURE_SECONDS": "3153600000"}
    proc = subprocess.Popen([sys.executable, "-m", "smartgov", "grain", "ingest", "--prefix", prefix, "--group", group,
                             "--client-id", client_id, "--batch", str(batch), "--session-expiry", "120"],
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    lines = []

    def read():
        for line in proc.stdout:
            lines.append(line.strip())

    threading.Thread(target=read, daemon=True).start()
    return proc, lines


def wait_ready(proc, lines):
    deadline = time.monotonic() + 20
    while not any(line.startswith("ready") for line in lines):
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            raise AssertionError(f"worker did not start: {proc.stderr.read()[-2000:]}")
        time.sleep(0.05)
    return proc, lines


def start_worker(*args, **kwargs):
    return wait_ready(*spawn_worker(*args, **kwargs))


def wait_for(predicate, timeout=20.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.05)
    return False


def test_killed_worker_loses_no_acknowledged_scan_and_stores_each_once(tmp_path, platform_keys):
    wh = gf.warehouse()
    db = WorkerDatabase(tmp_path)
    prefix, group, cid = f"t{uuid.uuid4().hex[:10]}", f"g{uuid.uuid4().hex[:6]}", f"w{uuid.uuid4().hex[:8]}"
    topic = mqtt.scan_topic(prefix, wh.depot.code, wh.code)
    worker, lines = start_worker(db, tmp_path, platform_keys, prefix=prefix, group=group, client_id=cid)
    total = 200
    payloads = [orjson.dumps(gf.scan_json(wh, gf.temps(wh, 12.0 + (n % 7) * 0.1), gf.T0 + gf.days(n) / 4))
                for n in range(total)]
    with mqtt.Publisher() as pub:
        infos = []
        for n, body in enumerate(payloads):
            infos.append(pub.publish(topic, body))
            if n == 60:  # mid-stream: kill -9 once the worker has acknowledged something
                assert wait_for(lambda: any(line.startswith("acked") for line in lines), 10)
                os.kill(worker.pid, signal.SIGKILL)
                worker.wait()
                stored_at_kill = db.scalar(SCANS, [wh.pk])
            time.sleep(0.003)
        infos.append(pub.publish(topic, payloads[5]))  # a replayed scan
        infos.append(pub.publish(topic, b"{broken"))  # a malformed message
        for info in infos:
            info.wait_for_publish(10)
        assert all(info.is_published() for info in infos)
    assert stored_at_kill < total  # the kill really was mid-stream
    # messages published while the worker was down wait in its persistent session
    worker2, _ = start_worker(db, tmp_path, platform_keys, prefix=prefix, group=group, client_id=cid)
    try:
        assert wait_for(lambda: db.scalar(SCANS, [wh.pk]) >= total, 30)
        time.sleep(0.5)  # let the replay and the malformed message through as well
        assert wait_for(lambda: db.scalar("SELECT COUNT(*) FROM audit_auditentry WHERE actor = %s AND changes LIKE %s",
                                          [f"mqtt:anonymous:{cid}", '%"rejected_count":1%']) == 1, 10)
    finally:
        worker2.send_signal(signal.SIGINT)
        worker2.wait(10)
    assert db.scalar(SCANS, [wh.pk]) == total
    assert db.scalar("SELECT COUNT(DISTINCT taken_at) FROM grain_scan WHERE warehouse_id = %s", [wh.pk]) == total
    # (the audit trail outlives transactional tests: count only this worker's entries)
    stored = sum(orjson.loads(c)["stored"] for (c,) in db.rows(
        "SELECT changes FROM audit_auditentry WHERE action = 'grain.scan.ingest' AND actor = %s", [f"mqtt:anonymous:{cid}"]))
    assert stored == total  # each scan stored once, however often it was delivered


def test_two_workers_share_one_subscription(tmp_path, platform_keys):
    wh = gf.warehouse()
    db = WorkerDatabase(tmp_path)
    prefix, group = f"t{uuid.uuid4().hex[:10]}", f"g{uuid.uuid4().hex[:6]}"
    topic = mqtt.scan_topic(prefix, wh.depot.code, wh.code)
    workers = [spawn_worker(db, tmp_path, platform_keys, prefix=prefix, group=group,
                            client_id=f"w{uuid.uuid4().hex[:8]}") for _ in range(2)]
    for worker in workers:
        wait_ready(*worker)
    try:
        with mqtt.Publisher() as pub:
            infos = [pub.publish(topic, orjson.dumps(gf.scan_json(wh, gf.temps(wh), gf.T0 + gf.days(n))))
                     for n in range(40)]
            for info in infos:
                info.wait_for_publish(10)
        assert wait_for(lambda: db.scalar(SCANS, [wh.pk]) == 40, 20)
        assert wait_for(lambda: all(any(line.startswith("acked") for line in lines) for _, lines in workers), 5)
    finally:
        for proc, _ in workers:
            proc.send_signal(signal.SIGINT)
            proc.wait(10)


def test_a_terminated_worker_finishes_cleanly(tmp_path, platform_keys):
    gf.warehouse()
    db = WorkerDatabase(tmp_path)
    proc, _ = start_worker(db, tmp_path, platform_keys, prefix=f"t{uuid.uuid4().hex[:10]}", group="g",
                           client_id=f"w{uuid.uuid4().hex[:8]}")
    proc.terminate()  # SIGTERM, as systemd or a container runtime stops it
    assert proc.wait(10) == 0
    assert "已入库 0 次检测" in proc.stderr.read()
