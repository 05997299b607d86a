"""窗口受理: the officer's form for a walk-in applicant — pick the item, check the ID card against the
register, answer the situations, fill the form, scan the originals; then one service call."""

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
    counter_upload_url,
    detail_errors,
    expected_for_review,
    field_rows_for,
    form_values,
    is_htmx,
    kept_values,
    material_rows_for,
    posted_uploads,
    question_rows,
    reviewed_upload,
    stray_errors,
    upload_status,
    with_uploads,
)


@login_required
def counter_intake(request):
    require(request.user, "onestop.handle")
    items = list(selectors.counter_items(request.user))
    data = request.POST if request.method == "POST" else request.GET
    code = (data.get("item") or "").strip()
    if not code:
        return render(request, "onestop/counter.html", {"items": items, "item": None})
    item = next((i for i in items if i.implementation_code == code), None)
    if item is None:
        raise NotFound(_("没有这个事项"), code="item_not_found")
    content = selectors.current_version(item).parsed
    answers = answers_from(data, content.situations)
    fields = content.fields_for(answers)
    values = kept_values(data, fields, {}) if request.method == "POST" else {}
    id_number, name = (data.get("id_number") or "").strip()[:18], (data.get("name") or "").strip()[:100]
    errors: dict[str, str] = {}
    refresh = request.method == "POST" and data.get("_refresh")
    person = None
    if id_number and name:
        try:
            person = services.walk_in_applicant(id_number=id_number, name=name)
        except InvalidInput as exc:
            if request.method == "POST" and not refresh:
                errors["applicant"] = exc.message
    account = person.user if person is not None and person.user_id else None
    all_rows = material_rows_for([(m, None) for m in content.materials], {})
    # originals scanned (and pre-reviewed) while the form was filled, in the applicant's library (代办: the officer's)
    scanned = posted_uploads(account or request.user, data, all_rows) if request.method == "POST" and person else {}
    if request.method == "POST" and not refresh and "applicant" not in errors:
        uploads = {m.key: request.FILES[f"materials.{m.key}"] for m in content.materials_for(answers)
                   if f"materials.{m.key}" in request.FILES}
        try:
            app = services.intake_at_counter(
                actor=request.user, item=item, id_number=id_number, name=name, answers=answers,
                form_data=form_values(data, fields), uploads=uploads,
                consent_exchange=data.get("consent_exchange") == "on",
                stored={k: s.pk for k, s in scanned.items() if k not in uploads})
        except InvalidInput as exc:
            errors = detail_errors(exc) or {"": exc.message}
        except DomainError as exc:
            errors = {"": exc.message}
        else:
            messages.success(request, _("已受理登记，办件编号 %(number)s，查询码 %(code)s。请打印受理回执交给申请人。") % {
                "number": app.number, "code": f"{app.query_code[:4]}-{app.query_code[4:]}"})
            return redirect("onestop:work_case", app.number)
    plan = selectors.reuse_plan(account, content, answers, person=person) if person is not None else {}
    materials = material_rows_for([(m, None) for m in content.materials_for(answers)], plan, errors)
    if person is not None:  # 智能预审 of each scan as it is chosen, once the applicant is found
        materials = with_uploads(materials, counter_upload_url, scanned)
    field_rows = field_rows_for(fields, values, errors)
    questions = question_rows(content.situations_for(answers), answers, errors)
    known = {f"answers.{q['key']}" for q in questions} | {r["key"] for r in field_rows} | {
        f"materials.{m['key']}" for m in materials} | {"applicant"}
    ctx = {"items": items, "item": item, "content": content, "questions": questions, "fields": field_rows,
           "materials": materials, "fee_total": content.fee_total(answers), "errors": errors,
           "stray": stray_errors(errors, known), "person": person, "account": account,
           "id_number": id_number, "name": name,
           "fees": [(item.name, f) for f in content.fees if content.applies(f, answers)],
           "action": reverse("onestop:counter"),
           "exchange_fetch": any(m["reuse"] and m["reuse"].resource for m in materials),
           "consent_exchange": data.get("consent_exchange") == "on"}
    if refresh and is_htmx(request):
        return render(request, "onestop/_apply_body.html", ctx)
    return render(request, "onestop/counter.html", ctx, status=422 if errors else 200)


@login_required
@require_POST
def counter_material_review(request, key: str):
    """智能预审 at the window, as on the applicant's own form: the scan the officer just chose is kept (trust
    level B, in the applicant's library), read and checked against the intake form and the register, and
    the problems shown beside that material before the intake is filed. The applicant must be found first."""
    require(request.user, "onestop.handle")
    data = request.POST
    code = (data.get("item") or "").strip()
    item = next((i for i in selectors.counter_items(request.user) if i.implementation_code == code), None)
    if item is None:
        raise NotFound(_("没有这个事项"), code="item_not_found")
    content = selectors.current_version(item).parsed
    material = next((m for m in content.materials if m.key == key), None)
    if material is None:
        raise NotFound(_("没有这份材料"), code="not_found")
    answers = answers_from(data, content.situations)
    fields = content.fields_for(answers)
    id_number, name = (data.get("id_number") or "").strip()[:18], (data.get("name") or "").strip()[:100]
    [row] = material_rows_for([(material, None)], {})
    try:
        person = services.walk_in_applicant(id_number=id_number, name=name)
    except InvalidInput as exc:  # nothing is kept before the applicant is found in the register
        row["error"], row["error_code"] = exc.message, exc.code
        [row] = with_uploads([row], counter_upload_url, {})
        return render(request, "onestop/_material_upload.html", {"m": row}, status=upload_status(request, row))
    owner = person.user if person.user_id else request.user
    row = reviewed_upload(
        request, row=row, material=material, keys=[m.key for m in content.materials_for(answers)],
        uploaded=posted_uploads(owner, data, [row]), upload_url=counter_upload_url,
        store=lambda upload: services.scan_original(actor=request.user, item=item, id_number=id_number, name=name,
                                                    key=key, upload=upload),
        expected=lambda: expected_for_review(request.user, fields, form_values(data, fields), None, person=person))
    return render(request, "onestop/_material_upload.html", {"m": row}, status=upload_status(request, row))
