"""Measuring an HTTP endpoint the way users reach it: a gunicorn server (``smartgov serve``) on the
benchmark's scratch database, driven by wrk (a C load generator, so the client takes little of the
machine) or, when wrk is missing, by keep-alive Python threads (which read lower: they share the CPU).
"""

import http.client
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from contextlib import contextmanager
from pathlib import Path

from django.conf import settings
from django.db import connection

from .processes import child_env


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def database_url() -> str:
    """The URL of the database this process uses now (the scratch database during a benchmark)."""
    sd = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{Path(sd['NAME']).resolve()}"
    user = sd.get("USER") or ""
    auth = f"{user}:{sd['PASSWORD']}@" if sd.get("PASSWORD") else (f"{user}@" if user else "")
    return f"postgresql://{auth}{sd.get('HOST') or '127.0.0.1'}:{sd.get('PORT') or 5432}/{sd['NAME']}"


@contextmanager
def server(*, workers: int = 2, threads: int = 4, env: dict | None = None):
    """A gunicorn server on the current database; yields its port."""
    port = free_port()
    full_env = child_env({"DATABASE_URL": database_url(), "SMARTGOV_VAR_DIR": str(settings.VAR_DIR), **(env or {})})
    proc = subprocess.Popen([sys.executable, "-m", "smartgov", "serve", "--bind", f"127.0.0.1:{port}",
                             "--workers", str(workers), "--threads", str(threads)], env=full_env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        for _ in range(300):
            try:
                c = http.client.HTTPConnection("127.0.0.1", port, timeout=1)
                c.request("GET", "/api/health")
                c.getresponse().read()
                break
            except OSError:
                time.sleep(0.1)
        yield port
    finally:
        proc.terminate()
        proc.wait(20)


Request = tuple[str, str, dict, bytes | None]  # method, path, headers, body


def _lua_string(s: str) -> str:
    return "[==[" + s + "]==]"


def _ms(value: str, unit: str) -> float:
    return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60000.0}[unit]


def wrk(port: int, requests: list[Request], *, seconds: int, connections: int) -> dict:
    """Rate and latency percentiles (p50, p99 in ms) from wrk, cycling through ``requests``; every
    response must be 2xx."""
    rows = []
    for method, path, headers, body in requests:
        hdr = ",".join(f"[ {_lua_string(k)} ]={_lua_string(v)}" for k, v in headers.items())
        rows.append(f"{{m={_lua_string(method)},p={_lua_string(path)},h={{{hdr}}},"
                    f"b={_lua_string(body.decode()) if body else 'nil'}}}")
    script = ("local reqs = {" + ",\n".join(rows) + "}\nlocal i = math.random(#reqs)\n"
              "request = function() i = i % #reqs + 1 local r = reqs[i] return wrk.format(r.m, r.p, r.h, r.b) end\n")
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False, encoding="utf-8") as f:
        f.write(script)
    try:
        out = subprocess.run([shutil.which("wrk"), "-t2", f"-c{connections}", f"-d{seconds}s", "--latency",
                              "--timeout", "10s", "-s", f.name, f"http://127.0.0.1:{port}/"],
                             capture_output=True, text=True, check=True).stdout
    finally:
        os.unlink(f.name)
    if m := re.search(r"Non-2xx or 3xx responses: (\d+)", out):
        raise RuntimeError(f"{m.group(1)} failed requests under load:\n{out}")
    pct = {p: _ms(v, u) for p, v, u in re.findall(r"^\s+(50|99)%\s+([\d.]+)(us|ms|s|m)\s*$", out, re.M)}
    requests_done = int(re.search(r"(\d+) requests in", out).group(1))
    return {"per_s": float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)), "requests": requests_done,
            "p50_ms": pct.get("50"), "p99_ms": pct.get("99")}


def threads_load(port: int, requests: list[Request], *, total: int, connections: int) -> dict:
    """The same measure with Python keep-alive client threads (used when wrk is not installed)."""
    per = max(1, total // connections)
    errors, latencies = [], []

    def worker(k: int):
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        mine = []
        for i in range(per):
            method, path, headers, body = requests[(k * per + i) % len(requests)]
            t = time.perf_counter()
            conn.request(method, path, body=body, headers=headers)
            resp = conn.getresponse()
            data = resp.read()
            mine.append((time.perf_counter() - t) * 1000)
            if resp.status >= 300:
                errors.append(f"{resp.status} {data[:200]!r}")
        latencies.extend(mine)
        conn.close()

    ts = [threading.Thread(target=worker, args=(k,)) for k in range(connections)]
    t0 = time.perf_counter()
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    elapsed = time.perf_counter() - t0
    if errors:
        raise RuntimeError(f"{len(errors)} failed requests, e.g. {errors[0]}")
    latencies.sort()
    return {"per_s": len(latencies) / elapsed, "requests": len(latencies),
            "p50_ms": latencies[len(latencies) // 2], "p99_ms": latencies[int(len(latencies) * 0.99)]}


def load(port: int, requests: list[Request], *, seconds: int, connections: int) -> dict:
    if shutil.which("wrk"):
        return {**wrk(port, requests, seconds=seconds, connections=connections), "client": "wrk"}
    return {**threads_load(port, requests, total=200 * connections, connections=connections),
            "client": "python-threads"}
