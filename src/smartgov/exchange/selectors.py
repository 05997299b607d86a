"""Reads of the exchange that more than one caller needs: the catalogue, agreements and the message log
each side may see, subscriptions and dead letters, statistics and the data-quality report."""

import datetime
from collections import Counter, defaultdict

from django.db.models import Count, Q
from django.urls import reverse
from django.utils import timezone

from smartgov.core.errors import NotFound
from smartgov.core.indicators import check_scope, daily_counts, day_starts, indicator, series_of
from smartgov.core.permissions import Role, covers_department, department_path, has_perm, is_system, require, scope
from smartgov.core.validators import is_valid_id_number, is_valid_mobile, is_valid_uscc

from .catalogue import UPDATE_CYCLES
from .models import (
    Agreement,
    AgreementStatus,
    Delivery,
    DeliveryStatus,
    Message,
    Outcome,
    Resource,
    ResourceVersion,
    ShareType,
    Subscription,
)
from .providers import discover


def catalogue_for(user, *, q: str = "", department: str = "", share_type: str = ""):
    """The catalogue is visible to every department's staff (that is its point); ``q`` searches code,
    name and provider."""
    require(user, "exchange.view_catalogue")
    qs = Resource.objects.select_related("department").filter(active=True)
    q = (q or "").strip()
    if q:
        qs = qs.filter(Q(code__icontains=q) | Q(name__icontains=q) | Q(department__name__icontains=q))
    if department:
        qs = qs.filter(department__code=department)
    if share_type in ShareType.values:
        qs = qs.filter(share_type=share_type)
    return qs.order_by("code")


def with_content(resources) -> list[tuple[Resource, object]]:
    """Each resource with its current version's parsed content (one query for all)."""
    resources = list(resources)
    versions = {(v.resource_id, v.version): v for v in ResourceVersion.objects.filter(
        resource_id__in=[r.pk for r in resources]).only("resource_id", "version", "content")}
    return [(r, versions[(r.pk, r.current_version)].parsed) for r in resources]


def get_resource(user, code: str) -> tuple[Resource, object]:
    require(user, "exchange.view_catalogue")
    resource = Resource.objects.select_related("department").filter(code=(code or "").strip().upper()).first()
    if resource is None:
        raise NotFound("资源不存在", code="resource_not_found")
    return resource, resource.versions.get(version=resource.current_version).parsed


def _either_side(user, qs, consumer_field: str, provider_field: str):
    if is_system(user) or user.role in (Role.SYSADMIN, Role.SECADMIN, Role.AUDITADMIN):
        return qs
    own = department_path(user)
    if own is None:
        return qs.none()
    subtree = user.role in (Role.SUPERVISOR, Role.DEPT_ADMIN)
    key = "path__startswith" if subtree else "path"
    return qs.filter(Q(**{f"{consumer_field}__{key}": own}) | Q(**{f"{provider_field}__{key}": own}))


def agreements_for(user, *, side: str = ""):
    """Agreements where the user's department is the consumer (``side="consumer"``), the provider
    (``"provider"``) or either."""
    require(user, "exchange.view_catalogue")
    qs = Agreement.objects.select_related("resource__department", "consumer")
    if side == "consumer":
        return scope(user, qs, field="consumer")
    if side == "provider":
        return scope(user, qs, field="resource__department")
    return _either_side(user, qs, "consumer", "resource__department")


def get_agreement_for(user, agreement_id: int) -> Agreement:
    ag = agreements_for(user).filter(pk=agreement_id).first()
    if ag is None:
        raise NotFound()
    return ag


def pending_for_provider(user):
    return agreements_for(user, side="provider").filter(status=AgreementStatus.PENDING)


def messages_for(user, *, outcome: str = "", resource: str = ""):
    """The message log as seen by a department (its calls as consumer or provider), a supervisor (below)
    or the audit administrator (all)."""
    require(user, "exchange.view_log")
    qs = Message.objects.select_related("resource", "consumer", "provider", "batch").order_by("-pk")
    qs = _either_side(user, qs, "consumer", "provider")
    if outcome in Outcome.values:
        qs = qs.filter(outcome=outcome)
    if resource:
        qs = qs.filter(resource__code=resource.strip().upper())
    return qs


def get_message_for(user, message_id: str) -> Message:
    msg = messages_for(user).filter(message_id=message_id).first()
    if msg is None:
        raise NotFound()
    return msg


def subscriptions_for(user):
    require(user, "exchange.view_catalogue")
    return scope(user, Subscription.objects.select_related("resource", "consumer").filter(active=True),
                 field="consumer")


def get_subscription_for(user, subscription_id: int) -> Subscription:
    sub = subscriptions_for(user).filter(pk=subscription_id).first()
    if sub is None:
        raise NotFound()
    return sub


def dead_letters_for(user):
    return Delivery.objects.select_related("event__resource", "subscription").filter(
        status=DeliveryStatus.DEAD, subscription__in=subscriptions_for(user)).order_by("-pk")


# --- event subjects (personal ones are encrypted; shown masked unless the agreement grants them) ---------

def identifying_keys(resource: Resource) -> frozenset[str]:
    """The data items of ``resource`` that name the person an event is about: those checked as 公民身份号码,
    or, for a resource that returns none (the licence directory's ``holder``), its personal items."""
    content = resource.versions.get(version=resource.current_version).parsed
    return frozenset(i.key for i in content.items if i.check == "id_number") or frozenset(content.personal_keys())


def clear_subject_consumers(resource: Resource, consumer_ids) -> set[int]:
    """Of ``consumer_ids``, the departments that may see ``resource``'s personal event subjects in clear:
    the provider itself, and consumers whose active, unexpired agreement grants in clear an item that
    names the person (the exchange's rule for personal fields: masked unless granted in clear). One
    query, none when only the provider asks."""
    wanted = set(consumer_ids)
    out = {resource.department_id} & wanted
    others = wanted - out
    if not others:
        return out
    keys = identifying_keys(resource)
    for consumer_id, clear in Agreement.objects.filter(
            resource=resource, consumer_id__in=others, status=AgreementStatus.ACTIVE,
            valid_until__gte=timezone.localdate()).values_list("consumer_id", "clear_fields"):
        if keys & set(clear or []):
            out.add(consumer_id)
    return out


def shown_subject(event, *, clear: bool) -> str:
    """The event's subject as one party may see it: in clear when entitled, else masked."""
    return event.clear_subject if clear else event.subject


def dead_letters_shown(user, deliveries) -> list[tuple[Delivery, str]]:
    """Dead letters with the subject each may show to ``user``: in clear only to staff of the subscribing
    department itself whose agreement grants it (a supervisor above sees it masked)."""
    own = getattr(user, "department_id", None)
    clear: dict[int, set[int]] = {}
    out = []
    for d in deliveries:
        event = d.event
        entitled = False
        if event.personal_subject and own is not None and d.subscription.consumer_id == own:
            if event.resource_id not in clear:
                clear[event.resource_id] = clear_subject_consumers(event.resource, [own])
            entitled = own in clear[event.resource_id]
        out.append((d, shown_subject(event, clear=entitled)))
    return out


def can(user, perm: str, department=None) -> bool:
    return has_perm(user, perm) and (department is None or covers_department(user, department))


# --- statistics ----------------------------------------------------------------------------------------

def _percentile(sorted_values: list[float], p: float) -> float | None:
    if not sorted_values:
        return None
    k = min(len(sorted_values) - 1, max(0, round(p / 100 * (len(sorted_values) - 1))))
    return round(sorted_values[k], 2)


def statistics(user, *, days: int = 30) -> dict:
    """共享调用量: calls per day, resource, consumer and provider, errors, latency percentiles and refused
    calls by reason, over the last ``days`` days of the log the user may see."""
    since = timezone.now() - datetime.timedelta(days=days)
    qs = messages_for(user).filter(at__gte=since)
    rows = list(qs.values_list("at", "resource__code", "resource__name", "consumer__name", "provider__name",
                               "outcome", "reason", "latency_ms"))
    per_day: Counter = Counter()
    by_resource: Counter = Counter()
    names: dict[str, str] = {}
    by_consumer: Counter = Counter()
    by_provider: Counter = Counter()
    outcomes: Counter = Counter()
    refused: Counter = Counter()
    latencies = []
    for at, code, name, consumer, provider, outcome, reason, latency in rows:
        per_day[timezone.localtime(at).date().isoformat()] += 1
        if code:
            by_resource[code] += 1
            names[code] = name
        by_consumer[consumer or "—"] += 1
        by_provider[provider or "—"] += 1
        outcomes[outcome] += 1
        if outcome == Outcome.REFUSED:
            refused[reason] += 1
        elif outcome in (Outcome.OK, Outcome.NOT_FOUND):
            latencies.append(latency)
    latencies.sort()
    today = timezone.localdate()
    day_keys = [(today - datetime.timedelta(days=i)).isoformat() for i in range(days - 1, -1, -1)]
    return {
        "days": days, "total": len(rows), "ok": outcomes[Outcome.OK] + outcomes[Outcome.NOT_FOUND],
        "errors": outcomes[Outcome.PROVIDER_ERROR] + outcomes[Outcome.PROVIDER_TIMEOUT],
        "refused": outcomes[Outcome.REFUSED],
        "p50_ms": _percentile(latencies, 50), "p95_ms": _percentile(latencies, 95),
        "p99_ms": _percentile(latencies, 99),
        "per_day": [[d, per_day.get(d, 0)] for d in day_keys],
        "by_resource": [[c, names.get(c, c), n] for c, n in by_resource.most_common(20)],
        "by_consumer": by_consumer.most_common(20), "by_provider": by_provider.most_common(20),
        "outcomes": [[Outcome(o).label, n] for o, n in outcomes.most_common()],
        "refused_by_reason": refused.most_common(),
    }


# --- data quality ------------------------------------------------------------------------------------------

_METADATA = ("summary", "legal_basis", "update_cycle", "format")


def _valid(check: str, value) -> bool:
    fn = {"id_number": is_valid_id_number, "uscc": is_valid_uscc, "mobile": is_valid_mobile}[check]
    return isinstance(value, str) and fn(value)


def quality_report(user, *, sample: int = 200, today: datetime.date | None = None) -> list[dict]:
    """数据质量: for each resource the user's departments provide (all, for supervisors and the audit
    administrator), from a sample of the provider's records: completeness (share of data items filled),
    validity (values that pass the core validators named by the item's ``check``), timeliness (the newest
    record against the update cycle), plus metadata completeness."""
    require(user, "exchange.view_catalogue")
    qs = Resource.objects.select_related("department").filter(active=True)
    if not (is_system(user) or user.role in (Role.SUPERVISOR, Role.AUDITADMIN)):
        qs = scope(user, qs, field="department")
    elif user.role == Role.SUPERVISOR:
        qs = scope(user, qs, field="department", include_descendants=True)
    adapters = discover()
    today = today or timezone.localdate()
    report = []
    for resource, content in with_content(qs.order_by("department__code", "code")):
        row = {"code": resource.code, "name": resource.name, "department": resource.department.name,
               "metadata_pct": round(100 * sum(bool(getattr(content, f)) for f in _METADATA) / len(_METADATA)),
               "sampled": 0, "completeness_pct": None, "validity_pct": None, "last_update": None, "timely": None,
               "problems": []}
        served = content.served_by
        adapter = adapters.get(served.adapter) if served.kind == "internal" else None
        if adapter is None:
            row["problems"].append("外部接口资源：请由提供方系统自查" if served.kind == "http" else "内部提供方不存在")
            report.append(row)
            continue
        records = adapter.sample(sample)
        keys = content.item_keys()
        checks = [(i.key, i.check) for i in content.items if i.check]
        filled = total = valid = checked = 0
        invalid_examples = defaultdict(int)
        for rec in records:
            for k in keys:
                total += 1
                filled += rec.get(k) not in (None, "", [])
            for k, check in checks:
                if rec.get(k) in (None, ""):
                    continue
                checked += 1
                if _valid(check, rec[k]):
                    valid += 1
                else:
                    invalid_examples[k] += 1
        row["sampled"] = len(records)
        row["completeness_pct"] = round(100 * filled / total, 1) if total else None
        row["validity_pct"] = round(100 * valid / checked, 1) if checked else None
        for k, n in invalid_examples.items():
            row["problems"].append(f"{k}：{n} 条未通过校验")
        last = adapter.updated_at()
        if last is not None:
            last_day = timezone.localtime(last).date() if isinstance(last, datetime.datetime) else last
            row["last_update"] = last_day.isoformat()
            row["timely"] = (today - last_day).days <= UPDATE_CYCLES[content.update_cycle][1]
            if not row["timely"]:
                row["problems"].append(f"超过更新周期（{UPDATE_CYCLES[content.update_cycle][0]}）未更新")
        elif not records:
            row["problems"].append("没有数据")
        report.append(row)
    return report


def agreement_counts(user) -> dict:
    qs = agreements_for(user)
    return dict(qs.values_list("status").annotate(n=Count("pk")).values_list("status", "n"))


def resource_labels(codes) -> dict[str, tuple[str, str]]:
    """code → (resource name, provider name) of active, shareable resources (for forms that offer a fetch)."""
    return {code: (name, provider) for code, name, provider in Resource.objects.filter(
        code__in=list(codes), active=True).exclude(share_type=ShareType.NONE).values_list(
        "code", "name", "department__name")}


PROVIDER_FAILURES = (Outcome.PROVIDER_ERROR, Outcome.PROVIDER_TIMEOUT)


def indicators(*, actor, department) -> list[dict]:
    """数据共享交换 figures of ``department`` and below (one query): mediated calls per day where a department of
    the scope is the consumer or the provider, today's refusals, and the providers of the scope whose service
    failed (error or timeout) in the last hour."""
    check_scope(actor, department)
    bounds = day_starts()
    hour_ago = timezone.now() - datetime.timedelta(hours=1)
    path = department.path
    m = Message.objects.filter(Q(consumer__path__startswith=path) | Q(provider__path__startswith=path),
                               at__gte=min(bounds[0], hour_ago)).aggregate(
        **daily_counts("at", "calls", bounds),
        refused=Count("id", filter=Q(outcome=Outcome.REFUSED, at__gte=bounds[-2])),
        down=Count("provider", distinct=True, filter=Q(outcome__in=PROVIDER_FAILURES, at__gte=hour_ago,
                                                       provider__path__startswith=path)))
    common = {"app": "exchange", "department": department, "url": reverse("exchange:stats")}
    return [
        indicator(key="calls_today", name="今日共享调用", name_en="Data-sharing calls today", unit="次",
                  **series_of(m, "calls", bounds), **common),
        indicator(key="refused_today", name="今日拒绝调用", name_en="Calls refused today", unit="次",
                  value=m["refused"], **common),
        indicator(key="providers_down", name="提供方故障", name_en="Providers failing (last hour)", unit="个",
                  value=m["down"], **common),
    ]
