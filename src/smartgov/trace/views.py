"""追溯监管 pages: the regulator's dashboard, a code's timeline, recalls, temperature alerts, the public
code lookup and the vaccination desk. Views validate and call one service or selector."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from smartgov.core.errors import DomainError
from smartgov.core.permissions import has_perm, require

from . import codes, nmpa, selectors, services
from .models import Alert, Batch, Logger, Organisation, OrgKind, Recall, RuleCode
from .status import action_label, biz_step_label, disposition_label


@login_required
def dashboard(request):
    require(request.user, "trace.view")
    data = selectors.dashboard(request.user)
    alert_labels = dict(Alert._meta.get_field("kind").choices)
    rule_labels = dict(RuleCode.choices)
    return render(request, "trace/dashboard.html", {
        "data": data,
        "charts": {
            "stages": data["stages"],
            "regions": data["regions"][:12],
            "alerts": ([{"name": alert_labels.get(k, k), "value": v} for k, v in data["alerts"].items()]
                             + [{"name": rule_labels.get(k, k), "value": v} for k, v in data["rule_flags"].items()]),
            "recalls": [{"name": f"{r['recall'].batch.lot}", "total": r["recall"].codes_total,
                         "outstanding": r["outstanding"]} for r in data["recalls"]],
        },
        "can_recall": has_perm(request.user, "trace.recall"),
        "can_release": has_perm(request.user, "trace.release_doses"),
    })


@login_required
def code_trace(request):
    require(request.user, "trace.view")
    q = request.GET.get("q", "").strip()
    result, error = None, None
    if q:
        try:
            result = selectors.trace_for(request.user, q)
        except DomainError as exc:
            error = exc.message
    ctx = {"q": q, "result": result, "error": error}
    if result:
        # data for the charts goes to the page through json_script (escaped), never into a script's text
        ctx["charts"] = {
            "readings": [[r["time"].isoformat(), r["celsius"], r["logger"]] for r in result["readings"]],
            "positions": [[p["lng"], p["lat"], p["time"].isoformat(), p["logger"]] for p in result["positions"]],
        }
        names = dict(Logger.objects.values_list("location_uri", "name"))
        names.update(Organisation.objects.values_list("location_uri", "name"))
        for ev in result["events"]:
            ev["place"] = names.get(ev["biz_location"]) or names.get(ev["read_point"]) or ev["biz_location"] \
                or ev["read_point"]
            # codes as people read them (CBV 2.0); the raw terms stay in the API
            ev["step_label"] = biz_step_label(ev["biz_step"]) if ev["biz_step"] else ev["type"]
            ev["action_label"] = action_label(ev["action"])
            ev["disposition_label"] = disposition_label(ev["disposition"]) if ev["disposition"] else ""
        if result.get("effective"):
            result["effective"]["containers_display"] = [codes.display(c) for c in result["effective"]["containers"]]
    return render(request, "trace/trace.html", ctx)


@login_required
def recalls(request):
    require(request.user, "trace.view")
    batches = Batch.objects.select_related("product").order_by("-expiry_date")[:200]
    return render(request, "trace/recalls.html", {
        "recalls": Recall.objects.select_related("batch__product", "department")[:100],
        "batches": batches, "can_recall": has_perm(request.user, "trace.recall")})


@login_required
@require_POST
def start_recall(request):
    batch = get_object_or_404(Batch, pk=request.POST.get("batch"))
    try:
        recall = services.recall_batch(actor=request.user, batch=batch, reason=request.POST.get("reason", ""),
                                       level=request.POST.get("level", "一级"))
    except DomainError as exc:
        messages.error(request, exc.message)
        return redirect("trace:recalls")
    messages.success(request, _("已发起召回，所有剂次已标记为召回状态"))
    return redirect("trace:recall", recall.pk)


@login_required
def recall_detail(request, pk):
    require(request.user, "trace.view")
    recall = get_object_or_404(Recall.objects.select_related("batch__product", "department"), pk=pk)
    require(request.user, "trace.view", department=recall.department, hide=True)
    raw_page = request.GET.get("page", "1")
    page = min(max(int(raw_page), 1), 1_000_000) if raw_page.isdigit() and len(raw_page) < 10 else 1
    progress = selectors.recall_progress(recall)
    vaccinees = services.reveal_vaccinee_contacts(actor=request.user, recall=recall)
    return render(request, "trace/recall.html", {
        "recall": recall, "progress": progress, "doses": selectors.recall_doses(recall, page=page, page_size=50),
        "vaccinees": vaccinees[0:200], "vaccinee_count": vaccinees.count(),
        "by_location": [{"name": r["name"], "value": r["doses"]} for r in progress["by_location"]],
        "can_complete": has_perm(request.user, "trace.recall") and recall.status == "open"})


@login_required
@require_POST
def complete_recall(request, pk):
    recall = get_object_or_404(Recall, pk=pk)
    try:
        services.complete_recall(actor=request.user, recall=recall)
        messages.success(request, _("召回已完成"))
    except DomainError as exc:
        messages.error(request, exc.message)
    return redirect("trace:recall", pk)


@login_required
@require_POST
def acknowledge_alert(request, pk):
    alert = get_object_or_404(Alert, pk=pk)
    try:
        services.acknowledge_alert(actor=request.user, alert=alert, comment=request.POST.get("comment", ""))
        messages.success(request, _("告警已确认"))
    except DomainError as exc:
        messages.error(request, exc.message)
    return redirect("trace:dashboard")


@login_required
@require_POST
def release_alert(request, pk):
    alert = get_object_or_404(Alert, pk=pk)
    try:
        n = services.release_doses(actor=request.user, alert=alert, comment=request.POST.get("comment", ""))
        messages.success(request, _("已放行 %(n)s 个追溯码") % {"n": n})
    except DomainError as exc:
        messages.error(request, exc.message)
    return redirect("trace:dashboard")


def public_lookup(request):
    """公众查询 (no sign-in): genuine or not, product, batch, expiry, manufacturer — never personal data."""
    q = request.GET.get("q", "").strip()
    result, error = None, None
    if q:
        try:
            result = selectors.public_lookup(q)
        except DomainError as exc:
            error = exc.message
    return render(request, "trace/lookup.html", {"q": q, "result": result, "error": error})


@login_required
def vaccinate(request):
    """接种登记 for a vaccination site's staff."""
    sites = [o for o in Organisation.objects.filter(kind=OrgKind.SITE).select_related("department")
             if has_perm(request.user, "trace.vaccinate") and o.department_id == request.user.department_id]
    if request.method == "POST":
        site = get_object_or_404(Organisation, pk=request.POST.get("site"), kind=OrgKind.SITE)
        dose = request.POST.get("dose_number", "").strip()
        try:
            vac = services.administer_dose(actor=request.user, code=request.POST.get("code", ""),
                                           id_number=request.POST.get("id_number", ""), site=site,
                                           dose_number=int(dose) if dose.isdigit() else (0 if dose else None),
                                           route=request.POST.get("route", ""),
                                           body_site=request.POST.get("body_site", ""))
            messages.success(request, _("接种已登记：%(code)s") % {"code": codes.display(vac.epc)})
            return redirect("trace:vaccinate")
        except DomainError as exc:
            messages.error(request, exc.message)
    return render(request, "trace/vaccinate.html", {"sites": sites, "routes": nmpa.ROUTES.items(),
                                                    "body_sites": nmpa.SITES.items()})
