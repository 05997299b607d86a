"""Query results as the client asks for them (EPCIS 2.0 REST binding, openapi.yaml): the ``GS1-EPC-Format``
request header (Digital Link by default, EPC URNs, or as captured) and ``Accept: application/xml`` (EPCIS 2.0
XML, validated against GS1's own XSDs — copied unchanged from the standard into tests/trace/data/xsd — by
the ``xmlschema`` validator). Expected identifiers are the GS1 reference implementation's
(tests/trace/data/gs1_dl_reference.json), not values computed here."""

import json
import pathlib

import orjson
import pytest
import xmlschema
from django.test import Client

from smartgov.trace.epcis import hashing
from smartgov.trace.epcis.xml import xml_to_document

from .conftest import EXAMPLES
from .test_api import _capture_examples, _post, key  # noqa: F401 (fixture)
from .test_capture import _doc

DATA = pathlib.Path(__file__).parent / "data"
REFERENCE = json.loads((DATA / "gs1_dl_reference.json").read_text())["vectors"]
SGTIN, SSCC = "urn:epc:id:sgtin:0614141.107346.2017", "urn:epc:id:sscc:0614141.1234567890"
SGLN = "urn:epc:id:sgln:0614141.12345.400"


@pytest.fixture(scope="module")
def query_schema():
    return xmlschema.XMLSchema(str(DATA / "xsd" / "EPCglobal-epcis-query-2_0.xsd"))


def _events(resp) -> list[dict]:
    assert resp.status_code == 200, resp.content
    return resp.json()["epcisBody"]["queryResults"]["resultsBody"]["eventList"]


def _event(epc, parent):
    return {"type": "AggregationEvent", "eventTime": "2026-01-05T08:00:00+08:00", "eventTimeZoneOffset": "+08:00",
            "action": "ADD", "bizStep": "packing", "parentID": parent, "childEPCs": [epc],
            "readPoint": {"id": SGLN}}


def test_identifiers_come_back_as_digital_links_by_default_as_urns_or_as_captured_when_asked(key):  # noqa: F811
    client = Client()
    # one event captured with EPC URNs, one with the same identifiers as Digital Links
    urn_event = _event(SGTIN, SSCC)
    dl_event = dict(_event(REFERENCE[SGTIN], REFERENCE[SSCC]), readPoint={"id": REFERENCE[SGLN]},
                    eventTime="2026-01-06T08:00:00+08:00")
    assert _post(client, _doc(urn_event, dl_event), key).status_code == 202

    def ask(epc_format=None):
        headers = {"HTTP_X_TRACE_KEY": key}
        if epc_format:
            headers["HTTP_GS1_EPC_FORMAT"] = epc_format
        resp = client.get("/api/trace/epcis/events?eventType=AggregationEvent", **headers)
        return resp["GS1-EPC-Format"], [(e["parentID"], e["childEPCs"], e["readPoint"]["id"]) for e in _events(resp)]

    as_dl = (REFERENCE[SSCC], [REFERENCE[SGTIN]], REFERENCE[SGLN])
    as_urn = (SSCC, [SGTIN], SGLN)
    # "If absent the default value is Always_GS1_Digital_Link"
    assert ask() == ("Always_GS1_Digital_Link", [as_dl, as_dl])
    assert ask("Always_GS1_Digital_Link") == ("Always_GS1_Digital_Link", [as_dl, as_dl])
    assert ask("Always_EPC_URN") == ("Always_EPC_URN", [as_urn, as_urn])
    assert ask("Never_Translates") == ("Never_Translates", [as_urn, as_dl])
    assert ask("No_Preference") == ("No_Preference", [as_urn, as_dl])
    resp = client.get("/api/trace/epcis/events", HTTP_X_TRACE_KEY=key, HTTP_GS1_EPC_FORMAT="Always_URN")
    assert resp.status_code == 400 and resp["Content-Type"] == "application/problem+json"
    assert resp.json()["type"] == "epcisException:QueryParameterException"


def test_xml_results_of_every_gs1_example_are_valid_epcis_2_xml_with_the_same_events(key, query_schema):  # noqa: F811
    client = _capture_examples(key)
    json_events = _events(client.get("/api/trace/epcis/events?perPage=1000", HTTP_X_TRACE_KEY=key,
                                     HTTP_GS1_EPC_FORMAT="Never_Translates"))
    resp = client.get("/api/trace/epcis/events?perPage=1000", HTTP_X_TRACE_KEY=key, HTTP_ACCEPT="application/xml",
                      HTTP_GS1_EPC_FORMAT="Never_Translates")
    assert resp.status_code == 200 and resp["Content-Type"] == "application/xml"
    assert resp["GS1-EPCIS-Version"] == "2.0.0"
    query_schema.validate(resp.content)  # raises XMLSchemaValidationError naming the element
    # read back (xml.py, the capture's XML reader), every event is the same event: same hash, same eventID
    events = xml_to_document(resp.content)["epcisBody"]["eventList"]
    assert len(events) == len(json_events) > 40
    assert [e["eventID"] for e in events] == [e["eventID"] for e in json_events]
    assert resp.content.startswith(b'<?xml version="1.0" encoding="UTF-8"?>\n<epcisq:EPCISQueryDocument')
    # and the same content: the pre-hash strings of the event hash agree (a JSON boolean in an extension field
    # is hashed as Python writes it, True; XML has only the text true)
    json_ctx = orjson.loads(client.get("/api/trace/epcis/events?perPage=1000", HTTP_X_TRACE_KEY=key,
                                       HTTP_GS1_EPC_FORMAT="Never_Translates").content)["@context"]
    xml_ns = hashing.declared_prefixes(xml_to_document(resp.content)["@context"])

    def json_prehash(event):  # an event of a capture whose prefixes clash carries its own @context
        ns = hashing.declared_prefixes([*json_ctx, *event.get("@context", [])])
        return hashing.prehash({k: v for k, v in event.items() if k != "@context"}, ns)

    def same_booleans(text):
        return text.replace("=True", "=true").replace("=False", "=false")

    got = [same_booleans(hashing.prehash(e, xml_ns)) for e in events]
    want = [same_booleans(json_prehash(e)) for e in json_events]
    assert got == want


def test_xml_follows_the_epc_format_and_is_refused_for_unknown_media(key, query_schema):  # noqa: F811
    client = Client()
    assert _post(client, (EXAMPLES / "Example_9.6.1-ObjectEvent.jsonld").read_bytes(), key).status_code == 202
    resp = client.get("/api/trace/epcis/events", HTTP_X_TRACE_KEY=key, HTTP_ACCEPT="application/xml")
    query_schema.validate(resp.content)
    body = resp.content.decode()
    assert f"<epc>{REFERENCE[SGTIN]}</epc>" in body  # Digital Links by default, in XML too
    assert "<bizStep>urn:epcglobal:cbv:bizstep:shipping</bizStep>" in body  # CBV words as the XML binding's URNs
    resp = client.get("/api/trace/epcis/events", HTTP_X_TRACE_KEY=key, HTTP_ACCEPT="text/xml",
                      HTTP_GS1_EPC_FORMAT="Always_EPC_URN")
    assert resp["Content-Type"] == "text/xml" and f"<epc>{SGTIN}</epc>" in resp.content.decode()
    # JSON-LD stays the answer to */* and to no Accept at all
    assert client.get("/api/trace/epcis/events", HTTP_X_TRACE_KEY=key, HTTP_ACCEPT="*/*")["Content-Type"] == \
        "application/ld+json"
    resp = client.get("/api/trace/epcis/events", HTTP_X_TRACE_KEY=key, HTTP_ACCEPT="text/csv")
    assert resp.status_code == 406 and resp.json()["type"] == "epcisException:NotAcceptableException"
    # a named query's results and one event by its ID negotiate the same way
    assert client.post("/api/trace/epcis/queries", data=orjson.dumps({"name": "all", "query": {}}),
                       content_type="application/json", HTTP_X_TRACE_KEY=key).status_code == 201
    for path in ("queries/all/events", "eventTypes/ObjectEvent/events"):
        resp = client.get(f"/api/trace/epcis/{path}", HTTP_X_TRACE_KEY=key, HTTP_ACCEPT="application/xml")
        assert resp.status_code == 200, resp.content
        query_schema.validate(resp.content)
