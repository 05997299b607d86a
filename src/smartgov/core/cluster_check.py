"""``smartgov cluster check``: an end-to-end check across a running cluster, from outside, as a browser and
a device would: through HAProxy to both app servers, a write on one seen on the other, the write
replicated and read back from the replica, anonymous page reads served by the replica, and scans
published over MQTT stored by the two ingest workers. Every request goes to 127.0.0.1."""

import http.cookiejar
import re
import secrets
import subprocess
import threading
import time
import urllib.parse
import urllib.request

import psycopg

from .cluster import Cluster
from .validators import id_number_check_char


class _Browser:
    def __init__(self, base: str):
        self.base = base
        self.jar = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.jar))

    def request(self, path: str, data: dict | None = None) -> tuple[int, str, str]:
        body = urllib.parse.urlencode(data).encode() if data is not None else None
        req = urllib.request.Request(self.base + path, data=body,  # noqa: S310 — http://127.0.0.1 only
                                     headers={"Referer": self.base + path})
        try:
            with self.opener.open(req, timeout=60) as resp:
                return resp.status, resp.headers.get("X-SmartGov-Server", ""), resp.read().decode()
        except urllib.error.HTTPError as exc:
            return exc.code, exc.headers.get("X-SmartGov-Server", ""), exc.read().decode(errors="replace")

    def csrf(self, path: str) -> str:
        status, _server, page = self.request(path)
        match = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page)
        if status != 200 or not match:
            raise AssertionError(f"{path} answered {status} without a form")
        return match.group(1)


def _scalar(url: str, sql: str, params=()):
    with psycopg.connect(url, autocommit=True, connect_timeout=5) as conn:
        return conn.execute(sql, params).fetchone()[0]


def run_check(cluster: Cluster) -> dict:
    urls = cluster.urls()
    report: dict = {"ok": False, "failures": [], "steps": {}}

    def step(name: str, ok: bool, **facts):
        report["steps"][name] = {"ok": bool(ok), **facts}
        if not ok:
            report["failures"].append(name)
        cluster.say(f"{'✓' if ok else '✗'} {name} {facts}")

    # 1. HAProxy spreads requests over every app server, each of which reads the replica
    seen, replicas = set(), []
    for _ in range(2 * cluster.app_servers + 2):
        b = _Browser(urls["haproxy"])
        status, server, body = b.request("/api/health")
        seen.add(server)
        replicas.append('"in_use":true' in body.replace(" ", ""))
    step("haproxy_spreads_over_servers", len(seen) >= cluster.app_servers, servers=sorted(seen))
    step("replica_in_use", all(replicas))

    # 2. a citizen registers through HAProxy (a write on one server); every server then knows the session
    name = f"集群{secrets.randbelow(10**6):06d}"
    first17 = f"330106{1970 + secrets.randbelow(30)}0101{secrets.randbelow(1000):03d}"
    citizen = _Browser(urls["haproxy"])
    token = citizen.csrf("/eid/register/")
    password = secrets.token_urlsafe(12) + "aA1!"
    status, wrote_on, page = citizen.request("/eid/register/", {
        "csrfmiddlewaretoken": token, "name": name, "id_number": first17 + id_number_check_char(first17),
        "phone": f"139{secrets.randbelow(10**8):08d}", "password": password, "password2": password})
    step("write_through_haproxy", status == 200 and name in page, status=status, server=wrote_on)
    readers = set()
    for _ in range(2 * cluster.app_servers):
        status, server, page = citizen.request("/eid/")
        if status == 200 and name in page:
            readers.add(server)
    step("own_write_seen_on_every_server", len(readers) >= min(2, cluster.app_servers), servers=sorted(readers))

    # 3. the write reaches the replica (streaming replication), and how long it took
    started, lag_ms = time.monotonic(), None
    while time.monotonic() - started < 10:
        if _scalar(urls["replica"], "SELECT count(*) FROM accounts_user WHERE name = %s", [name]):
            lag_ms = round((time.monotonic() - started) * 1000, 1)
            break
        time.sleep(0.05)
    step("write_replicated", lag_ms is not None, seen_after_ms=lag_ms)

    # 4. anonymous page reads are served by the replica (its own table statistics count them)
    scans = ("SELECT coalesce(sum(seq_scan + coalesce(idx_scan, 0)), 0)::bigint FROM pg_stat_user_tables "
             "WHERE relname = 'onestop_serviceitem'")
    before_replica, before_primary = _scalar(urls["replica"], scans), _scalar(urls["primary"], scans)
    for _ in range(10):
        _Browser(urls["haproxy"]).request("/onestop/")
    # a backend flushes its table statistics at most once a second, and an idle one only after up to
    # ten seconds (PostgreSQL 15's cumulative statistics): wait until the reads have been counted
    started, on_replica, on_primary = time.monotonic(), 0, 0
    while time.monotonic() - started < 20 and on_replica + on_primary < 10:
        time.sleep(0.5)
        on_replica = _scalar(urls["replica"], scans) - before_replica
        on_primary = _scalar(urls["primary"], scans) - before_primary
    share = on_replica / (on_replica + on_primary) if on_replica + on_primary else 0.0
    step("reads_served_by_replica", share >= 0.8, replica_scans=int(on_replica), primary_scans=int(on_primary),
         replica_share=round(share, 3))

    # 5. scans published over MQTT are stored once, by the ingest workers sharing the subscription
    before = _scalar(urls["primary"], "SELECT count(*) FROM grain_scan")
    env = {**cluster.app_env(), "DATABASE_URL": urls["primary"], "SMARTGOV_DB_TRANSACTION_POOLER": "false"}
    env.pop("DATABASE_REPLICA_URLS", None)
    sim = subprocess.run([*cluster._smartgov("grain", "simulate", "--depots", "1", "--warehouses", "3", "--days", "4",
                                             "--seed", str(secrets.randbelow(10**6)))],
                         env=env, capture_output=True, text=True, timeout=600)
    published = sim.returncode == 0
    started, stored = time.monotonic(), 0
    while published and time.monotonic() - started < 60:
        stored = _scalar(urls["replica"], "SELECT count(*) FROM grain_scan") - before
        if stored >= 12:
            break
        time.sleep(0.5)
    workers = [n for n in (f"ingest{i + 1}" for i in range(cluster.ingest_workers))
               if _log_mentions(cluster, n, "stored")]
    step("mqtt_scans_stored_through_the_workers", published and stored >= 12, stored=int(stored),
         workers_that_stored=workers, simulate_rc=sim.returncode, simulate_err=sim.stderr[-300:])

    # 6. a live push crosses instances: a display connected to the last app server's live (SSE) server
    # receives the tickets another process issues (the hall event log in PostgreSQL is the bus)
    latencies = _cross_instance_push(cluster, urls)
    step("live_push_across_instances", len(latencies) >= 8 and max(latencies, default=1e9) <= 500,
         pushes=len(latencies), p50_ms=_pct(latencies, 0.5), max_ms=round(max(latencies), 1) if latencies else None)
    report["push_cross_instance_ms"] = latencies

    report["ok"] = not report["failures"]
    return report


_ISSUE_TICKETS = """
import time
from smartgov.core.permissions import system_actor
from smartgov.hall.models import Hall
from smartgov.hall.services import issue_ticket
hall = Hall.objects.get(code="HALL_CODE")
service = hall.services.order_by("code").first()
for _ in range(10):
    time.sleep(0.4)
    issue_ticket(actor=system_actor("cluster-check"), hall=hall, service=service)
    print("COMMITTED", time.time(), flush=True)
"""


def _pct(values: list[float], q: float):
    return round(sorted(values)[min(len(values) - 1, int(q * len(values)))], 1) if values else None


def _cross_instance_push(cluster: Cluster, urls: dict, hall: str = "CRJ-SFC") -> list[float]:
    """Milliseconds from each ticket's commit (in a separate process on the pooled database, standing for
    another app server) to the first SSE message the last app server's live server sends afterwards."""
    arrivals: list[float] = []
    live = f"http://127.0.0.1:{cluster.ports.app(cluster.app_servers - 1) + 1}/hall/live/{hall}/"
    ready = threading.Event()

    def listen():
        try:
            with urllib.request.urlopen(live, timeout=30) as resp:  # http://127.0.0.1 only
                for raw in resp:
                    if raw.startswith(b"event:"):
                        arrivals.append(time.time())
                        ready.set()
        except OSError:
            ready.set()

    threading.Thread(target=listen, daemon=True).start()
    if not ready.wait(20) or not arrivals:
        return []
    time.sleep(0.5)
    env = {**cluster.app_env()}
    env.pop("DATABASE_REPLICA_URLS", None)
    issued = subprocess.run([*cluster._smartgov("shell", "-c", _ISSUE_TICKETS.replace("HALL_CODE", hall))], env=env,
                            capture_output=True, text=True, timeout=300)
    time.sleep(1)
    commits = [float(line.split()[1]) for line in issued.stdout.splitlines() if line.startswith("COMMITTED ")]
    latencies = []
    for at in commits:
        after = [a for a in arrivals if a >= at]
        if after:
            latencies.append(round((after[0] - at) * 1000, 1))
    return latencies


def _log_mentions(cluster: Cluster, name: str, word: str) -> bool:
    path = cluster.dir / "logs" / f"{name}.log"
    return path.exists() and word in path.read_text(errors="replace")[-200_000:]


