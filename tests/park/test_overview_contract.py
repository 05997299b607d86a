"""The park on the city overview (issue 18's contract, docs/overview.md): occupancy, resident enterprises
and open device alarms of a department's parks and below, its alarms in the rolling list and its parks
on the region map — scoped (another district's park is refused like a missing department) and in a
constant number of queries however many parks and alarms there are."""

from datetime import UTC, date, datetime, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from smartgov.accounts.models import Level
from smartgov.core.errors import NotFound
from smartgov.core.indicators import day_starts
from smartgov.core.permissions import Role
from smartgov.iot import services as iot
from smartgov.overview.registry import marker_sources, providers
from smartgov.park import selectors, services
from tests import factories
from tests.park import factories as pf

from .test_pages_and_api import SYS, _meter_readings

pytestmark = pytest.mark.django_db


def _alarming_park(dept, code):
    p = pf.park(dept, code=code)
    b = pf.building(p)
    leased, free = pf.unit(b, code="101", area="300"), pf.unit(b, code="102", area="100")
    pf.lease(p, pf.enterprise(p), [leased], code=f"L-{code}", start=date(2026, 1, 1), end=date(2027, 12, 31))
    services.provision_device(actor=SYS, park=p, kind="meter", code=f"em-{code}", name="电表", unit=free)
    services.import_rules(actor=SYS, park=p, data=[{"name": "功率过高", "device_kind": "meter", "conditions": [
        {"key": "activePower", "cmp": ">", "value": 80, "for_seconds": 60}]}])
    t0 = datetime.now(UTC) - timedelta(minutes=5)
    iot.ingest_telemetry(actor=SYS, source="test", readings=_meter_readings(
        f"em-{code}", [(t0 + timedelta(minutes=m), {"activePower": 95.0}) for m in range(3)]))
    return p


@pytest.fixture
def districts():
    city = factories.department("示范市", level=Level.CITY)
    return city, factories.department("甲区", parent=city, level=Level.COUNTY), \
        factories.department("乙区", parent=city, level=Level.COUNTY)


def _figures(actor, dept):
    return {i["key"]: i["value"] for i in selectors.indicators(actor=actor, department=dept)}


def test_the_park_joins_the_overview_with_its_figures_alarms_and_places(districts):
    city, a, _b = districts
    _alarming_park(a, "PA")
    mayor = factories.user(Role.DEPT_ADMIN, department=city)
    assert "park" in {p.label for p in providers()} and "park" in {label for label, _ in marker_sources()}
    assert _figures(mayor, city) == {"park.occupancy": 75.0, "park.enterprises": 1, "park.open_alarms": 1,
                                     "park.energy_today": 0.0}
    [alarm] = selectors.alerts(actor=mayor, department=city)
    assert alarm["app"] == "park" and "功率过高" in alarm["title"] and alarm["url"].endswith("/alarms/")
    [place] = selectors.map_markers(actor=mayor, department=city)
    assert place["status"] == "alert" and place["department_path"] == a.path


def test_a_district_leader_never_sees_another_districts_park(districts):
    _city, a, b = districts
    _alarming_park(b, "PB")
    leader_a = factories.user(Role.SUPERVISOR, department=a)
    assert _figures(leader_a, a) == {"park.occupancy": 0.0, "park.enterprises": 0, "park.open_alarms": 0,
                                     "park.energy_today": 0.0}
    assert selectors.alerts(actor=leader_a, department=a) == []
    assert selectors.map_markers(actor=leader_a, department=a) == []
    for fn in (selectors.indicators, selectors.alerts, selectors.map_markers):
        with pytest.raises(NotFound):
            fn(actor=leader_a, department=b)


def test_the_contract_takes_a_constant_number_of_queries(districts):
    city, a, b = districts
    mayor = factories.user(Role.DEPT_ADMIN, department=city)
    _alarming_park(a, "PA")

    def count():
        with CaptureQueriesContext(connection) as ctx:
            selectors.indicators(actor=mayor, department=city)
            selectors.alerts(actor=mayor, department=city)
            selectors.map_markers(actor=mayor, department=city)
        return len(ctx.captured_queries)

    before = count()
    for code in ("PB", "PC"):
        _alarming_park(b, code)
    assert count() == before <= 8


def _meter(p, code, points):
    services.provision_device(actor=SYS, park=p, kind="meter", code=code, name="电表",
                              unit=pf.unit(pf.building(p, code=code), code="101"))
    iot.ingest_telemetry(actor=SYS, source="test", readings=_meter_readings(
        code, [(t, {"totalActiveEnergyImport": v}) for t, v in points]))


def test_energy_today_is_what_the_meters_of_the_scope_counted_since_midnight(districts):
    city, a, b = districts
    bounds = day_starts()
    midnight, now = bounds[-2], datetime.now(UTC)
    today1, today2 = midnight + (now - midnight) / 3, midnight + 2 * (now - midnight) / 3
    park_a = pf.park(a, code="PA")
    # 900 kWh two days ago, 1000 an hour before midnight, 1010 and 1050 today: 100 yesterday, 50 today
    _meter(park_a, "em-a1", [(midnight - timedelta(hours=36), 900.0), (midnight - timedelta(hours=1), 1000.0),
                             (today1, 1010.0), (today2, 1050.0)])
    # a meter replaced today (its counter fell): nothing for today (iot.counter_delta's rule)
    _meter(park_a, "em-a2", [(midnight - timedelta(hours=1), 800.0), (today1, 20.0), (today2, 30.0)])
    # a meter that started reporting today counts from its first reading
    _meter(park_a, "em-a3", [(today1, 5.0), (today2, 12.5)])
    _meter(pf.park(b, code="PB"), "em-b1", [(midnight - timedelta(hours=1), 5000.0), (today2, 5500.0)])

    mayor = factories.user(Role.DEPT_ADMIN, department=city)
    leader_a = factories.user(Role.SUPERVISOR, department=a)
    [tile] = [i for i in selectors.indicators(actor=leader_a, department=a) if i["key"] == "park.energy_today"]
    assert (tile["value"], tile["yesterday"], tile["last_week"], tile["unit"]) == (57.5, 100.0, 0.0, "kWh")
    assert [v for _d, v in tile["series"]] == [0.0, 0.0, 0.0, 0.0, 0.0, 100.0, 57.5]
    assert tile["series"][-1][0] == midnight.date().isoformat() and tile["url"] == "/park/"
    assert _figures(mayor, city)["park.energy_today"] == 557.5
    assert _figures(factories.user(Role.SUPERVISOR, department=b), b)["park.energy_today"] == 500.0
