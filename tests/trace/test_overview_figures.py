"""Doses in circulation on the city overview (issue 18): commissioned doses neither administered, decommissioned
nor destroyed, at the organisations of a department and below, counted by the one dose-state rule — built through
the real chain (simulated EPCIS capture, vaccination, destruction, decommissioning, recall)."""

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from smartgov.accounts.models import Level
from smartgov.core.errors import NotFound
from smartgov.core.permissions import Role, system_actor
from smartgov.identity.services import register_person
from smartgov.trace import codes, selectors, services, sim
from smartgov.trace.models import CodeState
from smartgov.trace.status import DoseStatus, dose_status, in_circulation
from tests import factories

pytestmark = pytest.mark.django_db
SYS = system_actor("test")


@pytest.fixture
def city():
    city = factories.department("示范市", level=Level.CITY)
    return (city, factories.department("甲县", parent=city, level=Level.COUNTY),
            factories.department("乙县", parent=city, level=Level.COUNTY))


@pytest.fixture
def chain(city):
    """20 doses of one batch carried by the simulator from the manufacturer to a site of 甲县 (none given)."""
    _city, a, _b = city
    net = sim.build_network(a, counties=1, sites_per_county=1)
    start = timezone.now() - datetime.timedelta(days=5)
    batch, issue = sim.make_batch(net, "C1", start.date(), doses=20)
    plan = sim.plan_batch(net, batch, issue, start=start, seq=1, administer=0)
    sim.capture_plan(plan)
    doses = [codes.normalize_epc(d) for d in plan.doses]
    return {"net": net, "batch": batch, "doses": doses, "site": net.sites[0]}


def _tile(actor, dept):
    return next(i for i in selectors.indicators(actor=actor, department=dept) if i["key"] == "trace.doses_in_circulation")


def _event(epcs, step, disposition, site, when):
    return {"type": "ObjectEvent", "action": "OBSERVE", "bizStep": step, "disposition": disposition,
            "epcList": [services._uri_of(e) for e in epcs], "eventTime": when.isoformat(),
            "eventTimeZoneOffset": "+08:00", "bizLocation": {"id": site.location_uri},
            "readPoint": {"id": site.location_uri}}


def test_doses_leave_circulation_when_given_destroyed_or_decommissioned_and_recalled_ones_stay(city, chain):
    city, a, b = city
    mayor = factories.user(Role.DEPT_ADMIN, department=city)
    site = chain["site"]
    tile = _tile(mayor, city)
    assert tile["value"] == 20 and tile["unit"] == "剂" and tile["url"] == "/trace/"

    nurse = factories.user(Role.OFFICER, department=a)
    person = register_person(actor=SYS, name="受种者", id_number=factories.id_number("20200101", 1),
                             phone="13800000001", department=a)
    doses = chain["doses"]
    services.administer_dose(actor=nurse, code=doses[0], id_number=person.id_number, site=site)
    later = timezone.now() + datetime.timedelta(days=1)  # after the simulator's last planned event
    services.capture_events(actor=SYS, organisation=site, events=[
        _event([doses[1]], "destroying", "destroyed", site, later),
        _event([doses[2]], "decommissioning", "inactive", site, later)])
    assert _tile(mayor, city)["value"] == 17

    services.recall_batch(actor=factories.user(Role.SUPERVISOR, department=city), batch=chain["batch"], reason="效价不合格")
    services.capture_events(actor=SYS, organisation=site, events=[
        _event([doses[3]], "receiving", "returned", site, later + datetime.timedelta(hours=1))])
    tile = _tile(mayor, city)
    assert tile["value"] == 17  # recalled doses are still out there until destroyed; a returned one too
    assert {r["name"]: r["value"] for r in tile["breakdown"]} == {"召回中（待退回）": 16, "已召回退回": 1}
    assert {r["name_en"] for r in tile["breakdown"]} == {"Recalled (to be returned)", "Recalled and returned"}

    leader_b = factories.user(Role.SUPERVISOR, department=b)
    assert _tile(leader_b, b)["value"] == 0 and _tile(leader_b, b)["breakdown"] == []
    with pytest.raises(NotFound):
        selectors.indicators(actor=leader_b, department=a)


def test_a_destroyed_box_takes_the_doses_inside_it_out_of_circulation(city, chain):
    city, _a, _b = city
    mayor = factories.user(Role.DEPT_ADMIN, department=city)
    box = CodeState.objects.get(epc=chain["doses"][0]).container
    inside = CodeState.objects.filter(container=box).count()
    assert box and inside == sim.DOSES_PER_BOX
    later = timezone.now() + datetime.timedelta(days=1)
    services.capture_events(actor=SYS, organisation=chain["site"], events=[
        _event([box], "destroying", "destroyed", chain["site"], later)])
    assert _tile(mayor, city)["value"] == 20 - sim.DOSES_PER_BOX
    # the page of one dose says the same (its own disposition is unchanged; the box's newer one counts)
    dose = CodeState.objects.get(epc=chain["doses"][0])
    assert dose_status(flags=dose.flags, disposition=selectors.effective_state(dose)["disposition"]) == DoseStatus.DESTROYED


def test_the_tile_agrees_with_the_state_each_dose_page_shows(city, chain):
    city, _a, _b = city
    mayor = factories.user(Role.DEPT_ADMIN, department=city)
    later = timezone.now() + datetime.timedelta(days=1)
    box = CodeState.objects.get(epc=chain["doses"][0]).container
    services.capture_events(actor=SYS, organisation=chain["site"], events=[
        _event([box], "shipping", "in_transit", chain["site"], later),
        _event([chain["doses"][-1]], "destroying", "destroyed", chain["site"], later)])
    per_dose = {}
    for state in CodeState.objects.filter(epc__in=chain["doses"]):
        s = dose_status(flags=state.flags, disposition=selectors.effective_state(state)["disposition"])
        per_dose[s] = per_dose.get(s, 0) + 1
    tile = _tile(mayor, city)
    assert {r["name"]: r["value"] for r in tile["breakdown"]} == {
        str(s.label): n for s, n in per_dose.items() if in_circulation(s)}
    assert tile["value"] == 19 and per_dose[DoseStatus.IN_TRANSIT] == sim.DOSES_PER_BOX


def test_counting_doses_in_circulation_is_one_query(city, chain):
    city, _a, _b = city
    with CaptureQueriesContext(connection) as ctx:
        selectors.doses_by_status(city)
    assert len(ctx.captured_queries) == 1
