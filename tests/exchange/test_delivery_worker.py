"""The delivery worker as a real ``smartgov exchange deliver`` process, killed with SIGKILL mid-stream:
no event is lost, and the only duplicates are redeliveries of the same event ID."""

import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time

import pytest
from django.db import connection

from smartgov.exchange import services
from tests.exchange import factories as xf
from tests.exchange.test_events import _subscribed, start_receiver

pytestmark = pytest.mark.django_db(transaction=True, available_apps=[
    "django.contrib.contenttypes", "django.contrib.auth", "django.contrib.sessions", "smartgov.core",
    "smartgov.accounts", "smartgov.exchange"])


class WorkerDatabase:
    """SQLite: a file copy of the in-memory test database made after set-up; PostgreSQL: the test database."""

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

    def scalar(self, sql):
        if self.vendor == "sqlite":
            with sqlite3.connect(self.path, timeout=20) as c:
                return c.execute(sql).fetchone()[0]
        with connection.cursor() as cur:
            cur.execute(sql)
            return cur.fetchone()[0]


def spawn(db, tmp_path, keys):
    env = {**os.environ, "DATABASE_URL": db.url, "SMARTGOV_VAR_DIR": str(tmp_path / "var"),
           "SMARTGOV_SIGNING_KEY_FILE": str(keys), "PYTHONUNBUFFERED": "1",
           "SMARTGOV_EXCHANGE_DELIVERY_LEASE_SECONDS": "2"}
    proc = subprocess.Popen([sys.executable, "-m", "smartgov", "exchange", "deliver", "--batch", "5",
                             "--idle-sleep", "0.1"], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    lines = []
    threading.Thread(target=lambda: lines.extend(line.strip() for line in proc.stdout), daemon=True).start()
    return proc, lines


def wait_for(predicate, timeout=30.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.05)
    return False


def test_killing_the_delivery_worker_loses_no_event(tmp_path, platform_keys):
    srv = start_receiver(delay=0.05)
    try:
        res, _sub, secret, _ = _subscribed(url=srv.url)
        srv.secret = secret
        total = 60
        ids = [services.publish_event(actor=xf.SYSTEM, resource=res, event_type="enterprise.revoked",
                                      subject=f"e{i}").event_id for i in range(total)]
        db = WorkerDatabase(tmp_path)
        worker, _ = spawn(db, tmp_path, platform_keys)
        try:
            assert wait_for(lambda: len(srv.received) >= 12), "the worker delivered nothing"
            os.kill(worker.pid, signal.SIGKILL)  # mid-stream, between sending and recording some rows
            worker.wait(10)
        finally:
            if worker.poll() is None:
                worker.kill()
        at_kill = len(srv.received)
        assert at_kill < total
        second, _ = spawn(db, tmp_path, platform_keys)
        try:
            done = "SELECT COUNT(*) FROM exchange_delivery WHERE status = 'delivered'"
            assert wait_for(lambda: db.scalar(done) == total, timeout=60), srv.received[-3:]
        finally:
            second.send_signal(signal.SIGTERM)
            second.wait(20)
        received = [event_id for event_id, ok in srv.received]
        assert all(ok for _, ok in srv.received)  # every body carried a valid HMAC-SM3 signature
        assert set(received) == set(ids)  # nothing lost
        assert len(received) >= total  # duplicates only as repeats of the same event IDs
    finally:
        srv.shutdown()
