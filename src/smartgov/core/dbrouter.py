"""Read replicas (issue 19): safe HTTP requests read from a PostgreSQL streaming replica; everything else
stays on the primary.

Which reads go to a replica — conservative on purpose, because a read that feeds a write must see the
primary:

- only inside a web request whose method is safe (GET, HEAD, OPTIONS) and only outside a transaction
  (``select_for_update``, services and every ``atomic`` block read the primary);
- read-your-writes by the write's position in the WAL: a request that wrote anything on the primary (every
  unsafe request, and a safe one that saved its session or recorded an audit entry) answers with a cookie
  holding the primary's WAL insert position after its commits (``pg_current_wal_insert_lsn()``, one query).
  While that browser sends it, a replica serves its reads only once it has replayed past that position
  (``pg_last_wal_replay_lsn()``: a per-process look that is repeated only while the replica is still
  behind); otherwise they go to the primary. So a user reads a replica as soon as it holds their write —
  within the replica's lag, tens of milliseconds — instead of a fixed window, and still never reads a
  replica that has not replayed it. The cookie lives ``READ_YOUR_WRITES_SECONDS``, at least the largest lag
  a replica in use may have (``REPLICA_MAX_LAG_SECONDS``). Without PostgreSQL (tests on SQLite) the cookie
  holds a time instead and pins that browser to the primary for the whole window;
- sessions are read like everything else under that rule (a fresh sign-in sends its position with it), so
  a replica in use may still show a session for at most its lag after a sign-out elsewhere — the same bound
  as any other row it serves;
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
PIN_COOKIE = "sg_primary_until"  # a time (no PostgreSQL), or "lsn:<X/Y>" — the position the browser wrote at
# models whose reads always go to the primary (none today: sessions follow the read-your-writes rule)
PRIMARY_ONLY: frozenset[str] = frozenset()

_replica_ok: contextvars.ContextVar[bool] = contextvars.ContextVar("smartgov_replica_ok", default=False)
# the WAL position a replica must have replayed to serve this request (0: any healthy replica)
_min_lsn: contextvars.ContextVar[int] = contextvars.ContextVar("smartgov_min_lsn", default=0)

# where a server stands in the WAL: a replica's replay position; a primary (tests, a replica promoted) its own
POSITION_SQL = ("SELECT CASE WHEN pg_is_in_recovery() THEN pg_last_wal_replay_lsn() "
                "ELSE pg_current_wal_insert_lsn() END::text")
WRITE_SQL = "SELECT pg_current_wal_insert_lsn()::text"


def parse_lsn(text: str) -> int:
    """PostgreSQL's ``X/Y`` (two hexadecimal halves) as one number; ValueError when it is not one."""
    hi, sep, lo = text.partition("/")
    if not sep or not (0 < len(hi) <= 8 and 0 < len(lo) <= 8):
        raise ValueError(text)
    return (int(hi, 16) << 32) | int(lo, 16)

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
        self.positions: dict[str, int] = {}  # alias → the highest replay position seen

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
            self.positions.clear()

    def replayed(self, alias: str, lsn: int) -> bool:
        """Whether ``alias`` has replayed the WAL up to ``lsn``; asks it again only while it seemed behind
        (positions only grow)."""
        with self.lock:
            known = self.positions.get(alias, 0)
        if known >= lsn:
            return True
        try:
            with connections[alias].cursor() as cur:
                cur.execute(POSITION_SQL)
                now_at = parse_lsn(cur.fetchone()[0] or "0/0")
        except (DatabaseError, ValueError):
            return False
        with self.lock:
            self.positions[alias] = max(self.positions.get(alias, 0), now_at)
        return now_at >= lsn


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


def pick_replica(min_lsn: int = 0) -> str | None:
    """A healthy replica that has replayed up to ``min_lsn``, round robin over them; None when there is none."""
    aliases = replica_aliases()
    if not aliases:
        return None
    start = next(HEALTH.turn)
    for i in range(len(aliases)):
        alias = aliases[(start + i) % len(aliases)]
        if healthy(alias) and (not min_lsn or HEALTH.replayed(alias, min_lsn)):
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
def reading_from_replica(allowed: bool = True, *, min_lsn: int = 0):
    """Let the reads in this block go to a replica (a report or an export that tolerates lag); with ``min_lsn``,
    only to one that has replayed up to that WAL position."""
    token, lsn_token = _replica_ok.set(allowed), _min_lsn.set(min_lsn)
    try:
        yield
    finally:
        _replica_ok.reset(token)
        _min_lsn.reset(lsn_token)


class ReplicaRouter:
    """Django database router: see the module's docstring."""

    def db_for_read(self, model, **hints):
        if not _replica_ok.get() or model._meta.label_lower in PRIMARY_ONLY:
            return PRIMARY
        if in_transaction():
            return PRIMARY
        return pick_replica(_min_lsn.get()) or PRIMARY

    def db_for_write(self, model, **hints):
        return PRIMARY

    def allow_relation(self, obj1, obj2, **hints):
        return True  # replicas are copies of the primary

    def allow_migrate(self, db, app_label, model_name=None, **hints):
        return db == PRIMARY


class _WriteWatch:
    """Notes whether a statement other than a read ran on the primary (an execute wrapper)."""

    READS = ("SELECT", "SHOW", "SET", "WITH", "BEGIN", "COMMIT", "ROLLBACK", "SAVEPOINT", "RELEASE")

    def __init__(self):
        self.wrote = False

    def __call__(self, execute, sql, params, many, context):
        if not self.wrote and not sql.lstrip()[:9].upper().startswith(self.READS):
            self.wrote = True
        return execute(sql, params, many, context)


class ReplicaReadsMiddleware:
    """Opens safe requests to a replica, for a browser that wrote only to one that has replayed its write;
    a request that wrote tells the browser where (see the module's docstring). It sits outside the session
    middleware, so a session saved by the request counts as its write."""

    def __init__(self, get_response):
        self.get_response = get_response

    def _pinned(self, request) -> tuple[bool, int]:
        """(whether the browser's reads must stay on the primary, the WAL position a replica must have)."""
        value = request.COOKIES.get(PIN_COOKIE, "")
        if value.startswith("lsn:"):
            try:
                return False, parse_lsn(value[4:])
            except ValueError:
                return False, 0
        try:
            return float(value or "0") > time.time(), 0
        except ValueError:
            return False, 0

    def __call__(self, request):
        if not replica_aliases():
            return self.get_response(request)
        safe = request.method in SAFE_METHODS
        pinned, min_lsn = self._pinned(request)
        primary = connections[PRIMARY]
        watch = _WriteWatch()
        with reading_from_replica(safe and not pinned, min_lsn=min_lsn), primary.execute_wrapper(watch):
            response = self.get_response(request)
        if not safe or watch.wrote:
            response.set_cookie(PIN_COOKIE, self._written_at(), max_age=settings.READ_YOUR_WRITES_SECONDS,
                                httponly=True, samesite="Lax", secure=request.is_secure())
        return response

    @staticmethod
    def _written_at() -> str:
        """The cookie after a write: the primary's WAL position (PostgreSQL), else the end of the time window."""
        primary = connections[PRIMARY]
        if primary.vendor == "postgresql":
            try:
                with primary.cursor() as cur:
                    cur.execute(WRITE_SQL)
                    return "lsn:" + cur.fetchone()[0]
            except DatabaseError:
                log.warning("could not read the primary's WAL position; pinning this browser by time")
        return f"{time.time() + settings.READ_YOUR_WRITES_SECONDS:.3f}"
