"""EPCIS 2.0 query subscriptions by WebSocket, served by the platform's ASGI process (``smartgov hall live``,
which ``smartgov serve`` starts beside gunicorn; see docs/trace.md "Subscriptions").

REST binding ``GET /queries/{name}/events`` with ``Upgrade: websocket`` and, in the query string, either
``stream=true`` or a schedule (``second``, ``minute``, ``hour``, ``dayOfMonth``, ``month``, ``dayOfWeek``),
with ``initialRecordTime`` and ``reportIfEmpty`` (openapi.yaml, 101WebsocketCreated). Here the path is the
API's: ``/api/trace/epcis/queries/{name}/events``. The caller authenticates as on the API — an
organisation's ``X-Trace-Key`` or a staff session cookie (then the ``Origin``, when sent, must be this host
or a trusted origin, so another site's page cannot borrow the session) — and sees only its own named
queries (someone else's is "not found", as on ``/queries``). A refused handshake gets the API's answer:
``application/problem+json`` 400 ``SubscriptionControlsException``, 401, 403 or 404.

Each accepted socket is a ``QuerySubscription`` row (``subscriptions.create_subscription(websocket=True)``),
deleted when the socket closes. Each message sent is an EPCISQueryDocument (text frame, JSON-LD) with
``queryName`` and ``subscriptionID``, made by ``subscriptions.deliver`` (the webhook delivery, with the socket
as the sender): on opening, what was recorded since ``initialRecordTime`` (stream); then what is new after
every capture (``notify_streams`` marks the row) or when the schedule fires (``run_schedules`` marks it).
One task per server process looks at the marks of all its sockets in one query every ``TRACE_WS_POLL_MS``;
a row that is gone (the named query was deleted: the binding's forced unsubscribe) closes its socket.
"""

import asyncio
import logging
import re
from http.cookies import SimpleCookie
from urllib.parse import parse_qsl, unquote, urlsplit

import orjson
from asgiref.sync import sync_to_async
from django.conf import settings
from django.contrib.auth import get_user
from django.db import close_old_connections
from django.utils.module_loading import import_string

from smartgov.core.errors import DomainError, Forbidden, InvalidInput, NotAuthenticated, NotFound

from . import services, subscriptions
from .models import QuerySubscription
from .permissions import OrganisationKey

log = logging.getLogger("smartgov.trace.live")
PATH = re.compile(r"^/api/trace/epcis/queries/(?P<name>[^/]+)/events/?$")
SCHEDULE_PARAMS = ("second", "minute", "hour", "dayOfMonth", "month", "dayOfWeek")
# the binding lists these for GET /queries/{name}/events; paging has no meaning on a subscription
IGNORED_PARAMS = {"perPage", "nextPageToken"}
GS1_HEADERS = [(b"GS1-EPCIS-Version", b"2.0.0"), (b"GS1-CBV-Version", b"2.0.0")]
CLOSED_UNSUBSCRIBED = 1000


def _poll_seconds() -> float:
    return settings.TRACE_WS_POLL_MS / 1000


def _headers(scope) -> dict[str, str]:
    return {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", [])}


def _origin_allowed(headers: dict[str, str]) -> bool:
    """A browser sends ``Origin`` with every WebSocket handshake and the session cookie with it whatever
    page opened the socket: a session is only taken from this host's own pages or a trusted origin."""
    origin = headers.get("origin")
    if origin is None:  # not a browser
        return True
    netloc = urlsplit(origin).netloc.lower()
    return netloc == headers.get("host", "").lower() or origin in settings.CSRF_TRUSTED_ORIGINS


class _SessionRequest:
    """What ``django.contrib.auth.get_user`` reads: the session."""

    def __init__(self, session):
        self.session = session


UNAUTHENTICATED = "未认证：请提供 X-Trace-Key 或登录"


def authenticate(headers: dict[str, str]):
    """(actor, organisation) as the API's ``TraceKey``/``django_auth`` would give them; NotAuthenticated
    without a valid key or a signed-in session from an allowed origin."""
    close_old_connections()
    key = headers.get("x-trace-key")
    if key:
        org = services.authenticate_capture_key(key)
        if org is None:
            raise NotAuthenticated(UNAUTHENTICATED)
        return OrganisationKey(org), org
    cookie = SimpleCookie()
    cookie.load(headers.get("cookie", ""))
    morsel = cookie.get(settings.SESSION_COOKIE_NAME)
    if morsel is None or not _origin_allowed(headers):
        raise NotAuthenticated(UNAUTHENTICATED)
    store = import_string(settings.SESSION_ENGINE + ".SessionStore")
    user = get_user(_SessionRequest(store(morsel.value)))
    if not user.is_authenticated:
        raise NotAuthenticated(UNAUTHENTICATED)
    return user, None


def _flag(params: dict, name: str) -> bool | None:
    if name not in params:
        return None
    value = params[name].strip().lower()
    if value not in ("true", "false"):
        raise InvalidInput(f"{name} 应为 true 或 false", code="SubscriptionControlsException",
                           detail={"parameter": name})
    return value == "true"


def open_subscription(actor, organisation, name: str, query_string: str) -> QuerySubscription:
    """The handshake's query string checked and the subscription made (same service as the webhooks')."""
    close_old_connections()
    params = dict(parse_qsl(query_string, keep_blank_values=True))
    unknown = sorted(set(params) - {"stream", "initialRecordTime", "reportIfEmpty", *SCHEDULE_PARAMS, *IGNORED_PARAMS})
    if unknown:
        raise InvalidInput("不支持的订阅参数", code="SubscriptionControlsException", detail={"parameters": unknown})
    schedule = {k: params[k] for k in SCHEDULE_PARAMS if k in params}
    stream = _flag(params, "stream")
    if stream is False:  # the binding's GS1-Query-Stream has one value: true
        raise InvalidInput("stream 只能为 true", code="SubscriptionControlsException", detail={"parameter": "stream"})
    return subscriptions.create_subscription(
        actor=actor, organisation=organisation, name=name, websocket=True, stream=stream, schedule=schedule or None,
        report_if_empty=bool(_flag(params, "reportIfEmpty")), initial_record_time=params.get("initialRecordTime"))


def close_subscription(actor, organisation, name: str, subscription_id: str) -> None:
    close_old_connections()
    try:
        subscriptions.delete_subscription(actor=actor, organisation=organisation, name=name,
                                          subscription_id=subscription_id)
    except NotFound:  # already gone with its named query
        pass


class Socket:
    """One open WebSocket subscription in this process."""

    __slots__ = ("loop", "notified", "outbox", "ran_minute", "stream", "subscription_id")

    def __init__(self, sub: QuerySubscription):
        self.subscription_id, self.stream = sub.subscription_id, sub.stream
        self.notified, self.ran_minute = sub.notified, sub.last_run_minute
        self.loop = asyncio.get_running_loop()
        self.outbox: asyncio.Queue[bytes | None] = asyncio.Queue()  # None: the subscription is gone

    def send_from_thread(self, bodies: list[bytes]) -> None:
        """Hands documents made on the database thread to the socket."""
        for body in bodies:
            self.loop.call_soon_threadsafe(self.outbox.put_nowait, body)


def _marks(ids: list[str]) -> dict[str, tuple[int, str]]:
    close_old_connections()
    rows = QuerySubscription.objects.filter(subscription_id__in=ids)
    return {sid: (n, minute) for sid, n, minute in rows.values_list("subscription_id", "notified", "last_run_minute")}


def _deliver(socket: Socket, scheduled: bool) -> str:
    """The webhook delivery with the socket as the sender; the documents go out once the subscription's new
    position is committed."""
    close_old_connections()
    bodies: list[bytes] = []
    outcome = subscriptions.deliver(socket.subscription_id, scheduled=scheduled, send=bodies.append)
    socket.send_from_thread(bodies)
    return outcome


class Watch:
    """One task per server process: the marks of every open socket in one query, then each socket whose mark
    changed gets its delivery. The module's database work runs on the one thread asgiref keeps for
    thread-sensitive code (``thread_sensitive=True``), so a socket's delivery, opening and closing never race
    each other for the same row."""

    def __init__(self):
        self.sockets: dict[str, Socket] = {}
        self.task: asyncio.Task | None = None

    def add(self, socket: Socket) -> None:
        self.sockets[socket.subscription_id] = socket
        if self.task is None or self.task.done() or self.task.get_loop() is not socket.loop:
            self.task = socket.loop.create_task(self._follow())

    def remove(self, socket: Socket) -> None:
        self.sockets.pop(socket.subscription_id, None)

    async def _follow(self) -> None:
        while self.sockets:
            await asyncio.sleep(_poll_seconds())
            try:
                marks = await sync_to_async(_marks, thread_sensitive=True)(list(self.sockets))
                for sid, socket in list(self.sockets.items()):
                    if sid not in marks:
                        socket.outbox.put_nowait(None)
                        continue
                    notified, minute = marks[sid]
                    scheduled = minute != socket.ran_minute
                    if notified != socket.notified or scheduled:
                        socket.notified, socket.ran_minute = notified, minute
                        await sync_to_async(_deliver, thread_sensitive=True)(socket, scheduled)
            except Exception:  # a database hiccup must not end every socket's deliveries
                log.exception("websocket subscription delivery failed")
                await asyncio.sleep(1)


_watch = Watch()


async def _refuse(send, status: int, code: str, message: str, path: str) -> None:
    """The handshake answered with an HTTP error (ASGI ``websocket.http.response``), the API's problem shape."""
    body = orjson.dumps({"type": f"epcisException:{code}", "title": message, "status": status, "detail": message,
                         "instance": path, "code": code, "message": message})
    await send({"type": "websocket.http.response.start", "status": status,
                "headers": [(b"content-type", b"application/problem+json"), *GS1_HEADERS]})
    await send({"type": "websocket.http.response.body", "body": body})


async def _handshake(scope, send, name: str):
    """(actor, organisation, subscription) for an accepted handshake, or None once it was refused."""
    path = scope["path"]
    try:
        actor, org = await sync_to_async(authenticate, thread_sensitive=True)(_headers(scope))
        sub = await sync_to_async(open_subscription, thread_sensitive=True)(
            actor, org, name, scope.get("query_string", b"").decode("latin-1"))
    except NotFound as exc:  # no such query of the caller's: someone else's is not found either
        await _refuse(send, 404, "NoSuchNameException", exc.message, path)
    except NotAuthenticated as exc:
        await _refuse(send, 401, "SecurityException", exc.message, path)
    except Forbidden as exc:
        await _refuse(send, 403, "SecurityException", exc.message, path)
    except DomainError as exc:  # SubscriptionControlsException: stream/schedule/initialRecordTime …
        await _refuse(send, 400, "SubscriptionControlsException", exc.message, path)
    else:
        return actor, org, sub
    return None


async def subscription_socket(scope, receive, send) -> None:
    """ASGI application of one WebSocket connection to ``/api/trace/epcis/queries/{name}/events``."""
    match = PATH.match(scope["path"])
    if (await receive())["type"] != "websocket.connect":
        return
    if match is None:
        await _refuse(send, 404, "NotFound", "没有该资源", scope["path"])
        return
    name = unquote(match["name"])
    opened = await _handshake(scope, send, name)
    if opened is None:
        return
    actor, org, sub = opened
    min_record = sub.initial_record_time.isoformat(timespec="milliseconds").replace("+00:00", "Z")
    await send({"type": "websocket.accept",
                "headers": [*GS1_HEADERS, (b"GS1-Query-Min-Record-Time", min_record.encode())]})
    socket = Socket(sub)
    _watch.add(socket)
    closed = asyncio.ensure_future(_until_closed(receive))
    try:
        await _serve(socket, sub, send, closed)
    except OSError:  # the client went away while a message was being sent
        pass
    finally:
        _watch.remove(socket)
        closed.cancel()
        await sync_to_async(close_subscription, thread_sensitive=True)(actor, org, name, sub.subscription_id)


async def _serve(socket: Socket, sub: QuerySubscription, send, closed: asyncio.Future) -> None:
    """Sends each document the deliveries hand the socket, until the client leaves or the query is deleted."""
    if sub.stream:  # "the server SHALL send all new events": those recorded since initialRecordTime
        await sync_to_async(_deliver, thread_sensitive=True)(socket, False)
    while True:
        message = asyncio.ensure_future(socket.outbox.get())
        done, _ = await asyncio.wait({message, closed}, return_when=asyncio.FIRST_COMPLETED)
        if closed in done:
            message.cancel()
            break
        body = message.result()
        if body is None:  # unsubscribed by deleting the named query
            await send({"type": "websocket.close", "code": CLOSED_UNSUBSCRIBED, "reason": "unsubscribed"})
            break
        await send({"type": "websocket.send", "text": body.decode()})


async def _until_closed(receive) -> None:
    """Reads what the client sends (nothing is expected) until it disconnects."""
    while (await receive())["type"] != "websocket.disconnect":
        pass
