import http.server
import threading

import orjson
import pytest
from django.db import transaction
from django.utils import timezone

from smartgov.core.errors import Conflict, InvalidInput
from smartgov.core.permissions import Role, system_actor
from smartgov.exchange import services
from smartgov.exchange.models import Delivery, DeliveryStatus, Event
from tests import factories as f
from tests.exchange import factories as xf

pytestmark = pytest.mark.django_db


class Receiver(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers["Content-Length"]))
        srv = self.server
        ok = srv.secret is None or self.headers["X-SmartGov-Signature"] == services.webhook_signature(
            srv.secret, self.headers["X-SmartGov-Timestamp"], body)
        if srv.delay:
            import time

            time.sleep(srv.delay)
        with srv.lock:
            srv.received.append((orjson.loads(body)["event_id"], ok))
        self.send_response(srv.status)
        self.end_headers()

    def log_message(self, *args):
        pass


def start_receiver(status=200, delay=0.0):
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Receiver)
    srv.status, srv.delay, srv.received, srv.secret, srv.lock = status, delay, [], None, threading.Lock()
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    srv.url = f"http://127.0.0.1:{srv.server_address[1]}/hook"
    return srv


def _subscribed(url="", handler=""):
    provider = f.department("市场监管局")
    res = xf.resource(provider, events=["enterprise.revoked"])
    consumer = f.department("税务局")
    xf.agreement(res, xf.consumer_officer(consumer))
    admin = f.user(Role.DEPT_ADMIN, department=consumer)
    sub, secret = services.subscribe(actor=admin, resource=res, url=url, handler=handler)
    return res, sub, secret, admin


def test_webhooks_get_signed_events_and_consumers_can_check_the_signature():
    srv = start_receiver()
    try:
        res, _sub, secret, _ = _subscribed(url=srv.url)
        srv.secret = secret
        ev = services.publish_event(actor=xf.SYSTEM, resource=res, event_type="enterprise.revoked",
                                    subject="91330100MA2D00011X", data={"status": "吊销"})
        assert services.deliver_due(actor=xf.SYSTEM) == {"delivered": 1, "retrying": 0, "dead": 0}
        assert srv.received == [(ev.event_id, True)]
    finally:
        srv.shutdown()


def test_subscribing_needs_an_agreement_and_events_must_be_declared():
    res = xf.resource(events=["enterprise.revoked"])
    admin = f.user(Role.DEPT_ADMIN, department=f.department())
    with pytest.raises(Conflict):
        services.subscribe(actor=admin, resource=res, url="http://127.0.0.1:1/x")
    with pytest.raises(InvalidInput):
        services.publish_event(actor=xf.SYSTEM, resource=res, event_type="person.deceased", subject="x")


def test_failed_deliveries_back_off_and_end_as_dead_letters(settings):
    settings.EXCHANGE_WEBHOOK_MAX_ATTEMPTS = 3
    srv = start_receiver(status=500)
    try:
        res, sub, _, admin = _subscribed(url=srv.url)
        services.publish_event(actor=xf.SYSTEM, resource=res, event_type="enterprise.revoked", subject="x")
        assert services.deliver_due(actor=xf.SYSTEM)["retrying"] == 1
        d = Delivery.objects.get(subscription=sub)
        assert d.attempts == 1 and d.last_error.startswith("OSError: HTTP 500")
        assert d.next_attempt_at > timezone.now()  # backoff: not due again at once
        assert services.deliver_due(actor=xf.SYSTEM) == {"delivered": 0, "retrying": 0, "dead": 0}
        for _ in range(2):
            Delivery.objects.filter(pk=d.pk).update(next_attempt_at=timezone.now())
            services.deliver_due(actor=xf.SYSTEM)
        d.refresh_from_db()
        assert d.status == DeliveryStatus.DEAD and d.attempts == 3 and len(srv.received) == 3
        srv.status = 200
        assert services.redeliver_dead(actor=admin, subscription=sub) == 1
        assert services.deliver_due(actor=xf.SYSTEM)["delivered"] == 1
    finally:
        srv.shutdown()


def test_replay_from_an_offset_delivers_again_with_the_same_event_ids():
    seen = []
    services.register_handler("tests.collect", lambda ev: seen.append((ev["event_id"], ev["offset"])))
    res, sub, _, admin = _subscribed(handler="tests.collect")
    events = [services.publish_event(actor=xf.SYSTEM, resource=res, event_type="enterprise.revoked", subject=f"e{i}")
              for i in range(4)]
    services.deliver_due(actor=xf.SYSTEM)
    assert [s[0] for s in seen] == [e.event_id for e in events]
    seen.clear()
    assert services.replay_from(actor=admin, subscription=sub, offset=events[2].pk) == 2
    services.deliver_due(actor=xf.SYSTEM)
    assert seen == [(events[2].event_id, events[2].pk), (events[3].event_id, events[3].pk)]


def test_an_event_exists_only_if_the_change_committed():
    res, sub, _, _ = _subscribed(url="http://127.0.0.1:9/x")
    before = Event.objects.count()
    with pytest.raises(RuntimeError), transaction.atomic():
        services.publish_event(actor=xf.SYSTEM, resource=res, event_type="enterprise.revoked", subject="x")
        raise RuntimeError("the provider's change failed")
    assert Event.objects.count() == before and not Delivery.objects.filter(subscription=sub).exists()


def test_revoking_an_enterprise_publishes_the_event_in_the_same_transaction():
    from smartgov.identity.services import register_enterprise

    seen = []
    services.register_handler("tests.revoked", seen.append)
    regulator = f.department("市场监管局")
    items = [{"key": "name", "name": "企业名称"}, {"key": "uscc", "name": "统一社会信用代码"},
             {"key": "status", "name": "登记状态"}]
    res = services.publish_resource(
        actor=xf.SYSTEM, department=regulator, code=f"JC-{regulator.code}-00001", name="市场主体登记信息",
        share_type="unconditional",
        content={**xf.content(adapter="identity.enterprise", items=items, events=["enterprise.revoked"]),
                 "params": [{"key": "uscc", "name": "统一社会信用代码", "type": "uscc"}]})
    consumer = f.department("税务局")
    xf.agreement(res, xf.consumer_officer(consumer), fields=["name", "status"])
    services.subscribe(actor=xf.SYSTEM, consumer=consumer, resource=res, handler="tests.revoked")
    ent = register_enterprise(actor=system_actor("test"), name="示范市被吊销有限公司", uscc=_enterprise_uscc(),
                              department=regulator)
    with pytest.raises(InvalidInput):  # not a status the register knows: nothing changes, no event
        services.change_enterprise_status(actor=xf.SYSTEM, enterprise=ent, status="bogus")
    assert not Event.objects.filter(resource=res).exists()
    events = services.change_enterprise_status(actor=xf.SYSTEM, enterprise=ent, status="revoked")
    assert [e.event_type for e in events] == ["enterprise.revoked"]
    services.deliver_due(actor=xf.SYSTEM)
    assert seen[0]["subject"] == ent.uscc and seen[0]["data"]["status"] == "吊销"


def _enterprise_uscc() -> str:
    from smartgov.core.validators import org_code_check_char, uscc_check_char

    body8 = f"MA{timezone.now().microsecond:06d}"
    body = "91330100" + body8 + org_code_check_char(body8)
    return body + uscc_check_char(body)
