"""流程监控: running cases in the user's scope by SLA colour and by step, the late (红牌) and soon-due
(黄牌) lists, and reassign (改派) / escalate (督办) on late tasks. Views read through ``selectors`` and
write through one ``services`` call each."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from smartgov.accounts.selectors import users_for
from smartgov.core.errors import DomainError, NotFound
from smartgov.core.permissions import Role, covers_department, has_perm, require

from . import selectors, services
from .models import Task, TaskStatus

COLOUR_TONE = {"green": "ok", "yellow": "yellow", "red": "red", "paused": "paused", "done": "soon"}


# the page of each kind of subject, by URL name (the engine imports none of the apps that use it)
SUBJECT_PAGES = {"onestop.application": "onestop:work_by_id", "park.lease_change": "park:lease_change"}


def subject_url(subject: str) -> str | None:
    """The page of the thing an instance runs for (``onestop.application:<id>`` → the case page)."""
    kind, _sep, ident = subject.partition(":")
    if kind in SUBJECT_PAGES and ident.isdigit():
        try:
            return reverse(SUBJECT_PAGES[kind], args=[int(ident)])
        except NoReverseMatch:
            return None
    return None


@login_required
def monitor(request):
    require(request.user, "workflow.monitor")
    summary = selectors.monitoring_summary(request.user)
    late, soon = summary["late"], summary["soon"]
    tasks: dict[int, list[Task]] = {}
    for task in (Task.objects.filter(instance__in=[i.pk for i in late], status=TaskStatus.OPEN)
                 .select_related("department", "assignee").order_by("id")):
        tasks.setdefault(task.instance_id, []).append(task)
    can_reassign = has_perm(request.user, "workflow.reassign")
    can_escalate = has_perm(request.user, "workflow.escalate")
    colleagues = {}
    for rows in tasks.values():
        for task in rows:
            task.can_reassign = can_reassign and covers_department(request.user, task.department,
                                                                   include_descendants=False)
            task.can_escalate = can_escalate and not task.escalated and covers_department(
                request.user, task.department)
            if task.can_reassign and task.department_id not in colleagues:
                colleagues[task.department_id] = list(users_for(request.user).filter(
                    department_id=task.department_id, is_active=True,
                    role__in=[Role.OFFICER, Role.DEPT_ADMIN]).order_by("name"))
            task.colleagues = [u for u in colleagues.get(task.department_id, [])
                               if task.role != Role.DEPT_ADMIN or u.role == Role.DEPT_ADMIN]
    for instance in [*late, *soon]:
        instance.url = subject_url(instance.subject)
        instance.remaining = selectors.remaining_workdays(instance)
        instance.late_days = max(0, -instance.remaining)
        instance.open_tasks = tasks.get(instance.pk, [])
    counts = summary["counts"]
    labels = selectors.COLOUR_LABELS
    chart = {
        "colours": [{"name": labels[c], "value": counts.get(c, 0), "key": c}
                    for c in ("green", "yellow", "red", "paused")],
        "steps": [{"name": f"{r['name']}·{r['department__name']}", "value": r["n"]} for r in summary["by_step"]],
    }
    return render(request, "workflow/monitor.html", {
        "counts": counts, "late": late, "soon": soon, "by_step": summary["by_step"], "chart": chart,
        "tone": COLOUR_TONE,
    })


def _task_for(request, task_id: int) -> Task:
    task = (Task.objects.filter(pk=task_id, instance__in=selectors.visible_instances(request.user))
            .select_related("department").first())
    if task is None:
        raise NotFound(_("没有这个环节"), code="not_found")
    return task


@login_required
@require_POST
def reassign_task(request, task_id: int):
    require(request.user, "workflow.reassign")
    task = _task_for(request, task_id)
    assignee = users_for(request.user).filter(pk=request.POST.get("assignee") or 0,
                                              department_id=task.department_id).first()
    if assignee is None:
        messages.error(request, _("请选择本部门的工作人员"))
        return redirect("workflow:monitor")
    try:
        services.reassign(actor=request.user, task=task, assignee=assignee)
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("已改派给 %(name)s") % {"name": assignee.name or assignee.username})
    return redirect("workflow:monitor")


@login_required
@require_POST
def escalate_task(request, task_id: int):
    require(request.user, "workflow.escalate")
    task = _task_for(request, task_id)
    try:
        services.escalate(actor=request.user, task=task, reason=(request.POST.get("reason") or "")[:500])
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("已督办升级，环节转部门管理员办理"))
    return redirect("workflow:monitor")
