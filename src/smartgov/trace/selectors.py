"""Reads of 追溯监管 that pages, the API and the benchmark share: the EPCIS query, the full trace of a code,
the public lookup, recall impact and the dashboard figures."""

import datetime
import hashlib
from dataclasses import dataclass

import orjson
from django.conf import settings
from django.core import signing
from django.core.exceptions import ValidationError
from django.db import connection
from django.db.models import Count, F, OuterRef, Q, Subquery, Sum
from django.urls import reverse
from django.utils import timezone, translation

from smartgov.core.errors import InvalidInput, NotFound
from smartgov.core.indicators import alert, check_scope, daily_counts, day_starts, indicator, marker, series_of
from smartgov.core.masking import mask_name, mask_phone
from smartgov.core.permissions import ADMIN_TRIAD, require, scope

from . import codes, nmpa
from .epcis import fields as body_fields
from .epcis.hashing import parse_time
from .epcis.vocab import STANDARD_PREFIXES, VocabularyError, normalize_term
from .models import (
    FLAG_ADMINISTERED,
    FLAG_DESTROYED,
    FLAG_NAMES,
    AefiReport,
    Alert,
    Batch,
    CaptureJob,
    CodeIssue,
    CodeScheme,
    CodeState,
    Event,
    EventEpc,
    EventType,
    Logger,
    LotRelease,
    Organisation,
    PackagingLevel,
    Position,
    Product,
    Recall,
    ReleasedPageToken,
    RuleFlag,
    Vaccination,
)
from .status import DoseStatus, dose_status, in_circulation
from .status import as_dict as status_dict

EPCIS_CONTEXT = "https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld"
MAX_PER_PAGE = 1000  # the global upper limit of perPage (a larger value gets this many)
PAGE_SALT = "trace.epcis.nextPageToken"  # signing namespace of page tokens
TOKEN_SECONDS = 24 * 3600  # a nextPageToken expires a day after the page that gave it


# ------------------------------------------------------------------------------------------ scope


def organisations_for(actor):
    """Organisations whose data the actor may see: the department subtree for staff (supervisors see
    downwards), the organisation itself for an API key (``actor`` is then an Organisation)."""
    if isinstance(actor, Organisation):
        return Organisation.objects.filter(pk=actor.pk)
    require(actor, "trace.view")
    qs = Organisation.objects.all()
    if actor.role in ADMIN_TRIAD:
        return qs
    path = actor.department.path if actor.department else None
    if path is None:
        return qs.none()
    return qs.filter(department__path__startswith=path)


def _scope_events(actor, qs):
    # organisations_for() checks trace.view first: the three administrators (who do not hold it) get no
    # events, rather than every event of the installation
    return qs.filter(organisation_id_ref__in=organisations_for(actor).values("pk"))


# ------------------------------------------------------------------------------------------ EPCIS query


@dataclass
class QueryPage:
    body: bytes
    next_token: str | None
    last_id: int | None = None  # capture order: the last event's id (subscriptions continue after it)
    token_expires: datetime.datetime | None = None  # GS1-Next-Page-Token-Expires


def _values(params, name) -> list[str]:
    raw = params.get(name)
    if raw is None:
        return []
    return [v.strip() for v in str(raw).split("|") if v.strip()]


def _time(params, name):
    value = params.get(name)
    if value is None:
        return None
    try:
        return parse_time(value)
    except ValueError:
        raise InvalidInput(f"{name} 不是带时区的ISO 8601时间", code="QueryParameterException",
                           detail={"parameter": name}) from None


SUPPORTED = {"MATCH_epc", "MATCH_anyEPC", "MATCH_parentID", "MATCH_inputEPC", "MATCH_outputEPC", "EQ_bizStep",
             "EQ_disposition", "GE_eventTime", "LT_eventTime", "EQ_bizLocation", "WD_bizLocation", "EQ_readPoint",
             "EQ_action", "eventType", "perPage", "nextPageToken", "EQ_eventID", "EQ_errorReason",
             "EXISTS_errorDeclaration", "GE_errorDeclarationTime", "LT_errorDeclarationTime", "GE_recordTime",
             "LT_recordTime", "orderBy", "orderDirection", "eventCountLimit", "maxEventCount", "WD_readPoint"}
ACTIONS = {"ADD", "OBSERVE", "DELETE"}
ORDER_FIELDS = {"eventTime": "event_time", "recordTime": "record_time"}


def _epc_filter(values: list[str], roles) -> Q:
    """MATCH_* values: identifiers in any spelling, or EPC patterns ``urn:epc:idpat:…:*`` (EPCIS 2.0
    §8.2.7.1: every EPC of that class), matched on the stored canonical Digital Link."""
    exact, prefixes = [], []
    for v in values:
        if v.startswith("urn:epc:idpat:"):
            dl = codes.gs1_dl(v)
            if dl is None:
                raise InvalidInput(f"不支持的EPC模式 {v}", code="QueryParameterException", detail={"value": v})
            prefixes.append(dl + "/")
        else:
            exact.append(codes.normalize_epc(v))
    cond = Q(epc__in=exact) if exact else Q()
    for prefix in prefixes:
        cond |= Q(epc__startswith=prefix)
    return cond & Q(role__in=roles)


def _int_param(params, name) -> int | None:
    if name not in params:
        return None
    try:
        value = int(params[name])
    except (TypeError, ValueError):
        value = 0
    if value < 1:
        raise InvalidInput(f"{name} 应为正整数", code="QueryParameterException", detail={"parameter": name})
    return value


def query_events(actor, params: dict) -> QueryPage:
    """EPCIS 2.0 SimpleEventQuery over the REST binding (GET /events?…): pipe-separated values,
    ``perPage`` and an opaque ``nextPageToken``; results in capture order."""
    unknown = sorted(k for k in params if k not in SUPPORTED and not body_fields.handles(k))
    if unknown:
        raise InvalidInput("不支持的查询参数", code="QueryParameterException", detail={"parameters": unknown})
    body_preds = body_fields.compile_filters(params)  # checked before anything is read
    qs = _scope_events(actor, Event.objects.all())
    roles = {"MATCH_epc": ("e", "c"), "MATCH_anyEPC": ("e", "c", "p", "i", "o"), "MATCH_parentID": ("p",),
             "MATCH_inputEPC": ("i",), "MATCH_outputEPC": ("o",)}
    for name, role in roles.items():
        values = _values(params, name)
        if values:
            qs = qs.filter(pk__in=EventEpc.objects.filter(_epc_filter(values, role)).values("event_id"))
    for name, field in (("EQ_bizStep", "bizStep"), ("EQ_disposition", "disposition")):
        values = _values(params, name)
        if values:
            try:
                terms = [normalize_term(field, v, STANDARD_PREFIXES) for v in values]
            except VocabularyError as exc:
                raise InvalidInput(str(exc), code="QueryParameterException", detail={"parameter": name}) from None
            qs = qs.filter(**{"biz_step__in" if field == "bizStep" else "disposition__in": terms})
    if values := _values(params, "EQ_bizLocation"):
        qs = qs.filter(biz_location__in=[codes.canonical_dl(v) for v in values])
    if values := _values(params, "EQ_readPoint"):
        qs = qs.filter(read_point__in=[codes.canonical_dl(v) for v in values])
    if values := _values(params, "WD_bizLocation"):
        qs = qs.filter(_within_locations([codes.canonical_dl(v) for v in values]))
    if values := _values(params, "WD_readPoint"):
        qs = qs.filter(_within_locations([codes.canonical_dl(v) for v in values], "read_point"))
    if values := _values(params, "EQ_action"):
        if set(values) - ACTIONS:
            raise InvalidInput("EQ_action 应为 ADD、OBSERVE 或 DELETE", code="QueryParameterException",
                               detail={"parameter": "EQ_action"})
        qs = qs.filter(action__in=values)
    if values := _values(params, "eventType"):
        types = [t.value for t in EventType if t.label in values]
        if len(types) != len(set(values)):
            raise InvalidInput("eventType 不是EPCIS事件类型", code="QueryParameterException",
                               detail={"parameter": "eventType"})
        qs = qs.filter(type__in=types)
    if values := _values(params, "EQ_eventID"):
        qs = qs.filter(event_id__in=values)
    if values := _values(params, "EQ_errorReason"):
        try:
            reasons = [normalize_term("errorReason", v, STANDARD_PREFIXES) for v in values]
        except VocabularyError as exc:
            raise InvalidInput(str(exc), code="QueryParameterException",
                               detail={"parameter": "EQ_errorReason"}) from None
        qs = qs.filter(error_reason__in=reasons)
    if "EXISTS_errorDeclaration" in params:
        flag = str(params["EXISTS_errorDeclaration"]).strip().lower()
        if flag not in ("true", "false", ""):
            raise InvalidInput("EXISTS_errorDeclaration 应为 true 或 false", code="QueryParameterException",
                               detail={"parameter": "EXISTS_errorDeclaration"})
        if flag != "false":
            qs = qs.filter(error_declared_at__isnull=False)
    if (ge := _time(params, "GE_errorDeclarationTime")) is not None:
        qs = qs.filter(error_declared_at__gte=ge)
    if (lt := _time(params, "LT_errorDeclarationTime")) is not None:
        qs = qs.filter(error_declared_at__lt=lt)
    if (ge := _time(params, "GE_recordTime")) is not None:
        qs = qs.filter(record_time__gte=ge)
    if (lt := _time(params, "LT_recordTime")) is not None:
        qs = qs.filter(record_time__lt=lt)
    if (ge := _time(params, "GE_eventTime")) is not None:
        qs = qs.filter(event_time__gte=ge)
    if (lt := _time(params, "LT_eventTime")) is not None:
        qs = qs.filter(event_time__lt=lt)
    if body_preds:  # fields without a column: read the bodies the indexed parameters left
        qs = qs.filter(pk__in=_body_matches(qs, body_preds))
    per_page = _per_page(params)
    order_by = params.get("orderBy")
    if order_by is not None and order_by not in ORDER_FIELDS:
        raise InvalidInput("orderBy 应为 eventTime 或 recordTime", code="QueryParameterException",
                           detail={"parameter": "orderBy"})
    direction = params.get("orderDirection", "DESC")
    if direction not in ("ASC", "DESC"):
        raise InvalidInput("orderDirection 应为 ASC 或 DESC", code="QueryParameterException",
                           detail={"parameter": "orderDirection"})
    limit = _int_param(params, "eventCountLimit")
    most = _int_param(params, "maxEventCount")
    if limit is not None and most is not None:  # EPCIS 2.0 §8.2.7.1: not both
        raise InvalidInput("eventCountLimit 与 maxEventCount 不能同时使用", code="QueryParameterException",
                           detail={"parameter": "maxEventCount"})
    if most is not None and qs.count() > most:
        raise InvalidInput(f"结果超过 maxEventCount={most}", code="QueryTooLargeException",
                           detail={"parameter": "maxEventCount"})
    position, returned = _decode_token(params, params["nextPageToken"]) if params.get("nextPageToken") else (0, 0)
    if order_by:  # ordered pages continue by position
        field = ORDER_FIELDS[order_by]
        qs = qs.order_by(field if direction == "ASC" else "-" + field, "pk" if direction == "ASC" else "-pk")
        offset = position
    else:  # capture order pages continue after the last id (stable while new events arrive)
        qs = qs.order_by("pk")
        if position:
            qs = qs.filter(pk__gt=position)
        offset = 0
    take = per_page + 1
    if limit is not None:  # eventCountLimit counts the events of every page, not of this one
        take = max(0, min(take, limit - returned))
    rows = list(qs.values_list("pk", "body", "capture_id")[offset:offset + take]) if take else []
    more = len(rows) > per_page
    rows = rows[:per_page]
    if limit is not None and returned + len(rows) >= limit:
        more = False
    contexts, own = _contexts({r[2] for r in rows})
    body = _query_document([_with_context(r[1], own.get(r[2])) for r in rows], contexts)
    token = expires = None
    if more:
        token = _encode_token(params, offset + per_page if order_by else rows[-1][0], returned + len(rows))
        expires = datetime.datetime.now(datetime.UTC) + datetime.timedelta(seconds=TOKEN_SECONDS)
    return QueryPage(body=body, next_token=token, last_id=rows[-1][0] if rows and not order_by else None,
                     token_expires=expires)


def _per_page(params) -> int:
    """``perPage``: 30 unless given; above the global limit the limit applies (REST binding PerPage)."""
    try:
        per_page = int(params.get("perPage", 30))
    except (TypeError, ValueError):
        per_page = 0
    if per_page < 1:
        raise InvalidInput(f"perPage 应为1至{MAX_PER_PAGE}的整数", code="QueryParameterException",
                           detail={"parameter": "perPage"})
    return min(per_page, MAX_PER_PAGE)


def _body_matches(qs, preds) -> list[int]:
    """The events whose stored body satisfies every predicate. A field named by namespace URI is looked up
    through the capture's @context (an event of a clashing capture carries its own)."""
    ids = []
    contexts = {} if any(isinstance(p, body_fields.NeedsContext) for p in preds) else None
    for pk, body, capture_id in qs.order_by().values_list("pk", "body", "capture_id").iterator(chunk_size=2000):
        event = orjson.loads(body)
        if contexts is not None and "@context" not in event:
            if capture_id not in contexts:
                contexts[capture_id] = CaptureJob.objects.filter(pk=capture_id).values_list(
                    "context", flat=True).first() or []
            event["@context"] = contexts[capture_id]
        if all(p(event) for p in preds):
            ids.append(pk)
    return ids


RESOURCE_COLUMNS = {"bizSteps": "biz_step", "bizLocations": "biz_location", "readPoints": "read_point",
                    "dispositions": "disposition"}


def resource_members(actor, resource: str, params: dict) -> tuple[list[str], str | None]:
    """The members of an EPCIS 2.0 REST resource list (``/eventTypes``, ``/epcs``, ``/bizSteps``,
    ``/bizLocations``, ``/readPoints``, ``/dispositions``): the values that occur in the events the actor
    may see, sorted, ``perPage`` at a time (``nextPageToken`` continues)."""
    unknown = sorted(k for k in params if k not in ("perPage", "nextPageToken"))
    if unknown:
        raise InvalidInput("不支持的查询参数", code="QueryParameterException", detail={"parameters": unknown})
    if resource == "eventTypes":
        return [t.label for t in EventType], None
    per_page = _per_page(params)
    scoped = {**params, "resource": resource}
    offset = _decode_token(scoped, params["nextPageToken"])[0] if params.get("nextPageToken") else 0
    events = _scope_events(actor, Event.objects.all())
    if resource == "epcs":
        qs = EventEpc.objects.filter(event_id__in=events.values("pk")).values_list("epc", flat=True)
        field = "epc"
    else:
        field = RESOURCE_COLUMNS[resource]
        qs = events.exclude(**{field: ""}).values_list(field, flat=True)
    members = list(qs.order_by(field).distinct()[offset:offset + per_page + 1])
    more = len(members) > per_page
    return members[:per_page], (_encode_token(scoped, offset + per_page, offset + per_page) if more else None)


def _within_locations(uris: list[str], column: str = "biz_location") -> Q:
    """WD_bizLocation / WD_readPoint: the location, its sub-locations (SGLN extensions) and the locations
    of every organisation below it in the hierarchy."""
    cond = Q()
    for org in Organisation.objects.filter(location_uri__in=uris):
        for uri in Organisation.objects.filter(path__startswith=org.path).values_list("location_uri", flat=True):
            cond |= Q(**{column: uri}) | Q(**{column + "__startswith": uri + "/254/"})
    for uri in uris:
        cond |= Q(**{column: uri}) | Q(**{column + "__startswith": uri + "/254/"})
    return cond


def _query_key(params: dict) -> str:
    """What a token is bound to: the query's parameters other than perPage and the token itself."""
    items = sorted((str(k), str(v)) for k, v in params.items() if k not in ("perPage", "nextPageToken"))
    return hashlib.sha256(orjson.dumps(items)).hexdigest()[:16]


def _encode_token(params: dict, position: int, returned: int) -> str:
    """An opaque ``nextPageToken``: signed (it cannot be forged or edited), bound to the query it continues
    and valid for ``TOKEN_SECONDS``; ``position`` is the last event id (capture order) or the offset
    (ordered), ``returned`` the events already given (for eventCountLimit)."""
    return signing.dumps([_query_key(params), position, returned], salt=PAGE_SALT, compress=False)


def page_token(params: dict, last_id: int) -> str:
    """A token continuing ``params`` in capture order after event ``last_id`` (subscription deliveries)."""
    return _encode_token(params, last_id, 0)


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def page_token_valid(token: str) -> bool:
    """Whether ``token`` is a nextPageToken this installation signed, not expired and not released."""
    try:
        _key, position, returned = signing.loads(token, salt=PAGE_SALT, max_age=TOKEN_SECONDS)
    except (signing.BadSignature, ValueError, TypeError):
        return False
    if not isinstance(position, int) or not isinstance(returned, int):
        return False
    return not ReleasedPageToken.objects.filter(digest=token_digest(token)).exists()


def _decode_token(params: dict, token: str) -> tuple[int, int]:
    try:
        key, position, returned = signing.loads(token, salt=PAGE_SALT, max_age=TOKEN_SECONDS)
        if key != _query_key(params) or not isinstance(position, int) or not isinstance(returned, int):
            raise ValueError
        if ReleasedPageToken.objects.filter(digest=token_digest(token)).exists():
            raise ValueError
    except (signing.BadSignature, ValueError, TypeError):  # SignatureExpired is a BadSignature
        raise InvalidInput("nextPageToken 无效、已过期或不属于该查询", code="QueryParameterException",
                           detail={"parameter": "nextPageToken"}) from None
    return position, returned


def _contexts(capture_ids) -> tuple[list, dict]:
    """The response's @context: the EPCIS context and the captures' own declarations merged — unless a
    capture declares a term another capture on the page declares differently; its events then carry
    their own ``@context`` (JSON-LD §4.1: a nested context applies to that object), so no prefix is
    silently re-bound. Returns (document context, {capture id: event-level context})."""
    out = [EPCIS_CONTEXT]
    seen = {orjson.dumps(EPCIS_CONTEXT)}
    terms: dict[str, object] = {}
    own: dict[int, list] = {}
    for capture_id, ctx in CaptureJob.objects.filter(pk__in=capture_ids).order_by("pk").values_list("pk", "context"):
        items = [i for i in ctx or [] if not (isinstance(i, str) and "epcis-context" in i)]
        clash = any(isinstance(i, dict) and any(k in terms and terms[k] != v for k, v in i.items()) for i in items)
        if clash:
            own[capture_id] = items
            continue
        for item in items:
            key = orjson.dumps(item, option=orjson.OPT_SORT_KEYS)
            if key not in seen:
                seen.add(key)
                out.append(item)
                if isinstance(item, dict):
                    terms.update(item)
    return out, own


def _with_context(body: str, context: list | None) -> str:
    if not context:
        return body
    return '{"@context":' + orjson.dumps(context).decode() + "," + body.lstrip()[1:]


def _query_document(bodies: list[str], contexts: list) -> bytes:
    head = orjson.dumps({"@context": contexts, "type": "EPCISQueryDocument", "schemaVersion": "2.0",
                         "creationDate": timezone.now().isoformat(timespec="milliseconds")})
    return (head[:-1] + b',"epcisBody":{"queryResults":{"queryName":"SimpleEventQuery","resultsBody":{"eventList":['
            + ",".join(bodies).encode() + b"]}}}}")


# ------------------------------------------------------------------------------------------ trace


def parse_code(value: str) -> str:
    try:
        return codes.parse_any(value)
    except ValidationError as exc:
        raise InvalidInput(exc.messages[0], code="invalid_code") from exc


_TRACE_SQL = """
SELECT e.id, e.type, e.action, e.event_time, e.biz_step, e.disposition, e.read_point, e.biz_location,
       e.parent_epc, e.dest_location, ee.role, ee.epc
FROM trace_eventepc ee JOIN trace_event e ON e.id = ee.event_id
WHERE ee.epc IN ({marks})
ORDER BY e.event_time, e.id
"""


def _events_of(epcs: list[str]) -> list[tuple]:
    if not epcs:
        return []
    with connection.cursor() as cur:
        cur.execute(_TRACE_SQL.format(marks=",".join(["%s"] * len(epcs))), epcs)
        return cur.fetchall()


def _as_dt(value):
    """Raw SQL gives aware datetimes on PostgreSQL, naive UTC ones (or text) on SQLite."""
    if isinstance(value, str):
        value = datetime.datetime.fromisoformat(value)
    return value.replace(tzinfo=datetime.UTC) if value.tzinfo is None else value


def trace_code(epc: str, *, include_readings: bool = True) -> dict:
    """The whole life of one code: its own events and, for each container it travelled in, that
    container's events while it was inside (recursively: dose → box → case → pallet), in time order.
    A handful of indexed queries whatever the size of the database."""
    own = _events_of([epc])
    timeline = {}
    for row in own:
        timeline[row[0]] = _event_row(row, via=None)
    # containment intervals from the code's own aggregation events, then the containers' own events
    frontier = _intervals(epc, own)
    containers: set[str] = {p for p, _, _ in frontier}
    depth = 0
    while frontier and depth < 5:
        depth += 1
        rows = _events_of(sorted({p for p, _, _ in frontier}))
        by_parent: dict[str, list] = {}
        for row in rows:
            by_parent.setdefault(row[11], []).append(row)
        next_frontier = []
        for parent, start, end in frontier:
            prow = by_parent.get(parent, [])
            for row in prow:
                t = _as_dt(row[3])
                if t < start or (end is not None and t > end):
                    continue
                if row[1] == EventType.AGGREGATION and row[10] == "p" and row[2] == "DELETE" and row[0] not in timeline:
                    timeline[row[0]] = _event_row(row, via=parent)
                    end = t
                    continue
                if row[10] in ("e", "p") and row[0] not in timeline:
                    timeline[row[0]] = _event_row(row, via=parent)
            for p2, s2, e2 in _intervals(parent, prow):
                s2 = max(s2, start)
                e2 = min(x for x in (e2, end) if x is not None) if (e2 or end) else None
                if e2 is None or s2 <= e2:
                    next_frontier.append((p2, s2, e2))
                    containers.add(p2)
        frontier = next_frontier
    events = sorted(timeline.values(), key=lambda r: (r["time"], r["id"]))
    known = {s.epc: s for s in CodeState.objects.filter(epc__in=[epc, *containers])}
    state = known.get(epc)
    effective = effective_state(state, known=known) if state else None
    status = dose_status(flags=state.flags, disposition=effective["disposition"]) if state else DoseStatus.UNKNOWN
    result = {"epc": epc, "code": codes.display(epc), "events": events, "status": status_dict(status),
              "state": _state_dict(state), "effective": effective,
              "flags": list(RuleFlag.objects.filter(epc=epc).values("rule", "detail", "event_id_ref"))}
    if include_readings:
        result["readings"], result["positions"] = _cold_chain_along(events)
    return result


def _intervals(child: str, rows) -> list[tuple[str, datetime.datetime, datetime.datetime | None]]:
    """(parent, from, until) for every container the code was packed in, from its aggregation events."""
    out = []
    open_: dict[str, datetime.datetime] = {}
    for row in rows:
        if row[1] != EventType.AGGREGATION or row[10] != "c" or row[11] != child:
            continue
        t, parent = _as_dt(row[3]), row[8]
        if row[2] in ("ADD", "OBSERVE"):
            open_.setdefault(parent, t)
        elif row[2] == "DELETE" and parent in open_:
            out.append((parent, open_.pop(parent), t))
    out.extend((p, t, None) for p, t in open_.items())
    return out


def _event_row(row, *, via) -> dict:
    return {"id": row[0], "type": EventType(row[1]).label, "action": row[2], "time": _as_dt(row[3]),
            "biz_step": row[4], "disposition": row[5], "read_point": row[6], "biz_location": row[7],
            "parent": row[8], "via": via, "via_display": codes.display(via) if via else ""}


def _state_dict(state) -> dict | None:
    if state is None:
        return None
    return {"container": state.container or None, "biz_location": state.biz_location, "disposition": state.disposition,
            "owner": state.owner, "biz_step": state.biz_step, "last_event_id": state.last_event_id,
            "last_event_time": state.last_event_time, "batch_id": state.batch_id,
            "flags": [name for bit, name in FLAG_NAMES.items() if state.flags & bit]}


def _overlay(state: CodeState, known: dict | None, *, fetch: bool = True):
    """(location, disposition, as of, containers) of a code overlaid by its containers' newer state;
    containers not in ``known`` are read unless ``fetch`` is false."""
    location, disposition, when = state.biz_location, state.disposition, state.last_event_time
    chain = []
    container = state.container
    for _ in range(5):
        if not container:
            break
        parent = (known or {}).get(container)
        if parent is None and fetch:
            parent = CodeState.objects.filter(epc=container).first()
        if parent is None:
            break
        chain.append(container)
        if parent.last_event_time > when:
            location = parent.biz_location or location
            disposition = parent.disposition or disposition
            when = parent.last_event_time
        container = parent.container
    return location, disposition, when, chain


def effective_state(state: CodeState, *, known: dict | None = None) -> dict:
    """Where the code really is: its own state overlaid by its containers' newer state (a dose in a
    box on a pallet moves with the pallet). ``known``: states already fetched, by EPC."""
    location, disposition, when, chain = _overlay(state, known)
    org = Organisation.objects.filter(location_uri=location).first() if location else None
    return {"biz_location": location, "location_name": org.name if org else "", "disposition": disposition,
            "containers": chain, "as_of": when}


def _cold_chain_along(events: list[dict]):
    """Readings of the loggers at each place the code stayed (storage) or of the vehicle it travelled
    in (``transporting`` events' readPoint), during the stay."""
    if not events:
        return [], []
    stays = []
    for i, ev in enumerate(events):
        place = ev["biz_location"] or (ev["read_point"] if ev["biz_step"] == "transporting" else "")
        if not place:
            continue
        end = events[i + 1]["time"] if i + 1 < len(events) else None
        stays.append((place, ev["time"], end))
    places = sorted({p for p, _, _ in stays})
    lo = min(s for _, s, _ in stays)
    ends = [e for _, _, e in stays]
    hi = None if any(e is None for e in ends) else max(ends)
    windows: dict[str, list] = {}
    for place, start, end in stays:
        windows.setdefault(place, []).append((start, end))

    def fetch(table, columns):
        marks = ",".join(["%s"] * len(places))
        sql = (f"SELECT l.location_uri, l.name, r.time, {columns} FROM {table} r "  # noqa: S608 (constant names)
               f"JOIN trace_logger l ON l.id = r.logger_id WHERE l.location_uri IN ({marks}) AND r.time >= %s")
        params = [*places, lo]
        if hi is not None:
            sql += " AND r.time <= %s"
            params.append(hi)
        with connection.cursor() as cur:
            cur.execute(sql + " ORDER BY r.time LIMIT 20000", params)
            rows = cur.fetchall()
        out = []
        for row in rows:
            t = _as_dt(row[2])
            if any(t >= s and (e is None or t <= e) for s, e in windows[row[0]]):
                out.append((row[1], t, *row[3:]))
        return out

    readings = [{"logger": r[0], "time": r[1], "celsius": r[2]} for r in fetch("trace_reading", "r.celsius")]
    positions = [{"logger": r[0], "time": r[1], "lat": r[2], "lng": r[3]}
                 for r in fetch("trace_position", "r.latitude, r.longitude")]
    return readings, positions


def trace_for(actor, value: str) -> dict:
    """A trace for a regulator (scoped: only codes that appear in events the actor may see)."""
    require(actor, "trace.view")
    epc = parse_code(value)
    result = trace_code(epc)
    if not result["events"]:
        raise NotFound("没有该追溯码的记录", code="code_not_found")
    if actor.role not in ADMIN_TRIAD:
        visible = set(_scope_events(actor, Event.objects.filter(pk__in=[e["id"] for e in result["events"]]))
                      .values_list("pk", flat=True))
        if not visible:
            raise NotFound("没有该追溯码的记录", code="code_not_found")
        result["events"] = [e for e in result["events"] if e["id"] in visible]
    vac = Vaccination.objects.select_related("site", "person").filter(epc=epc).first()
    if vac is not None:
        result["vaccination"] = {"site": vac.site.name, "worker": vac.worker_name, "time": vac.administered_at,
                                 "person": mask_name(vac.person.name), **vaccination_details(vac),
                                 "aefi": list(vac.aefi_reports.values_list("report_number", flat=True))}
    batch = Batch.objects.select_related("product", "product__manufacturer").filter(
        pk=(result["state"] or {}).get("batch_id")).first()
    result["batch"] = _batch_dict(batch)
    return result


def _batch_dict(batch) -> dict | None:
    if batch is None:
        return None
    p = batch.product
    release = batch.lot_releases.first()  # the latest decision
    return {"product": p.name, "specification": p.specification, "dosage_form": p.dosage_form, "holder": p.holder,
            "manufacturer": p.manufacturer.name if p.manufacturer else p.holder, "lot": batch.lot,
            "production_date": batch.production_date, "expiry_date": batch.expiry_date, "batch_id": batch.pk,
            "approval_number": p.approval_number,
            "lot_release": {"certificate_number": release.certificate_number, "agency": release.agency,
                            "issued_on": release.issued_on, "conclusion": release.conclusion,
                            "conclusion_label": str(nmpa.LOT_RELEASE_CONCLUSIONS[release.conclusion])}
            if release else None}


# ------------------------------------------------------------------------------------------ NMPA data sets


def vaccination_details(vac: Vaccination) -> dict:
    """剂次, 接种途径 and 接种部位 of a vaccination, with their labels."""
    return {"dose_number": vac.dose_number, "route": vac.route, "route_label": str(nmpa.ROUTES.get(vac.route, "")),
            "body_site": vac.body_site, "body_site_label": str(nmpa.SITES.get(vac.body_site, ""))}


def packaging(product: Product) -> dict:
    """包装层级 and 包装比例 of a product (empty when not declared)."""
    levels = list(PackagingLevel.objects.filter(product=product).order_by("level"))
    return {"ratio": nmpa.packaging_ratio([lv.contains for lv in levels]) if levels else "",
            "levels": [{"level": lv.level, "unit": lv.unit, "contains": lv.contains} for lv in levels]}


def _batch_in_scope(actor, batch: Batch) -> None:
    dept = batch.product.manufacturer.department if batch.product.manufacturer else None
    require(actor, "trace.view", department=dept, hide=True)


def aefi_reports(actor, *, batch: Batch) -> list[dict]:
    """The AEFI cases linked to doses of a batch (a regulator's signal: several cases on one batch)."""
    _batch_in_scope(actor, batch)
    rows = (AefiReport.objects.filter(vaccination__batch_id=batch.pk,
                                      reporter__in=organisations_for(actor))
            .select_related("vaccination__site", "reporter").order_by("reported_at"))
    return [_aefi_dict(r) for r in rows]


def _aefi_dict(r: AefiReport) -> dict:
    return {"reportNumber": r.report_number, "code": codes.display(r.vaccination.epc),
            "vaccinationSite": r.vaccination.site.name, "onsetAt": r.onset_at, "reportedAt": r.reported_at,
            "reporter": r.reporter.name, "severe": r.severe, "classification": r.classification,
            "classificationLabel": str(nmpa.AEFI_CLASSES.get(r.classification, r.classification))}


EXPORT_VERSION = "smartgov-vaccine-exchange/1"


def _export_code(st: CodeState, known: dict, *, expired: bool) -> dict:
    location, disposition, _, _ = _overlay(st, known, fetch=False)
    return {"code": codes.display(st.epc), "parentCode": codes.display(st.container) if st.container else "",
            "location": location or "", "disposition": disposition or "",
            "status": dose_status(flags=st.flags, disposition=disposition, expired=expired).value}


def nmpa_export(actor, *, batch: Batch) -> dict:
    """One batch's vaccine traceability data for exchange beside EPCIS, grouped as the data sets of
    NMPAB/T 1004-2019 (product, lot release, package levels, codes and their package relations, states,
    vaccinations with their AEFI links). No personal data: vaccinations carry the code, time, unit,
    剂次, route and site, never the vaccinee. Organisations the actor cannot see are left out."""
    _batch_in_scope(actor, batch)
    p = batch.product
    visible_sites = organisations_for(actor)
    releases = list(LotRelease.objects.filter(batch=batch).order_by("issued_on", "pk"))
    states = list(CodeState.objects.filter(batch_id=batch.pk).order_by("epc"))
    known, wanted = {}, {st.container for st in states if st.container}
    for _ in range(5):  # containers, their containers …: one query per level
        wanted -= known.keys()
        if not wanted:
            break
        found = {c.epc: c for c in CodeState.objects.filter(epc__in=wanted)}
        known.update(found)
        wanted = {c.container for c in found.values() if c.container}
    expired = batch.expiry_date < datetime.date.today()
    vaccinations = (Vaccination.objects.filter(batch_id=batch.pk, site__in=visible_sites)
                    .select_related("site").order_by("administered_at", "pk"))
    aefi: dict[int, list[str]] = {}
    for vac_id, number in AefiReport.objects.filter(vaccination__in=vaccinations).values_list(
            "vaccination_id", "report_number"):
        aefi.setdefault(vac_id, []).append(number)
    pack = packaging(p)
    return {
        "format": EXPORT_VERSION,
        "dataSets": "NMPAB/T 1004-2019",
        "createdAt": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds").replace("+00:00", "Z"),
        "product": {"drugIdentificationCode": p.nmpa_code or "", "gtin": p.gtin or "", "genericName": p.name,
                    "dosageForm": p.dosage_form, "specification": p.specification,
                    "approvalNumber": p.approval_number, "marketingAuthorisationHolder": p.holder,
                    "manufacturer": p.manufacturer.name if p.manufacturer else "",
                    "packagingRatio": pack["ratio"], "packagingLevels": pack["levels"]},
        "batch": {"lotNumber": batch.lot, "productionDate": batch.production_date.isoformat(),
                  "expiryDate": batch.expiry_date.isoformat()},
        "lotRelease": [{"certificateNumber": r.certificate_number, "agency": r.agency,
                        "issuedOn": r.issued_on.isoformat(), "conclusion": r.conclusion,
                        "quantity": r.quantity} for r in releases],
        "codes": [_export_code(st, known, expired=expired) for st in states],
        "vaccinations": [{"code": codes.display(v.epc), "administeredAt": v.administered_at.isoformat(),
                          "vaccinationUnit": v.site.name, "vaccinationUnitCode": v.site.uscc,
                          "doseNumber": v.dose_number, "route": v.route, "bodySite": v.body_site,
                          "aefiReports": aefi.get(v.pk, [])} for v in vaccinations],
    }


def public_lookup(value: str) -> dict:
    """公众查询: product, batch, expiry, manufacturer and whether the code is genuine — never where it
    went or who received it."""
    epc = parse_code(value)
    state = CodeState.objects.filter(epc=epc).first()
    batch = Batch.objects.select_related("product", "product__manufacturer").filter(
        pk=state.batch_id).first() if state and state.batch_id else None
    genuine = state is not None and state.commissioned_at is not None and (
        is_issued(epc) or not epc.startswith(codes.NMPA_PREFIX))
    out = {"code": codes.display(epc), "genuine": bool(genuine and batch), "batch": _batch_dict(batch)}
    if batch:
        out["expired"] = batch.expiry_date < timezone.localdate()
        out["recalled"] = bool(state.flags & 1)
        # the public sees only what the holder must know: usable, recalled, in question, used up
        out["status"] = status_dict(dose_status(flags=state.flags, disposition=effective_state(state)["disposition"],
                                                expired=out["expired"]))
    if out["batch"]:
        out["batch"].pop("batch_id", None)
    return out


# ------------------------------------------------------------------------------------------ recall

# Where each unadministered dose of a batch is: the location of its top-most container (contents move
# with their container), else its own.
_RECALL_FROM = """
FROM trace_codestate d
LEFT JOIN trace_codestate c1 ON c1.epc = d.container
LEFT JOIN trace_codestate c2 ON c2.epc = c1.container
LEFT JOIN trace_codestate c3 ON c3.epc = c2.container
WHERE d.batch_id = %s AND (d.flags & 4) = 0
"""
_WHERE_NOW = "COALESCE(c3.biz_location, c2.biz_location, c1.biz_location, d.biz_location)"


def recall_progress(recall) -> dict:
    with connection.cursor() as cur:
        cur.execute(f"SELECT {_WHERE_NOW} AS place, COUNT(*) {_RECALL_FROM} GROUP BY place ORDER BY 2 DESC",
                    [recall.batch_id])
        rows = cur.fetchall()
    names = dict(Organisation.objects.filter(location_uri__in=[r[0] for r in rows if r[0]])
                 .values_list("location_uri", "name"))
    return {"id": recall.pk, "status": recall.status, "batch": recall.batch.lot, "product": recall.batch.product.name,
            "reason": recall.reason, "codes_total": recall.codes_total,
            "administered": Vaccination.objects.filter(batch_id=recall.batch_id).count()
            or recall.codes_administered,
            "outstanding": recall_outstanding(recall),
            "by_location": [{"location": r[0], "name": names.get(r[0], r[0] or "未知"), "doses": r[1]} for r in rows]}


def recall_doses(recall, *, page: int = 1, page_size: int = 50) -> dict:
    if page < 1 or not 1 <= page_size <= 500:
        raise InvalidInput("分页参数无效", code="invalid_page", detail={"page": page, "page_size": page_size})
    with connection.cursor() as cur:
        cur.execute(f"SELECT COUNT(*) {_RECALL_FROM}", [recall.batch_id])
        count = cur.fetchone()[0]
        cur.execute(f"SELECT d.epc, {_WHERE_NOW}, d.disposition, COALESCE(c3.epc, c2.epc, c1.epc), d.flags, "
                    "d.last_event_time, c1.disposition, c1.last_event_time, c2.disposition, c2.last_event_time, "
                    f"c3.disposition, c3.last_event_time {_RECALL_FROM} "
                    "ORDER BY d.epc LIMIT %s OFFSET %s", [recall.batch_id, page_size, (page - 1) * page_size])
        rows = cur.fetchall()
    names = dict(Organisation.objects.filter(location_uri__in={r[1] for r in rows if r[1]})
                 .values_list("location_uri", "name"))
    return {"count": count, "page": page, "page_size": page_size,
            "results": [{"code": codes.display(r[0]), "epc": r[0], "location": r[1], "location_name": names.get(r[1], ""),
                         "disposition": r[2], "container": codes.display(r[3]) if r[3] else "",
                         "status": status_dict(dose_status(flags=r[4], disposition=_newest_disposition(r[2], r[5:])))}
                        for r in rows]}


# _newest_disposition()'s rule inside SQL, for aggregates over many codes (a row per code would not do at a million
# doses): a container's disposition counts when its last event is newer than the code's and than every inner
# container's that counted before it (the running maximum); an empty disposition keeps the one before.
_NEWER_1 = "c1.last_event_time > d.last_event_time"
_MAX_1 = f"CASE WHEN {_NEWER_1} THEN c1.last_event_time ELSE d.last_event_time END"
_NEWER_2 = f"c2.last_event_time > ({_MAX_1})"
_MAX_2 = f"CASE WHEN {_NEWER_2} THEN c2.last_event_time ELSE {_MAX_1} END"
_NEWER_3 = f"c3.last_event_time > ({_MAX_2})"
_EFFECTIVE_DISPOSITION = (f"CASE WHEN {_NEWER_3} AND c3.disposition <> '' THEN c3.disposition "
                          f"WHEN {_NEWER_2} AND c2.disposition <> '' THEN c2.disposition "
                          f"WHEN {_NEWER_1} AND c1.disposition <> '' THEN c1.disposition ELSE d.disposition END")


def doses_by_status(department) -> dict[DoseStatus, int]:
    """Doses (codes commissioned into a batch) whose place now — their top-most container's, else their own — is
    an organisation of ``department`` and below, counted by :func:`status.dose_status` (the one rule every page
    uses), one aggregate query. Administered and destroyed doses are left out before counting: their flags are
    final in that rule, so they could only be counted out of circulation."""
    final = FLAG_ADMINISTERED | FLAG_DESTROYED
    dept_table = type(department)._meta.db_table
    with connection.cursor() as cur:
        cur.execute(f"""SELECT d.flags, {_EFFECTIVE_DISPOSITION}, b.expiry_date < %s, COUNT(*)
                        FROM trace_codestate d
                        JOIN trace_batch b ON b.id = d.batch_id
                        LEFT JOIN trace_codestate c1 ON c1.epc = d.container
                        LEFT JOIN trace_codestate c2 ON c2.epc = c1.container
                        LEFT JOIN trace_codestate c3 ON c3.epc = c2.container
                        WHERE d.batch_id IS NOT NULL AND (d.flags & {final}) = 0
                          AND {_WHERE_NOW} IN (SELECT o.location_uri FROM {Organisation._meta.db_table} o
                                               JOIN {dept_table} p ON p.id = o.department_id WHERE p.path LIKE %s)
                        GROUP BY 1, 2, 3""", [timezone.localdate(), department.path + "%"])  # noqa: S608 (table names, flag bits and SQL fragments are constants)
        rows = cur.fetchall()
    out: dict[DoseStatus, int] = {}
    for flags, disposition, expired, n in rows:
        status = dose_status(flags=flags, disposition=disposition, expired=bool(expired))
        out[status] = out.get(status, 0) + n
    return out


def _newest_disposition(own, rest) -> str | None:
    """effective_state()'s rule on a joined row: a container's disposition counts when its last
    event is newer (rest: own time, then (disposition, time) of each container outwards)."""
    disposition, when = own, _as_dt(rest[0])
    for i in range(1, len(rest), 2):
        if rest[i + 1] is None:
            break
        t = _as_dt(rest[i + 1])
        if t > when:
            disposition, when = rest[i] or disposition, t
    return disposition


class VaccineeRows:
    """A lazily paginated list of vaccinees; only the page shown is decrypted. Names and phone numbers are
    masked here; ``services.reveal_vaccinee_contacts`` gives the clear values and audits each page."""

    reveal = False

    def __init__(self, actor, recall, qs):
        self.actor, self.recall, self.qs = actor, recall, qs

    def all(self):
        return self

    def count(self):
        return self.qs.count()

    def revealed(self, rows) -> None:
        """Called with each page shown in clear (the reveal service records it)."""

    def __getitem__(self, item):
        rows = list(self.qs[item])
        if self.reveal and rows:
            self.revealed(rows)
        return [{"code": codes.display(v.epc), "name": v.person.name if self.reveal else mask_name(v.person.name),
                 "phone": (v.person.phone or "") if self.reveal else mask_phone(v.person.phone),
                 "site": v.site.name, "administered_at": v.administered_at.isoformat()} for v in rows]


def recall_vaccinees(actor, recall) -> VaccineeRows:
    """Who received doses of the recalled batch, masked (``services.reveal_vaccinee_contacts`` for the
    phone numbers from the identity register)."""
    return VaccineeRows(actor, recall, vaccinations_of_recall(recall))


def vaccinations_of_recall(recall):
    return Vaccination.objects.select_related("person", "site").filter(batch_id=recall.batch_id).order_by("pk")


# ------------------------------------------------------------------------------------------ dashboard

STAGE_LABELS = {"manufacturer": "生产企业", "distributor": "配送企业", "provincial_cdc": "省级疾控", "city_cdc": "市级疾控",
                "county_cdc": "县级疾控", "site": "接种单位", "in_transit": "运输途中", "administered": "已接种",
                "other": "其他"}


def dashboard(actor) -> dict:
    """监管驾驶舱 figures for the organisations in the actor's scope (doses only: codes bound to a batch)."""
    orgs = list(organisations_for(actor).select_related("parent"))
    by_loc = {o.location_uri: o for o in orgs}
    with connection.cursor() as cur:
        cur.execute(f"""SELECT {_WHERE_NOW} AS place, d.disposition, (d.flags & 4) AS given, COUNT(*)
                        FROM trace_codestate d
                        LEFT JOIN trace_codestate c1 ON c1.epc = d.container
                        LEFT JOIN trace_codestate c2 ON c2.epc = c1.container
                        LEFT JOIN trace_codestate c3 ON c3.epc = c2.container
                        WHERE d.batch_id IS NOT NULL GROUP BY place, d.disposition, given""")  # noqa: S608
        rows = cur.fetchall()
    stages: dict[str, int] = {}
    regions: dict[str, int] = {}
    for place, disposition, given, n in rows:
        org = by_loc.get(place)
        if org is None:
            continue
        stage = "administered" if given else ("in_transit" if disposition == "in_transit" else org.kind)
        stages[stage] = stages.get(stage, 0) + n
        region = org if org.kind in ("county_cdc", "provincial_cdc", "manufacturer") else (org.parent or org)
        regions[region.name] = regions.get(region.name, 0) + n
    org_ids = [o.pk for o in orgs]
    alerts = dict(Alert.objects.filter(organisation_id__in=org_ids).values_list("kind").annotate(n=Count("id")))
    open_alerts = list(Alert.objects.filter(organisation_id__in=org_ids, acknowledged_at__isnull=True)
                       .select_related("organisation", "logger")[:20])
    to_release = list(Alert.objects.filter(organisation_id__in=org_ids, acknowledged_at__isnull=False,
                                           released_at__isnull=True, doses_in_question__gt=0)
                      .select_related("organisation", "acknowledged_by")[:20])
    soon = timezone.localdate() + datetime.timedelta(days=90)
    with connection.cursor() as cur:
        cur.execute("""SELECT b.id, p.name, b.lot, b.expiry_date, COUNT(*), p.id FROM trace_codestate d
                       JOIN trace_batch b ON b.id = d.batch_id JOIN trace_product p ON p.id = b.product_id
                       WHERE (d.flags & 4) = 0 AND b.expiry_date <= %s
                       GROUP BY b.id, p.name, b.lot, b.expiry_date, p.id ORDER BY b.expiry_date""", [soon])
        rows = cur.fetchall()
    # only what the viewer's scope covers: products of their departments, recalls of their departments
    # (a recall outside it would be listed here and answer 404 when followed)
    visible_products = set(Product.objects.filter(pk__in={r[5] for r in rows},
                                                  manufacturer__in=organisations_for(actor))
                           .values_list("pk", flat=True))
    near_expiry = [{"batch": r[0], "product": r[1], "lot": r[2], "expiry": r[3], "doses": r[4]}
                   for r in rows if r[5] in visible_products]
    recalls = list(scope(actor, Recall.objects.all()).select_related("batch__product").order_by("-id")[:10])
    recall_rows = [{"recall": r, "outstanding": recall_outstanding(r)} for r in recalls]
    flags = dict(RuleFlag.objects.filter(event_id_ref__in=_scope_events(actor, Event.objects.all()).values("pk"))
                 .values_list("rule").annotate(n=Count("id")))
    return {"stages": [{"name": STAGE_LABELS.get(k, k), "value": v} for k, v in sorted(stages.items())],
            "regions": sorted(({"name": k, "value": v} for k, v in regions.items()), key=lambda x: -x["value"]),
            "alerts": alerts, "open_alerts": open_alerts, "to_release": to_release, "near_expiry": near_expiry, "recalls": recall_rows,
            "rule_flags": flags, "total": sum(stages.values())}


# ------------------------------------------------------------------------------ city overview (docs/overview.md)

TEMPERATURE_ALERTS = ("instant", "consecutive", "cumulative")


def indicators(*, actor, department) -> list[dict]:
    """追溯 figures of ``department`` and below: doses in circulation (by state), vaccinations, open cold-chain alerts,
    active recalls and the doses they reach (4 queries)."""
    check_scope(actor, department)
    bounds = day_starts()
    v = Vaccination.objects.filter(site__department__path__startswith=department.path,
                                   administered_at__gte=bounds[0]).aggregate(**daily_counts("administered_at", "v", bounds))
    a = Alert.objects.filter(organisation__department__path__startswith=department.path).aggregate(
        cold=Count("id", filter=Q(kind__in=TEMPERATURE_ALERTS, acknowledged_at__isnull=True)),
        in_question=Sum("doses_in_question", filter=Q(released_at__isnull=True, kind__in=TEMPERATURE_ALERTS)))
    r = Recall.objects.filter(department__path__startswith=department.path, status="open").aggregate(
        n=Count("id"), reach=Sum("codes_total"), given=Sum("codes_administered"))
    circulating = []
    for s, n in sorted(doses_by_status(department).items(), key=lambda x: list(DoseStatus).index(x[0])):
        if in_circulation(s) and n:  # the figures are shared by every viewer: both languages, not the active one
            with translation.override(settings.LANGUAGE_CODE):
                name = str(s.label)
            with translation.override("en"):
                circulating.append({"name": name, "name_en": str(s.label), "value": n})
    url = reverse("trace:dashboard")
    common = {"app": "trace", "department": department}
    return [
        indicator(key="doses_in_circulation", name="在流通剂次", name_en="Doses in circulation", unit="剂", url=url,
                  value=sum(r["value"] for r in circulating), breakdown=circulating, **common),
        indicator(key="vaccinations_today", name="今日接种", name_en="Doses given today", unit="剂", url=url,
                  **series_of(v, "v", bounds), **common),
        indicator(key="cold_chain_alerts", name="冷链告警未确认", name_en="Open cold-chain alerts", unit="条",
                  url=url, value=a["cold"], **common),
        indicator(key="doses_in_question", name="温度存疑剂次", name_en="Doses in question", unit="剂", url=url,
                  value=a["in_question"] or 0, **common),
        indicator(key="active_recalls", name="进行中召回", name_en="Active recalls", unit="起",
                  url=reverse("trace:recalls"), value=r["n"], **common),
        indicator(key="recall_reach", name="召回涉及剂次", name_en="Doses under recall", unit="剂",
                  url=reverse("trace:recalls"), value=r["reach"] or 0, **common),
    ]


def alerts(*, actor, department, limit: int = 20) -> list[dict]:
    """Unacknowledged cold-chain excursions (冷链超温) of ``department`` and below (one query)."""
    check_scope(actor, department)
    rows = (Alert.objects.filter(organisation__department__path__startswith=department.path,
                                 kind__in=TEMPERATURE_ALERTS, acknowledged_at__isnull=True)
            .select_related("organisation__department").order_by("-started_at")[:limit])
    url = reverse("trace:dashboard")
    return [alert(app="trace", key=f"cold:{a.pk}", kind="冷链超温", kind_en="Cold-chain excursion",
                  title=f"{a.organisation.name} · {a.message}", at=a.started_at, url=url,
                  department_name=a.organisation.department.name) for a in rows]


def map_markers(*, actor, department) -> list[dict]:
    """For the overview's map: vaccination sites (with open cold-chain excursions as their status) and the
    last GNSS (北斗) position of each refrigerated vehicle, of ``department`` and below (two queries)."""
    check_scope(actor, department)
    url = reverse("trace:dashboard")
    sites = (Organisation.objects.filter(kind="site", department__path__startswith=department.path)
             .select_related("department")
             .annotate(open_alerts=Count("alerts", filter=Q(alerts__kind__in=TEMPERATURE_ALERTS,
                                                             alerts__acknowledged_at__isnull=True)))
             .order_by("path")[:500])
    out = [marker(app="trace", key=f"site:{s.pk}", kind="接种点", kind_en="Vaccination site", name=s.name,
                  status="alert" if s.open_alerts else "ok",
                  status_label=f"冷链告警 {s.open_alerts} 条" if s.open_alerts else "正常", department=s.department,
                  url=url, latitude=s.latitude, longitude=s.longitude) for s in sites]
    last = Position.objects.filter(logger=OuterRef("pk")).order_by("-time")
    vehicles = (Logger.objects.filter(kind="vehicle", organisation__department__path__startswith=department.path)
                .select_related("organisation__department")
                .annotate(lat=Subquery(last.values("latitude")[:1]), lng=Subquery(last.values("longitude")[:1]),
                          at=Subquery(last.values("time")[:1]))
                .filter(at__isnull=False).order_by("pk")[:500])
    out += [marker(app="trace", key=f"vehicle:{v.pk}", kind="冷藏车", kind_en="Vehicle", name=v.name,
                   status="ok", status_label=f"{v.organisation.name} · 北斗定位", department=v.organisation.department,
                   url=url, latitude=v.lat, longitude=v.lng, at=v.at) for v in vehicles]
    return out


def get_logger(logger_id: int) -> Logger:
    logger = Logger.objects.select_related("organisation__department", "product").filter(pk=logger_id).first()
    if logger is None:
        raise NotFound("没有该温度记录仪", code="logger_not_found")
    return logger


def get_alert(alert_id: int) -> Alert:
    alert = Alert.objects.select_related("organisation__department", "logger").filter(pk=alert_id).first()
    if alert is None:
        raise NotFound("没有该告警", code="alert_not_found")
    return alert


def is_issued(epc: str) -> bool:
    """Whether a (normalised) code was issued by this platform: right check digits, serial in an issue."""
    if epc.startswith(codes.NMPA_PREFIX):
        code = codes.parse_nmpa(epc)
        if codes.nmpa_check(code.product_code, code.serial) != code.check:
            return False
        serial, qs = int(code.serial), CodeIssue.objects.filter(scheme=CodeScheme.NMPA,
                                                                 batch__product__nmpa_code=code.product_code)
    elif epc.startswith(codes.DL_ROOT + "/01/"):
        segs = epc[len(codes.DL_ROOT) + 1:].split("/")
        if len(segs) < 4 or len(segs[3]) != 13 or not segs[3].isdigit():
            return False
        gtin, s9, check = segs[1], segs[3][:9], segs[3][9:]
        if codes.nmpa_check(gtin, s9) != check:
            return False
        serial, qs = int(s9), CodeIssue.objects.filter(scheme=CodeScheme.SGTIN, batch__product__gtin=gtin)
    else:
        return False
    return qs.filter(first_serial__lte=serial, first_serial__gt=serial - F("count")).exists()


def recall_outstanding(recall: Recall) -> int:
    """Doses of the recalled batch neither administered nor returned/destroyed (nor decommissioned) yet."""
    with connection.cursor() as cur:
        cur.execute(f"SELECT COUNT(*) FROM trace_codestate WHERE batch_id = %s AND (flags & {FLAG_ADMINISTERED}) = 0 "  # noqa: S608 (table/column names and flag bits are constants)
                    "AND disposition NOT IN ('destroyed', 'returned', 'inactive')", [recall.batch_id])
        return cur.fetchone()[0]
