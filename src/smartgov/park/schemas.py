"""Pydantic in/out schemas of the park API."""

from datetime import date, datetime
from decimal import Decimal

from ninja import Schema


class ParkOut(Schema):
    id: int
    code: str
    name: str
    address: str
    electricity_price: Decimal


class BuildingIn(Schema):
    code: str
    name: str
    floors: int = 1


class BuildingOut(Schema):
    id: int
    code: str
    name: str


class UnitIn(Schema):
    building: str
    floor: int
    code: str
    area: Decimal
    use: str = "office"
    geometry: list[list[float]] = []


class UnitOut(Schema):
    id: int
    code: str
    area: Decimal
    use: str
    status: str


class EnterpriseIn(Schema):
    name: str
    uscc: str
    industry: str
    employees: int = 0
    contact: str = ""


class EnterpriseOut(Schema):
    id: int
    name: str
    uscc: str
    industry: str
    employees: int


class LeaseIn(Schema):
    enterprise: int
    code: str
    units: list[int]
    start_date: date
    end_date: date
    monthly_rent: Decimal
    deposit: Decimal = Decimal(0)
    rent_free: list[tuple[date, date]] = []
    escalation_pct: Decimal = Decimal(0)
    escalation_every_months: int = 12


class BillOut(Schema):
    id: int
    period_start: date
    period_end: date
    due_date: date
    amount: Decimal
    paid: Decimal
    status: str


class LeaseOut(Schema):
    id: int
    code: str
    enterprise_id: int
    start_date: date
    end_date: date
    monthly_rent: Decimal
    status: str
    bills: list[BillOut]

    @staticmethod
    def resolve_bills(obj):
        return list(obj.bills.all())


class PaymentIn(Schema):
    amount: Decimal


class DeviceIn(Schema):
    kind: str
    code: str
    name: str
    building: int | None = None
    unit: int | None = None


class DeviceOut(Schema):
    id: int
    code: str
    name: str
    kind: str
    tags: dict
    last_seen_at: datetime | None
    last_values: dict


class DeviceCreated(DeviceOut):
    secret: str
    topic: str


class AlarmOut(Schema):
    id: int
    rule: str
    device: str
    severity: str
    status: str
    raised_at: datetime
    details: dict

    @staticmethod
    def resolve_rule(obj):
        return obj.rule.name

    @staticmethod
    def resolve_device(obj):
        return obj.device.code


class HistoryPoint(Schema):
    t: str
    min: float
    max: float
    mean: float
    n: int


class StatementOut(Schema):
    id: int
    month: date
    kwh: Decimal
    amount: Decimal
    carbon_kg: Decimal
    meters: list[dict]
