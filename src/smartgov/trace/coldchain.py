"""冷链: temperature readings (EPCIS sensorElementList or a CSV/JSON upload), excursion rules per product
and the alerts they raise; doses that sat in an excursion are put "in question" until a regulator
releases them (Vaccine Administration Law art. 39–40).

Rules (per product, default 2–8 °C):
- instant (瞬时): any reading outside [storage_min, storage_max];
- consecutive (连续): readings above ``consecutive_above`` for at least ``consecutive_minutes`` in a row;
- cumulative (累计): readings at or above ``cumulative_above`` for at least ``cumulative_minutes`` in
  total over the last 7 days.
A reading counts for the time until the next reading, at most 60 minutes.
"""

import csv
import datetime
import io

import orjson
from django.db import connection, transaction
from django.utils import timezone

from smartgov.audit.services import record
from smartgov.core.errors import Conflict, Forbidden, InvalidInput, NotFound
from smartgov.core.permissions import require

from .epcis.hashing import parse_time
from .models import FLAG_IN_QUESTION, Alert, AlertKind, Logger, Position, Product, Reading

MAX_GAP = datetime.timedelta(minutes=60)
CUMULATIVE_WINDOW = datetime.timedelta(days=7)
MAX_UPLOAD_ROWS = 200_000


def get_logger(logger_id: int) -> Logger:
    logger = Logger.objects.select_related("organisation__department", "product").filter(pk=logger_id).first()
    if logger is None:
        raise NotFound("没有该温度记录仪", code="logger_not_found")
    return logger


def get_alert(alert_id: int) -> Alert:
    alert = Alert.objects.select_related("organisation__department", "logger").filter(pk=alert_id).first()
    if alert is None:
        raise NotFound("没有该告警", code="alert_not_found")
    return alert


def parse_upload(data: bytes, content_type: str) -> list[dict]:
    """Rows ``{time, celsius[, latitude, longitude]}`` from a JSON array or a CSV with a header line."""
    rows = []
    try:
        if "json" in content_type or data.lstrip()[:1] in (b"[", b"{"):
            items = orjson.loads(data)
            if isinstance(items, dict):
                items = items.get("readings", [])
            for i, item in enumerate(items):
                rows.append(_row(i, item))
        else:
            reader = csv.DictReader(io.StringIO(data.decode("utf-8-sig")))
            for i, item in enumerate(reader):
                rows.append(_row(i, item))
    except (orjson.JSONDecodeError, UnicodeDecodeError) as exc:
        raise InvalidInput("温度数据应为CSV（time,celsius[,latitude,longitude]）或JSON数组", code="invalid_readings",
                           detail=str(exc)) from None
    if not rows:
        raise InvalidInput("没有温度数据", code="no_readings")
    if len(rows) > MAX_UPLOAD_ROWS:
        raise InvalidInput(f"一次最多上传{MAX_UPLOAD_ROWS}条", code="too_many_readings")
    return rows


def _row(i: int, item) -> dict:
    if not isinstance(item, dict):
        raise InvalidInput(f"第{i + 1}条不是对象", code="invalid_readings", detail={"row": i + 1})
    try:
        when = parse_time(str(item["time"]))
        celsius = float(item.get("celsius", item.get("temperature")))
        lat = item.get("latitude") or item.get("lat")
        lng = item.get("longitude") or item.get("lng")
        lat = float(lat) if lat not in (None, "") else None
        lng = float(lng) if lng not in (None, "") else None
    except (KeyError, TypeError, ValueError):
        raise InvalidInput(f"第{i + 1}条温度数据无效（需要带时区的time和数值celsius）", code="invalid_readings",
                           detail={"row": i + 1}) from None
    if not -80 <= celsius <= 80:
        raise InvalidInput(f"第{i + 1}条温度超出量程", code="invalid_readings", detail={"row": i + 1})
    if lat is not None and not (-90 <= lat <= 90 and -180 <= (lng or 0) <= 180):
        raise InvalidInput(f"第{i + 1}条坐标无效", code="invalid_readings", detail={"row": i + 1})
    return {"time": when, "celsius": celsius, "latitude": lat, "longitude": lng}


def upload_readings(*, actor, organisation, logger: Logger, data: bytes, content_type: str = "") -> dict:
    """Store uploaded readings (and GNSS positions) of a logger, then evaluate its excursion rules."""
    if organisation is not None:
        if organisation.pk != logger.organisation_id:
            raise Forbidden("只能上传本单位记录仪的数据", code="logger_out_of_scope")
    else:
        require(actor, "trace.capture", department=logger.organisation.department, include_descendants=True)
    rows = parse_upload(data, content_type)
    return record_readings(actor=actor, logger=logger, rows=rows, source="upload")


@transaction.atomic
def record_readings(*, actor, logger: Logger, rows: list[dict], source: str) -> dict:
    before = Reading.objects.filter(logger=logger).count()
    Reading.objects.bulk_create([Reading(logger=logger, time=r["time"], celsius=r["celsius"]) for r in rows],
                                batch_size=5000, ignore_conflicts=True)
    positions = [Position(logger=logger, time=r["time"], latitude=r["latitude"], longitude=r["longitude"])
                 for r in rows if r.get("latitude") is not None]
    if positions:
        Position.objects.bulk_create(positions, batch_size=5000, ignore_conflicts=True)
    stored = Reading.objects.filter(logger=logger).count() - before
    start = min(r["time"] for r in rows)
    end = max(r["time"] for r in rows)
    alerts = evaluate_excursions(logger=logger, start=start, end=end)
    record(actor=actor, action="trace.readings.record", target=logger,
           changes={"source": source, "rows": len(rows), "stored": stored, "positions": len(positions),
                    "alerts": [a.pk for a in alerts]})
    return {"rows": len(rows), "stored": stored, "positions": len(positions), "alerts": [a.pk for a in alerts]}


def _rules(logger: Logger) -> Product:
    return logger.product or Product(storage_min=2.0, storage_max=8.0)


def evaluate_excursions(*, logger: Logger, start, end) -> list[Alert]:
    """Apply the product's rules to the logger's readings around [start, end]; new alerts only."""
    p = _rules(logger)
    window_start = start - max(CUMULATIVE_WINDOW, datetime.timedelta(minutes=p.consecutive_minutes))
    readings = list(Reading.objects.filter(logger=logger, time__gte=window_start, time__lte=end + MAX_GAP)
                    .order_by("time").values_list("time", "celsius"))
    if not readings:
        return []
    spans = []  # (time, celsius, minutes it stands for)
    for i, (t, c) in enumerate(readings):
        nxt = readings[i + 1][0] if i + 1 < len(readings) else t + datetime.timedelta(minutes=1)
        spans.append((t, c, min(nxt - t, MAX_GAP).total_seconds() / 60))
    found = []
    # instant and consecutive: runs of readings beyond a threshold
    found += _runs(spans, lambda c: c < p.storage_min or c > p.storage_max, AlertKind.INSTANT, 0,
                   f"温度超出{p.storage_min:g}–{p.storage_max:g}℃")
    found += _runs(spans, lambda c: c > p.consecutive_above, AlertKind.CONSECUTIVE, p.consecutive_minutes,
                   f"连续{p.consecutive_minutes}分钟高于{p.consecutive_above:g}℃")
    # cumulative over the window ending at the last reading
    total, first, peak = 0.0, None, None
    for t, c, minutes in spans:
        if t >= end - CUMULATIVE_WINDOW and c >= p.cumulative_above:
            total += minutes
            first = first or t
            peak = c if peak is None else max(peak, c)
            if total >= p.cumulative_minutes:
                found.append((AlertKind.CUMULATIVE, first, t, peak, int(total),
                              f"7日内累计{int(total)}分钟不低于{p.cumulative_above:g}℃"))
                break
    alerts = []
    for kind, s, e, peak, minutes, message in found:
        if s < start - datetime.timedelta(minutes=p.consecutive_minutes) and kind != AlertKind.CUMULATIVE:
            continue
        if Alert.objects.filter(logger=logger, kind=kind, started_at=s).exists():
            continue
        if kind == AlertKind.CUMULATIVE and Alert.objects.filter(
                logger=logger, kind=kind, started_at__gte=end - CUMULATIVE_WINDOW).exists():
            continue
        alert = Alert.objects.create(kind=kind, logger=logger, organisation=logger.organisation, started_at=s,
                                     ended_at=e, peak_celsius=peak, minutes=minutes,
                                     message=f"{logger.name}：{message}（峰值{peak:g}℃）")
        alert.doses_in_question = question_doses(alert)
        alert.save(update_fields=["doses_in_question"])
        alerts.append(alert)
    return alerts


def _runs(spans, beyond, kind, min_minutes, message):
    out = []
    run_start, run_minutes, peak, last = None, 0.0, None, None
    for t, c, minutes in [*spans, (None, None, 0)]:
        if t is not None and beyond(c):
            run_start = run_start or t
            run_minutes += minutes
            peak = c if peak is None else (max(peak, c) if c > 0 else min(peak, c))
            last = t
            continue
        if run_start is not None and run_minutes >= min_minutes:
            out.append((kind, run_start, last, peak, int(run_minutes), message))
        run_start, run_minutes, peak = None, 0.0, None
    return out


QUESTION_SQL = """
INSERT INTO trace_questionedcode (alert_id, epc)
WITH RECURSIVE here(epc) AS (
    SELECT epc FROM trace_codestate
    WHERE (biz_location = %(place)s OR read_point = %(place)s) AND (flags & 4) = 0
      AND (container IS NULL OR container = '')
  UNION
    SELECT c.epc FROM trace_codestate c JOIN here h ON c.container = h.epc
)
SELECT %(alert)s, epc FROM here
"""


def question_doses(alert: Alert) -> int:
    """Put every code at the logger's place (and everything packed inside those codes) in question."""
    with connection.cursor() as cur:
        cur.execute(QUESTION_SQL, {"place": alert.logger.location_uri, "alert": alert.pk})
        cur.execute(f"UPDATE trace_codestate SET flags = flags | {FLAG_IN_QUESTION} "  # noqa: S608 (constant)
                    "WHERE epc IN (SELECT epc FROM trace_questionedcode WHERE alert_id = %s)", [alert.pk])
        return cur.rowcount


@transaction.atomic
def acknowledge_alert(*, actor, alert: Alert, comment: str) -> Alert:
    require(actor, "trace.acknowledge_alert", department=alert.organisation.department, hide=True)
    comment = (comment or "").strip()
    if len(comment) < 2:
        raise InvalidInput("确认告警须填写处置说明", code="comment_required")
    if alert.acknowledged_at:
        raise Conflict("该告警已确认", code="alert_acknowledged")
    alert.acknowledged_at, alert.acknowledged_by, alert.comment = timezone.now(), actor, comment
    alert.save(update_fields=["acknowledged_at", "acknowledged_by", "comment", "updated_at"])
    record(actor=actor, action="trace.alert.acknowledge", target=alert, changes={"comment": comment})
    return alert


@transaction.atomic
def release_doses(*, actor, alert: Alert, comment: str) -> int:
    """After assessment (评估) a regulator releases the doses an alert put in question."""
    require(actor, "trace.release_doses", department=alert.organisation.department, hide=True)
    if not alert.acknowledged_at:
        raise Conflict("请先确认告警再放行", code="alert_not_acknowledged")
    if alert.released_at:
        raise Conflict("该告警涉及的剂次已放行", code="already_released")
    with connection.cursor() as cur:
        # a code stays in question while another unreleased alert still holds it
        cur.execute(f"""UPDATE trace_codestate SET flags = flags & ~{FLAG_IN_QUESTION}
                        WHERE epc IN (SELECT q.epc FROM trace_questionedcode q WHERE q.alert_id = %s)
                          AND NOT EXISTS (SELECT 1 FROM trace_questionedcode q2 JOIN trace_alert a ON a.id = q2.alert_id
                                          WHERE q2.epc = trace_codestate.epc AND a.id <> %s
                                            AND a.released_at IS NULL)""",  # noqa: S608 (constant)
                    [alert.pk, alert.pk])
        released = cur.rowcount
    alert.released_at = timezone.now()
    alert.save(update_fields=["released_at", "updated_at"])
    record(actor=actor, action="trace.alert.release", target=alert, changes={"released": released,
                                                                             "comment": comment})
    return released


def readings_from_sensor_elements(event: dict) -> list[tuple[str, dict]]:
    """(device or place, row) for each temperature report of an event's sensorElementList."""
    out = []
    place = (event.get("readPoint") or {}).get("id", "")
    for element in event.get("sensorElementList") or ():
        meta = element.get("sensorMetadata") or {}
        for report in element.get("sensorReport") or ():
            kind = str(report.get("type", ""))
            if not kind.endswith("Temperature") or "value" not in report:
                continue
            uom = report.get("uom", "CEL")
            value = float(report["value"])
            if uom == "FAR":
                value = (value - 32) * 5 / 9
            elif uom == "KEL":
                value -= 273.15
            when = report.get("time") or meta.get("time") or event.get("eventTime")
            device = report.get("deviceID") or meta.get("deviceID") or ""
            out.append((device or place, {"time": parse_time(when), "celsius": value, "latitude": None,
                                          "longitude": None}))
    return out
