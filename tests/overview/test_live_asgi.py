"""SSE through the ASGI request path (uvicorn in production): the async stream runs its look-ups on shared
threads, and a figure changed by another connection is pushed."""

import asyncio

import orjson
import pytest
from asgiref.sync import sync_to_async
from django.conf import settings as django_settings
from django.db import connections
from django.db.backends.signals import connection_created
from django.test import AsyncClient

from smartgov.accounts.models import Level
from smartgov.core.permissions import Role
from smartgov.overview.registry import providers
from tests import factories

# The audit trail refuses the flush a transactional test ends with, so it is left out of the flushed apps;
# the providers are read once here, with every app installed, before available_apps narrows the registry.
providers()
pytestmark = pytest.mark.django_db(transaction=True, available_apps=[
    a for a in django_settings.INSTALLED_APPS if a != "smartgov.audit"])


@pytest.fixture(autouse=True)
def readers_take_no_table_locks():
    """The SQLite test database is in memory with a shared cache, where a reader's table lock makes a writer
    on another thread fail at once ("database table is locked") instead of waiting as it does on a WAL file
    or PostgreSQL. Here the stream's look-up threads read while the test writes, so their connections read
    without table locks (``read_uncommitted`` only has this effect in shared-cache mode)."""
    def no_read_locks(sender, connection, **kwargs):
        if connection.vendor == "sqlite" and connection.is_in_memory_db():
            with connection.cursor() as cursor:
                cursor.execute("PRAGMA read_uncommitted = 1")

    connection_created.connect(no_read_locks)
    for conn in connections.all(initialized_only=True):
        no_read_locks(None, conn)
    yield
    connection_created.disconnect(no_read_locks)


def _events(chunk: bytes) -> list[dict]:
    return [orjson.loads(block.split("data: ", 1)[1]) for block in chunk.decode().split("\n\n")
            if block.startswith("event: snapshot")]


async def _next_snapshot(it, timeout: float = 10.0) -> dict:
    async def find():
        while True:
            events = _events(await anext(it))
            if events:
                return events[-1]

    return await asyncio.wait_for(find(), timeout)


async def _snapshot_where(it, pred, timeout: float = 10.0) -> dict:
    """The first pushed snapshot satisfying ``pred`` (a change made in several commits may be pushed in steps:
    a depot first, then its scan's hot spot)."""
    async def find():
        while True:
            data = await _next_snapshot(it, timeout)
            if pred(data):
                return data

    return await asyncio.wait_for(find(), timeout)


def figure(data, key):
    return next(i["value"] for g in data["apps"] for i in g["indicators"] if i["key"] == key)


def test_the_asgi_stream_pushes_a_hot_spot_from_another_connection(settings):
    from tests.overview.test_overview import hot_spot

    settings.OVERVIEW_LIVE_POLL_S = 0.05
    county = factories.department("甲县", level=Level.COUNTY)
    leader = factories.user(Role.SUPERVISOR, department=county)
    signed_in = factories.staff_client(leader)

    async def scenario():
        client = AsyncClient()
        client.cookies = signed_in.cookies
        resp = await client.get("/overview/live/")
        assert resp.status_code == 200 and resp["Content-Type"] == "text/event-stream"
        it = aiter(resp.streaming_content)
        assert figure(await _next_snapshot(it), "grain.hot_spot_warehouses") == 0
        await sync_to_async(hot_spot, thread_sensitive=False)(county)
        pushed = await _snapshot_where(it, lambda d: figure(d, "grain.hot_spot_warehouses") == 1)
        assert figure(pushed, "grain.hot_spot_warehouses") == 1 and pushed["alerts"][0]["app"] == "grain"

    asyncio.run(scenario())


def test_screens_of_one_department_share_one_computation_and_keep_their_own_acknowledgements(settings):
    from smartgov.overview import live, services
    from tests.overview.test_overview import hot_spot

    settings.OVERVIEW_LIVE_POLL_S = 0.05
    county = factories.department("乙县", level=Level.COUNTY)
    wh = hot_spot(county)
    first, second = (factories.user(Role.SUPERVISOR, department=county) for _ in range(2))
    key = f"grain.heat:{wh.alerts.get().pk}"
    services.acknowledge_alert(actor=first, alert_key=key)
    clients = [factories.staff_client(u) for u in (first, second, second)]

    async def scenario():
        its = []
        for signed_in in clients:
            client = AsyncClient()
            client.cookies = signed_in.cookies
            resp = await client.get("/overview/live/")
            its.append(aiter(resp.streaming_content))
        opened = [await _next_snapshot(it) for it in its]
        assert [len(d["alerts"]) for d in opened] == [0, 1, 1]  # the first leader acknowledged it
        channel = live.HUB.channels[county.pk]
        assert len(channel.subscribers) == 3
        await sync_to_async(hot_spot, thread_sensitive=False)(county, "P2")
        pushed = [await _snapshot_where(it, lambda d: figure(d, "grain.hot_spot_warehouses") == 2) for it in its]
        assert [figure(d, "grain.hot_spot_warehouses") for d in pushed] == [2, 2, 2]
        assert [len(d["alerts"]) for d in pushed] == [1, 2, 2]
        assert live.HUB.channels[county.pk] is channel and channel.computations >= 1  # one channel, three screens

    asyncio.run(scenario())
