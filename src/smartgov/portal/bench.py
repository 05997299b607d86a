"""``smartgov bench cluster --json``: the platform as a cluster (``smartgov cluster``) under load, beside
the same load on one of its app servers, in the same run (issue 19).

Uses a running cluster (``smartgov cluster up``) or starts one with the demo data and stops it after.
The one-stop benchmark's world (citizens with sessions, items, ``--cases`` historical cases) is made in
the cluster's database by a process on the primary; then, with Python keep-alive clients (or wrk when
installed) against 127.0.0.1 only:

- ``submit_per_s`` / ``status_per_s`` (and their p99) through HAProxy, and ``one_server_*`` the same
  requests sent to the first app server directly;
- ``replica_read_share``: of the table scans PostgreSQL counted during a mixed load (one submission to
  four status reads), the share done on the replica;
- ``replica_lag_p99_ms``: the primary's ``pg_stat_replication.replay_lag`` sampled every 100 ms
  during that load;
- ``push_cross_instance_p99_ms``: tickets issued by another process reach a hall display streaming
  from the last app server's live server (the same measure ``cluster check`` asserts).
"""

import subprocess
import sys
import threading
import time

import orjson
import psycopg

from smartgov.core.benchhttp import load
from smartgov.core.cluster import Cluster
from smartgov.core.cluster_check import _cross_instance_push, _pct

_WORLD = """
import orjson
from smartgov.onestop.bench import http_requests
world = http_requests(cases=CASES)
def out(reqs):
    return [(m, p, h, b.decode() if b else None) for m, p, h, b in reqs]
print("WORLD " + orjson.dumps({"raw_rate": world["raw_rate"], "submits": out(world["submits"]),
                               "status": out(world["status"])}).decode())
"""

_SCANS = ("SELECT coalesce(sum(seq_scan + coalesce(idx_scan, 0)), 0)::bigint FROM pg_stat_user_tables")


def _scalar(url: str, sql: str):
    with psycopg.connect(url, autocommit=True, connect_timeout=5) as conn:
        return conn.execute(sql).fetchone()[0]


def _world(cluster: Cluster, cases: int) -> dict:
    env = {**cluster.app_env(), "DATABASE_URL": cluster.urls()["primary"], "SMARTGOV_DB_TRANSACTION_POOLER": "false"}
    env.pop("DATABASE_REPLICA_URLS", None)
    made = subprocess.run(cluster._smartgov("shell", "-c", _WORLD.replace("CASES", str(int(cases)))), env=env,
                          capture_output=True, text=True, timeout=3600)
    line = next((x for x in made.stdout.splitlines() if x.startswith("WORLD ")), None)
    if made.returncode != 0 or line is None:
        raise RuntimeError(f"could not make the benchmark's world in the cluster: {made.stderr[-800:]}")
    world = orjson.loads(line[6:])
    for key in ("submits", "status"):
        world[key] = [(m, p, h, b.encode() if b else None) for m, p, h, b in world[key]]
    return world


def _lag_sampler(primary: str, stop: threading.Event, samples: list[float]) -> None:
    with psycopg.connect(primary, autocommit=True, connect_timeout=5) as conn:
        while not stop.is_set():
            row = conn.execute("SELECT coalesce(max(EXTRACT(EPOCH FROM replay_lag)), 0) * 1000 "
                               "FROM pg_stat_replication").fetchone()
            samples.append(float(row[0]))
            time.sleep(0.1)


def _port(url: str) -> int:
    return int(url.rsplit(":", 1)[1].split("/")[0])


def bench_cluster(*, clients: int = 50, cases: int = 20_000, seconds: int = 10, progress=None, **_) -> dict:
    cluster = Cluster(out=sys.stderr)  # stdout carries the one JSON object
    started_here = not cluster._pids()
    if started_here:
        cluster.up(demo=True)
    try:
        urls = cluster.urls()
        world = _world(cluster, cases)
        submits, status = world["submits"], world["status"]
        mixed = [r for k, s in enumerate(submits) for r in [s, *status[4 * k % len(status):4 * k % len(status) + 4]]]
        proxy, one = _port(urls["haproxy"]), cluster.ports.app(0)
        load(proxy, submits[:20] + status[:20], seconds=2, connections=4)  # warm up both servers
        out = {"database": "postgresql (the cluster's primary and replica)", "servers": cluster.app_servers, "clients": clients, "cases": cases,
               "raw_load_per_s": round(world["raw_rate"])}
        for name, port in (("", proxy), ("one_server_", one)):
            sub = load(port, submits, seconds=seconds, connections=clients)
            st = load(port, status, seconds=seconds, connections=clients)
            out.update({f"{name}submit_per_s": round(sub["per_s"], 1), f"{name}submit_p99_ms": sub["p99_ms"],
                        f"{name}status_per_s": round(st["per_s"], 1), f"{name}status_p99_ms": st["p99_ms"]})
            out["load_client"] = sub["client"]
        # the mixed load through HAProxy: where the reads went, and how far the replica fell behind
        before = (_scalar(urls["replica"], _SCANS), _scalar(urls["primary"], _SCANS))
        stop, lag = threading.Event(), []
        sampler = threading.Thread(target=_lag_sampler, args=(urls["primary"], stop, lag), daemon=True)
        sampler.start()
        mix = load(proxy, mixed, seconds=seconds, connections=clients)
        stop.set()
        sampler.join(5)
        on_replica = on_primary = 0
        waited = time.monotonic()
        while time.monotonic() - waited < 20:  # statistics reach the views up to ~10 s later (PostgreSQL 15)
            time.sleep(1)
            on_replica = _scalar(urls["replica"], _SCANS) - before[0]
            on_primary = _scalar(urls["primary"], _SCANS) - before[1]
            if on_replica > 0 and on_primary > 0:
                break
        total = on_replica + on_primary
        pushes = _cross_instance_push(cluster, urls)
        out.update({
            "mixed_per_s": round(mix["per_s"], 1), "mixed_p99_ms": mix["p99_ms"],
            "replica_read_share": round(on_replica / total, 3) if total else None,
            "replica_scans": int(on_replica), "primary_scans": int(on_primary),
            "replica_lag_p99_ms": _pct(lag, 0.99), "replica_lag_samples": len(lag),
            "push_cross_instance_p99_ms": _pct(pushes, 0.99), "push_cross_instance_p50_ms": _pct(pushes, 0.5),
            "pushes": len(pushes),
        })
        return out
    finally:
        if started_here:
            cluster.down(purge=True)


BENCHMARKS = {"cluster": bench_cluster}
