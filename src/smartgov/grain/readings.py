"""Parsing and validating grain-condition readings (粮情数据) from the three ways they arrive:
an MQTT message or an HTTP batch (JSON, parsed with orjson) and a vendor's CSV export.

Every parser produces ``ScanIn`` records, or raises ``InvalidInput`` naming the bad record — nothing is
stored from a batch with a bad record (HTTP, CSV); the MQTT worker drops (and logs) a bad message alone.
"""

import csv
import io
import math
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import numpy as np
import orjson
from django.conf import settings

from smartgov.core.errors import InvalidInput, NotFound
from smartgov.core.permissions import covers_path

from .models import Lot, Warehouse

OPTIONAL_FLOATS = {  # field → (min, max): physically possible values
    "air_temp": (-50.0, 70.0), "out_temp": (-50.0, 60.0), "air_rh": (0.0, 100.0), "out_rh": (0.0, 100.0),
    "o2": (0.0, 25.0), "co2": (0.0, 200000.0), "ph3": (0.0, 5000.0), "moisture": (3.0, 40.0),
}
MAX_BATCH = 5000


@dataclass(frozen=True)
class WarehouseInfo:
    id: int
    depot_id: int
    department_id: int
    department_path: str
    depot_code: str
    code: str
    rows: int
    cols: int
    layers: int
    variety: str | None
    lot_moisture: float | None

    @property
    def points(self) -> int:
        return self.rows * self.cols * self.layers


@dataclass
class ScanIn:
    warehouse: WarehouseInfo
    taken_at: datetime
    temps: np.ndarray  # float32, NaN = no reading
    air_temp: float | None = None
    air_rh: float | None = None
    out_temp: float | None = None
    out_rh: float | None = None
    o2: float | None = None
    co2: float | None = None
    ph3: float | None = None
    moisture: float | None = None


class WarehouseDirectory:
    """Warehouses by id and by (depot code, warehouse code), with the active lot's variety and moisture.
    The MQTT worker keeps one for its lifetime and reloads on a miss. A warehouse outside ``actor``'s
    departments is answered exactly like one that does not exist (no probing of IDs); the system sees all."""

    def __init__(self, *, actor):
        self._by_id: dict[int, WarehouseInfo] = {}
        self._by_code: dict[tuple[str, str], WarehouseInfo] = {}
        self.actor = actor

    def _visible(self, info: WarehouseInfo | None) -> WarehouseInfo | None:
        return info if info is not None and covers_path(self.actor, info.department_path) else None

    def _load(self, **filters) -> None:
        rows = Warehouse.objects.filter(**filters).values_list(
            "id", "depot_id", "depot__department_id", "depot__department__path", "depot__code", "code",
            "rows", "cols", "layers")
        lots = {}
        ids = [r[0] for r in rows]
        for wid, variety, moisture in Lot.objects.filter(warehouse_id__in=ids, active=True).order_by(
                "storage_start").values_list("warehouse_id", "variety", "moisture"):
            lots[wid] = (variety, moisture)
        for r in rows:
            info = WarehouseInfo(*r, *lots.get(r[0], (None, None)))
            self._by_id[info.id] = info
            self._by_code[(info.depot_code, info.code)] = info

    def by_id(self, warehouse_id: int) -> WarehouseInfo:
        if warehouse_id not in self._by_id:
            self._load(id=warehouse_id)
        info = self._visible(self._by_id.get(warehouse_id))
        if info is None:
            raise NotFound("没有这个仓房", code="warehouse_not_found", detail={"warehouse": warehouse_id})
        return info

    def preload(self, pairs) -> None:
        """Load, in one query, every warehouse of the depots named in ``pairs`` that is not known yet."""
        depots = sorted({d for d, c in pairs if (d, c) not in self._by_code})
        if depots:
            self._load(depot__code__in=depots)

    def by_code(self, depot_code: str, code: str) -> WarehouseInfo:
        key = (depot_code, code)
        if key not in self._by_code:
            self._load(depot__code=depot_code, code=code)
        info = self._visible(self._by_code.get(key))
        if info is None:
            raise NotFound("没有这个仓房", code="warehouse_not_found", detail={"depot": depot_code, "warehouse": code})
        return info


def _tz():
    return ZoneInfo(settings.TIME_ZONE)


def parse_time(value) -> datetime:
    """ISO 8601 (an offset, or local time of the installation when none) or Unix seconds, within the
    accepted window around the server clock (see :func:`check_scan_time`)."""
    dt = None
    if isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value):
        if not -62_135_596_800 <= value <= 253_402_300_799:  # years 1..9999: beyond, fromtimestamp overflows
            raise ValueError("检测时间超出可能范围")
        dt = datetime.fromtimestamp(value, UTC)
    elif isinstance(value, str) and value.strip():
        text = value.strip().replace("/", "-")
        try:
            dt = datetime.fromisoformat(text)
        except ValueError:
            pass
        else:
            dt = dt if dt.tzinfo else dt.replace(tzinfo=_tz())
    if dt is None:
        raise ValueError("检测时间应为ISO 8601时间或Unix秒")
    return check_scan_time(dt)


def check_scan_time(dt: datetime) -> datetime:
    """A scan's time must lie in a window around the server clock: at most GRAIN_SCAN_MAX_FUTURE_SECONDS
    ahead (clock drift of the measuring system) and GRAIN_SCAN_MAX_AGE_DAYS back (late uploads). A scan
    dated 2099 would otherwise become the warehouse's "latest" and hide the real one; one dated 1970 is a
    device whose clock was never set."""
    now = datetime.now(UTC)
    try:
        earliest = now - timedelta(days=settings.GRAIN_SCAN_MAX_AGE_DAYS)
    except OverflowError:
        earliest = datetime.min.replace(tzinfo=UTC)
    latest = now + timedelta(seconds=settings.GRAIN_SCAN_MAX_FUTURE_SECONDS)
    try:
        in_window = earliest <= dt <= latest
    except OverflowError:  # an aware time near year 1 or 9999 cannot be compared after conversion
        in_window = False
    if not in_window:
        raise ValueError(f"检测时间 {dt.isoformat()} 不在允许范围内（不早于 {settings.GRAIN_SCAN_MAX_AGE_DAYS} 天前，"
                         f"不晚于服务器时间 {settings.GRAIN_SCAN_MAX_FUTURE_SECONDS} 秒后）")
    return dt


def _float(value, lo, hi, name) -> float | None:
    if value is None or value == "":
        return None
    try:
        f = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"{name} 应为数值") from None
    if isinstance(value, bool) or not math.isfinite(f) or not lo <= f <= hi:
        raise ValueError(f"{name} 超出可能范围（{lo:g}～{hi:g}）")
    return f


def scan_from_dict(data, info: WarehouseInfo) -> ScanIn:
    """One scan from a decoded JSON object: ``{"taken_at", "temps": [...], "air_temp", ...}``.

    ``temps`` lists every point of the grid in index order (layer 1 first); ``null`` marks a point
    with no reading. Raises ValueError with a Chinese sentence."""
    if not isinstance(data, dict):
        raise ValueError("每次检测应为JSON对象")
    taken_at = parse_time(data.get("taken_at"))
    temps = data.get("temps")
    if not isinstance(temps, list):
        raise ValueError("temps 应为各测温点温度的数组")
    if len(temps) != info.points:
        raise ValueError(f"temps 应有 {info.points} 个点（{info.rows}行×{info.cols}列×{info.layers}层），"
                         f"实际 {len(temps)} 个")
    arr = np.array(temps)
    if arr.dtype.kind in "fi" and arr.ndim == 1:  # the common case: every point has a number
        with np.errstate(over="ignore"):  # beyond float32 becomes inf, refused below
            arr = arr.astype(np.float32)
    else:
        values = []
        for v in temps:
            if v is None:
                values.append(math.nan)
            elif isinstance(v, int | float) and not isinstance(v, bool):
                values.append(v)
            else:
                raise ValueError("temps 中有非数值")
        with np.errstate(over="ignore"):
            arr = np.array(values, dtype=np.float32)
    if np.isinf(arr).any():
        raise ValueError("temps 中有无穷大")
    extras = {name: _float(data.get(name), lo, hi, name) for name, (lo, hi) in OPTIONAL_FLOATS.items()}
    return ScanIn(warehouse=info, taken_at=taken_at, temps=arr, **extras)


def parse_mqtt_topic(topic: str, prefix: str) -> tuple[str, str]:
    """``<prefix>/grain/<depot>/<warehouse>/scan`` → (depot code, warehouse code)."""
    parts = topic.split("/")
    head = prefix.split("/") if prefix else []
    if len(parts) != len(head) + 4 or parts[:len(head)] != head or parts[len(head)] != "grain" \
            or parts[-1] != "scan":
        raise ValueError(f"主题 {topic} 不是 <前缀>/grain/<库点>/<仓号>/scan")
    return parts[-3], parts[-2]


def scans_from_json_batch(body: bytes | str, directory: WarehouseDirectory) -> list[ScanIn]:
    """HTTP batch: ``{"scans": [{"warehouse": id | "depot": code + "warehouse_code": code, ...}]}``.
    Any bad scan rejects the whole batch (422 with its index)."""
    try:
        doc = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise InvalidInput("请求体不是有效的JSON", code="invalid_json", detail=str(exc)) from None
    scans = doc.get("scans") if isinstance(doc, dict) else None
    if not isinstance(scans, list) or not scans:
        raise InvalidInput("请提供 scans 数组", code="scans_required")
    if len(scans) > MAX_BATCH:
        raise InvalidInput(f"一批最多 {MAX_BATCH} 次检测", code="batch_too_large")
    out = []
    for n, item in enumerate(scans):
        try:
            if not isinstance(item, dict):
                raise ValueError("每次检测应为JSON对象")
            if isinstance(item.get("warehouse"), int):
                info = directory.by_id(item["warehouse"])
            else:
                info = directory.by_code(str(item.get("depot", "")), str(item.get("warehouse_code", "")))
            out.append(scan_from_dict(item, info))
        except ValueError as exc:
            raise InvalidInput(f"第 {n + 1} 次检测无效：{exc}", code="invalid_scan",
                               detail={"index": n, "error": str(exc)}) from None
        except NotFound as exc:
            raise InvalidInput(f"第 {n + 1} 次检测的仓房不存在", code="warehouse_not_found",
                               detail={"index": n, **(exc.detail or {})}) from None
    return out


# Vendor CSV export (粮情测控系统导出): one row per point. Column names vary by vendor; these aliases
# cover the common ones (English export headers and the Chinese ones).
CSV_ALIASES = {
    "storepoint": {"storepoint", "store_point", "仓号", "仓房"},
    "line_no": {"line_no", "cable", "电缆号", "线号"},
    "layer_no": {"layer_no", "layer", "层号"},
    "batch_time": {"batch time", "batch_time", "time", "检测时间", "批次时间"},
    "temp": {"temp", "temperature", "粮温", "温度"},
    "x": {"x"}, "y": {"y"}, "z": {"z"},
    "indoor_temp": {"indoor_temp", "仓温"}, "indoor_humidity": {"indoor_humidity", "仓湿"},
    "outdoor_temp": {"outdoor_temp", "气温"}, "outdoor_humidity": {"outdoor_humidity", "气湿"},
}
CSV_REQUIRED = ("storepoint", "layer_no", "batch_time", "temp")


def scans_from_vendor_csv(text: str, *, depot_code: str, directory: WarehouseDirectory) -> list[ScanIn]:
    """A vendor export: rows of (storepoint, line_no, layer_no, batch time, temp, x, y, z, indoor/outdoor
    temperature and humidity). The cable is ``line_no`` (1-based, row-major: cable n is row (n-1)//cols,
    column (n-1)%cols) or, without it, the x/y grid position (1-based). Rows of one (storepoint, batch
    time) make one scan; every point of the grid must be present once."""
    reader = csv.reader(io.StringIO(text.lstrip("\ufeff")))
    try:
        header = [h.strip().lower() for h in next(reader)]
    except StopIteration:
        raise InvalidInput("CSV文件为空", code="empty_csv") from None
    cols = {}
    for key, aliases in CSV_ALIASES.items():
        for i, h in enumerate(header):
            if h in aliases:
                cols[key] = i
                break
    missing = [k for k in CSV_REQUIRED if k not in cols]
    if "line_no" not in cols and not {"x", "y"} <= set(cols):
        missing.append("line_no 或 x,y")
    if missing:
        raise InvalidInput(f"CSV缺少列：{', '.join(missing)}", code="csv_columns", detail={"missing": missing})

    groups: dict[tuple[str, str], dict] = {}
    for lineno, row in enumerate(reader, start=2):
        if not row or not any(c.strip() for c in row):
            continue
        try:
            def cell(key, row=row):
                i = cols.get(key)
                return row[i].strip() if i is not None and i < len(row) else ""

            store, when = cell("storepoint"), cell("batch_time")
            info = directory.by_code(depot_code, store)
            group = groups.setdefault((store, when), {
                "info": info, "taken_at": parse_time(when),
                "temps": np.full(info.points, np.nan, dtype=np.float32),
                "seen": np.zeros(info.points, dtype=bool), "extras": {}})
            layer = int(cell("layer_no"))
            if cell("line_no"):
                cable = int(cell("line_no"))
                if not 1 <= cable <= info.rows * info.cols:
                    raise ValueError(f"电缆号 {cable} 超出 1～{info.rows * info.cols}")
                row_i, col_i = divmod(cable - 1, info.cols)
            else:
                row_i, col_i = int(float(cell("x"))) - 1, int(float(cell("y"))) - 1
                if not (0 <= row_i < info.rows and 0 <= col_i < info.cols):
                    raise ValueError("x/y 超出电缆网格")
            if not 1 <= layer <= info.layers:
                raise ValueError(f"层号 {layer} 超出 1～{info.layers}")
            index = ((layer - 1) * info.rows + row_i) * info.cols + col_i
            if group["seen"][index]:
                raise ValueError("同一测温点在同一批次中重复")
            group["seen"][index] = True
            raw = cell("temp")
            if raw:
                group["temps"][index] = _float(raw, -300.0, 300.0, "temp")
            for key, name in (("indoor_temp", "air_temp"), ("indoor_humidity", "air_rh"),
                              ("outdoor_temp", "out_temp"), ("outdoor_humidity", "out_rh")):
                if cell(key) and name not in group["extras"]:
                    group["extras"][name] = _float(cell(key), *OPTIONAL_FLOATS[name], key)
        except (ValueError, NotFound) as exc:
            message = exc.message if isinstance(exc, NotFound) else str(exc)
            raise InvalidInput(f"CSV第 {lineno} 行无效：{message}", code="invalid_csv_row",
                               detail={"line": lineno, "error": message}) from None
    if not groups:
        raise InvalidInput("CSV中没有数据行", code="empty_csv")
    out = []
    for (store, when), g in groups.items():
        if not g["seen"].all():
            raise InvalidInput(f"仓房 {store} {when} 的检测缺少 {int((~g['seen']).sum())} 个测温点",
                               code="incomplete_scan", detail={"storepoint": store, "batch_time": when})
        out.append(ScanIn(warehouse=g["info"], taken_at=g["taken_at"], temps=g["temps"], **g["extras"]))
    return out
