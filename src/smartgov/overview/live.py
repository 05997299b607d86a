"""The leaders' screens under ASGI: one computation per department, however many screens watch it.

Each open screen subscribes to its department's ``Channel``. While a channel has subscribers, one task per
server process recomputes that department's picture every ``OVERVIEW_LIVE_POLL_S`` seconds (on a shared thread,
with its own database connection closed again) and, when it changed, fetches the acknowledgements of every
watching leader in one query and hands each screen its own message (the alerts it has acknowledged left out).
A department's figures do not depend on which leader looks: each stream checked the leader's permission and
scope when it opened (and ends after ``OVERVIEW_LIVE_MAX_S``, so a changed permission takes effect).
"""

import asyncio
import logging
import time

import orjson
from asgiref.sync import sync_to_async
from django.conf import settings
from django.db import close_old_connections, connections

from smartgov.accounts.models import Department
from smartgov.core.permissions import system_actor

from . import selectors
from .models import Acknowledgement

KEEPALIVE_S = 15.0
log = logging.getLogger("smartgov.overview.live")
LIVE_ACTOR = system_actor("overview.live")


def _poll_s() -> float:
    return float(getattr(settings, "OVERVIEW_LIVE_POLL_S", 5.0))


def _max_s() -> float:
    return float(getattr(settings, "OVERVIEW_LIVE_MAX_S", 300.0))


def event(data: dict) -> bytes:
    return b"event: snapshot\ndata: " + orjson.dumps(data) + b"\n\n"


class Subscriber:
    __slots__ = ("queue", "user_id")

    def __init__(self, user_id: int):
        self.user_id = user_id
        self.queue: asyncio.Queue[bytes] = asyncio.Queue(maxsize=8)

    def offer(self, message: bytes) -> None:
        try:
            self.queue.put_nowait(message)
        except asyncio.QueueFull:  # a screen that stopped reading: drop its oldest message, keep the newest
            self.queue.get_nowait()
            self.queue.put_nowait(message)


def _compute(department_id: int, user_ids: list[int]) -> tuple[bytes, dict, dict[int, set[str]]]:
    """The department's picture with every alert, and each watching leader's acknowledged keys (two lookups)."""
    close_old_connections()
    try:
        dept = Department.objects.get(pk=department_id)
        data = selectors.snapshot(LIVE_ACTOR, dept, include_acknowledged=True)
        keys = [a["key"] for a in data["alerts"]]
        acked: dict[int, set[str]] = {}
        if keys:
            for user_id, key in Acknowledgement.objects.filter(user_id__in=user_ids, alert_key__in=keys) \
                    .values_list("user_id", "alert_key"):
                acked.setdefault(user_id, set()).add(key)
        return orjson.dumps(selectors.figures_only(data)), data, acked
    finally:
        connections.close_all()


def personal(data: dict, acked: set[str]) -> dict:
    """The department's picture as one leader sees it: their acknowledged alerts left out."""
    alerts = []
    for a in data["alerts"]:
        if a["key"] not in acked:
            alerts.append({**a, "acknowledged": False})
    return {**data, "alerts": alerts}


class Channel:
    def __init__(self, department_id: int):
        self.department_id = department_id
        self.subscribers: set[Subscriber] = set()
        self.last: bytes | None = None
        self.task: asyncio.Task | None = None
        self.computations = 0


class Hub:
    """One per server process (``HUB``): the department channels and their tasks."""

    def __init__(self):
        self.channels: dict[int, Channel] = {}

    def subscribe(self, department_id: int, user_id: int, *, last: bytes | None = None) -> Subscriber:
        channel = self.channels.get(department_id)
        if channel is None:
            channel = self.channels[department_id] = Channel(department_id)
        if channel.last is None and last is not None:
            channel.last = last  # what the new screen was just sent: the next change is what matters
        sub = Subscriber(user_id)
        channel.subscribers.add(sub)
        loop = asyncio.get_running_loop()
        if channel.task is None or channel.task.done() or channel.task.get_loop() is not loop:
            channel.task = loop.create_task(self._follow(channel))  # (a new loop: tests run one per test)
        return sub

    def unsubscribe(self, department_id: int, sub: Subscriber) -> None:
        channel = self.channels.get(department_id)
        if channel is not None:
            channel.subscribers.discard(sub)

    async def _follow(self, channel: Channel) -> None:
        compute = sync_to_async(_compute, thread_sensitive=False)
        try:
            while channel.subscribers:
                subs = list(channel.subscribers)
                try:
                    figures, data, acked = await compute(channel.department_id, sorted({s.user_id for s in subs}))
                except Exception:  # a failed look-up (database restarting, locked): try again at the next poll
                    log.exception("overview live: department %s", channel.department_id)
                    await asyncio.sleep(_poll_s())
                    continue
                channel.computations += 1
                if figures != channel.last:
                    channel.last = figures
                    messages: dict[int, bytes] = {}
                    for s in subs:
                        if s.user_id not in messages:
                            messages[s.user_id] = event(personal(data, acked.get(s.user_id, set())))
                        s.offer(messages[s.user_id])
                await asyncio.sleep(_poll_s())
        finally:
            if not channel.subscribers and self.channels.get(channel.department_id) is channel:
                del self.channels[channel.department_id]


HUB = Hub()


async def stream(user_id: int, department_id: int, first: bytes, first_figures: bytes):
    """The body of one screen's stream: the picture at once, then each change its channel hands over."""
    sub = HUB.subscribe(department_id, user_id, last=first_figures)
    started = time.monotonic()
    try:
        yield b"retry: 2000\n\n" + first
        while (left := _max_s() - (time.monotonic() - started)) > 0:
            try:
                message = await asyncio.wait_for(sub.queue.get(), min(KEEPALIVE_S, left))
            except TimeoutError:
                if _max_s() - (time.monotonic() - started) > 0:
                    yield b": keepalive\n\n"
                continue
            yield message
    finally:
        HUB.unsubscribe(department_id, sub)
