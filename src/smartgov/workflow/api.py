"""Workflow API: process definitions (versioned), my tasks, reassign and escalate, the monitoring
summary. Acting on a task happens through the owning app (e.g. the one-stop case actions)."""

from ninja import Router, Status
from ninja.pagination import paginate

from smartgov.accounts.models import User
from smartgov.core.errors import NotFound
from smartgov.core.pagination import PageNumber
from smartgov.core.permissions import has_perm, require

from . import selectors, services
from .models import Process, Task
from .schemas import EscalateIn, ProcessIn, ProcessOut, ReassignIn, TaskOut

router = Router(tags=["流程引擎 workflow"])


@router.get("/processes", response=list[ProcessOut], summary="流程定义（各版本）")
@paginate(PageNumber)
def list_processes(request, code: str = ""):
    require(request.user, "workflow.monitor")
    qs = Process.objects.order_by("code", "-version")
    return qs.filter(code=code) if code else qs


@router.post("/processes", response={201: ProcessOut}, summary="发布流程定义新版本（部门管理员）")
def define_process(request, body: ProcessIn):
    return Status(201, services.define_process(actor=request.user, **body.dict()))


@router.get("/tasks", response=list[TaskOut], summary="我的待办（按届满日排序）")
@paginate(PageNumber)
def my_tasks(request):
    require(request.user, "workflow.act")
    return selectors.open_tasks_for(request.user)


def _task(request, task_id: int) -> Task:
    task = Task.objects.select_related("department", "instance").filter(pk=task_id).first()
    if task is None or not (has_perm(request.user, "workflow.monitor")
                            and selectors.visible_instances(request.user).filter(pk=task.instance_id).exists()):
        raise NotFound("没有这个任务", code="not_found")
    return task


@router.post("/tasks/{task_id}/reassign", response=TaskOut, summary="改派给本部门工作人员")
def reassign(request, task_id: int, body: ReassignIn):
    assignee = User.objects.filter(username=body.username.strip()).first()
    if assignee is None:
        raise NotFound("没有这个用户", code="user_not_found")
    return services.reassign(actor=request.user, task=_task(request, task_id), assignee=assignee)


@router.post("/tasks/{task_id}/escalate", response=TaskOut, summary="督办升级到部门负责人")
def escalate(request, task_id: int, body: EscalateIn):
    return services.escalate(actor=request.user, task=_task(request, task_id), reason=body.reason)


@router.get("/monitor", summary="运行中流程：按颜色（正常/黄牌/红牌/暂停）与环节统计")
def monitor(request):
    require(request.user, "workflow.monitor")
    summary = selectors.monitoring_summary(request.user)

    def brief(i):
        return {"id": i.pk, "title": i.title, "subject": i.subject, "department": i.department.name,
                "due_on": i.due_on, "colour": selectors.colour(i)}

    return {"counts": summary["counts"], "by_step": summary["by_step"],
            "late": [brief(i) for i in summary["late"]], "soon": [brief(i) for i in summary["soon"]]}
