"""EPCIS 2.0 query subscriptions by webhook (REST binding ``/queries/{name}/subscriptions``) and by WebSocket
(``GET /queries/{name}/events`` upgraded; the socket side is ``live.py``, served by the ASGI process).

A subscription belongs to a named query. Delivery runs as a job on the platform's database queue
(``core.tasks``): after every capture that stored events (``stream: true``) and, for ``schedule``
subscriptions, when the minute matches (a periodic job looks every minute). Each delivery runs the named
query as its owner (the organisation's key or the staff member: the same scope as ``/events``), for the
events recorded at or after ``initialRecordTime`` and captured after the last one delivered, and POSTs
them to ``dest`` as EPCISQueryDocuments (≤ 1000 events each) with ``GS1-Signature``: the hex HMAC-SHA256 of
the body under the subscriber's ``signatureToken`` (the binding leaves the signature type to the
implementation). A failed POST (no answer, or not 2xx) is retried 30 s, 1, 2, 4 and 8 minutes later;
after that the subscription waits for the next capture or schedule. Delivery is at least once.

Destinations are limited to ``settings.TRACE_WEBHOOK_ALLOWED_HOSTS`` (checked when subscribing and again
before every POST; redirects are not followed), so a subscriber cannot make the server call a host of
its choosing (an internal address, a cloud metadata service …).

A WebSocket subscription is the same row (``websocket``, no ``dest``) made when the socket opens and deleted
when it closes. Its deliveries run the same ``deliver`` with the socket as the sender, in the ASGI process
that holds the socket: the jobs that fan out to webhooks (``notify_streams`` after a capture,
``run_schedules`` every minute) mark it (``notified``, ``last_run_minute``) instead of queueing a POST,
and the live server delivers what is new when a mark changes."""

import datetime
import hashlib
import hmac
import re
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable
from urllib.parse import urlsplit

import orjson
from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from smartgov.audit.services import record
from smartgov.core.errors import InvalidInput, NotFound
from smartgov.core.permissions import require, system_actor

from . import selectors
from .epcis.hashing import parse_time
from .models import NamedQuery, Organisation, QuerySubscription
from .permissions import is_key

RETRY_DELAYS = (30, 60, 120, 240, 480)
TIMEOUT_SECONDS = 10
# REST binding GS1-Query-DayOfWeek: 1 through 7, 1 denoting Monday … 7 Sunday
SCHEDULE_FIELDS = {"second": (0, 59), "minute": (0, 59), "hour": (0, 23), "dayOfMonth": (1, 31),
                   "month": (1, 12), "dayOfWeek": (1, 7)}
# a number, a range ``[a-b]`` (the binding's pattern and EPCIS 2.0 §8.2.5.3) or ``a-b``, ``*``; ``/n`` steps
_CRON_PART = re.compile(r"^(\*|\d{1,2}(?:-\d{1,2})?|\[\d{1,2}-\d{1,2}\])(?:/(\d{1,2}))?$")


def _bad(message, parameter):
    return InvalidInput(message, code="SubscriptionControlsException", detail={"parameter": parameter})


def _cron_values(name: str, text: str) -> set[int]:
    """One field of a schedule (EPCIS 2.0 §8.2.5.3 QuerySchedule: numbers, ranges ``a-b``, lists with ``,``,
    ``*`` and steps ``/n``)."""
    lo, hi = SCHEDULE_FIELDS[name]
    values: set[int] = set()
    for part in str(text).split(","):
        m = _CRON_PART.match(part.strip())
        if not m:
            raise _bad(f"schedule.{name} 格式错误", f"schedule.{name}")
        base, step = m.group(1).strip("[]"), int(m.group(2) or 1)
        if base == "*":
            start, end = lo, hi
        elif "-" in base:
            start, end = (int(x) for x in base.split("-"))
        else:
            start = end = int(base)
        if not lo <= start <= end <= hi or step < 1:
            raise _bad(f"schedule.{name} 超出范围 {lo}–{hi}", f"schedule.{name}")
        values.update(range(start, end + 1, step))
    return values


def parse_schedule(schedule: dict) -> dict[str, set[int]]:
    if not isinstance(schedule, dict) or not schedule or set(schedule) - set(SCHEDULE_FIELDS):
        raise _bad("schedule 应含 second、minute、hour、dayOfMonth、month、dayOfWeek 中的字段", "schedule")
    return {k: _cron_values(k, v) for k, v in schedule.items()}


def schedule_matches(schedule: dict, at: datetime.datetime) -> bool:
    """Whether the schedule fires in the minute of ``at`` (UTC; seconds are not resolved: a schedule with
    ``second`` runs once in each matching minute)."""
    fields = parse_schedule(schedule)
    now = {"minute": at.minute, "hour": at.hour, "dayOfMonth": at.day, "month": at.month,
           "dayOfWeek": at.isoweekday()}
    return all(now[k] in v for k, v in fields.items() if k != "second")


def host_allowed(url: str) -> bool:
    """Whether ``url`` names a host of ``TRACE_WEBHOOK_ALLOWED_HOSTS``: an entry ``host`` allows that host on
    any port, ``host:port`` that port only, ``*.example.cn`` every name below example.cn (not example.cn
    itself). Names compare case-insensitively; IP addresses only as written."""
    try:
        parts = urlsplit(url)
        host, port = (parts.hostname or "").lower(), parts.port
    except ValueError:  # a port that is not a number
        return False
    if parts.scheme not in ("http", "https") or not host:
        return False
    port = port or (443 if parts.scheme == "https" else 80)
    for entry in settings.TRACE_WEBHOOK_ALLOWED_HOSTS:
        name, _, entry_port = entry.rpartition(":") if entry.count(":") == 1 else (entry, "", "")
        if entry_port and str(port) != entry_port:
            continue
        if name == host or (name.startswith("*.") and host.endswith(name[1:])):
            return True
    return False


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    """A webhook answer that redirects is a failure: following it would call a host nobody allowed."""

    def redirect_request(self, req, fp, code, msg, headers, newurl):
        raise urllib.error.HTTPError(req.full_url, code, "redirect not followed", headers, fp)


_OPENER = urllib.request.build_opener(_NoRedirect)


def _owner_query(actor, organisation, name) -> NamedQuery:
    owner = {"organisation": organisation} if is_key(actor) else {"owner": actor}
    nq = NamedQuery.objects.filter(name=name, **owner).first()
    if nq is None:
        raise NotFound("没有该查询", code="query_not_found")
    return nq


@transaction.atomic
def create_subscription(*, actor, organisation: Organisation | None, name: str, dest: str = "",
                        stream: bool | None = None, schedule: dict | None = None, report_if_empty: bool = False,
                        initial_record_time: str | None = None, signature_token: str = "",
                        websocket: bool = False) -> QuerySubscription:
    """Subscribe ``dest`` (or, with ``websocket``, the socket being opened) to the named query. ``actor`` is
    the staff member, or an organisation's key (``OrganisationKey`` for ``organisation``). Either ``stream``
    is true or a ``schedule`` is given, not both."""
    if not is_key(actor):
        require(actor, "trace.view")
    nq = _owner_query(actor, organisation, name)
    dest = "" if websocket else (dest or "").strip()
    if not websocket and (not re.match(r"^https?://[^\s/?#]+[^\s]*$", dest) or len(dest) > 500):
        raise _bad("dest 应为 http(s) 地址", "dest")
    if not websocket and not host_allowed(dest):
        raise _bad("dest 不在允许的回调地址名单内（SMARTGOV_TRACE_WEBHOOK_HOSTS）", "dest")
    if bool(stream) == bool(schedule):
        raise _bad("应指定 stream=true 或 schedule（二者之一）", "stream")
    if schedule:
        parse_schedule(schedule)
    if initial_record_time:
        try:
            start = parse_time(initial_record_time)
        except ValueError:
            raise _bad("initialRecordTime 不是带时区的ISO 8601时间", "initialRecordTime") from None
    else:
        start = timezone.now()
    if not isinstance(signature_token, str) or len(signature_token) > 500:
        raise _bad("signatureToken 应为不超过500个字符的字符串", "signatureToken")
    sub = QuerySubscription.objects.create(
        subscription_id=str(uuid.uuid4()), query=nq, dest=dest, stream=bool(stream), schedule=schedule or {},
        report_if_empty=bool(report_if_empty), initial_record_time=start, signature_token=signature_token,
        websocket=websocket)
    record(actor=actor, action="trace.subscription.create", target=sub,
           changes={"query": name, "dest": dest or "websocket", "stream": bool(stream), "schedule": schedule or {}})
    return sub


@transaction.atomic
def delete_subscription(*, actor, organisation: Organisation | None, name: str, subscription_id: str) -> None:
    nq = _owner_query(actor, organisation, name)
    sub = QuerySubscription.objects.select_for_update().filter(query=nq, subscription_id=subscription_id).first()
    if sub is None:
        raise NotFound("没有该订阅", code="subscription_not_found")
    record(actor=actor, action="trace.subscription.delete", target=sub,
           changes={"query": name, "dest": sub.dest or "websocket"})
    sub.delete()


def signal_websockets() -> int:
    """After a capture (``notify_streams``): mark every WebSocket stream subscription; the live server that
    holds the socket sees the mark and delivers what is new."""
    return QuerySubscription.objects.filter(websocket=True, stream=True).update(notified=F("notified") + 1)


def subscriptions_of(actor, organisation, name):
    return _owner_query(actor, organisation, name).subscriptions.order_by("created_at")


def sign(token: str, body: bytes) -> str:
    return hmac.new(token.encode(), body, hashlib.sha256).hexdigest()


def _post(sub: QuerySubscription, body: bytes) -> None:
    headers = {"Content-Type": "application/json", "GS1-EPCIS-Version": "2.0.0", "GS1-CBV-Version": "2.0.0",
               "User-Agent": "SmartGov-EPCIS"}
    if sub.signature_token:
        headers["GS1-Signature"] = sign(sub.signature_token, body)
    if not host_allowed(sub.dest):  # the list may have changed since the subscription was made
        raise urllib.error.URLError(f"{sub.dest} 不在允许的回调地址名单内")
    req = urllib.request.Request(sub.dest, data=body, headers=headers, method="POST")  # noqa: S310 (http(s) only)
    with _OPENER.open(req, timeout=TIMEOUT_SECONDS) as resp:
        if not 200 <= resp.status < 300:
            raise urllib.error.HTTPError(sub.dest, resp.status, "not 2xx", resp.headers, None)


def _with_subscription(body: bytes, sub: QuerySubscription) -> bytes:
    doc = orjson.loads(body)
    results = doc["epcisBody"]["queryResults"]
    results["queryName"] = sub.query.name
    results["subscriptionID"] = sub.subscription_id
    return orjson.dumps(doc)


def deliver(subscription_id: str, *, scheduled: bool = False, send: Callable[[bytes], None] | None = None) -> str:
    """Send what is new for one subscription: POSTed to its webhook, or handed to ``send`` (the live server's
    WebSocket). Returns ``sent``, ``nothing``, ``failed`` or ``gone``."""
    with transaction.atomic():
        sub = (QuerySubscription.objects.select_for_update().select_related("query")
               .filter(subscription_id=subscription_id).first())
        if sub is None or (sub.websocket and send is None):  # a socket's rows are served where the socket is
            return "gone"
        post = send or (lambda body: _post(sub, body))
        nq = sub.query
        viewer = nq.organisation if nq.organisation_id else nq.owner
        params = {**nq.query, "GE_recordTime": sub.initial_record_time.isoformat(), "perPage": "1000"}
        sent_any = False
        last = sub.last_event_id
        try:
            while True:
                page_params = dict(params)
                if last:
                    page_params["nextPageToken"] = selectors.page_token(params, last)
                page = selectors.query_events(viewer, page_params)
                if page.last_id is None:
                    if not sent_any and scheduled and sub.report_if_empty:
                        post(_with_subscription(page.body, sub))
                        sent_any = True
                    break
                post(_with_subscription(page.body, sub))
                sent_any, last = True, page.last_id
                sub.last_event_id = last
                if page.next_token is None:
                    break
        except (OSError, urllib.error.URLError, ValueError) as exc:
            sub.failures += 1
            sub.last_error = str(exc)[:300]
            sub.save(update_fields=["last_event_id", "failures", "last_error", "updated_at"])
            return "failed"
        if sent_any:
            sub.last_notified_at = timezone.now()
        sub.failures, sub.last_error = 0, ""
        sub.save(update_fields=["last_event_id", "last_notified_at", "failures", "last_error", "updated_at"])
        return "sent" if sent_any else "nothing"


def retry_after(subscription_id: str, attempt: int) -> datetime.datetime | None:
    """When to try a failed delivery again (the job queues it), or None once delivery gave up for now,
    which is recorded in the audit trail."""
    if attempt < len(RETRY_DELAYS):
        return timezone.now() + datetime.timedelta(seconds=RETRY_DELAYS[attempt])
    sub = QuerySubscription.objects.filter(subscription_id=subscription_id).first()
    if sub is not None:
        record(actor=system_actor("trace.subscriptions"), action="trace.subscription.undelivered", target=sub,
               changes={"dest": sub.dest, "failures": sub.failures, "error": sub.last_error})
    return None


def due_schedules(at: datetime.datetime) -> list[str]:
    """Webhook subscriptions whose schedule fires in this minute and that have not run in it yet. WebSocket
    ones are only marked (``last_run_minute``): the live server holding the socket runs them."""
    minute = at.strftime("%Y%m%d%H%M")
    due = []
    for sub in QuerySubscription.objects.filter(stream=False).exclude(last_run_minute=minute):
        if schedule_matches(sub.schedule, at):
            QuerySubscription.objects.filter(pk=sub.pk).update(last_run_minute=minute)
            if not sub.websocket:
                due.append(sub.subscription_id)
    return due
