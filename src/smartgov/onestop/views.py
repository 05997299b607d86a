"""一网通办 pages: the service hall and guides, applying (one item or a 一件事), 我的办件 and the case
page for applicants; the officer's queue and case page, rectification tickets and the measures.

Views read through ``selectors``, validate input, call one ``services`` function and show its Chinese
message on failure (``DomainError``); permissions through ``require``/``has_perm``.
"""

import logging
from decimal import Decimal

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import Count, Prefetch
from django.http import FileResponse, Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop
from django.views.decorators.http import require_POST

from smartgov.core.errors import DomainError, InvalidInput, NotFound
from smartgov.core.masking import mask_id_number, mask_name
from smartgov.core.permissions import covers_department, has_perm, require
from smartgov.workflow import selectors as wf_selectors
from smartgov.workflow.models import InstanceStatus

from . import notices, notify, selectors, services
from .models import (
    REUSED_SOURCES,
    Application,
    ApplicationMaterial,
    Bundle,
    CaseStep,
    Grade,
    ItemType,
    MaterialSource,
    Notice,
    Notification,
    Rectification,
    ServiceItem,
    State,
    StoredMaterial,
    TicketStatus,
)

log = logging.getLogger("smartgov.onestop.views")

# Choice labels of the models and step names of the services are Chinese data; the templates show them
# with {% translate %} so the English catalogue can name them (kept here so makemessages finds them).
RUNTIME_LABELS = (
    gettext_noop("草稿"), gettext_noop("已提交待预审"), gettext_noop("预审中"), gettext_noop("待补正"), gettext_noop("已受理"),
    gettext_noop("不予受理"), gettext_noop("审查中"), gettext_noop("准予办理"), gettext_noop("不予办理"), gettext_noop("已出证"),
    gettext_noop("已送达"), gettext_noop("已办结"), gettext_noop("已撤回"), gettext_noop("本次上传"), gettext_noop("材料库复用"),
    gettext_noop("电子证照复用"), gettext_noop("政府数据共享"), gettext_noop("一件事内前序结果"), gettext_noop("窗口收取纸质件"),
    gettext_noop("未提供"), gettext_noop("A 电子证照/政府数据"), gettext_noop("B 窗口核验原件"), gettext_noop("C 申请人上传"),
    gettext_noop("D 未核验/承诺"), gettext_noop("非常满意"), gettext_noop("满意"), gettext_noop("基本满意"), gettext_noop("不满意"),
    gettext_noop("非常不满意"), gettext_noop("待整改"), gettext_noop("已整改待回访"), gettext_noop("已回访办结"), gettext_noop("网上办"),
    gettext_noop("窗口办"), gettext_noop("自助终端"), gettext_noop("掌上办"), gettext_noop("受理通知书"), gettext_noop("不予受理通知书"),
    gettext_noop("补正材料通知书"), gettext_noop("办理结果通知书"), gettext_noop("行政许可"), gettext_noop("行政确认"),
    gettext_noop("行政给付"), gettext_noop("行政奖励"), gettext_noop("行政裁决"), gettext_noop("公共服务"), gettext_noop("其他行政权力"),
    gettext_noop("申请"), gettext_noop("预审"), gettext_noop("一次性告知补正"), gettext_noop("补正材料"), gettext_noop("受理"),
    gettext_noop("审查"), gettext_noop("特别程序"), gettext_noop("特别程序结束"), gettext_noop("出证"), gettext_noop("送达"),
    gettext_noop("办结"), gettext_noop("撤回"), gettext_noop("决定"), gettext_noop("听证"), gettext_noop("专家评审"),
    gettext_noop("现场核查"), gettext_noop("检验检测"), gettext_noop("电子送达"), gettext_noop("邮寄送达"), gettext_noop("窗口自取"),
)

# state → badge colour (the shared ``.tag`` classes plus the few in onestop/_style.html)
STATE_TONE = {
    State.DRAFT: "soon", State.SUBMITTED: "", State.PREREVIEW: "", State.SUPPLEMENT: "warn",
    State.ACCEPTED: "", State.NOT_ACCEPTED: "bad", State.REVIEW: "", State.APPROVED: "ok",
    State.REJECTED: "bad", State.ISSUED: "ok", State.DELIVERED: "ok", State.CLOSED: "ok", State.WITHDRAWN: "soon",
}
COLOUR_TONE = {"green": "ok", "yellow": "yellow", "red": "red", "paused": "paused", "done": "soon"}
# the evaluation form is offered once the case has an outcome (the service itself accepts any submitted case)
EVALUATE_STATES = frozenset({State.NOT_ACCEPTED, State.REJECTED, State.ISSUED, State.DELIVERED, State.CLOSED})
OFFICER_ACTIONS = [a for a in services.TRANSITIONS if a not in services.APPLICANT_ACTIONS]
DEPTH_LABELS = {1: gettext_noop("一级 信息发布"), 2: gettext_noop("二级 在线咨询"), 3: gettext_noop("三级 在线预审"),
                4: gettext_noop("四级 全程网办")}
VISIT_LABELS = {0: gettext_noop("零跑动"), 1: gettext_noop("最多跑一次"), 2: gettext_noop("跑两次")}
FIELD_INPUTS = {"text": "text", "number": "number", "date": "date", "phone": "tel", "id_number": "text",
                "uscc": "text"}


# --------------------------------------------------------------------------- small helpers


def _item_or_404(code: str) -> ServiceItem:
    item = ServiceItem.objects.select_related("department").filter(implementation_code=code.strip(),
                                                                   active=True).first()
    if item is None:
        raise NotFound(_("没有这个事项"), code="item_not_found")
    return item


def _is_applicant(user) -> bool:
    return has_perm(user, "onestop.apply")


def _answers_from(data, situations) -> dict:
    """Answers as posted: radio ``answers.<key>`` (checkboxes for a multiple-choice situation)."""
    answers = {}
    for s in situations:
        name = f"answers.{s.key}"
        if s.multiple:
            values = [v for v in data.getlist(name) if v]
            if values:
                answers[s.key] = values
        elif value := (data.get(name) or "").strip():
            answers[s.key] = value
    return answers


def _questions(situations, answers: dict, errors: dict | None = None) -> list[dict]:
    out = []
    for s in situations:
        chosen = answers.get(s.key)
        chosen = chosen if isinstance(chosen, list) else [chosen]
        out.append({"key": s.key, "question": s.question, "multiple": s.multiple,
                    "error": (errors or {}).get(f"answers.{s.key}", ""),
                    "options": [{"value": o.value, "label": o.label, "checked": o.value in chosen}
                                for o in s.options]})
    return out


def _field_rows(fields, values: dict, errors: dict | None = None) -> list[dict]:
    rows = []
    for f in fields:
        widget = "textarea" if f.type == "textarea" else "select" if f.type == "choice" else "input"
        rows.append({"key": f.key, "label": f.label, "type": f.type, "required": f.required, "widget": widget,
                     "input_type": FIELD_INPUTS.get(f.type, "text"), "choices": f.choices,
                     "prefilled": bool(f.prefill), "value": values.get(f.key, ""),
                     "display": mask_id_number(values.get(f.key, "")) if f.type == "id_number" else values.get(f.key, ""),
                     "error": (errors or {}).get(f.key, "")})
    return rows


def _material_rows(materials, plan: dict, errors: dict | None = None) -> list[dict]:
    """Materials with what the platform attaches (复用) and what must be uploaded.
    ``materials`` are ``(Material, producing_item_or_None)`` pairs."""
    rows = []
    for m, producer in materials:
        reuse = plan.get(m.key)
        rows.append({"key": m.key, "name": m.name, "required": m.required, "note": m.note, "form": m.form,
                     "copies": m.copies, "producer": producer, "reuse": reuse,
                     "needs_upload": producer is None and reuse is None,
                     "error": (errors or {}).get(f"materials.{m.key}", "")})
    return rows


def _form_values(data, fields) -> dict:
    return {f.key: (data.get(f"field.{f.key}") or "").strip() for f in fields}


def _kept_values(data, fields, prefill: dict) -> dict:
    """What the applicant typed (kept on re-render); register values for fields new to the form."""
    return {f.key: data[f"field.{f.key}"].strip() if f"field.{f.key}" in data else prefill.get(f.key, "")
            for f in fields}


def _enterprises(user) -> list:
    person = getattr(user, "person", None)
    return list(person.represents.order_by("name")) if person is not None else []


def _enterprise_from(user, uscc: str):
    uscc = (uscc or "").strip().upper()
    return next((e for e in _enterprises(user) if e.uscc == uscc), None) if uscc else None


def _store_uploads(request, rows: list[dict]) -> tuple[dict[str, int], dict[str, str]]:
    """Keep each uploaded file in the applicant's material library; return ``{key: stored.pk}`` and errors."""
    stored, errors = {}, {}
    for row in rows:
        upload = request.FILES.get(f"materials.{row['key']}")
        if upload is None or row["producer"] is not None:
            continue
        try:
            stored[row["key"]] = services.store_material(actor=request.user, key=row["key"], name=row["name"],
                                                         upload=upload).pk
        except DomainError as exc:
            errors[f"materials.{row['key']}"] = exc.message
    return stored, errors


def _detail_errors(exc: DomainError) -> dict[str, str]:
    return {str(k): str(v) for k, v in exc.detail.items()} if isinstance(exc.detail, dict) else {}


def _stray_errors(errors: dict, known: set[str]) -> list[str]:
    """Messages for keys the form does not show (so nothing the service said is lost)."""
    return [v for k, v in errors.items() if k not in known]


def _is_htmx(request) -> bool:
    return request.headers.get("HX-Request") == "true"


def _decorate(apps) -> list[Application]:
    for app in apps:
        app.tone = STATE_TONE.get(app.state, "")
        app.colour = selectors.sla_colour(app)
        app.colour_tone = COLOUR_TONE.get(app.colour or "", "")
        app.colour_label = wf_selectors.COLOUR_LABELS.get(app.colour, "") if app.colour else ""
    return apps


def _can_see_case(user, app: Application) -> bool:
    if app.applicant_user_id == user.pk:
        return True
    return has_perm(user, "onestop.view_case") and selectors.cases_for(user).filter(pk=app.pk).exists()


# --------------------------------------------------------------------------- 办事大厅 and guides


def hall(request):
    """办事大厅: the smart guide, the 一件事 bundles and the items by department."""
    q = (request.GET.get("q") or "").strip()[:200]
    hits, guide_error = [], False
    if q:
        try:
            from .guide_index import search

            hits = search(q, k=8)
        except Exception:  # the guide is optional: a failing index must not break the hall
            log.exception("smart guide search failed")
            guide_error = True
    bundles = list(Bundle.objects.filter(active=True).prefetch_related("members__item__department").order_by("code"))
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
        "q": q, "hits": hits, "guide_error": guide_error, "bundles": bundles,
        "departments": sorted(departments.items(), key=lambda kv: kv[0].name),
        "department": chosen[0] if chosen else None, "is_applicant": _is_applicant(request.user),
        "item_types": dict(ItemType.choices),
    })


def _plan_context(request, item: ServiceItem, answers: dict) -> dict:
    """What applies for these answers: materials (and what the platform attaches), fields, fees."""
    content = selectors.current_version(item).parsed
    applicant = _is_applicant(request.user)
    enterprise = _enterprise_from(request.user, request.GET.get("enterprise") or request.POST.get("enterprise"))
    plan = selectors.reuse_plan(request.user, content, answers, enterprise=enterprise) if applicant else {}
    prefill = selectors.prefill(request.user, content, answers, enterprise=enterprise) if applicant else {}
    situations = content.situations_for(answers)
    unanswered = [s for s in situations if s.key not in answers]
    fees = [f for f in content.fees if content.applies(f, answers)]
    return {
        "item": item, "content": content, "answers": answers, "applicant": applicant,
        "questions": _questions(situations, answers), "unanswered": unanswered,
        "materials": _material_rows([(m, None) for m in content.materials_for(answers)], plan),
        "fields": _field_rows(content.fields_for(answers), prefill),
        "fees": fees, "fee_total": content.fee_total(answers),
    }


def item_guide(request, code: str):
    """办事指南: everything about the item; the questions re-render the material list (htmx)."""
    item = _item_or_404(code)
    content = selectors.current_version(item).parsed
    answers = _answers_from(request.GET, content.situations)
    ctx = _plan_context(request, item, answers)
    ctx.update({"item_type": ItemType(item.item_type).label, "depth": DEPTH_LABELS.get(content.online_depth, ""),
                "visit_label": VISIT_LABELS.get(content.visits, ""), "bundles": item.bundles.filter(active=True)})
    return render(request, "onestop/item.html", ctx)


def item_plan(request, code: str):
    """The material / field / fee list for the chosen answers (the htmx fragment of the guide)."""
    item = _item_or_404(code)
    content = selectors.current_version(item).parsed
    data = request.POST if request.method == "POST" else request.GET
    ctx = _plan_context(request, item, _answers_from(data, content.situations))
    if not _is_htmx(request):
        return redirect(f"{reverse('onestop:item', args=[item.implementation_code])}?{data.urlencode()}")
    return render(request, "onestop/_plan.html", ctx)


@login_required
def item_apply(request, code: str):
    """The application form for the chosen answers; files go to the library, then one ``apply``."""
    require(request.user, "onestop.apply")
    item = _item_or_404(code)
    content = selectors.current_version(item).parsed
    data = request.POST if request.method == "POST" else request.GET
    answers = _answers_from(data, content.situations)
    enterprises = _enterprises(request.user)
    enterprise_uscc = (data.get("enterprise") or "").strip().upper()
    enterprise = _enterprise_from(request.user, enterprise_uscc)
    fields = content.fields_for(answers)
    prefill = selectors.prefill(request.user, content, answers, enterprise=enterprise)
    values = _kept_values(data, fields, prefill) if request.method == "POST" else prefill
    errors: dict[str, str] = {}
    stray: list[str] = []
    refresh = request.method == "POST" and data.get("_refresh")
    if request.method == "POST" and not refresh:
        plan = selectors.reuse_plan(request.user, content, answers, enterprise=enterprise)
        rows = _material_rows([(m, None) for m in content.materials_for(answers)], plan)
        stored, errors = _store_uploads(request, rows)
        if not errors:
            try:
                app = services.apply(actor=request.user, item=item, answers=answers,
                                     form_data=_form_values(data, fields), materials=stored, channel="online",
                                     enterprise_uscc=enterprise.uscc if enterprise else None)
            except InvalidInput as exc:
                errors = _detail_errors(exc) or {"": exc.message}
            except DomainError as exc:
                errors = {"": exc.message}
            else:
                messages.success(request, _("申请已提交，办件编号 %(number)s。请留意预审结果。") % {"number": app.number})
                return redirect("onestop:case", app.number)
    plan = selectors.reuse_plan(request.user, content, answers, enterprise=enterprise)
    materials = _material_rows([(m, None) for m in content.materials_for(answers)], plan, errors)
    field_rows = _field_rows(fields, values, errors)
    questions = _questions(content.situations_for(answers), answers, errors)
    known = {f"answers.{q['key']}" for q in questions} | {r["key"] for r in field_rows} | {
        f"materials.{m['key']}" for m in materials}
    stray = _stray_errors(errors, known)
    ctx = {"item": item, "content": content, "questions": questions, "fields": field_rows,
           "materials": materials, "fee_total": content.fee_total(answers), "errors": errors, "stray": stray,
           "fees": [(item.name, f) for f in content.fees if content.applies(f, answers)],
           "enterprises": enterprises, "enterprise_uscc": enterprise.uscc if enterprise else "",
           "action": reverse("onestop:apply", args=[item.implementation_code])}
    if refresh and _is_htmx(request):
        return render(request, "onestop/_apply_body.html", ctx)
    return render(request, "onestop/apply.html", ctx, status=422 if errors else 200)


@login_required
def bundle_apply(request, code: str):
    """一件事: the union of the items' questions, one form with every field asked once, one submit."""
    bundle = Bundle.objects.filter(code=code.strip().upper(), active=True).first()
    if bundle is None:
        raise NotFound(_("没有这个一件事"), code="bundle_not_found")
    require(request.user, "onestop.apply")
    entries = selectors.bundle_plan(bundle)
    data = request.POST if request.method == "POST" else request.GET
    all_situations = {}
    for e in entries:
        for s in e.version.parsed.situations:
            all_situations.setdefault(s.key, s)
    answers = _answers_from(data, all_situations.values())
    enterprise = _enterprise_from(request.user, data.get("enterprise"))
    merged = selectors.merged_bundle_content(entries, answers)
    plan, prefill = {}, {}
    for e in entries:
        for k, v in selectors.reuse_plan(request.user, e.version.parsed, answers, enterprise=enterprise).items():
            plan.setdefault(k, v)
        for k, v in selectors.prefill(request.user, e.version.parsed, answers, enterprise=enterprise).items():
            prefill.setdefault(k, v)
    values = _kept_values(data, merged["fields"], prefill) if request.method == "POST" else prefill
    errors: dict[str, str] = {}
    refresh = request.method == "POST" and data.get("_refresh")
    if request.method == "POST" and not refresh:
        rows = _material_rows(merged["materials"], plan)
        stored, errors = _store_uploads(request, rows)
        if not errors:
            try:
                submission = services.apply_bundle(
                    actor=request.user, bundle=bundle, answers=answers,
                    form_data=_form_values(data, merged["fields"]), materials=stored, channel="online",
                    enterprise_uscc=enterprise.uscc if enterprise else None)
            except InvalidInput as exc:
                errors = _detail_errors(exc) or {"": exc.message}
            except DomainError as exc:
                errors = {"": exc.message}
            else:
                messages.success(request, _("“%(name)s”已提交，共 %(n)s 个办件，已分送各部门并联办理。") % {
                    "name": bundle.name, "n": submission.applications.count()})
                return redirect(f"{reverse('onestop:mine')}#submission-{submission.pk}")
    questions = _questions(merged["situations"], answers, errors)
    field_rows = _field_rows(merged["fields"], values, errors)
    pending = selectors.pending_bundle_fields(entries, answers) if enterprise is None else set()
    for row in field_rows:
        row["pending"] = row["key"] in pending
    materials = _material_rows(merged["materials"], plan, errors)
    known = {f"answers.{q['key']}" for q in questions} | {r["key"] for r in field_rows} | {
        f"materials.{m['key']}" for m in materials}
    fee_total = sum((f.amount for _name, f in merged["fees"]), Decimal("0"))
    ctx = {"bundle": bundle, "entries": entries, "questions": questions, "fields": field_rows,
           "materials": materials, "fees": merged["fees"], "fee_total": fee_total, "errors": errors,
           "stray": _stray_errors(errors, known), "enterprises": _enterprises(request.user),
           "enterprise_uscc": enterprise.uscc if enterprise else "",
           "action": reverse("onestop:bundle", args=[bundle.code])}
    if refresh and _is_htmx(request):
        return render(request, "onestop/_apply_body.html", ctx)
    return render(request, "onestop/bundle.html", ctx, status=422 if errors else 200)


# --------------------------------------------------------------------------- 我的办件 and the case page


@login_required
def mine(request):
    require(request.user, "onestop.apply")
    apps = _decorate(list(Application.objects.filter(applicant_user=request.user)
                          .select_related("item", "department", "instance", "submission__bundle")
                          .order_by("-created_at")[:300]))
    groups, seen = [], {}
    for app in apps:  # one group per 一件事 submission, single cases on their own
        if app.submission_id:
            if app.submission_id not in seen:
                seen[app.submission_id] = {"submission": app.submission, "apps": []}
                groups.append(seen[app.submission_id])
            seen[app.submission_id]["apps"].append(app)
        elif groups and groups[-1]["submission"] is None:
            groups[-1]["apps"].append(app)
        else:
            groups.append({"submission": None, "apps": [app]})
    for group in groups:  # a 一件事's cases in the order of its items
        if group["submission"] is not None:
            group["apps"].sort(key=lambda a: a.pk)
    return render(request, "onestop/mine.html", {"groups": groups, "count": len(apps)})


def _own_case(request, number: str) -> Application:
    app = (Application.objects.filter(applicant_user=request.user, number=number.strip())
           .select_related("item", "item_version", "department", "instance", "result_licence", "submission__bundle")
           .prefetch_related(Prefetch("steps", CaseStep.objects.order_by("id")),
                             Prefetch("materials", ApplicationMaterial.objects.select_related(
                                 "stored", "licence", "awaits__item").order_by("id")),
                             Prefetch("notices", Notice.objects.order_by("issued_at")))
           .first())
    if app is None:
        raise NotFound(_("没有这个办件"), code="not_found")
    return app


@login_required
def case_detail(request, number: str):
    """The applicant's case page: timeline, materials, notices, result, supplement, withdraw, evaluation."""
    if has_perm(request.user, "onestop.view_case"):
        return redirect("onestop:work_case", number)
    require(request.user, "onestop.apply")
    app = _own_case(request, number)
    _decorate([app])
    to_supplement = [m for m in app.materials.all() if m.source == MaterialSource.MISSING and m.required] \
        if app.state == State.SUPPLEMENT else []
    supplement_notice = next((n for n in reversed(app.notices.all()) if n.kind == "supplement"), None)
    evaluation = app.evaluations.filter(visit=0).first()
    return render(request, "onestop/case.html", {
        "app": app, "steps": app.steps.all(), "materials": app.materials.all(), "notices": app.notices.all(),
        "reused": set(REUSED_SOURCES), "to_supplement": to_supplement, "supplement_notice": supplement_notice,
        "can_withdraw": app.state in services.TRANSITIONS["withdraw"][0],
        "can_evaluate": evaluation is None and app.state in EVALUATE_STATES,
        "evaluation": evaluation, "grades": Grade.choices,
        "remaining": wf_selectors.remaining_workdays(app.instance) if app.instance_id else None,
    })


@login_required
@require_POST
def case_supplement(request, number: str):
    app = _own_case(request, number)
    wanted = [m for m in app.materials.all() if m.source == MaterialSource.MISSING and m.required]
    stored, errors = {}, []
    for m in wanted:
        upload = request.FILES.get(f"materials.{m.key}")
        if upload is None:
            continue
        try:
            stored[m.key] = services.store_material(actor=request.user, key=m.key, name=m.name, upload=upload).pk
        except DomainError as exc:
            errors.append(exc.message)
    if not errors:
        try:
            services.provide_supplement(actor=request.user, application=app, materials=stored)
        except DomainError as exc:
            errors = list(_detail_errors(exc).values()) or [exc.message]
        else:
            messages.success(request, _("补正材料已提交，办件恢复办理。"))
    for message in errors:
        messages.error(request, message)
    return redirect("onestop:case", app.number)


@login_required
@require_POST
def case_withdraw(request, number: str):
    app = _own_case(request, number)
    try:
        services.withdraw(actor=request.user, application=app, reason=request.POST.get("reason", "")[:500])
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("申请已撤回。"))
    return redirect("onestop:case", app.number)


@login_required
@require_POST
def case_evaluate(request, number: str):
    app = _own_case(request, number)
    try:
        grade = int(request.POST.get("grade", ""))
    except ValueError:
        messages.error(request, _("请选择评价等级"))
        return redirect("onestop:case", app.number)
    try:
        services.evaluate(actor=request.user, application=app, grade=grade,
                          comment=request.POST.get("comment", "")[:2000])
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("感谢您的评价！") if grade >= Grade.BASIC
                         else _("感谢您的评价，我们已将您的意见转交办理部门整改，并将回访。"))
    return redirect(f"{reverse('onestop:case', args=[app.number])}#evaluation")


@login_required
def inbox(request):
    """站内信: newest first; opening the page shows what is new, a button marks everything read."""
    notes = Notification.objects.filter(user=request.user).select_related("application").order_by("-created_at")
    if request.method == "POST":
        ids = [int(i) for i in request.POST.getlist("id") if i.isdigit()]
        notify.mark_read(user=request.user, ids=ids or None)
        return redirect("onestop:inbox")
    page = Paginator(notes, 30).get_page(request.GET.get("page"))
    return render(request, "onestop/inbox.html", {"page": page, "unread": notes.filter(read_at=None).count()})


# --------------------------------------------------------------------------- notices and files


def notice_verify(request, number: str):
    """Anyone may check a notice's signature; personal data is limited to the masked applicant name."""
    notice = Notice.objects.filter(number=number.strip()).first()
    if notice is None:
        raise NotFound(_("没有这份文书"), code="not_found")
    c = notice.content
    return render(request, "onestop/notice_verify.html", {
        "notice": notice, "valid": notices.verify_notice(notice), "title": c.get("title", ""),
        "item": c.get("item", ""), "department": c.get("department", ""), "issued_on": c.get("issued_on", ""),
        "applicant": mask_name(c.get("applicant", "")), "application": c.get("application", ""),
    })


@login_required
def notice_pdf(request, number: str):
    notice = Notice.objects.select_related("application").filter(number=number.strip()).first()
    if notice is None or not _can_see_case(request.user, notice.application):
        raise NotFound(_("没有这份文书"), code="not_found")
    url = request.build_absolute_uri(reverse("onestop:notice", args=[notice.number]))
    resp = HttpResponse(notices.render_notice_pdf(notice, url), content_type="application/pdf")
    resp["Content-Disposition"] = f'inline; filename="{notice.number}.pdf"'
    return resp


@login_required
def material_file(request, stored_id: int):
    """A stored material's file, only to its owner and to staff who may see a case it is attached to."""
    stored = StoredMaterial.objects.filter(pk=stored_id).first()
    if stored is None:
        raise Http404
    allowed = stored.owner_user_id == request.user.pk or (
        has_perm(request.user, "onestop.view_case")
        and selectors.cases_for(request.user).filter(materials__stored=stored).exists())
    if not allowed:
        raise NotFound(_("没有这份材料"), code="not_found")
    resp = FileResponse(stored.file.open("rb"), content_type=stored.content_type)
    resp["Content-Disposition"] = f'inline; filename="material-{stored.pk}"'
    resp["X-Content-Type-Options"] = "nosniff"
    resp["Content-Security-Policy"] = "default-src 'none'; img-src 'self'; style-src 'unsafe-inline'; sandbox"
    return resp


# --------------------------------------------------------------------------- officers: queue and case


@login_required
def work_queue(request):
    """我的待办: open cases of the officer's department scope, most urgent first."""
    require(request.user, "onestop.view_case")
    # deadline first, cases without a clock yet (not accepted) after them on every database
    qs = selectors.case_queue(request.user)
    state = request.GET.get("state", "")
    if state in State.values:
        qs = qs.filter(state=state)
    q = (request.GET.get("q") or "").strip()[:100]
    if q:
        qs = qs.filter(number=q) if q.isdigit() else qs.filter(applicant_name__icontains=q)
    page = Paginator(qs, 20).get_page(request.GET.get("page"))
    rows = _decorate(list(page.object_list))
    counts = dict(selectors.case_queue(request.user).order_by().values_list("state").annotate(n=Count("id")))
    params = request.GET.copy()
    params.pop("page", None)
    return render(request, "onestop/work.html", {
        "page": page, "rows": rows, "state": state, "q": q, "params": params.urlencode(),
        "states": [(v, label, counts.get(v, 0)) for v, label in State.choices if counts.get(v)],
        "total": sum(counts.values()),
    })


@login_required
def work_by_id(request, pk: int):
    """From a workflow instance (``onestop.application:<id>``) to the case page."""
    require(request.user, "onestop.view_case")
    app = selectors.cases_for(request.user).filter(pk=pk).values("number").first()
    if app is None:
        raise NotFound(_("没有这个办件"), code="not_found")
    return redirect("onestop:work_case", app["number"])


def _staff_case(request, number: str) -> Application:
    require(request.user, "onestop.view_case")
    app = (selectors.cases_for(request.user).filter(number=number.strip())
           .select_related("item_version", "result_licence", "submission__bundle", "applicant_user")
           .prefetch_related(Prefetch("steps", CaseStep.objects.order_by("id")),
                             Prefetch("materials", ApplicationMaterial.objects.select_related(
                                 "stored", "licence", "awaits__item").order_by("id")),
                             Prefetch("notices", Notice.objects.order_by("issued_at")))
           .first())
    if app is None:
        raise NotFound(_("没有这个办件"), code="not_found")
    return app


def _available_actions(user, app: Application) -> list[str]:
    """Officer actions valid now: the state allows them, the officer handles this department, and the
    workflow agrees (审查 only with an actionable task; 特别程序 only while the clock runs)."""
    if not has_perm(user, "onestop.handle") or not covers_department(user, app.department,
                                                                      include_descendants=False):
        return []
    instance = app.instance
    out = []
    for action in OFFICER_ACTIONS:
        if app.state not in services.TRANSITIONS[action][0]:
            continue
        if action == "review" and (instance is None or instance.status != InstanceStatus.RUNNING
                                   or wf_selectors.actionable_task(user, instance) is None):
            continue
        if action == "special_procedure" and (instance is None or instance.status != InstanceStatus.RUNNING):
            continue
        if action == "end_special_procedure" and (instance is None or instance.status != InstanceStatus.SUSPENDED):
            continue
        out.append(action)
    return out


@login_required
def work_case(request, number: str):
    app = _staff_case(request, number)
    _decorate([app])
    content = app.item_version.parsed
    labels = {f.key: f.label for f in content.fields}
    questions = {s.key: (s.question, {o.value: o.label for o in s.options}) for s in content.situations}
    answers = []
    for key, value in app.answers.items():
        question, options = questions.get(key, (key, {}))
        values = value if isinstance(value, list) else [value]
        answers.append((question, "、".join(options.get(str(v), str(v)) for v in values)))
    instance = app.instance
    task = wf_selectors.actionable_task(request.user, instance) if instance else None
    actions = _available_actions(request.user, app)
    open_tasks = list(instance.tasks.filter(status="open").select_related("department", "assignee")) \
        if instance else []
    remaining = wf_selectors.remaining_workdays(instance) if instance else None
    return render(request, "onestop/work_case.html", {
        "app": app, "form_rows": [(labels.get(k, k), v) for k, v in selectors.form_values(app).items()], "answers": answers,
        "steps": app.steps.all(), "materials": app.materials.all(), "notices": app.notices.all(),
        "reused": set(REUSED_SOURCES), "actions": set(actions), "task": task, "open_tasks": open_tasks,
        "remaining": remaining, "late_days": -remaining if remaining is not None and remaining < 0 else 0,
        "suspensions": instance.suspensions if instance else [],
        "special_procedures": services.SPECIAL_PROCEDURES, "delivery_methods": services.DELIVERY_METHODS,
        "can_check": has_perm(request.user, "onestop.handle") and covers_department(
            request.user, app.department, include_descendants=False),
        "evaluations": app.evaluations.all(),
    })


def _run_action(user, app: Application, action: str, post) -> str:
    """Call the one service behind an officer action; returns the success message."""
    opinion = (post.get("opinion") or "").strip()[:2000]
    match action:
        case "prereview":
            services.start_prereview(actor=user, application=app)
        case "accept":
            services.accept(actor=user, application=app, opinion=opinion)
        case "not_accept":
            services.not_accept(actor=user, application=app, reason=opinion)
        case "request_supplement":
            services.request_supplement(actor=user, application=app, materials=post.getlist("materials"),
                                        opinion=opinion)
        case "review":
            services.review(actor=user, application=app, outcome=post.get("outcome", ""), opinion=opinion)
        case "special_procedure":
            services.start_special_procedure(actor=user, application=app, kind=post.get("kind", ""),
                                             opinion=opinion)
        case "end_special_procedure":
            services.end_special_procedure(actor=user, application=app, opinion=opinion)
        case "issue":
            services.issue_result(actor=user, application=app)
        case "deliver":
            services.deliver(actor=user, application=app, method=post.get("method", ""),
                             detail=post.get("detail", ""))
        case "close":
            services.close(actor=user, application=app)
        case _:
            raise NotFound(_("没有这个办件动作"), code="unknown_action")
    return _("已%(step)s") % {"step": _(services.STEP_NAMES.get(action, action))}


@login_required
@require_POST
def work_act(request, number: str, action: str):
    app = _staff_case(request, number)
    if action not in OFFICER_ACTIONS:
        raise NotFound(_("没有这个办件动作"), code="unknown_action")
    try:
        done = _run_action(request.user, app, action, request.POST)
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, done)
    return redirect("onestop:work_case", app.number)


@login_required
@require_POST
def work_check_material(request, number: str, stored_id: int):
    app = _staff_case(request, number)
    row = app.materials.filter(stored_id=stored_id).select_related("stored").first()
    if row is None:
        raise NotFound(_("没有这份材料"), code="not_found")
    try:
        services.check_material(actor=request.user, stored=row.stored)
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("已核验原件：%(name)s（可信等级 B）") % {"name": row.name})
    return redirect("onestop:work_case", app.number)


# --------------------------------------------------------------------------- rectification and measures


@login_required
def rectifications(request):
    """差评整改: the department answers each ticket; admins and supervisors follow up and close."""
    from smartgov.core.permissions import scope

    can_reply, can_follow = has_perm(request.user, "onestop.rectify"), has_perm(request.user, "onestop.follow_up")
    if not (can_reply or can_follow):
        require(request.user, "onestop.rectify")
    tickets = scope(request.user, Rectification.objects.select_related(
        "department", "evaluation__application", "evaluation__item"), field="department").order_by("status", "due_on")
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
    from smartgov.core.permissions import scope

    ticket = scope(request.user, Rectification.objects.all(), field="department").filter(pk=ticket_id).first()
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


def _departments_in_scope(user) -> list:
    from smartgov.accounts.models import Department

    if user.department is None:
        return []
    if user.role in ("dept_admin", "supervisor"):
        return list(Department.objects.filter(path__startswith=user.department.path).order_by("path"))
    return [user.department]


def _admin_catalogue_url() -> str:
    try:
        return reverse("admin:onestop_serviceitem_changelist")
    except NoReverseMatch:
        return reverse("admin:index")


@login_required
def dashboard(request):
    """一网通办指标: coverage, completeness and effectiveness for the user's department (or one below)."""
    require(request.user, "onestop.view_stats")
    depts = _departments_in_scope(request.user)
    code = request.GET.get("department", "")
    dept = next((d for d in depts if d.code == code), None) or (depts[0] if depts else None)
    if dept is None:
        raise NotFound(_("您尚未归属任何部门"), code="not_found")
    m = selectors.measures(department=dept)
    rates = selectors.rates_by("department", department=dept)
    states = dict(Application.objects.filter(department__path__startswith=dept.path).exclude(state=State.DRAFT)
                  .values_list("state").annotate(n=Count("id")))
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
