"""The EPCIS 2.0 JSON schemas (gs1/EPCIS, JSON-Schema/), compiled once with fastjsonschema; their
cross-file ``$ref``s resolve to the copies shipped in ``trace/data/epcis`` (never the network)."""

import json
import re
from functools import cache
from pathlib import Path

import fastjsonschema
from fastjsonschema.draft04 import CodeGeneratorDraft04

from .vocab import vocabularies

ROOT = Path(__file__).resolve().parent.parent / "data" / "epcis" / "JSON-Schema"
BASE = "https://gs1.github.io/EPCIS/JSON-Schema/"


def _load(uri: str):
    if not uri.startswith(BASE):
        raise ValueError(f"schema reference outside the EPCIS schemas: {uri}")
    return json.loads((ROOT / uri[len(BASE):].split("#")[0]).read_text())


def _compile(ref: str):
    schema = {"$id": BASE + "entry.json", "$schema": "http://json-schema.org/draft-07/schema#", "$ref": ref}
    return fastjsonschema.compile(schema, handlers={"https": _load}, formats={"uri": _URI_RE.pattern})


@cache
def event_validator():
    """Validates one event of an EPCISDocument (no @context required on the event itself)."""
    return _compile("EPCIS-Event-JSON-Schema.json#/definitions/EPCIS-Document-Event")


@cache
def document_validator():
    """Validates the document around the events (header, context, body with an empty eventList)."""
    return _compile("EPCIS-Document-JSON-Schema.json#/definitions/epcisDocument")


def error_field(exc: fastjsonschema.JsonSchemaValueException) -> str:
    """``data.epcList[2]`` → ``epcList[2]``: the field a schema error is about."""
    out = ""
    for part in (exc.path or [])[1:]:
        part = str(part)
        out += f"[{part}]" if part.isdigit() else (f".{part}" if out else part)
    return out


# Big EPC lists are checked here item by item with the schema's own rules ("items": {"format": "uri"},
# "uniqueItems": true) in C-speed loops, and the generated validator sees only their first item: the
# same verdict, without the generated code's per-item overhead (≈8 µs per EPC; see docs/trace.md).
EPC_LISTS = ("epcList", "childEPCs", "inputEPCList", "outputEPCList")
_URI_RE = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:[^\s]+\Z")


class EventInvalid(ValueError):
    def __init__(self, field: str, message: str):
        super().__init__(message)
        self.field = field
        self.message = message


def validate_event(event) -> None:
    """Raise EventInvalid(field, message) unless ``event`` is a valid EPCIS 2.0 event."""
    if not isinstance(event, dict):
        raise EventInvalid("", "事件应为JSON对象")
    if fast_valid(event):
        return
    probe = _xsd_allowed(event)
    for name in EPC_LISTS:
        items = event.get(name)
        if isinstance(items, list) and len(items) > 1:
            if probe is event:
                probe = dict(event)
            try:
                ok = all(map(_URI_RE.match, items))
            except TypeError:
                ok = False
            if not ok:
                for i, item in enumerate(items):
                    if not isinstance(item, str) or not _URI_RE.match(item):
                        raise EventInvalid(f"{name}[{i}]", f"{name}[{i}] 不是有效的URI")
            if len(set(items)) != len(items):
                raise EventInvalid(name, f"{name} 中有重复的标识")
            probe[name] = items[:1]
    try:
        event_validator()(probe)
    except fastjsonschema.JsonSchemaValueException as exc:
        raise EventInvalid(error_field(exc), exc.message.replace("data.", "", 1).replace("data ", "事件 ", 1)) from None


def _xsd_allowed(event: dict) -> dict:
    """Two things the EPCIS 2.0 XSD and standard allow and the JSON schema refuses (GS1 XML examples use
    both): ``persistentDisposition`` on every event type (XSD: all five), a sensorReport without ``type``
    (XSD: optional). They are checked here and hidden from the JSON schema."""
    probe = event
    pd = event.get("persistentDisposition")
    if pd is not None and event.get("type") not in ("ObjectEvent", "TransformationEvent"):
        if not isinstance(pd, dict) or not set(pd) <= {"set", "unset"} or not all(
                isinstance(v, list) and all(isinstance(x, str) and x for x in v) for v in pd.values()):
            raise EventInvalid("persistentDisposition", "persistentDisposition 应为 {set: [...], unset: [...]}")
        probe = {k: v for k, v in event.items() if k != "persistentDisposition"}
    sensors = event.get("sensorElementList")
    if isinstance(sensors, list) and any(isinstance(e, dict) and any(isinstance(r, dict) and "type" not in r
                                                                      for r in e.get("sensorReport") or ())
                                         for e in sensors):
        probe = dict(probe, sensorElementList=[
            dict(e, sensorReport=[dict(r, type="Temperature") if isinstance(r, dict) and "type" not in r else r
                                  for r in e.get("sensorReport") or ()]) if isinstance(e, dict) else e
            for e in sensors])
    return probe


# ----------------------------------------------------------------------------------------------------
# Fast path. The generated validator spends ~50–150 µs per event (anyOf branches raise and catch
# exceptions). Most events a supply chain sends have one of a few plain shapes; ``fast_valid`` accepts an
# event only when it has such a shape and every value satisfies the schema's own rules (same regexes,
# same enums). Anything else — extensions, sensor data, quantities, @context — goes to the full
# validator, which also produces the error message. tests/trace/test_schema_fast_path.py checks that
# whatever the fast path accepts, the full validator accepts too.

def _date_time_re():
    return re.compile(CodeGeneratorDraft04.FORMAT_REGEXS["date-time"])


_DATE_TIME = _date_time_re()
_TZ_RE = re.compile(r"^([+]|[-])((0[0-9]|1[0-3]):([0-5][0-9])|14:00)$")
_NOT_CBV_URI = re.compile(r"^(?!(urn:epcglobal:cbv|https?:\/\/ns\.gs1\.org/cbv\/))")
_COMMON = {"type", "eventTime", "eventTimeZoneOffset", "recordTime", "eventID", "action", "bizStep", "disposition",
           "readPoint", "bizLocation", "sourceList", "destinationList", "bizTransactionList"}
_SHAPES = {"ObjectEvent": _COMMON | {"epcList", "ilmd"}, "AggregationEvent": _COMMON | {"parentID", "childEPCs"}}


def _enum_words():
    v = vocabularies()
    return {"bizStep": v["bizStep"][2], "disposition": v["disposition"][2], "sdt": v["sourceDestType"][2],
            "btt": v["bizTransactionType"][2]}


_WORDS = None


def _uri(value) -> bool:
    return isinstance(value, str) and _URI_RE.match(value) is not None


def _term(value, words) -> bool:
    return isinstance(value, str) and (value in words or (_uri(value) and _NOT_CBV_URI.match(value) is not None))


def fast_valid(event: dict) -> bool:
    """True only if the event certainly satisfies the EPCIS 2.0 schema (see above); False means "ask the
    full validator", not "invalid"."""
    global _WORDS
    if _WORDS is None:
        _WORDS = _enum_words()
    kind = event.get("type")
    allowed = _SHAPES.get(kind) if isinstance(kind, str) else None
    if allowed is None or not allowed.issuperset(event):
        return False
    t = event.get("eventTime")
    if not isinstance(t, str) or not _DATE_TIME.match(t):
        return False
    tz = event.get("eventTimeZoneOffset")
    if not isinstance(tz, str) or not _TZ_RE.match(tz):
        return False
    if "recordTime" in event and not (isinstance(event["recordTime"], str) and _DATE_TIME.match(event["recordTime"])):
        return False
    if "eventID" in event and not _uri(event["eventID"]):
        return False
    action = event.get("action")
    if action not in ("OBSERVE", "ADD", "DELETE"):
        return False
    if "bizStep" in event and not _term(event["bizStep"], _WORDS["bizStep"]):
        return False
    if "disposition" in event and not _term(event["disposition"], _WORDS["disposition"]):
        return False
    for name in ("readPoint", "bizLocation"):
        if name in event:
            value = event[name]
            if not isinstance(value, dict) or len(value) != 1 or not _uri(value.get("id")):
                return False
    for name, key in (("sourceList", "source"), ("destinationList", "destination")):
        for item in event.get(name, []) if isinstance(event.get(name, []), list) else [None]:
            if not isinstance(item, dict) or set(item) != {"type", key} or not _uri(item[key]) \
                    or not _term(item["type"], _WORDS["sdt"]):
                return False
    btl = event.get("bizTransactionList", [])
    for item in btl if isinstance(btl, list) else [None]:
        if not isinstance(item, dict) or not _uri(item.get("bizTransaction")) \
                or not {"bizTransaction"} <= set(item) <= {"type", "bizTransaction"} \
                or ("type" in item and not _term(item["type"], _WORDS["btt"])):
            return False
    if event["type"] == "ObjectEvent":
        if not isinstance(event.get("epcList"), list) or not _epcs_ok(event["epcList"]):
            return False
        if "ilmd" in event:
            ilmd = event["ilmd"]
            if not isinstance(ilmd, dict) or not all(_uri(k) for k in ilmd):
                return False
    else:
        if "parentID" in event and not _uri(event["parentID"]):
            return False
        children = event.get("childEPCs")
        if children is None:
            if action != "DELETE":
                return False
        elif not isinstance(children, list) or not _epcs_ok(children) or (not children and action != "DELETE"):
            return False
    return True


def _epcs_ok(items: list) -> bool:
    try:
        return all(map(_URI_RE.match, items)) and len(set(items)) == len(items)
    except TypeError:
        return False
