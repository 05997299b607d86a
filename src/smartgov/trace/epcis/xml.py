"""EPCIS XML documents (2.0: ``urn:epcglobal:epcis:xsd:2``; 1.2: ``urn:epcglobal:epcis:xsd:1``) read into
the JSON-LD form of EPCIS 2.0 §10 (the JSON/XML mapping), so that the capture, the event hash and the
query treat them exactly as their JSON-LD twins.

Parsed with defusedxml (no entity expansion, no external entities or DTD fetching: "billion laughs" and
XXE are refused). The 1.2 layout — fields inside ``<extension>``/``<baseExtension>``, TransformationEvent
wrapped in ``<extension>`` — is flattened. User extensions keep their namespace: an element
``{http://ns.example.com/epcis/}grade`` becomes ``"ns0:grade"`` with ``{"ns0": "http://ns.example.com/epcis/"}``
in the document's ``@context`` (the document's own prefix when it has one). ``xsi:type`` annotations are
types, not data, and are read only to type the value.
"""

import io

from defusedxml import ElementTree
from defusedxml.common import DefusedXmlException

from .hashing import vocabulary_terms

EPCIS_NS = ("urn:epcglobal:epcis:xsd:2", "urn:epcglobal:epcis:xsd:1")
# the EPCISQueryDocument and QueryResults elements are in the query schema's namespace
QUERY_NS = ("urn:epcglobal:epcis-query:xsd:2", "urn:epcglobal:epcis-query:xsd:1")
XSI = "http://www.w3.org/2001/XMLSchema-instance"
XSI_NIL, XSI_TYPE = f"{{{XSI}}}nil", f"{{{XSI}}}type"
EVENT_TYPES = ("ObjectEvent", "AggregationEvent", "TransactionEvent", "TransformationEvent", "AssociationEvent")
EPC_LISTS = ("epcList", "childEPCs", "inputEPCList", "outputEPCList")
QUANTITY_LISTS = ("quantityList", "childQuantityList", "inputQuantityList", "outputQuantityList")
TYPED_LISTS = {"bizTransactionList": "bizTransaction", "sourceList": "source", "destinationList": "destination"}
# standard namespaces keep the prefix the GS1 context gives them (so "cbvmda:lotNumber" is the same key)
KNOWN_PREFIXES = {"urn:epcglobal:cbv:mda": "cbvmda", "urn:epcglobal:cbv:mda:": "cbvmda",
                  "https://gs1.org/voc/": "gs1", "https://ref.gs1.org/cbv/": "cbv", "https://ref.gs1.org/epcis/": "epcis"}
NUMBER_FIELDS = frozenset({"value", "minValue", "maxValue", "meanValue", "sDev", "percRank", "percValue"})
CONTEXT = "https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld"
KNOWN_FIELDS = frozenset({"eventTime", "recordTime", "eventTimeZoneOffset", "eventID", "errorDeclaration",
                          "certificationInfo", "parentID", "action", "bizStep", "disposition", "readPoint",
                          "bizLocation", "transformationID", "persistentDisposition", "sensorElementList", "ilmd",
                          "extension", "baseExtension", *EPC_LISTS, *QUANTITY_LISTS, *TYPED_LISTS})


class XmlDocumentError(ValueError):
    pass


def _local(tag: str) -> tuple[str | None, str]:
    if tag.startswith("{"):
        ns, _, local = tag[1:].partition("}")
        return ns, local
    return None, tag


class _Converter:
    def __init__(self, prefixes: dict[str, str]):
        self.by_uri: dict[str, str] = {}
        for prefix, uri in prefixes.items():
            if prefix and uri not in EPCIS_NS and uri not in QUERY_NS and uri != XSI and uri not in KNOWN_PREFIXES:
                self.by_uri.setdefault(uri, prefix)
        self.used: dict[str, str] = {}

    def key(self, tag: str) -> str:
        ns, local = _local(tag)
        if ns is None or ns in EPCIS_NS:
            return local
        prefix = KNOWN_PREFIXES.get(ns)
        if prefix is None:
            prefix = self.by_uri.get(ns)
            if prefix is None or prefix in KNOWN_PREFIXES.values():
                prefix = f"ns{len(self.by_uri)}"
                self.by_uri[ns] = prefix
            self.used[prefix] = ns
        return f"{prefix}:{local}"

    def context(self) -> list:
        return [CONTEXT, dict(sorted(self.used.items()))] if self.used else [CONTEXT]

    # -------------------------------------------------------------------------------------- values

    def extension(self, el):
        """A user extension element: its text (typed by xsi:type), or an object of its children."""
        children = list(el)
        attrs = {self.key(k): v for k, v in el.attrib.items() if not k.startswith("{" + XSI)}
        if not children and not attrs:
            return _typed_text(el)
        out = dict(attrs)
        for child in children:
            _add(out, self.key(child.tag), self.extension(child))
        return out

    def event(self, el) -> dict:
        kind = _local(el.tag)[1]
        event = {"type": kind}
        for child in el:
            self.field(event, child)
        return event

    def field(self, event: dict, child) -> None:
        ns, name = _local(child.tag)
        if ns is not None and ns not in EPCIS_NS:
            _add(event, self.key(child.tag), self.extension(child))
            return
        if name in ("extension", "baseExtension"):  # EPCIS 1.x wrappers: standard fields (and user ones)
            for inner in child:
                inner_ns, inner_name = _local(inner.tag)
                if inner_ns is None and inner_name not in KNOWN_FIELDS:
                    continue  # an unqualified element that is no EPCIS field is not a valid extension
                self.field(event, inner)
            return
        if name in EPC_LISTS:
            event[name] = [_text(e) for e in child]
        elif name in QUANTITY_LISTS:
            event[name] = [self.quantity(q) for q in child]
        elif name in ("readPoint", "bizLocation"):
            event[name] = self.section(child)
        elif name in TYPED_LISTS:
            entries = []
            for item in child:
                entry = {}
                if "type" in item.attrib:
                    kind = "bizTransactionType" if name == "bizTransactionList" else "sourceDestType"
                    entry["type"] = _term(kind, item.attrib["type"].strip())
                entry[TYPED_LISTS[name]] = _text(item)
                entries.append(entry)
            event[name] = entries
        elif name == "persistentDisposition":
            pd: dict[str, list] = {}
            for item in child:
                pd.setdefault(_local(item.tag)[1], []).append(_term("persistentDisposition", _text(item)))
            event[name] = pd
        elif name == "sensorElementList":
            event[name] = [self.sensor_element(e) for e in child]
        elif name == "ilmd":
            ilmd: dict = {}
            for item in child:
                _add(ilmd, self.key(item.tag), self.extension(item))
            event[name] = ilmd
        elif name == "errorDeclaration":
            event[name] = self.error_declaration(child)
        elif name == "certificationInfo":
            _add(event, name, _text(child))
        elif name in ("bizStep", "disposition"):
            event[name] = _term(name, _text(child))
        else:
            event[name] = _text(child)

    def quantity(self, el) -> dict:
        out: dict = {}
        for item in el:
            name = _local(item.tag)[1]
            if item.attrib.get(XSI_NIL, "").strip() == "true":
                continue  # xsi:nil: absent
            out[name] = _number(_text(item)) if name == "quantity" else _text(item)
        return out

    def section(self, el) -> dict:
        out: dict = {}
        for item in el:
            ns, name = _local(item.tag)
            if ns is not None and ns not in EPCIS_NS:
                _add(out, self.key(item.tag), self.extension(item))
            elif name == "extension":
                for inner in item:
                    _add(out, self.key(inner.tag), self.extension(inner))
            else:
                out[name] = _text(item)
        return out

    def attributes(self, el) -> dict:
        out: dict = {}
        for k, v in el.attrib.items():
            ns, name = _local(k)
            if ns == XSI:
                continue
            if ns is not None:
                out[self.key(k)] = v.strip()
            elif name in NUMBER_FIELDS:
                out[name] = _number(v)
            elif name == "booleanValue":
                out[name] = v.strip().lower() in ("true", "1")
            else:
                out[name] = v.strip()
        return out

    def sensor_element(self, el) -> dict:
        out: dict = {}
        reports = []
        for item in el:
            ns, name = _local(item.tag)
            if name.lower() == "sensormetadata" and (ns is None or ns in EPCIS_NS):
                out["sensorMetadata"] = self.attributes(item)
            elif name == "sensorReport" and (ns is None or ns in EPCIS_NS):
                reports.append(self.attributes(item))
            else:
                _add(out, self.key(item.tag), self.extension(item))
        if reports:
            out["sensorReport"] = reports
        return out

    def error_declaration(self, el) -> dict:
        out: dict = {}
        for item in el:
            ns, name = _local(item.tag)
            if ns is not None and ns not in EPCIS_NS:
                _add(out, self.key(item.tag), self.extension(item))
            elif name == "correctiveEventIDs":
                out[name] = [_text(i) for i in item]
            elif name == "reason":
                out[name] = _term("errorReason", _text(item))
            elif name == "extension":
                for inner in item:
                    _add(out, self.key(inner.tag), self.extension(inner))
            else:
                out[name] = _text(item)
        return out


_URNS = {"bizStep": "urn:epcglobal:cbv:bizstep:", "disposition": "urn:epcglobal:cbv:disp:",
         "persistentDisposition": "urn:epcglobal:cbv:disp:", "bizTransactionType": "urn:epcglobal:cbv:btt:",
         "sourceDestType": "urn:epcglobal:cbv:sdt:", "errorReason": "urn:epcglobal:cbv:er:"}


def _term(kind: str, value: str) -> str:
    """A CBV value as JSON-LD writes it (EPCIS 2.0 §10: the bare word for a standard term, e.g.
    ``urn:epcglobal:cbv:bizstep:shipping`` → ``shipping``); other values as written."""
    for prefix in (_URNS[kind], "https://ref.gs1.org/cbv/"):
        if value.startswith(prefix):
            word = value[len(prefix):]
            if prefix.startswith("https"):
                word = word.partition("-")[2]
            if word in vocabulary_terms()[kind]:
                return word
    return value


def _text(el) -> str:
    return (el.text or "").strip()


def _number(text: str):
    try:
        value = float(text)
    except (TypeError, ValueError):
        return text
    return int(value) if value.is_integer() and "." not in text and "e" not in text.lower() else value


def _typed_text(el):
    text = _text(el)
    xsi_type = el.attrib.get(XSI_TYPE, "")
    local = xsi_type.rpartition(":")[2]
    if local in ("integer", "int", "long", "short", "decimal", "double", "float"):
        value = _number(text)
        return float(value) if local in ("double", "float") and isinstance(value, int) else value
    if local == "boolean":
        return text.lower() in ("true", "1")
    return text


def _add(target: dict, key: str, value) -> None:
    """Repeated elements become a list."""
    if key in target:
        if isinstance(target[key], list):
            target[key].append(value)
        else:
            target[key] = [target[key], value]
    else:
        target[key] = value


def _find_events(body):
    for child in body:
        name = _local(child.tag)[1]
        if name == "EventList":
            for item in child:
                yield from _event_elements(item)
        elif name in ("QueryResults", "queryResults"):
            for results in child.iter():
                if _local(results.tag)[1] == "EventList":
                    for item in results:
                        yield from _event_elements(item)
                    return


def _event_elements(item):
    name = _local(item.tag)[1]
    if name in EVENT_TYPES:
        yield item
    elif name == "extension":  # EPCIS 1.x: <extension><TransformationEvent>, <extension><extension><Association…
        for inner in item:
            yield from _event_elements(inner)


def xml_to_document(data: bytes) -> dict:
    """An EPCIS XML document (EPCISDocument or EPCISQueryDocument, 2.0 or 1.2) as an EPCIS 2.0 JSON-LD
    EPCISDocument; XmlDocumentError (Chinese message) if it is not one or not safe to read."""
    prefixes: dict[str, str] = {}
    try:
        for event, value in ElementTree.iterparse(io.BytesIO(data), events=("start-ns",)):
            if event == "start-ns":
                prefix, uri = value
                prefixes.setdefault(prefix, uri)
        root = ElementTree.fromstring(data)
    except DefusedXmlException:
        raise XmlDocumentError("XML文档含有实体声明或外部引用，出于安全原因拒绝处理") from None
    except ElementTree.ParseError as exc:
        raise XmlDocumentError(f"不是有效的XML：{exc}") from None
    ns, name = _local(root.tag)
    query_root = name == "EPCISQueryDocument" and (ns in QUERY_NS or ns in EPCIS_NS)
    if not query_root and not (name == "EPCISDocument" and ns in EPCIS_NS):
        raise XmlDocumentError("XML根元素应为 epcis:EPCISDocument 或 epcisq:EPCISQueryDocument")
    body = next((c for c in root if _local(c.tag)[1] == "EPCISBody"), None)
    if body is None:
        raise XmlDocumentError("缺少 EPCISBody")
    conv = _Converter(prefixes)
    events = [conv.event(e) for e in _find_events(body)]
    return {"@context": conv.context(), "type": "EPCISDocument", "schemaVersion": "2.0",
            "creationDate": root.attrib.get("creationDate", "").strip() or "1970-01-01T00:00:00Z",
            "epcisBody": {"eventList": events}}
