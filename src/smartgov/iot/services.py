"""Every write of the IoT layer: provisioning devices and their credentials, ingesting telemetry (the hot
path: one multi-row ``INSERT … ON CONFLICT DO NOTHING RETURNING`` per chunk, rules evaluated on the rows
that were new), alarm rules and their JSON import/export, alarm acknowledgement, the no-data check and
the escalation of alarms left unacknowledged."""

import uuid
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import orjson
from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from smartgov.accounts.selectors import users_for
from smartgov.audit.services import record
from smartgov.core import partitions
from smartgov.core.errors import Conflict, InvalidInput, NotFound
from smartgov.core.permissions import Role, covers_path, is_system, require
from smartgov.onestop import notify  # the platform's notification senders (inbox + SMARTGOV_NOTIFY_SENDERS)

from . import credentials, rules
from .models import OPEN_STATUSES, Alarm, AlarmRule, AlarmStatus, Device, RuleKind, RuleState, Severity, Telemetry
from .readings import DeviceInfo, Reading


# ---------------------------------------------------------------- devices
@transaction.atomic
def provision_device(*, actor, department, app: str, code: str, name: str, kind: str,
                     tags: dict | None = None) -> tuple[Device, str]:
    """设备注册: the device and its secret (shown once; only its hash is kept)."""
    require(actor, "iot.manage_devices", department=department)
    if Device.objects.filter(code=code).exists():
        raise Conflict("设备编码已存在", code="device_exists", detail={"code": code})
    secret = credentials.new_secret()
    device = Device(department=department, app=app, code=code, name=name, kind=kind, tags=tags or {},
                    secret_hash=credentials.hash_secret(secret))
    device.full_clean()
    device.save()
    record(actor=actor, action="iot.device.provision", target=device,
           changes={"app": app, "code": code, "kind": kind, "tags": device.tags})
    return device, secret


@transaction.atomic
def provision_devices(*, actor, department, app: str, specs: list[dict]) -> dict[str, str]:
    """Bulk provisioning (批量注册, e.g. a new building's meters, the simulator): ``specs`` of
    ``{"code", "name", "kind", "tags"}``; codes already registered are refused as a whole. Returns
    {code: secret}. One audit entry for the batch."""
    require(actor, "iot.manage_devices", department=department)
    codes = [sp["code"] for sp in specs]
    if len(set(codes)) != len(codes):
        raise InvalidInput("设备编码重复", code="duplicate_codes")
    taken = list(Device.objects.filter(code__in=codes).values_list("code", flat=True)[:10])
    if taken:
        raise Conflict("设备编码已存在", code="device_exists", detail={"codes": taken})
    secrets, devices = {}, []
    for sp in specs:
        secret = credentials.new_secret()
        secrets[sp["code"]] = secret
        devices.append(Device(department=department, app=app, code=sp["code"], name=sp["name"][:100],
                              kind=sp["kind"], tags=sp.get("tags") or {}, secret_hash=credentials.hash_secret(secret)))
    Device.objects.bulk_create(devices, batch_size=1000)
    record(actor=actor, action="iot.device.provision_bulk", target=("iot.devices", department.pk),
           changes={"app": app, "count": len(devices), "codes": codes[:20]})
    return secrets


@transaction.atomic
def rotate_device_secret(*, actor, device: Device) -> str:
    """A new secret for a device (the old one stops working once the broker's password file is rewritten)."""
    require(actor, "iot.manage_devices", department=device.department, hide=True)
    secret = credentials.new_secret()
    Device.objects.filter(pk=device.pk).update(secret_hash=credentials.hash_secret(secret))
    record(actor=actor, action="iot.device.rotate_secret", target=device)
    return secret


def device_for_secret(code: str, secret: str) -> Device:
    """The device whose code and secret these are (HTTP ingest), or NotFound — the same answer for an
    unknown code and a wrong secret."""
    device = Device.objects.select_related("department").filter(code=code, active=True).first()
    if device is None or not credentials.check_secret(secret, device.secret_hash):
        raise NotFound("设备凭证无效", code="device_credentials")
    return device


# ---------------------------------------------------------------- ingest
@dataclass
class IngestResult:
    received: int
    stored: int
    duplicates: int
    alarms_raised: int
    alarms_cleared: int
    batch: str


_TABLE = Telemetry._meta.db_table
CHUNK = 500


def _insert(rows: list[tuple]) -> set[tuple[int, str]]:
    """Insert (device_id, ts, received_at, data) rows, skipping (device, ts) already stored; returns the
    keys inserted as (device id, ts ISO string in UTC)."""
    pg = connection.vendor == "postgresql"
    mark = "(%s, %s, %s, %s::jsonb)" if pg else "(%s, %s, %s, %s)"
    inserted = set()
    with connection.cursor() as cur:
        for i in range(0, len(rows), CHUNK):
            chunk = rows[i:i + CHUNK]
            args = []
            adapt = _db_time()
            for device_id, ts, received, data in chunk:
                args += [device_id, adapt(ts), adapt(received), data]
            cur.execute(f"INSERT INTO {_TABLE} (device_id, ts, received_at, data) VALUES "  # noqa: S608
                        f"{', '.join([mark] * len(chunk))} ON CONFLICT (device_id, ts) DO NOTHING"
                        " RETURNING device_id, ts", args)
            for device_id, ts in cur.fetchall():
                inserted.add((device_id, _utc_key(ts)))
    return inserted


def _sqlite_time(dt: datetime) -> str:
    """What Django's SQLite backend stores for an aware datetime (naive UTC, ``str()`` form), without its
    per-value overhead on the hot path."""
    return str(dt.astimezone(UTC).replace(tzinfo=None))


def _db_time():
    return (lambda dt: dt) if connection.vendor == "postgresql" else _sqlite_time


def _utc_key(ts) -> str:
    if isinstance(ts, str):
        ts = datetime.fromisoformat(ts)
    if ts.tzinfo is None:
        ts = ts.replace(tzinfo=UTC)
    return ts.astimezone(UTC).isoformat()


class RuleBook:
    """The enabled rules, loaded once and matched to devices in memory (the worker refreshes it)."""

    def __init__(self):
        self.telemetry, self.no_data = [], []
        for rule in AlarmRule.objects.filter(enabled=True).select_related("department"):
            (self.no_data if rule.kind == RuleKind.NO_DATA else self.telemetry).append(rule)
        self.telemetry_ids = {r.id for r in self.telemetry}
        self._cache: dict[int, list] = {}

    @staticmethod
    def applies(rule: AlarmRule, device) -> bool:
        if rule.app != device.app or not device.department_path.startswith(rule.department.path):
            return False
        if rule.device_id is not None:
            return rule.device_id == device.id
        if rule.device_kind and rule.device_kind != device.kind:
            return False
        if rule.tag_key and str(device.tags.get(rule.tag_key, "")) != rule.tag_value:
            return False
        return True

    def for_device(self, device) -> list[AlarmRule]:
        if device.id not in self._cache:
            self._cache[device.id] = [r for r in self.telemetry if self.applies(r, device)]
        return self._cache[device.id]


def ingest_telemetry(*, actor, readings: list[Reading], source: str, actor_label: str = "",
                     rejected: list | None = None, rulebook: RuleBook | None = None) -> IngestResult:
    """Store a batch of telemetry (遥测入库), idempotent by (device, time); update each device's last-seen
    state; evaluate the alarm rules on the readings that were new (a redelivery changes nothing); one
    audit entry for the batch and one per alarm raised. ``rejected``: malformed MQTT messages dropped
    from the batch, named in the audit entry."""
    if not is_system(actor):
        require(actor, "iot.ingest")
        for info in {r.device.department_path for r in readings}:
            if not covers_path(actor, info):
                raise NotFound("没有这个设备或设备已停用", code="device_not_found")
    with transaction.atomic():
        return _ingest(actor, readings, source, actor_label, rejected or [], rulebook or RuleBook())


def _ingest(actor, readings, source, actor_label, rejected, book) -> IngestResult:
    now = timezone.now()
    rows, seen = [], set()
    for r in readings:
        key = (r.device.id, r.ts.astimezone(UTC).isoformat())
        if key not in seen:
            seen.add(key)
            rows.append((r.device.id, r.ts, now, orjson.dumps(r.values).decode()))
    inserted = _insert(rows) if rows else set()
    new: dict[int, list[Reading]] = defaultdict(list)
    devices = {}
    for r in readings:
        key = (r.device.id, r.ts.astimezone(UTC).isoformat())
        if key in inserted:
            inserted.discard(key)
            new[r.device.id].append(r)
            devices[r.device.id] = r.device
    for group in new.values():
        group.sort(key=lambda r: r.ts)
    _touch_devices(new)
    raised, cleared = _evaluate(actor, new, devices, book, now)
    stored = sum(len(g) for g in new.values())
    batch = uuid.uuid4().hex
    if readings or rejected:
        record(actor=actor, actor_label=actor_label, action="iot.telemetry.ingest", target=("iot.batch", batch),
               changes={"source": source, "received": len(readings), "stored": stored,
                        "duplicates": len(readings) - stored, "devices": len(devices),
                        "alarms_raised": raised, "alarms_cleared": cleared, "rejected": rejected[:20],
                        "rejected_count": len(rejected)})
    return IngestResult(received=len(readings), stored=stored, duplicates=len(readings) - stored,
                        alarms_raised=raised, alarms_cleared=cleared, batch=batch)


def _touch_devices(new: dict[int, list[Reading]]) -> None:
    """Each device's last-seen time and values, only ever forward (a late message does not move it back).
    One ``executemany`` of plain UPDATEs: Django's bulk_update builds a CASE per row, far slower here."""
    if not new:
        return
    pg = connection.vendor == "postgresql"
    adapt = _db_time()
    table = Device._meta.db_table
    rows = []
    for device_id, group in new.items():
        latest = group[-1]
        ts = adapt(latest.ts)
        rows.append((ts, orjson.dumps(latest.values).decode(), device_id, ts))
    with connection.cursor() as cur:
        if not pg:  # SQLite: executemany is one prepared statement run in C, no round trips
            cur.executemany(f"UPDATE {table} SET last_seen_at = %s, last_values = %s WHERE id = %s"  # noqa: S608
                            " AND (last_seen_at IS NULL OR last_seen_at < %s)", rows)
            return
        for i in range(0, len(rows), CHUNK):  # PostgreSQL: one UPDATE … FROM (VALUES …) per chunk
            chunk = rows[i:i + CHUNK]
            args = [a for ts, values, device_id, _ in chunk for a in (device_id, ts, values)]
            cur.execute(f"UPDATE {table} AS d SET last_seen_at = v.ts, last_values = v.vals FROM (VALUES "  # noqa: S608
                        + ", ".join(["(%s::bigint, %s::timestamptz, %s::jsonb)"] * len(chunk))
                        + ") AS v(id, ts, vals) WHERE d.id = v.id AND (d.last_seen_at IS NULL OR d.last_seen_at < v.ts)",
                        args)


def _save_states(states: list[tuple]) -> None:
    """Upsert (rule id, device id, last ts, since) rows: one multi-row statement per chunk."""
    if not states:
        return
    pg = connection.vendor == "postgresql"
    adapt = _db_time()
    table = RuleState._meta.db_table
    mark = "(%s, %s, %s, %s::jsonb)" if pg else "(%s, %s, %s, %s)"
    with connection.cursor() as cur:
        for i in range(0, len(states), CHUNK):
            chunk = states[i:i + CHUNK]
            args = []
            for rule_id, device_id, last_ts, since in chunk:
                args += [rule_id, device_id, adapt(last_ts), orjson.dumps(since).decode()]
            cur.execute(f"INSERT INTO {table} (rule_id, device_id, last_ts, since) VALUES "  # noqa: S608
                        f"{', '.join([mark] * len(chunk))} ON CONFLICT (rule_id, device_id) DO UPDATE"
                        " SET last_ts = excluded.last_ts, since = excluded.since", args)


def _rows(sql: str, ids: list[int], extra: list | None = None) -> list[tuple]:
    """``sql`` with ``{ids}`` replaced by placeholders for ``ids``, in chunks (SQLite's variable limit)."""
    out = []
    with connection.cursor() as cur:
        for i in range(0, len(ids), CHUNK):
            chunk = ids[i:i + CHUNK]
            cur.execute(sql.format(ids=", ".join(["%s"] * len(chunk))), [*chunk, *(extra or [])])
            out += cur.fetchall()
    return out


def _as_datetime(value) -> datetime:
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def _evaluate(actor, new, devices, book: RuleBook, now) -> tuple[int, int]:
    """Rules over the new readings. Plain SQL for the per-batch reads: the ORM's IN lists of a thousand
    ids cost more than the reads themselves."""
    raised = cleared = 0
    device_ids = list(new)
    open_rows = _rows(f"SELECT id, rule_id, device_id FROM {Alarm._meta.db_table}"  # noqa: S608
                      " WHERE device_id IN ({ids}) AND status IN (%s, %s)", device_ids, list(OPEN_STATUSES))
    no_data = {r.id for r in book.no_data}
    open_alarms = {}
    for alarm_id, rule_id, device_id in open_rows:
        if rule_id in no_data or rule_id not in book.telemetry_ids:  # data again: a no-data alarm clears
            if rule_id in no_data:
                _clear(actor, Alarm(pk=alarm_id, rule_id=rule_id, device_id=device_id), new[device_id][0].ts,
                       {"reason": "data_again"})
                cleared += 1
            continue
        open_alarms[(rule_id, device_id)] = Alarm(pk=alarm_id, rule_id=rule_id, device_id=device_id)
    pairs = [(rule, devices[d]) for d in new for rule in book.for_device(devices[d])]
    if not pairs:
        return raised, cleared
    states = {(r, d): (_as_datetime(ts), orjson.loads(since) if isinstance(since, str | bytes) else since)
              for r, d, ts, since in _rows(f"SELECT rule_id, device_id, last_ts, since FROM {RuleState._meta.db_table}"  # noqa: S608
                                           " WHERE device_id IN ({ids})", device_ids)}
    changed = []
    for rule, device in pairs:
        key = (rule.id, device.id)
        row = states.get(key)
        state = rules.State(last_ts=row[0] if row else None,
                            since=[datetime.fromisoformat(x) if x else None for x in (row[1] if row else [])])
        transitions = rules.step(rule.conditions, rule.match, state,
                                 ((r.ts, r.values) for r in new[device.id]), open_alarm=key in open_alarms)
        for t in transitions:
            if t.raised:
                open_alarms[key] = _raise(actor, rule, device, t.ts, {"values": t.values})
                raised += 1
            else:
                _clear(actor, open_alarms.pop(key), t.ts, {"values": t.values})
                cleared += 1
        if row is None or row[0] != state.last_ts:
            changed.append((rule.id, device.id, state.last_ts, [x.isoformat() if x else None for x in state.since]))
    _save_states(changed)
    return raised, cleared


def _raise(actor, rule, device, ts, details) -> Alarm:
    alarm = Alarm.objects.create(rule=rule, device_id=device.id, department_id=device.department_id, app=rule.app,
                                 severity=rule.severity, raised_at=ts, details=details)
    record(actor=actor, action="iot.alarm.raise", target=alarm,
           changes={"rule": rule.name, "device": device.code, "at": ts.isoformat(), **details})
    return alarm


def _clear(actor, alarm, ts, details) -> None:
    Alarm.objects.filter(pk=alarm.pk).update(status=AlarmStatus.CLEARED, cleared_at=ts)
    record(actor=actor, action="iot.alarm.clear", target=("iot.alarm", alarm.pk),
           changes={"at": ts.isoformat(), "rule": alarm.rule_id, "device": alarm.device_id, **details})


@transaction.atomic
def check_silent_devices(*, actor, now: datetime | None = None) -> int:
    """无数据告警: for every enabled no-data rule, raise an alarm for each matching active device that has
    sent nothing (or nothing since it was provisioned) for ``no_data_minutes``. Safe to run again: a
    device with an open alarm of the rule is skipped. Returns the number raised."""
    require(actor, "iot.manage_rules")
    now = now or timezone.now()

    raised = 0
    for rule in AlarmRule.objects.filter(enabled=True, kind=RuleKind.NO_DATA).select_related("department"):
        cutoff = now - timedelta(minutes=rule.no_data_minutes or 0)
        devices = Device.objects.filter(app=rule.app, active=True,
                                        department__path__startswith=rule.department.path)
        if rule.device_id:
            devices = devices.filter(pk=rule.device_id)
        if rule.device_kind:
            devices = devices.filter(kind=rule.device_kind)
        devices = devices.exclude(alarms__rule=rule, alarms__status__in=OPEN_STATUSES)
        for d in devices.select_related("department"):
            last = d.last_seen_at or d.created_at
            if last > cutoff:
                continue
            info = DeviceInfo(d.id, d.code, d.app, d.kind, d.department_id, d.department.path, d.tags, d.active)
            if not RuleBook.applies(rule, info):
                continue
            _raise(actor, rule, info, now, {"last_seen_at": d.last_seen_at.isoformat() if d.last_seen_at else None,
                                             "minutes": rule.no_data_minutes})
            raised += 1
    return raised


# ---------------------------------------------------------------- rules
RULE_FIELDS = ("name", "kind", "severity", "device_kind", "tag_key", "tag_value", "match", "conditions",
               "no_data_minutes", "escalate_after_minutes", "enabled")


def _clean_rule(data: dict) -> dict:
    if not isinstance(data, dict):
        raise InvalidInput("规则应为JSON对象", code="invalid_rule")
    out = {k: data[k] for k in RULE_FIELDS if k in data}
    name = str(out.get("name") or "").strip()
    if not name or len(name) > 100:
        raise InvalidInput("请填写规则名称（100字以内）", code="invalid_rule")
    out["name"] = name
    kind = out.setdefault("kind", RuleKind.TELEMETRY)
    if kind not in RuleKind.values:
        raise InvalidInput("规则类型应为 telemetry 或 no_data", code="invalid_rule")
    if out.setdefault("severity", Severity.MAJOR) not in Severity.values:
        raise InvalidInput("告警级别无效", code="invalid_rule")
    if out.setdefault("match", "and") not in ("and", "or"):
        raise InvalidInput("条件组合应为 and 或 or", code="invalid_rule")
    if kind == RuleKind.NO_DATA:
        minutes = out.get("no_data_minutes")
        if isinstance(minutes, bool) or not isinstance(minutes, int) or not 1 <= minutes <= 10080:
            raise InvalidInput("无数据分钟数应为 1～10080", code="invalid_rule")
        out["conditions"] = []
    else:
        out["conditions"] = rules.clean_conditions(out.get("conditions"))
        out["no_data_minutes"] = None
    escalate = out.get("escalate_after_minutes")
    if escalate is not None and (isinstance(escalate, bool) or not isinstance(escalate, int)
                                 or not 1 <= escalate <= 10080):
        raise InvalidInput("未确认升级分钟数应为 1～10080（不升级则留空）", code="invalid_rule")
    out["escalate_after_minutes"] = escalate
    for k in ("device_kind", "tag_key", "tag_value"):
        out[k] = str(out.get(k) or "")[:64]
    out["enabled"] = bool(out.get("enabled", True))
    return out


@transaction.atomic
def save_rule(*, actor, department, app: str, data: dict, device: Device | None = None) -> AlarmRule:
    """Create a rule, or replace the one of the same name in the department (its states restart)."""
    require(actor, "iot.manage_rules", department=department)
    fields = _clean_rule(data)
    if device is not None and device.department_id != department.id and not device.department.path.startswith(
            department.path):
        raise InvalidInput("设备不属于本单位", code="device_out_of_scope")
    rule = AlarmRule.objects.select_for_update().filter(department=department, app=app, name=fields["name"]).first()
    created = rule is None
    rule = rule or AlarmRule(department=department, app=app)
    for k, v in fields.items():
        setattr(rule, k, v)
    rule.device = device
    rule.save()
    if not created:
        RuleState.objects.filter(rule=rule).delete()
    record(actor=actor, action="iot.rule.create" if created else "iot.rule.update", target=rule,
           changes={**fields, "device": device.code if device else None})
    return rule


def export_rules(rules_qs) -> list[dict]:
    """Rules as JSON (规则导出): what ``import_rules`` reads back; a device is named by its code."""
    out = []
    for r in rules_qs.select_related("device"):
        item = {k: getattr(r, k) for k in RULE_FIELDS}
        item["device"] = r.device.code if r.device else None
        out.append(item)
    return out


@transaction.atomic
def import_rules(*, actor, department, app: str, data) -> list[AlarmRule]:
    """规则导入: every rule of the list, or none (the first bad one is named)."""
    require(actor, "iot.manage_rules", department=department)
    if not isinstance(data, list) or not data:
        raise InvalidInput("应为规则数组", code="invalid_rules")
    out = []
    for n, item in enumerate(data):
        device = None
        if isinstance(item, dict) and item.get("device"):
            device = Device.objects.filter(code=item["device"], department__path__startswith=department.path).first()
            if device is None:
                raise InvalidInput(f"第 {n + 1} 条规则的设备不存在", code="invalid_rules", detail={"index": n})
        try:
            out.append(save_rule(actor=actor, department=department, app=app, data=item, device=device))
        except InvalidInput as exc:
            raise InvalidInput(f"第 {n + 1} 条规则无效：{exc.message}", code="invalid_rules",
                               detail={"index": n}) from None
    return out


@transaction.atomic
def acknowledge_alarm(*, actor, alarm: Alarm) -> Alarm:
    """确认告警: active → acknowledged (it stays open until the rule stops holding)."""
    require(actor, "iot.handle_alarm", department=alarm.department, hide=True)
    locked = Alarm.objects.select_for_update().get(pk=alarm.pk)
    if locked.status != AlarmStatus.ACTIVE:
        raise Conflict("该告警已确认或已消除", code="alarm_not_active")
    locked.status, locked.acknowledged_at = AlarmStatus.ACKNOWLEDGED, timezone.now()
    locked.acknowledged_by = None if is_system(actor) else actor
    locked.save(update_fields=["status", "acknowledged_at", "acknowledged_by"])
    record(actor=actor, action="iot.alarm.acknowledge", target=locked)
    return locked


@transaction.atomic
def escalate_overdue_alarms(*, actor, now: datetime | None = None) -> int:
    """告警升级: every alarm still active (not acknowledged, not cleared) ``escalate_after_minutes`` after it
    was raised is escalated once — the active department admins of the alarm's department get a message
    through the platform's notification senders, and the alarm records when and to whom. Safe to run
    again (an escalated alarm is skipped; the rows are locked, so two workers do not both notify). Returns
    the number escalated."""
    require(actor, "iot.manage_rules")
    now = now or timezone.now()
    candidates = (Alarm.objects.select_for_update(of=("self",), skip_locked=True)
                  .filter(status=AlarmStatus.ACTIVE, escalated_at__isnull=True, rule__escalate_after_minutes__isnull=False)
                  .select_related("rule", "device", "department").order_by("raised_at"))
    escalated = 0
    for alarm in candidates:
        if alarm.raised_at + timedelta(minutes=alarm.rule.escalate_after_minutes) > now:
            continue
        admins = list(users_for(actor).filter(department_id=alarm.department_id, role=Role.DEPT_ADMIN, is_active=True))
        minutes = alarm.rule.escalate_after_minutes
        for user in admins:
            notify.send(user=user, title=f"告警升级：{alarm.rule.name} · {alarm.device.name}"[:200],
                        body=f"{alarm.get_severity_display()}告警自 {timezone.localtime(alarm.raised_at):%Y-%m-%d %H:%M} "
                             f"起 {minutes} 分钟未确认（设备 {alarm.device.code}），请尽快处置。")
        alarm.escalated_at, alarm.escalated_to = now, [u.username for u in admins]
        alarm.save(update_fields=["escalated_at", "escalated_to"])
        record(actor=actor, action="iot.alarm.escalate", target=alarm,
               changes={"rule": alarm.rule.name, "device": alarm.device.code, "after_minutes": minutes,
                        "notified": alarm.escalated_to})
        escalated += 1
    return escalated


# ---------------------------------------------------------------- retention

RETENTION_MIN_DAYS = 90
EXPIRE_CHUNK = 20_000  # rows a DELETE: short transactions beside the ingest workers


def expire_telemetry(*, actor, today=None) -> dict:
    """Delete telemetry older than ``SMARTGOV_IOT_TELEMETRY_RETENTION_DAYS`` (UTC days). On PostgreSQL the
    table is partitioned by month (migration 0003, docs/adr/0022): whole months before the cutoff go with
    their partitions, the months ahead are created, and only the cutoff month's older rows are deleted —
    in chunks, as everything is on SQLite. Alarms keep their own copy of what raised them. Audited."""
    require(actor, "iot.expire_telemetry")
    days = settings.IOT_TELEMETRY_RETENTION_DAYS
    if days < RETENTION_MIN_DAYS:
        raise InvalidInput(f"遥测数据保留期不得少于{RETENTION_MIN_DAYS}天", code="retention_too_short",
                           detail={"days": days})
    today = today or timezone.now().astimezone(UTC).date()
    cutoff = today - timedelta(days=days)
    cut_dt = datetime(cutoff.year, cutoff.month, cutoff.day, tzinfo=UTC)
    table = Telemetry._meta.db_table
    prepared = partitions.ensure_months(table, ahead=2, today=today)
    old = [m for m in partitions.months(table) if m.end <= cutoff]
    deleted = sum(Telemetry.objects.filter(ts__gte=datetime(m.start.year, m.start.month, 1, tzinfo=UTC),
                                           ts__lt=datetime(m.end.year, m.end.month, 1, tzinfo=UTC)).count()
                  for m in old)
    dropped = partitions.drop_months_before(table, cutoff)
    while True:
        with transaction.atomic():
            ids = list(Telemetry.objects.filter(ts__lt=cut_dt).values_list("id", flat=True)[:EXPIRE_CHUNK])
            if not ids:
                break
            deleted += Telemetry.objects.filter(id__in=ids, ts__lt=cut_dt).delete()[0]
    if deleted or dropped:
        record(actor=actor, action="iot.telemetry.expire",
               changes={"before": cutoff.isoformat(), "rows": deleted, "partitions_dropped": [m.table for m in dropped]})
    return {"cutoff": cutoff.isoformat(), "deleted": deleted, "partitions_dropped": [m.table for m in dropped],
            "partitions_created": prepared}
