"""EPCIS 2.0 query subscriptions by WebSocket (REST binding ``GET /queries/{name}/events`` with ``Upgrade:
websocket``): the platform's ASGI application on a real uvicorn server on 127.0.0.1 (as ``smartgov hall live``
serves it), a real WebSocket client (the ``websockets`` library), the documents it receives checked against
the GS1 reference event hashes."""

import asyncio
import datetime
import threading
import time

import orjson
import pytest
import uvicorn
from asgiref.sync import sync_to_async
from django.conf import settings as django_settings
from django.db import connections
from django.db.backends.signals import connection_created
from django.test import Client
from django.utils import timezone
from websockets.exceptions import ConnectionClosed, InvalidStatus
from websockets.sync.client import connect

from smartgov.config.asgi import application
from smartgov.core.benchhttp import free_port
from smartgov.trace import services, subscriptions, tasks
from smartgov.trace.models import QuerySubscription
from tests import factories

from .conftest import EXAMPLES
from .test_api import _post, key  # noqa: F401 (fixture)

# the audit trail refuses the flush a transactional test ends with (as in tests/overview/test_live_asgi.py)
pytestmark = pytest.mark.django_db(transaction=True, available_apps=[
    a for a in django_settings.INSTALLED_APPS if a != "smartgov.audit"])

# SensorDataExample4 reports a Temperature, SensorDataExample7 too; Example 9.6.1 has no sensor data
# (event IDs: the GS1 reference implementation's hashes, tests/trace/data/gs1_reference_hashes.json)
EXAMPLE4 = "ni:///sha-256;7ff1501099b3f5890d310d703fb9f57e251bba0c57d3c049fab590b50323a8e7?ver=CBV2.0"
EXAMPLE7 = "ni:///sha-256;db924230b77cc4d9a7cea4968fd302b06598a2b63e1b0ea011b31d1b5f45e6ac?ver=CBV2.0"


@pytest.fixture(autouse=True)
def readers_take_no_table_locks():
    """The server's threads read the in-memory SQLite test database (shared cache) while the test writes:
    without this a reader's table lock makes the writer fail at once (see tests/overview/test_live_asgi.py)."""
    def no_read_locks(sender, connection, **kwargs):
        if connection.vendor == "sqlite" and connection.is_in_memory_db():
            with connection.cursor() as cursor:
                cursor.execute("PRAGMA read_uncommitted = 1")

    connection_created.connect(no_read_locks)
    for conn in connections.all(initialized_only=True):
        no_read_locks(None, conn)
    yield
    connection_created.disconnect(no_read_locks)


@pytest.fixture
def server(settings):
    settings.TRACE_WS_POLL_MS = 50
    port = free_port()
    srv = uvicorn.Server(uvicorn.Config(application, host="127.0.0.1", port=port, log_level="warning",
                                        lifespan="off"))
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    for _ in range(200):
        if srv.started:
            break
        time.sleep(0.025)
    yield f"ws://127.0.0.1:{port}/api/trace/epcis/queries"
    srv.should_exit = True
    thread.join(10)
    # the server's database work ran on asgiref's one thread for thread-sensitive code: close its connection
    asyncio.run(sync_to_async(connections.close_all, thread_sensitive=True)())


def _named(client, key, name="temps", query=None):  # noqa: F811
    resp = client.post("/api/trace/epcis/queries", data=orjson.dumps({"name": name, "query": query or
                                                                      {"EQ_type": "Temperature"}}),
                       content_type="application/json", HTTP_X_TRACE_KEY=key)
    assert resp.status_code == 201, resp.content


def _capture(client, key, *names):  # noqa: F811
    for name in names:
        assert _post(client, (EXAMPLES / name).read_bytes(), key).status_code == 202


def _event_ids(message) -> list[str]:
    doc = orjson.loads(message)
    assert doc["type"] == "EPCISQueryDocument"
    return [e["eventID"] for e in doc["epcisBody"]["queryResults"]["resultsBody"]["eventList"]]


def _wait_until(pred, seconds=5.0):
    deadline = time.monotonic() + seconds
    while not pred():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.02)


def test_stream_socket_gets_recorded_events_then_each_new_matching_capture(server, key):  # noqa: F811
    client = Client()
    _named(client, key)
    _capture(client, key, "WithSensorData/SensorDataExample4.jsonld")
    url = f"{server}/temps/events?stream=true&initialRecordTime=2000-01-01T00:00:00Z"
    with connect(url, additional_headers={"X-Trace-Key": key}, open_timeout=10) as ws:
        assert ws.response.status_code == 101
        assert ws.response.headers["GS1-Query-Min-Record-Time"] == "2000-01-01T00:00:00.000Z"
        assert ws.response.headers["GS1-EPCIS-Version"] == "2.0.0"
        first = orjson.loads(ws.recv(timeout=10))
        sub = QuerySubscription.objects.get()
        assert sub.websocket and sub.stream and sub.dest == ""
        assert first["epcisBody"]["queryResults"]["subscriptionID"] == sub.subscription_id
        assert first["epcisBody"]["queryResults"]["queryName"] == "temps"
        assert _event_ids(orjson.dumps(first)) == [EXAMPLE4]  # recorded since initialRecordTime
        # new captures: one matches the query, one does not; the worker's job after capture marks the socket
        _capture(client, key, "Example_9.6.1-ObjectEvent.jsonld", "WithSensorData/SensorDataExample7.jsonld")
        assert tasks.notify_streams.call() == 1
        assert _event_ids(ws.recv(timeout=10)) == [EXAMPLE7]
        # nothing new: a further mark sends nothing
        tasks.notify_streams.call()
        with pytest.raises(TimeoutError):
            ws.recv(timeout=0.5)
    # the subscription lives as long as its socket
    _wait_until(lambda: not QuerySubscription.objects.exists())


def test_staff_session_subscribes_to_its_own_query_from_its_own_origin_only(server, supervisor, chain):
    staff = factories.staff_client(supervisor)
    resp = staff.post("/api/trace/epcis/queries", data=orjson.dumps({"name": "mine", "query": {"eventType": "ObjectEvent"}}),
                      content_type="application/json")
    assert resp.status_code == 201, resp.content
    cookie = f"{django_settings.SESSION_COOKIE_NAME}={staff.cookies[django_settings.SESSION_COOKIE_NAME].value}"
    port = server.split(":")[2].split("/")[0]
    with connect(f"{server}/mine/events?stream=true", additional_headers={"Cookie": cookie}, open_timeout=10,
                 origin=f"http://127.0.0.1:{port}") as ws:
        assert ws.response.status_code == 101
        _wait_until(lambda: QuerySubscription.objects.filter(websocket=True, query__owner=supervisor).exists())
    _wait_until(lambda: not QuerySubscription.objects.exists())
    # a page of another site cannot open the socket with the signed-in user's cookie
    with pytest.raises(InvalidStatus) as refused:
        connect(f"{server}/mine/events?stream=true", additional_headers={"Cookie": cookie}, open_timeout=10,
                origin="https://evil.example.com")
    assert refused.value.response.status_code == 401


def test_refused_handshakes_answer_as_the_api_does(server, key, supervisor, chain):  # noqa: F811
    client = Client()
    _named(client, key)
    _, other_key = services.issue_capture_key(actor=supervisor, organisation=chain["prov"], label="CDC")

    def status(path, headers):
        with pytest.raises(InvalidStatus) as refused:
            connect(f"{server}/{path}", additional_headers=headers, open_timeout=10)
        body = orjson.loads(refused.value.response.body)
        assert refused.value.response.headers["Content-Type"] == "application/problem+json"
        return refused.value.response.status_code, body["type"]

    assert status("temps/events?stream=true", {}) == (401, "epcisException:SecurityException")
    assert status("temps/events?stream=true", {"X-Trace-Key": "sgt_bad_key"}) == (401, "epcisException:SecurityException")
    # another organisation's query is not found, as on GET /queries/{name}
    assert status("temps/events?stream=true", {"X-Trace-Key": other_key}) == (404, "epcisException:NoSuchNameException")
    assert status("nope/events?stream=true", {"X-Trace-Key": key}) == (404, "epcisException:NoSuchNameException")
    bad = "epcisException:SubscriptionControlsException"
    assert status("temps/events", {"X-Trace-Key": key}) == (400, bad)  # neither stream nor schedule
    assert status("temps/events?stream=true&minute=5", {"X-Trace-Key": key}) == (400, bad)  # both
    assert status("temps/events?hour=24", {"X-Trace-Key": key}) == (400, bad)
    assert status("temps/events?stream=true&initialRecordTime=yesterday", {"X-Trace-Key": key}) == (400, bad)
    assert status("temps/events?stream=true&dest=http://x", {"X-Trace-Key": key}) == (400, bad)
    assert not QuerySubscription.objects.exists()


def test_scheduled_socket_reports_if_empty_and_deleting_the_query_closes_it(server, key):  # noqa: F811
    client = Client()
    _named(client, key)
    url = f"{server}/temps/events?minute=[0-59]&reportIfEmpty=true"
    with connect(url, additional_headers={"X-Trace-Key": key}, open_timeout=10) as ws:
        _wait_until(lambda: QuerySubscription.objects.filter(websocket=True).exists())
        # the minute job (run_schedules) marks the socket's subscription instead of queueing a POST
        assert subscriptions.due_schedules(timezone.now()) == []
        assert _event_ids(ws.recv(timeout=10)) == []  # reportIfEmpty: an empty document
        # the binding: deleting a named query forcibly unsubscribes its WebSocket subscriptions
        assert client.delete("/api/trace/epcis/queries/temps", HTTP_X_TRACE_KEY=key).status_code == 204
        with pytest.raises(ConnectionClosed) as closed:
            ws.recv(timeout=10)
        assert closed.value.rcvd.code == 1000 and closed.value.rcvd.reason == "unsubscribed"
    assert not QuerySubscription.objects.exists()


def test_day_of_week_counts_from_monday_as_the_binding_says():
    monday = datetime.datetime(2026, 12, 7, 1, 5, tzinfo=datetime.UTC)
    assert subscriptions.schedule_matches({"dayOfWeek": "1", "hour": "1", "minute": "5"}, monday)
    assert not subscriptions.schedule_matches({"dayOfWeek": "7"}, monday)
    assert subscriptions.schedule_matches({"dayOfWeek": "[6-7]"}, monday + datetime.timedelta(days=6))  # Sunday
