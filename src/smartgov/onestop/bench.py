"""``smartgov bench onestop [--clients N] [--cases N] --json``: the one-stop service under load.

A scratch database gets ``--cases`` historical cases (default 1,000,000, bulk-loaded: PostgreSQL
``COPY`` or SQLite ``executemany`` — that rate is reported as ``raw_load_per_s``), then a real gunicorn
server on it is driven by ``--clients`` concurrent connections (default 50):

- ``submit_*``: citizens submit applications (``POST /api/onestop/applications``: validation, material
  reuse from the register and the library, the case, its materials and first step, the audit entry and
  the inbox message, all in one transaction);
- ``status_*``: applicants read their case (``GET /api/onestop/applications/<number>``);
- ``search_*``: an officer searches the department's cases by number or applicant name at that size.
"""

import datetime
import http.client
import json as _json
import random
import secrets
import time
from urllib.parse import quote

import orjson
from django.conf import settings
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
from django.contrib.sessions.backends.db import SessionStore
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection, transaction
from django.test.utils import override_settings
from django.utils import timezone

from smartgov.accounts.models import Department, Level
from smartgov.accounts.services import create_department, create_user
from smartgov.core.benchhttp import load, server
from smartgov.core.permissions import Role, system_actor
from smartgov.core.validators import id_number_check_char, org_code_check_char, uscc_check_char
from smartgov.identity.services import link_account, register_person

from . import selectors, services
from .demo import DATA
from .guide import (
    VARIANTS,
    GuideIndex,
    calibrate,
    docs_from_catalogue,
    evaluate,
    load_questions,
    load_unanswerable,
)
from .models import Application, ServiceItem, State, StoredMaterial
from .services.applying import QUERY_CODE_ALPHABET

CONTENT = {
    "description": "基准测试事项", "legal_limit_days": 20, "promised_limit_days": 5, "visits": 0,
    "result": {"kind": "document", "name": "办理结果通知书"},
    "situations": [{"key": "agent", "question": "是否委托代理人？",
                    "options": [{"value": "no", "label": "本人办理"}, {"value": "yes", "label": "委托代理"}]}],
    "materials": [{"key": "id_card", "name": "居民身份证", "source": "government"},
                  {"key": "premises_proof", "name": "场所证明"},
                  {"key": "power_of_attorney", "name": "授权委托书",
                   "condition": {"all": [{"situation": "agent", "in": ["yes"]}]}}],
    "fields": [{"key": "applicant_name", "label": "申请人", "prefill": "person.name"},
               {"key": "applicant_phone", "label": "联系电话", "type": "phone", "prefill": "person.phone"},
               {"key": "address", "label": "地址"}, {"key": "note", "label": "说明", "required": False}],
}
DEPARTMENTS = 12
USERS = 200


def _dept(i: int):
    body8 = f"BENCH{i:03d}"
    body = "11330100" + body8 + org_code_check_char(body8)
    code = f"BENCH-{i:02d}"
    return Department.objects.filter(code=code).first() or create_department(
        actor=system_actor("onestop.bench"), name=f"基准测试局{i:02d}", code=code, level=Level.CITY, uscc=body + uscc_check_char(body))


def _session(user) -> str:
    s = SessionStore()
    s[SESSION_KEY], s[BACKEND_SESSION_KEY] = str(user.pk), "smartgov.accounts.backends.LockoutModelBackend"
    s[HASH_SESSION_KEY] = user.get_session_auth_hash()
    s["sg_2fa"] = True
    s.create()
    return s.session_key


def _setup():
    # bench accounts live in the scratch database only: a fast hasher keeps the setup short
    with override_settings(PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"]):
        return _make_world()


def _make_world():
    depts = [_dept(i) for i in range(DEPARTMENTS)]
    items = [ServiceItem.objects.filter(department=d).first() or services.create_item(
        actor=system_actor("onestop.bench"), department=d, basic_code=f"GG{i:05d}000", name=f"基准测试事项{i:02d}", item_type="GG",
        content=CONTENT) for i, d in enumerate(depts)]
    citizens = []
    for i in range(USERS):
        first17 = f"330102{1960 + i % 40}{1 + i % 12:02d}{1 + i % 28:02d}{i % 1000:03d}"
        user = create_user(actor=system_actor("onestop.bench"), username=f"bench_citizen_{i}_{secrets.token_hex(3)}",
                           password=secrets.token_urlsafe(16), role=Role.CITIZEN, name=f"市民{i:03d}")
        person = register_person(actor=system_actor("onestop.bench"), name=f"市民{i:03d}", id_number=first17 + id_number_check_char(first17),
                                 phone=f"139{i:08d}")
        link_account(person=person, user=user)
        user.person = person
        stored = StoredMaterial.objects.create(owner_user=user, key="premises_proof", name="场所证明",
                                               sha256="0" * 64, size=10, content_type="application/pdf",
                                               file=SimpleUploadedFile("p.pdf", b"%PDF-1.4 x", "application/pdf"))
        citizens.append((user, stored))
    officer = create_user(actor=system_actor("onestop.bench"), username=f"bench_officer_{secrets.token_hex(3)}",
                          password=secrets.token_urlsafe(16), role=Role.OFFICER, name="基准窗口",
                          department=depts[0])
    return depts, items, citizens, officer


def _bulk_cases(n: int, items, citizens, progress) -> tuple[float, list[str], list[str]]:
    """Load n historical cases straight into the table; returns (rows/s, sample numbers, names)."""
    versions = {i.pk: selectors.current_version(i).pk for i in items}
    states = [State.CLOSED] * 6 + [State.REVIEW, State.ACCEPTED, State.SUBMITTED, State.PREREVIEW,
                                   State.ISSUED, State.REJECTED, State.SUPPLEMENT]
    now = timezone.now()
    today = timezone.localdate()
    cols = ["number", "item_id", "item_version_id", "department_id", "applicant_user_id", "applicant_name",
            "agent_name", "agent_id_number", "channel", "answers", "form_data", "fee_total", "state", "state_since",
            "resume_state", "due_on", "decision_reason", "delivery_method", "delivery_detail", "visits",
            "created_at", "submitted_at", "query_code"]
    rng = random.Random(7)
    alphabet = QUERY_CODE_ALPHABET
    names = [f"申请人{k:06d}" for k in range(100_000)]
    sample_numbers = []

    def rows():
        for k in range(n):
            item = items[k % len(items)]
            user, _stored = citizens[k % len(citizens)]
            at = now - datetime.timedelta(minutes=k % 500_000)
            number = f"{at:%Y%m%d}{rng.randrange(10**14):014d}"
            if k % 1000 == 0:
                sample_numbers.append(number)
            yield (number, item.pk, versions[item.pk], item.department_id, user.pk, names[k % len(names)], "", "",
                   "online", "{}", '{"address": "示范市"}', "0", states[k % len(states)], at, "",
                   today + datetime.timedelta(days=k % 30), "", "", "", 0, at, at, "".join(rng.choices(alphabet, k=8)))

    t0 = time.perf_counter()
    table = Application._meta.db_table
    with transaction.atomic():
        if connection.vendor == "postgresql":
            with connection.cursor() as cur, cur.connection.cursor().copy(
                    f"COPY {table} ({', '.join(cols)}) FROM STDIN") as copy:
                for i, row in enumerate(rows()):
                    copy.write_row(row)
                    if i % 10_000 == 0:
                        progress(10_000)
        else:
            sql = f"INSERT INTO {table} ({', '.join(cols)}) VALUES ({', '.join(['%s'] * len(cols))})"  # noqa: S608 — our own table and columns
            batch = []
            with connection.cursor() as cur:
                for row in rows():
                    batch.append(row)
                    if len(batch) == 10_000:
                        cur.executemany(sql, batch)
                        progress(len(batch))
                        batch = []
                if batch:
                    cur.executemany(sql, batch)
    rate = n / (time.perf_counter() - t0)
    if connection.vendor == "postgresql":
        with connection.cursor() as cur:
            cur.execute(f"ANALYZE {table}")
    return rate, sample_numbers, names


def http_requests(*, cases: int, progress=None) -> dict:
    """The benchmark's world in the configured database (departments, items, citizens with sessions and
    a stored material, ``cases`` historical cases) and the requests that drive it: ``submits`` (one
    citizen's case each), ``status`` (a citizen reading their own case), ``searches`` (an officer)."""
    progress = progress or (lambda n: None)
    _depts, items, citizens, officer = _setup()
    raw_rate, numbers, names = _bulk_cases(cases, items, citizens, progress)
    csrf = secrets.token_hex(16)
    sessions = [(user, stored, _session(user)) for user, stored in citizens]
    officer_cookie = f"sessionid={_session(officer)}; csrftoken={csrf}"
    submits = []
    for k, (user, stored, sid) in enumerate(sessions):
        item = items[k % len(items)]
        body = orjson.dumps({"item": item.implementation_code, "answers": {"agent": "no"},
                             "form_data": {"applicant_name": user.name, "applicant_phone": f"139{k:08d}",
                                           "address": "示范市东城区"},
                             "materials": {"premises_proof": stored.pk}})
        submits.append(("POST", "/api/onestop/applications",
                        {"Cookie": f"sessionid={sid}; csrftoken={csrf}", "X-CSRFToken": csrf,
                         "Content-Type": "application/json"}, body))
    own = [(n, sessions[(k * 1000) % len(sessions)][2]) for k, n in enumerate(numbers)]  # row k*1000's owner
    status = [("GET", f"/api/onestop/applications/{n}", {"Cookie": f"sessionid={sid}"}, None)
              for n, sid in own]
    dept0 = [n for k, n in enumerate(numbers) if (k * 1000) % len(items) == 0] or numbers
    searches = [("GET", f"/api/onestop/applications?q={n}", {"Cookie": officer_cookie}, None) for n in dept0[:200]]
    searches += [("GET", "/api/onestop/applications?q=" + _quote(names[(k * 7919) % len(names)]),
                  {"Cookie": officer_cookie}, None) for k in range(200)]
    searches += [("GET", "/api/onestop/applications?queue=true&state=review&page_size=20",
                  {"Cookie": officer_cookie}, None)]
    return {"raw_rate": raw_rate, "submits": submits, "status": status, "searches": searches}


def bench_onestop(*, clients: int = 50, cases: int = 1_000_000, progress=None, seconds: int = 15, **_) -> dict:
    world = http_requests(cases=cases, progress=progress)
    raw_rate, submits, status, searches = world["raw_rate"], world["submits"], world["status"], world["searches"]
    before = Application.objects.count()
    # officers searching: a few at a time (the latency of one search at this size, not a saturated server)
    search_clients = min(clients, 4)
    workers, threads = settings.BENCH_WORKERS, settings.BENCH_THREADS
    with server(workers=workers, threads=threads) as port:
        for method, path, headers, body in (submits[0], status[0], searches[0]):  # each must really work
            _check(port, method, path, headers, body)
        load(port, submits[:20] + status[:20] + searches[:20], seconds=2, connections=4)  # warm up
        base = load(port, [("GET", "/api/health", {}, None)], seconds=5, connections=clients)
        sub = load(port, submits, seconds=seconds, connections=clients)
        st = load(port, status, seconds=max(5, seconds // 2), connections=clients)
        se = load(port, searches, seconds=max(5, seconds // 2), connections=search_clients)
    created = Application.objects.count() - before
    if created < sub["requests"]:  # every answered submission must have stored a case
        raise RuntimeError(f"{sub['requests']} submissions answered but only {created} cases stored")
    return {
        "clients": clients, "cases": cases, "raw_load_per_s": round(raw_rate),
        "submit_per_s": round(sub["per_s"], 1), "submit_p50_ms": sub["p50_ms"], "submit_p99_ms": sub["p99_ms"],
        "submitted": created,
        "status_per_s": round(st["per_s"], 1), "status_p50_ms": st["p50_ms"], "status_p99_ms": st["p99_ms"],
        "search_clients": search_clients, "search_per_s": round(se["per_s"], 1), "search_p50_ms": se["p50_ms"], "search_p99_ms": se["p99_ms"],
        "http_baseline_per_s": round(base["per_s"], 1), "load_client": sub["client"],
        "server_workers": workers, "server_threads": threads,
    }


def _check(port, method, path, headers, body) -> None:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    conn.request(method, path, body=body, headers=headers)
    resp = conn.getresponse()
    data = resp.read()
    if resp.status not in (200, 201):
        raise RuntimeError(f"{method} {path} answered {resp.status}: {data[:300]!r}")


def _quote(s: str) -> str:
    return quote(s)


def bench_guide(*, progress=None, **_) -> dict:
    """``smartgov bench guide --json``: the smart guide's accuracy on the labelled questions in the repo
    (``data/guide_questions.tsv``) over the shipped catalogue, and its speed; and "decline": answerable
    questions answered right vs questions no item answers (``data/guide_unanswerable.txt``) declined."""
    docs = docs_from_catalogue(_json.loads(DATA.read_text(encoding="utf-8")))
    t0 = time.perf_counter()
    index = GuideIndex.build(docs)
    build_s = time.perf_counter() - t0
    questions = load_questions()
    result = evaluate(index, questions, k=3)
    times = []
    for q, _expected in questions:
        t = time.perf_counter()
        index.search(q, k=5)
        times.append((time.perf_counter() - t) * 1000)
    times.sort()
    return {"questions": result["questions"], "documents": len(docs), "top1": round(result["top1"], 3),
            "top3": round(result["top3"], 3), "build_s": round(build_s, 3),
            "search_p50_ms": round(times[len(times) // 2], 2), "search_p99_ms": round(times[int(len(times) * .99)], 2),
            "misses": result["misses"][:10],
            "decline": calibrate(index, questions, load_unanswerable()),
            "variants": _variants(evaluate(index, load_questions(VARIANTS), k=3))}


def _variants(result: dict) -> dict:
    """Misspelled, dialect and colloquial questions (``data/guide_variants.tsv``), kept apart."""
    return {"questions": result["questions"], "top1": round(result["top1"], 3), "top3": round(result["top3"], 3),
            "misses": [m["question"] for m in result["misses"]]}


BENCHMARKS = {"onestop": bench_onestop, "guide": bench_guide}
