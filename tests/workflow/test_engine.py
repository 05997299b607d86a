import datetime

import pytest

from smartgov.core.errors import Conflict, Forbidden, InvalidInput
from smartgov.core.permissions import Role, system_actor
from smartgov.workflow import selectors, services
from smartgov.workflow.models import InstanceStatus, Outcome, Process, TaskStatus
from smartgov.workflow.selectors import Colour
from tests import factories

pytestmark = pytest.mark.django_db

MON = datetime.date(2026, 11, 2)  # a Monday with no holiday near it


@pytest.fixture
def dept():
    return factories.department("审批局")


@pytest.fixture
def officer(dept):
    return factories.user(Role.OFFICER, department=dept)


@pytest.fixture
def chief(dept):
    return factories.user(Role.DEPT_ADMIN, department=dept)


def start(dept, code="standard", context=None, limit=10, on=MON):
    return services.start_instance(actor=system_actor("test"), process_code=code, subject="test:1", title="测试办件",
                                   department=dept, context=context or {}, time_limit_days=limit, started_on=on)


def open_tasks(instance):
    return list(instance.tasks.filter(status=TaskStatus.OPEN).order_by("id"))


def test_standard_process_runs_review_then_decision_and_completes_approved(dept, officer, chief):
    inst = start(dept)
    assert inst.due_on == datetime.date(2026, 11, 16)  # 10 working days after Monday 2 November
    [review] = open_tasks(inst)
    assert (review.step_key, review.role) == ("review", Role.OFFICER)
    services.complete_task(actor=officer, task=review, outcome=Outcome.APPROVE, opinion="材料齐全")
    [decide] = open_tasks(inst)
    assert decide.step_key == "decide"
    with pytest.raises(Forbidden):  # the decision is the department head's
        services.complete_task(actor=officer, task=decide, outcome=Outcome.APPROVE)
    inst = services.complete_task(actor=chief, task=decide, outcome=Outcome.APPROVE)
    assert (inst.status, inst.outcome) == (InstanceStatus.COMPLETED, Outcome.APPROVE)


def test_a_rejection_ends_the_case_with_its_reason(dept, officer):
    inst = start(dept)
    [review] = open_tasks(inst)
    with pytest.raises(InvalidInput):
        services.complete_task(actor=officer, task=review, outcome=Outcome.REJECT, opinion=" ")
    inst = services.complete_task(actor=officer, task=review, outcome=Outcome.REJECT, opinion="不符合条件")
    assert (inst.outcome, inst.reason) == (Outcome.REJECT, "不符合条件")
    assert open_tasks(inst) == []


def test_countersign_waits_for_every_parallel_step_and_skips_steps_whose_condition_fails(dept, officer):
    other = factories.department("消防")
    fire = factories.user(Role.OFFICER, department=other)
    services.define_process(actor=system_actor("test"), code="joint", name="联审", definition={"stages": [
        {"name": "会签", "mode": "all", "steps": [
            {"key": "own", "name": "本部门", "department": "owner"},
            {"key": "fire", "name": "消防", "department": other.code,
             "condition": {"field": "area", "op": "gt", "value": 300}},
            {"key": "env", "name": "环保", "department": "owner",
             "condition": {"field": "polluting", "op": "truthy"}}]}]})
    inst = start(dept, "joint", context={"area": "500", "polluting": False})
    tasks = open_tasks(inst)
    assert [t.step_key for t in tasks] == ["own", "fire"]
    services.complete_task(actor=fire, task=tasks[1], outcome=Outcome.APPROVE)
    inst.refresh_from_db()
    assert inst.status == InstanceStatus.RUNNING
    inst = services.complete_task(actor=officer, task=tasks[0], outcome=Outcome.APPROVE)
    assert inst.status == InstanceStatus.COMPLETED
    small = start(dept, "joint", context={"area": 80})
    assert [t.step_key for t in open_tasks(small)] == ["own"]


def test_any_mode_stage_is_decided_by_the_first_step_and_withdraws_the_others(dept, officer):
    services.define_process(actor=system_actor("test"), code="either", name="或签", definition={"stages": [
        {"name": "或签", "mode": "any", "steps": [{"key": "a", "name": "甲"}, {"key": "b", "name": "乙"}]}]})
    inst = start(dept, "either")
    a, b = open_tasks(inst)
    inst = services.complete_task(actor=officer, task=a, outcome=Outcome.APPROVE)
    assert inst.status == InstanceStatus.COMPLETED
    b.refresh_from_db()
    assert b.status == TaskStatus.WITHDRAWN


def test_new_process_version_does_not_change_a_running_instance(dept, officer):
    inst = start(dept, "fast")
    services.define_process(actor=system_actor("test"), code="fast", name="即办件", definition={"stages": [
        {"name": "x", "steps": [{"key": "x1", "name": "一"}]}, {"name": "y", "steps": [{"key": "y1", "name": "二"}]}]})
    assert Process.objects.filter(code="fast").count() == 2
    [task] = open_tasks(inst)
    inst = services.complete_task(actor=officer, task=task, outcome=Outcome.APPROVE)
    assert inst.status == InstanceStatus.COMPLETED and inst.process.version == 1


def test_suspension_stops_the_clock_and_resume_moves_the_deadline_by_the_paused_working_days(dept, officer):
    inst = start(dept, limit=5)
    assert inst.due_on == datetime.date(2026, 11, 9)
    inst = services.suspend(actor=officer, instance=inst, reason="补正材料", today=datetime.date(2026, 11, 3))
    assert selectors.colour(inst, datetime.date(2026, 11, 20)) == Colour.PAUSED
    [task] = open_tasks(inst)
    with pytest.raises(Conflict):
        services.complete_task(actor=officer, task=task, outcome=Outcome.APPROVE)
    # stopped Tuesday 3rd, resumed Friday 6th: Wed, Thu, Fri do not count → due three working days later
    inst = services.resume(actor=officer, instance=inst, today=datetime.date(2026, 11, 6))
    assert inst.due_on == datetime.date(2026, 11, 12)
    assert inst.suspensions[0][:2] == ["2026-11-03", "2026-11-06"]
    with pytest.raises(Conflict):
        services.resume(actor=officer, instance=inst)


def test_colours_turn_yellow_near_the_deadline_and_red_after_it(dept):
    inst = start(dept, limit=10)  # due Monday 16 November; 20 % of 10 = 2 working days
    assert selectors.colour(inst, datetime.date(2026, 11, 11)) == Colour.GREEN
    assert selectors.colour(inst, datetime.date(2026, 11, 12)) == Colour.YELLOW
    assert selectors.colour(inst, datetime.date(2026, 11, 16)) == Colour.YELLOW
    assert selectors.colour(inst, datetime.date(2026, 11, 17)) == Colour.RED
    assert selectors.remaining_workdays(inst, datetime.date(2026, 11, 12)) == 2


def test_reassign_limits_the_task_to_the_named_officer_and_escalate_hands_it_to_the_head(dept, officer, chief):
    colleague = factories.user(Role.OFFICER, department=dept)
    inst = start(dept)
    [task] = open_tasks(inst)
    with pytest.raises(Forbidden):
        services.reassign(actor=officer, task=task, assignee=colleague)
    outsider = factories.user(Role.OFFICER)
    with pytest.raises(InvalidInput):
        services.reassign(actor=chief, task=task, assignee=outsider)
    services.reassign(actor=chief, task=task, assignee=colleague)
    assert not services.can_act(officer, task.__class__.objects.get(pk=task.pk))
    assert list(selectors.open_tasks_for(colleague)) == [task]
    assert list(selectors.open_tasks_for(officer)) == []
    services.escalate(actor=chief, task=task, reason="超期未办")
    task.refresh_from_db()
    assert task.escalated and task.role == Role.DEPT_ADMIN and task.assignee is None
    assert list(selectors.open_tasks_for(chief)) == [task]


def test_invalid_definitions_are_rejected_without_creating_a_version():
    with pytest.raises(InvalidInput) as exc:
        services.define_process(actor=system_actor("test"), code="bad", name="坏", definition={"stages": []})
    assert exc.value.code == "invalid_process"
    with pytest.raises(InvalidInput) as exc:
        services.define_process(actor=system_actor("test"), code="bad", name="坏", definition={"stages": [
            {"name": "a", "steps": [{"key": "a", "name": "甲", "department": "NOPE"}]}]})
    assert exc.value.code == "unknown_department"
    assert not Process.objects.filter(code="bad").exists()


def test_monitoring_counts_cases_by_colour_within_the_users_scope(dept, chief):
    today = datetime.date(2026, 11, 13)
    start(dept, limit=1, on=MON)  # due 3 Nov → red
    start(dept, limit=10, on=datetime.date(2026, 11, 2))  # due 16 Nov → yellow on the 13th
    start(dept, limit=20, on=datetime.date(2026, 11, 12))  # green
    start(factories.department("别的局"), limit=1, on=MON)  # not in scope
    summary = selectors.monitoring_summary(chief, today)
    assert summary["counts"] == {"total": 3, "paused": 0, "red": 1, "yellow": 1, "green": 1}


def test_red_card_tasks_are_escalated_to_the_head_once(dept, chief):
    late = start(dept, limit=1, on=MON)  # due Tuesday 3 November
    start(dept, limit=20, on=MON)
    assert services.escalate_overdue_tasks(today=datetime.date(2026, 11, 4)) == 1
    [task] = open_tasks(late)
    assert task.escalated and task.role == Role.DEPT_ADMIN
    assert services.escalate_overdue_tasks(today=datetime.date(2026, 11, 5)) == 0
    assert task in selectors.open_tasks_for(chief)
