"""``smartgov bench exchange --json``: mediated calls through HTTP against the provider read they wrap,
and events from publication to delivery at a local webhook receiver.

- ``calls_per_s``, ``p50_ms``, ``p99_ms``: ``POST /api/exchange/call/{resource}`` with a consumer key, on
  gunicorn over the scratch database — agreement and field check, rate limit, provider read, masking, two
  SM2 signatures and the message log insert; the log is sealed into signed batches during the run.
- ``direct_per_s``: the same provider read (the certificate adapter's indexed look-up) called directly,
  in-process, in the same run: the raw speed underneath. ``ratio`` = calls_per_s / direct_per_s.
- ``events_per_s``: events published (outbox rows) and delivered by the delivery loop to a local HTTP
  receiver that checks every HMAC-SM3 signature.
"""

import datetime
import http.server
import itertools
import threading
import time

import orjson
from django.conf import settings
from django.db import connection
from django.utils import timezone

from smartgov.accounts.models import Level
from smartgov.accounts.services import create_department
from smartgov.core.benchhttp import load, server
from smartgov.core.permissions import system_actor
from smartgov.core.validators import id_number_check_char, org_code_check_char, uscc_check_char

from . import services
from .models import CertificateRecord, DeliveryStatus, Message, Outcome
from .providers import ADAPTERS
from .services import seal_all, webhook_signature

ACTOR = system_actor("bench.exchange")
_seq = itertools.count(1)


def _world(people: int):
    stamp = f"{int(time.time()) % 10**6:06d}{next(_seq):02d}"

    def dept(name, i):
        body8 = f"{stamp[-6:]}{i:02d}"
        body = "11330100" + body8 + org_code_check_char(body8)
        return create_department(actor=ACTOR, name=f"{name}{stamp}", code=f"BX{i}-{stamp}", level=Level.CITY,
                                 uscc=body + uscc_check_char(body))

    provider, consumer = dept("基准提供局", 1), dept("基准使用局", 2)
    items = [{"key": "name", "name": "姓名", "personal": True},
             {"key": "id_number", "name": "公民身份号码", "personal": True, "sensitive": True, "check": "id_number"},
             {"key": "result", "name": "查询结果"}, {"key": "issued_on", "name": "出具日期", "type": "date"}]
    resource = services.publish_resource(
        actor=ACTOR, department=provider, code=f"BM-{provider.code}-00001", name="基准无犯罪记录证明",
        share_type="unconditional",
        content={"summary": "基准测试", "items": items, "params": [{"key": "id_number", "name": "公民身份号码",
                                                                    "type": "id_number"}],
                 "served_by": {"kind": "internal", "adapter": "cert.no_criminal_record"},
                 "events": ["person.deceased"]})
    services.apply_for_resource(actor=ACTOR, consumer=consumer, resource=resource, purpose="基准测试",
                                legal_basis="基准", fields=["name", "id_number", "result"], clear_fields=["name"],
                                valid_until=timezone.localdate() + datetime.timedelta(days=1), rate_limit=100_000)
    _, key = services.issue_key(actor=ACTOR, department=consumer, label="bench")
    ids = []
    rows = []
    for i in range(people):
        first17 = f"330106198{i % 10}0{(i % 9) + 1}{(i % 28) + 1:02d}{i % 1000:03d}"
        idn = first17 + id_number_check_char(first17)
        if idn in ids:
            continue
        ids.append(idn)
        rows.append(CertificateRecord(kind="no_criminal_record", id_number=idn,
                                      data={"name": f"基准{i}", "result": "未发现有犯罪记录", "issued_on": "2026-11-01"}))
    for r in rows:
        r.save()  # through the fields: encrypted and blind-indexed like every record
    return provider, consumer, resource, key, ids


def _direct(ids: list[str], n: int) -> float:
    fetch = ADAPTERS["cert.no_criminal_record"].fetch
    for idn in ids[:20]:
        fetch({"id_number": idn})  # warm
    t = time.perf_counter()
    for i in range(n):
        if fetch({"id_number": ids[i % len(ids)]}) is None:
            raise RuntimeError("direct provider read found nothing")
    return n / (time.perf_counter() - t)


class _Receiver(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers["Content-Length"]))
        good = self.headers["X-SmartGov-Signature"] == webhook_signature(self.server.secret,
                                                                          self.headers["X-SmartGov-Timestamp"], body)
        with self.server.lock:
            self.server.seen.add(orjson.loads(body)["event_id"]) if good else self.server.bad.append(1)
        self.send_response(204 if good else 401)
        self.end_headers()

    def log_message(self, *args):
        pass


def _events(provider, consumer, resource, n: int) -> float:
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Receiver)
    srv.seen, srv.bad, srv.lock = set(), [], threading.Lock()
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    try:
        sub, secret = services.subscribe(actor=ACTOR, consumer=consumer, resource=resource,
                                         url=f"http://127.0.0.1:{srv.server_address[1]}/hook")
        srv.secret = secret
        t = time.perf_counter()
        for i in range(n):
            services.publish_event(actor=ACTOR, resource=resource, event_type="person.deceased", subject=f"bench{i}")
        while len(srv.seen) < n:
            done = services.deliver_due(actor=ACTOR, limit=200)
            if not any(done.values()):
                if sub.deliveries.filter(status=DeliveryStatus.DEAD).exists():
                    raise RuntimeError("bench events went to dead letters")
                time.sleep(0.01)
        elapsed = time.perf_counter() - t
        if srv.bad:
            raise RuntimeError(f"{len(srv.bad)} deliveries carried a bad signature")
        return n / elapsed
    finally:
        srv.shutdown()
        srv.server_close()


def bench_exchange(*, clients: int = 16, size: int = 2000, progress=None, seconds: int = 10, **_) -> dict:
    progress = progress or (lambda n: None)
    provider, consumer, resource, key, ids = _world(min(size, 5000))
    progress(len(ids))
    direct = _direct(ids, 3000)
    requests = [("POST", f"/api/exchange/call/{resource.code}",
                 {"X-Exchange-Key": key, "Content-Type": "application/json"},
                 orjson.dumps({"params": {"id_number": idn}, "purpose": "基准"})) for idn in ids[:500]]
    workers, threads = settings.BENCH_WORKERS, settings.BENCH_THREADS
    stop = threading.Event()
    sealed = []

    def sealer():  # the worker's periodic job, here in a thread: calls are refused if nothing seals them

        while not stop.wait(settings.EXCHANGE_SEAL_SECONDS):
            sealed.append(seal_all(actor=ACTOR))
        connection.close()

    before = Message.objects.filter(outcome=Outcome.OK).count()
    with server(workers=workers, threads=threads) as port:
        load(port, requests[:50], seconds=2, connections=4)  # warm up
        t = threading.Thread(target=sealer, daemon=True)
        t.start()
        try:
            result = load(port, requests, seconds=seconds, connections=clients)
        finally:
            stop.set()
            t.join(30)
    seal_all(actor=ACTOR)
    logged = Message.objects.filter(outcome=Outcome.OK).count() - before
    if logged < result["requests"]:
        raise RuntimeError(f"{result['requests']} calls answered but only {logged} logged")
    unsealed = Message.objects.filter(signed=True, batch__isnull=True).count()
    events = _events(provider, consumer, resource, 500)
    return {"calls_per_s": round(result["per_s"], 1), "direct_per_s": round(direct, 1),
            "ratio": round(result["per_s"] / direct, 3), "p50_ms": result["p50_ms"], "p99_ms": result["p99_ms"],
            "events_per_s": round(events, 1), "calls": result["requests"], "batches_during_run": sum(sealed),
            "unsealed_after": unsealed, "clients": clients, "load_client": result["client"],
            "server_workers": workers, "server_threads": threads}


BENCHMARKS = {"exchange": bench_exchange}
