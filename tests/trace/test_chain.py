
"""A small simulated chain captured end to end: state, container hierarchy, traces, rules, recall,
vaccination, cold chain — through the services, as the platform runs them."""

import datetime

import orjson
import pytest
from django.utils import timezone

from smartgov.core.errors import Conflict, Forbidden, InvalidInput
from smartgov.core.permissions import Role, system_actor
from smartgov.identity.services import register_person
from smartgov.trace import codes, selectors, services, sim
from smartgov.trace.models import (
    FLAG_ADMINISTERED,
    FLAG_IN_QUESTION,
    FLAG_RECALLED,
    Alert,
    CodeState,
    Event,
    RuleFlag,
    Vaccination,
)
from smartgov.trace.permissions import OrganisationKey
from tests import factories


@pytest.fixture
def net(regulator_dept):
    return sim.build_network(regulator_dept, counties=2, sites_per_county=2)


@pytest.fixture
def captured(net):
    start = timezone.now() - datetime.timedelta(days=10)
    batch, issue = sim.make_batch(net, "L1", start.date(), doses=400)
    plan = sim.plan_batch(net, batch, issue, start=start, seq=1, administer=0)
    assert sim.capture_plan(plan) == plan.epc_events
    return {"batch": batch, "plan": plan, "net": net}


def _eff(epc):
    return selectors.effective_state(CodeState.objects.get(epc=codes.normalize_epc(epc)))


def test_every_dose_is_at_a_vaccination_site_inside_its_box(captured):
    net = captured["net"]
    site_locations = {s.location_uri for s in net.sites}
    doses = captured["plan"].doses
    assert CodeState.objects.filter(batch_id=captured["batch"].pk).count() == len(doses)
    for dose in doses[::37]:
        eff = _eff(dose)
        assert eff["biz_location"] in site_locations
        assert len(eff["containers"]) == 1 and eff["containers"][0].startswith(codes.DL_ROOT + "/01/")


def test_a_clean_chain_raises_no_business_rule_flags(captured):
    assert RuleFlag.objects.count() == 0


def test_trace_of_a_dose_includes_the_events_of_box_case_and_pallet(captured):
    dose = codes.normalize_epc(captured["plan"].doses[123])
    result = selectors.trace_code(dose)
    steps = [e["biz_step"] for e in result["events"]]
    assert steps[0] == "commissioning"
    assert steps.count("shipping") == 3 and steps.count("receiving") == 3  # pallet, case, box legs
    vias = {e["via"] for e in result["events"] if e["via"]}
    assert len(vias) == 3  # box, case, pallet
    assert any(r["celsius"] for r in result["readings"])  # the trucks' readings along the way
    times = [e["time"] for e in result["events"]]
    assert times == sorted(times)


def test_trace_costs_a_fixed_number_of_queries(captured, django_assert_max_num_queries):
    dose = codes.normalize_epc(captured["plan"].doses[5])
    with django_assert_max_num_queries(9):
        selectors.trace_code(dose)


def test_receiving_a_code_never_shipped_is_flagged_not_rejected(captured, officer):
    net = captured["net"]
    box = "urn:epc:id:sgtin:6901234.100001.99999999"
    ev = sim._ship([box], timezone.now(), net.sites[0], net.sites[1], step="receiving")
    services.capture_epcis_document(actor=officer, chunks=sim._doc([ev]), organisation=net.sites[1])
    assert RuleFlag.objects.filter(rule="received_not_shipped", epc=codes.normalize_epc(box)).exists()


def test_commissioning_twice_and_one_child_in_two_parents_are_flagged(captured, officer):
    net = captured["net"]
    dose = captured["plan"].doses[0]
    again = {"type": "ObjectEvent", "eventTime": sim._t(timezone.now()), "eventTimeZoneOffset": "+08:00",
             "epcList": [dose], "action": "ADD", "bizStep": "commissioning",
             "ilmd": {"cbvmda:lotNumber": "L1"}}
    other_box = "urn:epc:id:sgtin:6901234.100001.88888888"
    pack = sim._agg(other_box, [dose], timezone.now(), net.maker)
    services.capture_epcis_document(actor=officer, chunks=sim._doc([again, pack]), organisation=net.maker)
    rules = set(RuleFlag.objects.filter(epc=dose).values_list("rule", flat=True))
    assert {"commissioned_twice", "two_parents"} <= rules


def test_shipping_from_a_place_the_code_is_not_at_is_flagged(captured, officer):
    net = captured["net"]
    dose_box = _eff(captured["plan"].doses[0])["containers"][0]
    wrong = sim._ship([dose_box], timezone.now(), net.province, net.sites[0])
    services.capture_epcis_document(actor=officer, chunks=sim._doc([wrong]), organisation=net.province)
    assert RuleFlag.objects.filter(rule="shipped_elsewhere", epc=dose_box).exists()


@pytest.fixture
def nurse(regulator_dept):
    return factories.user(Role.OFFICER, department=regulator_dept)


def _person(nurse, n=1):
    return register_person(actor=system_actor("test"), name=f"受种者{n}", id_number=factories.id_number("20200101", n),
                           phone=f"1380000{1000 + n}", department=nurse.department)


def _dose_at_site(captured):
    for dose in captured["plan"].doses:
        eff = _eff(dose)
        for site in captured["net"].sites:
            if eff["biz_location"] == site.location_uri:
                return codes.normalize_epc(dose), site
    raise AssertionError("no dose at a site")


def test_vaccination_links_one_dose_to_one_vaccinee(captured, nurse):
    epc, site = _dose_at_site(captured)
    person = _person(nurse)
    vac = services.administer_dose(actor=nurse, code=codes.display(epc), id_number=person.id_number, site=site)
    assert vac.person == person and vac.worker == nurse
    assert CodeState.objects.get(epc=epc).flags & FLAG_ADMINISTERED
    trace = selectors.trace_code(epc)
    assert trace["events"][-1]["biz_step"] == "dispensing"
    with pytest.raises(Conflict) as exc:
        services.administer_dose(actor=nurse, code=epc, id_number=_person(nurse, 2).id_number, site=site)
    assert exc.value.code == "dose_already_administered"
    assert Vaccination.objects.count() == 1


def test_recall_marks_every_code_and_finds_the_vaccinees(captured, nurse, supervisor):
    epc, site = _dose_at_site(captured)
    person = _person(nurse)
    services.administer_dose(actor=nurse, code=epc, id_number=person.id_number, site=site)
    recall = services.recall_batch(actor=supervisor, batch=captured["batch"], reason="效价不合格")
    assert recall.codes_total == 400 and recall.codes_administered == 1
    assert CodeState.objects.filter(batch_id=captured["batch"].pk, disposition="recalled").count() == 400
    # the recall event records a persistent disposition (CBV 2.0), queryable like any event
    body = orjson.loads(Event.objects.get(pk=recall.event_id_ref).body)
    assert body["persistentDisposition"] == {"set": ["recalled"]} and body["disposition"] == "recalled"
    progress = selectors.recall_progress(recall)
    assert sum(r["doses"] for r in progress["by_location"]) == 399
    rows = services.reveal_vaccinee_contacts(actor=supervisor, recall=recall)
    assert rows.count() == 1 and rows[0:10][0]["phone"] == "13800001001"
    other = services.administer_dose
    with pytest.raises(Conflict) as exc:
        other(actor=nurse, code=codes.normalize_epc(captured["plan"].doses[-1]),
              id_number=_person(nurse, 3).id_number, site=site)
    assert exc.value.code in ("dose_recalled", "dose_already_administered")
    with pytest.raises(Conflict):
        services.complete_recall(actor=supervisor, recall=recall)


def test_only_regulators_recall(captured, officer):
    with pytest.raises(Forbidden):
        services.recall_batch(actor=officer, batch=captured["batch"], reason="x")
    assert not CodeState.objects.filter(flags=FLAG_RECALLED).exists()


def test_excursion_puts_doses_in_question_and_blocks_vaccination_until_released(captured, nurse, supervisor):
    epc, site = _dose_at_site(captured)
    fridge = captured["net"].fridges[site.pk]
    now = timezone.now()
    rows = [{"time": now - datetime.timedelta(minutes=30 * (10 - k)), "celsius": 11.0 if 2 <= k <= 7 else 5.0,
             "latitude": None, "longitude": None} for k in range(10)]
    outcome = services.record_readings(actor=system_actor("test"), logger=fridge, rows=rows, source="test")
    kinds = set(Alert.objects.filter(pk__in=outcome["alerts"]).values_list("kind", flat=True))
    assert kinds == {"instant", "consecutive"}  # > 8 °C for 2.5 h; not yet 10 h cumulative
    assert CodeState.objects.get(epc=epc).flags & FLAG_IN_QUESTION
    person = _person(nurse)
    with pytest.raises(Conflict) as exc:
        services.administer_dose(actor=nurse, code=epc, id_number=person.id_number, site=site)
    assert exc.value.code == "dose_in_question"
    alerts = list(Alert.objects.filter(pk__in=outcome["alerts"]))
    with pytest.raises(InvalidInput):
        services.acknowledge_alert(actor=supervisor, alert=alerts[0], comment="")
    for alert in alerts:
        with pytest.raises(Conflict):
            services.release_doses(actor=supervisor, alert=alert, comment="评估合格")
        services.acknowledge_alert(actor=supervisor, alert=alert, comment="冰箱故障已维修，疫苗待评估")
    services.release_doses(actor=supervisor, alert=alerts[0], comment="评估合格")
    assert CodeState.objects.get(epc=epc).flags & FLAG_IN_QUESTION  # the other alert still holds it
    services.release_doses(actor=supervisor, alert=alerts[1], comment="评估合格")
    assert not CodeState.objects.get(epc=epc).flags & FLAG_IN_QUESTION
    services.administer_dose(actor=nurse, code=epc, id_number=person.id_number, site=site)


def test_cumulative_rule_adds_up_short_warm_spells_that_are_never_consecutive(net):
    fridge = net.fridges[net.province.pk]
    start = timezone.now() - datetime.timedelta(days=2)
    rows = []
    for spell in range(8):  # 8 spells of 90 minutes at 10.5 °C, 3 hours apart: 720 minutes in total
        base = start + datetime.timedelta(hours=4.5 * spell)
        rows += [{"time": base + datetime.timedelta(minutes=30 * k), "celsius": 10.5 if k < 3 else 5.0,
                  "latitude": None, "longitude": None} for k in range(9)]
    out = services.record_readings(actor=system_actor("test"), logger=fridge, rows=rows, source="test")
    kinds = list(Alert.objects.filter(pk__in=out["alerts"]).values_list("kind", flat=True))
    assert kinds.count("cumulative") == 1 and "consecutive" not in kinds and kinds.count("instant") == 8


def test_readings_upload_rejects_bad_rows_and_stores_nothing(captured, officer):
    fridge = next(iter(captured["net"].fridges.values()))
    with pytest.raises(InvalidInput) as exc:
        services.upload_readings(actor=officer, organisation=None, logger=fridge,
                                  data=b"time,celsius\n2026-01-05T08:00:00+08:00,5.1\nnot-a-time,4\n", content_type="text/csv")
    assert exc.value.detail == {"row": 2}
    assert not fridge.readings.exists()
    out = services.upload_readings(actor=officer, organisation=None, logger=fridge,
                                    data=b"time,celsius\n2026-01-05T08:00:00+08:00,5.1\n2026-01-05T09:00:00+08:00,4.9\n",
                                    content_type="text/csv")
    assert out["stored"] == 2


def test_sensor_element_list_in_captured_events_becomes_readings(captured):
    truck = captured["net"].trucks[0]
    assert truck.readings.count() == 8  # the transporting event of the plan carried 8 reports


def test_public_lookup_tells_genuine_from_forged_without_personal_data(captured):
    dose = captured["plan"].doses[0]
    digits = codes.display(codes.normalize_epc(dose))
    result = selectors.public_lookup(digits)
    assert result["genuine"] and result["batch"]["lot"] == "L1"
    assert "vaccination" not in result and "events" not in result
    forged = digits[:16] + f"{(int(digits[16:]) + 1) % 10000:04d}"
    assert not selectors.public_lookup(forged)["genuine"]


def test_code_issue_is_unique_and_exports_csv(captured, officer):
    batch = captured["batch"]
    first = batch.code_issues.get()
    second = services.issue_codes(actor=OrganisationKey(captured["net"].maker), organisation=captured["net"].maker, batch=batch, count=5)
    assert second.first_serial == first.first_serial + first.count
    lines = list(services.export_issue_csv(second))
    assert len(lines) == 6 and lines[1].split(",")[1].startswith("8612345")
    assert all(services.is_issued(codes.normalize_epc(line.split(",")[2])) for line in lines[1:])
    with pytest.raises(Forbidden):
        services.issue_codes(actor=OrganisationKey(captured["net"].province), organisation=captured["net"].province, batch=batch, count=5)
