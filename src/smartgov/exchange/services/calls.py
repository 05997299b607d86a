"""Mediated calls (数据交换): the platform stands between consumer and provider, as X-Road's security
server does. For each call it checks the agreement (status, validity, fields), the rate limit and that
batches are still being timestamped, calls the provider (internal adapter or HTTP endpoint, with a
timeout), returns only the agreed fields with personal ones masked unless agreed in clear, and logs the
request and the response: SM3 digests, the platform's SM2 signature on each, both identities, purpose
and time. Every ``EXCHANGE_SEAL_SECONDS`` the log's new entries are sealed into a batch: an RFC 6962
Merkle tree (SM3) whose root the platform signs with the time. When a signed call has waited longer than
``EXCHANGE_TIMESTAMP_GRACE_SECONDS`` for its batch, calls are refused until sealing works again.
"""

import threading
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from functools import cache

import orjson
from django.conf import settings
from django.db import DatabaseError, connection, transaction
from django.utils import timezone

from smartgov.accounts.models import Department
from smartgov.audit.services import record
from smartgov.audit.signing import SigningKeyMissing, signing_key, trusted_keys
from smartgov.core.errors import DomainError, Forbidden, InvalidInput, NotFound
from smartgov.core.masking import mask, mask_id_number, mask_name, mask_phone
from smartgov.core.merkle import Frontier, inclusion_proof
from smartgov.core.permissions import has_perm, is_system, require, system_actor
from smartgov.core.validators import is_valid_id_number, is_valid_uscc

from .. import evidence, providers
from ..models import (
    Agreement,
    AgreementStatus,
    Batch,
    ConsumerKey,
    Message,
    Outcome,
    RateWindow,
    Resource,
    ResourceVersion,
    ShareType,
)


class TimestampUnavailable(DomainError):
    status = 503
    code = "timestamp_unavailable"
    message = "消息日志的批量时间戳签署中断，平台暂停数据交换"


class RateLimited(DomainError):
    status = 429
    code = "rate_limited"
    message = "超过共享协议约定的每分钟调用上限"


@dataclass
class CallResult:
    message_id: str
    resource: str
    found: bool
    data: dict = field(default_factory=dict)
    masked: list[str] = field(default_factory=list)
    latency_ms: float = 0.0


# --- who calls ------------------------------------------------------------------------------------------

def _consumer_of(caller, consumer):
    """(department, caller label) for a staff user, a consumer department's key, or the platform acting
    for a department (one-stop fetching a document as the item's department)."""
    if isinstance(caller, ConsumerKey):
        return caller.department, f"key:{caller.prefix}"
    if is_system(caller):
        if consumer is None:
            raise InvalidInput("平台代部门调用时须指明使用方部门", code="department_required")
        return consumer, caller.get_username()
    if not has_perm(caller, "exchange.call"):
        raise Forbidden(detail={"permission": "exchange.call"})
    if caller.department is None:
        raise InvalidInput("调用人须属于一个部门", code="department_required")
    return caller.department, caller.get_username()


# --- masking --------------------------------------------------------------------------------------------

def mask_value(key: str, value):
    if not isinstance(value, str) or not value:
        return value
    if key == "id_number" or is_valid_id_number(value):
        return mask_id_number(value)
    if key in ("name", "holder", "legal_representative", "spouse_name", "applicant"):
        return mask_name(value)
    if key == "phone":
        return mask_phone(value)
    return mask(value, 1, 1)


# --- caches: versions never change; the timestamping state is re-read at most once a second --------

_VERSIONS: dict[tuple, object] = {}
_TS_STATE: dict[str, tuple[float, datetime | None]] = {}


def _content(resource: Resource):
    key = (resource.pk, resource.current_version, resource.stamp)  # updated_at: a new version or a reused pk
    parsed = _VERSIONS.get(key)
    if parsed is None:
        if len(_VERSIONS) > 10_000:
            _VERSIONS.clear()
        parsed = _VERSIONS[key] = ResourceVersion.objects.get(resource_id=resource.pk,
                                                              version=resource.current_version).parsed
    return parsed


def _oldest_unsealed(*, fresh: bool = False):
    """When the oldest signed call not yet in a batch was logged (None if none), re-read at most once a
    second per process."""
    cache_key = connection.alias + ":" + str(connection.settings_dict["NAME"])
    mono = time.monotonic()
    cached = _TS_STATE.get(cache_key)
    if cached and not fresh and mono - cached[0] < 1.0:
        return cached[1]
    oldest = (Message.objects.filter(signed=True, batch__isnull=True).order_by("pk")
              .values_list("at", flat=True).first())
    _TS_STATE[cache_key] = (mono, oldest)
    return oldest


def timestamping_healthy(*, now: datetime | None = None, fresh: bool = False) -> bool:
    """False when a signed call has been waiting for its batch longer than the grace period. An app
    server seals a batch itself (as X-Road's security server timestamps on its own) when no worker did:
    when a call has waited two sealing intervals, so that a worker on schedule keeps the sealing (40 ms
    for 2,500 calls) out of the calls' own time, and only a platform that cannot sign — no key, no
    database — stops."""
    now = now or timezone.now()
    oldest = _oldest_unsealed(fresh=fresh)
    if oldest is not None and now - oldest > timedelta(seconds=2 * settings.EXCHANGE_SEAL_SECONDS):
        try:
            seal_all(actor=system_actor("exchange.seal"))
        except (RuntimeError, DatabaseError):  # another process sealed the same calls, or the database is busy
            pass
        oldest = _oldest_unsealed(fresh=True)
    return oldest is None or now - oldest <= timedelta(seconds=settings.EXCHANGE_TIMESTAMP_GRACE_SECONDS)


def forget_timestamp_state() -> None:
    _TS_STATE.clear()


# --- the call -------------------------------------------------------------------------------------------

def _check_params(content, params) -> dict:
    if not isinstance(params, dict):
        raise InvalidInput("查询参数应为对象", code="invalid_params")
    clean, errors = {}, {}
    for p in content.params:
        value = params.get(p.key)
        value = value.strip() if isinstance(value, str) else value
        if value in (None, ""):
            if p.required:
                errors[p.key] = f"请提供{p.name}"
            continue
        if not isinstance(value, str) or len(value) > 100:
            errors[p.key] = f"{p.name}格式不正确"
        elif p.type == "id_number" and not is_valid_id_number(value.upper()):
            errors[p.key] = "公民身份号码不正确"
        elif p.type == "uscc" and not is_valid_uscc(value.upper()):
            errors[p.key] = "统一社会信用代码不正确"
        else:
            clean[p.key] = value.upper() if p.type in ("id_number", "uscc") else value
    unknown = sorted(set(params) - {p.key for p in content.params})
    for key in unknown:
        errors[key] = "资源没有此查询参数"
    if errors:
        raise InvalidInput("查询参数不正确", code="invalid_params", detail=errors)
    return clean


# --- the hot path's statements: written once, as SQL, because building them through the ORM on every call
# cost more CPU than everything else a call does but the two SM2 signatures (docs/exchange.md, Benchmark)

def _qn(name: str) -> str:
    return connection.ops.quote_name(name)


@dataclass(slots=True)
class _Resource:
    pk: int
    code: str
    name: str
    department_id: int
    provider_code: str
    share_type: str
    current_version: int
    active: bool
    stamp: object  # updated_at as the database returns it: with pk and version, the key of the parsed metadata


@dataclass(slots=True)
class _Grant:
    """What a call needs of an agreement (or of a department's implicit one with itself: ``pk`` None)."""

    pk: int | None
    status: str
    valid_from: date
    valid_until: date
    fields: list
    clear_fields: list
    keep_content: bool
    rate_limit: int
    purpose: str


def _as_date(value) -> date:
    return value if isinstance(value, date) else date.fromisoformat(value)


def _as_list(value) -> list:
    return value if isinstance(value, list) else orjson.loads(value)


@cache
def _lookup_sql() -> str:
    r, d, a = Resource._meta.db_table, Department._meta.db_table, Agreement._meta.db_table
    return (f"SELECT r.id, r.code, r.name, r.department_id, d.code, r.share_type, r.current_version, r.active, "  # noqa: S608
            f"r.updated_at, a.id, a.status, a.valid_from, a.valid_until, a.fields, a.clear_fields, a.keep_content, "
            f"a.rate_limit, a.purpose FROM {_qn(r)} r JOIN {_qn(d)} d ON d.id = r.department_id "
            f"LEFT JOIN {_qn(a)} a ON a.resource_id = r.id AND a.consumer_id = %s AND a.status IN (%s, %s) "
            f"WHERE r.code = %s")


def _lookup(code: str, consumer_id: int) -> tuple[_Resource | None, list[_Grant]]:
    """The resource and the consumer's active or revoked agreements on it, in one SELECT."""
    with connection.cursor() as cur:
        cur.execute(_lookup_sql(), [consumer_id, AgreementStatus.ACTIVE.value, AgreementStatus.REVOKED.value, code])
        rows = cur.fetchall()
    if not rows:
        return None, []
    r = rows[0]
    resource = _Resource(pk=r[0], code=r[1], name=r[2], department_id=r[3], provider_code=r[4], share_type=r[5],
                         current_version=r[6], active=bool(r[7]), stamp=r[8])
    grants = [_Grant(pk=row[9], status=row[10], valid_from=_as_date(row[11]), valid_until=_as_date(row[12]),
                     fields=_as_list(row[13]), clear_fields=_as_list(row[14]), keep_content=bool(row[15]),
                     rate_limit=row[16], purpose=row[17]) for row in rows if row[9] is not None]
    return resource, grants


@cache
def _rate_sql() -> str:
    t, n = _qn(RateWindow._meta.db_table), _qn("count")
    return (f"INSERT INTO {t} (agreement_id, minute, {n}) VALUES (%s, %s, %s) "  # noqa: S608 (names from the model)
            f"ON CONFLICT (agreement_id, minute) DO UPDATE SET {n} = {t}.{n} + %s WHERE {t}.{n} + %s <= %s")


# Calls a process has taken from a window and not used yet: (database, agreement, limit) -> [minute, left]
_RATE_HELD: dict[tuple, list[int]] = {}
_RATE_LOCK = threading.Lock()
RATE_BLOCK_MAX = 64


def rate_block(limit: int) -> int:
    """How many calls a process takes from the shared window at once: 1 (every call counted in the
    database) below 200 a minute, so small limits are exact to the call; above, a hundredth of the limit
    (at most ``RATE_BLOCK_MAX``), so a busy agreement writes its window once per block instead of once
    per call. The window never grants more than the limit; calls a process holds unused when the minute
    ends go unused (at most a hundredth of the limit per process)."""
    return max(1, min(RATE_BLOCK_MAX, limit // 100))


def _claim(grant: _Grant, minute: int, n: int) -> bool:
    """Take ``n`` calls from this minute's window in one upsert, or none if fewer than ``n`` are left."""
    with connection.cursor() as cur:
        cur.execute(_rate_sql(), [grant.pk, minute, n, n, n, grant.rate_limit])
        return cur.rowcount > 0


def _take_rate(grant: _Grant, now: datetime) -> None:
    """Count one call against the agreement's per-minute limit, which holds across app servers: the
    window is a database row that grants calls only while ``count`` stays within the limit."""
    minute = int(now.timestamp()) // 60
    held_key = (connection.alias, str(connection.settings_dict["NAME"]), grant.pk, grant.rate_limit)
    with _RATE_LOCK:
        held = _RATE_HELD.get(held_key)
        if held is not None and held[0] == minute and held[1] > 0:
            held[1] -= 1
            return
    block = rate_block(grant.rate_limit)
    if block > 1 and _claim(grant, minute, block):
        with _RATE_LOCK:
            held = _RATE_HELD.get(held_key)
            if held is not None and held[0] == minute:  # another thread of this process claimed one too
                held[1] += block - 1
            else:
                _RATE_HELD[held_key] = [minute, block - 1]
        return
    if not _claim(grant, minute, 1):  # the last calls of the window, one at a time
        raise RateLimited(detail={"rate_limit": grant.rate_limit})


def forget_rate_state() -> None:
    _RATE_HELD.clear()


_MESSAGE_FIELDS = [f for f in Message._meta.concrete_fields if not f.primary_key]


@cache
def _message_sql() -> str:
    columns = ", ".join(_qn(f.column) for f in _MESSAGE_FIELDS)
    return (f"INSERT INTO {_qn(Message._meta.db_table)} ({columns}) "  # noqa: S608 (names from the model)
            f"VALUES ({', '.join(['%s'] * len(_MESSAGE_FIELDS))})")


def _insert_message(**values) -> None:
    """One message-log row, through each field's own conversion (the SM4 encryption of ``content``)."""
    params = [f.get_db_prep_save(values[f.attname] if f.attname in values else f.get_default(), connection)
              for f in _MESSAGE_FIELDS]
    with connection.cursor() as cur:
        cur.execute(_message_sql(), params)


def _own(content, at) -> _Grant:
    """The implicit agreement of a provider with itself: every field, in clear, no rate limit."""
    keys = content.item_keys()
    today = timezone.localdate(at)
    return _Grant(pk=None, status=AgreementStatus.ACTIVE, valid_from=today, valid_until=today, fields=keys,
                  clear_fields=keys, keep_content=False, rate_limit=0, purpose="本部门资源")


def call_resource(*, actor, resource_code: str, params: dict, fields: list[str] | None = None, purpose: str = "",
                  consumer=None) -> CallResult:
    """One mediated call. ``actor`` is a staff user (their department consumes), a ``ConsumerKey`` (its
    department's system), or the platform acting for ``consumer``. Returns the agreed fields; raises
    a ``DomainError`` (logged as a refused or failed call) otherwise."""
    t0 = time.perf_counter()
    at = timezone.now()
    message_id = str(uuid.uuid4())
    consumer, caller = _consumer_of(actor, consumer)
    resource, grants = _lookup((resource_code or "").strip().upper(), consumer.pk)
    ctx = {"message_id": message_id, "at": at, "consumer": consumer, "caller": caller, "resource": resource,
           "purpose": (purpose or "")[:200], "t0": t0}
    try:
        if resource is None or not resource.active:
            raise NotFound("资源不存在或已停用", code="resource_not_found")
        if resource.share_type == ShareType.NONE:
            raise Forbidden("该资源为不予共享", code="share_not_allowed")
        content = _content(resource)
        today = timezone.localdate(at)
        if consumer.pk == resource.department_id:  # a department reads its own resource: no agreement needed
            agreement = _own(content, at)
        else:
            usable = [g for g in grants if g.status == AgreementStatus.ACTIVE and g.valid_from <= today]
            agreement = max(usable, key=lambda g: g.valid_until) if usable else None
            ctx["agreement"] = agreement
        if agreement is None:
            revoked = any(g.status == AgreementStatus.REVOKED for g in grants)
            raise Forbidden("共享协议已撤销" if revoked else "本部门没有该资源的有效共享协议",
                            code="agreement_revoked" if revoked else "no_agreement")
        if agreement.valid_until < today:
            raise Forbidden(f"共享协议已于{agreement.valid_until.isoformat()}到期", code="agreement_expired")
        wanted = list(dict.fromkeys(fields)) if fields else list(agreement.fields)
        beyond = sorted(set(wanted) - set(agreement.fields))
        if beyond:
            raise Forbidden("请求了协议未授权的信息项", code="field_not_agreed", detail={"fields": beyond})
        purpose = (purpose or agreement.purpose).strip()[:200]
        ctx["purpose"] = purpose
        clean = _check_params(content, params)
        if not timestamping_healthy(now=at):
            raise TimestampUnavailable()
        if agreement.pk is not None:
            _take_rate(agreement, at)
        served = content.served_by
        if served.kind == "internal":
            record_ = providers.call_internal(served.adapter, clean)
        else:
            record_ = providers.call_http(served.url, clean, timeout_ms=served.timeout_ms)
    except DomainError as exc:
        _log_failure(ctx, exc)
        raise
    data, masked = {}, []
    if record_ is not None:
        personal = content.personal_keys()
        clear = set(agreement.clear_fields)
        for key in wanted:
            if key not in record_:
                continue
            value = record_[key]
            if key in personal and key not in clear:
                value = mask_value(key, value)
                masked.append(key)
            data[key] = value
    result = CallResult(message_id=message_id, resource=resource.code, found=record_ is not None, data=data,
                        masked=masked)
    request_doc = {"message_id": message_id, "at": _iso(at), "resource": resource.code,
                   "resource_version": resource.current_version, "consumer": consumer.code,
                   "provider": resource.provider_code, "caller": caller, "purpose": purpose, "params": clean,
                   "fields": wanted}
    response_doc = {"message_id": message_id, "found": result.found, "data": data, "masked": masked}
    personal_in_call = bool(content.personal_keys() & set(wanted)) or any(
        p.type == "id_number" for p in content.params)
    keep = (agreement.keep_content and agreement.pk is not None) or not personal_in_call
    result.latency_ms = (time.perf_counter() - t0) * 1000
    _log_signed(ctx, resource, agreement.pk, Outcome.OK if result.found else Outcome.NOT_FOUND, 200, request_doc,
                response_doc, keep=keep, latency_ms=result.latency_ms)
    return result


def _iso(at: datetime) -> str:
    return at.astimezone(UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")


def _signing_key():
    try:
        return signing_key()
    except SigningKeyMissing as exc:
        raise TimestampUnavailable("平台签名密钥不可用，暂停数据交换", code="signing_unavailable") from exc


def _log_signed(ctx, resource, agreement_id, outcome, http_status, request_doc, response_doc, *, keep, latency_ms,
                reason=""):
    """Sign both digests with the platform key and append the call to the message log."""
    key = _signing_key()
    request_sm3 = evidence.sm3_hex(evidence.canonical(request_doc))
    response_sm3 = evidence.sm3_hex(evidence.canonical(response_doc))
    mid = ctx["message_id"]
    _insert_message(
        message_id=mid, at=ctx["at"], resource_id=resource.pk, resource_version=resource.current_version,
        agreement_id=agreement_id, consumer_id=ctx["consumer"].pk, provider_id=resource.department_id,
        caller=ctx["caller"][:150], purpose=ctx["purpose"], outcome=outcome, reason=reason, http_status=http_status,
        latency_ms=latency_ms, request_sm3=request_sm3, response_sm3=response_sm3,
        request_sig=key.sign(evidence.request_text(mid, request_sm3)).hex(),
        response_sig=key.sign(evidence.response_text(mid, response_sm3)).hex(),
        key_id=_key_id(key), signed=True,
        content=evidence.canonical({"request": request_doc, "response": response_doc}).decode() if keep else None)


_KEY_IDS: dict[int, str] = {}


def _key_id(key) -> str:
    kid = _KEY_IDS.get(id(key))
    if kid is None:
        kid = _KEY_IDS[id(key)] = key.public_key().key_id()
    return kid


def _log_failure(ctx, exc: DomainError) -> None:
    """A refused or failed call is logged too (for statistics and the provider's view). Provider failures
    of an agreed call are signed like answers; refusals carry no signature and join no batch."""
    resource, agreement = ctx.get("resource"), ctx.get("agreement")
    agreement_id = agreement.pk if agreement is not None else None
    latency = (time.perf_counter() - ctx["t0"]) * 1000
    if isinstance(exc, providers.ProviderError | providers.ProviderTimeout) and resource is not None:
        outcome = Outcome.PROVIDER_TIMEOUT if isinstance(exc, providers.ProviderTimeout) else Outcome.PROVIDER_ERROR
        request_doc = {"message_id": ctx["message_id"], "at": _iso(ctx["at"]), "resource": resource.code,
                       "consumer": ctx["consumer"].code, "provider": resource.provider_code,
                       "caller": ctx["caller"], "purpose": ctx["purpose"]}
        response_doc = {"message_id": ctx["message_id"], "error": exc.code, "status": exc.status}
        try:
            _log_signed(ctx, resource, agreement_id, outcome, exc.status, request_doc, response_doc, keep=False,
                        latency_ms=latency, reason=exc.code)
            return
        except TimestampUnavailable:
            pass
    _insert_message(
        message_id=ctx["message_id"], at=ctx["at"], resource_id=resource.pk if resource else None,
        resource_version=resource.current_version if resource else 0, agreement_id=agreement_id,
        consumer_id=ctx["consumer"].pk, provider_id=resource.department_id if resource else None,
        caller=ctx["caller"][:150], purpose=ctx["purpose"], outcome=Outcome.REFUSED, reason=exc.code[:40],
        http_status=exc.status, latency_ms=latency)


# --- batch timestamps -------------------------------------------------------------------------------------

BATCH_MAX = 4096


def _leaf_rows(ids_filter, limit: int | None = None) -> list[dict]:
    rows = (Message.objects.filter(**ids_filter).order_by("pk")
            .values("pk", "message_id", "at", "resource__code", "resource_version", "agreement_id", "consumer__code",
                    "provider__code", "caller", "purpose", "outcome", "http_status", "request_sm3", "response_sm3",
                    "request_sig", "response_sig", "key_id"))[:limit]
    return [{"pk": r["pk"], "message_id": r["message_id"], "at": _iso(r["at"]), "resource": r["resource__code"],
             "resource_version": r["resource_version"], "agreement": r["agreement_id"],
             "consumer": r["consumer__code"], "provider": r["provider__code"], "caller": r["caller"],
             "purpose": r["purpose"], "outcome": r["outcome"], "http_status": r["http_status"],
             "request_sm3": r["request_sm3"], "response_sm3": r["response_sm3"], "request_sig": r["request_sig"],
             "response_sig": r["response_sig"], "key_id": r["key_id"]} for r in rows]


def seal_batch(*, actor) -> Batch | None:
    """Seal the signed calls not yet in a batch (up to ``BATCH_MAX``, oldest first) under one signed
    Merkle root with the time. Safe to run in several processes: a row already taken makes the other
    sealer roll back."""
    try:
        key = signing_key()
    except SigningKeyMissing:
        return None
    # The tree is built before the write transaction, so the calls being logged meanwhile (SQLite has one
    # writer at a time) wait only for the batch row and the UPDATE, not for reading and hashing thousands
    # of rows. Logged rows never change but for their batch, which the conditional UPDATE below checks.
    leaves = _leaf_rows({"signed": True, "batch__isnull": True}, limit=BATCH_MAX)
    if not leaves:
        return None
    ids = [leaf["pk"] for leaf in leaves]
    frontier = Frontier()
    for leaf in leaves:
        frontier.append(evidence.leaf_bytes(leaf))
    root = frontier.root().hex()
    with transaction.atomic():
        signed_at = _iso(timezone.now())
        batch = Batch.objects.create(first_id=ids[0], last_id=ids[-1], size=len(ids), root="", signed_at=timezone.now(),
                                     key_id=_key_id(key), signature="")
        batch.root = root
        batch.signed_at = datetime.fromisoformat(signed_at.replace("Z", "+00:00"))
        batch.signature = key.sign(evidence.batch_text(batch.pk, len(ids), root, signed_at)).hex()
        batch.save(update_fields=["root", "signed_at", "signature"])
        taken = 0
        for i in range(0, len(ids), 500):
            taken += Message.objects.filter(pk__in=ids[i:i + 500], batch__isnull=True).update(batch=batch)
        if taken != len(ids):
            raise RuntimeError("another sealer took some of these messages; this batch is rolled back")
        record(actor=actor, action="exchange.batch.seal", target=batch, changes={"size": len(ids), "root": root})
    forget_timestamp_state()
    return batch


def seal_all(*, actor) -> int:
    """Seal what is waiting now (more than one batch only when a batch fills up: calls that arrive
    meanwhile wait for the next run); the number of batches signed."""
    n = 0
    while (batch := seal_batch(actor=actor)) is not None:
        n += 1
        if batch.size < BATCH_MAX:
            break
    return n


# --- evidence -------------------------------------------------------------------------------------------

def export_evidence(*, actor, message: Message) -> bytes:
    """证据导出: one call as a canonical JSON file that ``smartgov exchange verify`` checks offline: the
    message header, both signatures, the signed batch and the Merkle inclusion proof (and the content
    when the agreement let the log keep it). Recorded in the audit trail."""
    require(actor, "exchange.view_log")
    if message.batch_id is None:
        raise InvalidInput("该消息尚未纳入已签名的时间戳批次，请稍后再导出", code="not_sealed")
    batch = message.batch
    leaves = _leaf_rows({"batch": batch})
    index = next(i for i, leaf in enumerate(leaves) if leaf["pk"] == message.pk)
    for leaf in leaves:
        leaf.pop("pk")
    leaf_data = [evidence.leaf_bytes(leaf) for leaf in leaves]
    key = trusted_keys().get(batch.key_id)
    if key is None:
        raise NotFound("签署该批次的平台公钥不在信任列表中", code="key_unknown")
    doc = {"format": evidence.FORMAT, "message": leaves[index], "leaf_index": index,
           "proof": [p.hex() for p in inclusion_proof(leaf_data, index)],
           "batch": {"id": batch.pk, "size": batch.size, "root": batch.root, "signed_at": _iso(batch.signed_at),
                     "key_id": batch.key_id, "signature": batch.signature},
           "public_key": key.to_pem().decode()}
    if message.content:
        doc["content"] = orjson.loads(message.content)
    record(actor=actor, action="exchange.evidence.export", target=message,
           changes={"batch": batch.pk, "with_content": bool(message.content)})
    return evidence.canonical(doc)
