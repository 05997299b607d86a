"""Read replicas: which reads go where (safe requests outside transactions, never sessions, never a browser
that just wrote), and a replica that lags or cannot be reached is taken out with reads falling back to
the primary."""

import time

import pytest
from django.db import connections, transaction
from django.db.backends.base.base import BaseDatabaseWrapper
from django.http import HttpResponse
from django.test import Client, RequestFactory, override_settings

from smartgov.accounts.models import User
from smartgov.core import dbrouter

pytestmark = pytest.mark.django_db


@pytest.fixture
def replica():
    """A replica alias whose settings are the primary's (as Django's TEST MIRROR does)."""
    connections.settings["replica0"] = dict(connections.settings["default"])
    connections["replica0"] = connections["default"]
    dbrouter.HEALTH.reset()
    yield "replica0"
    del connections.settings["replica0"]
    dbrouter.HEALTH.reset()


@pytest.fixture
def broken_replica(tmp_path, monkeypatch):
    """A replica that cannot be reached: PostgreSQL on a closed port, or SQLite in a missing folder."""
    cfg = dict(connections.settings["default"])
    if connections["default"].vendor == "postgresql":
        cfg.update(HOST="127.0.0.1", PORT="9", OPTIONS={"connect_timeout": 1})
    else:
        cfg["NAME"] = str(tmp_path / "missing" / "replica.sqlite3")
    cfg["TEST"] = {}
    connections.settings["replica1"] = cfg
    # the test case refuses connections to aliases it was not told about; this one is ours to break
    patched = BaseDatabaseWrapper.ensure_connection
    real = next((c.cell_contents for c in (patched.__closure__ or ())
                 if getattr(c.cell_contents, "__name__", "") == "ensure_connection"), patched)
    monkeypatch.setattr(BaseDatabaseWrapper, "ensure_connection", real)
    dbrouter.HEALTH.reset()
    yield "replica1"
    connections["replica1"].close()
    del connections.settings["replica1"]
    dbrouter.HEALTH.reset()


ROUTER = dbrouter.ReplicaRouter()


def test_without_replicas_everything_reads_the_primary():
    with dbrouter.reading_from_replica():
        assert ROUTER.db_for_read(User) == "default"


def test_only_marked_reads_outside_transactions_go_to_the_replica(replica):
    assert ROUTER.db_for_read(User) == "default"  # a job or a command: primary unless it asks
    with dbrouter.reading_from_replica():
        assert ROUTER.db_for_read(User) == replica
        from django.contrib.sessions.models import Session

        assert ROUTER.db_for_read(Session) == "default"  # a fresh sign-in must not look signed out
        with transaction.atomic():
            assert ROUTER.db_for_read(User) == "default"  # a read that may feed a write
    assert ROUTER.db_for_write(User) == "default"
    assert ROUTER.allow_migrate("default", "accounts") and not ROUTER.allow_migrate(replica, "accounts")


def test_a_lagging_replica_is_taken_out(replica):
    with dbrouter.reading_from_replica():
        assert ROUTER.db_for_read(User) == replica
        with override_settings(REPLICA_MAX_LAG_SECONDS=-1):  # any lag is too much
            dbrouter.HEALTH.reset()
            assert ROUTER.db_for_read(User) == "default"
            assert dbrouter.status() == [{"alias": replica, "lag_s": 0.0, "in_use": False}]


def test_an_unreachable_replica_is_taken_out_and_reads_fall_back(broken_replica):
    with dbrouter.reading_from_replica():
        assert ROUTER.db_for_read(User) == "default"
        assert User.objects.count() >= 0  # the read itself works, on the primary
    assert dbrouter.status() == [{"alias": broken_replica, "lag_s": None, "in_use": False}]
    body = Client().get("/api/health").json()
    assert body["status"] == "ok" and body["replicas"][0]["in_use"] is False


def test_checks_are_cached_between_intervals(replica, monkeypatch):
    calls = []
    monkeypatch.setattr(dbrouter, "measure_lag", lambda alias: calls.append(alias) or 0.0)
    with dbrouter.reading_from_replica():
        for _ in range(5):
            ROUTER.db_for_read(User)
    assert calls == [replica]


def _seen(request_factory_call):
    """Run the middleware around a view that reports whether its reads may use a replica."""
    seen = {}

    def view(request):
        seen["ok"] = dbrouter._replica_ok.get()
        return HttpResponse("x")

    response = dbrouter.ReplicaReadsMiddleware(view)(request_factory_call)
    return seen["ok"], response


def test_safe_requests_read_the_replica_until_the_browser_writes(replica):
    rf = RequestFactory()
    ok, _ = _seen(rf.get("/"))
    assert ok is True
    ok, response = _seen(rf.post("/"))
    assert ok is False and dbrouter.PIN_COOKIE in response.cookies
    pinned = response.cookies[dbrouter.PIN_COOKIE].value
    assert float(pinned) > time.time() + 5  # read-your-writes window beyond the largest allowed lag

    after = rf.get("/")
    after.COOKIES[dbrouter.PIN_COOKIE] = pinned
    assert _seen(after)[0] is False  # the writer reads the primary for a while
    expired = rf.get("/")
    expired.COOKIES[dbrouter.PIN_COOKIE] = f"{time.time() - 1:.3f}"
    assert _seen(expired)[0] is True
    garbage = rf.get("/")
    garbage.COOKIES[dbrouter.PIN_COOKIE] = "not-a-number"
    assert _seen(garbage)[0] is True


def test_without_replicas_the_middleware_sets_nothing():
    ok, response = _seen(RequestFactory().post("/"))
    assert ok is False and dbrouter.PIN_COOKIE not in response.cookies
