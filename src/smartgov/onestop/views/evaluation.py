"""差评整改 tickets and the measures (一网通办指标: coverage, completeness, effectiveness)."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from smartgov.core.errors import DomainError, InvalidInput, NotFound
from smartgov.core.permissions import covers_department, has_perm, require

from .. import selectors, services
from ..models import State, TicketStatus


@login_required
def rectifications(request):
    """差评整改: the department answers each ticket; admins and supervisors follow up and close."""
    can_reply, can_follow = has_perm(request.user, "onestop.rectify"), has_perm(request.user, "onestop.follow_up")
    if not (can_reply or can_follow):
        require(request.user, "onestop.rectify")
    tickets = selectors.rectifications_for(request.user)
    status = request.GET.get("status", "")
    if status in TicketStatus.values:
        tickets = tickets.filter(status=status)
    today = timezone.localdate()
    rows = list(tickets[:200])
    for t in rows:
        t.late = t.status == TicketStatus.OPEN and t.due_on < today
        t.can_reply = can_reply and t.status == TicketStatus.OPEN and covers_department(
            request.user, t.department, include_descendants=False)
        t.can_follow = can_follow and t.status == TicketStatus.REPLIED
    return render(request, "onestop/rectifications.html", {
        "tickets": rows, "status": status, "statuses": TicketStatus.choices})


@login_required
@require_POST
def rectification_act(request, ticket_id: int, step: str):
    ticket = selectors.rectifications_for(request.user).filter(pk=ticket_id).first()
    if ticket is None:
        raise NotFound(_("没有这个工单"), code="not_found")
    text = (request.POST.get("text") or "")[:4000]
    try:
        if step == "reply":
            services.reply_rectification(actor=request.user, ticket=ticket, reply=text)
            messages.success(request, _("整改情况已回复"))
        elif step == "follow-up":
            services.follow_up_rectification(actor=request.user, ticket=ticket, follow_up=text)
            messages.success(request, _("已回访并办结工单"))
        else:
            raise NotFound(_("没有这个操作"), code="not_found")
    except InvalidInput as exc:
        messages.error(request, exc.message)
    except DomainError as exc:
        if exc.status in (403, 404):
            raise
        messages.error(request, exc.message)
    return redirect("onestop:rectifications")


def _admin_catalogue_url() -> str:
    try:
        return reverse("admin:onestop_serviceitem_changelist")
    except NoReverseMatch:
        return reverse("admin:index")


@login_required
def dashboard(request):
    """一网通办指标: coverage, completeness and effectiveness for the user's department (or one below)."""
    require(request.user, "onestop.view_stats")
    depts = selectors.stat_departments(request.user)
    code = request.GET.get("department", "")
    dept = next((d for d in depts if d.code == code), None) or (depts[0] if depts else None)
    if dept is None:
        raise NotFound(_("您尚未归属任何部门"), code="not_found")
    m = selectors.measures(department=dept)
    rates = selectors.rates_by("department", department=dept)
    states = selectors.state_counts(dept)
    charts = {
        "satisfaction": [{"name": r["department__name"], "rate": round(r["good"] / r["total"] * 100, 1),
                          "total": r["total"], "bad": r["bad"]} for r in rates if r["total"]],
        "states": [{"name": label, "value": states[v]} for v, label in State.choices if states.get(v)],
        "coverage": [{"name": _("网上可办率"), "value": round(m["online_share"] * 100, 1)},
                     {"name": _("全程网办率"), "value": round(m["full_online_share"] * 100, 1)},
                     {"name": _("最多跑一次率"), "value": round(m["zero_or_one_visit_share"] * 100, 1)},
                     {"name": _("零跑动率"), "value": round(m["zero_visit_share"] * 100, 1)},
                     {"name": _("办事指南完备度"), "value": round(m["completeness"] * 100, 1)}],
    }
    return render(request, "onestop/dashboard.html", {
        "m": m, "dept": dept, "departments": depts, "charts": charts,
        "has_charts": bool(charts["states"] or charts["satisfaction"] or m["items"]),
        "has_satisfaction": bool(charts["satisfaction"]),
        "can_manage": has_perm(request.user, "onestop.manage_catalogue"), "admin_url": _admin_catalogue_url(),
        "pct": {k: (None if m[k] is None else round(m[k] * 100, 1)) for k in (
            "online_share", "zero_or_one_visit_share", "completeness", "online_rate", "on_time_rate",
            "satisfaction")},
        "reuse_rate": round(m["materials_reused"] / m["materials"] * 100, 1) if m["materials"] else None,
    })
