"""SSE delivery: a display page and a citizen's ticket page connected through the ASGI request path get
their first state at once and every change pushed (no page polls)."""

import asyncio
import datetime

import orjson
import pytest
from asgiref.sync import sync_to_async
from django.test import AsyncClient
from django.utils import timezone

from smartgov.hall import services

from .conftest import SETUP

pytestmark = pytest.mark.django_db(transaction=True, available_apps=[
    "django.contrib.contenttypes", "django.contrib.auth", "django.contrib.sessions", "smartgov.core",
    "smartgov.accounts", "smartgov.identity", "smartgov.eid", "smartgov.licences", "smartgov.workflow",
    "smartgov.onestop", "smartgov.hall"])


def _events(chunk: bytes) -> list[tuple[str, dict]]:
    out = []
    for block in chunk.decode().split("\n\n"):
        lines = dict(line.split(": ", 1) for line in block.splitlines() if ": " in line and not line.startswith(":"))
        if "event" in lines:
            out.append((lines["event"], orjson.loads(lines["data"])))
    return out


async def _next_event(it, kind: str, timeout: float = 5.0):
    async def find():
        while True:
            for event, data in _events(await anext(it)):
                if event == kind:
                    return data

    return await asyncio.wait_for(find(), timeout)


def test_display_and_ticket_pages_get_each_call_pushed(hall_world, settings):
    settings.HALL_LIVE_POLL_MS = 5000  # the push must come from the commit's wake-up, not the periodic look
    w = hall_world
    hall, now = w["hall"], timezone.now()
    first = services.issue_ticket(actor=w["officers"][0], hall=hall, service=w["passport"], at=now)
    mine = services.issue_ticket(actor=w["officers"][0], hall=hall, service=w["passport"],
                                 at=now + datetime.timedelta(seconds=1))

    async def scenario():
        client = AsyncClient()
        display = await client.get(f"/hall/live/{hall.code}/")
        assert display["Content-Type"] == "text/event-stream"
        ticket_page = await client.get(f"/hall/live/t/{mine.token}/")
        d_it, t_it = aiter(display.streaming_content), aiter(ticket_page.streaming_content)
        state = await _next_event(d_it, "state")
        assert {x["service"]: x["count"] for x in state["waiting"]}["A"] == 2
        assert (await _next_event(t_it, "ticket"))["position"] == 2
        called = await sync_to_async(services.call_next, thread_sensitive=False)(
            actor=SETUP, window=w["windows"][0], at=timezone.now())
        assert called.pk == first.pk
        state = await _next_event(d_it, "state")
        assert state["windows"][0]["serving"] == first.number
        assert [c["ticket"] for c in state["new_calls"]] == [first.number]
        assert (await _next_event(t_it, "ticket"))["position"] == 1
        await sync_to_async(services.call_next, thread_sensitive=False)(
            actor=SETUP, window=w["windows"][2], at=timezone.now())
        mine_state = await _next_event(t_it, "ticket")
        assert (mine_state["status"], mine_state["window"]) == ("called", 3)

    asyncio.run(scenario())


def test_display_page_renders_with_the_live_url(hall_world, client):
    resp = client.get(f"/hall/{hall_world['hall'].code}/display/")
    assert resp.status_code == 200
    assert f'data-live="/hall/live/{hall_world["hall"].code}/"' in resp.content.decode()
