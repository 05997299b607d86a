import orjson
import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from smartgov.audit.models import AuditEntry
from smartgov.core.permissions import system_actor
from smartgov.trace import services
from smartgov.trace.models import CaptureJob, Event

from .conftest import EXAMPLES
from .test_capture import _commission, _doc


@pytest.fixture
def key(supervisor, chain):
    _, key = services.issue_capture_key(actor=supervisor, organisation=chain["maker"], label="ERP")
    return key


def _post(client, body, key=None, **headers):
    if key:
        headers["HTTP_X_TRACE_KEY"] = key
    return client.post("/api/trace/epcis/capture", data=body, content_type="application/ld+json", **headers)


def test_capture_with_organisation_key_returns_202_and_a_status_to_poll(key):
    client = Client()
    resp = _post(client, _doc(_commission([f"urn:epc:id:sgtin:6901234.000001.{i}" for i in range(5)])), key)
    assert resp.status_code == 202, resp.content
    capture_id = resp.json()["captureID"]
    status = client.get(f"/api/trace/epcis/capture/{capture_id}", HTTP_X_TRACE_KEY=key).json()
    assert status["success"] is True and status["eventsStored"] == 1 and status["epcEvents"] == 5


def test_capture_without_credentials_is_401_and_with_a_wrong_key_too(chain):
    jobs, events, entries = CaptureJob.objects.count(), Event.objects.count(), AuditEntry.objects.count()
    assert _post(Client(), _doc()).status_code == 401
    assert _post(Client(), _doc(), key="sgt_nope_nope").status_code == 401
    # refused, and nothing was written
    assert (CaptureJob.objects.count(), Event.objects.count(), AuditEntry.objects.count()) == (jobs, events, entries)


def test_invalid_document_is_422_with_per_event_errors_in_chinese(key):
    bad = dict(_commission(["urn:epc:id:sgtin:6901234.000001.1"]), action="MAYBE")
    resp = _post(Client(), _doc(_commission(["urn:epc:id:sgtin:6901234.000001.2"]), bad), key)
    assert resp.status_code == 422
    body = resp.json()
    assert body["code"] == "invalid_epcis_events" and "未保存" in body["message"]
    assert body["detail"]["errors"][0]["event"] == 1 and body["detail"]["errors"][0]["field"] == "action"
    assert Event.objects.count() == 0


def test_proceed_header_stores_the_valid_events(key):
    bad = dict(_commission(["urn:epc:id:sgtin:6901234.000001.1"]), action="MAYBE")
    resp = _post(Client(), _doc(_commission(["urn:epc:id:sgtin:6901234.000001.2"]), bad), key,
                 HTTP_GS1_CAPTURE_ERROR_BEHAVIOUR="proceed")
    assert resp.status_code == 202 and resp.json()["eventsStored"] == 1


def _capture_examples(key):
    client = Client()
    for path in sorted(EXAMPLES.rglob("*.jsonld")):  # EPCISDocuments and the EPCISQueryDocument
        assert _post(client, path.read_bytes(), key).status_code == 202, path.name
    return client


def test_gs1_examples_come_back_from_the_query_interface(key):
    client = _capture_examples(key)
    # identifiers as captured (the binding's default is Digital Links: tests/trace/test_query_formats.py)
    doc = client.get("/api/trace/epcis/events?perPage=1000", HTTP_X_TRACE_KEY=key,
                     HTTP_GS1_EPC_FORMAT="Never_Translates").json()
    assert doc["type"] == "EPCISQueryDocument"
    events = doc["epcisBody"]["queryResults"]["resultsBody"]["eventList"]
    assert len(events) == Event.objects.count() > 40
    sample = orjson.loads((EXAMPLES / "Example_9.6.1-ObjectEvent.jsonld").read_bytes())["epcisBody"]["eventList"][0]
    assert all(e["recordTime"] and e["eventID"] for e in events)
    assert sample in [{k: v for k, v in e.items() if k != "recordTime"} for e in events]


def test_query_filters_match_epcs_steps_times_and_locations(key):
    client = _capture_examples(key)

    def count(qs):
        resp = client.get(f"/api/trace/epcis/events?perPage=1000&{qs}", HTTP_X_TRACE_KEY=key)
        assert resp.status_code == 200, resp.content
        return len(resp.json()["epcisBody"]["queryResults"]["resultsBody"]["eventList"])

    assert count("MATCH_epc=urn:epc:id:sgtin:0614141.107346.2017") >= 1
    # the same code in Digital Link form finds the same events
    assert count("MATCH_epc=https://id.gs1.org/01/10614141073464/21/2017") == \
        count("MATCH_epc=urn:epc:id:sgtin:0614141.107346.2017")
    shipping = count("EQ_bizStep=shipping")
    receiving = count("EQ_bizStep=receiving")
    assert shipping > 0 and count("EQ_bizStep=shipping|receiving") == shipping + receiving
    assert count("EQ_bizStep=https://ref.gs1.org/cbv/BizStep-shipping") == shipping
    assert count("GE_eventTime=2005-04-03T00:00:00Z&LT_eventTime=2005-04-05T00:00:00Z") >= 1
    assert count("EQ_bizLocation=urn:epc:id:sgln:0614141.00888.0") >= 1
    assert count("MATCH_parentID=urn:epc:id:sscc:0614141.1234567890") >= 1
    assert count("EQ_disposition=in_transit") >= 1


def test_bad_query_parameters_are_400_problem_json_query_parameter_exceptions(key):
    client = Client()
    for qs in ("EQ_bizStep=shippin", "GE_eventTime=yesterday", "perPage=0", "nextPageToken=zzz", "FOO=1",
               "EQ_action=MAYBE", "eventType=FooEvent", "orderBy=bizStep", "orderDirection=UP",
               "eventCountLimit=0", "eventCountLimit=2&maxEventCount=2", "MATCH_epc=urn:epc:idpat:sscc:1.*",
               "EXISTS_errorDeclaration=perhaps", "EQ_errorReason=oops"):
        resp = client.get(f"/api/trace/epcis/events?{qs}", HTTP_X_TRACE_KEY=key)
        assert resp.status_code == 400, qs
        assert resp["Content-Type"] == "application/problem+json"
        body = resp.json()
        assert body["type"] == "epcisException:QueryParameterException" and body["status"] == 400, qs


def test_pagination_walks_every_event_once_with_constant_queries(key):
    client = _capture_examples(key)
    seen, url, pages, queries = [], "/api/trace/epcis/events?perPage=7", 0, []
    while url:
        with CaptureQueriesContext(connection) as ctx:
            resp = client.get(url, HTTP_X_TRACE_KEY=key)
        queries.append(len(ctx.captured_queries))
        seen.extend(resp.json()["epcisBody"]["queryResults"]["resultsBody"]["eventList"])
        link = resp.get("Link")
        url = link[1:link.index(">")] if link else None
        pages += 1
    assert len(seen) == Event.objects.count() and pages > 3
    # every page after the first costs the same number of queries (the first has no token to check
    # against the released ones)
    assert len(set(queries[1:])) == 1 and queries[0] == queries[1] - 1


def test_epc_events_endpoint_lists_the_events_of_one_code(key):
    client = _capture_examples(key)
    resp = client.get("/api/trace/epcis/epcs/urn:epc:id:sgtin:0614141.107346.2018/events", HTTP_X_TRACE_KEY=key)
    assert resp.status_code == 200
    assert len(resp.json()["epcisBody"]["queryResults"]["resultsBody"]["eventList"]) >= 1


def test_a_key_sees_only_its_own_organisations_events(key, supervisor, chain):
    _capture_examples(key)
    _, other = services.issue_capture_key(actor=supervisor, organisation=chain["site"])
    doc = Client().get("/api/trace/epcis/events", HTTP_X_TRACE_KEY=other).json()
    assert doc["epcisBody"]["queryResults"]["resultsBody"]["eventList"] == []


@pytest.fixture
def small_chain(regulator_dept):
    import datetime

    from django.utils import timezone

    from smartgov.trace import sim

    net = sim.build_network(regulator_dept, counties=1, sites_per_county=1)
    start = timezone.now() - datetime.timedelta(days=3)
    batch, issue = sim.make_batch(net, "A1", start.date(), doses=50)
    plan = sim.plan_batch(net, batch, issue, start=start, seq=1, administer=0)
    sim.capture_plan(plan)
    return net, plan


def test_trace_json_for_staff_and_lookup_for_everyone(small_chain, supervisor):
    from smartgov.trace import codes
    from tests import factories

    _, plan = small_chain
    code = codes.display(plan.doses[3])
    body = factories.staff_client(supervisor).get(f"/api/trace/trace/{code}").json()
    assert body["code"] == code and body["events"][0]["biz_step"] == "commissioning"
    assert any(e["via"] for e in body["events"])
    public = Client().get(f"/api/trace/lookup/{code}").json()
    assert public["genuine"] is True and public["batch"]["lot"] == "A1" and "events" not in public
    assert Client().get(f"/api/trace/trace/{code}").status_code == 401
    bad = Client().get("/api/trace/lookup/123")
    assert bad.status_code == 422 and bad.json()["code"] == "invalid_code"


def test_readings_upload_by_key_of_the_loggers_organisation_only(small_chain, supervisor):
    net, _ = small_chain
    site = net.sites[0]
    fridge = net.fridges[site.pk]
    _, own = services.issue_capture_key(actor=supervisor, organisation=site)
    _, other = services.issue_capture_key(actor=supervisor, organisation=net.province)
    csv = b"time,celsius\n2026-11-01T08:00:00+08:00,5.0\n2026-11-01T09:00:00+08:00,5.5\n"
    resp = Client().post(f"/api/trace/loggers/{fridge.pk}/readings", data=csv, content_type="text/csv",
                         HTTP_X_TRACE_KEY=own)
    assert resp.status_code == 201 and resp.json()["stored"] == 2
    resp = Client().post(f"/api/trace/loggers/{fridge.pk}/readings", data=csv, content_type="text/csv",
                         HTTP_X_TRACE_KEY=other)
    assert resp.status_code == 403 and resp.json()["code"] == "logger_out_of_scope"


def test_vaccination_api_refuses_a_recalled_dose_with_a_stable_code(small_chain, supervisor, regulator_dept):
    from smartgov.core.permissions import Role
    from smartgov.identity.services import register_person
    from smartgov.trace.models import Batch
    from tests import factories

    net, plan = small_chain
    services.recall_batch(actor=supervisor, batch=Batch.objects.get(lot="A1"), reason="不合格")
    nurse = factories.user(Role.OFFICER, department=regulator_dept)
    person = register_person(actor=system_actor("test"), name="李四", id_number=factories.id_number("20180101", 9),
                             department=regulator_dept)
    resp = factories.staff_client(nurse).post(
        "/api/trace/vaccinations", data={"code": plan.doses[0], "id_number": person.id_number,
                                         "site_id": net.sites[0].pk}, content_type="application/json")
    assert resp.status_code == 409 and resp.json()["code"] == "dose_recalled"


# ------------------------------------------------------------------ EPCIS 2.0 REST binding (openapi.yaml)

def _events(client, key, qs):
    resp = client.get(f"/api/trace/epcis/{qs}", HTTP_X_TRACE_KEY=key)
    assert resp.status_code == 200, (qs, resp.content)
    return resp.json()["epcisBody"]["queryResults"]["resultsBody"]["eventList"]


def test_query_responses_carry_the_standard_headers_and_options_lists_the_methods(key):
    client = _capture_examples(key)
    resp = client.get("/api/trace/epcis/events", HTTP_X_TRACE_KEY=key)
    assert resp["GS1-EPCIS-Version"] == "2.0.0" and resp["GS1-CBV-Version"] == "2.0.0"
    options = client.options("/api/trace/epcis/events")
    assert options.status_code == 204 and "GET" in options["Allow"] and options["GS1-EPCIS-Max"] == "2.0.0"
    assert "POST" in client.options("/api/trace/epcis/capture")["Allow"]


def test_order_limits_record_time_and_epc_patterns(key):
    client = _capture_examples(key)
    asc = [e["eventTime"] for e in _events(client, key, "events?orderBy=eventTime&orderDirection=ASC&perPage=1000")]
    desc = [e["eventTime"] for e in _events(client, key, "events?orderBy=eventTime&perPage=1000")]
    assert len(asc) == Event.objects.count() and asc[0] <= asc[-1] and desc[0] >= desc[-1]
    assert len(_events(client, key, "events?eventCountLimit=3&perPage=2")) == 2
    resp = client.get("/api/trace/epcis/events?maxEventCount=1", HTTP_X_TRACE_KEY=key)
    assert resp.status_code == 413 and resp.json()["type"] == "epcisException:QueryTooLargeException"
    assert len(_events(client, key, "events?GE_recordTime=2000-01-01T00:00:00Z&perPage=1000")) == Event.objects.count()
    assert _events(client, key, "events?LT_recordTime=2000-01-01T00:00:00Z") == []
    # urn:epc:idpat:sgtin:0614141.107346.* — every serial of that GTIN (Example 9.6.1 has 2017 and 2018)
    by_pattern = _events(client, key, "events?MATCH_epc=urn:epc:idpat:sgtin:0614141.107346.*&perPage=1000")
    by_one = _events(client, key, "events?MATCH_epc=urn:epc:id:sgtin:0614141.107346.2017&perPage=1000")
    assert len(by_pattern) > len(by_one) >= 1


def test_ordered_pages_walk_every_event_once(key):
    client = _capture_examples(key)
    seen, url = [], "/api/trace/epcis/events?orderBy=recordTime&orderDirection=ASC&perPage=7"
    while url:
        resp = client.get(url, HTTP_X_TRACE_KEY=key)
        seen.extend(e["eventID"] for e in resp.json()["epcisBody"]["queryResults"]["resultsBody"]["eventList"])
        link = resp.get("Link")
        url = link[1:link.index(">")] if link else None
    assert sorted(seen) == sorted(Event.objects.values_list("event_id", flat=True))


def test_rest_resources_list_their_members_and_their_events(key):
    client = _capture_examples(key)
    types = client.get("/api/trace/epcis/eventTypes", HTTP_X_TRACE_KEY=key).json()
    assert types["type"] == "Collection" and "AssociationEvent" in types["member"]
    steps = client.get("/api/trace/epcis/bizSteps?perPage=1000", HTTP_X_TRACE_KEY=key).json()["member"]
    assert "shipping" in steps and steps == sorted(steps)
    shipping = _events(client, key, "bizSteps/shipping/events?perPage=1000")
    assert shipping and len(shipping) == len(_events(client, key, "events?EQ_bizStep=shipping&perPage=1000"))
    assert len(_events(client, key, "eventTypes/AggregationEvent/events?perPage=1000")) >= 1
    assert all(e["type"] == "AggregationEvent"
               for e in _events(client, key, "eventTypes/AggregationEvent/events?perPage=1000"))
    epcs = client.get("/api/trace/epcis/epcs?perPage=5", HTTP_X_TRACE_KEY=key)
    assert len(epcs.json()["member"]) == 5 and "rel=\"next\"" in epcs["Link"]
    for resource in ("bizLocations", "readPoints", "dispositions"):
        member = client.get(f"/api/trace/epcis/{resource}", HTTP_X_TRACE_KEY=key).json()["member"][0]
        assert _events(client, key, f"{resource}/{member}/events?perPage=1000")
    one = _events(client, key, "events?perPage=1")[0]
    assert _events(client, key, f"events/{one['eventID'].replace('?', '%3F')}") == [one]
    assert client.get("/api/trace/epcis/events/urn:uuid:nope", HTTP_X_TRACE_KEY=key).status_code == 404


def test_named_queries_are_created_run_listed_and_deleted(key):
    client = _capture_examples(key)
    body = {"name": "shipped", "query": {"EQ_bizStep": ["shipping"], "GE_eventTime": "2000-01-01T00:00:00Z"}}
    resp = client.post("/api/trace/epcis/queries", data=body, content_type="application/json", HTTP_X_TRACE_KEY=key)
    assert resp.status_code == 201, resp.content
    assert resp["Location"] == "/api/trace/epcis/queries/shipped"
    run = _events(client, key, "queries/shipped/events?perPage=1000")
    assert run and len(run) == len(_events(client, key, "events?EQ_bizStep=shipping&perPage=1000"))
    assert [q["name"] for q in client.get("/api/trace/epcis/queries", HTTP_X_TRACE_KEY=key).json()["member"]] == \
        ["shipped"]
    again = client.post("/api/trace/epcis/queries", data=body, content_type="application/json", HTTP_X_TRACE_KEY=key)
    assert again.status_code == 409
    bad = client.post("/api/trace/epcis/queries", data={"name": "bad", "query": {"EQ_bizStep": "shippin"}},
                      content_type="application/json", HTTP_X_TRACE_KEY=key)
    assert bad.status_code == 400 and bad["Content-Type"] == "application/problem+json"
    assert client.delete("/api/trace/epcis/queries/shipped", HTTP_X_TRACE_KEY=key).status_code == 204
    assert client.get("/api/trace/epcis/queries/shipped/events", HTTP_X_TRACE_KEY=key).status_code == 404
