"""我的办件 and the applicant's case page (supplement, withdraw, evaluate), the inbox, notices and files."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import FileResponse, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from smartgov.core.errors import DomainError, NotFound
from smartgov.core.masking import mask_name
from smartgov.core.permissions import has_perm, require
from smartgov.workflow import selectors as wf_selectors

from .. import notices, progress, selectors, services
from ..models import REUSED_SOURCES, Application, Grade, MaterialSource, State
from .common import EVALUATE_STATES, decorate, detail_errors


@login_required
def mine(request):
    require(request.user, "onestop.apply")
    apps = decorate(selectors.applicant_cases(request.user))
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
    app = selectors.case_for_applicant(request.user, number)
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
    decorate([app])
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
        # who has it: department and step, never the officer's name (onestop.progress)
        "holders": progress.holders(app),
        "next_step": progress.applicant_next_step(app, evaluated=evaluation is not None)[0],
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
            errors = list(detail_errors(exc).values()) or [exc.message]
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


# --------------------------------------------------------------------------- notices and files


def notice_verify(request, number: str):
    """Anyone may check a notice's signature; personal data is limited to the masked applicant name."""
    notice = selectors.notice_by_number(number)
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
    notice = selectors.notice_for(request.user, number)
    if notice is None:
        raise NotFound(_("没有这份文书"), code="not_found")
    url = request.build_absolute_uri(reverse("onestop:notice", args=[notice.number]))
    resp = HttpResponse(notices.render_notice_pdf(notice, url), content_type="application/pdf")
    resp["Content-Disposition"] = f'inline; filename="{notice.number}.pdf"'
    return resp


@login_required
def material_file(request, stored_id: int):
    """A stored material's file, only to its owner and to staff who may see a case it is attached to."""
    stored = selectors.stored_material_for(request.user, stored_id)
    if stored is None:
        raise NotFound(_("没有这份材料"), code="not_found")
    resp = FileResponse(stored.file.open("rb"), content_type=stored.content_type)
    resp["Content-Disposition"] = f'inline; filename="material-{stored.pk}"'
    resp["X-Content-Type-Options"] = "nosniff"
    resp["Content-Security-Policy"] = "default-src 'none'; img-src 'self'; style-src 'unsafe-inline'; sandbox"
    return resp
