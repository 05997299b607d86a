"""Reads of the IoT layer that more than one caller needs (never writes)."""

from datetime import datetime, timedelta

from django.db.models import JSONField, OuterRef, Subquery

from .models import OPEN_STATUSES, Alarm, Device, Telemetry


def broker_accounts() -> list[tuple[str, str]]:
    """(user name, Mosquitto password hash) of every active device."""
    return list(Device.objects.filter(active=True).order_by("code").values_list("code", "secret_hash"))


def broker_devices() -> list[tuple[str, str, dict]]:
    """(user name, app, tags) of every active device, for the broker's ACL file."""
    return list(Device.objects.filter(active=True).order_by("code").values_list("code", "app", "tags"))


def open_alarms(*, app: str, department_path: str | None = None, limit: int = 50):
    qs = Alarm.objects.filter(app=app, status__in=OPEN_STATUSES).select_related("rule", "device")
    if department_path is not None:
        qs = qs.filter(department__path__startswith=department_path)
    return qs.order_by("-raised_at")[:limit]


def history(device: Device, key: str, *, start: datetime, end: datetime, buckets: int = 200) -> list[dict]:
    """A device's readings of ``key`` between ``start`` and ``end`` downsampled for a chart: at most
    ``buckets`` points, each the min/mean/max of the readings in its time slice (降采样)."""
    buckets = max(1, min(buckets, 2000))
    span = (end - start).total_seconds()
    if span <= 0:
        return []
    width = span / buckets
    acc: dict[int, list[float]] = {}
    rows = Telemetry.objects.filter(device=device, ts__gte=start, ts__lt=end).values_list("ts", "data")
    for ts, data in rows.iterator(chunk_size=5000):
        v = data.get(key) if isinstance(data, dict) else None
        if isinstance(v, int | float) and not isinstance(v, bool):
            b = min(int((ts - start).total_seconds() / width), buckets - 1)
            slot = acc.setdefault(b, [v, v, 0.0, 0])
            slot[0], slot[1] = min(slot[0], v), max(slot[1], v)
            slot[2] += v
            slot[3] += 1

    return [{"t": (start + timedelta(seconds=b * width)).isoformat(), "min": s[0], "max": s[1],
             "mean": round(s[2] / s[3], 4), "n": s[3]} for b, s in sorted(acc.items())]


def counter_delta(device_id: int, key: str, *, start: datetime, end: datetime) -> tuple[float, float | None,
                                                                                           float | None]:
    """How much a cumulative counter (an energy meter's ``totalActiveEnergyImport``) rose in [start, end):
    the last reading before ``end`` minus the last one before ``start`` (or, with none, the first in the
    window). Returns (delta, from, to); a counter that went backwards (meter replaced) counts 0."""
    rows = Telemetry.objects.filter(device_id=device_id, data__has_key=key)
    last = rows.filter(ts__lt=end, ts__gte=start).order_by("-ts").values_list("data", flat=True).first()
    if last is None:
        return 0.0, None, None
    before = rows.filter(ts__lt=start).order_by("-ts").values_list("data", flat=True).first()
    if before is None:
        before = rows.filter(ts__gte=start).order_by("ts").values_list("data", flat=True).first()
    a, b = float(before[key]), float(last[key])
    return max(0.0, b - a), a, b


def counter_series(device_ids: list[int], key: str, *, start: datetime, end: datetime,
                   opening: bool = True) -> dict[int, list[tuple[datetime, float]]]:
    """Each device's readings of a cumulative counter in [start, end) in time order, as (time, value); with
    ``opening``, led by the device's last reading before ``start`` (the value the period opens at). One
    query for the window plus one per device for its opening reading."""
    out: dict[int, list[tuple[datetime, float]]] = {d: [] for d in device_ids}
    rows = (Telemetry.objects.filter(device_id__in=device_ids, ts__gte=start, ts__lt=end, data__has_key=key)
            .order_by("device_id", "ts").values_list("device_id", "ts", "data"))
    for device_id, ts, data in rows.iterator(chunk_size=5000):
        v = data.get(key)
        if isinstance(v, int | float) and not isinstance(v, bool):
            out[device_id].append((ts, float(v)))
    if opening:
        for device_id in device_ids:
            row = (Telemetry.objects.filter(device_id=device_id, ts__lt=start, data__has_key=key).order_by("-ts")
                   .values_list("ts", "data").first())
            v = row[1].get(key) if row else None
            if isinstance(v, int | float) and not isinstance(v, bool):
                out[device_id].insert(0, (row[0], float(v)))
    return out


def counter_rises(devices, key: str, bounds: list[datetime]) -> list[float]:
    """How much cumulative counters rose, summed over ``devices`` (a Device queryset), in each interval
    [bounds[i], bounds[i + 1]) — ``counter_delta``'s rule for each device and interval (the last reading in the
    interval minus the last one before it, or the first in it for a counter that starts there; a fall counts 0).
    One query: for each device, its last reading before every bound and its first reading."""
    readings = Telemetry.objects.filter(device=OuterRef("pk"), data__has_key=key)

    def value(data):
        v = data.get(key) if isinstance(data, dict) else None
        return float(v) if isinstance(v, int | float) and not isinstance(v, bool) else None

    rows = devices.annotate(
        first_ts=Subquery(readings.order_by("ts").values("ts")[:1]),
        first=Subquery(readings.order_by("ts").values("data")[:1], output_field=JSONField()),
        **{f"before_{i}": Subquery(readings.filter(ts__lt=b).order_by("-ts").values("data")[:1], output_field=JSONField())
           for i, b in enumerate(bounds)}).values("first_ts", "first", *(f"before_{i}" for i in range(len(bounds))))
    totals = [0.0] * (len(bounds) - 1)
    for row in rows:
        last = [value(row[f"before_{i}"]) for i in range(len(bounds))]
        for i in range(len(bounds) - 1):
            start = last[i]
            if start is None and row["first_ts"] is not None and bounds[i] <= row["first_ts"] < bounds[i + 1]:
                start = value(row["first"])
            if start is not None and last[i + 1] is not None:
                totals[i] += max(0.0, last[i + 1] - start)
    return totals
