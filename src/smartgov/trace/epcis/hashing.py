"""The EPCIS event hash ID (CBV 2.0 §8.9, "EPCIS Event Hash ID"): a canonical pre-hash string of the
event's data elements in a fixed order, hashed with SHA-256 and written as an RFC 6920 ``ni`` URI
``ni:///sha-256;<hex>?ver=CBV2.0``. ``eventID``, ``recordTime``, ``certificationInfo`` and
``errorDeclaration`` are not part of it, so a re-sent event gets the same hash whatever its eventID.

Written from the published algorithm description (gs1/EPCIS-Event-Hash-Generator README) and checked
against its example vectors in tests/trace/test_hashing.py.
"""

import datetime
import hashlib
from functools import lru_cache

from ..codes import canonical_dl, location_dl
from .vocab import expand_curie, term_uri

# (field, kind) in canonical property order; kinds: s = scalar, t = timestamp, e = list of EPCs,
# v:<vocab> = vocabulary term, q = quantity list, id = {id: …} object, btl/src/dst = typed lists
ORDER = (
    ("eventTime", "t"), ("eventTimeZoneOffset", "s"), ("epcList", "e"), ("parentID", "epc"),
    ("inputEPCList", "e"), ("childEPCs", "e"), ("quantityList", "q"), ("childQuantityList", "q"),
    ("inputQuantityList", "q"), ("outputEPCList", "e"), ("outputQuantityList", "q"), ("action", "s"),
    ("transformationID", "s"), ("bizStep", "v:bizStep"), ("disposition", "v:disposition"),
    ("persistentDisposition", "pd"), ("readPoint", "id"), ("bizLocation", "id"),
    ("bizTransactionList", "btl"), ("sourceList", "src"), ("destinationList", "dst"),
    ("sensorElementList", "sensor"), ("ilmd", "ext"),
)
KNOWN = {name for name, _ in ORDER} | {"type", "eventID", "recordTime", "certificationInfo",
                                        "errorDeclaration", "@context", "isA"}
METADATA_ORDER = ("time", "startTime", "endTime", "deviceID", "deviceMetadata", "rawData",
                  "dataProcessingMethod", "bizRules")
REPORT_ORDER = ("type", "exception", "deviceID", "deviceMetadata", "rawData", "dataProcessingMethod", "time",
                "microorganism", "chemicalSubstance", "value", "component", "stringValue", "booleanValue",
                "hexBinaryValue", "uriValue", "minValue", "maxValue", "meanValue", "sDev", "percRank",
                "percValue", "uom", "coordinateReferenceSystem")
_URI_FIELDS = {"deviceID", "deviceMetadata", "rawData", "dataProcessingMethod", "bizRules", "microorganism",
               "chemicalSubstance", "uriValue"}


@lru_cache(maxsize=65536)
def utc_millis(value: str) -> str:
    """A timestamp in UTC with millisecond precision, ``YYYY-MM-DDTHH:MM:SS.sssZ`` (rules 8–9)."""
    dt = parse_time(value).astimezone(datetime.UTC)
    micro = dt.microsecond
    millis = (micro + 500) // 1000  # round half up at the 4th decimal
    if millis == 1000:
        dt = dt.replace(microsecond=0) + datetime.timedelta(seconds=1)
        millis = 0
    return dt.strftime("%Y-%m-%dT%H:%M:%S") + f".{millis:03d}Z"


def parse_time(value: str) -> datetime.datetime:
    text = value.strip()
    if text.endswith(("Z", "z")):
        text = text[:-1] + "+00:00"
    dt = datetime.datetime.fromisoformat(text)
    if dt.tzinfo is None:
        raise ValueError("时间缺少时区")
    return dt


def _num(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if value.is_integer():
            return str(int(value))
        return repr(value)
    text = str(value).strip()
    return text


def _val(value, prefixes) -> str:
    if isinstance(value, str):
        value = value.strip()
        if value.startswith(("urn:epc:", "http://", "https://")):
            return location_dl(value)
        if value.startswith("urn:epcglobal:cbv:"):
            return value
        return expand_curie(value, prefixes)
    return _num(value)


def _epcs(values, normalized=None) -> str:
    if normalized is not None:  # already in canonical Digital Link form (the capture computed it)
        return "epc=" + "epc=".join(sorted(normalized))
    return "".join("epc=" + v for v in sorted(canonical_dl(x.strip()) for x in values))


def _quantities(values, prefixes) -> str:
    parts = []
    for q in values:
        s = "epcClass=" + _val(q.get("epcClass", ""), prefixes)
        if "quantity" in q:
            s += "quantity=" + _num(q["quantity"])
        if "uom" in q:
            s += "uom=" + str(q["uom"]).strip()
        parts.append("quantityElement" + s)
    return "".join(sorted(parts))


def _typed(values, key, vocab, prefixes) -> str:
    parts = []
    for item in values:
        s = f"{key}=" + _val(item.get(key, ""), prefixes)
        if item.get("type"):
            s += "type=" + _typed_type(vocab, item["type"], prefixes)
        parts.append(s)
    return "".join(sorted(parts))


def _typed_type(vocab, value, prefixes):
    from .vocab import VocabularyError, normalize_term

    try:
        return term_uri(vocab, normalize_term(vocab, value, prefixes))
    except VocabularyError:
        return expand_curie(value, prefixes)


def _sensor(elements, prefixes) -> str:
    out = []
    for element in elements:
        s = "sensorElement"
        meta = element.get("sensorMetadata")
        if meta:
            s += "sensorMetadata" + _fields(meta, METADATA_ORDER, prefixes) + _extensions(meta, METADATA_ORDER, prefixes)
        reports = []
        for report in element.get("sensorReport", []):
            r = "sensorReport" + _fields(report, REPORT_ORDER, prefixes) + _extensions(report, REPORT_ORDER, prefixes)
            reports.append(r)
        s += "".join(sorted(reports))
        s += _extensions(element, ("sensorMetadata", "sensorReport"), prefixes)
        out.append(s)
    return "".join(sorted(out))


def _fields(obj, order, prefixes) -> str:
    s = ""
    for key in order:
        if key not in obj or obj[key] is None:
            continue
        value = obj[key]
        if key in ("time", "startTime", "endTime"):
            s += f"{key}=" + utc_millis(value)
        elif key == "type":
            v = value.strip()
            s += "type=" + (expand_curie(v, prefixes) if ":" in v else "https://gs1.org/voc/" + v)
        elif key in _URI_FIELDS:
            s += f"{key}=" + _val(value, prefixes)
        else:
            s += f"{key}=" + _val(value, prefixes)
    return s


def _ext_key(key: str, prefixes) -> str:
    prefix, sep, local = key.partition(":")
    if sep and prefix in prefixes:
        return "{" + prefixes[prefix] + "}" + local
    return key


def _ext_value(key, value, prefixes) -> list[str]:
    name = _ext_key(key, prefixes)
    if isinstance(value, dict):
        inner = []
        for k, v in value.items():
            if k.startswith("@"):
                continue
            inner.extend(_ext_value(k, v, prefixes))
        return [name + "".join(sorted(inner))]
    if isinstance(value, list):
        out = []
        for item in value:
            out.extend(_ext_value(key, item, prefixes))
        return out
    return [f"{name}=" + _val(value, prefixes)]


def _extensions(obj, known, prefixes) -> str:
    parts = []
    for key, value in obj.items():
        if key in known or key.startswith("@") or key == "id":
            continue
        parts.extend(_ext_value(key, value, prefixes))
    return "".join(sorted(parts))


def prehash(event: dict, prefixes: dict[str, str], normalized: dict[str, list[str]] | None = None) -> str:
    """The canonical pre-hash string of one event (a parsed JSON-LD object)."""
    s = "eventType=" + event["type"]
    for name, kind in ORDER:
        value = event.get(name)
        if value is None or value == [] or value == {}:
            continue
        if kind == "t":
            s += f"{name}=" + utc_millis(value)
        elif kind == "s":
            s += f"{name}=" + (value.strip() if isinstance(value, str) else _num(value))
        elif kind == "e":
            s += name + _epcs(value, normalized.get(name) if normalized else None)
        elif kind == "epc":
            s += f"{name}=" + canonical_dl(value.strip())
        elif kind.startswith("v:"):
            from .vocab import VocabularyError, normalize_term

            field = kind[2:]
            try:
                s += f"{name}=" + term_uri(field, normalize_term(field, value, prefixes))
            except VocabularyError:
                s += f"{name}=" + expand_curie(value, prefixes)
        elif kind == "q":
            s += name + _quantities(value, prefixes)
        elif kind == "pd":
            for sub in ("set", "unset"):
                if value.get(sub):
                    s += sub + "".join(sorted("=" + _typed_type("disposition", v, prefixes) for v in value[sub]))
        elif kind == "id":
            s += name + "id=" + _val(value["id"], prefixes) + _extensions(value, ("id",), prefixes)
        elif kind == "btl":
            s += name + _typed(value, "bizTransaction", "bizTransactionType", prefixes)
        elif kind == "src":
            s += name + _typed(value, "source", "sourceDestType", prefixes)
        elif kind == "dst":
            s += name + _typed(value, "destination", "sourceDestType", prefixes)
        elif kind == "sensor":
            s += name + _sensor(value, prefixes)
        elif kind == "ext":
            s += name + _extensions(value, (), prefixes)
    return s + _extensions(event, KNOWN, prefixes)


def event_hash(event: dict, prefixes: dict[str, str], normalized: dict[str, list[str]] | None = None) -> str:
    """``normalized``: the event's EPC lists already in canonical Digital Link form, if at hand."""
    digest = hashlib.sha256(prehash(event, prefixes, normalized).encode("utf-8")).hexdigest()
    return f"ni:///sha-256;{digest}?ver=CBV2.0"
