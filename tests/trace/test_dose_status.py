"""One state per dose: the trace page, the recall page, the public lookup and the API agree after
every transition (in stock → in question → released → recalled → returned; administered; administered
then recalled; destroyed)."""

import datetime

import pytest
from django.test import Client
from django.utils import timezone

from smartgov.core.permissions import Role, system_actor
from smartgov.identity.services import register_person
from smartgov.trace import codes, selectors, services, sim
from smartgov.trace.models import Alert, CodeState, Recall
from smartgov.trace.status import DoseStatus, dose_status
from tests import factories


@pytest.fixture
def world(regulator_dept, supervisor):
    net = sim.build_network(regulator_dept, counties=1, sites_per_county=1)
    start = timezone.now() - datetime.timedelta(days=5)
    batch, issue = sim.make_batch(net, "S1", start.date(), doses=20)
    plan = sim.plan_batch(net, batch, issue, start=start, seq=1, administer=0)
    sim.capture_plan(plan)
    nurse = factories.user(Role.OFFICER, department=regulator_dept)
    at_site = []
    for dose in plan.doses:
        eff = selectors.effective_state(CodeState.objects.get(epc=codes.normalize_epc(dose)))
        site = next((s for s in net.sites if s.location_uri == eff["biz_location"]), None)
        if site:
            at_site.append((codes.normalize_epc(dose), site))
    return {"net": net, "batch": batch, "doses": at_site, "nurse": nurse}


def _person(n, department):
    return register_person(actor=system_actor("test"), name=f"受种者{n}", id_number=factories.id_number("20200101", n),
                           phone=f"1380000{n:04d}", department=department)


def _everywhere(client, epc, recall=None) -> set[str]:
    """The state each surface shows for the dose (the page's data-status, the API's status.code)."""
    code = codes.display(epc)
    seen = {}
    html = client.get("/trace/code/", {"q": code}).content.decode()
    seen["page"] = html.split('data-testid="dose-status" data-status="', 1)[1].split('"', 1)[0]
    seen["api"] = client.get(f"/api/trace/trace/{code}").json()["status"]["code"]
    seen["lookup_api"] = Client().get(f"/api/trace/lookup/{code}").json()["status"]["code"]
    public = Client().get("/trace/lookup/", {"q": code}).content.decode()
    seen["lookup_page"] = public.split('data-testid="dose-status" data-status="', 1)[1].split('"', 1)[0]
    if recall is not None:
        rows = [r for r in selectors.recall_doses(recall, page_size=500)["results"] if r["epc"] == epc]
        if rows:  # the recall page lists the doses not administered
            seen["recall"] = rows[0]["status"]["code"]
            page = client.get(f"/trace/recalls/{recall.pk}/").content.decode()
            assert f'data-status="{rows[0]["status"]["code"]}"' in page
    return set(seen.values())


def test_every_surface_agrees_on_the_dose_state_after_each_transition(world, supervisor):
    client = factories.staff_client(supervisor)
    (dose, site), (given, _), (given_before, _) = world["doses"][:3]
    nurse = world["nurse"]
    assert _everywhere(client, dose) == {"available"}

    fridge = world["net"].fridges[site.pk]
    now = timezone.now()
    rows = [{"time": now - datetime.timedelta(minutes=30 * (10 - k)), "celsius": 11.0 if 2 <= k <= 7 else 5.0,
             "latitude": None, "longitude": None} for k in range(10)]
    alerts = services.record_readings(actor=system_actor("test"), logger=fridge, rows=rows, source="test")["alerts"]
    assert _everywhere(client, dose) == {"in_question"}
    for alert in Alert.objects.filter(pk__in=alerts):
        services.acknowledge_alert(actor=supervisor, alert=alert, comment="已维修")
        services.release_doses(actor=supervisor, alert=alert, comment="评估合格")
    assert _everywhere(client, dose) == {"available"}

    services.administer_dose(actor=nurse, code=given_before, id_number=_person(1, nurse.department).id_number, site=site)
    assert _everywhere(client, given_before) == {"administered"}

    recall = services.recall_batch(actor=supervisor, batch=world["batch"], reason="效价不合格")
    assert _everywhere(client, dose, recall) == {"recalled"}
    assert _everywhere(client, given_before, recall) == {"administered"}  # given before the recall: still given
    recall = Recall.objects.get(pk=recall.pk)

    later = timezone.now() + datetime.timedelta(days=1)  # after the simulator's last planned box event
    sim_return = {"type": "ObjectEvent", "action": "OBSERVE", "bizStep": "receiving", "disposition": "returned",
                  "epcList": [services._uri_of(dose)], "eventTime": later.isoformat(),
                  "eventTimeZoneOffset": "+08:00", "bizLocation": {"id": site.location_uri},
                  "readPoint": {"id": site.location_uri}}
    services.capture_events(actor=system_actor("test"), organisation=site, events=[sim_return])
    assert _everywhere(client, dose, recall) == {"returned"}

    destroy = dict(sim_return, bizStep="destroying", disposition="destroyed", epcList=[services._uri_of(given)],
                   eventTime=(later + datetime.timedelta(hours=1)).isoformat())
    services.capture_events(actor=system_actor("test"), organisation=site, events=[destroy])
    assert _everywhere(client, given, recall) == {"destroyed"}


def test_precedence_of_the_one_rule():
    assert dose_status(flags=None, disposition=None) == DoseStatus.UNKNOWN
    assert dose_status(flags=0, disposition="urn:epcglobal:cbv:disp:in_transit") == DoseStatus.IN_TRANSIT
    assert dose_status(flags=1 | 4, disposition="recalled") == DoseStatus.ADMINISTERED
    assert dose_status(flags=1, disposition="in_progress") == DoseStatus.RECALLED
    assert dose_status(flags=2, disposition="in_progress", expired=True) == DoseStatus.IN_QUESTION
    assert dose_status(flags=0, disposition="active", expired=True) == DoseStatus.EXPIRED
    assert dose_status(flags=8, disposition="recalled") == DoseStatus.DESTROYED
    assert dose_status(flags=1, disposition="urn:epcglobal:cbv:disp:inactive") == DoseStatus.DECOMMISSIONED
    assert dose_status(flags=4, disposition="inactive") == DoseStatus.ADMINISTERED
