"""Capture as EPCIS 2.0 defines it: eventID, error declarations, recordTime, query documents, key order.

Hashes expected here are the GS1 reference implementation's (tests/trace/data/gs1_reference_hashes.json).
"""

import json
import pathlib

import orjson
import pytest
from django.test import Client

from smartgov.trace import services
from smartgov.trace.models import CaptureStatus, CodeState, Event

from .conftest import EXAMPLES
from .test_capture import GOOD, _commission, _doc

REFERENCE = json.loads((pathlib.Path(__file__).parent / "data" / "gs1_reference_hashes.json").read_text())["documents"]


def _capture(officer, chain, raw, **kw):
    return services.capture_epcis_document(actor=officer, chunks=raw, organisation=chain["maker"], **kw)


def test_event_with_its_own_event_id_is_stored_under_it_and_others_under_their_hash(officer, chain):
    raw = (EXAMPLES / "Example_9.6.1-ObjectEvent.jsonld").read_bytes()
    events = orjson.loads(raw)["epcisBody"]["eventList"]
    expected = REFERENCE["JSON/Example_9.6.1-ObjectEvent.jsonld"]
    job = _capture(officer, chain, raw)
    stored = list(Event.objects.filter(capture=job).order_by("event_time").values_list("event_id", "event_hash"))
    for (event_id, event_hash), event, ref in zip(stored, sorted(events, key=lambda e: e["eventTime"]), expected,
                                                  strict=True):
        assert event_hash == ref
        assert event_id == event.get("eventID", ref)


def test_same_event_id_again_is_a_duplicate_and_a_new_id_with_the_same_content_is_not(officer, chain):
    first = dict(_commission(GOOD), eventID="urn:uuid:7a1c1f4e-0000-4000-8000-000000000001")
    _capture(officer, chain, _doc(first))
    again = _capture(officer, chain, _doc(dict(first, disposition="active")))
    assert again.events_duplicate == 1 and again.events_stored == 0
    other = _capture(officer, chain, _doc(dict(first, eventID="urn:uuid:7a1c1f4e-0000-4000-8000-000000000002")))
    assert other.events_stored == 1


def test_record_time_is_set_by_the_repository_and_returned(officer, chain):
    sent = dict(_commission(GOOD), recordTime="1999-01-01T00:00:00Z")
    job = _capture(officer, chain, _doc(sent, _commission(["urn:epc:id:sgtin:6901234.000001.77"])))
    for event in Event.objects.filter(capture=job):
        body = orjson.loads(event.body)
        assert body["recordTime"] != "1999-01-01T00:00:00Z"
        assert body["recordTime"].startswith(job.created_at.strftime("%Y-%m-%dT"))
        assert body["eventID"] == event.event_id


def test_context_after_epcis_body_is_accepted_and_hashes_the_same(officer, chain):
    doc = orjson.loads((EXAMPLES / "Example_9.6.2-ObjectEvent.jsonld").read_bytes())
    doc["@context"] = doc.pop("@context")
    job = _capture(officer, chain, orjson.dumps(doc))
    assert job.status == CaptureStatus.SUCCEEDED
    assert list(Event.objects.filter(capture=job).values_list("event_hash", flat=True)) == \
        REFERENCE["JSON/Example_9.6.2-ObjectEvent.jsonld"]


def test_a_query_document_can_be_captured(officer, chain):
    raw = (EXAMPLES / "EPCISQueryDocument.jsonld").read_bytes()
    job = _capture(officer, chain, raw)
    assert job.status == CaptureStatus.SUCCEEDED and job.events_received == 2
    assert sorted(Event.objects.filter(capture=job).values_list("event_hash", flat=True)) == \
        sorted(REFERENCE["JSON/EPCISQueryDocument.jsonld"])


SHIP = {"type": "ObjectEvent", "eventTime": "2026-01-06T08:00:00+08:00", "eventTimeZoneOffset": "+08:00",
        "action": "OBSERVE", "bizStep": "shipping", "disposition": "in_transit", "epcList": GOOD,
        "eventID": "urn:uuid:5b7e3c55-0000-4000-8000-00000000000a",
        "readPoint": {"id": "urn:epc:id:sgln:6901234.00001.0"},
        "sourceList": [{"type": "location", "source": "urn:epc:id:sgln:6901234.00001.0"}],
        "destinationList": [{"type": "location", "destination": "urn:epc:id:sgln:6901234.00002.0"}]}


def _state(epc):
    from smartgov.trace.codes import normalize_epc

    s = CodeState.objects.get(epc=normalize_epc(epc))
    return s.disposition, s.biz_step, s.biz_location


def test_error_declaration_is_stored_queryable_and_reverts_the_state(officer, chain, key_for_maker):
    _capture(officer, chain, _doc(_commission(GOOD)))
    before = _state(GOOD[0])
    _capture(officer, chain, _doc(SHIP))
    assert _state(GOOD[0])[0] == "in_transit"
    declaration = dict(SHIP, errorDeclaration={"declarationTime": "2026-01-07T08:00:00+08:00",
                                               "reason": "did_not_occur",
                                               "correctiveEventIDs": ["urn:uuid:5b7e3c55-0000-4000-8000-00000000000b"]})
    job = _capture(officer, chain, _doc(declaration))
    assert job.status == CaptureStatus.SUCCEEDED and job.events_duplicate == 0
    shipped = Event.objects.get(event_id=SHIP["eventID"])
    assert shipped.error_reason == "did_not_occur" and shipped.error_declared_at is not None
    assert orjson.loads(shipped.body)["errorDeclaration"]["reason"] == "did_not_occur"
    assert _state(GOOD[0]) == before  # back to commissioned at the maker
    client = Client()

    def ids(qs):
        resp = client.get(f"/api/trace/epcis/events?{qs}", HTTP_X_TRACE_KEY=key_for_maker)
        assert resp.status_code == 200, resp.content
        return [e["eventID"] for e in resp.json()["epcisBody"]["queryResults"]["resultsBody"]["eventList"]]

    assert ids("EQ_errorReason=did_not_occur") == [SHIP["eventID"]]
    assert ids("EQ_errorReason=https://ref.gs1.org/cbv/ER-did_not_occur") == [SHIP["eventID"]]
    assert ids("EXISTS_errorDeclaration=true") == [SHIP["eventID"]]
    assert ids("GE_errorDeclarationTime=2026-01-07T00:00:00Z") == [SHIP["eventID"]]
    assert ids("LT_errorDeclarationTime=2026-01-07T00:00:00Z") == []
    assert len(ids("EQ_errorReason=incorrect_data")) == 0
    # the same declaration again changes nothing
    assert _capture(officer, chain, _doc(declaration)).events_duplicate == 1


def test_declaration_of_an_unknown_event_is_kept_with_its_declaration(officer, chain):
    raw = (EXAMPLES / "WithErrorDeclaration" / "ErrorDeclarationAndCorrectiveEvent.jsonld").read_bytes()
    job = _capture(officer, chain, raw)
    assert job.events_stored == 2
    declared = Event.objects.get(event_id="urn:uuid:374d95fc-9457-4a51-bd6a-0bba133845a8")
    assert declared.error_reason == "incorrect_data"


@pytest.fixture
def key_for_maker(supervisor, chain):
    _, key = services.issue_capture_key(actor=supervisor, organisation=chain["maker"])
    return key


def test_capture_answers_202_with_the_location_of_a_standard_capture_job(key_for_maker):
    client = Client()
    resp = client.post("/api/trace/epcis/capture", data=_doc(_commission(GOOD)), content_type="application/ld+json",
                       HTTP_X_TRACE_KEY=key_for_maker)
    assert resp.status_code == 202
    job = resp.json()
    assert resp["Location"] == f"/api/trace/epcis/capture/{job['captureID']}"
    assert {"captureID", "running", "success", "captureErrorBehaviour", "errors", "createdAt", "finishedAt"} <= set(job)
    assert job["running"] is False and job["success"] is True and job["errors"] == []
    polled = client.get(resp["Location"], HTTP_X_TRACE_KEY=key_for_maker).json()
    assert polled["captureID"] == job["captureID"] and polled["finishedAt"]


def test_proceed_with_errors_is_not_a_success(key_for_maker):
    bad = dict(_commission(["urn:epc:id:sgtin:6901234.000001.5"]), action="MAYBE")
    resp = Client().post("/api/trace/epcis/capture", data=_doc(_commission(GOOD), bad),
                         content_type="application/ld+json", HTTP_X_TRACE_KEY=key_for_maker,
                         HTTP_GS1_CAPTURE_ERROR_BEHAVIOUR="proceed")
    job = resp.json()
    assert resp.status_code == 202 and job["success"] is False and job["eventsStored"] == 1
    assert job["errors"][0]["status"] == 400 and job["errors"][0]["instance"] == "#/epcisBody/eventList/1"


def test_clashing_prefixes_of_two_captures_are_not_merged_into_one_context(officer, chain, key_for_maker):
    def doc(namespace, serial):
        event = dict(_commission([f"urn:epc:id:sgtin:6901234.000001.{serial}"]), **{"ext:grade": "A"})
        return orjson.dumps({"@context": ["https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld",
                                          {"ext": namespace}],
                             "type": "EPCISDocument", "schemaVersion": "2.0", "creationDate": "2026-01-05T08:00:00Z",
                             "epcisBody": {"eventList": [event]}})

    _capture(officer, chain, doc("https://a.example.com/", 801))
    _capture(officer, chain, doc("https://b.example.com/", 802))
    result = Client().get("/api/trace/epcis/events", HTTP_X_TRACE_KEY=key_for_maker).json()
    declared = [c for c in result["@context"] if isinstance(c, dict)]
    assert declared == [{"ext": "https://a.example.com/"}]
    events = result["epcisBody"]["queryResults"]["resultsBody"]["eventList"]
    assert "@context" not in events[0]
    assert events[1]["@context"] == [{"ext": "https://b.example.com/"}]


def test_every_gs1_json_example_is_stored_with_the_reference_hash(officer, chain):
    """The capture path (streamed, with the EPC lists normalised once for storage and hash) gives the
    reference's hash for every event of every GS1 JSON-LD example."""
    for name, expected in sorted(REFERENCE.items()):
        if not name.startswith("JSON/"):
            continue
        job = _capture(officer, chain, (EXAMPLES / name[5:]).read_bytes())
        assert job.status == CaptureStatus.SUCCEEDED, name
        assert set(Event.objects.filter(capture=job).values_list("event_hash", flat=True)) <= set(expected), name
    # all but the events whose eventID an earlier example already used (stored once, by eventID)
    stored = set(Event.objects.values_list("event_hash", flat=True))
    assert len(stored) >= 40  # of 46 distinct reference hashes
