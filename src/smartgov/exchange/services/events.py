"""Events (订阅): a provider publishes a change of one of its resources (an enterprise becomes 吊销, a
person is deceased, a licence is revoked); consumers with an agreement subscribe by webhook or by an
in-platform handler. ``publish_event`` writes the event and one delivery row per subscription in the
caller's transaction (the outbox), so an event exists exactly when the change committed; the delivery
worker sends each row at least once (HMAC-SM3 signed body, retries with backoff, dead letters after
``EXCHANGE_WEBHOOK_MAX_ATTEMPTS``), and consumers deduplicate on the event ID."""

import http.client
import re
import secrets
import urllib.parse
import uuid
from collections.abc import Callable
from datetime import timedelta

import orjson
from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from smartgov.audit.services import record
from smartgov.core.crypto.sm3 import hmac_sm3
from smartgov.core.errors import Conflict, InvalidInput, NotFound
from smartgov.core.masking import mask_id_number
from smartgov.core.permissions import is_system, require, system_actor
from smartgov.core.validators import id_number_check_char, is_valid_id_number

from .. import selectors
from ..models import (
    Agreement,
    AgreementStatus,
    Delivery,
    DeliveryStatus,
    Event,
    Resource,
    Subscription,
)

ID_NUMBER_SHAPE = re.compile(r"^[0-9]{17}[0-9Xx]$")


def _is_id_number(value: str) -> bool:
    """A 公民身份号码, or a 港澳台居民居住证 number (83…, the same format): personal either way."""
    return is_valid_id_number(value, allow_residence_permit=True)
SIGNATURE_HEADER = "X-SmartGov-Signature"  # "hmac-sm3=<hex>" over "<timestamp>.<body>"
HANDLERS: dict[str, Callable[[dict], None]] = {}


def register_handler(name: str, fn: Callable[[dict], None]) -> None:
    """An in-platform subscriber: ``fn(event)`` runs in the delivery worker; raising means retry. The
    event is its document (as a webhook receives it) plus ``consumer``: the pk of the subscribing
    department it is delivered for."""
    HANDLERS[name] = fn


def webhook_signature(secret: str, timestamp: str, body: bytes) -> str:
    return "hmac-sm3=" + hmac_sm3(secret.encode(), timestamp.encode() + b"." + body).hex()


@transaction.atomic
def subscribe(*, actor, resource: Resource, url: str = "", handler: str = "", consumer=None) -> tuple[Subscription, str]:
    """Subscribe the actor's department to ``resource``'s events; returns the subscription and, for a
    webhook, the HMAC-SM3 secret (shown once)."""
    consumer = consumer if is_system(actor) else getattr(actor, "department", None)
    if consumer is None:
        raise InvalidInput("订阅部门不能为空", code="department_required")
    require(actor, "exchange.subscribe", department=consumer, include_descendants=False)
    today = timezone.localdate()
    if not Agreement.objects.filter(resource=resource, consumer=consumer, status=AgreementStatus.ACTIVE,
                                    valid_until__gte=today).exists():
        raise Conflict("订阅事件须先有该资源的有效共享协议", code="no_agreement")
    url, handler = (url or "").strip(), (handler or "").strip()
    if bool(url) == bool(handler):
        raise InvalidInput("请填写回调地址或平台内处理器（二选一）", code="target_required")
    if url:
        parts = urllib.parse.urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname or len(url) > 200:
            raise InvalidInput("回调地址应为 http(s):// 开头的URL", code="invalid_url")
    if handler and handler not in HANDLERS:
        raise InvalidInput(f"平台内处理器 {handler} 不存在", code="unknown_handler")
    secret = secrets.token_hex(32) if url else ""
    sub = Subscription.objects.create(resource=resource, consumer=consumer, url=url, handler=handler, secret=secret)
    record(actor=actor, action="exchange.subscription.create", target=sub,
           changes={"resource": resource.code, "url": url, "handler": handler})
    return sub, secret


@transaction.atomic
def unsubscribe(*, actor, subscription: Subscription) -> Subscription:
    require(actor, "exchange.subscribe", department=subscription.consumer, include_descendants=False, hide=True)
    subscription.active = False
    subscription.save(update_fields=["active", "updated_at"])
    record(actor=actor, action="exchange.subscription.end", target=subscription)
    return subscription


def _checked_subject(subject: str) -> tuple[str, str | None]:
    """The subject, and the ID number when it is one (kept encrypted, shown masked)."""
    subject = (subject or "").strip()
    if not subject or len(subject) > 100:
        raise InvalidInput("请填写事件主体（不超过100字）", code="subject_required")
    if _is_id_number(subject):
        return subject, subject.upper()
    if ID_NUMBER_SHAPE.match(subject) and _is_id_number(subject[:17] + id_number_check_char(subject[:17])):
        # a 公民身份号码 whose check character is wrong: refused rather than kept in clear
        raise InvalidInput("事件主体的公民身份号码校验不通过", code="invalid_subject_id_number")
    return subject, None


def publish_event(*, actor, resource: Resource, event_type: str, subject: str, data: dict | None = None) -> Event:
    """Publish a change of ``resource`` (its provider's staff, or the platform). Joins the caller's
    transaction: call it inside the transaction that makes the change (the outbox)."""
    subject, id_number = _checked_subject(subject)  # before joining the caller's transaction: a refusal breaks nothing
    with transaction.atomic(savepoint=False):
        require(actor, "exchange.publish_event", department=resource.department, include_descendants=False)
        content = resource.versions.get(version=resource.current_version).parsed
        if event_type not in content.events:
            raise InvalidInput(f"资源 {resource.code} 不发布 {event_type} 事件", code="unknown_event_type",
                               detail={"events": content.events})
        event = Event.objects.create(event_id=str(uuid.uuid4()), resource=resource, event_type=event_type,
                                     subject=mask_id_number(id_number) if id_number else subject,
                                     subject_id_number=id_number, data=data or {})
        now = timezone.now()
        Delivery.objects.bulk_create([Delivery(event=event, subscription=s, next_attempt_at=now)
                                      for s in resource.subscriptions.filter(active=True)])
        record(actor=actor, action="exchange.event.publish", target=event,
               changes={"resource": resource.code, "type": event_type, "subject": event.subject})
    return event


def event_document(event: Event, *, clear: bool = False) -> dict:
    """The event as a subscriber receives it. A personal subject (an ID number) is in clear only when
    ``clear`` (the subscriber's agreement grants it: ``selectors.clear_subject_consumers``), otherwise
    masked, with ``subject_masked`` set."""
    masked = event.personal_subject and not clear
    return {"event_id": event.event_id, "offset": event.pk, "resource": event.resource.code,
            "type": event.event_type, "subject": event.subject if masked else event.clear_subject,
            "subject_masked": masked, "data": event.data, "published_at": event.created_at.isoformat()}


# --- delivery -------------------------------------------------------------------------------------------

def backoff_seconds(attempts: int) -> int:
    """Wait after the ``attempts``-th failure: 2, 4, 8 … seconds, at most an hour."""
    return min(3600, 2 ** attempts)


def claim_due(*, limit: int = 50, now=None) -> list[int]:
    """Claim up to ``limit`` due deliveries for this worker (a lease, so a killed worker's rows come back)."""
    now = now or timezone.now()
    with transaction.atomic():
        due = (Delivery.objects.filter(status=DeliveryStatus.PENDING, next_attempt_at__lte=now)
               .filter(Q(lease_until__isnull=True) | Q(lease_until__lt=now)).order_by("next_attempt_at", "pk"))
        ids = list(due.values_list("pk", flat=True)[:limit])
        if not ids:
            return []
        # a claimed delivery not finished by the lease's end is claimed again (its worker died)
        lease = now + timedelta(seconds=settings.EXCHANGE_DELIVERY_LEASE_SECONDS)
        # the same condition again in the UPDATE: a row another worker claimed meanwhile is not taken
        Delivery.objects.filter(pk__in=ids, status=DeliveryStatus.PENDING).filter(
            Q(lease_until__isnull=True) | Q(lease_until__lt=now)).update(lease_until=lease)
        return list(Delivery.objects.filter(pk__in=ids, lease_until=lease).values_list("pk", flat=True))


def _post(url: str, body: bytes, headers: dict) -> None:
    parts = urllib.parse.urlsplit(url)
    cls = http.client.HTTPSConnection if parts.scheme == "https" else http.client.HTTPConnection
    conn = cls(parts.hostname, parts.port, timeout=settings.EXCHANGE_WEBHOOK_TIMEOUT_MS / 1000)
    try:
        conn.request("POST", (parts.path or "/") + (f"?{parts.query}" if parts.query else ""), body=body,
                     headers=headers)
        resp = conn.getresponse()
        resp.read(65536)
        if not 200 <= resp.status < 300:
            raise OSError(f"HTTP {resp.status}")
    finally:
        conn.close()


def deliver_one(delivery_id: int, *, actor) -> str:
    """Send one claimed delivery; record success, a retry with backoff, or a dead letter."""
    d = Delivery.objects.select_related("event__resource", "subscription").get(pk=delivery_id)
    sub, event = d.subscription, d.event
    error = ""
    try:
        clear = event.personal_subject and sub.consumer_id in selectors.clear_subject_consumers(
            event.resource, [sub.consumer_id])
        doc = event_document(event, clear=clear)
        if not sub.active:
            raise OSError("subscription ended")
        if sub.handler:
            handler = HANDLERS.get(sub.handler)
            if handler is None:
                raise OSError(f"unknown handler {sub.handler}")
            extra = {"consumer": sub.consumer_id}
            if event.personal_subject:
                # in-platform subscribers match the person through the register's blind index, in clear or not
                extra["subject_index"] = event.subject_id_number_bidx
            handler({**doc, **extra})
        else:
            body = orjson.dumps(doc)
            ts = str(int(timezone.now().timestamp()))
            _post(sub.url, body, {"Content-Type": "application/json", "X-SmartGov-Event-Id": event.event_id,
                                  "X-SmartGov-Timestamp": ts,
                                  SIGNATURE_HEADER: webhook_signature(sub.secret, ts, body)})
    except Exception as exc:  # every failure of the receiver is a retry, recorded
        error = f"{type(exc).__name__}: {exc}"[:300]
    now = timezone.now()
    with transaction.atomic():
        if not error:
            Delivery.objects.filter(pk=d.pk).update(status=DeliveryStatus.DELIVERED, delivered_at=now,
                                                    attempts=d.attempts + 1, lease_until=None, last_error="")
            return DeliveryStatus.DELIVERED
        attempts = d.attempts + 1
        if attempts >= settings.EXCHANGE_WEBHOOK_MAX_ATTEMPTS:
            Delivery.objects.filter(pk=d.pk).update(status=DeliveryStatus.DEAD, attempts=attempts, lease_until=None,
                                                    last_error=error)
            record(actor=actor, action="exchange.delivery.dead", target=d,
                   changes={"event": event.event_id, "subscription": sub.pk, "error": error})
            return DeliveryStatus.DEAD
        Delivery.objects.filter(pk=d.pk).update(attempts=attempts, lease_until=None, last_error=error,
                                                next_attempt_at=now + timedelta(seconds=backoff_seconds(attempts)))
        return DeliveryStatus.PENDING


def deliver_due(*, actor, limit: int = 50) -> dict:
    """One pass of the delivery worker: claim what is due and send it."""
    counts = {DeliveryStatus.DELIVERED: 0, DeliveryStatus.PENDING: 0, DeliveryStatus.DEAD: 0}
    for pk in claim_due(limit=limit):
        counts[deliver_one(pk, actor=actor)] += 1
    return {"delivered": counts[DeliveryStatus.DELIVERED], "retrying": counts[DeliveryStatus.PENDING],
            "dead": counts[DeliveryStatus.DEAD]}


@transaction.atomic
def redeliver_dead(*, actor, subscription: Subscription) -> int:
    """Put the subscription's dead letters back in the queue (after the consumer fixed its receiver)."""
    require(actor, "exchange.subscribe", department=subscription.consumer, include_descendants=False, hide=True)
    n = Delivery.objects.filter(subscription=subscription, status=DeliveryStatus.DEAD).update(
        status=DeliveryStatus.PENDING, attempts=0, next_attempt_at=timezone.now(), lease_until=None)
    record(actor=actor, action="exchange.delivery.redeliver", target=subscription, changes={"count": n})
    return n


@transaction.atomic
def replay_from(*, actor, subscription: Subscription, offset: int) -> int:
    """重放: deliver again every event of the subscription's resource from ``offset`` (an event's
    ``offset`` in its document) on — for a consumer that lost its state. Each is delivered again even if
    it was delivered before; the event IDs let the consumer drop what it already has."""
    require(actor, "exchange.subscribe", department=subscription.consumer, include_descendants=False, hide=True)
    if not isinstance(offset, int) or offset < 0:
        raise InvalidInput("偏移量应为非负整数", code="invalid_offset")
    if not subscription.active:
        raise NotFound("订阅已结束", code="subscription_ended")
    now = timezone.now()
    ids = list(Event.objects.filter(resource=subscription.resource, pk__gte=offset).values_list("pk", flat=True))
    existing = set(Delivery.objects.filter(subscription=subscription, event_id__in=ids).values_list("event_id",
                                                                                                      flat=True))
    Delivery.objects.filter(subscription=subscription, event_id__in=existing).update(
        status=DeliveryStatus.PENDING, attempts=0, next_attempt_at=now, lease_until=None, delivered_at=None)
    Delivery.objects.bulk_create([Delivery(event_id=pk, subscription=subscription, next_attempt_at=now)
                                  for pk in ids if pk not in existing])
    record(actor=actor, action="exchange.delivery.replay", target=subscription,
           changes={"offset": offset, "count": len(ids)})
    return len(ids)


def _audit_handler(event: dict) -> None:
    """The built-in in-platform subscriber: records that the consumer department received the event (the
    audit trail is the consumer's inbox for changes it only needs to know about)."""
    record(actor=system_actor("exchange.handler"), action="exchange.event.received",
           target=("exchange.event", event["offset"], event["event_id"]),
           changes={"resource": event["resource"], "type": event["type"],
                    "subject": mask_id_number(event["subject"]) if _is_id_number(event["subject"])
                    else event["subject"]})


register_handler("exchange.audit", _audit_handler)
