"""Pydantic (Ninja) in/out schemas of the grain API."""

from datetime import date, datetime
from decimal import Decimal

from ninja import Schema


class IngestOut(Schema):
    received: int
    stored: int
    duplicates: int
    points: int
    alerts: int
    batch: str


class DepotOut(Schema):
    id: int
    code: str
    name: str
    region: str
    department_id: int


class GatewayOut(Schema):
    username: str
    secret: str
    topic: str


class WarehouseOut(Schema):
    id: int
    depot_id: int
    code: str
    name: str
    kind: str
    capacity_t: Decimal
    rows: int
    cols: int
    layers: int


class DepotIn(Schema):
    department: str  # department code of the depot's unit (below the admin's bureau)
    code: str
    name: str
    region: str = "north"
    address: str = ""


class WarehouseIn(Schema):
    depot: int
    code: str
    name: str = ""
    kind: str = "flat"
    capacity_t: Decimal
    length_m: float
    width_m: float
    grain_height_m: float
    rows: int
    cols: int
    layers: int


class LotIn(Schema):
    warehouse: int
    variety: str
    grade: int
    harvest_year: int
    owner: str
    tonnes: Decimal
    moisture: float
    storage_start: date


class LotOut(Schema):
    id: int
    warehouse_id: int
    variety: str
    grade: int
    harvest_year: int
    owner: str
    tonnes: Decimal
    moisture: float
    storage_start: date
    active: bool


class ScanOut(Schema):
    id: int
    taken_at: datetime
    source: str
    t_max: float | None
    t_min: float | None
    t_mean: float | None
    air_temp: float | None
    air_rh: float | None
    out_temp: float | None
    out_rh: float | None
    temp_class: str
    next_check_days: int


class AlertOut(Schema):
    id: int
    warehouse_id: int
    kind: str
    status: str
    message: str
    first_at: datetime
    last_at: datetime
    scans: int
    note: str


class HandleIn(Schema):
    status: str
    note: str = ""


class MovementIn(Schema):
    warehouse: int
    kind: str
    vehicle: str
    gross_kg: Decimal
    tare_kg: Decimal
    moisture: float
    impurity: float
    grade: int


class MovementOut(Schema):
    id: int
    kind: str
    vehicle: str
    gross_kg: Decimal
    tare_kg: Decimal
    deduction_kg: Decimal
    settled_kg: Decimal
    balance_t: Decimal


class LedgerOut(Schema):
    id: int
    at: datetime
    kind: str
    variety: str
    vehicle: str
    gross_kg: Decimal
    tare_kg: Decimal
    moisture: float
    impurity: float
    grade: int
    deduction_kg: Decimal
    settled_kg: Decimal
    balance_t: Decimal


class StockCheckIn(Schema):
    warehouse: int
    volume_m3: float
    bulk_density_kg_m3: float
    allowed_loss_t: Decimal = Decimal(0)


class StockCheckOut(Schema):
    id: int
    measured_t: Decimal
    book_t: Decimal
    difference_pct: float
    within_tolerance: bool


class PriceOut(Schema):
    variety: str
    region: str
    on: date
    yuan_per_t: Decimal
