"""Live hall pages pushed by server-sent events (SSE) under ASGI (decision and figures: docs/hall.md).

One ``Hub`` per server process. Pages subscribe to a hall (the display) or to one ticket (the citizen's
own page). One task per process follows the hall event log (``HallEvent`` ids): when a hall has new
events it computes the hall's state once — the display state and every waiting ticket's position and
ETA, two queries however many pages watch — and hands each subscriber its message. Writes in the same
process wake the task at once (``wake`` on commit); writes in other processes (the WSGI workers of
``smartgov serve``) are seen by the next look at the log, every ``HALL_LIVE_POLL_MS`` milliseconds: one
indexed ``MAX(id)`` query per process, not one per page, and no page ever polls.
"""

import asyncio
import logging
import time

import orjson
from asgiref.sync import sync_to_async
from django.conf import settings
from django.db import close_old_connections
from django.db.models import Max
from django.utils import timezone

from . import selectors
from .models import Hall, HallEvent, Ticket

KEEPALIVE_S = 15.0


def _poll_seconds() -> float:
    return getattr(settings, "HALL_LIVE_POLL_MS", 100) / 1000


def sse(event: str, data) -> bytes:
    return b"event: " + event.encode() + b"\ndata: " + orjson.dumps(data) + b"\n\n"


class Subscriber:
    __slots__ = ("hall_id", "queue", "ticket_id")

    def __init__(self, hall_id: int, ticket_id: int | None):
        self.hall_id, self.ticket_id = hall_id, ticket_id
        self.queue: asyncio.Queue[bytes] = asyncio.Queue(maxsize=64)

    def offer(self, message: bytes) -> None:
        try:
            self.queue.put_nowait(message)
        except asyncio.QueueFull:  # a page that stopped reading: drop its oldest message, keep the newest
            self.queue.get_nowait()
            self.queue.put_nowait(message)


def _snapshot(hall_id: int, since: int, ticket_ids: set[int]) -> tuple[bytes, dict[int, bytes], list[dict]]:
    """The hall's display message, each watched ticket's message, and the calls since ``since``."""
    close_old_connections()
    hall = Hall.objects.get(pk=hall_id)
    day = timezone.localdate()
    display = selectors.display_state(hall, day)
    calls = [e.data for e in HallEvent.objects.filter(hall_id=hall_id, id__gt=since, kind__in=("call", "recall"))
             .order_by("id")]
    per_ticket = {}
    if ticket_ids:
        positions = selectors.waiting_positions(hall, day)
        for t in Ticket.objects.filter(pk__in=ticket_ids).select_related("service", "window", "hall"):
            per_ticket[t.pk] = sse("ticket", selectors.ticket_state(t, positions))
    display_message = sse("state", {**display, "new_calls": calls, "at": time.time()})
    return display_message, per_ticket, calls


def hall_id_for(code: str) -> int | None:
    close_old_connections()
    return Hall.objects.filter(code=code).values_list("id", flat=True).first()


def ticket_ids_for(token: str) -> tuple[int, int] | None:
    close_old_connections()
    row = Ticket.objects.filter(token=token).values_list("hall_id", "id").first()
    return tuple(row) if row else None


def _latest_ids() -> dict[int, int]:
    close_old_connections()
    return dict(HallEvent.objects.values("hall_id").annotate(m=Max("id")).values_list("hall_id", "m"))


class Hub:
    def __init__(self):
        self.subscribers: dict[int, set[Subscriber]] = {}
        self.seen: dict[int, int] = {}
        self.loop: asyncio.AbstractEventLoop | None = None
        self.woken: asyncio.Event | None = None
        self.task: asyncio.Task | None = None

    def _ensure_task(self) -> None:
        loop = asyncio.get_running_loop()
        if self.task is None or self.task.done() or self.loop is not loop:
            self.loop, self.woken = loop, asyncio.Event()
            self.task = loop.create_task(self._follow())

    async def subscribe(self, hall_id: int, ticket_id: int | None = None) -> Subscriber:
        self._ensure_task()
        sub = Subscriber(hall_id, ticket_id)
        if not self.subscribers.get(hall_id):  # nobody watched this hall: start from its latest event
            self.seen[hall_id] = (await sync_to_async(_latest_ids, thread_sensitive=False)()).get(hall_id, 0)
        self.subscribers.setdefault(hall_id, set()).add(sub)
        display, tickets, _ = await sync_to_async(_snapshot, thread_sensitive=False)(
            hall_id, self.seen[hall_id], {ticket_id} if ticket_id else set())
        first = tickets.get(ticket_id) if ticket_id else display
        if first:
            sub.offer(first)
        return sub

    def unsubscribe(self, sub: Subscriber) -> None:
        subs = self.subscribers.get(sub.hall_id)
        if subs is not None:
            subs.discard(sub)
            if not subs:
                self.subscribers.pop(sub.hall_id, None)

    def wake(self) -> None:
        loop, woken = self.loop, self.woken
        if loop is not None and woken is not None and not loop.is_closed():
            try:
                loop.call_soon_threadsafe(woken.set)
            except RuntimeError:  # the loop closed in between (a server shutting down)
                pass

    async def _follow(self) -> None:
        while True:
            try:
                await asyncio.wait_for(self.woken.wait(), timeout=_poll_seconds())
            except TimeoutError:
                pass
            self.woken.clear()
            if not self.subscribers:
                continue
            try:
                latest = await sync_to_async(_latest_ids, thread_sensitive=False)()
                for hall_id, subs in list(self.subscribers.items()):
                    top = latest.get(hall_id, 0)
                    if top <= self.seen.get(hall_id, 0):
                        continue
                    tickets = {s.ticket_id for s in subs if s.ticket_id}
                    display, per_ticket, _ = await sync_to_async(_snapshot, thread_sensitive=False)(
                        hall_id, self.seen.get(hall_id, 0), tickets)
                    self.seen[hall_id] = top
                    for sub in list(subs):
                        message = per_ticket.get(sub.ticket_id) if sub.ticket_id else display
                        if message:
                            sub.offer(message)
            except Exception:  # a database hiccup must not end live updates for every page

                logging.getLogger("smartgov.hall.live").exception("live update failed")
                await asyncio.sleep(1)


_hub = Hub()


def hub() -> Hub:
    return _hub


def wake(hall_id: int) -> None:
    """Called on commit of every hall event written in this process."""
    _hub.wake()


async def stream(hall_id: int, ticket_id: int | None = None):
    """The SSE byte stream of one page: its first state at once, then every change, a comment to keep
    proxies from closing an idle connection."""
    sub = await _hub.subscribe(hall_id, ticket_id)
    try:
        yield b"retry: 3000\n\n"
        while True:
            try:
                message = await asyncio.wait_for(sub.queue.get(), timeout=KEEPALIVE_S)
            except TimeoutError:
                yield b": keepalive\n\n"
                continue
            yield message
    finally:
        _hub.unsubscribe(sub)
