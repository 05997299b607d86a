"""Where a case stands, in words for the person who reads it: who holds it (办理部门 and 环节, and for
staff the role that acts next) and what the applicant has to do next (下一步). Reads only."""

from dataclasses import dataclass

from django.utils.translation import gettext_lazy as _

from smartgov.core.permissions import Role

from .models import Application, State

# What the applicant does next, by state; None: nothing, the department is working on it.
_APPLICANT_NEXT = {
    State.DRAFT: (_("继续填写并提交申请"), "act"),
    State.SUPPLEMENT: (_("按补正告知补齐材料后重新提交"), "act"),
    State.APPROVED: (_("等待出具办理结果"), "wait"),
    State.ISSUED: (_("领取办理结果（电子证照已放入证照夹）"), "act"),
    State.DELIVERED: (_("办理结果已送达，请确认并评价"), "act"),
    State.NOT_ACCEPTED: (_("查看不予受理理由，可修改后重新申请"), "done"),
    State.REJECTED: (_("查看不予办理理由；如有异议可依法申请复议"), "done"),
    State.WITHDRAWN: (_("申请已撤回"), "done"),
}


@dataclass
class Holder:
    """Who has the case now: the department and step; ``role`` for staff (whom to pass it to)."""

    department: str
    step: str
    role: str
    role_label: str


def holders(app: Application) -> list[Holder]:
    """The open workflow tasks of the case (usually one), else the department that owns it."""
    out = []
    if app.instance_id is not None:
        for task in app.instance.tasks.filter(status="open").select_related("department").order_by("id"):
            out.append(Holder(department=task.department.name if task.department_id else app.department.name,
                              step=task.name, role=task.role, role_label=str(Role(task.role).label)
                              if task.role in Role.values else task.role))
    if not out and app.state not in (State.CLOSED, State.WITHDRAWN, State.DRAFT):
        out.append(Holder(department=app.department.name, step=str(State(app.state).label), role="", role_label=""))
    return out


def applicant_next_step(app: Application, *, evaluated: bool = False) -> tuple[str, str]:
    """(text, kind) — kind is "act" when the applicant has something to do, "wait" or "done" otherwise."""
    if app.state == State.CLOSED:
        return (str(_("已办结")), "done") if evaluated else (str(_("已办结，请对本次办理作出评价")), "act")
    if app.state in _APPLICANT_NEXT:
        text, kind = _APPLICANT_NEXT[app.state]
        return str(text), kind
    return str(_("等待 %(dept)s 办理") % {"dept": app.department.name}), "wait"
