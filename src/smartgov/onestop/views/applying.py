"""Applying: one item's form or a 一件事's merged form; files go to the library, then one service call."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from smartgov.core.errors import DomainError, InvalidInput, NotFound
from smartgov.core.permissions import require

from .. import selectors, services
from .common import (
    answers_from,
    bundle_upload_url,
    detail_errors,
    enterprise_from,
    expected_for_review,
    field_rows_for,
    form_values,
    is_htmx,
    item_or_404,
    item_upload_url,
    kept_values,
    material_rows_for,
    posted_uploads,
    question_rows,
    represented_enterprises,
    reviewed_upload,
    store_uploads,
    stray_errors,
    upload_status,
    with_uploads,
)


@login_required
def item_apply(request, code: str):
    """The application form for the chosen answers; files go to the library, then one ``apply``."""
    require(request.user, "onestop.apply")
    item = item_or_404(code)
    content = selectors.current_version(item).parsed
    data = request.POST if request.method == "POST" else request.GET
    answers = answers_from(data, content.situations)
    enterprises = represented_enterprises(request.user)
    enterprise_uscc = (data.get("enterprise") or "").strip().upper()
    enterprise = enterprise_from(request.user, enterprise_uscc)
    fields = content.fields_for(answers)
    prefill = selectors.prefill(request.user, content, answers, enterprise=enterprise)
    values = kept_values(data, fields, prefill) if request.method == "POST" else prefill
    errors: dict[str, str] = {}
    stray: list[str] = []
    refresh = request.method == "POST" and data.get("_refresh")
    all_rows = material_rows_for([(m, None) for m in content.materials], {})
    uploaded = posted_uploads(request.user, data, all_rows) if request.method == "POST" else {}
    if request.method == "POST" and not refresh:
        plan = selectors.reuse_plan(request.user, content, answers, enterprise=enterprise)
        rows = material_rows_for([(m, None) for m in content.materials_for(answers)], plan)
        stored, errors = store_uploads(request, rows)
        for key, kept in uploaded.items():  # chosen (and pre-reviewed) while filling the form; a new file wins
            stored.setdefault(key, kept.pk)
        own = selectors.own_stored_materials(request.user, stored.values())  # kept if the form comes back
        uploaded.update({k: own[pk] for k, pk in stored.items() if pk in own})
        if not errors:
            try:
                app = services.apply(actor=request.user, item=item, answers=answers,
                                     form_data=form_values(data, fields), materials=stored, channel="online",
                                     enterprise_uscc=enterprise.uscc if enterprise else None,
                                     consent_exchange=data.get("consent_exchange") == "on")
            except InvalidInput as exc:
                errors = detail_errors(exc) or {"": exc.message}
            except DomainError as exc:
                errors = {"": exc.message}
            else:
                messages.success(request, _("申请已提交，办件编号 %(number)s。请留意预审结果。") % {"number": app.number})
                return redirect("onestop:case", app.number)
    plan = selectors.reuse_plan(request.user, content, answers, enterprise=enterprise)
    materials = with_uploads(material_rows_for([(m, None) for m in content.materials_for(answers)], plan, errors),
                             item_upload_url(item.implementation_code), uploaded)
    field_rows = field_rows_for(fields, values, errors)
    questions = question_rows(content.situations_for(answers), answers, errors)
    known = {f"answers.{q['key']}" for q in questions} | {r["key"] for r in field_rows} | {
        f"materials.{m['key']}" for m in materials}
    stray = stray_errors(errors, known)
    ctx = {"item": item, "content": content, "questions": questions, "fields": field_rows,
           "materials": materials, "fee_total": content.fee_total(answers), "errors": errors, "stray": stray,
           "fees": [(item.name, f) for f in content.fees if content.applies(f, answers)],
           "enterprises": enterprises, "enterprise_uscc": enterprise.uscc if enterprise else "",
           "action": reverse("onestop:apply", args=[item.implementation_code]),
           "exchange_fetch": any(m["reuse"] and m["reuse"].resource for m in materials),
           "consent_exchange": data.get("consent_exchange") == "on"}  # never pre-ticked: consent is an act
    if refresh and is_htmx(request):
        return render(request, "onestop/_apply_body.html", ctx)
    return render(request, "onestop/apply.html", ctx, status=422 if errors else 200)


@login_required
@require_POST
def item_material_review(request, code: str, key: str):
    """智能预审 as a file is chosen (htmx): keep it in the applicant's library, have it read and checked
    against the form and the register, and answer with that material's upload area — the problems in
    plain Chinese beside it, before anything is submitted."""
    require(request.user, "onestop.apply")
    item = item_or_404(code)
    content = selectors.current_version(item).parsed
    material = next((m for m in content.materials if m.key == key), None)
    if material is None:
        raise NotFound(_("没有这份材料"), code="not_found")
    data = request.POST
    answers = answers_from(data, content.situations)
    enterprise = enterprise_from(request.user, data.get("enterprise"))
    fields = content.fields_for(answers)
    plan = selectors.reuse_plan(request.user, content, answers, enterprise=enterprise)
    [row] = material_rows_for([(material, None)], plan)
    row = reviewed_upload(
        request, row=row, material=material, keys=[m.key for m in content.materials_for(answers)],
        uploaded=posted_uploads(request.user, data, [row]), upload_url=item_upload_url(code),
        store=lambda upload: services.store_material(actor=request.user, key=key, name=material.name, upload=upload),
        expected=lambda: expected_for_review(request.user, fields, form_values(data, fields), enterprise))
    return render(request, "onestop/_material_upload.html", {"m": row}, status=upload_status(request, row))


def _bundle_form(request, code: str, data):
    bundle = selectors.active_bundle(code)
    if bundle is None:
        raise NotFound(_("没有这个一件事"), code="bundle_not_found")
    require(request.user, "onestop.apply")
    entries = selectors.bundle_plan(bundle)
    all_situations = {}
    for e in entries:
        for s in e.version.parsed.situations:
            all_situations.setdefault(s.key, s)
    answers = answers_from(data, all_situations.values())
    enterprise = enterprise_from(request.user, data.get("enterprise"))
    return bundle, entries, answers, enterprise, selectors.merged_bundle_content(entries, answers)


@login_required
@require_POST
def bundle_material_review(request, code: str, key: str):
    """智能预审 on the 一件事 form, as on a single item's: the chosen file is kept in the applicant's
    library, read and checked against the merged form and the register, and the problems shown beside
    that material before the one submission."""
    data = request.POST
    bundle, entries, answers, enterprise, merged = _bundle_form(request, code, data)
    # a material of any of the bundle's items (the merged form shows those the answers ask for)
    material = next((m for e in entries for m in e.version.parsed.materials if m.key == key), None)
    if material is None:
        raise NotFound(_("没有这份材料"), code="not_found")
    plan = {}
    for e in entries:
        for k, v in selectors.reuse_plan(request.user, e.version.parsed, answers, enterprise=enterprise).items():
            plan.setdefault(k, v)
    [row] = material_rows_for([(material, None)], plan)
    fields = merged["fields"]
    row = reviewed_upload(
        request, row=row, material=material, keys=[m.key for m, _p in merged["materials"]],
        uploaded=posted_uploads(request.user, data, [row]), upload_url=bundle_upload_url(bundle.code),
        store=lambda upload: services.store_material(actor=request.user, key=key, name=material.name, upload=upload),
        expected=lambda: expected_for_review(request.user, fields, form_values(data, fields), enterprise))
    return render(request, "onestop/_material_upload.html", {"m": row}, status=upload_status(request, row))


@login_required
def bundle_apply(request, code: str):
    """一件事: the union of the items' questions, one form with every field asked once, one submit."""
    data = request.POST if request.method == "POST" else request.GET
    bundle, entries, answers, enterprise, merged = _bundle_form(request, code, data)
    plan, prefill = {}, {}
    for e in entries:
        for k, v in selectors.reuse_plan(request.user, e.version.parsed, answers, enterprise=enterprise).items():
            plan.setdefault(k, v)
        for k, v in selectors.prefill(request.user, e.version.parsed, answers, enterprise=enterprise).items():
            prefill.setdefault(k, v)
    values = kept_values(data, merged["fields"], prefill) if request.method == "POST" else prefill
    errors: dict[str, str] = {}
    refresh = request.method == "POST" and data.get("_refresh")
    all_rows = material_rows_for(merged["materials"], {})
    uploaded = posted_uploads(request.user, data, all_rows) if request.method == "POST" else {}
    if request.method == "POST" and not refresh:
        rows = material_rows_for(merged["materials"], plan)
        stored, errors = store_uploads(request, rows)
        for key, kept in uploaded.items():  # chosen (and pre-reviewed) while filling the form; a new file wins
            stored.setdefault(key, kept.pk)
        own = selectors.own_stored_materials(request.user, stored.values())  # kept if the form comes back
        uploaded.update({k: own[pk] for k, pk in stored.items() if pk in own})
        if not errors:
            try:
                submission = services.apply_bundle(
                    actor=request.user, bundle=bundle, answers=answers,
                    form_data=form_values(data, merged["fields"]), materials=stored, channel="online",
                    enterprise_uscc=enterprise.uscc if enterprise else None)
            except InvalidInput as exc:
                errors = detail_errors(exc) or {"": exc.message}
            except DomainError as exc:
                errors = {"": exc.message}
            else:
                messages.success(request, _("“%(name)s”已提交，共 %(n)s 个办件，已分送各部门并联办理。") % {
                    "name": bundle.name, "n": submission.applications.count()})
                return redirect(f"{reverse('onestop:mine')}#submission-{submission.pk}")
    questions = question_rows(merged["situations"], answers, errors)
    field_rows = field_rows_for(merged["fields"], values, errors)
    pending = selectors.pending_bundle_fields(entries, answers) if enterprise is None else set()
    for row in field_rows:
        row["pending"] = row["key"] in pending
    materials = with_uploads(material_rows_for(merged["materials"], plan, errors), bundle_upload_url(bundle.code),
                             uploaded)
    known = {f"answers.{q['key']}" for q in questions} | {r["key"] for r in field_rows} | {
        f"materials.{m['key']}" for m in materials}
    ctx = {"bundle": bundle, "entries": entries, "questions": questions, "fields": field_rows,
           "materials": materials, "fees": merged["fees"], "fee_total": merged["fee_total"], "errors": errors,
           "stray": stray_errors(errors, known), "enterprises": represented_enterprises(request.user),
           "enterprise_uscc": enterprise.uscc if enterprise else "",
           "action": reverse("onestop:bundle", args=[bundle.code])}
    if refresh and is_htmx(request):
        return render(request, "onestop/_apply_body.html", ctx)
    return render(request, "onestop/bundle.html", ctx, status=422 if errors else 200)
