"""Reads of the workflow engine: SLA colours (黄牌/红牌), task queues and the monitoring summary."""

import datetime
import math

from django.db.models import Count, Q, QuerySet
from django.urls import reverse
from django.utils import timezone

from smartgov.core.indicators import check_scope, indicator
from smartgov.core.permissions import Role, covers_department, has_perm, scope
from smartgov.core.workdays import calendar

from .models import Instance, InstanceStatus, Task, TaskStatus

# Yellow card (黄牌) when at most this share of the time limit is left (at least one working day).
YELLOW_SHARE = 0.2


class Colour:
    GREEN = "green"
    YELLOW = "yellow"
    RED = "red"
    PAUSED = "paused"
    DONE = "done"


COLOUR_LABELS = {Colour.GREEN: "正常", Colour.YELLOW: "黄牌预警", Colour.RED: "红牌超期",
                 Colour.PAUSED: "暂停计时", Colour.DONE: "已办结"}


def yellow_from(due_on: datetime.date, time_limit_days: int) -> datetime.date:
    """The first day of the yellow card: ``ceil(20 %)`` of the limit (≥ 1) working days before due."""
    margin = max(1, math.ceil(time_limit_days * YELLOW_SHARE))
    day, cal = due_on, calendar()
    for _ in range(margin):
        day -= datetime.timedelta(days=1)
        while not cal.is_workday(day):
            day -= datetime.timedelta(days=1)
    return day


def colour(instance: Instance, today: datetime.date | None = None) -> str:
    if instance.status in (InstanceStatus.COMPLETED, InstanceStatus.CANCELLED):
        return Colour.DONE
    if instance.status == InstanceStatus.SUSPENDED:
        return Colour.PAUSED
    today = today or timezone.localdate()
    if today > instance.due_on:
        return Colour.RED
    return Colour.YELLOW if today >= yellow_from(instance.due_on, instance.time_limit_days) else Colour.GREEN


def remaining_workdays(instance: Instance, today: datetime.date | None = None) -> int:
    """Working days left before the deadline (negative when late)."""
    return calendar().workdays_between(today or timezone.localdate(), instance.due_on)


def visible_instances(user) -> QuerySet[Instance]:
    """Instances of the user's department scope (supervisors and admins: their subtree)."""
    if not has_perm(user, "workflow.monitor"):
        return Instance.objects.none()
    return scope(user, Instance.objects.select_related("process", "department"), field="department")


def open_tasks_for(user) -> QuerySet[Task]:
    """The user's queue (我的待办): open tasks of their department and role, or assigned to them."""
    if user.department_id is None:
        return Task.objects.none()
    mine = Q(assignee=user) | Q(assignee__isnull=True, department_id=user.department_id,
                                role__in=[user.role] if user.role == Role.DEPT_ADMIN else [Role.OFFICER])
    return (Task.objects.filter(mine, status=TaskStatus.OPEN, instance__status__in=[
        InstanceStatus.RUNNING, InstanceStatus.SUSPENDED]).select_related("instance", "department")
        .order_by("instance__due_on", "id"))


def monitoring_summary(user, today: datetime.date | None = None) -> dict:
    """Running cases in the user's scope by colour and by process step (in a few aggregate queries)."""
    today = today or timezone.localdate()
    running = visible_instances(user).filter(status__in=[InstanceStatus.RUNNING, InstanceStatus.SUSPENDED])
    red = Q(status=InstanceStatus.RUNNING, due_on__lt=today)
    # Yellow depends on each case's own limit, so it is decided per row among the 200 nearest deadlines.
    counts = running.aggregate(total=Count("id"), paused=Count("id", filter=Q(status=InstanceStatus.SUSPENDED)),
                               red=Count("id", filter=red))
    by_step = list(Task.objects.filter(status=TaskStatus.OPEN, instance__in=running)
                   .values("name", "department__name").annotate(n=Count("id")).order_by("-n")[:20])
    late = list(running.filter(red).order_by("due_on")[:50])
    soon = [i for i in running.filter(status=InstanceStatus.RUNNING, due_on__gte=today).order_by("due_on")[:200]
            if colour(i, today) == Colour.YELLOW]
    counts["yellow"] = len(soon)
    counts["green"] = counts["total"] - counts["paused"] - counts["red"] - counts["yellow"]
    return {"counts": counts, "by_step": by_step, "late": late, "soon": soon[:50]}


def can_act(user, task: Task) -> bool:
    """Whether ``user`` may act on ``task``: its assignee, or anyone of its role in its department."""
    if task.status != TaskStatus.OPEN or not has_perm(user, "workflow.act"):
        return False
    if task.assignee_id is not None:
        return task.assignee_id == user.pk
    if task.role == Role.DEPT_ADMIN and user.role != Role.DEPT_ADMIN:
        return False
    return covers_department(user, task.department, include_descendants=False)


def actionable_task(user, instance: Instance) -> Task | None:
    """The open task of ``instance`` that ``user`` may act on now, if any."""
    for task in instance.tasks.filter(status=TaskStatus.OPEN).select_related("department").order_by("id"):
        if can_act(user, task):
            return task
    return None


def indicators(*, actor, department) -> list[dict]:
    """Running cases of ``department`` and below and their red cards (one query; docs/overview.md)."""
    check_scope(actor, department)
    today = timezone.localdate()
    c = Instance.objects.filter(department__path__startswith=department.path).aggregate(
        running=Count("id", filter=Q(status__in=[InstanceStatus.RUNNING, InstanceStatus.SUSPENDED])),
        red=Count("id", filter=Q(status=InstanceStatus.RUNNING, due_on__lt=today)),
        paused=Count("id", filter=Q(status=InstanceStatus.SUSPENDED)))
    url = reverse("workflow:monitor")
    common = {"app": "workflow", "department": department, "url": url}
    return [indicator(key="running", name="在办流程", name_en="Running cases", unit="件", value=c["running"], **common),
            indicator(key="red", name="超期流程", name_en="Overdue cases", unit="件", value=c["red"], **common),
            indicator(key="paused", name="暂停计时", name_en="Clock stopped", unit="件", value=c["paused"], **common)]
