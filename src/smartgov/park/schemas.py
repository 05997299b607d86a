"""Pydantic in/out schemas of the park API."""

from datetime import date, datetime, time
from decimal import Decimal

from ninja import Schema

from smartgov.core.masking import mask_id_number, mask_name, mask_phone
from smartgov.onestop.selectors import sla_colour
from smartgov.workflow.selectors import colour

from .passes import pass_token
from .selectors import lease_change_steps
from .service_items import KIND_LABELS, KIND_OF_CODE, summary


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


class LeaseImportOut(Schema):
    leases: int
    enterprises: int  # registered by the import (not yet resident)
    bills: int


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
    escalated_at: datetime | None  # 告警升级: when the department's admins were notified
    escalated_to: list[str] | None

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
    bands: list[dict] | None  # 峰平谷 lines (kind, kwh, price, amount); null: one flat price


class TariffBandIn(Schema):
    kind: str  # peak | flat | valley
    start: time
    end: time  # exclusive; not after start: runs past midnight
    price: Decimal


class TariffBandOut(TariffBandIn):
    id: int


class AnomalyOut(Schema):
    id: int
    device: str
    day: date
    kind: str
    value: float
    reference: float

    @staticmethod
    def resolve_device(obj):
        return obj.device.code


class VisitIn(Schema):
    enterprise: int
    name: str
    phone: str
    id_number: str = ""
    purpose: str = ""
    valid_from: datetime
    valid_until: datetime


class VisitOut(Schema):
    """A visit with the visitor's name, phone and ID number masked (脱敏)."""

    id: int
    enterprise_id: int
    name: str
    phone: str
    id_number: str
    purpose: str
    valid_from: datetime
    valid_until: datetime
    status: str
    checked_in_at: datetime | None
    gate_in: str
    checked_out_at: datetime | None
    gate_out: str

    @staticmethod
    def resolve_name(obj):
        return mask_name(obj.name)

    @staticmethod
    def resolve_phone(obj):
        return mask_phone(obj.phone)

    @staticmethod
    def resolve_id_number(obj):
        return mask_id_number(obj.id_number)


class VisitCreated(VisitOut):
    token: str  # the pass: what its QR code carries

    @staticmethod
    def resolve_token(obj):
        return pass_token(obj.pk)


class GateIn(Schema):
    token: str
    gate: str = ""


class VisitorsToday(Schema):
    expected: int
    arrived: int
    on_site: int


# ---------------------------------------------------------------- 续租 / 退租 on the workflow
class RenewalIn(Schema):
    end_date: date
    reason: str = ""
    monthly_rent: Decimal | None = None  # new terms from the first period after the current end (optional)
    escalation_pct: Decimal | None = None


class MoveOutIn(Schema):
    move_out_on: date
    reason: str = ""


class LeaseChangeActIn(Schema):
    outcome: str  # approve | reject
    opinion: str = ""
    inspection: str = ""  # 现场验收: required when agreeing
    damages: str = "0"  # 现场验收: 损坏赔偿（元）
    deductions: str = "0"  # 押金结算: 其他扣款（元）


class CancelIn(Schema):
    reason: str


class LeaseChangeStepOut(Schema):
    step: str
    name: str
    status: str
    outcome: str
    opinion: str
    due_on: date | None
    completed_at: datetime | None


class LeaseChangeOut(Schema):
    id: int
    lease: str
    enterprise: str
    kind: str
    kind_label: str
    status: str
    status_label: str
    new_end_date: date | None
    new_monthly_rent: Decimal | None
    new_escalation_pct: Decimal | None
    move_out_on: date | None
    reason: str
    inspection: str
    damages: Decimal
    deductions: Decimal
    settlement: dict
    due_on: date
    colour: str
    created_at: datetime
    decided_at: datetime | None

    @staticmethod
    def resolve_lease(obj):
        return obj.lease.code

    @staticmethod
    def resolve_enterprise(obj):
        return obj.lease.enterprise.name

    @staticmethod
    def resolve_kind_label(obj):
        return obj.get_kind_display()

    @staticmethod
    def resolve_status_label(obj):
        return obj.get_status_display()

    @staticmethod
    def resolve_due_on(obj):
        return obj.instance.due_on

    @staticmethod
    def resolve_colour(obj):
        return colour(obj.instance)


class LeaseChangeDetailOut(LeaseChangeOut):
    steps: list[LeaseChangeStepOut]

    @staticmethod
    def resolve_steps(obj):
        return [{"step": t.step_key, "name": t.name, "status": t.status, "outcome": t.outcome, "opinion": t.opinion,
                 "due_on": t.due_on, "completed_at": t.completed_at} for t in lease_change_steps(obj)]


# ---------------------------------------------------------------- 企业服务 (one-stop cases)
class ServiceRaiseIn(Schema):
    enterprise: int  # the resident enterprise (park id of it)
    kind: str  # repair | policy | complaint
    form: dict = {}


class ServiceCaseOut(Schema):
    number: str
    kind: str
    kind_label: str
    item: str
    enterprise: str
    unit: str
    summary: str
    state: str
    state_label: str
    submitted_at: datetime | None
    due_on: date | None
    colour: str | None
    grade: int | None

    @staticmethod
    def resolve_kind(obj):
        return KIND_OF_CODE.get(obj.item.basic_code, "")

    @staticmethod
    def resolve_kind_label(obj):
        return KIND_LABELS.get(KIND_OF_CODE.get(obj.item.basic_code, ""), "")

    @staticmethod
    def resolve_item(obj):
        return obj.item.name

    @staticmethod
    def resolve_enterprise(obj):
        return obj.applicant_name

    @staticmethod
    def resolve_unit(obj):
        return obj.form_data.get("unit", "")

    @staticmethod
    def resolve_summary(obj):
        return summary(obj.form_data)

    @staticmethod
    def resolve_state_label(obj):
        return obj.get_state_display()

    @staticmethod
    def resolve_colour(obj):
        return sla_colour(obj)

    @staticmethod
    def resolve_grade(obj):
        grades = [e.grade for e in obj.evaluations.all() if e.visit == 0]
        return grades[0] if grades else None
