import orjson
import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from smartgov.trace import services
from smartgov.trace.models import Event

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
    assert _post(Client(), _doc()).status_code == 401
    assert _post(Client(), _doc(), key="sgt_nope_nope").status_code == 401


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
    for path in sorted(EXAMPLES.rglob("*.jsonld")):
        if orjson.loads(path.read_bytes()).get("type") == "EPCISDocument":
            assert _post(client, path.read_bytes(), key).status_code == 202, path.name
    return client


def test_gs1_examples_come_back_from_the_query_interface(key):
    client = _capture_examples(key)
    doc = client.get("/api/trace/epcis/events?perPage=1000", HTTP_X_TRACE_KEY=key).json()
    assert doc["type"] == "EPCISQueryDocument"
    events = doc["epcisBody"]["queryResults"]["resultsBody"]["eventList"]
    assert len(events) == Event.objects.count() > 40
    sample = orjson.loads((EXAMPLES / "Example_9.6.1-ObjectEvent.jsonld").read_bytes())["epcisBody"]["eventList"][0]
    assert sample in events


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


def test_bad_query_parameters_are_422_with_a_stable_code(key):
    client = Client()
    for qs in ("EQ_bizStep=shippin", "GE_eventTime=yesterday", "perPage=0", "nextPageToken=zzz", "FOO=1"):
        resp = client.get(f"/api/trace/epcis/events?{qs}", HTTP_X_TRACE_KEY=key)
        assert resp.status_code == 422, qs
        assert resp.json()["code"] == "QueryParameterException"


def test_pagination_walks_every_event_once_with_constant_queries(key):
    client = _capture_examples(key)
    seen, url, pages, queries = [], "/api/trace/epcis/events?perPage=7", 0, set()
    while url:
        with CaptureQueriesContext(connection) as ctx:
            resp = client.get(url, HTTP_X_TRACE_KEY=key)
        queries.add(len(ctx.captured_queries))
        seen.extend(resp.json()["epcisBody"]["queryResults"]["resultsBody"]["eventList"])
        link = resp.get("Link")
        url = link[1:link.index(">")] if link else None
        pages += 1
    assert len(seen) == Event.objects.count() and pages > 3
    assert len(queries) == 1  # every page costs the same number of queries


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
    person = register_person(actor=None, name="李四", id_number=factories.id_number("20180101", 9),
                             department=regulator_dept)
    resp = factories.staff_client(nurse).post(
        "/api/trace/vaccinations", data={"code": plan.doses[0], "id_number": person.id_number,
                                         "site_id": net.sites[0].pk}, content_type="application/json")
    assert resp.status_code == 409 and resp.json()["code"] == "dose_recalled"
