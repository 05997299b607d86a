"""Pages: the catalogue (browse, search, Excel export/import), a resource with the request form, the
agreements of the user's department (as consumer, and approvals as provider), the message log with
evidence export, subscriptions and dead letters, statistics (ECharts, Excel) and the data-quality
report. Views validate and call one service; scope through the selectors."""

import datetime
import io

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST
from openpyxl import Workbook

from smartgov.core.errors import DomainError, InvalidInput
from smartgov.core.permissions import has_perm

from . import excel, selectors, services
from .catalogue import CATEGORIES, ITEM_TYPES, OPEN_TYPES, UPDATE_CYCLES
from .models import AgreementStatus, DeliveryStatus, Outcome, ShareType

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _page(request, qs, size=50):
    return Paginator(qs, size).get_page(request.GET.get("page"))


@login_required
def catalogue(request):
    q, dept, share = request.GET.get("q", ""), request.GET.get("department", ""), request.GET.get("share_type", "")
    qs = selectors.catalogue_for(request.user, q=q, department=dept, share_type=share)
    page = _page(request, qs)
    rows = selectors.with_content(page.object_list)
    return render(request, "exchange/catalogue.html", {
        "rows": rows, "page": page, "q": q, "department": dept, "share_type": share, "share_types": ShareType.choices,
        "can_import": has_perm(request.user, "exchange.manage_resource")})


@login_required
def export_catalogue(request):
    qs = selectors.catalogue_for(request.user, q=request.GET.get("q", ""), department=request.GET.get("department", ""))
    resp = HttpResponse(excel.export_workbook(selectors.with_content(qs)), content_type=XLSX)
    resp["Content-Disposition"] = 'attachment; filename="exchange-catalogue.xlsx"'
    return resp


@login_required
@require_POST
def import_catalogue(request):
    upload = request.FILES.get("file")
    try:
        if upload is None:
            raise InvalidInput(_("请选择Excel文件"), code="file_required")
        result = services.import_resources(actor=request.user, data=upload.read(5 * 1_048_576))
        messages.success(request, _("已导入 %(n)s 个资源") % {"n": result["imported"]})
    except DomainError as exc:
        problems = "；".join(f"第{e['row']}行：{e['error']}" for e in (exc.detail or [])[:10]
                            if isinstance(e, dict))
        messages.error(request, f"{exc.message} {problems}")
    return redirect("exchange:catalogue")


@login_required
def resource(request, code):
    res, content = selectors.get_resource(request.user, code)
    mine = None
    if request.user.department_id:
        mine = selectors.agreements_for(request.user, side="consumer").filter(resource=res).order_by("-pk").first()
    return render(request, "exchange/resource.html", {
        "resource": res, "content": content, "category": CATEGORIES[content.category],
        "open_type": OPEN_TYPES[content.open_type], "cycle": UPDATE_CYCLES[content.update_cycle][0],
        "item_types": ITEM_TYPES, "mine": mine, "today": timezone.localdate(),
        "can_apply": has_perm(request.user, "exchange.apply") and res.share_type != ShareType.NONE
        and request.user.department_id != res.department_id,
        "default_until": (timezone.localdate() + datetime.timedelta(days=365)).isoformat()})


@login_required
@require_POST
def apply(request, code):
    res, _content = selectors.get_resource(request.user, code)
    try:
        until = datetime.date.fromisoformat(request.POST.get("valid_until", ""))
    except ValueError:
        messages.error(request, _("请填写有效的截止日期"))
        return redirect("exchange:resource", code=res.code)
    try:
        rate = int(request.POST.get("rate_limit") or 60)
    except ValueError:
        rate = 0
    try:
        ag = services.apply_for_resource(
            actor=request.user, resource=res, purpose=request.POST.get("purpose", ""),
            legal_basis=request.POST.get("legal_basis", ""), fields=request.POST.getlist("fields"),
            clear_fields=request.POST.getlist("clear_fields"), valid_until=until, rate_limit=rate,
            keep_content=request.POST.get("keep_content") == "on")
        messages.success(request, _("已授权") if ag.status == AgreementStatus.ACTIVE else _("申请已提交，等待提供方审批"))
        return redirect("exchange:agreements")
    except DomainError as exc:
        messages.error(request, exc.message)
        return redirect("exchange:resource", code=res.code)


@login_required
def agreements(request):
    consumer = selectors.agreements_for(request.user, side="consumer").order_by("-pk")[:200]
    provider = selectors.agreements_for(request.user, side="provider").order_by("status", "-pk")[:200]
    return render(request, "exchange/agreements.html", {
        "consumer": consumer, "provider": provider, "today": timezone.localdate(),
        "can_decide": has_perm(request.user, "exchange.decide")})


@login_required
@require_POST
def decide(request, agreement_id, action):
    ag = selectors.get_agreement_for(request.user, agreement_id)
    try:
        if action == "approve":
            services.approve_agreement(actor=request.user, agreement=ag, fields=request.POST.getlist("fields") or None,
                                       clear_fields=request.POST.getlist("clear_fields"),
                                       reason=request.POST.get("reason", ""))
            messages.success(request, _("已批准"))
        elif action == "refuse":
            services.refuse_agreement(actor=request.user, agreement=ag, reason=request.POST.get("reason", ""))
            messages.success(request, _("已拒绝"))
        elif action == "revoke":
            services.revoke_agreement(actor=request.user, agreement=ag, reason=request.POST.get("reason", ""))
            messages.success(request, _("已撤销"))
    except DomainError as exc:
        messages.error(request, exc.message)
    return redirect("exchange:agreements")


@login_required
def calls(request):
    outcome, res = request.GET.get("outcome", ""), request.GET.get("resource", "")
    page = _page(request, selectors.messages_for(request.user, outcome=outcome, resource=res))
    return render(request, "exchange/calls.html", {"page": page, "outcome": outcome, "resource": res,
                                                   "outcomes": Outcome.choices})


@login_required
def evidence(request, message_id):
    msg = selectors.get_message_for(request.user, message_id)
    try:
        data = services.export_evidence(actor=request.user, message=msg)
    except DomainError as exc:
        messages.error(request, exc.message)
        return redirect("exchange:calls")
    resp = HttpResponse(data, content_type="application/json")
    resp["Content-Disposition"] = f'attachment; filename="evidence-{msg.message_id}.json"'
    return resp


@login_required
def subscriptions(request):
    subs = list(selectors.subscriptions_for(request.user))
    dead = selectors.dead_letters_shown(request.user, selectors.dead_letters_for(request.user)[:100])
    options = selectors.agreements_for(request.user, side="consumer").filter(status=AgreementStatus.ACTIVE)
    return render(request, "exchange/subscriptions.html", {
        "subscriptions": subs, "dead": dead, "options": options, "handlers": sorted(services.events.HANDLERS),
        "can_subscribe": has_perm(request.user, "exchange.subscribe"), "pending_status": DeliveryStatus.PENDING})


@login_required
@require_POST
def subscribe(request):
    try:
        res, _content = selectors.get_resource(request.user, request.POST.get("resource", ""))
        _sub, secret = services.subscribe(actor=request.user, resource=res, url=request.POST.get("url", ""),
                                          handler=request.POST.get("handler", ""))
        messages.success(request, _("已订阅。") + (_("回调签名密钥（仅显示一次）：") + secret if secret else ""))
    except DomainError as exc:
        messages.error(request, exc.message)
    return redirect("exchange:subscriptions")


@login_required
@require_POST
def subscription_action(request, subscription_id, action):
    sub = selectors.get_subscription_for(request.user, subscription_id)
    try:
        if action == "replay":
            try:
                offset = int(request.POST.get("offset", ""))
            except ValueError:
                raise InvalidInput(_("偏移量应为非负整数"), code="invalid_offset") from None
            n = services.replay_from(actor=request.user, subscription=sub, offset=offset)
            messages.success(request, _("已安排重放 %(n)s 个事件") % {"n": n})
        elif action == "redeliver":
            n = services.redeliver_dead(actor=request.user, subscription=sub)
            messages.success(request, _("已重新投递 %(n)s 条死信") % {"n": n})
        elif action == "end":
            services.unsubscribe(actor=request.user, subscription=sub)
            messages.success(request, _("已取消订阅"))
    except DomainError as exc:
        messages.error(request, exc.message)
    return redirect("exchange:subscriptions")


def _days(request) -> int:
    try:
        return max(1, min(int(request.GET.get("days", 30)), 366))
    except ValueError:
        return 30


@login_required
def stats(request):
    days = _days(request)
    data = selectors.statistics(request.user, days=days)
    return render(request, "exchange/stats.html", {"s": data, "days": days,
                                                   "supervisor": has_perm(request.user, "exchange.supervise")})


@login_required
def stats_export(request):
    days = _days(request)
    data = selectors.statistics(request.user, days=days)
    wb = Workbook()
    ws = wb.active
    ws.title = "按日"
    ws.append(["日期", "调用量"])
    for row in data["per_day"]:
        ws.append(row)
    for title, header, rows in (("按资源", ["资源代码", "资源名称", "调用量"], data["by_resource"]),
                                ("按使用方", ["使用方", "调用量"], data["by_consumer"]),
                                ("按提供方", ["提供方", "调用量"], data["by_provider"]),
                                ("拒绝原因", ["原因代码", "次数"], data["refused_by_reason"])):
        sheet = wb.create_sheet(title)
        sheet.append(header)
        for row in rows:
            sheet.append(list(row))
    summary = wb.create_sheet("汇总", 0)
    for k in ("total", "ok", "errors", "refused", "p50_ms", "p95_ms", "p99_ms"):
        summary.append([k, data[k]])
    buf = io.BytesIO()
    wb.save(buf)
    resp = HttpResponse(buf.getvalue(), content_type=XLSX)
    resp["Content-Disposition"] = f'attachment; filename="exchange-stats-{days}d.xlsx"'
    return resp


@login_required
def quality(request):
    return render(request, "exchange/quality.html", {"rows": selectors.quality_report(request.user)})
