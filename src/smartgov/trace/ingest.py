"""The EPCIS capture hot path: stream → parse (orjson) → validate (pre-compiled schema + CBV) → hash →
batched insert (COPY on PostgreSQL, executemany on SQLite) → business rules and state in set-based SQL.

Called only through ``services.capture_epcis_document``; see docs/trace.md ("Hot path") for the design
and the measurements behind it.
"""

import datetime
from collections.abc import Iterable
from dataclasses import dataclass, field

import orjson
from django.conf import settings
from django.db import connection
from django.utils import timezone

from .codes import location_dl as canonical_dl
from .codes import normalize_epc, product_key
from .coldchain import readings_from_sensor_elements
from .epcis import schema
from .epcis.hashing import declared_prefixes, event_hash, parse_time
from .epcis.stream import DocumentError, EventStream
from .epcis.vocab import STANDARD_PREFIXES, VocabularyError, context_prefixes, normalize_term
from .models import FLAG_ADMINISTERED, FLAG_DESTROYED, FLAG_IN_QUESTION, FLAG_RECALLED, Batch, EventType, Product

EVENT_TYPES = {"ObjectEvent": EventType.OBJECT, "AggregationEvent": EventType.AGGREGATION,
               "TransactionEvent": EventType.TRANSACTION, "TransformationEvent": EventType.TRANSFORMATION,
               "AssociationEvent": EventType.ASSOCIATION}
LIST_ROLES = (("epcList", "e"), ("childEPCs", "c"), ("inputEPCList", "i"), ("outputEPCList", "o"))
FLUSH_EPCS = 100_000
FLUSH_EVENTS = 20_000
MAX_ERRORS = 1000
CAPTURE_LOCK = 74_010_005  # pg_advisory_xact_lock key: one capture writes at a time


@dataclass
class Prepared:
    index: int
    key: str  # the eventID: as sent, else the event hash
    row: list  # event columns without id
    epcs: list[tuple[str, str]]
    time_key: str
    declaration: tuple | None = None  # (declarationTime, reason) of an error declaration


@dataclass
class Result:
    received: int = 0
    stored: int = 0
    duplicates: int = 0
    declared: int = 0  # error declarations attached to stored events
    epc_events: int = 0
    errors: list = field(default_factory=list)
    context: list = field(default_factory=list)
    document_error: dict | None = None
    event_ids: list = field(default_factory=list)
    sensor_readings: list = field(default_factory=list)  # (device or place, row) from sensorElementList


class Resolver:
    """Product and batch look-ups for commissioning events, cached for the capture."""

    def __init__(self):
        self.products = {}
        for pid, gtin, nmpa in Product.objects.values_list("id", "gtin", "nmpa_code"):
            if gtin:
                self.products["01/" + gtin] = pid
            if nmpa:
                self.products["nmpa/" + nmpa] = pid
        self.batches = {(b, lot): bid for bid, b, lot in Batch.objects.values_list("id", "product_id", "lot")}

    def batch_for(self, epc: str, lot: str | None) -> tuple[int | None, bool]:
        """(batch id, whether the product is known)."""
        key = product_key(epc)
        pid = self.products.get(key) if key else None
        if pid is None:
            return None, False
        return self.batches.get((pid, lot)), True


def _utc_text(dt: datetime.datetime) -> str:
    return str(dt.astimezone(datetime.UTC).replace(tzinfo=None))


def _lot_of(event) -> str | None:
    ilmd = event.get("ilmd")
    if not isinstance(ilmd, dict):
        return None
    for key in ("cbvmda:lotNumber", "lotNumber", "urn:epcglobal:cbv:mda:lotNumber"):
        value = ilmd.get(key)
        if isinstance(value, str):
            return value.strip()
    return None


def prepare_event(event: dict, raw: bytes, index: int, prefixes: dict, resolver: Resolver, now_text: str,
                  pg: bool, declared: dict | None = None, record_time: str = "") -> Prepared:
    """Validate and flatten one event; raises schema.EventInvalid naming the field."""
    schema.validate_event(event)
    etype = EVENT_TYPES.get(event.get("type"))
    if etype is None:
        raise schema.EventInvalid("type", f"不支持的事件类型 {event.get('type')!r}")
    local = prefixes
    if "@context" in event:
        local = {**prefixes, **context_prefixes(event["@context"])}
        declared = {**(declared or {}), **declared_prefixes(event["@context"])}
    try:
        when = parse_time(event["eventTime"])
    except (ValueError, KeyError):
        raise schema.EventInvalid("eventTime", "eventTime 不是带时区的有效时间") from None
    terms = {}
    for name in ("bizStep", "disposition"):
        value = event.get(name)
        if value is not None:
            try:
                terms[name] = normalize_term(name, value, local)
            except VocabularyError as exc:
                raise schema.EventInvalid(name, str(exc)) from None
    for name, vocab in (("bizTransactionList", "bizTransactionType"), ("sourceList", "sourceDestType"),
                        ("destinationList", "sourceDestType")):
        for i, item in enumerate(event.get(name) or ()):
            if "type" in item:
                try:
                    normalize_term(vocab, item["type"], local)
                except VocabularyError as exc:
                    raise schema.EventInvalid(f"{name}[{i}].type", str(exc)) from None
    epcs = []
    normalized = {}
    for name, role in LIST_ROLES:
        values = event.get(name)
        if values:
            norm = normalized[name] = [normalize_epc(v) for v in values]
            epcs.extend(zip(norm, [role] * len(norm), strict=True))
    # bare 20-digit codes are not URIs (the schema refuses them), so normalized == canonical DL here
    ehash = event_hash(event, declared, normalized)
    own_id = event.get("eventID")
    key = own_id.strip() if isinstance(own_id, str) and own_id.strip() else ehash
    if len(key) > 200:
        raise schema.EventInvalid("eventID", "eventID 不能超过200个字符")
    declaration = _declaration(event)
    parent = event.get("parentID")
    parent_norm = normalize_epc(parent) if parent else ""
    if parent_norm:
        epcs.append((parent_norm, "p"))
    source_loc = dest_loc = dest_owner = ""
    for item in event.get("sourceList") or ():
        if item.get("type", "").endswith("location"):
            source_loc = canonical_dl(item.get("source", ""))
    for item in event.get("destinationList") or ():
        t = item.get("type", "")
        if t.endswith("location"):
            dest_loc = canonical_dl(item.get("destination", ""))
        elif t.endswith("owning_party"):
            dest_owner = canonical_dl(item.get("destination", ""))
    batch_id = None
    if terms.get("bizStep") == "commissioning" and epcs:
        lot = _lot_of(event)
        batch_id, known = resolver.batch_for(epcs[0][0], lot)
        if known and batch_id is None:
            raise schema.EventInvalid("ilmd.lotNumber", f"批号 {lot!r} 未在本平台登记（请先登记批次）")
    read_point = (event.get("readPoint") or {}).get("id", "")
    biz_location = (event.get("bizLocation") or {}).get("id", "")
    event_time = when if pg else _utc_text(when)
    row = [
        ehash, key, int(etype), event.get("action", ""), event_time,
        event.get("eventTimeZoneOffset", ""), now_text, terms.get("bizStep", ""), terms.get("disposition", ""),
        canonical_dl(read_point) if read_point else "", canonical_dl(biz_location) if biz_location else "",
        parent_norm, source_loc, dest_loc, dest_owner, batch_id, len(epcs) - (1 if parent_norm else 0),
        _body(event, raw, key, record_time),
    ]
    return Prepared(index, key, row, epcs, _utc_text(when), declaration)


def _body(event: dict, raw: bytes | None, key: str, record_time: str) -> str:
    """The event as stored and returned: as sent, with the repository's ``recordTime`` (EPCIS 2.0 §7.3.1:
    set by the repository, a sent value is replaced) and the ``eventID`` it is stored under."""
    if raw is not None and "recordTime" not in event:
        head = orjson.dumps({"eventID": key, "recordTime": record_time} if "eventID" not in event
                            else {"recordTime": record_time})
        return (head[:-1] + b"," + raw.lstrip()[1:]).decode("utf-8")
    return orjson.dumps({**event, "eventID": key, "recordTime": record_time}).decode()


def _declaration(event: dict) -> tuple | None:
    """(declarationTime as stored, reason) of an event's errorDeclaration, or None."""
    err = event.get("errorDeclaration")
    if not isinstance(err, dict):
        return None
    try:
        when = parse_time(err["declarationTime"])
    except (KeyError, TypeError, ValueError):
        raise schema.EventInvalid("errorDeclaration.declarationTime", "declarationTime 不是带时区的有效时间") from None
    reason = err.get("reason")
    if reason is not None:
        try:
            reason = normalize_term("errorReason", str(reason), STANDARD_PREFIXES)
        except VocabularyError as exc:
            raise schema.EventInvalid("errorDeclaration.reason", str(exc)) from None
    return when, reason


EVENT_COLUMNS = ("event_hash", "event_id", "type", "action", "event_time", "tz_offset", "record_time", "biz_step",
                 "disposition", "read_point", "biz_location", "parent_epc", "source_location", "dest_location",
                 "dest_owner", "batch_id", "epc_count", "body", "id", "capture_id", "organisation_id_ref")
BIZ_STEP = EVENT_COLUMNS.index("biz_step")  # position in Prepared.row


class Writer:
    """Batched writes of events and their EPC rows, then rules and state for the id range."""

    def __init__(self, *, capture_id: int, organisation_id: int | None):
        self.pg = connection.vendor == "postgresql"
        self.capture_id = capture_id
        self.organisation_id = organisation_id
        with connection.cursor() as cur:
            if self.pg:
                cur.execute("SELECT pg_advisory_xact_lock(%s)", [CAPTURE_LOCK])
            else:  # a 64 MiB page cache for the index maintenance of large captures (this connection)
                cur.execute("PRAGMA cache_size = -65536")
            cur.execute("SELECT COALESCE(MAX(id), 0) FROM trace_event")
            self.next_id = cur.fetchone()[0] + 1
        self.seen: set[str] = set()
        self.now = timezone.now() if self.pg else _utc_text(timezone.now())

    def flush(self, batch: list[Prepared], result: Result) -> None:
        if not batch:
            return
        declarations = [p for p in batch if p.declaration is not None]
        if declarations:
            batch = [p for p in batch if p.declaration is None]
        self._store(batch, result)
        if declarations:
            self._declare(declarations, result)

    def _store(self, batch: list[Prepared], result: Result) -> None:
        """New events; one already stored under the same eventID (or, without one, the same hash) is a
        duplicate and is not stored again."""
        fresh = []
        for p in batch:
            if p.key in self.seen:
                result.duplicates += 1
            else:
                self.seen.add(p.key)
                fresh.append(p)
        existing = self._existing([p.key for p in fresh])
        if existing:
            result.duplicates += sum(1 for p in fresh if p.key in existing)
            fresh = [p for p in fresh if p.key not in existing]
        if not fresh:
            return
        fresh.sort(key=lambda p: p.time_key)  # ids follow event time inside a flush (state SQL relies on it)
        lo = self.next_id
        event_rows, epc_rows, twice = [], [], []
        commissioned: set[str] = set()
        for p in fresh:
            eid = self.next_id
            self.next_id += 1
            event_rows.append((*p.row, eid, self.capture_id, self.organisation_id))
            epc_rows.extend((eid, epc, role) for epc, role in p.epcs)
            result.event_ids.append(eid)
            if p.row[BIZ_STEP] == "commissioning":  # the same code commissioned twice inside this flush
                for epc, role in p.epcs:
                    if role == "e":
                        if epc in commissioned:
                            twice.append((eid, epc, "commissioned_twice", "该码此前已激活", self.now))
                        commissioned.add(epc)
        hi = self.next_id - 1
        self.write_rows("trace_event", EVENT_COLUMNS, event_rows)
        self.write_epc_rows(epc_rows)
        result.stored += len(fresh)
        result.epc_events += len(epc_rows)
        if twice:
            write_rows("trace_ruleflag", ("event_id_ref", "epc", "rule", "detail", "created_at"), twice)
        if self.pg and len(epc_rows) >= 20_000:
            # fresh statistics after a large load, or the planner keeps the plans of a near-empty table
            with connection.cursor() as cur:
                cur.execute("ANALYZE trace_event, trace_eventepc, trace_codestate")
        apply_rules_and_state(lo, hi)

    def _declare(self, batch: list[Prepared], result: Result) -> None:
        """Error declarations (EPCIS 2.0 §7.4.1.4): the declared event — same eventID, captured by the same
        organisation — gets the errorDeclaration and stops counting for the state of its codes (which is
        rebuilt from the remaining events). A declaration of an event not stored here is kept as an
        event of its own, with the declaration, and changes no state."""
        keys = [p.key for p in batch]
        found: dict[str, tuple] = {}
        with connection.cursor() as cur:
            for i in range(0, len(keys), 500):
                chunk = keys[i:i + 500]
                cur.execute("SELECT event_id, id, error_declared_at, organisation_id_ref FROM trace_event "  # noqa: S608
                            f"WHERE event_id IN ({','.join(['%s'] * len(chunk))}) ORDER BY id", chunk)
                for key, pk, declared_at, org in cur.fetchall():
                    if self.organisation_id is None or org == self.organisation_id:
                        found.setdefault(key, (pk, declared_at))
        loose = []
        for p in batch:
            when, reason = p.declaration
            when = when if self.pg else _utc_text(when)
            hit = found.get(p.key)
            if hit is None:
                if p.key in self.seen:
                    result.duplicates += 1
                    continue
                self.seen.add(p.key)
                loose.append((p, when, reason))
            elif hit[1] is not None:
                result.duplicates += 1
            else:
                with connection.cursor() as cur:
                    cur.execute("UPDATE trace_event SET body = %s, error_declared_at = %s, error_reason = %s "
                                "WHERE id = %s", [p.row[-1], when, reason, hit[0]])
                found[p.key] = (hit[0], when)
                revert_state(hit[0])
                result.declared += 1
        if loose:
            rows, epc_rows = [], []
            for p, when, reason in loose:
                eid = self.next_id
                self.next_id += 1
                rows.append((*p.row, eid, self.capture_id, self.organisation_id, when, reason))
                epc_rows.extend((eid, epc, role) for epc, role in p.epcs)
                result.event_ids.append(eid)
            self.write_rows("trace_event", (*EVENT_COLUMNS, "error_declared_at", "error_reason"), rows)
            self.write_epc_rows(epc_rows)
            result.stored += len(rows)
            result.epc_events += len(epc_rows)

    def _existing(self, keys: list[str]) -> set[str]:
        found = set()
        with connection.cursor() as cur:
            for i in range(0, len(keys), 500):
                chunk = keys[i:i + 500]
                cur.execute(f"SELECT event_id FROM trace_event WHERE event_id IN ({','.join(['%s'] * len(chunk))})",  # noqa: S608 (table/column names and flag bits are constants)
                            chunk)
                found.update(r[0] for r in cur.fetchall())
        return found

    def write_rows(self, table: str, columns: tuple[str, ...], rows: list[tuple]) -> None:
        write_rows(table, columns, rows)

    def write_epc_rows(self, rows: list[tuple]) -> None:
        write_epc_rows(rows)


def write_rows(table: str, columns, rows) -> None:
    if not rows:
        return
    with connection.cursor() as cur:
        if connection.vendor == "postgresql":
            with cur.cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
        else:  # the sqlite3 cursor itself: Django's wrapper re-formats every parameter tuple
            marks = ", ".join(["?"] * len(columns))
            cur.cursor.executemany(f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})", rows)  # noqa: S608


def write_epc_rows(rows, table: str = "trace_eventepc") -> None:
    if not rows:
        return
    with connection.cursor() as cur:
        if connection.vendor == "postgresql":
            text = "".join(f"{eid}\t{epc}\t{role}\n" for eid, epc, role in rows)
            if "\\" in text:  # COPY text format: escape backslashes (tabs/newlines cannot occur in a URI)
                text = "".join(f"{eid}\t{epc.replace(chr(92), chr(92) * 2)}\t{role}\n" for eid, epc, role in rows)
            with cur.cursor.copy(f"COPY {table} (event_id, epc, role) FROM STDIN") as copy:
                copy.write(text.encode())
        else:
            cur.cursor.executemany(f"INSERT INTO {table} (event_id, epc, role) VALUES (?, ?, ?)", rows)  # noqa: S608 (table/column names and flag bits are constants)


# Business rules (业务规则) on the events of one id range, against what was known before — they flag,
# never reject: what really happened is stored.
RULES_SQL = [
    # commissioning a code that was already commissioned before this range (inside the range: Writer.flush)
    """INSERT INTO trace_ruleflag (event_id_ref, epc, rule, detail, created_at)
       WITH r AS MATERIALIZED (
           SELECT e.id, ee.epc FROM trace_event e JOIN trace_eventepc ee ON ee.event_id = e.id
           WHERE e.id BETWEEN %(lo)s AND %(hi)s AND e.biz_step = 'commissioning' AND ee.role = 'e')
       SELECT r.id, r.epc, 'commissioned_twice', '该码此前已激活', %(now)s
       FROM r JOIN trace_codestate s ON s.epc = r.epc
       WHERE s.commissioned_at IS NOT NULL""",
    # receiving a code whose last shipping/receiving step was not a shipping
    """INSERT INTO trace_ruleflag (event_id_ref, epc, rule, detail, created_at)
       WITH r AS MATERIALIZED (
           SELECT e.id, e.event_time, ee.epc FROM trace_event e JOIN trace_eventepc ee ON ee.event_id = e.id
           WHERE e.id BETWEEN %(lo)s AND %(hi)s AND e.biz_step = 'receiving' AND ee.role = 'e'),
       h AS MATERIALIZED (
           SELECT r.id AS rid, xe.id, xe.event_time, xe.biz_step
           FROM r JOIN trace_eventepc x ON x.epc = r.epc JOIN trace_event xe ON xe.id = x.event_id
           WHERE xe.biz_step || '' IN ('shipping', 'receiving')
             AND (xe.event_time < r.event_time OR (xe.event_time = r.event_time AND xe.id < r.id)))
       SELECT r.id, r.epc, 'received_not_shipped', '收货前没有发货记录', %(now)s
       FROM r
       WHERE COALESCE((SELECT h.biz_step FROM h WHERE h.rid = r.id
                       ORDER BY h.event_time DESC, h.id DESC LIMIT 1), '') <> 'shipping'""",
    # shipping from a place the code is not at (source location ≠ its current location before this range)
    """INSERT INTO trace_ruleflag (event_id_ref, epc, rule, detail, created_at)
       SELECT e.id, ee.epc, 'shipped_elsewhere', '发货地点与该码所在地点不符', %(now)s
       FROM trace_eventepc ee JOIN trace_event e ON e.id = ee.event_id
       JOIN trace_codestate s ON s.epc = ee.epc
       WHERE e.id BETWEEN %(lo)s AND %(hi)s AND ee.event_id BETWEEN %(lo)s AND %(hi)s AND ee.role = 'e'
         AND e.biz_step = 'shipping' AND e.source_location <> ''
         AND s.biz_location IS NOT NULL AND s.biz_location <> e.source_location""",
    # dispensing (接种) an expired, recalled or temperature-questioned dose
    """INSERT INTO trace_ruleflag (event_id_ref, epc, rule, detail, created_at)
       SELECT e.id, ee.epc, 'dispensed_expired', '产品已过有效期', %(now)s
       FROM trace_eventepc ee JOIN trace_event e ON e.id = ee.event_id
       JOIN trace_codestate s ON s.epc = ee.epc JOIN trace_batch b ON b.id = s.batch_id
       WHERE e.id BETWEEN %(lo)s AND %(hi)s AND ee.event_id BETWEEN %(lo)s AND %(hi)s AND ee.role = 'e'
         AND (e.biz_step = 'dispensing' OR e.disposition = 'dispensed') AND b.expiry_date < e.event_time""",
    f"""INSERT INTO trace_ruleflag (event_id_ref, epc, rule, detail, created_at)
       SELECT e.id, ee.epc, 'dispensed_recalled', '该批次已召回', %(now)s
       FROM trace_eventepc ee JOIN trace_event e ON e.id = ee.event_id
       JOIN trace_codestate s ON s.epc = ee.epc
       WHERE e.id BETWEEN %(lo)s AND %(hi)s AND ee.event_id BETWEEN %(lo)s AND %(hi)s AND ee.role = 'e'
         AND (e.biz_step = 'dispensing' OR e.disposition = 'dispensed') AND (s.flags & {FLAG_RECALLED}) = {FLAG_RECALLED}""",  # noqa: S608 (constant flag bits)
    f"""INSERT INTO trace_ruleflag (event_id_ref, epc, rule, detail, created_at)
       SELECT e.id, ee.epc, 'dispensed_in_question', '该剂次温度存疑未放行', %(now)s
       FROM trace_eventepc ee JOIN trace_event e ON e.id = ee.event_id
       JOIN trace_codestate s ON s.epc = ee.epc
       WHERE e.id BETWEEN %(lo)s AND %(hi)s AND ee.event_id BETWEEN %(lo)s AND %(hi)s AND ee.role = 'e'
         AND (e.biz_step = 'dispensing' OR e.disposition = 'dispensed') AND (s.flags & {FLAG_IN_QUESTION}) = {FLAG_IN_QUESTION}""",  # noqa: S608 (constant flag bits)
    # one child in two parents: packed while still in another container
    """INSERT INTO trace_ruleflag (event_id_ref, epc, rule, detail, created_at)
       WITH r AS MATERIALIZED (
           SELECT e.id, e.parent_epc, ee.epc FROM trace_event e JOIN trace_eventepc ee ON ee.event_id = e.id
           WHERE e.id BETWEEN %(lo)s AND %(hi)s AND e.type = 2 AND e.action = 'ADD' AND ee.role = 'c')
       SELECT r.id, r.epc, 'two_parents', '该码已在另一个容器中：' || s.container, %(now)s
       FROM r JOIN trace_codestate s ON s.epc = r.epc
       WHERE s.container IS NOT NULL AND s.container <> '' AND s.container <> r.parent_epc""",
]

# Current state per code from the events of one id range (ids follow event time inside the range):
# the last non-empty location/disposition/owner, the container from the last aggregation naming the code
# as a child ('' = unpacked), the batch from commissioning. Older events never overwrite newer state.
STATE_SQL = f"""
INSERT INTO trace_codestate (epc, batch_id, product_key, container, biz_location, read_point, disposition, owner,
                             biz_step, last_event_id, last_event_time, commissioned_at, flags)
WITH g AS MATERIALIZED (SELECT ee.epc, MAX(e.id) AS last_id,
             MAX(CASE WHEN e.biz_location <> '' THEN e.id END) AS loc_id,
             MAX(CASE WHEN e.disposition <> '' THEN e.id END) AS disp_id,
             MAX(CASE WHEN e.dest_owner <> '' THEN e.id END) AS owner_id,
             MAX(CASE WHEN ee.role = 'c' THEN e.id END) AS cont_id,
             MIN(CASE WHEN e.biz_step = 'commissioning' AND ee.role = 'e' THEN e.id END) AS comm_id
      FROM trace_eventepc ee JOIN trace_event e ON e.id = ee.event_id
      WHERE ee.event_id BETWEEN %(lo)s AND %(hi)s AND e.id BETWEEN %(lo)s AND %(hi)s
      GROUP BY ee.epc)
SELECT g.epc,
       CASE WHEN g.comm_id IS NULL THEN NULL WHEN g.comm_id = g.last_id THEN le.batch_id
            ELSE (SELECT batch_id FROM trace_event WHERE id = g.comm_id) END,
       CASE WHEN g.epc LIKE 'https://id.gs1.org/01/%%' THEN substr(g.epc, 20, 17)
            WHEN g.epc LIKE 'urn:nmpa:tc:%%' THEN 'nmpa/' || substr(g.epc, 13, 7) ELSE '' END,
       CASE WHEN g.cont_id IS NULL THEN NULL
            WHEN g.cont_id = g.last_id THEN CASE WHEN le.action = 'DELETE' THEN '' ELSE le.parent_epc END
            ELSE (SELECT CASE WHEN action = 'DELETE' THEN '' ELSE parent_epc END FROM trace_event
                  WHERE id = g.cont_id) END,
       CASE WHEN g.loc_id IS NULL THEN NULL WHEN g.loc_id = g.last_id THEN le.biz_location
            ELSE (SELECT biz_location FROM trace_event WHERE id = g.loc_id) END,
       le.read_point,
       CASE WHEN g.disp_id IS NULL THEN NULL WHEN g.disp_id = g.last_id THEN le.disposition
            ELSE (SELECT disposition FROM trace_event WHERE id = g.disp_id) END AS disp,
       CASE WHEN g.owner_id IS NULL THEN NULL WHEN g.owner_id = g.last_id THEN le.dest_owner
            ELSE (SELECT dest_owner FROM trace_event WHERE id = g.owner_id) END,
       le.biz_step, le.id, le.event_time,
       CASE WHEN g.comm_id IS NULL THEN NULL WHEN g.comm_id = g.last_id THEN le.event_time
            ELSE (SELECT event_time FROM trace_event WHERE id = g.comm_id) END,
       CASE (CASE WHEN g.disp_id IS NULL THEN NULL WHEN g.disp_id = g.last_id THEN le.disposition
                  ELSE (SELECT disposition FROM trace_event WHERE id = g.disp_id) END)
            WHEN 'recalled' THEN {FLAG_RECALLED} WHEN 'dispensed' THEN {FLAG_ADMINISTERED}
            WHEN 'destroyed' THEN {FLAG_DESTROYED} ELSE 0 END
FROM g
JOIN trace_event le ON le.id = g.last_id
WHERE 1 = 1
ON CONFLICT (epc) DO UPDATE SET
  batch_id = COALESCE(trace_codestate.batch_id, excluded.batch_id),
  commissioned_at = COALESCE(trace_codestate.commissioned_at, excluded.commissioned_at),
  container = CASE WHEN excluded.container IS NULL OR excluded.last_event_time < trace_codestate.last_event_time
                   THEN trace_codestate.container ELSE excluded.container END,
  biz_location = CASE WHEN excluded.last_event_time >= trace_codestate.last_event_time
                      THEN COALESCE(excluded.biz_location, trace_codestate.biz_location)
                      ELSE COALESCE(trace_codestate.biz_location, excluded.biz_location) END,
  disposition = CASE WHEN excluded.last_event_time >= trace_codestate.last_event_time
                     THEN COALESCE(excluded.disposition, trace_codestate.disposition)
                     ELSE COALESCE(trace_codestate.disposition, excluded.disposition) END,
  owner = CASE WHEN excluded.last_event_time >= trace_codestate.last_event_time
               THEN COALESCE(excluded.owner, trace_codestate.owner)
               ELSE COALESCE(trace_codestate.owner, excluded.owner) END,
  read_point = CASE WHEN excluded.last_event_time >= trace_codestate.last_event_time
                    THEN excluded.read_point ELSE trace_codestate.read_point END,
  biz_step = CASE WHEN excluded.last_event_time >= trace_codestate.last_event_time
                  THEN excluded.biz_step ELSE trace_codestate.biz_step END,
  last_event_id = CASE WHEN excluded.last_event_time >= trace_codestate.last_event_time
                       THEN excluded.last_event_id ELSE trace_codestate.last_event_id END,
  last_event_time = CASE WHEN excluded.last_event_time >= trace_codestate.last_event_time
                         THEN excluded.last_event_time ELSE trace_codestate.last_event_time END,
  flags = trace_codestate.flags | excluded.flags
"""  # noqa: S608 (flag bits are constants)

# An aggregation DELETE without childEPCs unpacks everything in the parent (EPCIS 2.0 §7.4.3); the
# contents are then where the unpacking happened.
UNPACK_ALL_SQL = """
WITH p AS MATERIALIZED (
    SELECT parent_epc, MAX(biz_location) AS place FROM trace_event
    WHERE id BETWEEN %(lo)s AND %(hi)s AND type = 2 AND action = 'DELETE' AND epc_count = 0
    GROUP BY parent_epc)
UPDATE trace_codestate SET
  container = '',
  biz_location = COALESCE((SELECT NULLIF(p.place, '') FROM p WHERE p.parent_epc = trace_codestate.container),
                          biz_location)
WHERE container IN (SELECT parent_epc FROM p)
"""


def apply_rules_and_state(lo: int, hi: int) -> None:
    """Run the rules, the per-code state and the unpacking over events ``lo``..``hi`` (to time the
    statements, run the capture benchmark under a profiler — nothing here measures itself)."""
    now = timezone.now() if connection.vendor == "postgresql" else _utc_text(timezone.now())
    params = {"lo": lo, "hi": hi, "now": now}
    with connection.cursor() as cur:
        for sql in (*RULES_SQL, STATE_SQL, UNPACK_ALL_SQL):
            cur.execute(sql, params)

# STATE_SQL for one event and only the codes of a declared event (the replay of revert_state)
_REPLAY_SQL = STATE_SQL.replace(
    "WHERE ee.event_id BETWEEN %(lo)s AND %(hi)s AND e.id BETWEEN %(lo)s AND %(hi)s",
    "WHERE ee.event_id BETWEEN %(lo)s AND %(hi)s AND e.id BETWEEN %(lo)s AND %(hi)s"
    " AND ee.epc IN (SELECT epc FROM trace_eventepc WHERE event_id = %(declared)s)", 1)
_STATE_FLAGS = FLAG_RECALLED | FLAG_ADMINISTERED | FLAG_DESTROYED


def revert_state(declared_pk: int) -> None:
    """Undo what an event declared in error did: its rule flags go, and the state of each of its codes
    is rebuilt by replaying the code's other events (not declared in error) in time order. Flags that do
    not come from events (a dose in question after a cold-chain alert) are kept."""
    assert _REPLAY_SQL != STATE_SQL
    now = timezone.now() if connection.vendor == "postgresql" else _utc_text(timezone.now())
    with connection.cursor() as cur:
        cur.execute("DELETE FROM trace_ruleflag WHERE event_id_ref = %s", [declared_pk])
        cur.execute("SELECT s.epc, s.flags FROM trace_codestate s WHERE s.epc IN "
                    "(SELECT epc FROM trace_eventepc WHERE event_id = %s)", [declared_pk])
        kept = {epc: flags & ~_STATE_FLAGS for epc, flags in cur.fetchall()}
        cur.execute("DELETE FROM trace_codestate WHERE epc IN (SELECT epc FROM trace_eventepc WHERE event_id = %s)",
                    [declared_pk])
        cur.execute("SELECT DISTINCT e.id, e.event_time FROM trace_event e JOIN trace_eventepc ee ON ee.event_id = e.id "
                    "WHERE ee.epc IN (SELECT epc FROM trace_eventepc WHERE event_id = %s) "
                    "AND e.error_declared_at IS NULL ORDER BY e.event_time, e.id", [declared_pk])
        replay = [row[0] for row in cur.fetchall()]
        for pk in replay:
            cur.execute(_REPLAY_SQL, {"lo": pk, "hi": pk, "now": now, "declared": declared_pk})
            cur.execute(UNPACK_ALL_SQL, {"lo": pk, "hi": pk, "now": now})
        for epc, flags in kept.items():
            if flags:
                cur.execute("UPDATE trace_codestate SET flags = flags | %s WHERE epc = %s", [flags, epc])


class RollbackCapture(Exception):
    def __init__(self, result: Result):
        super().__init__("capture rolled back")
        self.result = result


def run_capture(chunks: Iterable[bytes], *, capture_id: int, organisation_id: int | None, proceed: bool,
                progress=None) -> Result:
    """Capture a document given as byte chunks inside the caller's transaction. In rollback mode any
    invalid event raises RollbackCapture (after every event was checked, so all errors are reported)."""
    result = Result()
    stream = EventStream(chunks, max_pending=settings.TRACE_MAX_EVENT_BYTES)
    writer = Writer(capture_id=capture_id, organisation_id=organisation_id)
    resolver = Resolver()
    pg = writer.pg
    now = timezone.now()
    now_text = now if pg else _utc_text(now)
    record_time = now.astimezone(datetime.UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    prefixes = declared = None
    waiting: list[bytes] | None = None  # events read before a @context that comes after epcisBody
    pending: list[Prepared] = []
    pending_epcs = 0
    failed = False

    def events():
        nonlocal prefixes, declared, waiting
        for raw in stream:
            if prefixes is None and waiting is None:
                header = stream.header_so_far()
                if "@context" in header:
                    prefixes, declared = _prefixes(header, result)
                else:  # JSON objects are unordered: hold the events until the header is complete
                    waiting = []
            if waiting is not None:
                waiting.append(raw)
            else:
                yield raw
        if waiting is not None:
            prefixes, declared = _prefixes(stream.header(), result)
            yield from waiting

    try:
        for index, raw in enumerate(events()):
            result.received += 1
            try:
                event = orjson.loads(raw)
                prepared = prepare_event(event, raw, index, prefixes, resolver, now_text, pg, declared, record_time)
            except orjson.JSONDecodeError as exc:
                failed = True
                _add_error(result, index, None, "", f"事件不是有效的JSON：{exc}")
                continue
            except schema.EventInvalid as exc:
                failed = True
                _add_error(result, index, event, exc.field, exc.message)
                continue
            if failed and not proceed:
                continue  # keep checking, stop writing: everything will be rolled back
            if "sensorElementList" in event:
                result.sensor_readings.extend(readings_from_sensor_elements(event))
            pending.append(prepared)
            pending_epcs += len(prepared.epcs)
            if pending_epcs >= FLUSH_EPCS or len(pending) >= FLUSH_EVENTS:
                writer.flush(pending, result)
                if progress:
                    progress(pending_epcs)
                pending, pending_epcs = [], 0
        header = stream.header()
    except DocumentError as exc:
        result.document_error = {"field": "", "message": str(exc)}
        raise RollbackCapture(result) from None
    _check_header(header, result)
    if result.document_error or (failed and not proceed):
        raise RollbackCapture(result)
    writer.flush(pending, result)
    if progress:
        progress(pending_epcs)
    return result


def _prefixes(header: dict, result: Result) -> tuple[dict, dict]:
    """(all prefixes for CURIEs in vocabulary values, the ones the document itself declares for the hash)."""
    context = header.get("@context", [])
    result.context = _context_list(header.get("@context"))
    return context_prefixes(context), declared_prefixes(context)


def _context_list(context) -> list:
    if context is None:
        return []
    return context if isinstance(context, list) else [context]


def _check_header(header: dict, result: Result) -> None:
    if header.get("type") == "EPCISQueryDocument":  # a query result captured as it is (EPCIS 2.0 §8.2.8)
        body = header.get("epcisBody")
        results = body.get("queryResults") if isinstance(body, dict) else None
        if not isinstance(results, dict) or not isinstance(results.get("resultsBody"), dict) \
                or "eventList" not in results["resultsBody"]:
            result.document_error = {"field": "epcisBody.queryResults.resultsBody.eventList",
                                     "message": "缺少 epcisBody.queryResults.resultsBody.eventList"}
        elif not isinstance(header.get("@context"), (list, str, dict)):
            result.document_error = {"field": "@context", "message": "缺少 @context"}
        return
    if header.get("type") != "EPCISDocument":
        result.document_error = {"field": "type", "message": "文档类型应为 EPCISDocument 或 EPCISQueryDocument"}
        return
    if not isinstance(header.get("epcisBody"), dict) or "eventList" not in header["epcisBody"]:
        result.document_error = {"field": "epcisBody.eventList", "message": "缺少 epcisBody.eventList"}
        return
    try:
        schema.document_validator()(header)
    except schema.fastjsonschema.JsonSchemaValueException as exc:
        result.document_error = {"field": schema.error_field(exc), "message": exc.message}


def _add_error(result: Result, index: int, event, field_name: str, message: str) -> None:
    if len(result.errors) >= MAX_ERRORS:
        return
    event_id = event.get("eventID") if isinstance(event, dict) else None
    result.errors.append({"event": index, "eventID": event_id, "field": field_name, "message": message})

# (``biz_step || ''`` in the history look-ups keeps planners on the (epc, event_id) index: a code has a
# handful of events, a step has millions.)
