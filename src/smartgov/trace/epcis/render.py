"""Query results as the client asked for them (EPCIS 2.0 REST binding): identifiers in the spelling of the
``GS1-EPC-Format`` request header, and the document as EPCIS 2.0 XML when ``Accept`` prefers it.

``GS1-EPC-Format`` (openapi.yaml, parameters): ``Always_GS1_Digital_Link`` (the default when the header is
absent) — identifiers as GS1 Digital Link URIs (the constrained canonical form on ``id.gs1.org``, the form
the event hash uses); ``Always_EPC_URN`` — as EPC URNs (the GS1 Company Prefix length from the products
this platform knows, else GS1 China's table: ``codes.dl_to_urn``); ``Never_Translates`` and
``No_Preference`` — as captured. Identifiers that are neither (an NMPA ``urn:nmpa:tc:`` code, a private
URI) are never changed.

XML: the JSON-LD ↔ XML mapping of EPCIS 2.0 §10 read backwards (``xml.py`` reads it forwards): an
``epcisq:EPCISQueryDocument`` whose elements follow the sequence of each event type in
``EPCglobal-epcis-2_0.xsd``; CBV bare words written as the CBV URNs the XML binding uses
(``urn:epcglobal:cbv:bizstep:receiving``); sensor types and other CURIEs expanded to their URIs; ILMD and
extension fields as elements (attributes, in sensor data) of their own namespace, declared on the root.
A field whose prefix no context declares cannot be placed in a namespace and is left out.
"""

from xml.sax.saxutils import escape, quoteattr

from django.core.exceptions import ValidationError

from .. import codes
from .hashing import declared_prefixes
from .vocab import GS1_VOC, STANDARD_PREFIXES, expand_curie, vocabularies

EPC_FORMATS = ("Always_GS1_Digital_Link", "Always_EPC_URN", "Never_Translates", "No_Preference")
DEFAULT_EPC_FORMAT = "Always_GS1_Digital_Link"  # openapi.yaml: "If absent the default value is …"
EPCIS_NS, QUERY_NS = "urn:epcglobal:epcis:xsd:2", "urn:epcglobal:epcis-query:xsd:2"

# ------------------------------------------------------------------------------------------ GS1-EPC-Format

EPC_LIST_FIELDS = ("epcList", "childEPCs", "inputEPCList", "outputEPCList")
QUANTITY_FIELDS = ("quantityList", "childQuantityList", "inputQuantityList", "outputQuantityList")


def _to_dl(value: str) -> str:
    return codes.gs1_dl(value) or value


def _to_urn(value: str) -> str:
    if value.startswith("urn:"):
        return value
    try:
        return codes.dl_to_urn(value)
    except ValidationError:  # not a GS1 key: kept as it is
        return value


def translate_epcs(document: dict, epc_format: str) -> dict:
    """The document with every identifier field in the spelling ``epc_format`` asks for (in place)."""
    if epc_format in ("Never_Translates", "No_Preference"):
        return document
    conv = _to_dl if epc_format == "Always_GS1_Digital_Link" else _to_urn
    for event in document["epcisBody"]["queryResults"]["resultsBody"]["eventList"]:
        for name in EPC_LIST_FIELDS:
            if isinstance(event.get(name), list):
                event[name] = [conv(v) if isinstance(v, str) else v for v in event[name]]
        for name in QUANTITY_FIELDS:
            for q in event.get(name) or []:
                if isinstance(q, dict) and isinstance(q.get("epcClass"), str):
                    q["epcClass"] = conv(q["epcClass"])
        if isinstance(event.get("parentID"), str):
            event["parentID"] = conv(event["parentID"])
        for name in ("readPoint", "bizLocation"):
            if isinstance(event.get(name), dict) and isinstance(event[name].get("id"), str):
                event[name]["id"] = conv(event[name]["id"])
        for name, key in (("sourceList", "source"), ("destinationList", "destination"),
                          ("bizTransactionList", "bizTransaction")):
            for item in event.get(name) or []:
                if isinstance(item, dict) and isinstance(item.get(key), str):
                    item[key] = conv(item[key])
    return document


# ------------------------------------------------------------------------------------------ XML

# After eventTime … certificationInfo (EPCISEventType), each event type's own sequence (EPCglobal-epcis-2_0.xsd)
HEAD = ("eventTime", "recordTime", "eventTimeZoneOffset", "eventID", "errorDeclaration", "certificationInfo")
TAIL = ("bizStep", "disposition", "readPoint", "bizLocation")
SEQUENCES = {
    "ObjectEvent": ("epcList", "action", *TAIL, "bizTransactionList", "quantityList", "sourceList",
                    "destinationList", "sensorElementList", "persistentDisposition", "ilmd"),
    "AggregationEvent": ("parentID", "childEPCs", "action", *TAIL, "bizTransactionList", "childQuantityList",
                         "sourceList", "destinationList", "sensorElementList", "persistentDisposition"),
    "TransactionEvent": ("bizTransactionList", "parentID", "epcList", "action", *TAIL, "quantityList", "sourceList",
                         "destinationList", "sensorElementList", "persistentDisposition"),
    "TransformationEvent": ("inputEPCList", "inputQuantityList", "outputEPCList", "outputQuantityList",
                            "transformationID", *TAIL, "bizTransactionList", "sourceList", "destinationList",
                            "sensorElementList", "persistentDisposition", "ilmd"),
    "AssociationEvent": ("parentID", "childEPCs", "childQuantityList", "action", *TAIL, "bizTransactionList",
                         "sourceList", "destinationList", "sensorElementList", "persistentDisposition"),
}
LISTS = {"bizTransactionList": ("bizTransaction", "bizTransactionType"), "sourceList": ("source", "sourceDestType"),
         "destinationList": ("destination", "sourceDestType")}
SKIPPED = {"type", "@context", "@type", "@id"}
XML_NAMESPACES = {"urn:epcglobal:cbv:mda:": "urn:epcglobal:cbv:mda"}  # as the XML binding's master data writes it


def _text(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _cbv(field: str, value: str, prefixes: dict) -> str:
    """A CBV value as the XML binding writes it: a bare CBV word as its URN, a CURIE expanded."""
    _, urn_prefix, words = vocabularies()[field]
    if value in words:
        return urn_prefix + value
    return expand_curie(value, prefixes)


class _Writer:
    def __init__(self, prefixes: dict[str, str]):
        self.prefixes = prefixes
        self.declared: dict[str, str] = {}  # namespace → XML prefix
        self.out: list[str] = []

    def qname(self, key: str) -> str | None:
        """The XML name of an extension key ``prefix:local`` (its namespace declared on the root), or None."""
        prefix, sep, local = key.partition(":")
        if not sep or prefix not in self.prefixes or not local:
            return None
        ns = self.prefixes[prefix]
        ns = XML_NAMESPACES.get(ns, ns)
        if ns not in self.declared:
            name = prefix if prefix not in ("epcis", "epcisq", "xsi", "xml") and prefix not in self.declared.values() \
                else f"ns{len(self.declared)}"
            self.declared[ns] = name
        return f"{self.declared[ns]}:{local}"

    def value(self, value):
        """An extension value: a CURIE of a declared prefix is written as the URI it stands for (JSON-LD reads
        it so; in XML it would be a plain string)."""
        return expand_curie(value, self.prefixes) if isinstance(value, str) else value

    def leaf(self, tag: str, value, attrs: str = "") -> None:
        self.out.append(f"<{tag}{attrs}>{escape(_text(value))}</{tag}>")

    def extension(self, key: str, value) -> None:
        tag = self.qname(key)
        if tag is None:
            return
        for item in value if isinstance(value, list) else [value]:
            if isinstance(item, dict) and "@value" in item:
                item = item["@value"]
            if isinstance(item, dict):
                self.out.append(f"<{tag}>")
                for k, v in item.items():
                    if k not in SKIPPED:
                        self.extension(k, v)
                self.out.append(f"</{tag}>")
            elif item is not None:
                self.leaf(tag, self.value(item))

    def attributes(self, data: dict, known: set[str], uris: dict[str, str]) -> str:
        parts = []
        for key, value in data.items():
            if value is None or isinstance(value, dict | list):
                continue
            if key in known:
                text = _text(value)
                if key in uris and isinstance(value, str) and ":" not in value and uris[key]:
                    text = uris[key] + value  # a bare GS1 measurement type
                elif isinstance(value, str):
                    text = expand_curie(value, self.prefixes) if key in uris else value
                parts.append(f" {key}={quoteattr(text)}")
            elif ":" not in key:  # not a field of the standard: an attribute of no namespace (anyAttribute)
                parts.append(f" {key}={quoteattr(_text(value))}")
            elif (name := self.qname(key)) is not None:
                parts.append(f" {name}={quoteattr(_text(self.value(value)))}")
        return "".join(parts)

    def field(self, name: str, value, event: dict) -> None:
        if value is None:
            return
        if name in EPC_LIST_FIELDS:
            self.out.append(f"<{name}>")
            for epc in value:
                self.leaf("epc", epc)
            self.out.append(f"</{name}>")
        elif name in QUANTITY_FIELDS:
            self.out.append(f"<{name}>")
            for q in value:
                self.out.append("<quantityElement>")
                self.leaf("epcClass", q.get("epcClass", ""))
                if "quantity" in q:
                    self.leaf("quantity", q["quantity"])
                    if "uom" in q:
                        self.leaf("uom", q["uom"])
                self.out.append("</quantityElement>")
            self.out.append(f"</{name}>")
        elif name in ("bizStep", "disposition"):
            self.leaf(name, _cbv(name, value, self.prefixes))
        elif name in ("readPoint", "bizLocation"):
            self.out.append(f"<{name}>")
            self.leaf("id", value.get("id", ""))
            for k, v in value.items():
                if k != "id":
                    self.extension(k, v)
            self.out.append(f"</{name}>")
        elif name in LISTS:
            item_tag, vocabulary = LISTS[name]
            self.out.append(f"<{name}>")
            for item in value:
                kind = item.get("type")
                attrs = f" type={quoteattr(_cbv(vocabulary, kind, self.prefixes))}" if kind else ""
                self.leaf(item_tag, item.get(item_tag, ""), attrs)
            self.out.append(f"</{name}>")
        elif name == "persistentDisposition":
            self.out.append("<persistentDisposition>")
            for part in ("unset", "set"):
                for v in value.get(part) or []:
                    self.leaf(part, _cbv("disposition", v, self.prefixes))
            self.out.append("</persistentDisposition>")
        elif name == "errorDeclaration":
            self.out.append("<errorDeclaration>")
            self.leaf("declarationTime", value.get("declarationTime", ""))
            if value.get("reason"):
                self.leaf("reason", _cbv("errorReason", value["reason"], self.prefixes))
            if value.get("correctiveEventIDs"):
                self.out.append("<correctiveEventIDs>")
                for eid in value["correctiveEventIDs"]:
                    self.leaf("correctiveEventID", eid)
                self.out.append("</correctiveEventIDs>")
            for k, v in value.items():
                if k not in ("declarationTime", "reason", "correctiveEventIDs"):
                    self.extension(k, v)
            self.out.append("</errorDeclaration>")
        elif name == "sensorElementList":
            self.out.append("<sensorElementList>")
            for element in value:
                self.sensor_element(element)
            self.out.append("</sensorElementList>")
        elif name == "ilmd":
            self.out.append("<ilmd>")
            for k, v in value.items():
                self.extension(k, v)
            self.out.append("</ilmd>")
        elif name == "certificationInfo":
            self.leaf(name, value[0] if isinstance(value, list) and value else value)
        else:
            self.leaf(name, value)

    METADATA = {"time", "deviceID", "deviceMetadata", "rawData", "startTime", "endTime", "bizRules",
                "dataProcessingMethod"}
    REPORT = {"type", "value", "component", "stringValue", "booleanValue", "hexBinaryValue", "uriValue", "uom",
              "minValue", "maxValue", "sDev", "chemicalSubstance", "microorganism", "deviceID", "deviceMetadata",
              "rawData", "time", "meanValue", "percRank", "percValue", "dataProcessingMethod",
              "coordinateReferenceSystem", "exception"}

    def sensor_element(self, element: dict) -> None:
        self.out.append("<sensorElement>")
        if isinstance(element.get("sensorMetadata"), dict):
            self.out.append(f"<sensorMetadata{self.attributes(element['sensorMetadata'], self.METADATA, {})}/>")
        for report in element.get("sensorReport") or []:
            uris = {"type": GS1_VOC, "exception": GS1_VOC}  # component: as written (GS1's XML: "example:x")
            self.out.append(f"<sensorReport{self.attributes(report, self.REPORT, uris)}/>")
        for k, v in element.items():
            if k not in ("sensorMetadata", "sensorReport"):
                self.extension(k, v)
        self.out.append("</sensorElement>")

    def event(self, event: dict) -> None:
        kind = event.get("type")
        sequence = SEQUENCES.get(kind)
        if sequence is None:
            return
        self.out.append(f"<{kind}>")
        for name in (*HEAD, *sequence):
            self.field(name, event.get(name), event)
        known = {*HEAD, *sequence}
        for key, value in event.items():
            if key not in known and key not in SKIPPED:
                self.extension(key, value)
        self.out.append(f"</{kind}>")


def _prefixes(context) -> dict[str, str]:
    """Prefix → namespace as the event hash reads the context (the standard ones, then the document's)."""
    return {**STANDARD_PREFIXES, **declared_prefixes(context)}


def query_document_xml(document: dict) -> bytes:
    """An EPCISQueryDocument (JSON-LD, as the query returns it) as EPCIS 2.0 XML."""
    prefixes = _prefixes(document.get("@context"))
    results = document["epcisBody"]["queryResults"]
    body = _Writer(prefixes)
    for event in results["resultsBody"]["eventList"]:
        if "@context" in event:  # an event with its own context (a clashing capture): its prefixes apply
            writer = _Writer({**prefixes, **declared_prefixes(event["@context"])})
            writer.declared = body.declared
            writer.event(event)
            body.out.extend(writer.out)
        else:
            body.event(event)
    head = [f"<epcisq:EPCISQueryDocument xmlns:epcis={quoteattr(EPCIS_NS)} xmlns:epcisq={quoteattr(QUERY_NS)}"]
    head += [f" xmlns:{prefix}={quoteattr(ns)}" for ns, prefix in body.declared.items()]
    head.append(f' schemaVersion="2.0" creationDate={quoteattr(document.get("creationDate", ""))}>')
    head.append(f"<EPCISBody><epcisq:QueryResults><queryName>{escape(results.get('queryName', ''))}</queryName>")
    if results.get("subscriptionID"):
        head.append(f"<subscriptionID>{escape(results['subscriptionID'])}</subscriptionID>")
    head.append("<resultsBody><EventList>")
    tail = "</EventList></resultsBody></epcisq:QueryResults></EPCISBody></epcisq:EPCISQueryDocument>"
    return ('<?xml version="1.0" encoding="UTF-8"?>\n' + "".join(head) + "".join(body.out) + tail).encode()
