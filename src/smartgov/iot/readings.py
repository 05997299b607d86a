"""Telemetry as it arrives: topic ``<prefix>/iot/<device code>/telemetry``, payload
``{"ts": <ISO 8601 or Unix seconds>, "values": {"activePower": 12.5, ...}}`` (orjson). Parsers raise
ValueError with a Chinese sentence; the worker rejects that message alone."""

import math
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings

from smartgov.core.errors import NotFound

from .models import Device

MAX_KEYS = 64


@dataclass(frozen=True)
class DeviceInfo:
    id: int
    code: str
    app: str
    kind: str
    department_id: int
    department_path: str
    tags: dict
    active: bool


@dataclass
class Reading:
    device: DeviceInfo
    ts: datetime
    values: dict


class DeviceDirectory:
    """Devices by code; the worker keeps one and reloads a code it does not know."""

    def __init__(self):
        self._by_code: dict[str, DeviceInfo] = {}

    def _load(self, codes) -> None:
        for row in Device.objects.filter(code__in=list(codes)).values_list(
                "id", "code", "app", "kind", "department_id", "department__path", "tags", "active"):
            info = DeviceInfo(*row)
            self._by_code[info.code] = info

    def preload(self, codes) -> None:
        missing = {c for c in codes if c not in self._by_code}
        if missing:
            self._load(missing)

    def by_code(self, code: str) -> DeviceInfo:
        if code not in self._by_code:
            self._load([code])
        info = self._by_code.get(code)
        if info is None or not info.active:
            raise NotFound("没有这个设备或设备已停用", code="device_not_found", detail={"device": code})
        return info


def telemetry_topic(prefix: str, device_code: str) -> str:
    return f"{prefix}/iot/{device_code}/telemetry" if prefix else f"iot/{device_code}/telemetry"


def parse_topic(topic: str, prefix: str) -> str:
    """``<prefix>/iot/<device>/telemetry`` → the device code."""
    parts = topic.split("/")
    head = prefix.split("/") if prefix else []
    if len(parts) != len(head) + 3 or parts[:len(head)] != head or parts[len(head)] != "iot" \
            or parts[-1] != "telemetry" or not parts[-2]:
        raise ValueError(f"主题 {topic} 不是 <前缀>/iot/<设备编码>/telemetry")
    return parts[-2]


def time_window() -> tuple[datetime, datetime]:
    """The times a message may carry now: SMARTGOV_IOT_MAX_AGE_DAYS back, SMARTGOV_IOT_MAX_FUTURE_SECONDS
    ahead (a device whose clock was never set, or drifts). Read once per batch: settings are a lazy object,
    and reading them per message cost a quarter of the worker's time."""
    now = datetime.now(UTC)
    return (now - timedelta(days=settings.IOT_MAX_AGE_DAYS), now + timedelta(seconds=settings.IOT_MAX_FUTURE_SECONDS))


def parse_ts(value, window: tuple[datetime, datetime] | None = None) -> datetime:
    dt = None
    if isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value):
        if 0 <= value <= 253_402_300_799:
            dt = datetime.fromtimestamp(value, UTC)
    elif isinstance(value, str) and value.strip():
        try:
            dt = datetime.fromisoformat(value.strip())
        except ValueError:
            dt = None
        if dt is not None and dt.tzinfo is None:
            dt = dt.replace(tzinfo=ZoneInfo(settings.TIME_ZONE))
    if dt is None:
        raise ValueError("ts 应为ISO 8601时间或Unix秒")
    earliest, latest = window or time_window()
    if not earliest <= dt <= latest:
        raise ValueError(f"ts {dt.isoformat()} 不在允许范围内（设备时钟未校准？）")
    return dt


def reading_from_dict(data, device: DeviceInfo, window: tuple[datetime, datetime] | None = None) -> Reading:
    if not isinstance(data, dict):
        raise ValueError("消息应为JSON对象")
    values = data.get("values")
    if not isinstance(values, dict) or not values:
        raise ValueError("values 应为非空对象")
    if len(values) > MAX_KEYS:
        raise ValueError(f"values 最多 {MAX_KEYS} 项")
    clean = {}
    for k, v in values.items():
        if not isinstance(k, str) or not 0 < len(k) <= 64:
            raise ValueError("读数名无效")
        if isinstance(v, bool) or not isinstance(v, int | float) or not math.isfinite(v):
            raise ValueError(f"读数 {k} 应为有限数值")
        clean[k] = v
    return Reading(device=device, ts=parse_ts(data.get("ts"), window), values=clean)
