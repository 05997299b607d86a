"""Pages. Citizens: my entitlements (why I qualify, with the data used; confirm the bank account or
decline) and 智能预审 of an ID card or licence photo. Officers: the dashboard with the measures, an
entitlement with its rule and grants, the 秒批 rule editor with its test panel, and the sampled
approvals to review. Views validate and call one service; reads go through the selectors."""

import json

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from smartgov.core.errors import DomainError, InvalidInput, NotFound
from smartgov.core.permissions import has_perm, require
from smartgov.onestop import selectors as onestop_selectors

from . import ocr, selectors, services
from .models import GrantStatus
from .rules import OPERATORS


def _page(request, qs, size=50):
    return Paginator(qs, size).get_page(request.GET.get("page"))


# --- citizens ----------------------------------------------------------------------------------------------

@login_required
def mine(request):
    require(request.user, "smart.respond")
    return render(request, "smart/mine.html", {"grants": list(selectors.grants_of_user(request.user))})


@login_required
def my_grant(request, grant_id: int):
    require(request.user, "smart.respond")
    grant = selectors.grant_of_user(request.user, grant_id)
    if request.method == "POST":
        try:
            services.respond_to_grant(actor=request.user, grant=grant, accept=request.POST.get("action") == "accept",
                                      bank_name=request.POST.get("bank_name", ""),
                                      bank_account=request.POST.get("bank_account", ""))
            messages.success(request, _("已确认，待遇将按月发放到您的账户。") if request.POST.get("action") == "accept"
                             else _("您已放弃该待遇。"))
            return redirect("smart:my_grant", grant_id=grant.pk)
        except DomainError as exc:
            messages.error(request, exc.message)
    return render(request, "smart/my_grant.html", {"grant": grant, "decisions": selectors.decisions_of(grant),
                                                   "offered": grant.status == GrantStatus.OFFERED})


@login_required
def prereview(request):
    require(request.user, "smart.prereview")
    person = getattr(request.user, "person", None)
    ctx = {"kinds": ocr.KINDS, "kind": "id_card", "name": person.name if person else request.user.name,
           "id_number": "", "uscc": ""}
    if request.method == "POST":
        ctx.update({k: request.POST.get(k, "").strip() for k in ("kind", "name", "id_number", "uscc")})
        upload = request.FILES.get("file")
        try:
            if upload is None:
                raise InvalidInput(_("请选择要预审的图片"), code="file_required")
            if upload.size > 10 * 1_048_576:
                raise InvalidInput(_("文件不能超过10MB"), code="file_too_large")
            try:
                result = ocr.read_document(upload.read(), kind=ctx["kind"])
            except ocr.UnreadableDocument as exc:
                raise InvalidInput(str(exc), code="unreadable_document") from None
            problems = ocr.check(ctx["kind"], result, ctx, today=timezone.localdate())
            ctx["result"] = services.record_prereview(actor=request.user, kind=ctx["kind"], result=result,
                                                      problems=problems)
        except DomainError as exc:
            messages.error(request, exc.message)
    return render(request, "smart/prereview.html", ctx)


# --- officers ----------------------------------------------------------------------------------------------

@login_required
def dashboard(request):
    require(request.user, "smart.view")
    department = request.user.department
    if department is None:
        raise NotFound()
    m = selectors.measures(department)
    chart = {"labels": [_("免申即享"), _("秒批通过"), _("转人工"), _("抽查撤销")],
             "values": [m["grants"]["total"], m["instant"]["approved"], m["instant"]["total"] - m["instant"]["approved"],
                        m["instant"]["revoked"]]}
    return render(request, "smart/dashboard.html", {
        "m": m, "entitlements": list(selectors.entitlements_for(request.user)),
        "rulesets": list(selectors.rulesets_for(request.user)), "chart": chart})


@login_required
def entitlement(request, code: str):
    ent = selectors.entitlement_for(request.user, code)
    version = ent.versions.filter(version=ent.current_version).first()
    if request.method == "POST":
        try:
            counts = services.screen(actor=request.user, department=ent.department)
            messages.success(request, _("筛查完成：新认定 %(offered)s 人，不符合 %(not_qualified)s 人，复核 %(rechecked)s 项。")
                             % counts)
        except DomainError as exc:
            messages.error(request, exc.message)
        return redirect("smart:entitlement", code=ent.code)
    return render(request, "smart/entitlement.html", {
        "ent": ent, "definition": json.dumps(version.definition, ensure_ascii=False, indent=2) if version else "",
        "versions": ent.versions.order_by("-version"), "page": _page(request, selectors.grants_for(request.user,
                                                                                                   entitlement=ent)),
        "can_manage": has_perm(request.user, "smart.manage_rules")})


@login_required
def grant(request, grant_id: int):
    g = selectors.grant_for(request.user, grant_id)
    if request.method == "POST":
        try:
            services.end_grant(actor=request.user, grant=g, reason=request.POST.get("reason", ""))
            messages.success(request, _("已终止。"))
        except DomainError as exc:
            messages.error(request, exc.message)
        return redirect("smart:grant", grant_id=g.pk)
    return render(request, "smart/grant.html", {"grant": g, "decisions": selectors.decisions_of(g),
                                                "can_manage": has_perm(request.user, "smart.manage_rules")})


@login_required
def rules(request, code: str):
    """The 秒批 rule editor: edit the JSON, run it against past cases (试运行), publish."""
    item = onestop_selectors.item_by_code(code, fresh=True)
    if item is None:
        raise NotFound()
    require(request.user, "smart.manage_rules", department=item.department, include_descendants=False, hide=True)
    ruleset = next((r for r in selectors.rulesets_for(request.user) if r.item_id == item.pk), None)
    current = ruleset.versions.get(version=ruleset.current_version).definition if ruleset and ruleset.current_version \
        else {"sample_rate": 0.1, "sources": {}, "rules": []}
    text, trial = json.dumps(current, ensure_ascii=False, indent=2), None
    if request.method == "POST":
        text = request.POST.get("definition", "")
        try:
            try:
                definition = json.loads(text)
            except json.JSONDecodeError as exc:
                raise InvalidInput(_("规则不是有效的JSON：%(e)s") % {"e": exc}, code="invalid_json") from None
            if request.POST.get("action") == "publish":
                rs = services.publish_instant_rules(actor=request.user, item=item, definition=definition)
                messages.success(request, _("已发布第 %(v)s 版秒批规则。") % {"v": rs.current_version})
                return redirect("smart:rules", code=code)
            trial = selectors.trial_run(request.user, item, definition)
        except DomainError as exc:
            messages.error(request, f"{exc.message} {exc.detail or ''}")
    content = onestop_selectors.current_version(item).parsed
    return render(request, "smart/rules.html", {
        "item": item, "ruleset": ruleset, "text": text, "trial": trial,
        "fields": [(f.key, f.label) for f in content.fields],
        "operators": [(k, v[0]) for k, v in OPERATORS.items()]})


@login_required
def approvals(request):
    pending = request.GET.get("pending") == "1"
    return render(request, "smart/approvals.html", {
        "page": _page(request, selectors.approvals_for(request.user, pending=pending)), "pending": pending})


@login_required
def approval(request, approval_id: int):
    a = selectors.approval_for(request.user, approval_id)
    return render(request, "smart/approval.html", {"a": a, "d": a.decision,
                                                   "can_review": has_perm(request.user, "smart.review_sample")})


@login_required
@require_POST
def review(request, approval_id: int):
    a = selectors.approval_for(request.user, approval_id)
    try:
        services.review_sample(actor=request.user, approval=a, revoke=request.POST.get("action") == "revoke",
                               reason=request.POST.get("reason", ""))
        messages.success(request, _("抽查结果已记录。"))
    except DomainError as exc:
        messages.error(request, exc.message)
    return redirect("smart:approval", approval_id=a.pk)
