"""Read replicas (issue 19): safe HTTP requests read from a PostgreSQL streaming replica; everything else
stays on the primary.

Which reads go to a replica — conservative on purpose, because a read that feeds a write must see the
primary:

- only inside a web request whose method is safe (GET, HEAD, OPTIONS) and only outside a transaction
  (``select_for_update``, services and every ``atomic`` block read the primary);
- never for a user who wrote recently (read-your-writes): an unsafe request sets a cookie that keeps
  that browser on the primary for ``READ_YOUR_WRITES_SECONDS``. That window is at least the largest lag
  a replica may have before it is taken out (``REPLICA_MAX_LAG_SECONDS``), so a user never reads a
  replica that has not replayed their write. A time window was chosen over waiting for the write's LSN
  (``pg_last_wal_replay_lsn() >= lsn``) because it costs no extra round trip on every read and works
  through PgBouncer; the price is a few seconds of the writer's reads on the primary;
- never for sessions (a fresh sign-in must not look signed out on a replica that is behind);
- background jobs, ingest workers and commands read the primary unless they ask for the replica with
  ``reading_from_replica()`` (reports and exports that tolerate a few seconds of lag).

A replica is checked at most every ``REPLICA_CHECK_SECONDS``: one query for its replay lag. One that
cannot be reached or lags more than ``REPLICA_MAX_LAG_SECONDS`` is taken
out and reads fall back to the primary until a later check finds it well again."""

import contextlib
import contextvars
import itertools
import logging
import threading
import time

from django.conf import settings
from django.db import DatabaseError, connections

log = logging.getLogger("smartgov.db")

PRIMARY = "default"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
PIN_COOKIE = "sg_primary_until"
# models whose reads always go to the primary
PRIMARY_ONLY = frozenset({"sessions.session"})

_replica_ok: contextvars.ContextVar[bool] = contextvars.ContextVar("smartgov_replica_ok", default=False)

# lag in seconds, or None when the replica could not be asked (replay lag is 0 when it has replayed
# everything it received; an idle primary does not make a replica look behind)
LAG_SQL = ("SELECT CASE WHEN NOT pg_is_in_recovery() THEN 0 "
           "WHEN pg_last_wal_receive_lsn() = pg_last_wal_replay_lsn() THEN 0 "
           "ELSE COALESCE(EXTRACT(EPOCH FROM now() - pg_last_xact_replay_timestamp()), 0) END")


def replica_aliases() -> list[str]:
    return [alias for alias in connections.settings if alias.startswith("replica")]


class _Health:
    """Per process: when each replica was last checked and what was found."""

    def __init__(self):
        self.lock = threading.Lock()
        self.checked: dict[str, tuple[float, float | None]] = {}  # alias → (monotonic time, lag or None)
        self.turn = itertools.count()

    def lag(self, alias: str, *, fresh: bool = False) -> float | None:
        now = time.monotonic()
        with self.lock:
            seen = self.checked.get(alias)
        if seen is not None and not fresh and now - seen[0] < settings.REPLICA_CHECK_SECONDS:
            return seen[1]
        lag = measure_lag(alias)
        with self.lock:
            self.checked[alias] = (now, lag)
        return lag

    def reset(self):
        with self.lock:
            self.checked.clear()


HEALTH = _Health()


def measure_lag(alias: str) -> float | None:
    """The replica's replay lag in seconds, or None when it cannot be reached."""
    try:
        with connections[alias].cursor() as cur:
            cur.execute(LAG_SQL if connections[alias].vendor == "postgresql" else "SELECT 0")
            return float(cur.fetchone()[0])
    except DatabaseError as exc:
        log.warning("replica %s unreachable, reads fall back to the primary: %s", alias, exc)
        with contextlib.suppress(DatabaseError):
            connections[alias].close()
        return None


def healthy(alias: str) -> bool:
    lag = HEALTH.lag(alias)
    return lag is not None and lag <= settings.REPLICA_MAX_LAG_SECONDS


def pick_replica() -> str | None:
    """A healthy replica, round robin over them; None when there is none."""
    aliases = replica_aliases()
    if not aliases:
        return None
    start = next(HEALTH.turn)
    for i in range(len(aliases)):
        alias = aliases[(start + i) % len(aliases)]
        if healthy(alias):
            return alias
    return None


def status() -> list[dict]:
    """For the health endpoint: each replica, its lag and whether reads go to it."""
    out = []
    for alias in replica_aliases():
        lag = HEALTH.lag(alias)
        out.append({"alias": alias, "lag_s": None if lag is None else round(lag, 3),
                    "in_use": lag is not None and lag <= settings.REPLICA_MAX_LAG_SECONDS})
    return out


def in_transaction() -> bool:
    """A transaction the code opened on the primary (not the wrapper a test case puts around a test,
    which Django marks the same way for ``durable`` blocks)."""
    return any(not getattr(block, "_from_testcase", False) for block in connections[PRIMARY].atomic_blocks)


@contextlib.contextmanager
def reading_from_replica(allowed: bool = True):
    """Let the reads in this block go to a replica (a report or an export that tolerates lag)."""
    token = _replica_ok.set(allowed)
    try:
        yield
    finally:
        _replica_ok.reset(token)


class ReplicaRouter:
    """Django database router: see the module's docstring."""

    def db_for_read(self, model, **hints):
        if not _replica_ok.get() or model._meta.label_lower in PRIMARY_ONLY:
            return PRIMARY
        if in_transaction():
            return PRIMARY
        return pick_replica() or PRIMARY

    def db_for_write(self, model, **hints):
        return PRIMARY

    def allow_relation(self, obj1, obj2, **hints):
        return True  # replicas are copies of the primary

    def allow_migrate(self, db, app_label, model_name=None, **hints):
        return db == PRIMARY


class ReplicaReadsMiddleware:
    """Opens safe requests to the replica unless this browser wrote within READ_YOUR_WRITES_SECONDS;
    an unsafe request keeps the browser on the primary for that long."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if not replica_aliases():
            return self.get_response(request)
        safe = request.method in SAFE_METHODS
        try:
            pinned_until = float(request.COOKIES.get(PIN_COOKIE, "0"))
        except ValueError:
            pinned_until = 0.0
        with reading_from_replica(safe and pinned_until <= time.time()):
            response = self.get_response(request)
        if not safe:
            response.set_cookie(PIN_COOKIE, f"{time.time() + settings.READ_YOUR_WRITES_SECONDS:.3f}",
                                max_age=settings.READ_YOUR_WRITES_SECONDS, httponly=True, samesite="Lax",
                                secure=request.is_secure())
        return response
