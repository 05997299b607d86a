"""The EPCIS 2.0 JSON schemas (gs1/EPCIS, JSON-Schema/), compiled once with fastjsonschema; their
cross-file ``$ref``s resolve to the copies shipped in ``trace/data/epcis`` (never the network)."""

import json
import re
from functools import cache
from pathlib import Path

import fastjsonschema

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
    probe = event
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
