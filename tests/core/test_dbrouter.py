"""Read replicas: which reads go where (safe requests outside transactions; a browser that just wrote only
to a replica that has replayed its write), and a replica that lags or cannot be reached is taken out with
reads falling back to the primary."""

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

        assert ROUTER.db_for_read(Session) == replica  # guarded like every row by read-your-writes
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


def _seen(request_factory_call, *, write: bool = False):
    """Run the middleware around a view that reports where its reads go (and writes when asked)."""
    seen = {}

    def view(request):
        seen["db"] = ROUTER.db_for_read(User)
        if write:
            with connections["default"].cursor() as cur:
                cur.execute("UPDATE accounts_user SET name = name WHERE id = 0")
        return HttpResponse("x")

    response = dbrouter.ReplicaReadsMiddleware(view)(request_factory_call)
    return seen["db"], response


def _with_cookie(value):
    request = RequestFactory().get("/")
    request.COOKIES[dbrouter.PIN_COOKIE] = value
    return request


def test_safe_requests_read_the_replica_and_a_writer_only_one_that_has_its_write(replica):
    rf = RequestFactory()
    db, response = _seen(rf.get("/"))
    assert db == replica and dbrouter.PIN_COOKIE not in response.cookies  # a pure read tells nothing
    db, response = _seen(rf.post("/"))
    assert db == "default" and dbrouter.PIN_COOKIE in response.cookies
    pinned = response.cookies[dbrouter.PIN_COOKIE].value
    assert response.cookies[dbrouter.PIN_COOKIE]["max-age"] >= 6  # beyond the largest allowed lag
    if connections["default"].vendor == "postgresql":
        # the WAL position of the write: a replica that replayed it serves the writer at once (here the
        # "replica" is the primary itself), one still behind it does not
        assert pinned.startswith("lsn:") and dbrouter.parse_lsn(pinned[4:]) > 0
        assert _seen(_with_cookie(pinned))[0] == replica
        assert _seen(_with_cookie("lsn:FFFFFFFF/0"))[0] == "default"
    else:  # no WAL position to compare: the writer reads the primary for the whole window
        assert float(pinned) > time.time() + 5
        assert _seen(_with_cookie(pinned))[0] == "default"
        assert _seen(_with_cookie(f"{time.time() - 1:.3f}"))[0] == replica
    for garbage in ("not-a-number", "lsn:zz/1", "lsn:", "lsn:123456789/0"):
        assert _seen(_with_cookie(garbage))[0] == replica


def test_a_safe_request_that_wrote_tells_the_browser_too(replica):
    _db, response = _seen(RequestFactory().get("/"), write=True)
    assert dbrouter.PIN_COOKIE in response.cookies


def test_lsn_text_is_read_as_postgresql_writes_it():
    assert dbrouter.parse_lsn("0/0") == 0
    assert dbrouter.parse_lsn("16/B374D848") == (0x16 << 32) | 0xB374D848
    assert dbrouter.parse_lsn("1/0") > dbrouter.parse_lsn("0/FFFFFFFF")
    for bad in ("", "16", "/1", "1/", "x/1", "123456789/0"):
        with pytest.raises(ValueError):
            dbrouter.parse_lsn(bad)


def test_without_replicas_the_middleware_sets_nothing():
    db, response = _seen(RequestFactory().post("/"))
    assert db == "default" and dbrouter.PIN_COOKIE not in response.cookies
