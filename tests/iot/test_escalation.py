"""Alarm escalation (告警升级): an alarm left unacknowledged for its rule's ``escalate_after_minutes`` is
escalated once — the department's active admins notified through the platform's senders (the inbox and
any configured gateway), the alarm marked — by the periodic task."""

from datetime import timedelta

import orjson
import pytest

from smartgov.core.errors import InvalidInput
from smartgov.core.permissions import Role
from smartgov.iot import services, tasks
from smartgov.iot.models import Alarm, AlarmStatus
from smartgov.onestop.models import Notification
from tests import factories as base
from tests.iot import factories as f
from tests.park import factories as pf

pytestmark = pytest.mark.django_db
SENT = []


def record_sender(user, title, body):
    SENT.append((user.username, title))


def _raised(dept, *, escalate=10, name="功率过高", code="M1"):
    dev = f.device(dept, code=code)
    f.rule(dept, name, escalate_after_minutes=escalate, device=dev)  # this device only
    f.ingest(*[f.reading(dev, s, activePower=60) for s in (0, 150, 300)])
    return Alarm.objects.get(rule__name=name)


def test_an_unacknowledged_alarm_is_escalated_once_after_its_minutes_to_the_department_admins(settings,
                                                                                              django_capture_on_commit_callbacks):
    settings.SMARTGOV_NOTIFY_SENDERS = ["tests.iot.test_escalation.record_sender"]
    SENT.clear()
    dept = f.department()
    admins = [f.admin(dept), f.admin(dept)]
    base.user(Role.OFFICER, department=dept)  # an officer is not an admin
    f.admin(f.department())  # nor is another department's admin
    alarm = _raised(dept)
    due = alarm.raised_at + timedelta(minutes=10)
    assert services.escalate_overdue_alarms(actor=f.SYS, now=due - timedelta(seconds=1)) == 0
    with django_capture_on_commit_callbacks(execute=True):
        assert services.escalate_overdue_alarms(actor=f.SYS, now=due) == 1
    alarm.refresh_from_db()
    assert alarm.escalated_at == due and sorted(alarm.escalated_to) == sorted(a.username for a in admins)
    inbox = Notification.objects.filter(user__in=admins)
    assert inbox.count() == 2 and all(n.title.startswith("告警升级：功率过高") for n in inbox)
    assert "10 分钟未确认" in inbox[0].body
    assert sorted(u for u, _ in SENT) == sorted(a.username for a in admins)  # the configured gateway too
    assert services.escalate_overdue_alarms(actor=f.SYS, now=due + timedelta(hours=1)) == 0  # once only
    assert Notification.objects.count() == 2


def test_an_acknowledged_or_cleared_alarm_or_a_rule_without_escalation_is_never_escalated():
    dept = f.department()
    f.admin(dept)
    acked = _raised(dept, name="A", code="MA")
    services.acknowledge_alarm(actor=f.SYS, alarm=acked)
    cleared = _raised(dept, name="B", code="MB")
    Alarm.objects.filter(pk=cleared.pk).update(status=AlarmStatus.CLEARED)
    _raised(dept, name="C", escalate=None, code="MC")
    later = acked.raised_at + timedelta(days=1)
    assert services.escalate_overdue_alarms(actor=f.SYS, now=later) == 0
    assert not Notification.objects.exists() and not Alarm.objects.filter(escalated_at__isnull=False).exists()


def test_each_rule_has_its_own_minutes_and_the_periodic_task_escalates():
    dept = f.department()
    f.admin(dept)
    fast, slow = _raised(dept, name="快", escalate=1, code="MF"), _raised(dept, name="慢", escalate=600, code="MS")
    # the alarms were raised at the fixture's fixed time (T0 + 300 s), long before now
    assert tasks.escalate_overdue_alarms.call() == 2
    assert Alarm.objects.filter(pk__in=[fast.pk, slow.pk], escalated_at__isnull=False).count() == 2
    assert tasks.escalate_overdue_alarms.call() == 0  # safe to run again


def test_escalation_minutes_are_validated_and_travel_with_the_rules_json():
    dept = f.department()
    for bad in (0, 10081, "5", True):
        with pytest.raises(InvalidInput):
            f.rule(dept, "坏", escalate_after_minutes=bad)
    f.rule(dept, "升级", escalate_after_minutes=15)
    exported = services.export_rules(dept.iot_rules.all())
    assert exported[0]["escalate_after_minutes"] == 15
    other = f.department()
    [copy] = services.import_rules(actor=f.SYS, department=other, app="park", data=orjson.loads(orjson.dumps(exported)))
    assert copy.escalate_after_minutes == 15


def test_the_park_alarm_panel_shows_the_escalation():
    p = pf.park()
    pf.admin(p)
    dev = f.device(p.department, code="em-esc", tags={"park": str(p.pk)})
    f.rule(p.department, "升级规则", escalate_after_minutes=5)
    f.ingest(*[f.reading(dev, s, activePower=60) for s in (0, 300)])
    services.escalate_overdue_alarms(actor=f.SYS)
    client = base.staff_client(pf.officer(p))
    panel = client.get(f"/park/{p.pk}/alarms/").content.decode()
    assert 'data-testid="alarm-escalated"' in panel and "已升级通知管理员" in panel
    api = client.get(f"/api/park/parks/{p.pk}/alarms").json()
    assert api[0]["escalated_at"] is not None and len(api[0]["escalated_to"]) == 1
