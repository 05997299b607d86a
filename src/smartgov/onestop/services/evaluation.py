"""好差评: one evaluation per case or hall visit; every negative one opens a rectification ticket
that the department answers and a supervisor follows up with the applicant before it closes."""

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from smartgov.audit.services import record
from smartgov.core.errors import Conflict, InvalidInput
from smartgov.core.permissions import require, system_actor
from smartgov.core.workdays import calendar

from ..models import Application, Channel, Evaluation, Grade, Rectification, State, TicketStatus
from .states import _applicant, _now


@transaction.atomic
def evaluate(*, actor, application: Application, grade: int, comment: str = "", visit: int = 0) -> Evaluation:
    """One evaluation per case online (visit 0) or per hall visit; 不满意/非常不满意 opens a
    rectification ticket to the department with a deadline in working days."""
    app = Application.objects.select_related("department", "item").get(pk=application.pk)
    _applicant(actor, app)
    if app.state in (State.DRAFT, State.WITHDRAWN):
        raise Conflict("该办件尚未办理，不能评价", code="illegal_transition")
    if grade not in Grade.values:
        raise InvalidInput("评价等级应为1–5", code="invalid_grade")
    if grade <= Grade.DISSATISFIED and not comment.strip():
        raise InvalidInput("差评请说明原因，以便整改", code="comment_required")
    if not 0 <= visit <= app.visits:
        raise InvalidInput("没有这次现场办理", code="invalid_visit")
    if Evaluation.objects.filter(application=app, visit=visit).exists():
        raise Conflict("您已评价过", code="already_evaluated")
    evaluation = Evaluation.objects.create(application=app, department=app.department, item=app.item,
                                           channel=app.channel if visit == 0 else Channel.WINDOW, visit=visit,
                                           grade=grade, comment=comment.strip()[:2000])
    record(actor=actor, action="onestop.evaluate", target=evaluation, changes={"grade": grade})
    if grade <= Grade.DISSATISFIED:
        ticket = Rectification.objects.create(
            evaluation=evaluation, department=app.department,
            due_on=calendar().add_workdays(timezone.localdate(), settings.ONESTOP_RECTIFY_DAYS))
        record(actor=system_actor("onestop.rectification"), action="onestop.rectification.open", target=ticket,
               changes={"department": app.department_id, "due_on": ticket.due_on.isoformat()})
    return evaluation


@transaction.atomic
def reply_rectification(*, actor, ticket: Rectification, reply: str) -> Rectification:
    ticket = Rectification.objects.select_for_update().select_related("department").get(pk=ticket.pk)
    require(actor, "onestop.rectify", department=ticket.department, include_descendants=False, hide=True)
    if ticket.status != TicketStatus.OPEN:
        raise Conflict("该工单已回复", code="illegal_transition")
    if not reply.strip():
        raise InvalidInput("请填写整改情况", code="reply_required")
    ticket.reply, ticket.replied_at, ticket.status = reply.strip(), _now(), TicketStatus.REPLIED
    ticket.save(update_fields=["reply", "replied_at", "status"])
    record(actor=actor, action="onestop.rectification.reply", target=ticket)
    return ticket


@transaction.atomic
def follow_up_rectification(*, actor, ticket: Rectification, follow_up: str) -> Rectification:
    """回访: every negative evaluation is followed up with the applicant before the ticket closes."""
    ticket = Rectification.objects.select_for_update().select_related("department").get(pk=ticket.pk)
    require(actor, "onestop.follow_up", department=ticket.department, hide=True)
    if ticket.status != TicketStatus.REPLIED:
        raise Conflict("工单须先整改回复才能回访", code="illegal_transition")
    if not follow_up.strip():
        raise InvalidInput("请填写回访情况", code="follow_up_required")
    ticket.follow_up, ticket.closed_at, ticket.status = follow_up.strip(), _now(), TicketStatus.CLOSED
    ticket.save(update_fields=["follow_up", "closed_at", "status"])
    record(actor=actor, action="onestop.rectification.close", target=ticket)
    return ticket
