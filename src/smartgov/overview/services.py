"""Writes of the overview: a leader acknowledges an alert (已知悉) for themselves; the 运行报告 are generated,
kept and sent to the leaders of their department."""

import datetime

from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone

from smartgov.accounts.models import Department, User
from smartgov.audit.services import record
from smartgov.core.errors import InvalidInput
from smartgov.core.permissions import Role, require
from smartgov.onestop import notify  # the platform's notification senders (inbox + SMARTGOV_NOTIFY_SENDERS)

from . import reports, selectors
from .models import Acknowledgement, Report
from .registry import providers


@transaction.atomic
def acknowledge_alert(*, actor, alert_key: str) -> Acknowledgement:
    """Record that ``actor`` has seen the alert ``alert_key`` (``<app>.<kind>:<id>``); idempotent.

    The key must name an installed app that publishes alerts; the alert itself is handled in that app."""
    require(actor, "overview.acknowledge")
    app = alert_key.split(".", 1)[0]
    if not alert_key or len(alert_key) > 120 or "." not in alert_key or app not in {
            p.label for p in providers() if p.alerts is not None}:
        raise InvalidInput("告警标识无效", code="invalid_alert_key", detail={"alert_key": alert_key[:120]})
    existing = Acknowledgement.objects.filter(user=actor, alert_key=alert_key).first()
    if existing is not None:
        return existing
    try:
        with transaction.atomic():
            ack = Acknowledgement.objects.create(user=actor, alert_key=alert_key)
    except IntegrityError:  # the same leader acknowledged it at the same moment in another tab
        return Acknowledgement.objects.get(user=actor, alert_key=alert_key)
    record(actor=actor, action="overview.acknowledge_alert", target=("overview.alert", alert_key))
    return ack


LEADER_ROLES = (Role.DEPT_ADMIN, Role.SUPERVISOR)


def leaders_of(department: Department):
    """The active leaders whose own department this is (they receive its report)."""
    return User.objects.filter(department=department, role__in=LEADER_ROLES, is_active=True).order_by("pk")


def report_departments():
    """Every department with at least one active leader: each gets its own report of its scope."""
    return (Department.objects.filter(pk__in=User.objects.filter(role__in=LEADER_ROLES, is_active=True,
                                                                  department__isnull=False).values("department"))
            .order_by("path"))


def generate_report(*, actor, department: Department, period: str, today: datetime.date | None = None,
                    send: bool = True) -> tuple[Report, bool]:
    """Generate and keep the 运行报告 of ``department``'s scope for the last complete ``period`` before ``today``
    (``week``: Monday–Sunday; ``month``: the calendar month) and send it to the department's leaders.

    Idempotent: a report already kept for that department and period is returned as is (``created`` False).
    The figures are those the apps publish at generation time — the scheduled job runs right after the period
    ends, so they are the figures at its close, with the last 7 days as the trend."""
    require(actor, "overview.report")
    if period not in reports.PERIOD_NAMES:
        raise InvalidInput("周期只能是 week 或 month", code="invalid_period", detail={"period": period})
    start, end = reports.period_bounds(period, today or timezone.localdate())
    existing = Report.objects.filter(department=department, period=period, period_start=start).first()
    if existing is not None:
        return existing, False
    data = selectors.snapshot(actor, department, include_acknowledged=True)
    now = timezone.localtime()
    title = reports.title_of(department.name, period, start, end)
    args = {"title": title, "department_name": department.name, "generated_at": now, "snapshot": data}
    pdf, xlsx = reports.render_pdf(**args), reports.render_xlsx(**args)
    try:
        with transaction.atomic():
            report = Report.objects.create(department=department, period=period, period_start=start,
                                           period_end=end, figures=data, pdf=pdf, xlsx=xlsx)
    except IntegrityError:  # another worker kept the same report a moment ago
        return Report.objects.get(department=department, period=period, period_start=start), False
    record(actor=actor, action="overview.generate_report", target=("overview.report", report.pk, title),
           changes={"period": period, "start": start.isoformat(), "end": end.isoformat(),
                    "pdf_bytes": len(pdf), "xlsx_bytes": len(xlsx)})
    if send:
        link = reverse("overview:reports")
        for leader in leaders_of(department):
            notify.send(user=leader, title=f"{title}已生成",
                        body=f"重点问题 {len(reports.top_issues(data))} 项。下载：{link}")
    return report, True


def generate_due_reports(*, actor, periods: tuple[str, ...], today: datetime.date | None = None) -> dict:
    """The scheduled job: every department with a leader gets its report of each ``period`` once."""
    made = {p: 0 for p in periods}
    for department in report_departments():
        for period in periods:
            _, created = generate_report(actor=actor, department=department, period=period, today=today)
            made[period] += created
    return made
