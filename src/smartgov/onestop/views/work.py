"""Officers: the work queue and the case page with the actions the case allows now."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import Count
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from smartgov.core.errors import DomainError, NotFound
from smartgov.core.permissions import covers_department, has_perm, require
from smartgov.workflow import selectors as wf_selectors
from smartgov.workflow.models import InstanceStatus

from .. import hooks, selectors, services
from ..models import REUSED_SOURCES, Application, Channel, State
from .common import OFFICER_ACTIONS, decorate


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
    rows = decorate(list(page.object_list))
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
    app = selectors.case_for_officer(request.user, number)
    if app is None:
        raise NotFound(_("没有这个办件"), code="not_found")
    return app


def _handles(user, app: Application) -> bool:
    """The officer handles cases of this department (the one scope check, not role names)."""
    return has_perm(user, "onestop.handle") and covers_department(user, app.department, include_descendants=False)


def _available_actions(user, app: Application, task) -> list[str]:
    """Officer actions valid now: the state allows them, the officer handles this department, and the
    workflow agrees (审查 only with the officer's actionable ``task``; 特别程序 only while the clock runs)."""
    if not _handles(user, app) or app.channel == Channel.UNASKED:  # 免申即享: the applicant answers
        return []
    status = app.instance.status if app.instance else None
    out = []
    for action in OFFICER_ACTIONS:
        if app.state not in services.TRANSITIONS[action][0]:
            continue
        if action == "review" and (status != InstanceStatus.RUNNING or task is None):
            continue
        if action == "special_procedure" and status != InstanceStatus.RUNNING:
            continue
        if action == "end_special_procedure" and status != InstanceStatus.SUSPENDED:
            continue
        out.append(action)
    return out


@login_required
def work_case(request, number: str):
    app = _staff_case(request, number)
    decorate([app])
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
    actions = _available_actions(request.user, app, task)
    open_tasks = list(instance.tasks.filter(status="open").select_related("department", "assignee")) \
        if instance else []
    remaining = wf_selectors.remaining_workdays(instance) if instance else None
    materials = list(app.materials.all())
    reviews = hooks.material_reviews([m.stored_id for m in materials if m.stored_id])  # 智能预审 of the uploads
    for m in materials:
        m.review = reviews.get(m.stored_id)
    return render(request, "onestop/work_case.html", {
        "app": app, "form_rows": [(labels.get(k, k), v) for k, v in selectors.form_values(app).items()], "answers": answers,
        "steps": app.steps.all(), "materials": materials, "notices": app.notices.all(),
        "reused": set(REUSED_SOURCES), "actions": set(actions), "task": task, "open_tasks": open_tasks,
        "remaining": remaining, "late_days": -remaining if remaining is not None and remaining < 0 else 0,
        "suspensions": instance.suspensions if instance else [],
        "special_procedures": services.SPECIAL_PROCEDURES, "delivery_methods": services.DELIVERY_METHODS,
        "can_check": _handles(request.user, app),
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
