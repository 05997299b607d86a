"""Reads of 安全云, scoped by department (out-of-scope records answer like missing ones)."""

from datetime import datetime

from django.conf import settings
from django.db.models import Count, Q
from django.urls import reverse
from django.utils import timezone

from smartgov.audit.selectors import latest_verification
from smartgov.core.errors import NotFound
from smartgov.core.indicators import alert, check_scope, daily_counts, day_starts, indicator, series_of
from smartgov.core.permissions import require, scope

from .detection import LEVELS
from .models import Alert, DataKey, Event, Incident, KeyUsage, Quarantine, Rule, SelfCheck, Source, TreeHead


def sources_for(user):
    require(user, "seccloud.view")
    return scope(user, Source.objects.select_related("department"))


def events_for(user):
    require(user, "seccloud.view")
    return scope(user, Event.objects.select_related("source"))


def search_events(user, *, q: str = "", source: int | None = None, host: str = "", app: str = "", user_name: str = "",
                  src_ip: str = "", action: str = "", outcome: str = "", severity_max: int | None = None,
                  since: datetime | None = None, until: datetime | None = None):
    """Filters plus full text (every word must appear in the message or the raw line)."""
    qs = events_for(user)
    if source:
        qs = qs.filter(source_id=source)
    if host:
        qs = qs.filter(host=host)
    if app:
        qs = qs.filter(app=app)
    if user_name:
        qs = qs.filter(user=user_name)
    if src_ip:
        qs = qs.filter(src_ip=src_ip)
    if action:
        qs = qs.filter(action__startswith=action)
    if outcome:
        qs = qs.filter(outcome=outcome)
    if severity_max is not None:
        qs = qs.filter(severity__lte=severity_max)
    if since:
        qs = qs.filter(at__gte=since)
    if until:
        qs = qs.filter(at__lt=until)
    for word in q.split()[:8]:
        qs = qs.filter(Q(message__icontains=word) | Q(raw__icontains=word))
    return qs.order_by("-seq")


def event_dict(e: Event) -> dict:
    return {"at": e.at, "host": e.host, "app": e.app, "severity": e.severity, "user": e.user, "src_ip": e.src_ip,
            "action": e.action, "outcome": e.outcome, "message": e.message, "raw": e.raw, "extra": e.extra or {}}


def get_event_for(user, seq: int) -> Event:
    e = events_for(user).filter(seq=seq).first()
    if e is None:
        raise NotFound()
    return e


def quarantine_for(user):
    require(user, "seccloud.view")
    return scope(user, Quarantine.objects.select_related("source"), field="source__department")


def rules_for(user):
    require(user, "seccloud.view")
    return Rule.objects.all()


def get_rule(user, pk: int) -> Rule:
    rule = rules_for(user).filter(pk=pk).first()
    if rule is None:
        raise NotFound()
    return rule


def alerts_for(user):
    require(user, "seccloud.view")
    return scope(user, Alert.objects.select_related("rule", "incident"))


def incidents_for(user):
    require(user, "seccloud.view")
    return scope(user, Incident.objects.select_related("assignee", "department"))


def get_incident_for(user, pk: int) -> Incident:
    inc = incidents_for(user).filter(pk=pk).first()
    if inc is None:
        raise NotFound()
    return inc


def latest_tree_head() -> TreeHead | None:
    return TreeHead.objects.first()


def dashboard(user) -> dict:
    """Figures for the ECharts dashboard: events per source, alerts by severity, top rules, open incidents."""
    per_source = list(sources_for(user).order_by("-stored").values("name", "stored", "quarantined")[:10])
    alerts = alerts_for(user)
    by_severity = dict(alerts.values_list("severity").annotate(n=Count("id")).order_by())
    top_rules = list(alerts.values("rule__title").annotate(n=Count("id")).order_by("-n")[:10])
    open_incidents = incidents_for(user).exclude(status=Incident.Status.CLOSED)
    return {"per_source": per_source,
            "by_severity": [{"level": lvl, "n": by_severity.get(lvl, 0)}
                            for lvl in ("critical", "high", "medium", "low", "informational")],
            "top_rules": [{"title": r["rule__title"], "n": r["n"]} for r in top_rules],
            "open_incidents": open_incidents.count()}


def self_checks_for(user):
    """The platform's own checks (everyone with view) and department questionnaires in scope."""
    require(user, "seccloud.view")
    own = scope(user, SelfCheck.objects.exclude(department=None))
    return SelfCheck.objects.filter(Q(department=None) | Q(pk__in=own.values("pk"))).select_related("department")


def get_self_check_for(user, pk: int) -> SelfCheck:
    check = self_checks_for(user).filter(pk=pk).first()
    if check is None:
        raise NotFound()
    return check


def data_keys_for(user):
    require(user, "seccloud.view")
    return scope(user, DataKey.objects.select_related("department")).defer("wrapped")


def key_usages_for(user):
    require(user, "seccloud.view")
    return scope(user, KeyUsage.objects.select_related("key"), field="key__department")


SEVERITY_LABELS = {"critical": "严重", "high": "高", "medium": "中", "low": "低", "informational": "提示"}
ALERTING_LEVELS = ("high", "critical")  # incidents that reach the leaders' rolling list


def indicators(*, actor, department) -> list[dict]:
    """安全云 figures of ``department`` and below (three queries): open incidents with their breakdown by severity,
    rule alerts per day, and the platform's audit chain status (``audit_chain_indicator``)."""
    check_scope(actor, department)
    bounds = day_starts()
    by_level = dict(Incident.objects.filter(department__path__startswith=department.path)
                    .exclude(status=Incident.Status.CLOSED).values_list("severity").annotate(n=Count("id")))
    a = Alert.objects.filter(department__path__startswith=department.path, at__gte=bounds[0]).aggregate(
        **daily_counts("at", "alerts", bounds))
    common = {"app": "seccloud", "department": department}
    return [
        indicator(key="open_incidents", name="未关闭安全事件", name_en="Open security incidents", unit="件",
                  value=sum(by_level.values()), url=reverse("seccloud:incidents"),
                  breakdown=[{"name": SEVERITY_LABELS.get(lvl, lvl), "value": by_level[lvl]}
                             for lvl in reversed(LEVELS) if by_level.get(lvl)], **common),
        indicator(key="alerts_today", name="今日安全告警", name_en="Security alerts today", unit="条",
                  url=reverse("seccloud:dashboard"), **series_of(a, "alerts", bounds), **common),
        audit_chain_indicator(department),
    ]


def audit_chain_indicator(department) -> dict:
    """审计链状态: whether the platform's tamper-evident audit trail verified, from the **latest kept verification**
    (``audit.services.verify_and_keep``: the worker's hourly job, ``smartgov audit verify``, the self-check) —
    re-hashing millions of entries on each look at a screen is not affordable. The chain is the platform's, not a
    department's: every scope shows the same status. ``value`` is 1 (verified), 0 (failed) or None (never
    verified); a verification older than twice ``AUDIT_VERIFY_SECONDS`` shows as overdue (one query)."""
    v = latest_verification()
    common = {"app": "seccloud", "key": "audit_chain", "name": "审计链状态", "name_en": "Audit chain", "unit": "",
              "department": department, "url": reverse("seccloud:self_check")}
    if v is None:
        return indicator(value=None, text="未校验", text_en="Not verified yet", status="warn", **common)
    every = settings.AUDIT_VERIFY_SECONDS
    when = timezone.localtime(v.checked_at)
    note, note_en = f"{when:%m-%d %H:%M} 校验 {v.entries} 条", f"{v.entries} entries, {when:%m-%d %H:%M}"
    if not v.ok:
        return indicator(value=0, text="未通过", text_en="Failed", status="alert",
                         note=f"{note} · 第 {v.first_bad_seq} 条起", note_en=f"{note_en} · from #{v.first_bad_seq}", **common)
    if every and (timezone.now() - v.checked_at).total_seconds() > 2 * every:
        return indicator(value=1, text="校验过期", text_en="Verification overdue", status="warn", note=note,
                         note_en=note_en, **common)
    return indicator(value=1, text="通过", text_en="Verified", status="ok", note=note, note_en=note_en, **common)


def alerts(*, actor, department, limit: int = 20) -> list[dict]:
    """Open incidents of high or critical severity of ``department`` and below, newest first, and — on every
    scope — the latest kept verification of the platform's audit trail when it failed (two queries)."""
    check_scope(actor, department)
    rows = (Incident.objects.filter(department__path__startswith=department.path, severity__in=ALERTING_LEVELS)
            .exclude(status=Incident.Status.CLOSED).select_related("department").order_by("-created_at")[:limit])
    v = latest_verification()
    failed = [alert(app="seccloud", key=f"audit_chain:{v.pk}", kind="审计链校验失败", kind_en="Audit chain failed",
                    title=f"审计日志第 {v.first_bad_seq} 条起校验未通过", at=v.checked_at,
                    url=reverse("seccloud:self_check"))] if v is not None and not v.ok else []
    return (failed + [alert(app="seccloud", key=f"incident:{i.pk}", kind="安全事件", kind_en="Security incident",
                            title=f"{SEVERITY_LABELS.get(i.severity, i.severity)} · {i.title}", at=i.created_at,
                            url=reverse("seccloud:incident", args=[i.pk]), department_name=i.department.name,
                            level="red" if i.severity == "critical" else "orange") for i in rows])[:limit]
