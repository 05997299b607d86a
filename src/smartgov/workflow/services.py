"""Every write to the workflow engine. Keyword-only, ``actor=``, atomic, audited.

Callers (the one-stop app and later ones) start an instance for their case, act on its tasks through
``complete_task`` and learn from the returned instance whether the process has finished.
"""

import datetime

from django.db import transaction
from django.utils import timezone
from pydantic import ValidationError

from smartgov.accounts.models import Department
from smartgov.audit.services import record
from smartgov.core.errors import Conflict, Forbidden, InvalidInput
from smartgov.core.permissions import Role, has_perm, require, system_actor, user_of
from smartgov.core.workdays import calendar

from .definition import STANDARD_PROCESSES, Definition, condition_holds
from .models import Instance, InstanceStatus, Outcome, Process, Task, TaskStatus
from .selectors import can_act


def _today() -> datetime.date:
    return timezone.localdate()


def parse_definition(definition: dict) -> Definition:
    try:
        return Definition.model_validate(definition)
    except ValidationError as exc:
        raise InvalidInput("流程定义格式不正确", code="invalid_process",
                           detail=exc.errors(include_url=False, include_context=False)) from None


@transaction.atomic
def define_process(*, actor, code: str, name: str, definition: dict) -> Process:
    """Publish a new version of process ``code`` (版本化: running instances keep their version)."""
    require(actor, "workflow.define_process")
    parsed = parse_definition(definition)
    missing = parsed.department_codes() - set(Department.objects.filter(
        code__in=parsed.department_codes()).values_list("code", flat=True))
    if missing:
        raise InvalidInput(f"流程定义引用了不存在的部门：{'、'.join(sorted(missing))}", code="unknown_department")
    last = Process.objects.select_for_update().filter(code=code).order_by("-version").first()
    process = Process.objects.create(code=code, version=(last.version + 1) if last else 1, name=name,
                                     definition=parsed.model_dump(mode="json", exclude_none=True),
                                     created_by=user_of(actor))
    record(actor=actor, action="workflow.define_process", target=process,
           changes={"code": code, "version": process.version})
    return process


def ensure_standard_processes() -> None:
    """Define the built-in processes that do not exist yet (idempotent)."""
    have = set(Process.objects.values_list("code", flat=True))
    for code, (name, definition) in STANDARD_PROCESSES.items():
        if code not in have:
            define_process(actor=system_actor("workflow.standard_processes"), code=code, name=name, definition=definition)


def current_process(code: str) -> Process:
    process = Process.objects.filter(code=code).order_by("-version").first()
    if process is None:
        if code in STANDARD_PROCESSES:
            ensure_standard_processes()
            return current_process(code)
        raise InvalidInput(f"没有流程“{code}”", code="unknown_process")
    return process


@transaction.atomic
def start_instance(*, actor, process_code: str, subject: str, title: str, department, context: dict,
                   time_limit_days: int, started_on: datetime.date | None = None) -> Instance:
    """Start a case on the current version of ``process_code``; the clock starts on ``started_on``
    (the day itself not counted) and runs ``time_limit_days`` working days."""
    process = current_process(process_code)
    started_on = started_on or _today()
    instance = Instance.objects.create(
        process=process, subject=subject, title=title[:200], department=department, context=context,
        time_limit_days=time_limit_days, started_on=started_on,
        due_on=calendar().add_workdays(started_on, time_limit_days))
    _open_stage(instance, 0, started_on)
    record(actor=actor, action="workflow.start", target=instance,
           changes={"process": f"{process.code} v{process.version}", "subject": subject,
                    "due_on": instance.due_on.isoformat()})
    return instance


def _definition(instance: Instance) -> Definition:
    return Definition.model_validate(instance.process.definition)


def _open_stage(instance: Instance, stage: int, today: datetime.date) -> None:
    """Open the first stage from ``stage`` on that has a step applying to the case; finish the
    instance as approved when none is left."""
    stages = _definition(instance).stages
    codes = {s.department for st in stages for s in st.steps} - {"owner"}
    depts = {d.code: d for d in Department.objects.filter(code__in=codes)} if codes else {}
    while stage < len(stages):
        steps = [s for s in stages[stage].steps if condition_holds(s.condition, instance.context)]
        if steps:
            Task.objects.bulk_create([Task(
                instance=instance, step_key=s.key, name=s.name, stage=stage, role=s.role,
                department=instance.department if s.department == "owner" else depts[s.department],
                due_on=(calendar().add_workdays(today, s.time_limit_days)
                        if s.time_limit_days is not None else instance.due_on)) for s in steps])
            instance.stage = stage
            instance.save(update_fields=["stage"])
            return
        stage += 1
    _finish(instance, Outcome.APPROVE, "")


def _finish(instance: Instance, outcome: str, reason: str) -> None:
    instance.status = InstanceStatus.COMPLETED
    instance.outcome = outcome
    instance.reason = reason
    instance.completed_at = timezone.now()
    instance.save(update_fields=["status", "outcome", "reason", "completed_at"])


def _locked_task(task: Task) -> Task:
    return Task.objects.select_for_update().select_related("instance__process", "instance__department",
                                                           "department").get(pk=task.pk)


@transaction.atomic
def complete_task(*, actor, task: Task, outcome: str, opinion: str = "",
                  today: datetime.date | None = None) -> Instance:
    """Record a step's decision (同意/不同意 with an opinion) and move the case on."""
    task = _locked_task(task)
    instance = Instance.objects.select_for_update().select_related("process", "department").get(
        pk=task.instance_id)
    if task.status != TaskStatus.OPEN:
        raise Conflict("该环节已办理", code="task_closed")
    if instance.status != InstanceStatus.RUNNING:
        raise Conflict("办件处于暂停计时或已办结状态，不能办理该环节", code="instance_not_running")
    if not can_act(actor, task):
        raise Forbidden("您不是该环节的办理人", code="not_task_actor")
    if outcome not in Outcome.values:
        raise InvalidInput("办理意见应为同意或不同意", code="invalid_outcome")
    if outcome == Outcome.REJECT and not opinion.strip():
        raise InvalidInput("不同意时须填写理由", code="reason_required")
    task.status, task.outcome, task.opinion = TaskStatus.DONE, outcome, opinion.strip()
    task.actor, task.completed_at = (actor if getattr(actor, "pk", None) else None), timezone.now()  # a system actor is no user
    task.save(update_fields=["status", "outcome", "opinion", "actor", "completed_at"])
    record(actor=actor, action="workflow.complete_task", target=task,
           changes={"step": task.step_key, "outcome": outcome})
    stage = _definition(instance).stages[task.stage]
    siblings = Task.objects.filter(instance=instance, stage=task.stage, status=TaskStatus.OPEN)
    if outcome == Outcome.REJECT:
        siblings.update(status=TaskStatus.WITHDRAWN)
        _finish(instance, Outcome.REJECT, task.opinion)
    elif stage.mode == "any" or not siblings.exists():
        siblings.update(status=TaskStatus.WITHDRAWN)
        _open_stage(instance, task.stage + 1, today or _today())
    return instance


@transaction.atomic
def suspend(*, actor, instance: Instance, reason: str, today: datetime.date | None = None) -> Instance:
    """Stop the clock (暂停计时: 补正、听证、专家评审、现场核查 — 《行政许可法》第四十五条)."""
    instance = Instance.objects.select_for_update().get(pk=instance.pk)
    if instance.status != InstanceStatus.RUNNING:
        raise Conflict("只有办理中的流程可以暂停计时", code="instance_not_running")
    instance.status = InstanceStatus.SUSPENDED
    instance.suspended_since = today or _today()
    instance.suspensions = [*instance.suspensions, [instance.suspended_since.isoformat(), None, reason]]
    instance.save(update_fields=["status", "suspended_since", "suspensions"])
    record(actor=actor, action="workflow.suspend", target=instance, changes={"reason": reason})
    return instance


def _closed_suspensions(instance: Instance) -> list[tuple[datetime.date, datetime.date]]:
    """Paused days: from the day after the clock stopped through the day it resumed."""
    out = []
    for first, last, _reason in instance.suspensions:
        if last is None:
            continue
        a = datetime.date.fromisoformat(first) + datetime.timedelta(days=1)
        b = datetime.date.fromisoformat(last)
        if a <= b:
            out.append((a, b))
    return out


@transaction.atomic
def resume(*, actor, instance: Instance, today: datetime.date | None = None) -> Instance:
    """Restart the clock; the deadline moves out by the working days it was stopped."""
    instance = Instance.objects.select_for_update().get(pk=instance.pk)
    if instance.status != InstanceStatus.SUSPENDED:
        raise Conflict("流程未暂停计时", code="instance_not_suspended")
    today = today or _today()
    first, _none, reason = instance.suspensions[-1]
    instance.suspensions = [*instance.suspensions[:-1], [first, today.isoformat(), reason]]
    old_due = instance.due_on
    instance.due_on = calendar().add_workdays(instance.started_on, instance.time_limit_days,
                                              suspensions=_closed_suspensions(instance))
    instance.status, instance.suspended_since = InstanceStatus.RUNNING, None
    instance.save(update_fields=["suspensions", "due_on", "status", "suspended_since"])
    shift = calendar().workdays_between(old_due, instance.due_on)
    if shift:
        for task in Task.objects.filter(instance=instance, status=TaskStatus.OPEN, due_on__isnull=False):
            task.due_on = calendar().add_workdays(task.due_on, shift)
            task.save(update_fields=["due_on"])
    record(actor=actor, action="workflow.resume", target=instance,
           changes={"due_on": [old_due.isoformat(), instance.due_on.isoformat()]})
    return instance


@transaction.atomic
def cancel(*, actor, instance: Instance, reason: str) -> Instance:
    instance = Instance.objects.select_for_update().get(pk=instance.pk)
    if instance.status in (InstanceStatus.COMPLETED, InstanceStatus.CANCELLED):
        raise Conflict("流程已结束", code="instance_finished")
    Task.objects.filter(instance=instance, status=TaskStatus.OPEN).update(status=TaskStatus.WITHDRAWN)
    instance.status, instance.reason, instance.completed_at = InstanceStatus.CANCELLED, reason, timezone.now()
    instance.save(update_fields=["status", "reason", "completed_at"])
    record(actor=actor, action="workflow.cancel", target=instance, changes={"reason": reason})
    return instance


@transaction.atomic
def reassign(*, actor, task: Task, assignee) -> Task:
    """The department admin hands a task to a named colleague (改派)."""
    task = _locked_task(task)
    require(actor, "workflow.reassign", department=task.department, include_descendants=False)
    if task.status != TaskStatus.OPEN:
        raise Conflict("该环节已办理", code="task_closed")
    if assignee.department_id != task.department_id or not has_perm(assignee, "workflow.act") \
            or (task.role == Role.DEPT_ADMIN and assignee.role != Role.DEPT_ADMIN):
        raise InvalidInput("被指派人须是本部门具备该环节角色的工作人员", code="invalid_assignee")
    old = task.assignee_id
    task.assignee = assignee
    task.save(update_fields=["assignee"])
    record(actor=actor, action="workflow.reassign", target=task, changes={"assignee": [old, assignee.pk]})
    return task


@transaction.atomic
def escalate(*, actor, task: Task, reason: str) -> Task:
    """督办升级: a late or stuck task goes to the department's admin, whoever it was with."""
    task = _locked_task(task)
    require(actor, "workflow.escalate", department=task.department)
    if task.status != TaskStatus.OPEN:
        raise Conflict("该环节已办理", code="task_closed")
    if not reason.strip():
        raise InvalidInput("请填写督办理由", code="reason_required")
    task.role, task.assignee, task.escalated = Role.DEPT_ADMIN, None, True
    task.save(update_fields=["role", "assignee", "escalated"])
    record(actor=actor, action="workflow.escalate", target=task, changes={"reason": reason.strip()})
    return task


def escalate_overdue_tasks(today: datetime.date | None = None) -> int:
    """Escalate, once, every open task of a running instance past its deadline (safe to run again)."""
    today = today or _today()
    overdue = Task.objects.filter(status=TaskStatus.OPEN, escalated=False, instance__status=InstanceStatus.RUNNING,
                                  instance__due_on__lt=today).values_list("pk", flat=True)
    count = 0
    for pk in list(overdue[:1000]):
        escalate(actor=system_actor("workflow.red_card"), task=Task(pk=pk), reason="办件已超过办理时限（红牌），系统自动督办")
        count += 1
    return count
