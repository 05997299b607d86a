"""Every write of 安全云 that a person or job makes: sources, rules, incidents, retention, the audit
trail import, signed tree heads. Keyword-only arguments, ``actor=``, atomic, audited."""

import secrets
from datetime import UTC, date, datetime, timedelta

import yaml as pyyaml
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from smartgov.accounts.models import Department
from smartgov.audit import selectors as audit_selectors
from smartgov.audit.services import record
from smartgov.core import partitions
from smartgov.core.crypto.sm3 import sm3_hex
from smartgov.core.errors import Conflict, InvalidInput, NotFound, validated
from smartgov.core.permissions import require

from . import alerts, detection, ingest, normalize, selectors, store
from .models import Event, Incident, IncidentEntry, Quarantine, Rule, Signal, Source

TOKEN_PREFIX = "sgl_"  # noqa: S105 — a prefix, not a secret


# --- sources -------------------------------------------------------------------------------------

@transaction.atomic
def register_source(*, actor, department, name: str, kind: str, address: str | None = None) -> tuple[Source, str]:
    """Register a department's log source. Returns (source, token): the HTTP token is shown once and
    stored only as its SM3 hash."""
    require(actor, "seccloud.manage_source", department=department)
    name = (name or "").strip()
    if not name:
        raise InvalidInput("请填写日志源名称", code="source_name_required")
    if kind not in Source.Kind.values or kind == Source.Kind.PLATFORM:
        raise InvalidInput("日志源类型无效", code="bad_source_kind", detail={"kind": kind})
    if kind == Source.Kind.SYSLOG and not address:
        raise InvalidInput("Syslog 日志源需要发送地址（IP）", code="source_address_required")
    if Source.objects.filter(department=department, name=name).exists():
        raise Conflict("本部门已有同名日志源", code="source_exists")
    if address and Source.objects.filter(address=address).exists():
        raise Conflict("该发送地址已登记为其他日志源", code="source_address_taken")
    token = TOKEN_PREFIX + secrets.token_urlsafe(24) if kind == Source.Kind.HTTP else ""
    source = Source(department=department, name=name, kind=kind, address=address or None,
                    token_hash=sm3_hex(token.encode()) if token else "")

    validated(source)
    source.save()
    record(actor=actor, action="seccloud.source.register", target=source,
           changes={"name": name, "kind": kind, "address": address or "", "department": department.pk})
    return source, token


def source_for_token(token: str) -> Source | None:
    if not token or not token.startswith(TOKEN_PREFIX):
        return None
    return Source.objects.select_related("department").filter(
        token_hash=sm3_hex(token.encode()), kind=Source.Kind.HTTP, active=True).first()


@transaction.atomic
def set_source_active(*, actor, source: Source, active: bool) -> Source:
    require(actor, "seccloud.manage_source", department=source.department, hide=True)
    source.active = active
    source.save(update_fields=["active", "updated_at"])
    record(actor=actor, action="seccloud.source.enable" if active else "seccloud.source.disable", target=source)
    return source


def platform_source() -> Source:
    """The platform's own source (audit trail and sign-ins), owned by the root department."""
    src = Source.objects.filter(kind=Source.Kind.PLATFORM).first()
    if src is None:
        root = Department.objects.filter(parent=None).order_by("pk").first()
        if root is None:
            raise NotFound("尚无部门，无法登记平台日志源", code="no_department")
        src, _ = Source.objects.get_or_create(kind=Source.Kind.PLATFORM, department=root,
                                              defaults={"name": "平台审计日志"})
    return src


# --- the platform's own audit trail -------------------------------------------------------------------

def import_audit_trail(*, actor, limit: int = 5000) -> int:
    """Collect new audit-trail entries (read through audit's selectors) as events of the platform
    source: every sign-in, role change, export, verification. Safe to re-run: continues after the last
    imported sequence number."""
    require(actor, "seccloud.manage_rule")
    source = platform_source()
    last = (Event.objects.filter(source=source).order_by("-seq").values_list("extra", flat=True).first() or {})
    after = int(last.get("audit_seq", 0))
    entries = list(audit_selectors.list_entries().filter(seq__gt=after).order_by("seq")[:limit])
    if not entries:
        return 0
    events = [_audit_event(e) for e in entries]
    ingest.store_events(actor=actor, source=source, events=events, bad=[], transport="audit")
    return len(events)


def _audit_event(e) -> dict:
    failed = e.action.endswith((".failed", ".failure", ".denied")) or e.action.endswith("verify.failed")
    return {"at": e.at, "host": settings.SECCLOUD_PLATFORM_HOST, "app": "smartgov", "severity": 4 if failed else 6,
            "user": e.actor, "src_ip": e.ip, "action": e.action, "outcome": "failure" if failed else "success",
            "message": f"{e.action} {e.target_type}:{e.target_id} {e.target_label}".strip(),
            "raw": f"audit#{e.seq} {e.action} by {e.actor}",
            "extra": {"audit_seq": e.seq, "actor_role": e.actor_role, "target_type": e.target_type,
                      "target_id": e.target_id, "changes": e.changes[:2000]}}


# --- retention ------------------------------------------------------------------------------------------

def expire_events(*, actor, today: date | None = None) -> dict:
    """Delete whole days older than the retention period (≥ 180 days, 等保 2.0 / 网络安全法 §21),
    a day at a time. The Merkle tiles and signed heads stay: proofs of what was logged remain."""
    require(actor, "seccloud.manage_rule")
    days = settings.SECCLOUD_RETENTION_DAYS
    if days < 180:
        raise InvalidInput("日志保留期不得少于180天", code="retention_too_short", detail={"days": days})
    today = today or timezone.localdate()
    cutoff = today - timedelta(days=days)
    deleted = 0
    prepared = partitions.ensure_months(Event._meta.db_table, ahead=2, today=today)
    # PostgreSQL: whole months older than the cutoff go with their partitions (counted first, for the
    # audit entry); the older days of the cutoff's month, and everything on SQLite, a day at a time
    table = Event._meta.db_table
    old_months = [m for m in partitions.months(table) if m.end <= cutoff]
    expired_days = sorted(set(Event.objects.filter(day__lt=cutoff).values_list("day", flat=True).distinct()))
    for m in old_months:
        deleted += Event.objects.filter(day__gte=m.start, day__lt=m.end).count()
    dropped = partitions.drop_months_before(table, cutoff)
    for day in expired_days:
        if any(m.start <= day < m.end for m in dropped):
            continue
        with transaction.atomic():
            n, _ = Event.objects.filter(day=day).delete()
            deleted += n
    cut_dt = datetime.combine(cutoff, datetime.min.time(), tzinfo=UTC)
    Quarantine.objects.filter(at__lt=cut_dt).delete()
    Signal.objects.filter(at__lt=cut_dt).delete()
    if deleted or dropped:
        record(actor=actor, action="seccloud.events.expire",
               changes={"before": cutoff.isoformat(), "events": deleted, "days": len(expired_days),
                        "partitions_dropped": [m.table for m in dropped]})
    return {"cutoff": cutoff.isoformat(), "deleted": deleted, "days": len(expired_days),
            "partitions_dropped": [m.table for m in dropped], "partitions_created": prepared}


# --- rules ----------------------------------------------------------------------------------------

@transaction.atomic
def upload_rules(*, actor, yaml_text: str, builtin: bool = False, enabled: bool = True) -> list[Rule]:
    """Add or replace Sigma rules (one or more YAML documents), each parsed by pySigma and compiled
    before anything is stored; a rule that does not compile changes nothing."""
    require(actor, "seccloud.manage_rule")

    try:
        docs = [d for d in pyyaml.safe_load_all(yaml_text) if d]
    except pyyaml.YAMLError as exc:
        raise InvalidInput("规则不是有效的YAML", code="bad_rule_yaml", detail=str(exc)[:300]) from exc
    try:
        parsed = detection.load_rules(yaml_text)
        compiled = [detection.compile_rule(r) for r in parsed]
    except detection.RuleError as exc:
        raise InvalidInput("Sigma规则无法解析", code="bad_sigma_rule", detail=str(exc)[:300]) from exc
    if len(docs) != len(compiled):
        raise InvalidInput("Sigma规则无法解析", code="bad_sigma_rule", detail="document count mismatch")
    saved = []
    for doc, c in zip(docs, compiled, strict=True):
        text = pyyaml.safe_dump(doc, allow_unicode=True, sort_keys=False)
        rule, created = Rule.objects.update_or_create(
            rule_id=c.rule_id, defaults={"title": c.title[:255], "kind": c.kind, "level": c.level, "tags": c.tags,
                                         "yaml": text, "builtin": builtin, "enabled": enabled})
        record(actor=actor, action="seccloud.rule.upload" if created else "seccloud.rule.replace", target=rule,
               changes={"rule_id": c.rule_id, "title": c.title, "kind": c.kind})
        saved.append(rule)
    # correlations must reference known rules
    known = set(Rule.objects.values_list("rule_id", flat=True))
    for c in compiled:
        missing = [r for r in c.refs if r not in known]
        if missing:
            raise InvalidInput("关联规则引用了不存在的规则", code="unknown_rule_reference", detail=missing)
    transaction.on_commit(ingest.reset_pack)
    return saved


@transaction.atomic
def set_rule_enabled(*, actor, rule: Rule, enabled: bool) -> Rule:
    require(actor, "seccloud.manage_rule")
    rule.enabled = enabled
    rule.save(update_fields=["enabled", "updated_at"])
    record(actor=actor, action="seccloud.rule.enable" if enabled else "seccloud.rule.disable", target=rule)
    transaction.on_commit(ingest.reset_pack)
    return rule


def dry_run_rule(*, actor, rule: Rule, limit: int = 10000) -> dict:
    """Run one rule over the newest stored events (not creating alerts): how many match, and which."""
    require(actor, "seccloud.manage_rule")
    compiled = [detection.compile_rule(r) for r in detection.load_rules(rule.yaml)]
    detections = [c for c in compiled if c.kind == "detection"]
    if not detections:
        refs = {r for c in compiled for r in c.refs}
        detections = [c for r in Rule.objects.filter(rule_id__in=refs)
                      for c in (detection.compile_rule(x) for x in detection.load_rules(r.yaml))]
    matched = []
    scanned = 0
    for e in selectors.events_for(actor).order_by("-seq")[:limit].iterator(chunk_size=2000):
        scanned += 1
        fl = normalize.flat(selectors.event_dict(e))
        if any(d.match(fl) for d in detections):
            matched.append(e.seq)
    return {"scanned": scanned, "matched": len(matched), "seqs": matched[:100]}


def run_rules_over_history(*, actor, since: datetime, until: datetime | None = None) -> dict:
    """Evaluate the enabled pack over stored events in time order (hunting, or after adding a rule):
    alerts and correlation windows as if the events were arriving now."""
    require(actor, "seccloud.manage_rule")
    pack = ingest.rule_pack(fresh=True)
    qs = Event.objects.filter(at__gte=since).select_related("source")
    if until:
        qs = qs.filter(at__lt=until)
    made = 0
    scanned = 0
    batch: dict[int, list] = {}
    for e in qs.order_by("at", "seq").iterator(chunk_size=2000):
        scanned += 1
        ev = selectors.event_dict(e)
        for d in pack.matches(normalize.flat(ev)):
            batch.setdefault(e.source_id, []).append((d, e.seq, ev))
    sources = Source.objects.in_bulk(list(batch))
    with transaction.atomic():
        for source_id, hits in batch.items():
            made += len(alerts.raise_alerts(actor=actor, pack=pack, hits=hits, source=sources[source_id]))
        record(actor=actor, action="seccloud.rules.run_history",
               changes={"since": since.isoformat(), "scanned": scanned, "alerts": made})
    return {"scanned": scanned, "alerts": made}


# --- incidents ------------------------------------------------------------------------------------

@transaction.atomic
def assign_incident(*, actor, incident: Incident, assignee) -> Incident:
    require(actor, "seccloud.handle_incident")
    if assignee is not None and assignee.role not in ("secadmin",):
        raise InvalidInput("只能指派给安全管理员", code="bad_assignee")
    incident = Incident.objects.select_for_update().get(pk=incident.pk)
    incident.assignee = assignee
    if incident.status == Incident.Status.OPEN:
        incident.status = Incident.Status.INVESTIGATING
    incident.save(update_fields=["assignee", "status", "updated_at"])
    IncidentEntry.objects.create(incident=incident, actor=str(actor.get_username()), kind="assigned",
                                 text=assignee.get_username() if assignee else "")
    record(actor=actor, action="seccloud.incident.assign", target=incident,
           changes={"assignee": assignee.pk if assignee else None})
    return incident


@transaction.atomic
def set_incident_status(*, actor, incident: Incident, status: str, note: str = "") -> Incident:
    require(actor, "seccloud.handle_incident")
    if status not in Incident.Status.values:
        raise InvalidInput("状态无效", code="bad_incident_status", detail={"status": status})
    incident = Incident.objects.select_for_update().get(pk=incident.pk)
    if incident.status == Incident.Status.CLOSED and status != Incident.Status.CLOSED:
        pass  # reopening is allowed and recorded
    if status == Incident.Status.CLOSED and not note.strip():
        raise InvalidInput("关闭事件需填写处置结论", code="close_note_required")
    old = incident.status
    incident.status = status
    incident.closed_at = timezone.now() if status == Incident.Status.CLOSED else None
    incident.save(update_fields=["status", "closed_at", "updated_at"])
    IncidentEntry.objects.create(incident=incident, actor=actor.get_username(), kind="status",
                                 text=f"{old} → {status}" + (f"：{note.strip()}" if note.strip() else ""))
    record(actor=actor, action="seccloud.incident.status", target=incident, changes={"from": old, "to": status})
    return incident


@transaction.atomic
def add_incident_note(*, actor, incident: Incident, text: str) -> IncidentEntry:
    require(actor, "seccloud.handle_incident")
    text = (text or "").strip()
    if not text:
        raise InvalidInput("备注不能为空", code="note_required")
    entry = IncidentEntry.objects.create(incident=incident, actor=actor.get_username(), kind="note", text=text[:4000])
    record(actor=actor, action="seccloud.incident.note", target=incident)
    return entry


# --- signed tree heads ----------------------------------------------------------------------------

def sign_tree_head(*, actor) -> dict | None:
    """Sign the log's current root (every minute, as a job). Audited only when a new head is made."""
    require(actor, "seccloud.manage_rule")
    with transaction.atomic():
        sth = store.sign_tree_head(int(timezone.now().timestamp() * 1000))
        if sth is not None:
            record(actor=actor, action="seccloud.sth.sign", target=sth,
                   changes={"tree_size": sth.tree_size, "root": sth.root})
    return None if sth is None else {"tree_size": sth.tree_size, "root": sth.root}
