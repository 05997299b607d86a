"""Alarm-rule semantics: duration edges, AND/OR, resets, no-data, lifecycle, import/export."""

from datetime import timedelta

import orjson
import pytest

from smartgov.core.errors import Conflict, InvalidInput
from smartgov.iot import rules, services
from smartgov.iot.models import Alarm, AlarmStatus, RuleState, Telemetry
from tests import factories as base
from tests.iot import factories as f

pytestmark = pytest.mark.django_db


def _open():
    return list(Alarm.objects.exclude(status=AlarmStatus.CLEARED))


def test_duration_raises_exactly_when_the_condition_has_held_for_the_whole_window():
    dept = f.department()
    dev = f.device(dept)
    f.rule(dept)
    f.ingest(*[f.reading(dev, s, activePower=60) for s in (0, 60, 120, 180, 240, 299)])
    assert _open() == []  # 299 s above 50: not yet
    f.ingest(f.reading(dev, 300, activePower=61))
    [alarm] = _open()
    assert alarm.raised_at == f.T0 + timedelta(seconds=300) and alarm.status == AlarmStatus.ACTIVE


def test_a_reading_at_or_below_the_threshold_restarts_the_duration():
    dept = f.department()
    dev = f.device(dept)
    f.rule(dept)
    f.ingest(f.reading(dev, 0, activePower=60), f.reading(dev, 200, activePower=50),  # 50 is not > 50
             f.reading(dev, 250, activePower=70), f.reading(dev, 500, activePower=70))
    assert _open() == []  # held from 250 only: 250 s
    f.ingest(f.reading(dev, 550, activePower=70))
    assert len(_open()) == 1


def test_a_reading_without_the_key_neither_breaks_nor_extends_the_condition():
    dept = f.department()
    dev = f.device(dept)
    f.rule(dept)
    f.ingest(f.reading(dev, 0, activePower=60), f.reading(dev, 200, temperature=20),
             f.reading(dev, 300, temperature=21))
    assert len(_open()) == 1  # held since 0; the reading at 300 s has no power but time has passed


def test_and_needs_every_condition_or_needs_one():
    dept = f.department()
    a, b = f.device(dept, code="E1", kind="env"), f.device(dept, code="E2", kind="env")
    conds = [{"key": "temperature", "cmp": ">", "value": 35}, {"key": "relativeHumidity", "cmp": "<", "value": 20}]
    f.rule(dept, "高温且干燥", conditions=conds, match="and", device_kind="env")
    f.rule(dept, "高温或干燥", conditions=conds, match="or", device_kind="env")
    f.ingest(f.reading(a, 0, temperature=36, relativeHumidity=50), f.reading(b, 0, temperature=36, relativeHumidity=10))
    names = sorted((x.device.code, x.rule.name) for x in _open())
    assert names == [("E1", "高温或干燥"), ("E2", "高温且干燥"), ("E2", "高温或干燥")]


def test_the_alarm_clears_when_the_rule_stops_holding_acknowledged_or_not():
    dept = f.department()
    dev = f.device(dept)
    f.rule(dept, conditions=[{"key": "activePower", "cmp": ">", "value": 50}])
    f.ingest(f.reading(dev, 0, activePower=60))
    [alarm] = _open()
    officer = base.user(base.Role.OFFICER, department=dept)
    services.acknowledge_alarm(actor=officer, alarm=alarm)
    with pytest.raises(Conflict):
        services.acknowledge_alarm(actor=officer, alarm=alarm)
    f.ingest(f.reading(dev, 60, activePower=40))
    alarm.refresh_from_db()
    assert alarm.status == AlarmStatus.CLEARED and alarm.acknowledged_by == officer
    f.ingest(f.reading(dev, 120, activePower=70))  # a new episode: a new alarm
    assert len(_open()) == 1 and Alarm.objects.count() == 2


def test_redelivered_and_late_readings_are_stored_once_and_change_no_rule_state():
    dept = f.department()
    dev = f.device(dept)
    f.rule(dept, conditions=[{"key": "activePower", "cmp": ">", "value": 50}])
    first = f.ingest(f.reading(dev, 0, activePower=60), f.reading(dev, 0, activePower=60))
    assert (first.stored, first.duplicates, first.alarms_raised) == (1, 1, 1)
    again = f.ingest(f.reading(dev, 0, activePower=60))
    assert (again.stored, again.duplicates, again.alarms_raised) == (0, 1, 0)
    f.ingest(f.reading(dev, 60, activePower=70))
    late = f.ingest(f.reading(dev, 30, activePower=10))  # stored, but before the rule's last reading
    assert late.stored == 1 and late.alarms_cleared == 0 and len(_open()) == 1
    assert Telemetry.objects.count() == 3
    dev.refresh_from_db()
    assert dev.last_seen_at == f.T0 + timedelta(seconds=60) and dev.last_values == {"activePower": 70}


def test_no_data_raises_after_the_silence_and_clears_when_data_comes_again():
    dept = f.department()
    dev = f.device(dept)
    services.save_rule(actor=f.SYS, department=dept, app="park",
                       data={"name": "离线", "kind": "no_data", "no_data_minutes": 10})
    f.ingest(f.reading(dev, 0, activePower=1))
    assert services.check_silent_devices(actor=f.SYS, now=f.T0 + timedelta(minutes=9, seconds=59)) == 0
    assert services.check_silent_devices(actor=f.SYS, now=f.T0 + timedelta(minutes=10)) == 1
    assert services.check_silent_devices(actor=f.SYS, now=f.T0 + timedelta(minutes=20)) == 0  # already open
    f.ingest(f.reading(dev, 1300, activePower=1))
    assert _open() == []


def test_rules_follow_department_app_and_tags():
    dept, other = f.department(), f.department()
    here = f.device(dept, code="B1", tags={"building": 3})
    there = f.device(dept, code="B2", tags={"building": 4})
    elsewhere = f.device(other, code="X1", tags={"building": 3})
    f.rule(dept, conditions=[{"key": "activePower", "cmp": ">", "value": 50}], tag_key="building", tag_value="3")
    f.ingest(*(f.reading(d, 0, activePower=99) for d in (here, there, elsewhere)))
    assert [a.device.code for a in _open()] == ["B1"]


def test_rules_export_and_import_round_trip_and_bad_rules_are_refused_whole():
    dept = f.department()
    dev = f.device(dept)
    f.rule(dept, "A", device=dev)
    services.save_rule(actor=f.SYS, department=dept, app="park",
                       data={"name": "B", "kind": "no_data", "no_data_minutes": 5, "device_kind": "meter"})
    exported = services.export_rules(dept.iot_rules.all())
    other = f.department()
    f.device(other, code="M1-copy")
    for item in exported:
        item["device"] = "M1-copy" if item["device"] else None
    made = services.import_rules(actor=f.SYS, department=other, app="park", data=orjson.loads(orjson.dumps(exported)))
    assert [r.name for r in made] == ["A", "B"] and made[0].device.code == "M1-copy"
    assert made[0].conditions == exported[0]["conditions"]
    with pytest.raises(InvalidInput) as e:
        services.import_rules(actor=f.SYS, department=other, app="park",
                              data=[{"name": "C", "conditions": [{"key": "p", "cmp": ">", "value": 1}]},
                                    {"name": "D", "conditions": [{"key": "p", "cmp": "~", "value": 1}]}])
    assert e.value.detail == {"index": 1}
    assert not other.iot_rules.filter(name="C").exists()


def test_changing_a_rule_restarts_its_state():
    dept = f.department()
    dev = f.device(dept)
    f.rule(dept)
    f.ingest(f.reading(dev, 0, activePower=60))
    assert RuleState.objects.count() == 1
    f.rule(dept, conditions=[{"key": "activePower", "cmp": ">", "value": 80, "for_seconds": 300}])
    assert RuleState.objects.count() == 0


@pytest.mark.parametrize("bad", [[], [{"key": "p", "cmp": ">", "value": "x"}], [{"cmp": ">", "value": 1}],
                                 [{"key": "p", "cmp": ">", "value": 1, "for_seconds": -1}], "p > 1"])
def test_bad_conditions_are_refused(bad):
    with pytest.raises(InvalidInput):
        rules.clean_conditions(bad)


def test_a_department_admin_cannot_write_rules_for_another_department():
    dept, other = f.department(), f.department()
    with pytest.raises(Exception) as e:
        services.save_rule(actor=f.admin(dept), department=other, app="park", data={"name": "x"})
    assert getattr(e.value, "status", None) == 403
