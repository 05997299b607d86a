"""EPCIS XML capture (2.0 and 1.2): the same events and hashes as the JSON-LD twins, read safely.

Expected hashes are the GS1 reference implementation's (tests/trace/data/gs1_reference_hashes.json);
tests/trace/data/xml_expected.json says for each XML event which reference value it must equal — its
JSON-LD twin's, or the reference's own reading of the XML.
"""

import json
import pathlib

import pytest
from django.test import Client

from smartgov.core.errors import InvalidInput
from smartgov.trace import services
from smartgov.trace.epcis.hashing import declared_prefixes, event_hash
from smartgov.trace.epcis.xml import XmlDocumentError, xml_to_document
from smartgov.trace.models import CaptureStatus, Event

DATA = pathlib.Path(__file__).parent / "data"
EXAMPLES = pathlib.Path(__file__).parent / "gs1_examples"
REFERENCE = json.loads((DATA / "gs1_reference_hashes.json").read_text())["documents"]
EXPECTED = json.loads((DATA / "xml_expected.json").read_text())["events"]


def _path(name: str) -> pathlib.Path:
    if name.startswith("XSL/1.2/XML/"):
        return EXAMPLES / "XML-1.2" / name[12:]
    return EXAMPLES / name


def _hashes(name: str) -> list[str]:
    doc = xml_to_document(_path(name).read_bytes())
    ns = declared_prefixes(doc["@context"])
    return [event_hash(e, ns) for e in doc["epcisBody"]["eventList"]]


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_xml_events_hash_as_their_json_ld_twin_or_the_reference_reading(name):
    got = _hashes(name)
    assert len(got) == len(EXPECTED[name])
    for i, where in enumerate(EXPECTED[name]):
        if where is not None:
            assert got[i] == REFERENCE[where[0]][where[1]], (name, i)


def test_the_with_event_hash_id_spellings_get_one_hash():
    """Shuffled EPCs and quantities, another namespace prefix, an explicit xsi:type and the JSON-LD
    spelling (event_with_identical_hash_id_7.json): one event, one hash — the reference's hash of the
    JSON-LD spelling. File 2 moves the event to another eventTimeZoneOffset, a hashed field (CBV 2.0
    §8.9 order item 3), so it is a different event for the algorithm."""
    expected = REFERENCE["XML/WithEventHashID/event_with_identical_hash_id_7.json"][0]
    for n in (1, 3, 4, 5, 6):
        assert _hashes(f"XML/WithEventHashID/event_with_identical_hash_id_{n}.xml") == [expected]
    assert _hashes("XML/WithEventHashID/event_with_identical_hash_id_2.xml") != [expected]


def test_epcis_1_2_documents_give_the_events_of_their_2_0_versions():
    v12, v20 = _hashes("XSL/1.2/XML/AssociationEvent.xml"), _hashes("XML/AssociationEvent/AssociationEventExamples.xml")
    twins = [i for i, where in enumerate(EXPECTED["XML/AssociationEvent/AssociationEventExamples.xml"]) if where]
    assert len(twins) == 7 and [v12[i] for i in twins] == [v20[i] for i in twins]
    assert _hashes("XSL/1.2/XML/ObjectEvent.xml")[0] == REFERENCE["JSON/WithErrorDeclaration/Example_9.6.1-ObjectEvent-with-error-declaration.jsonld"][0]


EVENT_DOCUMENTS = sorted(n for n, events in EXPECTED.items() if events)


@pytest.mark.parametrize("name", EVENT_DOCUMENTS)
def test_every_gs1_xml_example_is_captured(name, officer, chain):
    job = services.capture_epcis_document(actor=officer, chunks=_path(name).read_bytes(), organisation=chain["maker"],
                                          xml=True)
    assert job.status == CaptureStatus.SUCCEEDED and job.errors == [], job.errors
    assert job.events_received == len(EXPECTED[name])
    # an event that declares an earlier one in error is attached to it, not stored again
    declarations = sum(1 for e in xml_to_document(_path(name).read_bytes())["epcisBody"]["eventList"]
                       if "errorDeclaration" in e)
    assert job.events_stored + job.events_duplicate + declarations >= job.events_received


def test_xml_capture_over_the_api_and_the_event_comes_back(supervisor, chain):
    _, key = services.issue_capture_key(actor=supervisor, organisation=chain["maker"])
    client = Client()
    name = "XML/WithEventHashID/event_with_identical_hash_id_1.xml"
    resp = client.post("/api/trace/epcis/capture", data=_path(name).read_bytes(), content_type="application/xml",
                       HTTP_X_TRACE_KEY=key)
    assert resp.status_code == 202, resp.content
    expected = REFERENCE["XML/WithEventHashID/event_with_identical_hash_id_7.json"][0]
    found = client.get(f"/api/trace/epcis/events?EQ_eventID={expected}", HTTP_X_TRACE_KEY=key).json()
    assert [e["eventID"] for e in found["epcisBody"]["queryResults"]["resultsBody"]["eventList"]] == [expected]


BOMB = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>
<epcis:EPCISDocument xmlns:epcis="urn:epcglobal:epcis:xsd:2" schemaVersion="2.0" creationDate="2026-01-01T00:00:00Z">
<EPCISBody><EventList><ObjectEvent><eventTime>2026-01-01T00:00:00Z</eventTime>
<eventTimeZoneOffset>+00:00</eventTimeZoneOffset><epcList><epc>&lol3;</epc></epcList><action>OBSERVE</action>
</ObjectEvent></EventList></EPCISBody></epcis:EPCISDocument>"""
XXE = BOMB.replace(b'<!ENTITY lol "lol">', b'<!ENTITY lol SYSTEM "file:///etc/passwd">')


@pytest.mark.parametrize("doc", [BOMB, XXE], ids=["entity-expansion", "external-entity"])
def test_entity_expansion_and_external_entities_are_refused(doc, officer, chain):
    with pytest.raises(XmlDocumentError):
        xml_to_document(doc)
    with pytest.raises(InvalidInput) as exc:
        services.capture_epcis_document(actor=officer, chunks=doc, organisation=chain["maker"], xml=True)
    assert exc.value.code == "invalid_epcis_document"
    assert Event.objects.count() == 0


def test_not_epcis_xml_is_refused(officer, chain):
    with pytest.raises(InvalidInput):
        services.capture_epcis_document(actor=officer, chunks=b"<a/>", organisation=chain["maker"], xml=True)
    with pytest.raises(InvalidInput):
        services.capture_epcis_document(actor=officer, chunks=b"<a>", organisation=chain["maker"], xml=True)
