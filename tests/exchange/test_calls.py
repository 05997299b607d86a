import datetime
import http.server
import threading
import time
from datetime import timedelta

import orjson
import pytest
from django.utils import timezone

from smartgov.core.errors import Forbidden, InvalidInput, NotFound
from smartgov.core.permissions import Role
from smartgov.exchange import evidence, services
from smartgov.exchange.models import Agreement, Message, Outcome, RateWindow
from smartgov.exchange.providers import ProviderError, ProviderTimeout
from smartgov.exchange.services.calls import forget_rate_state, forget_timestamp_state, rate_block
from tests import factories as f
from tests.exchange import factories as xf

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fresh_timestamp_state():
    forget_timestamp_state()
    forget_rate_state()
    yield
    forget_timestamp_state()
    forget_rate_state()


def _setup(**kw):
    res = xf.resource(**{k: v for k, v in kw.items() if k in ("share_type", "served_by", "items")})
    officer = xf.consumer_officer()
    ag = xf.agreement(res, officer, **{k: v for k, v in kw.items() if k in ("fields", "clear_fields", "rate_limit",
                                                                             "keep_content")})
    person = f.id_number()
    xf.certificate(person)
    return res, officer, ag, person


def test_a_call_returns_only_agreed_fields_with_personal_ones_masked_unless_agreed():
    res, officer, _ag, person = _setup(fields=["name", "id_number", "result"], clear_fields=["name"])
    out = services.call_resource(actor=officer, resource_code=res.code, params={"id_number": person})
    assert out.found
    assert set(out.data) == {"name", "id_number", "result"}  # issued_on was not agreed
    assert out.data["name"] == "张三"  # agreed in clear
    assert out.data["id_number"] != person and out.data["id_number"].startswith(person[:6])
    assert out.masked == ["id_number"]
    with pytest.raises(Forbidden) as exc:
        services.call_resource(actor=officer, resource_code=res.code, params={"id_number": person},
                               fields=["issued_on"])
    assert exc.value.code == "field_not_agreed"


def test_the_message_log_holds_signed_digests_and_no_personal_content_unless_agreed():
    res, officer, _ag, person = _setup()
    out = services.call_resource(actor=officer, resource_code=res.code, params={"id_number": person},
                                 purpose="审核申请")
    msg = Message.objects.get(message_id=out.message_id)
    assert msg.outcome == Outcome.OK and msg.signed and msg.consumer_id == officer.department_id
    assert msg.provider_id == res.department_id and msg.purpose == "审核申请" and msg.caller == officer.username
    assert len(msg.request_sm3) == 64 and msg.request_sig and msg.response_sig
    assert msg.content is None  # an ID number was asked for: digests only
    _, officer2, _, _ = None, xf.consumer_officer(), None, None
    xf.agreement(res, officer2, keep_content=True)
    out2 = services.call_resource(actor=officer2, resource_code=res.code, params={"id_number": person})
    kept = orjson.loads(Message.objects.get(message_id=out2.message_id).content)
    assert kept["request"]["params"] == {"id_number": person}


def test_calls_without_a_valid_agreement_are_refused_and_logged():
    res, officer, ag, person = _setup()
    stranger = xf.consumer_officer()
    with pytest.raises(Forbidden) as exc:
        services.call_resource(actor=stranger, resource_code=res.code, params={"id_number": person})
    assert exc.value.code == "no_agreement"
    Agreement.objects.filter(pk=ag.pk).update(valid_until=timezone.localdate() - timedelta(days=1))
    with pytest.raises(Forbidden) as exc:
        services.call_resource(actor=officer, resource_code=res.code, params={"id_number": person})
    assert exc.value.code == "agreement_expired"
    Agreement.objects.filter(pk=ag.pk).update(valid_until=timezone.localdate() + timedelta(days=1))
    services.revoke_agreement(actor=f.user(Role.DEPT_ADMIN, department=res.department), agreement=ag, reason="停止")
    with pytest.raises(Forbidden) as exc:
        services.call_resource(actor=officer, resource_code=res.code, params={"id_number": person})
    assert exc.value.code == "agreement_revoked"
    with pytest.raises(NotFound):
        services.call_resource(actor=officer, resource_code="BM-NONE-00001", params={})
    reasons = list(Message.objects.filter(outcome=Outcome.REFUSED).values_list("reason", flat=True))
    assert {"no_agreement", "agreement_expired", "agreement_revoked", "resource_not_found"} <= set(reasons)
    assert not Message.objects.filter(outcome=Outcome.REFUSED, signed=True).exists()


def test_bad_parameters_are_refused():
    res, officer, _ag, person = _setup()
    with pytest.raises(InvalidInput):
        services.call_resource(actor=officer, resource_code=res.code, params={"id_number": "110101199003070000"})
    with pytest.raises(InvalidInput):
        services.call_resource(actor=officer, resource_code=res.code, params={"id_number": person, "x": "1"})


def test_the_rate_limit_counts_per_minute():
    res, officer, _ag, person = _setup(rate_limit=3)
    for _ in range(3):
        services.call_resource(actor=officer, resource_code=res.code, params={"id_number": person})
    with pytest.raises(services.RateLimited):
        services.call_resource(actor=officer, resource_code=res.code, params={"id_number": person})
    assert Message.objects.filter(reason="rate_limited").count() == 1


def test_a_busy_agreement_takes_its_window_in_blocks_and_never_exceeds_the_limit(monkeypatch):
    now = timezone.now()
    monkeypatch.setattr(timezone, "now", lambda: now)  # one minute's window throughout
    res, officer, ag, person = _setup(rate_limit=200)
    assert rate_block(199) == 1 and rate_block(200) == 2 and rate_block(10**6) == 64
    services.call_resource(actor=officer, resource_code=res.code, params={"id_number": person})
    assert RateWindow.objects.get(agreement=ag).count == 2  # one write for two calls; this process holds one
    forget_rate_state()  # from here on another app server, which cannot use the call the first one holds
    answered = 1
    with pytest.raises(services.RateLimited):
        for _ in range(200):
            services.call_resource(actor=officer, resource_code=res.code, params={"id_number": person})
            answered += 1
    assert answered == 199 and RateWindow.objects.get(agreement=ag).count == 200
    assert Message.objects.filter(agreement=ag, reason="").count() == 199


def test_not_found_is_an_answer_not_an_error():
    res, officer, _ag, _person = _setup()
    out = services.call_resource(actor=officer, resource_code=res.code, params={"id_number": f.id_number()})
    assert not out.found and out.data == {}


class _Provider(http.server.BaseHTTPRequestHandler):
    mode = "ok"

    def do_POST(self):
        body = orjson.loads(self.rfile.read(int(self.headers["Content-Length"])))
        if self.server.mode == "slow":
            time.sleep(1.0)
        if self.server.mode == "error":
            self.send_response(500)
            self.end_headers()
            return
        answer = orjson.dumps({"found": True, "record": {"name": "李四", "id_number": body["params"]["id_number"],
                                                          "result": "已缴费", "issued_on": "2026-11-01"}})
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(answer)))
        self.end_headers()
        self.wfile.write(answer)

    def log_message(self, *args):
        pass


@pytest.fixture
def provider_server():
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Provider)
    server.mode = "ok"
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield server
    server.shutdown()
    server.server_close()


def test_external_providers_answer_and_fail_with_502_or_504(provider_server):
    url = f"http://127.0.0.1:{provider_server.server_address[1]}/query"
    res, officer, _ag, person = _setup(served_by={"kind": "http", "url": url, "timeout_ms": 300})
    out = services.call_resource(actor=officer, resource_code=res.code, params={"id_number": person})
    assert out.data["result"] == "已缴费"
    provider_server.mode = "slow"
    with pytest.raises(ProviderTimeout) as exc:
        services.call_resource(actor=officer, resource_code=res.code, params={"id_number": person})
    assert exc.value.status == 504
    provider_server.mode = "error"
    with pytest.raises(ProviderError) as exc:
        services.call_resource(actor=officer, resource_code=res.code, params={"id_number": person})
    assert exc.value.status == 502
    outcomes = list(Message.objects.filter(resource=res).order_by("pk").values_list("outcome", "signed"))
    assert outcomes == [(Outcome.OK, True), (Outcome.PROVIDER_TIMEOUT, True), (Outcome.PROVIDER_ERROR, True)]


def test_calls_are_refused_when_no_batch_could_be_signed_for_too_long(settings, tmp_path):
    from smartgov.audit import signing

    res, officer, _ag, person = _setup()
    out = services.call_resource(actor=officer, resource_code=res.code, params={"id_number": person})
    Message.objects.filter(message_id=out.message_id).update(
        at=timezone.now() - timedelta(seconds=settings.EXCHANGE_TIMESTAMP_GRACE_SECONDS + 5))
    forget_timestamp_state()
    old = settings.SIGNING_KEY_FILE
    settings.SIGNING_KEY_FILE = tmp_path / "missing.pem"  # the platform cannot sign: no batch, no calls
    signing.reset_cache()
    try:
        assert services.seal_batch(actor=xf.SYSTEM) is None
        with pytest.raises(services.TimestampUnavailable) as exc:
            services.call_resource(actor=officer, resource_code=res.code, params={"id_number": person})
        assert exc.value.status == 503 and exc.value.code == "timestamp_unavailable"
    finally:
        settings.SIGNING_KEY_FILE = old
        signing.reset_cache()
    forget_timestamp_state()
    # signing works again: the next call seals the waiting one itself (no worker needed) and goes through
    services.call_resource(actor=officer, resource_code=res.code, params={"id_number": person})
    assert Message.objects.get(message_id=out.message_id).batch_id is not None


def test_an_app_server_seals_a_batch_when_no_worker_did_for_two_intervals(settings):
    res, officer, _ag, person = _setup()
    out = services.call_resource(actor=officer, resource_code=res.code, params={"id_number": person})
    waiting = Message.objects.filter(message_id=out.message_id)
    waiting.update(at=timezone.now() - timedelta(seconds=settings.EXCHANGE_SEAL_SECONDS + 1))
    forget_timestamp_state()
    services.call_resource(actor=officer, resource_code=res.code, params={"id_number": person})
    assert waiting.get().batch_id is None  # due, but the worker's periodic job is on it: not in a call's time
    waiting.update(at=timezone.now() - timedelta(seconds=2 * settings.EXCHANGE_SEAL_SECONDS + 1))
    forget_timestamp_state()
    services.call_resource(actor=officer, resource_code=res.code, params={"id_number": person})
    assert waiting.get().batch_id is not None


def test_without_the_signing_key_calls_stop(settings, tmp_path):
    from smartgov.audit import signing

    res, officer, _ag, person = _setup()
    old = settings.SIGNING_KEY_FILE
    settings.SIGNING_KEY_FILE = tmp_path / "missing.pem"
    signing.reset_cache()
    try:
        with pytest.raises(services.TimestampUnavailable) as exc:
            services.call_resource(actor=officer, resource_code=res.code, params={"id_number": person})
        assert exc.value.code == "signing_unavailable"
    finally:
        settings.SIGNING_KEY_FILE = old
        signing.reset_cache()


def test_exported_evidence_verifies_offline_and_one_changed_byte_is_rejected():
    res, officer, _ag, person = _setup()
    ids = [services.call_resource(actor=officer, resource_code=res.code, params={"id_number": person}).message_id
           for _ in range(5)]
    batch = services.seal_batch(actor=xf.SYSTEM)
    assert batch.size == 5
    auditor = f.user(Role.AUDITADMIN)
    data = services.export_evidence(actor=auditor, message=Message.objects.get(message_id=ids[3]))
    header = evidence.verify_evidence(data)
    assert header["message_id"] == ids[3]
    key_at = data.index(b'"public_key":"')
    key_end = data.index(b'"', key_at + 14)
    # every byte of the public key (PEM readers forgive some base64 bits), and a sample of the rest
    positions = sorted({*range(key_at, key_end + 1), *range(0, len(data), max(1, len(data) // 97))})
    for i in positions:
        for replacement in (b" ", b"0", b"a"):
            if data[i:i + 1] == replacement:
                continue
            tampered = data[:i] + replacement + data[i + 1:]
            with pytest.raises(evidence.EvidenceError):
                evidence.verify_evidence(tampered)


def test_evidence_carries_the_content_when_the_agreement_keeps_it():
    res, officer, _ag, person = _setup(keep_content=True)
    out = services.call_resource(actor=officer, resource_code=res.code, params={"id_number": person})
    services.seal_all(actor=xf.SYSTEM)
    data = services.export_evidence(actor=f.user(Role.AUDITADMIN), message=Message.objects.get(message_id=out.message_id))
    doc = orjson.loads(data)
    assert doc["content"]["request"]["params"]["id_number"] == person
    evidence.verify_evidence(data)
    doc["content"]["response"]["data"]["result"] = "有犯罪记录"
    with pytest.raises(evidence.EvidenceError) as exc:
        evidence.verify_evidence(evidence.canonical(doc))
    assert exc.value.code == "response_digest"


def test_unsealed_messages_cannot_be_exported_yet():
    res, officer, _ag, person = _setup()
    out = services.call_resource(actor=officer, resource_code=res.code, params={"id_number": person})
    with pytest.raises(InvalidInput):
        services.export_evidence(actor=f.user(Role.AUDITADMIN), message=Message.objects.get(message_id=out.message_id))


def test_valid_until_today_still_works():
    res, officer, ag, person = _setup()
    Agreement.objects.filter(pk=ag.pk).update(valid_until=datetime.date.today())
    services.call_resource(actor=officer, resource_code=res.code, params={"id_number": person})
