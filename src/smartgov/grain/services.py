"""Every write to grain. Keyword-only, ``actor=``, atomic, audited.

Bulk ingest writes ONE audit entry per batch (action ``grain.scan.ingest``: source, scan and point
counts, warehouses, time range, duplicates), not one per point: a batch is what a device or a worker
delivered in one go, and the scans themselves are the detailed record (see docs/grain.md).
"""

import re
import uuid
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

from django.db import transaction
from django.db.models import Sum
from django.utils import timezone

from smartgov.audit.services import record
from smartgov.core.errors import Conflict, Forbidden, InvalidInput, validated
from smartgov.core.permissions import covers_path, require, user_of
from smartgov.iot import services as iot_services
from smartgov.iot.models import Device

from . import analysis
from .ingest import store_batch
from .models import (
    Alert,
    AlertKind,
    AlertStatus,
    Depot,
    Lot,
    Movement,
    MovementKind,
    Parameters,
    Price,
    StockCheck,
    Warehouse,
)
from .readings import ScanIn


# ---------------------------------------------------------------- set-up: depots, warehouses, lots
@transaction.atomic
def create_depot(*, actor, department, code: str, name: str, region: str = "north", address: str = "") -> Depot:
    """A depot (库点) for a department below a grain bureau; by that bureau's admin (or the system)."""
    require(actor, "grain.manage", department=department)
    depot = Depot(department=department, code=(code or "").strip(), name=(name or "").strip(), region=region,
                  address=address)
    validated(depot)
    depot.save()
    record(actor=actor, action="grain.depot.create", target=depot,
           changes={"code": depot.code, "name": depot.name, "department": department.pk, "region": region})
    return depot


GATEWAY_APP, GATEWAY_KIND = "grain", "grain_gateway"
TOPIC_SAFE = re.compile(r"[A-Za-z0-9_-]{1,32}")


def gateway_code(depot: Depot) -> str:
    """The MQTT user name of a depot's gateway (its 粮情测控 system): ``grain-<depot code>``."""
    return f"grain-{depot.code}"


@transaction.atomic
def issue_gateway_secret(*, actor, depot: Depot) -> tuple[Device, str]:
    """The broker account of a depot's gateway (粮情测控系统接入凭证): registered on the shared IoT layer
    the first time, a new secret every later time (the old one stops working once ``smartgov iot passwd``
    rewrote the broker's files). The gateway may publish only ``<prefix>/grain/<its depot>/+/scan``. The
    secret is returned once; only its hash is kept."""
    require(actor, "grain.manage", department=depot.department, hide=True)
    if not TOPIC_SAFE.fullmatch(depot.code):
        raise InvalidInput("库点编码只能含字母、数字、-和_，才能用作MQTT主题与账号", code="depot_code_not_topic_safe",
                           detail={"depot": depot.code})
    device = Device.objects.select_for_update().filter(code=gateway_code(depot)).first()
    if device is None:
        device, secret = iot_services.provision_device(
            actor=actor, department=depot.department, app=GATEWAY_APP, code=gateway_code(depot),
            name=f"{depot.name}粮情测控系统"[:100], kind=GATEWAY_KIND, tags={"depot": depot.code})
    elif device.app != GATEWAY_APP or device.tags.get("depot") != depot.code:
        raise Conflict("该账号名已被其他设备占用", code="device_exists", detail={"code": device.code})
    else:
        secret = iot_services.rotate_device_secret(actor=actor, device=device)
    return device, secret


@transaction.atomic
def create_warehouse(*, actor, depot: Depot, code: str, kind: str, capacity_t, length_m: float, width_m: float,
                     grain_height_m: float, rows: int, cols: int, layers: int, name: str = "") -> Warehouse:
    """A warehouse (仓房) with its cable grid; GB 50320 spacing is checked in ``Warehouse.clean``."""
    require(actor, "grain.manage", department=depot.department)
    wh = Warehouse(depot=depot, code=(code or "").strip(), name=name or f"{code}号仓", kind=kind,
                   capacity_t=capacity_t, length_m=length_m, width_m=width_m, grain_height_m=grain_height_m,
                   rows=rows, cols=cols, layers=layers)
    validated(wh)
    wh.save()
    record(actor=actor, action="grain.warehouse.create", target=wh,
           changes={"depot": depot.code, "code": wh.code, "kind": kind, "capacity_t": str(capacity_t),
                    "grid": [rows, cols, layers]})
    return wh


@transaction.atomic
def store_lot(*, actor, warehouse: Warehouse, variety: str, grade: int, harvest_year: int, owner: str, tonnes,
              moisture: float, storage_start: date) -> Lot:
    """Record grain stored in a warehouse (货位建档). One active lot per warehouse."""
    require(actor, "grain.manage", department=warehouse.depot.department)
    if Lot.objects.filter(warehouse=warehouse, active=True).exists():
        raise Conflict("该仓房已有在储粮食，请先出清", code="warehouse_occupied")
    lot = Lot(warehouse=warehouse, variety=variety, grade=grade, harvest_year=harvest_year, owner=owner,
              tonnes=Decimal(str(tonnes)), moisture=moisture, storage_start=storage_start)
    validated(lot)
    lot.save()
    record(actor=actor, action="grain.lot.store", target=lot,
           changes={"warehouse": warehouse.pk, "variety": variety, "grade": grade, "harvest_year": harvest_year,
                    "owner": owner, "tonnes": str(lot.tonnes), "moisture": moisture})
    return lot


# ---------------------------------------------------------------- parameters
def current_parameters() -> dict:
    row = Parameters.objects.filter(pk=1).first()
    return analysis.parameters(row.values if row else None)


def _is_number(text) -> bool:
    try:
        float(text)
    except (TypeError, ValueError):
        return False
    return True


@transaction.atomic
def set_parameters(*, actor, changes: dict) -> dict:
    """Edit analysis/ventilation parameters (hot-spot margin, rise rate, ventilation differences …)."""
    require(actor, "grain.set_parameters")
    unknown = sorted(set(changes) - set(analysis.DEFAULTS))
    if unknown:
        raise InvalidInput("未知的参数", code="unknown_parameter", detail=unknown)
    for key, value in changes.items():
        if isinstance(analysis.DEFAULTS[key], dict):
            ok = isinstance(value, dict) and all(isinstance(v, int | float) for v in value.values())
        else:
            ok = isinstance(value, int | float) and not isinstance(value, bool)
        if key == "eco_zone":
            ok = ok and value == int(value) and 1 <= value <= 7
        elif key == "eco_zone_by_depot":
            ok = ok and all(v == int(v) and 1 <= v <= 7 for v in value.values())
        elif key == "fumigation_days":
            ok = ok and bool(value) and all(_is_number(k) and v > 0 for k, v in value.items())
        if not ok:
            raise InvalidInput(f"参数 {key} 的值无效", code="invalid_parameter", detail={key: value})
    row, _ = Parameters.objects.select_for_update().get_or_create(pk=1)
    before = {k: row.values.get(k, analysis.DEFAULTS[k]) for k in changes}
    row.values = {**row.values, **changes}
    row.save()
    record(actor=actor, action="grain.parameters.update", target=("grain.parameters", 1),
           changes={k: [before[k], v] for k, v in changes.items()})
    return analysis.parameters(row.values)


# ---------------------------------------------------------------- readings
@dataclass
class IngestResult:
    received: int
    stored: int
    duplicates: int
    points: int
    alerts: int
    batch: str


ALERT_MESSAGES = {
    AlertKind.HOT_SPOT: "发现发热点：{n} 个测温点高于本层平均 {margin:g}℃ 以上，最高 {value}℃（{where}）",
    AlertKind.RISING: "粮温上升过快：{n} 个测温点升温超过 {rate:g}℃/天（{where}）",
    AlertKind.FAULTY: "测温点故障：{n} 个（{where}）",
    AlertKind.HIGH_TEMP: "粮温过高：最高 {value}℃，超过 {limit:g}℃",
}
_WHY = {"missing": "无读数", "range": "超量程", "jump": "跳变", "stuck": "读数不变"}


def _where(info, points: list) -> str:
    def label(i):
        layer, rest = divmod(i, info.rows * info.cols)
        row, col = divmod(rest, info.cols)
        return f"第{layer + 1}层{row + 1}行{col + 1}列"
    shown = "、".join(label(p["i"]) + (f"{_WHY[p['why']]}" if p.get("why") in _WHY else "") for p in points[:3])
    return shown + (" 等" if len(points) > 3 else "")


def _findings(s: ScanIn, a, params) -> dict:
    """The alerts one scan raises: kind → (points, message)."""
    info, out = s.warehouse, {}
    margin = [h for h in a.hot if h["why"] == "margin"]
    rise = [h for h in a.hot if h["why"] == "rise"]
    if margin:
        top = max(margin, key=lambda h: h["value"])
        out[AlertKind.HOT_SPOT] = (margin, ALERT_MESSAGES[AlertKind.HOT_SPOT].format(
            n=len(margin), margin=params["hot_margin_c"], value=top["value"], where=_where(info, [top])))
    if rise:
        out[AlertKind.RISING] = (rise, ALERT_MESSAGES[AlertKind.RISING].format(
            n=len(rise), rate=params["rise_rate_c_per_day"], where=_where(info, rise)))
    if a.faulty:
        out[AlertKind.FAULTY] = (a.faulty, ALERT_MESSAGES[AlertKind.FAULTY].format(
            n=len(a.faulty), where=_where(info, a.faulty)))
    if a.t_max is not None and a.t_max > params["high_temp_c"]:
        out[AlertKind.HIGH_TEMP] = ([], ALERT_MESSAGES[AlertKind.HIGH_TEMP].format(
            value=a.t_max, limit=params["high_temp_c"]))
    if s.o2 is not None or s.co2 is not None or s.ph3 is not None:
        gases = [g for g in analysis.evaluate_gases(o2=s.o2, co2=s.co2, ph3=s.ph3, p=params)
                 if g["level"] != "info"]
        if gases:
            out[AlertKind.GAS] = ([], "；".join(g["text"] for g in gases))
    return out


def _raise_alerts(new, params) -> int:
    """Open or refresh one alert per (warehouse, kind) from the scans' findings (latest scan wins)."""
    latest: dict[tuple[int, str], tuple] = {}
    for s, a in new:
        for kind, (points, message) in _findings(s, a, params).items():
            key = (s.warehouse.id, kind)
            seen = latest.get(key)
            if seen is None:
                latest[key] = [s.taken_at, s.taken_at, points, message, 1]
            else:
                seen[0] = min(seen[0], s.taken_at)
                seen[4] += 1
                if s.taken_at >= seen[1]:
                    seen[1], seen[2], seen[3] = s.taken_at, points, message
    if not latest:
        return 0
    wids = {w for w, _ in latest}
    open_alerts = {(al.warehouse_id, al.kind): al for al in Alert.objects.select_for_update().filter(
        warehouse_id__in=wids).exclude(status=AlertStatus.RESOLVED)}
    created = []
    for (wid, kind), (first, last, points, message, count) in latest.items():
        points = [{k: v for k, v in p.items()} for p in points[:200]]
        al = open_alerts.get((wid, kind))
        if al is None:
            created.append(Alert(warehouse_id=wid, kind=kind, message=message[:300], points=points, first_at=first,
                                 last_at=last, scans=count))
        elif last >= al.last_at:
            al.message, al.points, al.last_at, al.scans = message[:300], points, last, al.scans + count
            al.save(update_fields=["message", "points", "last_at", "scans", "updated_at"])
    Alert.objects.bulk_create(created)
    return len(created)


@transaction.atomic
def ingest_scans(*, actor, scans: list[ScanIn], source: str, actor_label: str = "",
                 params: dict | None = None, rejected: list | None = None) -> IngestResult:
    """Store a batch of grain-condition scans (粮情数据入库): analysed, idempotent by (warehouse, scan time),
    alerts raised, one audit entry for the batch. A system actor is the MQTT worker (whose devices the
    broker authenticates); a user must hold ``grain.ingest`` for every warehouse's depot.
    ``rejected`` lists malformed MQTT messages dropped from the batch; they are named in its audit entry."""
    require(actor, "grain.ingest")
    for info in {s.warehouse for s in scans}:
        if not covers_path(actor, info.department_path):
            raise Forbidden("批次中有不属于本单位的仓房", code="warehouse_out_of_scope",
                            detail={"warehouse": info.id})
    params = params or current_parameters()
    new = store_batch(scans, source=source, params=params) if scans else []
    made = _raise_alerts(new, params) if new else 0
    batch = uuid.uuid4().hex
    points = sum(s.warehouse.points for s, _ in new)
    if scans or rejected:
        record(actor=actor, actor_label=actor_label, action="grain.scan.ingest", target=("grain.scanbatch", batch),
               changes={"source": source, "received": len(scans), "stored": len(new),
                        "duplicates": len(scans) - len(new), "points": points,
                        "warehouses": sorted({s.warehouse.id for s in scans})[:100],
                        "from": min(s.taken_at for s in scans).isoformat() if scans else None,
                        "to": max(s.taken_at for s in scans).isoformat() if scans else None,
                        "alerts_opened": made, "rejected": (rejected or [])[:20],
                        "rejected_count": len(rejected or [])})
    return IngestResult(received=len(scans), stored=len(new), duplicates=len(scans) - len(new), points=points,
                        alerts=made, batch=batch)


# ---------------------------------------------------------------- alerts
@transaction.atomic
def handle_alert(*, actor, alert: Alert, status: str, note: str = "") -> Alert:
    """Depot staff acknowledge (处理中) or resolve (已处置, a note required) an alert."""
    require(actor, "grain.handle_alert", department=alert.warehouse.depot.department, hide=True)
    if status not in (AlertStatus.ACKNOWLEDGED, AlertStatus.RESOLVED):
        raise InvalidInput("状态应为处理中或已处置", code="invalid_status")
    note = (note or "").strip()
    if status == AlertStatus.RESOLVED and not note:
        raise InvalidInput("请填写处置说明", code="note_required")
    locked = Alert.objects.select_for_update().get(pk=alert.pk)
    if locked.status == AlertStatus.RESOLVED:
        raise Conflict("该预警已处置", code="alert_resolved")
    before = locked.status
    locked.status, locked.note, locked.handled_by, locked.handled_at = status, note[:500], actor, timezone.now()
    locked.save(update_fields=["status", "note", "handled_by", "handled_at", "updated_at"])
    record(actor=actor, action="grain.alert.handle", target=locked,
           changes={"status": [before, status], "note": note[:500]})
    return locked


# ---------------------------------------------------------------- operations: movements, stock checks
TON = Decimal("1000")


def book_stock_t(warehouse: Warehouse) -> Decimal:
    """The book (账面) stock: active lots' tonnes (movements adjust the active lot)."""
    return Lot.objects.filter(warehouse=warehouse, active=True).aggregate(t=Sum("tonnes"))["t"] or Decimal("0")


@transaction.atomic
def record_movement(*, actor, warehouse: Warehouse, kind: str, vehicle: str, gross_kg, tare_kg, moisture: float,
                    impurity: float, grade: int, variety: str | None = None, at=None) -> Movement:
    """出入库 over the weighbridge. net = gross − tare; deductions (GB 1351/1353 practice): moisture above
    the variety's standard moisture, and impurity above 1 %, each taken off the net weight one for one
    percent (扣水扣杂); the settled weight moves the warehouse's active lot."""
    require(actor, "grain.operate", department=warehouse.depot.department)
    if kind not in MovementKind.values:
        raise InvalidInput("类型应为入库或出库", code="invalid_kind")
    gross, tare = Decimal(str(gross_kg)), Decimal(str(tare_kg))
    if gross <= 0 or tare <= 0 or tare >= gross:
        raise InvalidInput("毛重应大于皮重且均为正数", code="invalid_weights", detail={"gross": str(gross),
                                                                                "tare": str(tare)})
    if not (0 <= moisture <= 40 and 0 <= impurity <= 20 and 1 <= grade <= 5):
        raise InvalidInput("水分、杂质或等级超出范围", code="invalid_quality")
    vehicle = (vehicle or "").strip().upper()
    if not vehicle:
        raise InvalidInput("请填写车牌号", code="vehicle_required")
    lot = Lot.objects.select_for_update().filter(warehouse=warehouse, active=True).first()
    if lot is None:
        raise Conflict("该仓房没有在储批次，请先建档", code="no_active_lot")
    variety = variety or lot.variety
    if variety != lot.variety:
        raise Conflict("品种与仓内在储粮食不一致，不能混存", code="variety_mismatch")
    net = gross - tare
    standard = Decimal(str(analysis.DEFAULTS["safe_moisture"].get(variety, 13.0)))
    over_moisture = max(Decimal(str(moisture)) - standard, Decimal(0))
    over_impurity = max(Decimal(str(impurity)) - Decimal("1.0"), Decimal(0))
    deduction = (net * (over_moisture + over_impurity) / 100).quantize(Decimal("0.1"), ROUND_HALF_UP)
    settled = net - deduction
    delta_t = settled / TON if kind == MovementKind.INTAKE else -(net / TON)
    if kind == MovementKind.OUTTAKE:
        deduction, settled = Decimal(0), net
    if lot.tonnes + delta_t < 0:
        raise Conflict("出库数量超过账面库存", code="insufficient_stock",
                       detail={"book_t": str(lot.tonnes), "out_t": str(-delta_t)})
    capacity = warehouse.capacity_t
    if kind == MovementKind.INTAKE and lot.tonnes + delta_t > capacity:
        raise Conflict("入库后超过设计仓容", code="over_capacity")
    lot.tonnes = (lot.tonnes + delta_t).quantize(Decimal("0.001"))
    lot.save(update_fields=["tonnes", "updated_at"])
    mv = Movement.objects.create(warehouse=warehouse, kind=kind, variety=variety, vehicle=vehicle[:16],
                                 gross_kg=gross, tare_kg=tare, moisture=moisture, impurity=impurity, grade=grade,
                                 deduction_kg=deduction, settled_kg=settled, balance_t=lot.tonnes,
                                 at=at or timezone.now(), by=user_of(actor))
    record(actor=actor, action=f"grain.movement.{kind}", target=mv,
           changes={"warehouse": warehouse.pk, "vehicle": vehicle, "gross_kg": str(gross), "tare_kg": str(tare),
                    "net_kg": str(net), "deduction_kg": str(deduction), "settled_kg": str(settled),
                    "balance_t": str(lot.tonnes)})
    return mv


STOCK_TOLERANCE_PCT = 3.0  # 账实相符: measured within ± 3 % of the book


@transaction.atomic
def check_stock(*, actor, warehouse: Warehouse, volume_m3: float, bulk_density_kg_m3: float,
                allowed_loss_t=0, checked_on: date | None = None) -> StockCheck:
    """库存检查: measured tonnes = volume × bulk density (+ allowed losses: 合理损耗 since intake), compared
    with the book; flagged when outside ± 3 %."""
    require(actor, "grain.operate", department=warehouse.depot.department)
    if not (0 < volume_m3 < 1e6 and 300 <= bulk_density_kg_m3 <= 1000):
        raise InvalidInput("体积或容重超出合理范围", code="invalid_measurement")
    loss = Decimal(str(allowed_loss_t))
    if loss < 0:
        raise InvalidInput("合理损耗不能为负", code="invalid_measurement")
    measured = (Decimal(str(volume_m3)) * Decimal(str(bulk_density_kg_m3)) / TON + loss).quantize(Decimal("0.001"))
    book = book_stock_t(warehouse)
    if book <= 0:
        raise Conflict("该仓房没有账面库存", code="no_book_stock")
    diff = float((measured - book) / book * 100)
    sc = StockCheck.objects.create(warehouse=warehouse, checked_on=checked_on or timezone.localdate(),
                                   volume_m3=volume_m3, bulk_density=bulk_density_kg_m3, allowed_loss_t=loss,
                                   measured_t=measured, book_t=book, difference_pct=round(diff, 2),
                                   within_tolerance=abs(diff) <= STOCK_TOLERANCE_PCT, by=user_of(actor))
    record(actor=actor, action="grain.stock.check", target=sc,
           changes={"warehouse": warehouse.pk, "measured_t": str(measured), "book_t": str(book),
                    "difference_pct": round(diff, 2), "within_tolerance": sc.within_tolerance})
    return sc


# ---------------------------------------------------------------- prices
@transaction.atomic
def import_prices(*, actor, rows: list[tuple]) -> int:
    """Import (variety, region, date, yuan/t) rows; a (variety, region, date) already present is updated."""
    require(actor, "grain.import_prices")
    made = 0
    for variety, region, on, price in rows:
        _, created = Price.objects.update_or_create(variety=variety, region=region, on=on,
                                                    defaults={"yuan_per_t": price})
        made += created
    record(actor=actor, action="grain.price.import", target=("grain.price", "batch"),
           changes={"rows": len(rows), "new": made})
    return len(rows)
