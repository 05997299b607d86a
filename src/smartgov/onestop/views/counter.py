"""窗口受理: the officer's form for a walk-in applicant — pick the item, check the ID card against the
register, answer the situations, fill the form, scan the originals; then one service call."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _

from smartgov.core.errors import DomainError, InvalidInput, NotFound
from smartgov.core.permissions import require

from .. import selectors, services
from .common import (
    answers_from,
    detail_errors,
    field_rows_for,
    form_values,
    is_htmx,
    kept_values,
    material_rows_for,
    question_rows,
    stray_errors,
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
    if request.method == "POST" and not refresh and "applicant" not in errors:
        uploads = {m.key: request.FILES[f"materials.{m.key}"] for m in content.materials_for(answers)
                   if f"materials.{m.key}" in request.FILES}
        try:
            app = services.intake_at_counter(
                actor=request.user, item=item, id_number=id_number, name=name, answers=answers,
                form_data=form_values(data, fields), uploads=uploads,
                consent_exchange=data.get("consent_exchange") == "on")
        except InvalidInput as exc:
            errors = detail_errors(exc) or {"": exc.message}
        except DomainError as exc:
            errors = {"": exc.message}
        else:
            messages.success(request, _("已受理登记，办件编号 %(number)s，查询码 %(code)s。请打印受理回执交给申请人。") % {
                "number": app.number, "code": f"{app.query_code[:4]}-{app.query_code[4:]}"})
            return redirect("onestop:work_case", app.number)
    account = person.user if person is not None and person.user_id else None
    plan = selectors.reuse_plan(account, content, answers, person=person) if person is not None else {}
    materials = material_rows_for([(m, None) for m in content.materials_for(answers)], plan, errors)
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
