"""``smartgov bench identity``: the identity issue's figures in one JSON object.

- ``demographic_verify_per_s``: partner verifications (name + ID number) through the real HTTP API —
  a gunicorn server on the scratch database and keep-alive client threads on the same machine —
  beside ``http_baseline_per_s``, the same server answering ``/api/health`` (no database, no auth).
- the register import of a 100,000-row person file (``smartgov.identity.bench``), biometric 1:N
  figures (``smartgov.biometrics.bench``), licence signature checks (``smartgov.licences.bench``).
"""

import http.client
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time

import orjson
from django.conf import settings
from django.db import transaction

from smartgov.accounts.models import Department, Level
from smartgov.accounts.services import create_department
from smartgov.biometrics.bench import measure_identify
from smartgov.core.benchhttp import database_url as _database_url
from smartgov.core.benchhttp import free_port as _free_port
from smartgov.core.permissions import system_actor
from smartgov.core.processes import child_env
from smartgov.core.validators import id_number_check_char, org_code_check_char, uscc_check_char
from smartgov.identity.bench import measure_import
from smartgov.identity.models import Person
from smartgov.licences.bench import measure_licence_verify

from .services import register_partner


def _people(n: int) -> list[tuple[str, str]]:
    """n register persons (bulk-created through the model's own field logic), as (name, ID number)."""
    out, objs = [], []
    for i in range(n):
        first17 = f"310104{1950 + i % 50}{1 + i % 12:02d}{1 + i % 28:02d}{i % 1000:03d}"
        idn = first17 + id_number_check_char(first17)
        name = f"测试{i:05d}"
        p = Person(name=name, id_number=idn)
        p.clean()
        for f in Person._meta.fields:  # fill the blind index the way save() would
            if f.name.endswith("_bidx"):
                f.pre_save(p, True)
        objs.append(p)
        out.append((name, idn))
    with transaction.atomic():
        Person.objects.bulk_create(objs, batch_size=1000, ignore_conflicts=True)  # re-runs reuse them
    return out


def _load(port: int, path: str, body: bytes | None, headers: dict, total: int, threads: int) -> float:
    per = total // threads
    errors: list[str] = []

    def worker(k: int):
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        for i in range(per):
            payload = body(k * per + i) if callable(body) else body
            conn.request("POST" if payload is not None else "GET", path, body=payload, headers=headers)
            resp = conn.getresponse()
            data = resp.read()
            if resp.status != 200:
                errors.append(f"{resp.status} {data[:200]!r}")
        conn.close()

    ts = [threading.Thread(target=worker, args=(k,)) for k in range(threads)]
    t0 = time.perf_counter()
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    elapsed = time.perf_counter() - t0
    if errors:
        raise RuntimeError(f"{len(errors)} failed requests, e.g. {errors[0]}")
    return per * threads / elapsed


def _wrk(port: int, path: str, bodies: list[bytes], headers: dict, seconds: int, connections: int) -> float:
    """Requests/s from wrk (a C load generator, so the client takes little of the 2 cores); every
    response must be 2xx. Request bodies rotate through ``bodies`` (a POST) or none (a GET)."""
    lines = [f'wrk.headers["{k}"] = "{v}"' for k, v in headers.items()]
    if bodies:
        lines.append('wrk.method = "POST"')
        lines.append("local bodies = {" + ",".join(f"[==[{b.decode()}]==]" for b in bodies) + "}")
        lines.append("local i = 0")
        lines.append("request = function() i = i % #bodies + 1 return wrk.format(nil, nil, nil, bodies[i]) end")
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False, encoding="utf-8") as script:
        script.write("\n".join(lines) + "\n")
    try:
        out = subprocess.run([shutil.which("wrk"), "-t2", f"-c{connections}", f"-d{seconds}s", "-s", script.name,
                              f"http://127.0.0.1:{port}{path}"], capture_output=True, text=True, check=True).stdout
    finally:
        os.unlink(script.name)
    if m := re.search(r"Non-2xx or 3xx responses: (\d+)", out):
        raise RuntimeError(f"{m.group(1)} failed requests under load:\n{out}")
    return float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))


def measure_demographic_verify(*, requests: int = 4000, people: int = 2000, threads: int = 8, server_threads: int = 4,
                               workers: int = 2) -> dict:
    root = Department.objects.filter(parent=None).first()
    if root is None:
        body = "11330100" + "BENCH001" + org_code_check_char("BENCH001")
        root = create_department(actor=system_actor("eid.bench"), name="基准测试局", code="BENCH", level=Level.CITY,
                                 uscc=body + uscc_check_char(body))
    _, key = register_partner(actor=system_actor("eid.bench"), code=f"bench{int(time.time())}", name="基准测试应用", department=root)
    persons = _people(people)
    port = _free_port()
    env = child_env({"DATABASE_URL": _database_url(), "SMARTGOV_VAR_DIR": str(settings.VAR_DIR)})
    server = subprocess.Popen([sys.executable, "-m", "smartgov", "serve", "--bind", f"127.0.0.1:{port}",
                               "--workers", str(workers), "--threads", str(server_threads)], env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        for _ in range(200):
            try:
                http.client.HTTPConnection("127.0.0.1", port, timeout=1).request("GET", "/api/openapi.json")
                break
            except OSError:
                time.sleep(0.1)
        headers = {"Content-Type": "application/json", "X-Partner-Key": key}

        def body(i: int) -> bytes:
            name, idn = persons[i % len(persons)]
            return orjson.dumps({"id_type": "id_number", "id_value": idn, "purpose": "基准测试",
                                 "demographics": {"name": name}})

        _load(port, "/api/idauth/verify", body, headers, 200, threads)  # warm up every worker
        if shutil.which("wrk"):
            client = "wrk"
            bodies = [body(i) for i in range(len(persons))]
            baseline = _wrk(port, "/api/health", [], {}, 5, threads)
            rate = _wrk(port, "/api/idauth/verify", bodies, headers, 10, threads)
        else:  # the stdlib client: it shares the 2 cores with the server, so it reads lower
            client = "python-threads"
            baseline = _load(port, "/api/health", None, {}, requests // 2, threads)
            rate = _load(port, "/api/idauth/verify", body, headers, requests, threads)
    finally:
        server.terminate()
        server.wait(20)
    return {"demographic_verify_per_s": round(rate), "http_baseline_per_s": round(baseline),
            "load_client": client, "client_connections": threads, "server_workers": workers}


def bench_identity(*, templates: int = 1_000_000, size: int = 100_000, progress=None) -> dict:
    """``--size`` sets the register import's row count, ``--templates`` the 1:N index size."""
    result = measure_demographic_verify()
    result.update(measure_import(rows=size))
    result.update(measure_identify(templates=templates, progress=progress))
    result.update(measure_licence_verify())
    return result


def bench_eid(*, size: int = 4000, progress=None) -> dict:
    """``smartgov bench eid``: partner verifications through the HTTP API alone."""
    return measure_demographic_verify(requests=size)


# "identity" gathers the identity issue's figures across eid, identity, biometrics and licences; each of
# those apps registers its own part too (register_import, biometrics, licences).
BENCHMARKS = {"eid": bench_eid, "identity": bench_identity}
