"""安全云 pages: dashboard, event search and export, quarantine, sources, rules, incidents.
Views validate and call one service; reads through the selectors (scoped)."""

import csv
import io
from datetime import datetime

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from openpyxl import Workbook

from smartgov.accounts.models import Department, User
from smartgov.accounts.selectors import published_public_keys
from smartgov.core.errors import DomainError, InvalidInput
from smartgov.core.permissions import ADMIN_TRIAD, has_perm, require

from . import kms, selectors, selfcheck, services
from .models import Incident, Source

EXPORT_LIMIT = 100_000
EXPORT_COLUMNS = ["seq", "at", "source", "host", "app", "severity", "user", "src_ip", "action", "outcome", "message"]


def _nav(request) -> dict:
    u = request.user
    return {"can_rules": has_perm(u, "seccloud.manage_rule"), "can_sources": has_perm(u, "seccloud.manage_source"),
            "can_handle": has_perm(u, "seccloud.handle_incident")}


@login_required
def dashboard(request):
    data = selectors.dashboard(request.user)
    recent = selectors.incidents_for(request.user).exclude(status=Incident.Status.CLOSED)[:10]
    return render(request, "seccloud/dashboard.html", {"data": data, "recent": recent,
                                                       "sth": selectors.latest_tree_head(), **_nav(request)})


def _filters(request) -> dict:
    g = request.GET
    out = {"q": g.get("q", "").strip(), "host": g.get("host", "").strip(), "user_name": g.get("user", "").strip(),
           "src_ip": g.get("src_ip", "").strip(), "action": g.get("action", "").strip(),
           "outcome": g.get("outcome", "").strip()}
    for key in ("since", "until"):
        if g.get(key):
            try:
                out[key] = datetime.fromisoformat(g[key])
            except ValueError as exc:
                raise InvalidInput(_("时间格式无效"), code="bad_time", detail={key: g[key]}) from exc
    if g.get("source", "").isdigit():
        out["source"] = int(g["source"])
    return out


@login_required
def events(request):
    qs = selectors.search_events(request.user, **_filters(request))
    page = qs[:200]
    return render(request, "seccloud/events.html", {"events": page, "sources": selectors.sources_for(request.user),
                                                    "params": request.GET, **_nav(request)})


@login_required
def export_events(request):
    """The current search as CSV or Excel (at most 100,000 rows)."""
    qs = selectors.search_events(request.user, **_filters(request))[:EXPORT_LIMIT]
    rows = ([e.seq, e.at.isoformat(), e.source.name, e.host, e.app, e.severity, e.user, e.src_ip, e.action,
             e.outcome, e.message] for e in qs.iterator(chunk_size=2000))
    if request.GET.get("format") == "xlsx":
        wb = Workbook(write_only=True)
        ws = wb.create_sheet("events")
        ws.append(EXPORT_COLUMNS)
        for r in rows:
            ws.append([_cell(v) for v in r])
        buf = io.BytesIO()
        wb.save(buf)
        resp = HttpResponse(buf.getvalue(),
                            content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
        resp["Content-Disposition"] = 'attachment; filename="seccloud-events.xlsx"'
        return resp
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow(EXPORT_COLUMNS)
    for r in rows:
        w.writerow([_cell(v) for v in r])
    resp = HttpResponse("\ufeff" + buf.getvalue(), content_type="text/csv; charset=utf-8")
    resp["Content-Disposition"] = 'attachment; filename="seccloud-events.csv"'
    return resp


def _cell(v):
    """Spreadsheet formula injection: a text cell never starts with = + - @."""
    if isinstance(v, str) and v[:1] in ("=", "+", "-", "@"):
        return "'" + v
    return v


@login_required
def quarantine(request):
    rows = selectors.quarantine_for(request.user)[:200]
    return render(request, "seccloud/quarantine.html", {"rows": rows, **_nav(request)})


@login_required
def sources(request):
    token = None
    if request.method == "POST":
        try:
            dept = Department.objects.filter(pk=request.POST.get("department") or 0).first()
            if dept is None:
                raise InvalidInput(_("请选择部门"), code="department_required")
            source, token = services.register_source(
                actor=request.user, department=dept, name=request.POST.get("name", ""),
                kind=request.POST.get("kind", ""), address=request.POST.get("address", "").strip() or None)
            messages.success(request, _("已登记日志源：%(name)s") % {"name": source.name})
        except DomainError as exc:
            messages.error(request, exc.message)
    rows = selectors.sources_for(request.user)
    return render(request, "seccloud/sources.html", {
        "rows": rows, "token": token, "kinds": [(k, v) for k, v in Source.Kind.choices if k != "platform"],
        "departments": _departments(request.user), **_nav(request)})


def _departments(user):
    if user.role in ADMIN_TRIAD:
        return Department.objects.all()
    if user.department is None:
        return Department.objects.none()
    return Department.objects.filter(path__startswith=user.department.path)


@login_required
def rules(request):
    if request.method == "POST":
        try:
            text = request.POST.get("yaml", "")
            if request.FILES.get("file"):
                text = request.FILES["file"].read(1_000_000).decode("utf-8")
            saved = services.upload_rules(actor=request.user, yaml_text=text)
            messages.success(request, _("已上传 %(n)d 条规则") % {"n": len(saved)})
            return redirect("seccloud:rules")
        except UnicodeDecodeError:
            messages.error(request, _("规则文件须为UTF-8文本"))
        except DomainError as exc:
            messages.error(request, f"{exc.message}: {exc.detail or ''}")
    return render(request, "seccloud/rules.html", {"rules": selectors.rules_for(request.user), **_nav(request)})


@login_required
def rule(request, rule_id: int):
    r = selectors.get_rule(request.user, rule_id)
    result = None
    if request.method == "POST":
        try:
            if request.POST.get("op") == "toggle":
                services.set_rule_enabled(actor=request.user, rule=r, enabled=not r.enabled)
                return redirect("seccloud:rule", rule_id=r.pk)
            if request.POST.get("op") == "test":
                result = services.dry_run_rule(actor=request.user, rule=r)
        except DomainError as exc:
            messages.error(request, exc.message)
    hits = selectors.alerts_for(request.user).filter(rule=r)[:50]
    return render(request, "seccloud/rule.html", {"rule": r, "hits": hits, "result": result, **_nav(request)})


@login_required
def incidents(request):
    status = request.GET.get("status", "")
    qs = selectors.incidents_for(request.user)
    if status:
        qs = qs.filter(status=status)
    return render(request, "seccloud/incidents.html", {"rows": qs[:200], "status": status,
                                                       "statuses": Incident.Status.choices, **_nav(request)})


@login_required
def incident(request, incident_id: int):
    inc = selectors.get_incident_for(request.user, incident_id)
    if request.method == "POST":
        op = request.POST.get("op")
        try:
            if op == "assign":
                assignee = User.objects.filter(pk=request.POST.get("assignee") or 0, role="secadmin").first()
                services.assign_incident(actor=request.user, incident=inc, assignee=assignee)
            elif op == "status":
                services.set_incident_status(actor=request.user, incident=inc, status=request.POST.get("status", ""),
                                             note=request.POST.get("note", ""))
            elif op == "note":
                services.add_incident_note(actor=request.user, incident=inc, text=request.POST.get("note", ""))
            return redirect("seccloud:incident", incident_id=inc.pk)
        except DomainError as exc:
            messages.error(request, exc.message)
    return render(request, "seccloud/incident.html", {
        "incident": inc, "alerts": inc.alerts.select_related("rule")[:100], "timeline": inc.timeline.all(),
        "analysts": User.objects.filter(role="secadmin", is_active=True), "statuses": Incident.Status.choices,
        **_nav(request)})


@login_required
def self_check(request):
    require(request.user, "seccloud.view")
    if request.method == "POST":
        try:
            if request.POST.get("op") == "assess":
                dept = Department.objects.filter(pk=request.POST.get("department") or 0).first()
                if dept is None:
                    raise InvalidInput(_("请选择部门"), code="department_required")
                answers = {code: request.POST.get(code) == "yes" for code, _c, _t in selfcheck.QUESTIONS}
                check = selfcheck.assess_system(actor=request.user, department=dept,
                                                system_name=request.POST.get("system_name", ""), answers=answers)
            else:
                check = selfcheck.run_self_check(actor=request.user)
            return redirect(f"{request.path}?id={check.pk}")
        except DomainError as exc:
            messages.error(request, exc.message)
    checks = selectors.self_checks_for(request.user)
    shown = checks.filter(pk=request.GET["id"]).first() if request.GET.get("id", "").isdigit() else checks.first()
    return render(request, "seccloud/self_check.html", {
        "checks": checks[:20], "shown": shown, "questions": selfcheck.QUESTIONS,
        "departments": _departments(request.user), "can_run": has_perm(request.user, "seccloud.self_check"),
        **_nav(request)})


@login_required
def self_check_pdf(request, check_id: int):
    check = selectors.get_self_check_for(request.user, check_id)
    resp = HttpResponse(selfcheck.render_pdf(check), content_type="application/pdf")
    resp["Content-Disposition"] = f'attachment; filename="self-check-{check.pk}.pdf"'
    return resp


@login_required
def key_management(request):
    require(request.user, "seccloud.view")
    if request.method == "POST":
        try:
            if request.POST.get("op") == "rewrap":
                n = kms.rewrap_all(actor=request.user)
                messages.success(request, _("已重新封装 %(n)d 个数据密钥") % {"n": n})
            else:
                dept = Department.objects.filter(pk=request.POST.get("department") or 0).first()
                if dept is None:
                    raise InvalidInput(_("请选择部门"), code="department_required")
                key = kms.rotate_data_key(actor=request.user, department=dept)
                messages.success(request, _("数据密钥已轮换为第 %(v)d 版") % {"v": key.version})
            return redirect("seccloud:keys")
        except DomainError as exc:
            messages.error(request, exc.message)
    return render(request, "seccloud/keys.html", {
        "data_keys": selectors.data_keys_for(request.user), "usages": selectors.key_usages_for(request.user)[:50],
        "public_keys": published_public_keys()[:100], "departments": _departments(request.user),
        "can_keys": has_perm(request.user, "seccloud.manage_keys"), **_nav(request)})
