"""Pages of the leaders' screen: the desktop page, the wall page (dark, large type), the JSON snapshot,
the live stream (SSE) and acknowledging an alert. Permissions through the selectors (require/scope)."""

import time

import orjson
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.handlers.asgi import ASGIRequest
from django.http import HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import content_disposition_header, url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from smartgov.audit.services import record
from smartgov.core.errors import DomainError, NotFound

from . import live, selectors, services

KEEPALIVE_S = 15.0


def _department_id(request) -> int | None:
    raw = request.GET.get("dept", "")
    if not raw:
        return None
    if not raw.isdigit():
        raise NotFound("没有这个部门", code="department_not_found")
    return int(raw)


def _page(request, template: str, theme: str):
    dept = selectors.department_for(request.user, _department_id(request))
    data = selectors.snapshot(request.user, dept)
    query = f"?dept={dept.pk}"
    return render(request, template, {
        "dept": dept, "data": data, "departments": selectors.departments_for(request.user),
        "geojson": selectors.regions_for(request.user, dept),
        "stream_url": reverse("overview:stream") + query, "data_url": reverse("overview:data") + query,
        "wall_url": reverse("overview:wall") + query, "desk_url": reverse("overview:screen") + query,
        "reports_url": reverse("overview:reports") + query,
        "theme": theme, "labels": {"vs_yesterday": _("较昨日"), "no_alerts": _("暂无告警"), "acknowledge": _("知悉")},
    })


@login_required
def screen(request):
    """领导驾驶舱 for a desktop."""
    return _page(request, "overview/screen.html", "light")


@login_required
def wall(request):
    """The same picture for a wall display: dark, large type, full screen."""
    return _page(request, "overview/wall.html", "dark")


@login_required
def data(request):
    dept = selectors.department_for(request.user, _department_id(request))
    return HttpResponse(orjson.dumps(selectors.snapshot(request.user, dept)), content_type="application/json")


def _poll_s() -> float:
    return float(getattr(settings, "OVERVIEW_LIVE_POLL_S", 5.0))


def _max_s() -> float:
    return float(getattr(settings, "OVERVIEW_LIVE_MAX_S", 300.0))


def _event(data: dict) -> bytes:
    return b"event: snapshot\ndata: " + orjson.dumps(data) + b"\n\n"


def _compute(user, dept) -> tuple[bytes, bytes]:
    data = selectors.snapshot(user, dept)
    return orjson.dumps(selectors.figures_only(data)), _event(data)


def _sync_stream(user, dept):
    """WSGI (gunicorn's threads, runserver): one thread per open screen for at most OVERVIEW_LIVE_MAX_S."""
    yield b"retry: 2000\n\n"
    started = last_sent = time.monotonic()
    last = None
    while True:
        figures, message = _compute(user, dept)
        if figures != last:
            last, last_sent = figures, time.monotonic()
            yield message
        elif time.monotonic() - last_sent > KEEPALIVE_S:
            last_sent = time.monotonic()
            yield b": keepalive\n\n"
        if time.monotonic() - started > _max_s():
            return  # EventSource reconnects by itself (retry above)
        time.sleep(_poll_s())


@login_required
def stream(request):
    """Server-sent events: the snapshot at once, then again whenever a figure or the alert list changes."""
    dept = selectors.department_for(request.user, _department_id(request))
    user = request.user
    if isinstance(request, ASGIRequest):  # one computation per department, shared by every screen (live.py)

        figures, first = _compute(user, dept)  # permission and scope checked before the stream opens
        body = live.stream(user.pk, dept.pk, first, figures)
    else:
        selectors.snapshot(user, dept)  # permission and scope checked before the stream opens
        body = _sync_stream(user, dept)
    response = StreamingHttpResponse(body, content_type="text/event-stream")
    response["Cache-Control"] = "no-cache"
    response["X-Accel-Buffering"] = "no"  # nginx: do not buffer the stream
    return response


@login_required
def report_list(request):
    """The kept 运行报告 of the leader's scope (of ``?dept=`` and below when given)."""
    dept = selectors.department_for(request.user, _department_id(request)) if request.GET.get("dept") else None
    return render(request, "overview/reports.html", {
        "reports": selectors.reports_for(request.user, dept), "dept": dept,
        "back_url": reverse("overview:screen") + (f"?dept={dept.pk}" if dept else "")})


@login_required
def report_download(request, report_id: int, fmt: str):
    """One report as PDF or Excel; a report outside the leader's scope answers 404 like a missing one."""
    report = selectors.report_for(request.user, report_id)
    record(actor=request.user, action="overview.download_report", target=("overview.report", report.pk),
           changes={"format": fmt})
    if fmt == "pdf":
        body, ctype = bytes(report.pdf), "application/pdf"
    else:
        body, ctype = bytes(report.xlsx), "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    name = f"运行报告-{report.department.code}-{report.period}-{report.period_start:%Y%m%d}.{fmt}"
    response = HttpResponse(body, content_type=ctype)
    response["Content-Disposition"] = content_disposition_header(True, name)
    return response


@login_required
@require_POST
def acknowledge(request):
    try:
        services.acknowledge_alert(actor=request.user, alert_key=request.POST.get("key", ""))
    except DomainError as exc:
        if exc.status == 403:
            raise
        if request.headers.get("Accept", "").startswith("application/json"):
            return HttpResponse(orjson.dumps({"code": exc.code, "message": exc.message}), status=exc.status,
                                content_type="application/json")
        messages.error(request, exc.message)
    if request.headers.get("Accept", "").startswith("application/json"):
        return HttpResponse(b'{"ok": true}', content_type="application/json")
    messages.success(request, _("已知悉"))
    nxt = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(nxt, allowed_hosts={request.get_host()}):
        nxt = reverse("overview:screen")
    return redirect(nxt)
