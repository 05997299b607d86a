import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from smartgov.accounts import services as accounts
from smartgov.core.permissions import Role, system_actor
from smartgov.grain import selectors as grain_selectors
from smartgov.overview import selectors
from smartgov.trace import services as trace_services
from tests import factories
from tests.hall.conftest import hall_world  # noqa: F401

from .helpers import cold_chain_excursion
from .test_overview import city, hot_spot  # noqa: F401

pytestmark = pytest.mark.django_db


def coded(top, a, b):
    actor = system_actor("test")
    for dept, code in ((top, "330100"), (a, "330102"), (b, "330103")):
        accounts.update_department(actor=actor, department=dept, changes={"region_code": code})


def truck(department, positions):
    org = trace_services.create_organisation(actor=system_actor("tests"), name="配送企业", kind="distributor", department=department,
                                             location_uri="urn:epc:id:sgln:6909999.90000.0",
                                             party_uri="urn:epc:id:pgln:6909999.90000")
    car = trace_services.register_logger(actor=system_actor("tests"), organisation=org, kind="vehicle", name="陕A冷藏01",
                                         device_id="urn:epc:id:giai:6909999.V1", location_uri=org.location_uri)
    now = timezone.now()
    rows = [{"time": now - datetime.timedelta(minutes=20 * (len(positions) - k)), "celsius": 5.0,
             "latitude": lat, "longitude": lng} for k, (lat, lng) in enumerate(positions)]
    trace_services.record_readings(actor=system_actor("tests"), logger=car, rows=rows, source="test")
    return car


def test_the_map_shows_only_the_leaders_regions_and_places(city):  # noqa: F811
    city, a, b = city
    coded(city, a, b)
    hot_spot(a)
    cold_chain_excursion(b)
    truck(b, [(34.30, 108.75), (34.31, 108.80)])
    leader_a = factories.user(Role.SUPERVISOR, department=a)
    mayor = factories.user(Role.DEPT_ADMIN, department=city)

    geo_a = selectors.regions_for(leader_a, a)
    assert [f["properties"]["code"] for f in geo_a["features"]] == ["330102"]
    map_a = selectors.map_data(leader_a, a)
    assert [(m["kind_en"], m["status"]) for m in map_a["markers"]] == [("Grain depot", "alert")]
    depot = map_a["markers"][0]
    assert depot["placed"] == "region" and depot["region_code"] == "330102"
    assert 108.84 < depot["longitude"] < 109.12  # drawn inside 东城区 of the demo regions

    assert {f["properties"]["code"] for f in selectors.regions_for(mayor, city)["features"]} == {"330102", "330103"}
    markers = selectors.map_data(mayor, city)["markers"]
    assert sorted((m["kind_en"], m["status"]) for m in markers) == [
        ("Grain depot", "alert"), ("Vaccination site", "alert"), ("Vehicle", "ok")]
    car = next(m for m in markers if m["kind_en"] == "Vehicle")
    assert (car["latitude"], car["longitude"], car["placed"]) == (34.31, 108.80, "gnss")  # the last position

    page = factories.staff_client(leader_a).get("/overview/")
    assert page.status_code == 200 and '<script id="overview-geo" type="application/json">' in page.content.decode()
    assert "330103" not in page.content.decode()


def test_the_map_is_in_the_snapshot_the_stream_pushes(city):  # noqa: F811
    city, a, _b = city
    leader = factories.user(Role.SUPERVISOR, department=a)
    before = selectors.figures_only(selectors.snapshot(leader, a))
    hot_spot(a)
    after = selectors.figures_only(selectors.snapshot(leader, a))
    assert before["map"]["markers"] == [] and after["map"]["markers"][0]["status"] == "alert"


def test_without_region_codes_every_region_is_drawn(city):  # noqa: F811
    city, a, _b = city
    leader = factories.user(Role.SUPERVISOR, department=a)
    assert len(selectors.regions_for(leader, a)["features"]) == 2


def test_map_marker_selectors_use_a_constant_number_of_queries(city):  # noqa: F811
    from smartgov.hall import selectors as hall_selectors
    from smartgov.trace import selectors as trace_selectors

    city, a, _b = city
    actor = system_actor("test")
    counts = []
    for n in (1, 4):
        for k in range(n):
            hot_spot(a, code=f"Q{n}{k}")
            cold_chain_excursion(a)
        with CaptureQueriesContext(connection) as q:
            for fn in (grain_selectors.map_markers, trace_selectors.map_markers, hall_selectors.map_markers):
                fn(actor=actor, department=city)
        counts.append(len(q))
    assert counts[0] == counts[1] <= 4


def test_a_hall_is_a_place_with_the_people_waiting(hall_world):  # noqa: F811
    from smartgov.hall import services as hall_services

    w = hall_world
    hall_services.issue_ticket(actor=w["officers"][0], hall=w["hall"], service=w["passport"], at=timezone.now())
    markers = selectors.map_data(w["admin"], w["dept"])["markers"]
    assert [(m["kind_en"], m["status_label"], m["url"]) for m in markers] == [
        ("Service hall", "等候 1 人", "/hall/CRJ-T/stats/")]
    other = factories.user(Role.DEPT_ADMIN)  # another department's leader: not in their map
    assert selectors.map_data(other, other.department)["markers"] == []
