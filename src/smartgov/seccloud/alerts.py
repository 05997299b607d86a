"""From rule hits to alerts, correlation windows and incidents (告警 → 安全事件处置单)."""

from collections import defaultdict
from datetime import timedelta

from django.db import connection, transaction
from django.db.models import Case, Count, F, Value, When

from smartgov.accounts.selectors import users_for
from smartgov.core.permissions import Role, system_actor
from smartgov.onestop import notify

from . import detection, normalize
from .models import Alert, Incident, IncidentEntry, Rule, Signal, Source

MAX_EVENTS_PER_ALERT = 1000
SEVERITY_ORDER = {lvl: i for i, lvl in enumerate(detection.LEVELS)}


def _label(ev: dict) -> str:
    return ev.get("src_ip") or ev.get("user") or ev.get("host") or "-"


def raise_alerts(*, actor, pack: detection.RulePack, hits: list, source: Source) -> list[Alert]:
    """Alerts for standalone detections; signals (and, past their threshold, alerts) for correlations."""
    made: list[Alert] = []
    signals = []
    touched: dict[tuple[int, str], tuple] = {}
    rule_hits: dict[int, int] = defaultdict(int)
    # one alert per rule and subject within a batch (a scanner's 500 probes are one alert, not 500)
    standalone: dict[tuple[int, str], Alert] = {}
    for d, seq, ev in hits:
        rule_hits[d.pk] += 1
        if d.rule_id in pack.alerting:
            label = _label(ev)[:255]
            alert = standalone.get((d.pk, label))
            if alert is None:
                standalone[(d.pk, label)] = Alert(
                    rule_id=d.pk, at=ev["at"], severity=d.level, tags=d.tags, group_key=label,
                    summary=f"{d.title}: {label}"[:255], event_seqs=[seq], department_id=source.department_id)
            elif len(alert.event_seqs) < MAX_EVENTS_PER_ALERT:
                alert.event_seqs.append(seq)
        corrs = pack.by_ref.get(d.rule_id)
        if corrs:
            fl = normalize.flat(ev)
            for corr in corrs:
                key = detection.group_key(corr, fl)[:255]
                signals.append((corr.pk, key, ev["at"], seq))
                first = touched.get((corr.pk, key))
                touched[(corr.pk, key)] = (corr, min(first[1], ev["at"]) if first else ev["at"])
    made.extend(standalone.values())
    if signals:
        _insert_signals(signals)
        by_rule: dict[int, dict[str, object]] = defaultdict(dict)
        for (corr_pk, key), (_corr, first_at) in touched.items():
            by_rule[corr_pk][key] = first_at
        for corr_pk, groups in by_rule.items():
            corr = touched[(corr_pk, next(iter(groups)))][0]
            made.extend(_correlate(corr, groups, source))
    if rule_hits:  # one UPDATE for every rule the batch hit
        Rule.objects.filter(pk__in=rule_hits).update(
            hits=F("hits") + Case(*[When(pk=pk, then=Value(n)) for pk, n in rule_hits.items()], default=Value(0)))
    if made:
        group_into_incidents(actor=actor, alerts=made)
        Alert.objects.bulk_create(made)
    return made


def _insert_signals(signals: list[tuple]) -> None:
    """(rule pk, group key, at, event seq) rows in one executemany: a batch can carry thousands (every
    failed sign-in, every 4xx) and model instances cost more than the rows."""
    adapt = connection.ops.adapt_datetimefield_value
    stamps = {}
    rows = []
    for rule_pk, key, at, seq in signals:
        a = stamps.get(at)
        if a is None:
            a = stamps[at] = adapt(at)
        rows.append((rule_pk, key, a, seq))
    with connection.cursor() as cur:
        cur.executemany(f"INSERT INTO {Signal._meta.db_table} (rule_id, group_key, at, event_seq) "  # noqa: S608
                        "VALUES (%s, %s, %s, %s)", rows)


def _correlate(corr: detection.Compiled, groups: dict, source: Source) -> list[Alert]:
    """Slide the correlation window over each touched group's signals: an alert whenever the number
    of signals in (t − timespan, t] since the group's last alert meets the condition. One query reads
    every signal that can share a window with this batch's (from its earliest − timespan on)."""
    span = timedelta(seconds=corr.timespan_s)
    since = min(groups.values()) - span
    keys = list(groups)
    need = corr.count + (1 if corr.op == "gt" else 0)
    # first count per group in the database: most groups (a new address's single failure) cannot reach
    # the threshold, and reading their rows cost more than the rest of the batch on PostgreSQL
    candidates = []
    for i in range(0, len(keys), 500):
        candidates.extend(Signal.objects.filter(rule_id=corr.pk, group_key__in=keys[i:i + 500], at__gt=since)
                          .values("group_key").annotate(n=Count("id")).filter(n__gte=need)
                          .values_list("group_key", flat=True))
    if not candidates:
        return []
    by_group: dict[str, list] = defaultdict(list)
    for i in range(0, len(candidates), 500):
        for key, at, seq in (Signal.objects.filter(rule_id=corr.pk, group_key__in=candidates[i:i + 500],
                                                   at__gt=since)
                             .order_by("at", "id").values_list("group_key", "at", "event_seq")):
            by_group[key].append((at, seq))
    last: dict[str, tuple] = {}
    for key, at, seqs in (Alert.objects.filter(rule_id=corr.pk, group_key__in=candidates, at__gt=since)
                          .order_by("at").values_list("group_key", "at", "event_seqs")):
        last[key] = (at, set(seqs))
    out = []
    for key in candidates:
        last_at, seen = last.get(key, (None, set()))
        window: list[tuple] = []
        for at, seq in by_group[key]:
            if last_at is not None and (at < last_at or (at == last_at and seq in seen)):
                continue
            window.append((at, seq))
            while window and window[0][0] <= at - span:
                window.pop(0)
            if detection.threshold_met(corr, len(window)):
                out.append(Alert(rule_id=corr.pk, at=at, severity=corr.level, tags=corr.tags, group_key=key,
                                 summary=f"{corr.title}: {key} ({len(window)} 次 / {corr.timespan_s} 秒)"[:255],
                                 event_seqs=[s for _, s in window], department_id=source.department_id))
                last_at, seen, window = at, {s for _, s in window}, []
    return out


def group_into_incidents(*, actor, alerts: list[Alert]) -> None:
    """Set each alert's incident: the open incident of the same rule, group and department (newest
    first), or a new one; severity raised to the highest alert; a timeline entry per alert. A batch's
    alerts are grouped with a handful of queries, not four per alert."""
    def key_of(a):
        return f"{a.rule_id}|{a.group_key}"[:300], a.department_id

    keys = {key_of(a) for a in alerts}
    found: dict[tuple, Incident] = {}
    for incident in (Incident.objects.select_for_update()
                     .filter(group_key__in={k for k, _ in keys}, department_id__in={d for _, d in keys})
                     .exclude(status=Incident.Status.CLOSED).order_by("created_at", "id")):
        found[(incident.group_key, incident.department_id)] = incident  # the newest wins, as .first() did
    created: dict[tuple, Incident] = {}
    raised: dict[int, Incident] = {}
    for a in alerts:
        k = key_of(a)
        incident = found.get(k) or created.get(k)
        if incident is None:
            incident = created[k] = Incident(title=a.summary, severity=a.severity, group_key=k[0],
                                             department_id=a.department_id)
        elif SEVERITY_ORDER.get(a.severity, 0) > SEVERITY_ORDER.get(incident.severity, 0):
            incident.severity = a.severity
            if incident.pk is not None:
                raised[incident.pk] = incident
        a.incident = incident
    if created:
        Incident.objects.bulk_create(list(created.values()))
    for incident in raised.values():
        incident.save(update_fields=["severity", "updated_at"])
    entries = []
    new = {c.pk for c in created.values()}
    for a in alerts:
        if a.incident.pk in new:  # its first alert: the timeline opens with "created"
            new.discard(a.incident.pk)
            entries.append(IncidentEntry(incident=a.incident, actor=str(actor), kind="created", text=a.summary))
        entries.append(IncidentEntry(incident=a.incident, actor=str(actor), kind="alert", text=a.summary))
    IncidentEntry.objects.bulk_create(entries)
    for incident in created.values():
        transaction.on_commit(lambda pk=incident.pk: notify_incident(pk))


def notify_incident(incident_pk: int) -> None:
    """Tell the security administrators through the platform's notification senders (inbox + any
    configured SMS/e-mail gateway). A failing sender never undoes the incident."""
    incident = Incident.objects.filter(pk=incident_pk).first()
    if incident is None:
        return
    for user in users_for(system_actor("seccloud.notify")).filter(role=Role.SECADMIN, is_active=True):
        notify.send(user=user, title=f"安全事件：{incident.title}"[:200],
                    body=f"严重级别 {incident.severity}，请在安全云处置。")
