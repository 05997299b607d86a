"""EPCIS 2.0 query parameters on fields that have no column of their own (§8.2.7.1; the REST binding's
fixed parameters and the flexible ``EQ_value_<uom>``/``EQ_ILMD_<field>``/``EQ_<field>`` families, with
``EQ_ERROR_DECLARATION_<field>`` and the ``EQ_INNER_…`` forms for fields nested in extension fields).

``compile_filters(params)`` checks every such parameter once and returns predicates over a stored event
body (a dict); the query applies them to the events the indexed parameters left. A malformed value raises
``QueryParameterException`` before anything is read."""

import re
from collections.abc import Callable

from smartgov.core.errors import InvalidInput

from .. import codes
from .hashing import declared_prefixes, parse_time
from .vocab import STANDARD_PREFIXES, VocabularyError, normalize_term

Predicate = Callable[[dict], bool]

QUANTITY_LISTS = {"MATCH_epcClass": ("quantityList", "childQuantityList"),
                  "MATCH_inputEPCClass": ("inputQuantityList",),
                  "MATCH_outputEPCClass": ("outputQuantityList",),
                  "MATCH_anyEPCClass": ("quantityList", "childQuantityList", "inputQuantityList",
                                        "outputQuantityList")}
ALL_QUANTITY_LISTS = QUANTITY_LISTS["MATCH_anyEPCClass"]
COMPARE = {"EQ": lambda a, b: a == b, "GT": lambda a, b: a > b, "GE": lambda a, b: a >= b,
           "LT": lambda a, b: a < b, "LE": lambda a, b: a <= b}
# sensor parameters with a fixed name: where the attribute lives (metadata, report or both)
SENSOR_EQ = {"EQ_deviceID": ("deviceID", "mr"), "EQ_dataProcessingMethod": ("dataProcessingMethod", "mr"),
             "EQ_microorganism": ("microorganism", "r"), "EQ_chemicalSubstance": ("chemicalSubstance", "r"),
             "EQ_bizRules": ("bizRules", "m"), "EQ_stringValue": ("stringValue", "r"),
             "EQ_hexBinaryValue": ("hexBinaryValue", "r"), "EQ_uriValue": ("uriValue", "r")}
SENSOR_TIMES = {"GE_startTime": ("startTime", "GE"), "LT_startTime": ("startTime", "LT"),
                "GE_endTime": ("endTime", "GE"), "LT_endTime": ("endTime", "LT")}
FIXED = (set(QUANTITY_LISTS) | set(SENSOR_EQ) | set(SENSOR_TIMES)
         | {f"{op}_quantity" for op in COMPARE}
         | {"EQ_persistentDisposition_set", "EQ_persistentDisposition_unset", "EQ_transformationID",
            "EQ_correctiveEventID", "EQ_type", "EQ_booleanValue", "EXISTS_sensorElement"})
SENSOR_NUMBERS = ("value", "minValue", "maxValue", "meanValue", "sDev", "percRank", "percValue")
_SENSOR_NUMBER_RE = re.compile(rf"^(EQ|GT|GE|LT|LE)_({'|'.join(SENSOR_NUMBERS)})(?:_([A-Za-z0-9]{{1,3}}))?$")
_TYPED_LIST_RE = re.compile(r"^EQ_(bizTransaction|source|destination)_(.+)$")
_ILMD_RE = re.compile(r"^(EQ|GT|GE|LT|LE|EXISTS)_ILMD_(.+)$")
_FIELD_RE = re.compile(r"^(EQ|GT|GE|LT|LE|EXISTS)_([A-Za-z][\w.-]*:[\w.-]+)$")  # extension field as CURIE
# EPCIS-Query-JSON-Schema-root.json: EQ_ERROR_DECLARATION_<field>, EQ_INNER_<field>, EQ_INNER_ILMD_<field>,
# EQ_INNER_ERROR_DECLARATION_<field> (and GT/GE/LT/LE/EXISTS); fields named as CURIEs
_CURIE = r"([A-Za-z][\w.-]*:[\w.-]+)"
_ERROR_FIELD_RE = re.compile(rf"^(EQ|GT|GE|LT|LE|EXISTS)_ERROR_DECLARATION_{_CURIE}$")
_INNER_RE = re.compile(rf"^(EQ|GT|GE|LT|LE|EXISTS)_INNER_(ILMD_|ERROR_DECLARATION_)?{_CURIE}$")
# §8.2.7.1 names an extension field by "the namespace URI …, a pound sign (#), and the name":
# EQ_ILMD_http://ns.example.com/epcis/#batch. Matched against the field's CURIE in each event's own context.
_URI_FIELD_RE = re.compile(r"^(EQ|GT|GE|LT|LE|EXISTS)_(ILMD_|ERROR_DECLARATION_|INNER_(?:ILMD_|ERROR_DECLARATION_)?)?"
                           r"((?:https?|urn):[^#\s]+)#([\w.-]+)$")


class NeedsContext:
    """A predicate on fields named by namespace URI: the caller gives each event its ``@context``."""

    def __init__(self, test: Predicate):
        self.test = test

    def __call__(self, event: dict) -> bool:
        return self.test(event)
LIST_KEYS = {"bizTransaction": ("bizTransactionList", "bizTransaction", "bizTransactionType"),
             "source": ("sourceList", "source", "sourceDestType"),
             "destination": ("destinationList", "destination", "sourceDestType")}


def handles(name: str) -> bool:
    """Whether ``name`` is a body parameter this module answers."""
    return (name in FIXED or bool(_SENSOR_NUMBER_RE.match(name)) or bool(_TYPED_LIST_RE.match(name))
            or bool(_ILMD_RE.match(name)) or bool(_FIELD_RE.match(name))  # _FIELD_RE covers the INNER_ forms
            or bool(_URI_FIELD_RE.match(name)))


def _section(event: dict, where: str | None) -> dict:
    """The top level an extension parameter looks in: the event, its ILMD or its error declaration."""
    part = event if where is None else event.get("ilmd" if where == "ILMD_" else "errorDeclaration")
    return part if isinstance(part, dict) else {}


def _nested(value, field: str):
    """Every value of ``field`` at any depth inside ``value`` (an extension field's object or list)."""
    if isinstance(value, dict):
        for key, inner in value.items():
            if key == field:
                yield inner
            yield from _nested(inner, field)
    elif isinstance(value, list):
        for item in value:
            yield from _nested(item, field)


def _inner_values(event: dict, where: str | None, field: str):
    """§8.2.7.1 EQ_INNER_…: the field nested at any level within a top-level extension field (of the event,
    of its ILMD or of its error declaration)."""
    for key, value in _section(event, where).items():
        if ":" in key:  # an extension field (standard fields have no prefix)
            yield from _nested(value, field)


def _curies(event: dict, namespace: str, local: str) -> list[str]:
    """The keys ``prefix:local`` a field of ``namespace`` has in this event (its context's prefixes)."""
    prefixes = {**STANDARD_PREFIXES, **declared_prefixes(event.get("@context") or [])}
    return [f"{prefix}:{local}" for prefix, ns in prefixes.items() if ns == namespace]


def _uri_field(name, raw, op, where, namespace, local) -> Predicate:
    test = _field_test(op, name, raw)
    inner = where is not None and where.startswith("INNER_")
    section = where[len("INNER_"):] if inner else where
    section = section or None

    def matches(e):
        for key in _curies(e, namespace, local):
            if inner:
                values = list(_inner_values(e, section, key))
                if (op == "EXISTS" and values) or (op != "EXISTS" and _any(test, values)):
                    return True
            elif _any(test, [_section(e, section).get(key)]):
                return True
        return False
    return NeedsContext(matches)


def _any(test, values) -> bool:
    """A field that repeats (a list) satisfies the parameter if one of its values does."""
    return any(any(test(v) for v in value) if isinstance(value, list) else test(value) for value in values)


def _bad(name: str, message: str):
    return InvalidInput(f"{name} {message}", code="QueryParameterException", detail={"parameter": name})


def _values(name, raw) -> list[str]:
    values = [v.strip() for v in str(raw).split("|") if v.strip()]
    if not values:
        raise _bad(name, "缺少取值")
    return values


def _number(name, raw) -> float:
    try:
        value = float(str(raw).strip())
    except ValueError:
        raise _bad(name, "应为数值") from None
    if value != value or value in (float("inf"), float("-inf")):
        raise _bad(name, "应为数值")
    return value


def _as_number(value):
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value)
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def _class_matcher(name, values) -> Callable[[str], bool]:
    """§8.2.7.1.1: a URI matches itself (in any spelling); an ``idpat`` pattern every class and EPC of it."""
    exact, prefixes = set(), []
    for v in values:
        if v.startswith("urn:epc:idpat:"):
            dl = codes.gs1_dl(v)
            if dl is None:
                raise _bad(name, f"不是可识别的EPC模式 {v}")
            exact.add(dl)
            prefixes.append(dl + "/")
        elif ":" not in v:
            raise _bad(name, f"不是URI {v}")
        else:
            exact.add(codes.canonical_dl(v))
    prefixes = tuple(prefixes)

    def match(epc_class) -> bool:
        if not isinstance(epc_class, str):
            return False
        dl = codes.canonical_dl(epc_class)
        return dl in exact or (bool(prefixes) and dl.startswith(prefixes))
    return match


def _quantities(event, lists=ALL_QUANTITY_LISTS):
    for key in lists:
        for q in event.get(key) or ():
            if isinstance(q, dict):
                yield q


def _sensor_parts(event, where: str):
    for element in event.get("sensorElementList") or ():
        if not isinstance(element, dict):
            continue
        if "m" in where and isinstance(element.get("sensorMetadata"), dict):
            yield element["sensorMetadata"]
        if "r" in where:
            for report in element.get("sensorReport") or ():
                if isinstance(report, dict):
                    yield report


def _short_type(value) -> str:
    """A measurement type as its bare word when it is a GS1 one (``gs1:Temperature``,
    ``https://gs1.org/voc/Temperature`` → ``Temperature``)."""
    value = str(value)
    for prefix in ("gs1:", "https://gs1.org/voc/", "http://gs1.org/voc/"):
        if value.startswith(prefix):
            return value[len(prefix):]
    return value


def _term(name, field, values) -> set[str]:
    try:
        return {normalize_term(field, v, STANDARD_PREFIXES) for v in values}
    except VocabularyError as exc:
        raise InvalidInput(str(exc), code="QueryParameterException", detail={"parameter": name}) from None


def _stored_terms(field, values) -> set[str]:
    out = set()
    for v in values or ():
        try:
            out.add(normalize_term(field, str(v), STANDARD_PREFIXES))
        except VocabularyError:
            out.add(str(v))
    return out


def _compare_value(op, name, raw):
    """A comparison operand: a number if the parameter reads as one, else a time, else the string
    (EQ only)."""
    try:
        return "n", _number(name, raw)
    except InvalidInput:
        pass
    try:
        return "t", parse_time(str(raw).strip())
    except ValueError:
        pass
    if op != "EQ":
        raise _bad(name, "应为数值或时间")
    return "s", _values(name, raw)


def _field_test(op, name, raw) -> Callable[[object], bool]:
    if op == "EXISTS":
        return lambda value: value is not None
    kind, operand = _compare_value(op, name, raw)
    cmp = COMPARE[op]

    def test(value) -> bool:
        if value is None:
            return False
        if kind == "n":
            number = _as_number(value)
            return number is not None and cmp(number, operand)
        if kind == "t":
            try:
                return cmp(parse_time(str(value)), operand)
            except ValueError:
                return False
        return (value if isinstance(value, str) else str(value)) in operand
    return test


def compile_filters(params: dict) -> list[Predicate]:
    preds: list[Predicate] = []
    for name in sorted(params):
        if not handles(name):
            continue
        raw = params[name]
        preds.append(_compile(name, raw))
    return preds


def _compile(name: str, raw) -> Predicate:  # one branch per parameter family
    if name in QUANTITY_LISTS:
        match, lists = _class_matcher(name, _values(name, raw)), QUANTITY_LISTS[name]
        return lambda e: any(match(q.get("epcClass")) for q in _quantities(e, lists))
    if name.endswith("_quantity"):
        limit, cmp = _number(name, raw), COMPARE[name.split("_", 1)[0]]
        return lambda e: any((n := _as_number(q.get("quantity"))) is not None and cmp(n, limit)
                             for q in _quantities(e))
    if name.startswith("EQ_persistentDisposition_"):
        part = name.rsplit("_", 1)[1]
        wanted = _term(name, "disposition", _values(name, raw))

        def persistent(e):
            pd = e.get("persistentDisposition")
            return isinstance(pd, dict) and bool(_stored_terms("disposition", pd.get(part)) & wanted)
        return persistent
    if name == "EQ_transformationID":
        wanted = set(_values(name, raw))
        return lambda e: e.get("transformationID") in wanted
    if name == "EQ_correctiveEventID":
        wanted = set(_values(name, raw))
        return lambda e: isinstance(e.get("errorDeclaration"), dict) and bool(
            wanted & set(e["errorDeclaration"].get("correctiveEventIDs") or ()))
    if name == "EQ_type":
        wanted = {_short_type(v) for v in _values(name, raw)}
        return lambda e: any(_short_type(r.get("type", "")) in wanted for r in _sensor_parts(e, "r"))
    if name in SENSOR_EQ:
        attribute, where = SENSOR_EQ[name]
        wanted = set(_values(name, raw))
        return lambda e: any(p.get(attribute) in wanted for p in _sensor_parts(e, where))
    if name in SENSOR_TIMES:
        attribute, op = SENSOR_TIMES[name]
        try:
            limit = parse_time(str(raw).strip())
        except ValueError:
            raise _bad(name, "不是带时区的ISO 8601时间") from None
        cmp = COMPARE[op]

        def sensor_time(e):
            for m in _sensor_parts(e, "m"):
                try:
                    if m.get(attribute) and cmp(parse_time(m[attribute]), limit):
                        return True
                except ValueError:
                    continue
            return False
        return sensor_time
    if name == "EQ_booleanValue":
        flag = str(raw).strip().lower()
        if flag not in ("true", "false"):
            raise _bad(name, "应为 true 或 false")
        want = flag == "true"
        return lambda e: any(r.get("booleanValue") is want for r in _sensor_parts(e, "r"))
    if name == "EXISTS_sensorElement":
        if str(raw).strip().lower() not in ("", "true"):
            raise _bad(name, "应为 true 或省略取值")
        return lambda e: bool(e.get("sensorElementList"))
    if m := _SENSOR_NUMBER_RE.match(name):
        op, attribute, uom = m.groups()
        limit, cmp = _number(name, raw), COMPARE[op]
        return lambda e: any((n := _as_number(r.get(attribute))) is not None and cmp(n, limit)
                             and (uom is None or r.get("uom") == uom) for r in _sensor_parts(e, "r"))
    if m := _TYPED_LIST_RE.match(name):
        kind, type_ = m.groups()
        list_key, value_key, vocab = LIST_KEYS[kind]
        wanted_type = next(iter(_term(name, vocab, [type_])))
        wanted = {codes.canonical_dl(v) for v in _values(name, raw)}

        def typed(e):
            for item in e.get(list_key) or ():
                if (isinstance(item, dict) and _stored_terms(vocab, [item.get("type", "")]) == {wanted_type}
                        and codes.canonical_dl(str(item.get(value_key, ""))) in wanted):
                    return True
            return False
        return typed
    if m := _URI_FIELD_RE.match(name):
        return _uri_field(name, raw, *m.groups())
    if m := _ILMD_RE.match(name):
        op, field = m.groups()
        test = _field_test(op, name, raw)
        return lambda e: isinstance(e.get("ilmd"), dict) and test(e["ilmd"].get(field))
    if m := _ERROR_FIELD_RE.match(name):
        op, field = m.groups()
        test = _field_test(op, name, raw)
        return lambda e: _any(test, [_section(e, "ERROR_DECLARATION_").get(field)])
    if m := _INNER_RE.match(name):
        op, where, field = m.groups()
        test = _field_test(op, name, raw)
        if op == "EXISTS":
            return lambda e: any(True for _ in _inner_values(e, where, field))
        return lambda e: _any(test, _inner_values(e, where, field))
    m = _FIELD_RE.match(name)
    op, field = m.groups()
    test = _field_test(op, name, raw)
    return lambda e: test(e.get(field))
