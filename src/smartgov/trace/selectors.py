"""Reads of 追溯监管 that pages, the API and the benchmark share: the EPCIS query, the full trace of a code,
the public lookup, recall impact and the dashboard figures."""

import base64
import datetime
from dataclasses import dataclass

import orjson
from django.core.exceptions import ValidationError
from django.db import connection
from django.db.models import Q

from smartgov.core.errors import InvalidInput, NotFound
from smartgov.core.permissions import ADMIN_TRIAD, require

from . import codes
from .epcis.hashing import parse_time
from .epcis.vocab import STANDARD_PREFIXES, VocabularyError, normalize_term
from .models import (
    FLAG_NAMES,
    Batch,
    CaptureJob,
    CodeState,
    Event,
    EventEpc,
    EventType,
    Organisation,
    RuleFlag,
    Vaccination,
)

EPCIS_CONTEXT = "https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld"
MAX_PER_PAGE = 1000


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
    if not isinstance(actor, Organisation) and actor.role in ADMIN_TRIAD:
        return qs
    return qs.filter(organisation_id_ref__in=organisations_for(actor).values("pk"))


# ------------------------------------------------------------------------------------------ EPCIS query


@dataclass
class QueryPage:
    body: bytes
    next_token: str | None


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
             "EQ_action", "eventType", "perPage", "nextPageToken", "EQ_eventID"}


def query_events(actor, params: dict) -> QueryPage:
    """EPCIS 2.0 SimpleEventQuery over the REST binding (GET /events?…): pipe-separated values,
    ``perPage`` and an opaque ``nextPageToken``; results in capture order."""
    unknown = sorted(k for k in params if k not in SUPPORTED)
    if unknown:
        raise InvalidInput("不支持的查询参数", code="QueryParameterException", detail={"parameters": unknown})
    qs = _scope_events(actor, Event.objects.all())
    roles = {"MATCH_epc": ("e", "c"), "MATCH_anyEPC": ("e", "c", "p", "i", "o"), "MATCH_parentID": ("p",),
             "MATCH_inputEPC": ("i",), "MATCH_outputEPC": ("o",)}
    for name, role in roles.items():
        values = _values(params, name)
        if values:
            epcs = [codes.normalize_epc(v) for v in values]
            qs = qs.filter(pk__in=EventEpc.objects.filter(epc__in=epcs, role__in=role).values("event_id"))
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
    if values := _values(params, "EQ_action"):
        qs = qs.filter(action__in=values)
    if values := _values(params, "eventType"):
        types = [t.value for t in EventType if t.label in values]
        qs = qs.filter(type__in=types)
    if values := _values(params, "EQ_eventID"):
        qs = qs.filter(Q(event_id__in=values) | Q(event_hash__in=values))
    if (ge := _time(params, "GE_eventTime")) is not None:
        qs = qs.filter(event_time__gte=ge)
    if (lt := _time(params, "LT_eventTime")) is not None:
        qs = qs.filter(event_time__lt=lt)
    try:
        per_page = int(params.get("perPage", 30))
    except ValueError:
        per_page = -1
    if not 1 <= per_page <= MAX_PER_PAGE:
        raise InvalidInput(f"perPage 应在1至{MAX_PER_PAGE}之间", code="QueryParameterException",
                           detail={"parameter": "perPage"})
    if token := params.get("nextPageToken"):
        qs = qs.filter(pk__gt=_decode_token(token))
    rows = list(qs.order_by("pk").values_list("pk", "body", "capture_id")[:per_page + 1])
    more = len(rows) > per_page
    rows = rows[:per_page]
    contexts = _contexts({r[2] for r in rows})
    body = _query_document([r[1] for r in rows], contexts)
    return QueryPage(body=body, next_token=_encode_token(rows[-1][0]) if more else None)


def _within_locations(uris: list[str]) -> Q:
    """WD_bizLocation: the location, its sub-locations (SGLN extensions) and the locations of every
    organisation below it in the hierarchy."""
    cond = Q()
    for org in Organisation.objects.filter(location_uri__in=uris):
        for uri in Organisation.objects.filter(path__startswith=org.path).values_list("location_uri", flat=True):
            cond |= Q(biz_location=uri) | Q(biz_location__startswith=uri + "/254/")
    for uri in uris:
        cond |= Q(biz_location=uri) | Q(biz_location__startswith=uri + "/254/")
    return cond


def _encode_token(last_id: int) -> str:
    return base64.urlsafe_b64encode(f"e{last_id}".encode()).decode().rstrip("=")


def _decode_token(token: str) -> int:
    try:
        text = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)).decode()
        if not text.startswith("e"):
            raise ValueError
        return int(text[1:])
    except (ValueError, UnicodeDecodeError):
        raise InvalidInput("nextPageToken 无效", code="QueryParameterException",
                           detail={"parameter": "nextPageToken"}) from None


def _contexts(capture_ids) -> list:
    out = [EPCIS_CONTEXT]
    seen = {orjson.dumps(EPCIS_CONTEXT)}
    for ctx in CaptureJob.objects.filter(pk__in=capture_ids).values_list("context", flat=True):
        for item in ctx or []:
            key = orjson.dumps(item, option=orjson.OPT_SORT_KEYS)
            if key not in seen and not (isinstance(item, str) and "epcis-context" in item):
                seen.add(key)
                out.append(item)
    return out


def _query_document(bodies: list[str], contexts: list) -> bytes:
    from django.utils import timezone

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
    result = {"epc": epc, "code": codes.display(epc), "events": events,
              "state": _state_dict(state), "effective": effective_state(state, known=known) if state else None,
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


def effective_state(state: CodeState, *, known: dict | None = None) -> dict:
    """Where the code really is: its own state overlaid by its containers' newer state (a dose in a
    box on a pallet moves with the pallet). ``known``: states already fetched, by EPC."""
    location, disposition, when = state.biz_location, state.disposition, state.last_event_time
    chain = []
    container = state.container
    for _ in range(5):
        if not container:
            break
        parent = (known or {}).get(container) or CodeState.objects.filter(epc=container).first()
        if parent is None:
            break
        chain.append(container)
        if parent.last_event_time > when:
            location = parent.biz_location or location
            disposition = parent.disposition or disposition
            when = parent.last_event_time
        container = parent.container
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
        from smartgov.core.masking import mask_name

        result["vaccination"] = {"site": vac.site.name, "worker": vac.worker_name, "time": vac.administered_at,
                                 "person": mask_name(vac.person.name)}
    batch = Batch.objects.select_related("product", "product__manufacturer").filter(
        pk=(result["state"] or {}).get("batch_id")).first()
    result["batch"] = _batch_dict(batch)
    return result


def _batch_dict(batch) -> dict | None:
    if batch is None:
        return None
    p = batch.product
    return {"product": p.name, "specification": p.specification, "dosage_form": p.dosage_form, "holder": p.holder,
            "manufacturer": p.manufacturer.name if p.manufacturer else p.holder, "lot": batch.lot,
            "production_date": batch.production_date, "expiry_date": batch.expiry_date, "batch_id": batch.pk}


def public_lookup(value: str) -> dict:
    """公众查询: product, batch, expiry, manufacturer and whether the code is genuine — never where it
    went or who received it."""
    from django.utils import timezone

    from .services import is_issued

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
    from .services import recall_outstanding

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
        cur.execute(f"SELECT d.epc, {_WHERE_NOW}, d.disposition, COALESCE(c3.epc, c2.epc, c1.epc) {_RECALL_FROM} "
                    "ORDER BY d.epc LIMIT %s OFFSET %s", [recall.batch_id, page_size, (page - 1) * page_size])
        rows = cur.fetchall()
    names = dict(Organisation.objects.filter(location_uri__in={r[1] for r in rows if r[1]})
                 .values_list("location_uri", "name"))
    return {"count": count, "page": page, "page_size": page_size,
            "results": [{"code": codes.display(r[0]), "epc": r[0], "location": r[1], "location_name": names.get(r[1], ""),
                         "disposition": r[2], "container": codes.display(r[3]) if r[3] else ""} for r in rows]}


class _VaccineeRows:
    """A lazily paginated list of vaccinees; only the page shown is decrypted (and the reveal audited)."""

    def __init__(self, actor, recall, qs):
        self.actor, self.recall, self.qs = actor, recall, qs

    def all(self):
        return self

    def count(self):
        return self.qs.count()

    def __getitem__(self, item):
        from smartgov.audit.services import record
        from smartgov.core.masking import mask_name, mask_phone
        from smartgov.core.permissions import has_perm

        rows = list(self.qs[item])
        reveal = has_perm(self.actor, "trace.view_vaccinee")
        if reveal and rows:
            from django.db import transaction

            with transaction.atomic():
                record(actor=self.actor, action="trace.recall.vaccinee_contacts", target=self.recall,
                       changes={"vaccinations": [v.pk for v in rows]})
        return [{"code": codes.display(v.epc), "name": v.person.name if reveal else mask_name(v.person.name),
                 "phone": (v.person.phone or "") if reveal else mask_phone(v.person.phone),
                 "site": v.site.name, "administered_at": v.administered_at.isoformat()} for v in rows]


def recall_vaccinees(actor, recall):
    """Who received doses of the recalled batch, with the phone number from the identity register
    (clear for regulators who follow the recall up — each page shown is audited — masked otherwise)."""
    qs = Vaccination.objects.select_related("person", "site").filter(batch_id=recall.batch_id).order_by("pk")
    return _VaccineeRows(actor, recall, qs)


# ------------------------------------------------------------------------------------------ dashboard

STAGE_LABELS = {"manufacturer": "生产企业", "distributor": "配送企业", "provincial_cdc": "省级疾控", "city_cdc": "市级疾控",
                "county_cdc": "县级疾控", "site": "接种单位", "in_transit": "运输途中", "administered": "已接种",
                "other": "其他"}


def dashboard(actor) -> dict:
    """监管驾驶舱 figures for the organisations in the actor's scope (doses only: codes bound to a batch)."""
    from django.db.models import Count
    from django.utils import timezone

    from .models import Alert, Recall

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
        cur.execute("""SELECT b.id, p.name, b.lot, b.expiry_date, COUNT(*) FROM trace_codestate d
                       JOIN trace_batch b ON b.id = d.batch_id JOIN trace_product p ON p.id = b.product_id
                       WHERE (d.flags & 4) = 0 AND b.expiry_date <= %s
                       GROUP BY b.id, p.name, b.lot, b.expiry_date ORDER BY b.expiry_date""", [soon])
        near_expiry = [{"batch": r[0], "product": r[1], "lot": r[2], "expiry": r[3], "doses": r[4]}
                       for r in cur.fetchall()]
    recalls = list(Recall.objects.select_related("batch__product").order_by("-id")[:10])
    from .services import recall_outstanding

    recall_rows = [{"recall": r, "outstanding": recall_outstanding(r)} for r in recalls]
    flags = dict(RuleFlag.objects.values_list("rule").annotate(n=Count("id")))
    return {"stages": [{"name": STAGE_LABELS.get(k, k), "value": v} for k, v in sorted(stages.items())],
            "regions": sorted(({"name": k, "value": v} for k, v in regions.items()), key=lambda x: -x["value"]),
            "alerts": alerts, "open_alerts": open_alerts, "to_release": to_release, "near_expiry": near_expiry, "recalls": recall_rows,
            "rule_flags": flags, "total": sum(stages.values())}
