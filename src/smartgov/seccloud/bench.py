"""``smartgov bench seccloud --json``: events per second through collection → parse → rule pack →
Merkle leaves and storage, over UDP syslog and over HTTP JSON lines; the raw insert rate of the same
rows; alert latency; inclusion and consistency proofs at ≥ 10,000,000 leaves.

- ``eps_udp``: a ``smartgov seccloud listen`` process; this process sends RFC 5424 lines (sshd,
  nginx, sudo, platform actions, with scanner and brute-force traffic mixed in) over UDP, at most
  ``lead`` lines ahead of what is committed (a sender that outruns the receiver only measures the
  kernel dropping datagrams); the clock runs from the first send until the last line is committed.
- ``eps_http``: gunicorn (``core.benchhttp.server``), 4 clients POSTing 1,000 JSON lines each.
- ``eps_pipeline``: ``ingest.ingest`` called in-process on 5,000-line batches (no network).
- ``raw_insert_per_s``: the stored rows inserted again into an identical table in batches of the
  same size (executemany / COPY): the database's own speed, the ceiling ``ratio`` is taken against.
- ``alert_latency_p99_ms``: during the UDP run, bursts of 10 sshd failures from fresh addresses; from
  sending the 10th line to the commit of the brute-force alert (``Alert.created_at``).
- ``proof_*``: the log is extended with synthetic leaf hashes to ``proof_leaves`` (default 2^23 + …
  ≥ 10,000,000) — tiles written exactly as ingest writes them, without event rows — then random
  inclusion and consistency proofs are read from the tiles, each verified. ``proof_p99_ms`` is wall
  time; ``proof_cpu_p99_ms`` the CPU time of the same proofs (on a loaded machine the wall tail is
  mostly waiting for a core).
"""

import http.client
import os
import random
import signal
import socket
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

import orjson
from django.db import connection, transaction

from smartgov.accounts.services import create_department
from smartgov.core import merkle
from smartgov.core.benchhttp import database_url, free_port, server
from smartgov.core.permissions import system_actor
from smartgov.core.processes import child_env

from . import ingest, services, store
from .models import Alert, Event, LogHead, Rule, Source

ACTOR = system_actor("bench.seccloud")
HOSTS = [f"web{i}" for i in range(8)]
SCAN_PATHS = [".env", ".git/config", "wp-login.php", "phpmyadmin/", "actuator/env", "admin", "backup.zip", "x"]


def _setup():
    dept = create_department(actor=ACTOR, name="基准测试局", code="BENCH-SEC", level="city")
    text = (Path(__file__).parent / "rules" / "pack.yml").read_text()
    services.upload_rules(actor=ACTOR, yaml_text=text, builtin=True)
    ingest.reset_pack()
    syslog, _ = services.register_source(actor=ACTOR, department=dept, name="主机", kind="syslog",
                                         address="127.0.0.1")
    http_src, token = services.register_source(actor=ACTOR, department=dept, name="应用", kind="http")
    return dept, syslog, http_src, token


def _syslog_line(i: int, now: str) -> str:
    r = i % 10
    host = HOSTS[i % len(HOSTS)]
    ip = f"10.{(i >> 16) & 255}.{(i >> 8) & 255}.{i & 255}"
    if r < 4:
        return (f'<14>1 {now} {host} nginx - - - {ip} - - [04/Dec/2026:10:00:00 +0800] "GET /api/items/{i} HTTP/1.1" '
                f'200 512 "-" "Mozilla/5.0"')
    if r < 6:
        return f"<38>1 {now} {host} sshd {i} - - Accepted publickey for deploy from {ip} port 50022 ssh2"
    if r == 6:
        return f"<86>1 {now} {host} sudo - - - ops : TTY=pts/0 ; PWD=/home/ops ; USER=root ; COMMAND=/usr/bin/systemctl status"
    if r == 7:  # a handful of scanners probing many paths
        return (f'<14>1 {now} {host} nginx - - - 203.0.113.{i % 16} - - [04/Dec/2026:10:00:00 +0800] '
                f'"GET /{SCAN_PATHS[i % len(SCAN_PATHS)]} HTTP/1.1" 404 0 "-" "Nuclei - Open-source project"')
    if r == 8:
        return (f'<13>1 {now} {host} smartgov - - [sg@1 user="officer{i % 50}" src_ip="{ip}" '
                f'action="onestop.application.submit" outcome="success"] submitted')
    return f"<38>1 {now} {host} sshd {i} - - Failed password for admin from {ip} port 50022 ssh2"


def _burst(ip: str, now: str) -> list[str]:
    return [f"<38>1 {now} bastion sshd 1 - - Failed password for root from {ip} port 4711 ssh2" for _ in range(10)]


def _stored(source_id: int) -> int:
    return Source.objects.filter(pk=source_id).values_list("stored", flat=True).first() or 0


def _udp_run(source: Source, n: int, lead: int, progress) -> dict:
    port = free_port()
    env = child_env({"DATABASE_URL": database_url(), "PYTHONUNBUFFERED": "1"})
    proc = subprocess.Popen([sys.executable, "-m", "smartgov", "seccloud", "listen", "--bind", f"127.0.0.1:{port}"],
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        proc.stdout.readline()
        time.sleep(1.0)
        sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 4 * 1024 * 1024)
        now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
        lines = [_syslog_line(i, now).encode() for i in range(n)]
        base = _stored(source.pk)
        done, total, bursts = 0, 0, {}
        t0 = time.perf_counter()
        while done < n:
            chunk = lines[done:done + 2000]
            for line in chunk:
                sock.sendto(line, ("127.0.0.1", port))
            done += len(chunk)
            total += len(chunk)
            if done % 10000 < 2000:  # a brute-force burst from a fresh address
                ip = f"198.18.{len(bursts) // 250}.{len(bursts) % 250 + 1}"
                for line in _burst(ip, now):
                    sock.sendto(line.encode(), ("127.0.0.1", port))
                bursts[ip] = time.time()
                total += 10
            while total - (_stored(source.pk) - base) > lead:
                time.sleep(0.01)
            progress(len(chunk))
        deadline = time.perf_counter() + 60
        while _stored(source.pk) - base < total and time.perf_counter() < deadline:
            time.sleep(0.01)
        elapsed = time.perf_counter() - t0
        stored = _stored(source.pk) - base
        latencies = []
        for ip, sent_at in bursts.items():
            made = Alert.objects.filter(group_key=f"src_ip={ip}").values_list("created_at", flat=True).first()
            if made is not None:
                latencies.append((made.timestamp() - sent_at) * 1000)
        sock.close()
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
    latencies.sort()
    return {"eps_udp": round(stored / elapsed), "udp_sent": total, "udp_stored": stored,
            "alert_bursts": len(bursts), "alerts_raised": len(latencies),
            "alert_latency_p50_ms": round(latencies[len(latencies) // 2], 1) if latencies else None,
            "alert_latency_p99_ms": round(latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))], 1)
            if latencies else None}


def _http_run(token: str, n: int, clients: int, progress) -> dict:
    per = 1000
    batches = n // per
    now = datetime.now(UTC).isoformat()
    bodies = []
    for b in range(batches):
        bodies.append("\n".join(orjson.dumps({
            "time": now, "host": HOSTS[i % 8], "app": "gateway", "user": f"u{i % 300}",
            "src_ip": f"10.1.{(i >> 8) & 255}.{i & 255}", "action": "http.request" if i % 3 else "api.call",
            "outcome": "success", "path": f"/api/v1/items/{i}", "user_agent": "curl/8", "message": f"req {i}"}).decode()
            for i in range(b * per, (b + 1) * per)).encode())
    done = []
    with server(workers=2, threads=2) as port:
        host = "127.0.0.1"
        _wait_healthy(host, port)
        queue = list(range(batches))
        lock = threading.Lock()

        def client():
            conn = http.client.HTTPConnection(host, int(port), timeout=120)
            while True:
                with lock:
                    if not queue:
                        break
                    b = queue.pop()
                conn.request("POST", "/api/seccloud/ingest", body=bodies[b],
                             headers={"Authorization": f"Bearer {token}", "Content-Type": "text/plain"})
                resp = conn.getresponse()
                body = orjson.loads(resp.read())
                if resp.status != 200:
                    raise RuntimeError(f"ingest answered {resp.status}: {body}")
                done.append(body["stored"])
                progress(per)
            conn.close()

        t0 = time.perf_counter()
        threads = [threading.Thread(target=client) for _ in range(clients)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        elapsed = time.perf_counter() - t0
    return {"eps_http": round(sum(done) / elapsed), "http_lines": sum(done)}


def _wait_healthy(host: str, port: int, timeout: float = 180) -> None:
    """gunicorn can take longer than ``server()`` waits on a busy machine; the clock starts after this."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            c = http.client.HTTPConnection(host, port, timeout=5)
            c.request("GET", "/api/health")
            if c.getresponse().status == 200:
                return
        except OSError:
            pass
        if time.monotonic() > deadline:
            raise RuntimeError("the benchmark server did not start")
        time.sleep(0.5)


def _pipeline_run(source: Source, n: int, progress) -> dict:
    now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    lines = [_syslog_line(i, now) for i in range(n)]
    t0 = time.perf_counter()
    for k in range(0, n, 5000):
        ingest.ingest(actor=ACTOR, source=source, lines=lines[k:k + 5000], kind="syslog", transport="bench")
        progress(min(5000, n - k))
    return {"eps_pipeline": round(n / (time.perf_counter() - t0))}


COLUMNS = ("seq", "day", "at", "received_at", "source_id", "department_id", "host", "app", "severity", "user",
           "src_ip", "action", "outcome", "message", "extra", "raw", "leaf_hash")


def _raw_insert(batch: int) -> float:
    cols = ", ".join(f'"{c}"' for c in COLUMNS)
    with connection.cursor() as cur:
        cur.execute(f"SELECT {cols} FROM seccloud_event")  # noqa: S608
        rows = [tuple(bytes(v) if isinstance(v, memoryview) else v for v in r) for r in cur.fetchall()]
        cur.execute("DROP TABLE IF EXISTS seccloud_event_raw")
        if connection.vendor == "postgresql":
            cur.execute("CREATE TABLE seccloud_event_raw (LIKE seccloud_event INCLUDING ALL)")
        else:
            cur.execute("SELECT sql FROM sqlite_master WHERE name = 'seccloud_event'")
            cur.execute(cur.fetchone()[0].replace('"seccloud_event"', '"seccloud_event_raw"', 1))
            cur.execute("SELECT sql FROM sqlite_master WHERE tbl_name = 'seccloud_event' AND type = 'index' "
                        "AND sql IS NOT NULL")
            for (ddl,) in cur.fetchall():
                cur.execute(ddl.replace("INDEX \"", "INDEX \"raw_", 1).replace('"seccloud_event"', '"seccloud_event_raw"'))
    t0 = time.perf_counter()
    for k in range(0, len(rows), batch):
        part = rows[k:k + batch]
        with connection.cursor() as cur:
            if connection.vendor == "postgresql":
                with cur.cursor.copy(f"COPY seccloud_event_raw ({cols}) FROM STDIN") as copy:
                    for r in part:
                        copy.write_row(r)
            else:
                cur.execute("BEGIN")
                cur.executemany(f"INSERT INTO seccloud_event_raw ({cols}) VALUES ({', '.join(['%s'] * len(COLUMNS))})",  # noqa: S608
                                part)
                cur.execute("COMMIT")
    elapsed = time.perf_counter() - t0
    with connection.cursor() as cur:
        cur.execute("DROP TABLE seccloud_event_raw")
    return len(rows) / elapsed


def _grow_tree(target: int, progress) -> int:
    """Extend the log to ``target`` leaves with synthetic leaf hashes (tiles only)."""
    head = LogHead.objects.get(id=1)
    frontier = merkle.Frontier.loads(head.size, head.frontier)
    size = head.size
    chunk = 1 << 16
    while size < target:
        n = min(chunk - size % chunk, target - size)
        hashes = [os.urandom(32) for _ in range(n)]
        for h in hashes:
            frontier._push(h, 0)
        with transaction.atomic():
            store.append_leaf_hashes(size, hashes)
            size += n
            LogHead.objects.filter(id=1).update(size=size, frontier=frontier.dumps())
        progress(n)
    return size


def _proofs(size: int, n: int) -> dict:
    rng = random.Random(7)
    root = store.root_at(size)
    times, cpu = [], []
    t_all = time.perf_counter()
    for _ in range(n):
        i = rng.randrange(size)
        t0, c0 = time.perf_counter(), time.process_time()
        proof = store.inclusion_proof(i, size)
        times.append(time.perf_counter() - t0)
        cpu.append(time.process_time() - c0)
        reader = store.TileReader()
        leaf = reader.node(0, i)
        assert merkle.verify_leaf_inclusion(leaf, i, size, proof, root), i
    inc_elapsed = time.perf_counter() - t_all
    ctimes = []
    for _ in range(n // 4):
        m = rng.randrange(1, size)
        t0 = time.perf_counter()
        proof = store.consistency_proof(m, size)
        ctimes.append(time.perf_counter() - t0)
        assert merkle.verify_consistency(m, size, store.root_at(m), root, proof), m
    times.sort()
    ctimes.sort()
    cpu.sort()
    return {"proof_leaves": size, "proof_per_s": round(n / sum(times)),
            "proof_p50_ms": round(times[n // 2] * 1000, 3), "proof_p99_ms": round(times[int(n * 0.99)] * 1000, 3),
            # this process's CPU time per proof: what the proof costs, apart from waiting for a core
            "proof_cpu_p99_ms": round(cpu[int(n * 0.99)] * 1000, 3),
            "consistency_p99_ms": round(ctimes[int(len(ctimes) * 0.99)] * 1000, 3),
            "proof_with_verify_per_s": round(n / inc_elapsed)}


def bench_seccloud(*, size: int = 100_000, progress=None, proof_leaves: int = 10_000_000) -> dict:
    progress = progress or (lambda n: None)
    _, syslog, http_src, token = _setup()
    out = {"rules": Rule.objects.filter(enabled=True).count(), "cores": os.cpu_count()}
    out.update(_pipeline_run(http_src, min(size, 50_000), progress))
    out.update(_udp_run(syslog, size, lead=2_000, progress=progress))  # ≈ 300 kB: within a default socket buffer
    out.update(_http_run(token, size, clients=4, progress=progress))
    out["eps"] = min(out["eps_udp"], out["eps_http"])
    out["raw_insert_per_s"] = round(_raw_insert(5000))
    out["ratio"] = round(out["eps"] / out["raw_insert_per_s"], 3)
    out["events_stored"] = Event.objects.count()
    out["alerts"] = Alert.objects.count()
    size_now = _grow_tree(proof_leaves, progress)
    out.update(_proofs(size_now, 2000))
    return out


BENCHMARKS = {"seccloud": bench_seccloud}
