"""Pages of the park's cases: 续租/退租 on the workflow (request from the enterprise page, the list, a case
with its steps and the form for the caller's step), 企业服务 (the operator's list of its park's one-stop
cases, opening the items) and the enterprise's own page (我的园区: its leased units, raising a repair, a
policy application or a complaint, its cases with their deadlines and 好差评). Views validate and call one
service."""

from datetime import date

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from smartgov.core.errors import DomainError, NotFound
from smartgov.core.masking import mask_name, mask_phone
from smartgov.core.permissions import has_perm
from smartgov.onestop import selectors as onestop_selectors
from smartgov.workflow.selectors import COLOUR_LABELS, actionable_task, colour

from .. import selectors, services
from ..models import LeaseChangeStatus
from ..service_items import KIND_LABELS, KIND_OF_CODE, SERVICES, field_choices, leased_units, summary, unit_label


def _date(raw: str) -> date | None:
    try:
        return date.fromisoformat(raw or "")
    except ValueError:
        return None


# ---------------------------------------------------------------- 续租 / 退租
def _open_lease_change(request, lease, kind: str):
    """The renewal or move-out form (the operator's or the tenant's) as a case; DomainError on bad input."""
    p = request.POST
    day = _date(p.get("date", ""))
    if day is None:
        raise DomainError(_("日期格式应为 YYYY-MM-DD"), code="invalid_date")
    if kind == "renewal":
        return services.request_renewal(actor=request.user, lease=lease, end_date=day, reason=p.get("reason", ""),
                                        monthly_rent=p.get("monthly_rent", "").strip(),
                                        escalation_pct=p.get("escalation_pct", "").strip())
    return services.request_move_out(actor=request.user, lease=lease, move_out_on=day, reason=p.get("reason", ""))


@login_required
@require_POST
def request_lease_change(request, lease_id: int, kind: str):
    lease = selectors.get_lease_for(request.user, lease_id)
    try:
        change = _open_lease_change(request, lease, kind)
    except DomainError as exc:
        messages.error(request, exc.message)
        return redirect("park:enterprise", lease.enterprise_id)
    messages.success(request, _("申请已提交，审批通过后合同才会变更"))
    return redirect("park:lease_change", change.pk)


@login_required
def lease_changes(request, park_id: int):
    park = selectors.get_park_for(request.user, park_id)
    rows = list(selectors.lease_changes_for(request.user, park)[:200])
    return render(request, "park/lease_changes.html", {
        "park": park, "rows": [(c, colour(c.instance)) for c in rows], "colour_labels": COLOUR_LABELS})


@login_required
def lease_change(request, change_id: int):
    change = selectors.get_lease_change_for(request.user, change_id)
    task = actionable_task(request.user, change.instance) if change.status == LeaseChangeStatus.RUNNING else None
    return render(request, "park/lease_change.html", {
        "park": change.park, "c": change, "steps": selectors.lease_change_steps(change), "task": task,
        "colour": colour(change.instance), "colour_labels": COLOUR_LABELS,
        "can_cancel": change.status == LeaseChangeStatus.RUNNING and has_perm(request.user, "park.lease")})


@login_required
@require_POST
def act_on_lease_change(request, change_id: int):
    change = selectors.get_lease_change_for(request.user, change_id)
    p = request.POST
    try:
        services.act_on_lease_change(actor=request.user, change=change, outcome=p.get("outcome", ""),
                                     opinion=p.get("opinion", ""), inspection=p.get("inspection", ""),
                                     damages=p.get("damages") or 0, deductions=p.get("deductions") or 0)
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("已办理"))
    return redirect("park:lease_change", change.pk)


@login_required
@require_POST
def cancel_lease_change(request, change_id: int):
    change = selectors.get_lease_change_for(request.user, change_id)
    try:
        services.cancel_lease_change(actor=request.user, change=change, reason=request.POST.get("reason", ""))
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("申请已撤销"))
    return redirect("park:lease_change", change.pk)


# ---------------------------------------------------------------- 企业服务: the operator
def _case_rows(cases) -> list[dict]:
    rows = []
    for app in cases:
        kind = KIND_OF_CODE.get(app.item.basic_code, "")
        grades = [e.grade for e in app.evaluations.all() if e.visit == 0]
        rows.append({"app": app, "kind": KIND_LABELS.get(kind, ""), "summary": summary(app.form_data),
                     "unit": app.form_data.get("unit", ""), "colour": onestop_selectors.sla_colour(app),
                     "grade": grades[0] if grades else None})
    return rows


@login_required
def service_cases(request, park_id: int):
    """企业服务: the park's 报修、政策申报、投诉 (one-stop cases), newest first; handled in the one-stop queue."""
    park = selectors.get_park_for(request.user, park_id)
    cases = list(selectors.service_cases(request.user, park)[:300])
    offered = [code for code, *_ in SERVICES.values() if onestop_selectors.department_item(park.department, code)]
    return render(request, "park/service_cases.html", {
        "park": park, "rows": _case_rows(cases), "colour_labels": COLOUR_LABELS,
        "missing_items": len(offered) < len(SERVICES), "can_manage": has_perm(request.user, "park.manage")})


@login_required
@require_POST
def publish_service_items(request, park_id: int):
    park = selectors.get_park_for(request.user, park_id)
    try:
        services.publish_service_items(actor=request.user, park=park)
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("企业服务事项已开通"))
    return redirect("park:service_cases", park.pk)


# ---------------------------------------------------------------- 我的园区: the enterprise
@login_required
def my_park(request):
    """The resident enterprises the user represents, their leased units, the forms and their cases."""
    if not has_perm(request.user, "onestop.apply"):
        raise NotFound("没有这个页面", code="not_found")
    leases = selectors.my_leases(request.user)
    now = timezone.localtime().replace(second=0, microsecond=0)
    enterprises = [{"ent": e, "units": [unit_label(u) for u in leased_units(e)],
                    "leases": [(x, [unit_label(u) for u in x.units.all()]) for x in leases if x.enterprise_id == e.pk]}
                   for e in selectors.resident_enterprises_for(request.user)]
    return render(request, "park/my.html", {
        "enterprises": enterprises, "rows": _case_rows(selectors.my_service_cases(request.user)[:100]),
        "changes": list(selectors.my_lease_changes(request.user)[:50]),
        "visits": [{"visit": v, "name": mask_name(v.name), "phone": mask_phone(v.phone)}
                   for v in selectors.my_visits(request.user)[:50]],
        "now": now, "until": now.replace(hour=23, minute=59) if now.hour < 23 else now,
        "colour_labels": COLOUR_LABELS, "kinds": KIND_LABELS,
        "categories": field_choices("repair", "category"), "policies": field_choices("policy", "policy")})


@login_required
@require_POST
def request_my_lease_change(request, lease_id: int, kind: str):
    """The tenant asks for its own renewal or move-out (the operator's officers then take the case)."""
    lease = selectors.get_my_lease(request.user, lease_id)
    try:
        _open_lease_change(request, lease, kind)
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("申请已提交，园区审批通过后合同才会变更"))
    return redirect("park:my")


@login_required
@require_POST
def cancel_my_lease_change(request, change_id: int):
    change = selectors.my_lease_changes(request.user).filter(pk=change_id).first()
    if change is None:
        raise NotFound("没有这个申请", code="lease_change_not_found")
    try:
        services.cancel_lease_change(actor=request.user, change=change, reason=request.POST.get("reason", ""))
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("申请已撤销"))
    return redirect("park:my")


@login_required
@require_POST
def raise_service(request, enterprise_id: int):
    ent = selectors.get_resident_enterprise_for(request.user, enterprise_id)
    p = request.POST
    kind = p.get("kind", "")
    form = {k: p.get(k, "").strip() for k in ("unit", "category", "description", "contact_phone", "policy", "period",
                                              "amount", "subject", "content") if p.get(k, "").strip()}
    try:
        app = services.raise_service(actor=request.user, enterprise=ent, kind=kind, form=form)
    except DomainError as exc:
        detail = exc.detail if isinstance(exc.detail, dict) else {}
        messages.error(request, "；".join([exc.message, *map(str, detail.values())]))
        return redirect("park:my")
    messages.success(request, _("已提交，办件编号 %(number)s") % {"number": app.number})
    return redirect("onestop:case", app.number)
