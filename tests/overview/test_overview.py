import orjson
import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from smartgov.accounts.models import Level
from smartgov.audit.models import AuditEntry
from smartgov.core.errors import InvalidInput, NotFound
from smartgov.core.permissions import Role, system_actor
from smartgov.grain import services as grain_services
from smartgov.grain.models import Source
from smartgov.grain.readings import WarehouseDirectory, scan_from_dict
from smartgov.overview import selectors, services
from smartgov.overview.models import Acknowledgement
from smartgov.overview.registry import providers
from tests import factories
from tests.grain import factories as gf

pytestmark = pytest.mark.django_db


def hot_spot(county, code="P1"):
    """A depot under ``county`` with one warehouse whose scan has a hot spot (one open grain alert)."""
    wh = gf.warehouse(gf.depot(county), code=code)
    info = WarehouseDirectory(actor=system_actor("tests")).by_id(wh.pk)
    grain_services.ingest_scans(actor=system_actor("test"), scans=[scan_from_dict(gf.scan_json(wh, gf.temps(wh, 12.0, p5=17.0)), info)],
                                source=Source.MQTT)
    return wh


@pytest.fixture
def city():
    city = factories.department("市政府", level=Level.CITY)
    a = factories.department("甲县", parent=city, level=Level.COUNTY)
    b = factories.department("乙县", parent=city, level=Level.COUNTY)
    return city, a, b


def figure(data, key):
    return next(i["value"] for g in data["apps"] for i in g["indicators"] if i["key"] == key)


def test_every_installed_app_with_an_indicators_selector_joins():
    labels = {p.label for p in providers()}
    assert {"onestop", "workflow", "trace", "grain", "licences", "audit", "smart", "hall", "eid", "exchange",
            "seccloud", "park"} <= labels
    assert "identity" not in labels and "overview" not in labels  # no selector: simply absent


def test_a_county_leader_never_sees_another_countys_figures(city):
    city, a, b = city
    hot_spot(a)
    hot_spot(b)
    hot_spot(b, code="P2")
    leader_a = factories.user(Role.SUPERVISOR, department=a)
    mayor = factories.user(Role.DEPT_ADMIN, department=city)

    own = selectors.snapshot(leader_a, selectors.department_for(leader_a))
    assert figure(own, "grain.hot_spot_warehouses") == 1
    assert {x["app"] for x in own["alerts"]} == {"grain"} and len(own["alerts"]) == 1
    assert all(i["department"] == a.path for g in own["apps"] for i in g["indicators"])
    whole = selectors.snapshot(mayor, selectors.department_for(mayor))
    assert figure(whole, "grain.hot_spot_warehouses") == 3 and len(whole["alerts"]) == 3
    assert figure(selectors.snapshot(mayor, selectors.department_for(mayor, b.pk)), "grain.hot_spot_warehouses") == 2

    with pytest.raises(NotFound):
        selectors.department_for(leader_a, b.pk)
    with pytest.raises(NotFound):  # the app selectors refuse it too, not only the overview
        next(p for p in providers() if p.label == "grain").indicators(actor=leader_a, department=b)
    client = factories.staff_client(leader_a)
    for url in ("/overview/", "/overview/wall/", "/overview/data/", "/overview/live/"):
        assert client.get(url + f"?dept={b.pk}").status_code == 404
        assert client.get(url + f"?dept={city.pk}").status_code == 404
    page = client.get("/overview/")
    assert page.status_code == 200 and "甲县" in page.content.decode() and "乙县" not in page.content.decode()
    data = orjson.loads(client.get("/overview/data/").content)
    assert figure(data, "grain.hot_spot_warehouses") == 1


def test_plain_officers_do_not_see_the_screen(city):
    officer = factories.user(Role.OFFICER, department=city[1])
    client = factories.staff_client(officer)
    assert client.get("/overview/").status_code == 403
    assert client.get("/overview/live/").status_code == 403


def test_the_wall_page_is_dark_and_carries_its_data_as_json(city):
    mayor = factories.user(Role.DEPT_ADMIN, department=city[0])
    hot_spot(city[1])
    body = factories.staff_client(mayor).get("/overview/wall/").content.decode()
    assert 'class="ov-wall"' in body and 'id="overview-data"' in body and "echarts.min.js" in body
    assert "grain.hot_spot_warehouses" in body


@pytest.mark.parametrize("label", ["onestop", "workflow", "trace", "grain", "licences", "audit", "smart", "hall", "eid", "exchange", "seccloud", "park"])
def test_indicator_selectors_take_a_constant_number_of_queries(city, label):
    city, a, b = city
    mayor = factories.user(Role.DEPT_ADMIN, department=city)
    provider = next(p for p in providers() if p.label == label)

    def count():
        with CaptureQueriesContext(connection) as ctx:
            provider.indicators(actor=mayor, department=city)
            if provider.alerts:
                provider.alerts(actor=mayor, department=city, limit=20)
        return len(ctx.captured_queries)

    before = count()
    hot_spot(a)
    for n in range(3):
        hot_spot(b, code=f"Q{n}")
    assert count() == before <= 6


def test_acknowledging_an_alert_hides_it_for_that_leader_only_and_is_audited(city):
    city, a, _ = city
    hot_spot(a)
    leader = factories.user(Role.SUPERVISOR, department=a)
    mayor = factories.user(Role.DEPT_ADMIN, department=city)
    key = selectors.snapshot(leader, a)["alerts"][0]["key"]
    client = factories.staff_client(leader)
    resp = client.post("/overview/acknowledge/", {"key": key}, HTTP_ACCEPT="application/json")
    assert resp.status_code == 200
    assert selectors.snapshot(leader, a)["alerts"] == []
    assert [x["acknowledged"] for x in selectors.snapshot(leader, a, include_acknowledged=True)["alerts"]] == [True]
    assert len(selectors.snapshot(mayor, city)["alerts"]) == 1
    assert AuditEntry.objects.filter(action="overview.acknowledge_alert", target_id=key).count() == 1
    services.acknowledge_alert(actor=leader, alert_key=key)  # twice: one record, one audit entry
    assert Acknowledgement.objects.count() == 1
    assert AuditEntry.objects.filter(action="overview.acknowledge_alert").count() == 1


def test_a_bad_alert_key_changes_nothing(city):
    leader = factories.user(Role.SUPERVISOR, department=city[1])
    for key in ("", "nope", "identity.x:1", "x" * 200):
        with pytest.raises(InvalidInput):
            services.acknowledge_alert(actor=leader, alert_key=key)
    resp = factories.staff_client(leader).post("/overview/acknowledge/", {"key": "bogus.x:1"},
                                               HTTP_ACCEPT="application/json")
    assert resp.status_code == 422 and orjson.loads(resp.content)["code"] == "invalid_alert_key"
    assert Acknowledgement.objects.count() == 0
    officer = factories.user(Role.OFFICER, department=city[1])
    assert factories.staff_client(officer).post("/overview/acknowledge/", {"key": "grain.heat:1"}).status_code == 403


def test_the_live_stream_pushes_a_changed_figure_without_a_reload(city, settings):
    settings.OVERVIEW_LIVE_POLL_S = 0.01
    settings.OVERVIEW_LIVE_MAX_S = 30
    city, a, _ = city
    leader = factories.user(Role.SUPERVISOR, department=a)
    resp = factories.staff_client(leader).get("/overview/live/")
    assert resp.status_code == 200 and resp["Content-Type"] == "text/event-stream"
    chunks = iter(resp.streaming_content)
    assert next(chunks).startswith(b"retry:")
    first = next(chunks)
    assert first.startswith(b"event: snapshot\ndata: ")
    assert figure(orjson.loads(first.split(b"data: ", 1)[1]), "grain.hot_spot_warehouses") == 0
    hot_spot(a)  # a scan arrives elsewhere
    pushed = next(chunks)
    data = orjson.loads(pushed.split(b"data: ", 1)[1])
    assert figure(data, "grain.hot_spot_warehouses") == 1 and data["alerts"][0]["app"] == "grain"
    resp.close()


def test_the_demo_leaders_are_made_once():
    import io

    from smartgov.accounts.models import User
    from smartgov.overview.demo import LEADERS, load_demo

    parent = factories.department("示范省", level=Level.PROVINCE)
    from smartgov.accounts import services as account_services

    for code in ("SF-ZWJ", "DC-SPJ"):
        account_services.create_department(actor=system_actor("test"), name=code, code=code, level=Level.CITY, parent=parent,
                                           uscc=factories.uscc())
    load_demo(stdout=io.StringIO())
    load_demo(stdout=io.StringIO())
    assert User.objects.filter(username__in=[u for u, *_ in LEADERS]).count() == 2


def test_the_screen_reads_in_english(city):
    mayor = factories.user(Role.DEPT_ADMIN, department=city[0])
    client = factories.staff_client(mayor)
    client.post("/i18n/setlang/", {"language": "en", "next": "/"})
    body = client.get("/overview/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "City overview" in body and "vs yesterday" in body


def test_cold_chain_excursions_reach_the_leader_of_their_county_only(city):
    from tests.overview.helpers import cold_chain_excursion

    city, a, b = city
    cold_chain_excursion(a)
    leader_a = factories.user(Role.SUPERVISOR, department=a)
    leader_b = factories.user(Role.SUPERVISOR, department=b)
    mine = selectors.snapshot(leader_a, a)
    assert figure(mine, "trace.cold_chain_alerts") == 2
    assert {x["kind"] for x in mine["alerts"]} == {"冷链超温"} and mine["alerts"][0]["url"] == "/trace/"
    theirs = selectors.snapshot(leader_b, b)
    assert figure(theirs, "trace.cold_chain_alerts") == 0 and theirs["alerts"] == []


def test_the_benchmark_reports_the_screen_figures():
    from smartgov.overview.bench import BENCHMARKS

    result = BENCHMARKS["overview"](progress=lambda n: None, cases=240, clients=0)  # screens need a server process: the SSE path is in test_live_asgi
    assert result["cases"] == 240 and result["cases_in_scope"] == 20
    assert 0 < result["screen_p50_ms"] <= result["screen_p99_ms"]
    assert {"onestop", "grain", "trace"} <= set(result["per_app_p99_ms"])
    assert "sse_clients" not in result
