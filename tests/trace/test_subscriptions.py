"""EPCIS 2.0 query subscriptions by webhook: a local HTTP receiver on 127.0.0.1 gets the matching events
as signed EPCISQueryDocuments; failures are retried through the job queue; DELETE unsubscribes."""

import datetime
import hashlib
import hmac
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import orjson
import pytest
from django.test import Client
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from smartgov.trace import subscriptions, tasks
from smartgov.trace.models import QuerySubscription

from .conftest import EXAMPLES
from .test_api import _post, key  # noqa: F401 (fixture)

TOKEN = "13df38d8275b13f05704629e5f1cf3d45d6132d5"  # the binding's example token


class Receiver:
    def __init__(self):
        self.received, self.fail_next = [], 0
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                if receiver.fail_next:
                    receiver.fail_next -= 1
                    self.send_response(503)
                else:
                    receiver.received.append((self.headers, body))  # case-insensitive
                    self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def events(self, i):
        return orjson.loads(self.received[i][1])["epcisBody"]["queryResults"]["resultsBody"]["eventList"]


@pytest.fixture(autouse=True)
def allowed_hosts(settings):
    """The receivers of these tests listen on 127.0.0.1: the deployment's allow-list names it."""
    settings.TRACE_WEBHOOK_ALLOWED_HOSTS = ["127.0.0.1"]


@pytest.fixture
def receiver():
    r = Receiver()
    yield r
    r.server.shutdown()
    r.server.server_close()


def _api(client, key, method, path, body=None):  # noqa: F811
    return getattr(client, method)(f"/api/trace/epcis/{path}", data=orjson.dumps(body) if body else None,
                                   content_type="application/json", HTTP_X_TRACE_KEY=key)


def _named(client, key):  # noqa: F811
    resp = _api(client, key, "post", "queries", {"name": "temps", "query": {"EQ_type": "Temperature"}})
    assert resp.status_code == 201, resp.content


def test_stream_subscription_delivers_new_matching_events_signed(key, receiver, django_capture_on_commit_callbacks):  # noqa: F811
    client = Client()
    _named(client, key)
    resp = _api(client, key, "post", "queries/temps/subscriptions",
                {"dest": receiver.url, "stream": True, "signatureToken": TOKEN,
                 "initialRecordTime": "2000-01-01T00:00:00Z"})
    assert resp.status_code == 201, resp.content
    sid = resp.json()["subscriptionID"]
    assert resp["Location"].endswith(sid) and resp.json()["stream"] is True
    with django_capture_on_commit_callbacks(execute=True):
        # SensorDataExample4 reports a Temperature; Example 9.6.1 has no sensor data
        for name in ("WithSensorData/SensorDataExample4.jsonld", "Example_9.6.1-ObjectEvent.jsonld"):
            assert _post(client, (EXAMPLES / name).read_bytes(), key).status_code == 202
    queued = DBTaskResult.objects.filter(task_path=tasks.notify_streams.module_path)
    assert queued.count() == 2  # each capture that stored events queued the stream job
    assert tasks.notify_streams.call() == 1  # which queues one delivery per stream subscription
    # run the queued deliveries from the queue's own rows, as the worker would
    rows = DBTaskResult.objects.filter(task_path=tasks.deliver_subscription.module_path)
    assert [r.args_kwargs["args"] for r in rows] == [[sid]]
    assert tasks.deliver_subscription.call(*rows[0].args_kwargs["args"]) == "sent"
    assert len(receiver.received) == 1
    headers, body = receiver.received[0]
    assert headers["GS1-Signature"] == hmac.new(TOKEN.encode(), body, hashlib.sha256).hexdigest()
    doc = orjson.loads(body)
    assert doc["type"] == "EPCISQueryDocument"
    assert doc["epcisBody"]["queryResults"]["subscriptionID"] == sid
    assert doc["epcisBody"]["queryResults"]["queryName"] == "temps"
    assert [e["eventID"] for e in receiver.events(0)] == \
        ["ni:///sha-256;7ff1501099b3f5890d310d703fb9f57e251bba0c57d3c049fab590b50323a8e7?ver=CBV2.0"]
    # nothing new: nothing sent; a new matching capture: only the new event
    assert tasks.deliver_subscription.call(sid) == "nothing"
    assert _post(client, (EXAMPLES / "WithSensorData/SensorDataExample7.jsonld").read_bytes(), key).status_code == 202
    assert tasks.deliver_subscription.call(sid) == "sent"
    assert [e["eventID"] for e in receiver.events(1)] == \
        ["ni:///sha-256;db924230b77cc4d9a7cea4968fd302b06598a2b63e1b0ea011b31d1b5f45e6ac?ver=CBV2.0"]
    # unsubscribe
    assert _api(client, key, "delete", f"queries/temps/subscriptions/{sid}").status_code == 204
    assert not QuerySubscription.objects.exists()
    assert _api(client, key, "get", f"queries/temps/subscriptions/{sid}").status_code == 404


def test_failed_delivery_is_retried_later_and_then_delivered(key, receiver, django_capture_on_commit_callbacks):  # noqa: F811
    client = Client()
    _named(client, key)
    sid = _api(client, key, "post", "queries/temps/subscriptions",
               {"dest": receiver.url, "stream": True, "initialRecordTime": "2000-01-01T00:00:00Z"}).json()["subscriptionID"]
    assert _post(client, (EXAMPLES / "WithSensorData/SensorDataExample4.jsonld").read_bytes(), key).status_code == 202
    receiver.fail_next = 1
    with django_capture_on_commit_callbacks(execute=True):
        assert tasks.deliver_subscription.call(sid) == "failed"
    retry = DBTaskResult.objects.get(task_path=tasks.deliver_subscription.module_path)
    assert retry.args_kwargs["args"] == [sid, 1] and retry.run_after > timezone.now() + datetime.timedelta(seconds=20)
    assert QuerySubscription.objects.get().failures == 1 and receiver.received == []
    assert tasks.deliver_subscription.call(*retry.args_kwargs["args"]) == "sent"
    assert len(receiver.events(0)) == 1 and receiver.received[0][0].get("GS1-Signature") is None
    assert QuerySubscription.objects.get().failures == 0


def test_scheduled_subscription_runs_in_its_minute_and_reports_if_empty(key, receiver):  # noqa: F811
    client = Client()
    _named(client, key)
    resp = _api(client, key, "post", "queries/temps/subscriptions",
                {"dest": receiver.url, "schedule": {"hour": "1", "minute": "5"}, "reportIfEmpty": True})
    assert resp.status_code == 201, resp.content
    sid = resp.json()["subscriptionID"]
    assert subscriptions.due_schedules(datetime.datetime(2026, 12, 5, 1, 4, tzinfo=datetime.UTC)) == []
    at = datetime.datetime(2026, 12, 5, 1, 5, 30, tzinfo=datetime.UTC)
    assert subscriptions.due_schedules(at) == [sid]
    assert subscriptions.due_schedules(at) == []  # once per minute
    assert tasks.deliver_subscription.call(sid, 0, True) == "sent"
    assert receiver.events(0) == []  # nothing matched: an empty report, as asked


@pytest.mark.parametrize("body", [
    {"dest": "ftp://example.com/x", "stream": True},
    {"dest": "http://127.0.0.1:1/x"},
    {"dest": "http://127.0.0.1:1/x", "stream": True, "schedule": {"minute": "5"}},
    {"dest": "http://127.0.0.1:1/x", "schedule": {"minute": "61"}},
    {"dest": "http://127.0.0.1:1/x", "schedule": {"fortnight": "1"}},
    {"dest": "http://127.0.0.1:1/x", "stream": True, "initialRecordTime": "yesterday"},
])
def test_bad_subscriptions_are_refused_and_change_nothing(key, body):  # noqa: F811
    client = Client()
    _named(client, key)
    resp = _api(client, key, "post", "queries/temps/subscriptions", body)
    assert resp.status_code == 400, resp.content
    assert resp.json()["type"] == "epcisException:SubscriptionControlsException"
    assert not QuerySubscription.objects.exists()


def test_subscriptions_to_unknown_or_foreign_queries_are_404(key, supervisor):  # noqa: F811
    client = Client()
    assert _api(client, key, "post", "queries/nope/subscriptions",
                {"dest": "http://127.0.0.1:1/x", "stream": True}).status_code == 404


@pytest.mark.parametrize(("allowed", "dest", "ok"), [
    ([], "https://partner.example.cn/hook", False),  # nothing configured: nothing allowed
    (["partner.example.cn"], "https://partner.example.cn/hook", True),
    (["partner.example.cn"], "https://PARTNER.example.cn:8443/hook", True),
    (["partner.example.cn:443"], "https://partner.example.cn/hook", True),
    (["partner.example.cn:443"], "http://partner.example.cn/hook", False),  # port 80
    (["partner.example.cn"], "https://partner.example.cn.evil.test/hook", False),
    (["partner.example.cn"], "https://partner.example.cn@169.254.169.254/latest", False),  # userinfo trick
    (["*.cdc.example.cn"], "https://sx.cdc.example.cn/epcis", True),
    (["*.cdc.example.cn"], "https://cdc.example.cn/epcis", False),
    (["*.cdc.example.cn"], "https://evilcdc.example.cn/epcis", False),
    (["127.0.0.1"], "http://localhost:8000/x", False),  # names are not resolved: only as written
    (["127.0.0.1"], "http://127.0.0.1:bad/x", False),
])
def test_webhook_destinations_must_be_on_the_allow_list(settings, allowed, dest, ok):
    settings.TRACE_WEBHOOK_ALLOWED_HOSTS = allowed
    assert subscriptions.host_allowed(dest) is ok


def test_subscription_to_a_host_off_the_list_is_refused_and_changes_nothing(key, settings):  # noqa: F811
    settings.TRACE_WEBHOOK_ALLOWED_HOSTS = ["partner.example.cn"]
    client = Client()
    _named(client, key)
    resp = _api(client, key, "post", "queries/temps/subscriptions",
                {"dest": "http://169.254.169.254/latest/meta-data", "stream": True})
    assert resp.status_code == 400, resp.content
    assert resp.json()["type"] == "epcisException:SubscriptionControlsException"
    assert not QuerySubscription.objects.exists()


def test_delivery_stops_when_the_host_leaves_the_list_and_redirects_are_not_followed(key, receiver, settings):  # noqa: F811
    client = Client()
    _named(client, key)
    sid = _api(client, key, "post", "queries/temps/subscriptions",
               {"dest": receiver.url, "stream": True, "initialRecordTime": "2000-01-01T00:00:00Z"}).json()["subscriptionID"]
    assert _post(client, (EXAMPLES / "WithSensorData/SensorDataExample4.jsonld").read_bytes(), key).status_code == 202
    settings.TRACE_WEBHOOK_ALLOWED_HOSTS = ["partner.example.cn"]
    assert subscriptions.deliver(sid) == "failed"
    assert receiver.received == [] and "名单" in QuerySubscription.objects.get().last_error
    # a receiver on the list that answers with a redirect (to a host nobody allowed) is not followed
    settings.TRACE_WEBHOOK_ALLOWED_HOSTS = ["127.0.0.1"]
    hops = []

    class Redirect(BaseHTTPRequestHandler):
        def do_POST(self):
            hops.append(self.path)
            self.send_response(307)
            self.send_header("Location", receiver.url)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Redirect)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        QuerySubscription.objects.filter(subscription_id=sid).update(
            dest=f"http://127.0.0.1:{server.server_address[1]}/hook")
        assert subscriptions.deliver(sid) == "failed"
    finally:
        server.shutdown()
        server.server_close()
    assert hops == ["/hook"] and receiver.received == []
    assert QuerySubscription.objects.get().last_event_id == 0
