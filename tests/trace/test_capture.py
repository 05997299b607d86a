import orjson
import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from smartgov.audit.models import AuditEntry
from smartgov.core.errors import Forbidden, InvalidInput
from smartgov.trace import services
from smartgov.trace.models import CaptureJob, CaptureStatus, CodeState, Event, EventEpc

from .conftest import EXAMPLES

DOCS = sorted(p for p in EXAMPLES.rglob("*.jsonld") if orjson.loads(p.read_bytes()).get("type") == "EPCISDocument")


@pytest.mark.parametrize("path", DOCS, ids=lambda p: p.name)
def test_every_published_gs1_example_document_is_accepted(path, officer, chain):
    raw = path.read_bytes()
    expected = len(orjson.loads(raw)["epcisBody"]["eventList"])
    job = services.capture_epcis_document(actor=officer, chunks=raw, organisation=chain["maker"])
    assert job.status == CaptureStatus.SUCCEEDED
    assert job.events_received == expected
    assert Event.objects.filter(capture=job).count() + job.events_duplicate == expected


def test_all_gs1_examples_in_one_go_then_again_are_stored_once(officer, chain):
    for path in DOCS:
        services.capture_epcis_document(actor=officer, chunks=path.read_bytes(), organisation=chain["maker"])
    events, epcs = Event.objects.count(), EventEpc.objects.count()
    assert events > 40
    for path in DOCS:
        job = services.capture_epcis_document(actor=officer, chunks=path.read_bytes(), organisation=chain["maker"])
        assert job.events_stored == 0 and job.events_duplicate == job.events_received
    assert (Event.objects.count(), EventEpc.objects.count()) == (events, epcs)


def _doc(*events):
    return orjson.dumps({"@context": ["https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld"],
                         "type": "EPCISDocument", "schemaVersion": "2.0", "creationDate": "2026-01-05T08:00:00Z",
                         "epcisBody": {"eventList": list(events)}})


def _commission(epcs, lot="202601A", time="2026-01-05T08:00:00+08:00"):
    return {"type": "ObjectEvent", "eventTime": time, "eventTimeZoneOffset": "+08:00", "action": "ADD",
            "bizStep": "commissioning", "disposition": "active", "epcList": epcs,
            "bizLocation": {"id": "urn:epc:id:sgln:6901234.00001.0"},
            "ilmd": {"cbvmda:lotNumber": lot, "cbvmda:itemExpirationDate": "2028-01-04"}}


GOOD = [f"urn:epc:id:sgtin:6901234.000001.{i}" for i in range(3)]


def test_malformed_events_are_reported_by_index_and_field_and_nothing_is_stored(officer, chain):
    bad_epc = dict(_commission(["urn:epc:id:sgtin:6901234.000001.9"]), epcList=["not a uri"])
    bad_step = dict(_commission(["urn:epc:id:sgtin:6901234.000001.8"]), bizStep="shippin")
    bad_time = dict(_commission(["urn:epc:id:sgtin:6901234.000001.7"]), eventTime="yesterday")
    with pytest.raises(InvalidInput) as exc:
        services.capture_epcis_document(actor=officer, chunks=_doc(_commission(GOOD), bad_epc, bad_step, bad_time),
                                        organisation=chain["maker"])
    assert exc.value.code == "invalid_epcis_events"
    errors = exc.value.detail["errors"]
    assert [(e["event"], e["field"]) for e in errors] == [(1, "epcList[0]"), (2, "bizStep"), (3, "eventTime")]
    assert Event.objects.count() == 0 and CodeState.objects.count() == 0
    job = CaptureJob.objects.get(pk=exc.value.detail["captureID"])
    assert job.status == CaptureStatus.FAILED and len(job.errors) == 3


def test_proceed_stores_the_valid_events_and_reports_the_others(officer, chain):
    bad = dict(_commission(["urn:epc:id:sgtin:6901234.000001.9"]), action="MAYBE")
    job = services.capture_epcis_document(actor=officer, chunks=_doc(_commission(GOOD), bad),
                                          organisation=chain["maker"], behaviour="proceed")
    assert job.status == CaptureStatus.PARTIAL
    assert job.events_stored == 1 and job.errors[0]["event"] == 1 and job.errors[0]["field"] == "action"
    assert CodeState.objects.filter(batch_id=chain["batch"].pk).count() == 3


def test_document_that_is_not_epcis_or_not_json_is_rejected(officer, chain):
    with pytest.raises(InvalidInput) as exc:
        services.capture_epcis_document(actor=officer, chunks=b'{"type": "EPCISDocument", "epcisBody": {"eventList": [',
                                        organisation=chain["maker"])
    assert exc.value.code == "invalid_epcis_document"
    with pytest.raises(InvalidInput):
        services.capture_epcis_document(actor=officer, chunks=orjson.dumps({"type": "Nope", "epcisBody": {"eventList": []}}),
                                        organisation=chain["maker"])
    assert Event.objects.count() == 0


def test_unknown_lot_for_a_known_product_is_an_error_of_that_event(officer, chain):
    with pytest.raises(InvalidInput) as exc:
        services.capture_epcis_document(actor=officer, chunks=_doc(_commission(GOOD, lot="NOPE")),
                                        organisation=chain["maker"])
    assert exc.value.detail["errors"][0]["field"] == "ilmd.lotNumber"


def test_curie_with_undeclared_prefix_is_rejected_and_declared_one_accepted(officer, chain):
    ev = dict(_commission(GOOD), bizStep="ext:vaccinating")
    with pytest.raises(InvalidInput) as exc:
        services.capture_epcis_document(actor=officer, chunks=_doc(ev), organisation=chain["maker"])
    assert "ext" in exc.value.detail["errors"][0]["message"]
    doc = orjson.loads(_doc(ev))
    doc["@context"].append({"ext": "https://smartgov.example/voc/"})
    services.capture_epcis_document(actor=officer, chunks=orjson.dumps(doc), organisation=chain["maker"])
    assert Event.objects.get().biz_step == "https://smartgov.example/voc/vaccinating"


def test_cbv_spellings_are_stored_as_the_same_term(officer, chain):
    a = dict(_commission(GOOD[:1]), bizStep="https://ref.gs1.org/cbv/BizStep-commissioning")
    b = dict(_commission(GOOD[1:2]), bizStep="cbv:BizStep-commissioning")
    services.capture_epcis_document(actor=officer, chunks=_doc(a, b), organisation=chain["maker"])
    assert set(Event.objects.values_list("biz_step", flat=True)) == {"commissioning"}


def test_streamed_document_in_small_chunks_gives_the_same_result(officer, chain):
    raw = _doc(_commission(GOOD))
    job = services.capture_epcis_document(actor=officer, chunks=[raw[i:i + 7] for i in range(0, len(raw), 7)],
                                          organisation=chain["maker"])
    assert job.events_stored == 1 and job.epc_events == 3


def test_one_audit_entry_per_capture_job_not_per_event(officer, chain):
    before = AuditEntry.objects.filter(action="trace.capture").count()
    events = [_commission([f"urn:epc:id:sgtin:6901234.000001.{i}"]) for i in range(50)]
    services.capture_epcis_document(actor=officer, chunks=_doc(*events), organisation=chain["maker"])
    assert AuditEntry.objects.filter(action="trace.capture").count() == before + 1


def test_capture_queries_do_not_grow_with_the_number_of_events(officer, chain):
    def run(n, start):
        events = [_commission([f"urn:epc:id:sgtin:6901234.000001.{start + i}"]) for i in range(n)]
        with CaptureQueriesContext(connection) as ctx:
            services.capture_epcis_document(actor=officer, chunks=_doc(*events), organisation=chain["maker"])
        return len(ctx.captured_queries)

    run(1, 5000)  # the first write of a test may re-read what the audit trail caches per process
    assert run(5, 0) == run(200, 1000)


def test_capture_outside_ones_scope_or_without_permission_is_forbidden(chain, supervisor):
    from smartgov.core.permissions import Role
    from tests import factories

    stranger = factories.user(Role.OFFICER)
    with pytest.raises(Forbidden):
        services.capture_epcis_document(actor=stranger, chunks=_doc(_commission(GOOD)), organisation=chain["maker"])
    with pytest.raises(Forbidden):
        services.capture_epcis_document(actor=supervisor, chunks=_doc(_commission(GOOD)), organisation=chain["maker"])
    assert Event.objects.count() == 0
