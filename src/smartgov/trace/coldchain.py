"""冷链: temperature readings (EPCIS sensorElementList or a CSV/JSON upload), excursion rules per product
and the alerts they raise; doses that sat in an excursion are put "in question" until a regulator
releases them (Vaccine Administration Law art. 39–40).

This module parses readings and finds excursions; it writes nothing. Storing readings, raising alerts,
acknowledging them and releasing doses are services (``services.record_readings``, …).

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

from smartgov.core.errors import InvalidInput

from .epcis.hashing import parse_time
from .models import Logger, Product

MAX_GAP = datetime.timedelta(minutes=60)
CUMULATIVE_WINDOW = datetime.timedelta(days=7)
MAX_UPLOAD_ROWS = 200_000


def parse_upload(data: bytes, content_type: str) -> list[dict]:
    """Rows ``{time, celsius[, latitude, longitude]}`` from a JSON array or a CSV with a header line."""
    rows = []
    try:
        if "json" in content_type or data.lstrip()[:1] in (b"[", b"{"):
            items = orjson.loads(data)
            if isinstance(items, dict):
                items = items.get("readings", [])
            if not isinstance(items, list):  # a number, a string, null: not readings (found by hypothesis)
                raise InvalidInput("温度数据应为CSV（time,celsius[,latitude,longitude]）或JSON数组",
                                   code="invalid_readings")
            for i, item in enumerate(items):
                rows.append(_row(i, item))
        else:
            reader = csv.DictReader(io.StringIO(data.decode("utf-8-sig"), newline=""))
            for i, item in enumerate(reader):
                rows.append(_row(i, item))
    except (orjson.JSONDecodeError, UnicodeDecodeError, csv.Error) as exc:
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


def rules_for(logger: Logger) -> Product:
    return logger.product or Product(storage_min=2.0, storage_max=8.0)


def excursion_runs(spans, beyond, kind, min_minutes, message):
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
