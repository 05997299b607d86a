"""智能粮库 API: readings in (HTTP batch, vendor CSV), depots, warehouses, the temperature field, alerts,
ventilation advice, parameters, movements, stock checks, prices."""

import csv
import io
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from ninja import Body, Router, Status
from ninja.pagination import paginate

from smartgov.accounts.models import Department
from smartgov.core.errors import InvalidInput, NotFound
from smartgov.core.pagination import PageNumber
from smartgov.core.permissions import require

from . import selectors, services
from .models import Price, Source, Variety
from .mqtt import DEFAULT_PREFIX, scan_topic
from .readings import WarehouseDirectory, scans_from_json_batch, scans_from_vendor_csv
from .schemas import (
    AlertOut,
    DepotIn,
    DepotOut,
    GatewayOut,
    HandleIn,
    IngestOut,
    LedgerOut,
    LotIn,
    LotOut,
    MovementIn,
    MovementOut,
    PriceOut,
    ScanOut,
    StockCheckIn,
    StockCheckOut,
    WarehouseIn,
    WarehouseOut,
)
from .views_data import field_payload, ventilation_for

router = Router(tags=["智能粮库 grain"])


@router.post("/scans", response={201: IngestOut}, summary="批量上传粮情检测（JSON）")
def post_scans(request):
    """Body ``{"scans": [{"warehouse": id, "taken_at": "2026-11-26T08:00:00+08:00", "temps": [...],
    "air_temp", "air_rh", "out_temp", "out_rh", "o2", "co2", "ph3", "moisture"}]}``. A bad scan rejects
    the whole batch (422, nothing stored); a scan already stored is counted as a duplicate."""
    require(request.auth, "grain.ingest")
    scans = scans_from_json_batch(request.body, WarehouseDirectory(actor=request.auth))
    result = services.ingest_scans(actor=request.auth, scans=scans, source=Source.HTTP)
    return Status(201, result)


@router.post("/scans/csv", response={201: IngestOut}, summary="导入粮情测控系统导出的CSV")
def post_scans_csv(request, depot: str):
    """A vendor export (storepoint, line_no, layer_no, batch time, temp, x, y, z, indoor_temp,
    indoor_humidity, outdoor_temp, outdoor_humidity) as the request body (text/csv, UTF-8 or GBK)."""
    require(request.auth, "grain.ingest")
    raw = request.body
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = raw.decode("gbk", errors="strict") if raw else ""
    scans = scans_from_vendor_csv(text, depot_code=depot, directory=WarehouseDirectory(actor=request.auth))
    result = services.ingest_scans(actor=request.auth, scans=scans, source=Source.CSV)
    return Status(201, result)


@router.get("/depots", response=list[DepotOut], summary="库点")
@paginate(PageNumber)
def list_depots(request):
    return selectors.depots_for(request.auth)


@router.post("/depots", response={201: DepotOut}, summary="新建库点（粮食局部门管理员）")
def create_depot(request, body: DepotIn):
    require(request.auth, "grain.manage")
    department = Department.objects.filter(code=body.department).first()
    if department is None:
        raise InvalidInput("没有这个部门", code="department_not_found", detail={"department": body.department})
    depot = services.create_depot(actor=request.auth, department=department, code=body.code, name=body.name,
                                  region=body.region, address=body.address)
    return Status(201, depot)


@router.post("/depots/{depot_id}/gateway", response={201: GatewayOut},
             summary="签发库点粮情测控系统的MQTT凭证（首次注册，再次则更换；密码只返回这一次）")
def issue_gateway(request, depot_id: int):
    depot = selectors.get_depot_for(request.auth, depot_id)
    device, secret = services.issue_gateway_secret(actor=request.auth, depot=depot)
    return Status(201, {"username": device.code, "secret": secret, "topic": scan_topic(DEFAULT_PREFIX, depot.code, "+")})


@router.post("/warehouses", response={201: WarehouseOut}, summary="新建仓房与测温电缆网格")
def create_warehouse(request, body: WarehouseIn):
    depot = selectors.get_depot_for(request.auth, body.depot)
    wh = services.create_warehouse(actor=request.auth, depot=depot, code=body.code, name=body.name, kind=body.kind,
                                   capacity_t=body.capacity_t, length_m=body.length_m, width_m=body.width_m,
                                   grain_height_m=body.grain_height_m, rows=body.rows, cols=body.cols,
                                   layers=body.layers)
    return Status(201, wh)


@router.post("/lots", response={201: LotOut}, summary="储粮建档（货位）")
def create_lot(request, body: LotIn):
    wh = selectors.get_warehouse_for(request.auth, body.warehouse)
    lot = services.store_lot(actor=request.auth, warehouse=wh, variety=body.variety, grade=body.grade,
                             harvest_year=body.harvest_year, owner=body.owner, tonnes=body.tonnes,
                             moisture=body.moisture, storage_start=body.storage_start)
    return Status(201, lot)


@router.get("/warehouses", response=list[WarehouseOut], summary="仓房")
@paginate(PageNumber)
def list_warehouses(request, depot: int | None = None):
    qs = selectors.warehouses_for(request.auth)
    return qs.filter(depot_id=depot) if depot else qs


@router.get("/warehouses/{warehouse_id}/scans", response=list[ScanOut], summary="仓房的粮情检测记录")
@paginate(PageNumber)
def list_scans(request, warehouse_id: int):
    wh = selectors.get_warehouse_for(request.auth, warehouse_id)
    return wh.scans.defer("temps", "stuck").order_by("-taken_at")


@router.get("/warehouses/{warehouse_id}/field", summary="最新温度场（各层、各点、发热点、故障点）")
def warehouse_field(request, warehouse_id: int):
    wh = selectors.get_warehouse_for(request.auth, warehouse_id)
    return field_payload(wh)


@router.get("/warehouses/{warehouse_id}/ventilation", summary="通风建议（含判断依据）")
def warehouse_ventilation(request, warehouse_id: int, air_c: float | None = None, air_rh: float | None = None,
                          raining: bool = False, ventilating: bool = False, purpose: str = "",
                          moisture_top: float | None = None, moisture_bottom: float | None = None):
    """Every ventilation purpose (cooling, drying, conditioning, surface) with its start/continue/stop checks, the end
    conditions, the bin air used and the 储粮生态区. ``purpose`` names the ventilation running now (``ventilating``
    alone means cooling); ``moisture_top``/``moisture_bottom`` (% w.b.) let the moisture gradient be judged."""
    wh = selectors.get_warehouse_for(request.auth, warehouse_id)
    return ventilation_for(wh, air_c=air_c, air_rh=air_rh, raining=raining, ventilating=ventilating,
                           purpose=purpose, moisture_top=moisture_top, moisture_bottom=moisture_bottom)


@router.get("/alerts", response=list[AlertOut], summary="粮情预警")
@paginate(PageNumber)
def list_alerts(request, status: str = "", open: bool = False):
    qs = selectors.alerts_for(request.auth, open_only=open)
    return qs.filter(status=status) if status else qs


@router.post("/alerts/{alert_id}/handle", response=AlertOut, summary="处理预警")
def handle(request, alert_id: int, body: HandleIn):
    alert = selectors.alerts_for(request.auth).filter(pk=alert_id).first()
    if alert is None:
        raise NotFound("没有这条预警", code="alert_not_found")
    return services.handle_alert(actor=request.auth, alert=alert, status=body.status, note=body.note)


@router.get("/parameters", summary="分析与通风参数")
def get_parameters(request):
    require(request.auth, "grain.view")
    return services.current_parameters()


@router.put("/parameters", summary="修改分析与通风参数")
def put_parameters(request, body: Body[dict[str, Any]]):
    """Body: a JSON object of the parameters to change (names as returned by GET), e.g. ``{"hot_margin": 3}``."""
    return services.set_parameters(actor=request.auth, changes=body)


@router.post("/movements", response={201: MovementOut}, summary="出入库过磅")
def post_movement(request, body: MovementIn):
    wh = selectors.get_warehouse_for(request.auth, body.warehouse)
    mv = services.record_movement(actor=request.auth, warehouse=wh, kind=body.kind, vehicle=body.vehicle,
                                  gross_kg=body.gross_kg, tare_kg=body.tare_kg, moisture=body.moisture,
                                  impurity=body.impurity, grade=body.grade)
    return Status(201, mv)


@router.get("/warehouses/{warehouse_id}/ledger", response=list[LedgerOut], summary="仓房保管账（出入库流水）")
@paginate(PageNumber)
def warehouse_ledger(request, warehouse_id: int):
    wh = selectors.get_warehouse_for(request.auth, warehouse_id)
    return wh.movements.order_by("at", "pk")


@router.post("/stock-checks", response={201: StockCheckOut}, summary="库存检查（账实相符）")
def post_stock_check(request, body: StockCheckIn):
    wh = selectors.get_warehouse_for(request.auth, body.warehouse)
    sc = services.check_stock(actor=request.auth, warehouse=wh, volume_m3=body.volume_m3,
                              bulk_density_kg_m3=body.bulk_density_kg_m3, allowed_loss_t=body.allowed_loss_t)
    return Status(201, sc)


def parse_price_csv(text: str) -> list[tuple]:
    """Rows of variety (code or 中文名), region, date (YYYY-MM-DD), price (元/吨), with a header row."""
    names = {label: value for value, label in Variety.choices} | {v: v for v in Variety.values}
    rows = []
    reader = csv.reader(io.StringIO(text.lstrip("\ufeff")))
    next(reader, None)
    for n, row in enumerate(reader, start=2):
        if not row or not any(c.strip() for c in row):
            continue
        try:
            variety, region, on, price = (c.strip() for c in row[:4])
            if variety not in names:
                raise ValueError(f"未知品种 {variety}")
            value = Decimal(price)
            if not value > 0:
                raise ValueError("价格应为正数")
            rows.append((names[variety], region, date.fromisoformat(on), value))
        except (ValueError, InvalidOperation) as exc:
            raise InvalidInput(f"价格CSV第 {n} 行无效：{exc}", code="invalid_price_row", detail={"line": n}) from None
    if not rows:
        raise InvalidInput("价格CSV中没有数据行", code="empty_csv")
    return rows


@router.post("/prices/csv", summary="导入粮食价格CSV（品种,地区,日期,元/吨）")
def post_prices(request):
    require(request.auth, "grain.import_prices")
    rows = parse_price_csv(request.body.decode("utf-8-sig", errors="replace"))
    return {"rows": services.import_prices(actor=request.auth, rows=rows)}


@router.get("/prices", response=list[PriceOut], summary="粮食价格")
@paginate(PageNumber)
def list_prices(request, variety: str = ""):
    require(request.auth, "grain.view")
    qs = Price.objects.all()
    return qs.filter(variety=variety) if variety else qs
