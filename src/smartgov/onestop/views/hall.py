"""办事大厅 and the guides: the smart guide, bundles and items by department; an item's guide whose
questions re-render the material list (htmx)."""

import logging

from django.shortcuts import redirect, render
from django.urls import reverse

from smartgov.core.permissions import covers_department, has_perm

from .. import selectors
from ..guide_index import answer  # loads jieba's dictionary: only when someone asks the guide
from ..models import ItemType, ServiceItem
from .common import (
    DEPTH_LABELS,
    VISIT_LABELS,
    answers_from,
    enterprise_from,
    field_rows_for,
    is_applicant,
    is_htmx,
    item_or_404,
    material_rows_for,
    question_rows,
)

log = logging.getLogger("smartgov.onestop.views")


def hall(request):
    """办事大厅: the smart guide, the 一件事 bundles and the items by department."""
    q = (request.GET.get("q") or "").strip()[:200]
    hits, guide_error, declined = [], False, False
    if q:
        try:
            found = answer(q, k=8)
            hits, declined = found["hits"], found["declined"]
        except Exception:  # the guide is optional: a failing index must not break the hall
            log.exception("smart guide search failed")
            guide_error = True
    bundles = selectors.active_bundles()
    departments: dict = {}
    items = selectors.with_current_versions(ServiceItem.objects.filter(active=True).select_related("department")
                                            .order_by("department__name", "basic_code"))
    dept = (request.GET.get("department") or "").strip()
    for item in items:
        content = selectors.current_version(item).parsed
        item.visits = content.visits
        item.visit_label = VISIT_LABELS.get(content.visits, "")
        item.promised_days = content.promised_limit_days
        item.online = content.online
        departments.setdefault(item.department, []).append(item)
    chosen = [d for d in departments if d.code == dept]
    return render(request, "onestop/hall.html", {
        "q": q, "hits": hits, "guide_error": guide_error, "declined": declined, "bundles": bundles,
        "departments": sorted(departments.items(), key=lambda kv: kv[0].name),
        "department": chosen[0] if chosen else None, "is_applicant": is_applicant(request.user),
        "item_types": dict(ItemType.choices),
    })


def _plan_context(request, item: ServiceItem, answers: dict) -> dict:
    """What applies for these answers: materials (and what the platform attaches), fields, fees."""
    content = selectors.current_version(item).parsed
    applicant = is_applicant(request.user)
    enterprise = enterprise_from(request.user, request.GET.get("enterprise") or request.POST.get("enterprise"))
    plan = selectors.reuse_plan(request.user, content, answers, enterprise=enterprise) if applicant else {}
    prefill = selectors.prefill(request.user, content, answers, enterprise=enterprise) if applicant else {}
    situations = content.situations_for(answers)
    unanswered = [s for s in situations if s.key not in answers]
    fees = [f for f in content.fees if content.applies(f, answers)]
    return {
        "item": item, "content": content, "answers": answers, "applicant": applicant,
        "perms_handle": has_perm(request.user, "onestop.handle")
        and covers_department(request.user, item.department, include_descendants=False),
        "questions": question_rows(situations, answers), "unanswered": unanswered,
        "materials": material_rows_for([(m, None) for m in content.materials_for(answers)], plan),
        "fields": field_rows_for(content.fields_for(answers), prefill),
        "fees": fees, "fee_total": content.fee_total(answers),
    }


def item_guide(request, code: str):
    """办事指南: everything about the item; the questions re-render the material list (htmx)."""
    item = item_or_404(code)
    content = selectors.current_version(item).parsed
    answers = answers_from(request.GET, content.situations)
    ctx = _plan_context(request, item, answers)
    ctx.update({"item_type": ItemType(item.item_type).label, "depth": DEPTH_LABELS.get(content.online_depth, ""),
                "visit_label": VISIT_LABELS.get(content.visits, ""), "bundles": item.bundles.filter(active=True)})
    return render(request, "onestop/item.html", ctx)


def item_plan(request, code: str):
    """The material / field / fee list for the chosen answers (the htmx fragment of the guide)."""
    item = item_or_404(code)
    content = selectors.current_version(item).parsed
    data = request.POST if request.method == "POST" else request.GET
    ctx = _plan_context(request, item, answers_from(data, content.situations))
    if not is_htmx(request):
        return redirect(f"{reverse('onestop:item', args=[item.implementation_code])}?{data.urlencode()}")
    return render(request, "onestop/_plan.html", ctx)
