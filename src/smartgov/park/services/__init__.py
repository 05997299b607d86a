"""Every write of the park: space, enterprises and their yearly reports, leases with their bills and
payments, move-outs, devices (through the shared IoT layer) and alarm rules here; energy (tariffs,
statements, anomalies) in ``energy``; visitors in ``visitors``; renewals and move-outs as workflow cases in
``lease_changes``; enterprise services (报修、政策申报、投诉 as one-stop cases) in ``enterprise_services``."""

from datetime import date, timedelta
from decimal import Decimal, InvalidOperation
from itertools import pairwise

from django.db import transaction
from django.utils import timezone

from smartgov.audit.services import record
from smartgov.core.errors import Conflict, InvalidInput
from smartgov.core.permissions import require
from smartgov.core.validators import is_valid_uscc
from smartgov.iot import services as iot

from .. import billing
from ..industry import parse_industry
from ..models import (
    Bill,
    BillStatus,
    Building,
    Enterprise,
    EnterpriseReport,
    Floor,
    Lease,
    LeaseStatus,
    Park,
    Unit,
    UnitStatus,
)
from .energy import (  # noqa: F401 (the public names)
    ENERGY_KEY,
    GRID_EMISSION_FACTOR,
    detect_energy_anomalies,
    issue_energy_statement,
    set_tariff,
)
from .enterprise_services import publish_service_items, raise_service  # noqa: F401 (the public names)
from .lease_changes import (  # noqa: F401 (the public names; they use _money and end_lease below)
    act_on_lease_change,
    cancel_lease_change,
    renew_lease,
    request_move_out,
    request_renewal,
)
from .visitors import cancel_visit, check_in, check_out, register_visit  # noqa: F401 (the public names)

APP = "park"
DEVICE_KINDS = {"meter": "三相电能表", "water_meter": "水表", "env": "环境传感器", "access": "门禁",
                "parking": "车位检测器", "fire": "消防报警主机"}


def _money(value, name) -> Decimal:
    try:
        d = Decimal(str(value))
    except (InvalidOperation, ValueError):
        raise InvalidInput(f"{name}应为金额", code="invalid_amount") from None
    if not d.is_finite() or d < 0 or d > Decimal("9999999999"):
        raise InvalidInput(f"{name}超出范围", code="invalid_amount")
    return d.quantize(Decimal("0.01"))


# ---------------------------------------------------------------- space
@transaction.atomic
def create_park(*, actor, department, code: str, name: str, address: str = "",
                electricity_price: Decimal = Decimal("0.85")) -> Park:
    require(actor, "park.manage", department=department)
    if Park.objects.filter(code=code).exists():
        raise Conflict("园区编码已存在", code="park_exists")
    park = Park.objects.create(department=department, code=code, name=name, address=address,
                               electricity_price=electricity_price)
    record(actor=actor, action="park.park.create", target=park, changes={"code": code, "name": name})
    return park


@transaction.atomic
def create_building(*, actor, park: Park, code: str, name: str, floors: int = 1,
                    plan: tuple[int, int] = (60, 24)) -> Building:
    """A building and its floors 1..``floors``."""
    require(actor, "park.manage", department=park.department)
    if not 1 <= floors <= 200:
        raise InvalidInput("楼层数应为 1～200", code="invalid_floors")
    if park.buildings.filter(code=code).exists():
        raise Conflict("楼栋编码已存在", code="building_exists")
    b = Building.objects.create(park=park, code=code, name=name)
    Floor.objects.bulk_create([Floor(building=b, number=n, plan_width=plan[0], plan_height=plan[1])
                               for n in range(1, floors + 1)])
    record(actor=actor, action="park.building.create", target=b, changes={"code": code, "floors": floors})
    return b


def _clean_geometry(geometry, floor: Floor) -> list:
    if not geometry:
        return []
    try:
        points = [[float(x), float(y)] for x, y in geometry]
    except (TypeError, ValueError):
        raise InvalidInput("平面轮廓应为 [[x, y], ...]", code="invalid_geometry") from None
    if len(points) < 3 or any(not (0 <= x <= floor.plan_width and 0 <= y <= floor.plan_height) for x, y in points):
        raise InvalidInput("平面轮廓至少3个点且在楼层平面内", code="invalid_geometry")
    return points


@transaction.atomic
def create_unit(*, actor, floor: Floor, code: str, area, use: str = "office", geometry=None) -> Unit:
    require(actor, "park.manage", department=floor.building.park.department)
    area = _money(area, "面积")
    if area <= 0:
        raise InvalidInput("面积应大于0", code="invalid_area")
    if floor.units.filter(code=code).exists():
        raise Conflict("单元号已存在", code="unit_exists")
    unit = Unit(floor=floor, code=code, area=area, use=use, geometry=_clean_geometry(geometry, floor))
    unit.full_clean()
    unit.save()
    record(actor=actor, action="park.unit.create", target=unit, changes={"code": code, "area": area, "use": use})
    return unit


# ---------------------------------------------------------------- enterprises
@transaction.atomic
def register_enterprise(*, actor, park: Park, name: str, uscc: str, industry: str, employees: int = 0,
                        contact: str = "") -> Enterprise:
    """入驻登记: the USCC checked (GB 32100 check digits), the industry a GB/T 4754 code."""
    require(actor, "park.manage", department=park.department)
    uscc = (uscc or "").strip().upper()
    if not is_valid_uscc(uscc):
        raise InvalidInput("统一社会信用代码无效", code="invalid_uscc")
    try:
        industry = parse_industry(industry)
    except ValueError as exc:
        raise InvalidInput(str(exc), code="invalid_industry") from None
    if park.enterprises.filter(uscc=uscc).exists():
        raise Conflict("该企业已入驻本园区", code="enterprise_exists")
    ent = Enterprise.objects.create(park=park, name=name.strip()[:200], uscc=uscc, industry=industry,
                                    employees=max(0, int(employees)), contact=contact[:50])
    record(actor=actor, action="park.enterprise.register", target=ent,
           changes={"name": ent.name, "uscc": uscc, "industry": industry})
    return ent


@transaction.atomic
def report_output(*, actor, enterprise: Enterprise, year: int, output, tax) -> EnterpriseReport:
    """企业年度产值、纳税报送 (a second report of a year replaces the first)."""
    require(actor, "park.lease", department=enterprise.park.department)
    if not 2000 <= year <= timezone.now().year:
        raise InvalidInput("年度无效", code="invalid_year")
    report, _ = EnterpriseReport.objects.update_or_create(
        enterprise=enterprise, year=year, defaults={"output": _money(output, "产值"), "tax": _money(tax, "纳税")})
    record(actor=actor, action="park.enterprise.report", target=enterprise,
           changes={"year": year, "output": report.output, "tax": report.tax})
    return report


# ---------------------------------------------------------------- leases
def _rent_free(ranges, start: date, end: date) -> list[tuple[date, date]]:
    out = []
    for item in ranges or []:
        try:
            a, b = (v if isinstance(v, date) else date.fromisoformat(str(v)) for v in item)
        except (TypeError, ValueError):
            raise InvalidInput("免租期应为 [开始日, 结束日]", code="invalid_rent_free") from None
        if b < a or a < start or b > end:
            raise InvalidInput("免租期应在租期之内且结束不早于开始", code="invalid_rent_free")
        out.append((a, b))
    out.sort()
    for (_, b0), (a1, _) in pairwise(out):
        if a1 <= b0:
            raise InvalidInput("免租期相互重叠", code="invalid_rent_free")
    return out


@transaction.atomic
def create_lease(*, actor, park: Park, enterprise: Enterprise, code: str, units: list[Unit], start_date: date,
                 end_date: date, monthly_rent, deposit=0, rent_free=(), escalation_pct=0,
                 escalation_every_months: int = 12, due_day_offset: int = 0) -> Lease:
    """签订租赁合同: the units must be the park's and vacant (locked, so two leases cannot take one
    unit); every bill of the term is issued at once, due on its period's first day (+ offset days)."""
    require(actor, "park.lease", department=park.department)
    if enterprise.park_id != park.id:
        raise InvalidInput("企业不属于本园区", code="enterprise_out_of_park")
    if end_date < start_date:
        raise InvalidInput("到期日早于起租日", code="invalid_term")
    if not units:
        raise InvalidInput("请选择租赁单元", code="units_required")
    locked = list(Unit.objects.select_for_update().filter(pk__in=[u.pk for u in units],
                                                          floor__building__park=park))
    if len(locked) != len({u.pk for u in units}):
        raise InvalidInput("单元不属于本园区", code="unit_out_of_park")
    taken = [u.code for u in locked if u.status != UnitStatus.VACANT]
    if taken:
        raise Conflict("单元已出租或预留", code="unit_not_vacant", detail={"units": taken})
    if park.leases.filter(code=code).exists():
        raise Conflict("合同编号已存在", code="lease_exists")
    rent, esc = _money(monthly_rent, "月租金"), Decimal(str(escalation_pct))
    if not Decimal(0) <= esc <= Decimal(100):
        raise InvalidInput("递增比例应为 0～100", code="invalid_escalation")
    free = _rent_free(rent_free, start_date, end_date)
    lease = Lease.objects.create(park=park, enterprise=enterprise, code=code, start_date=start_date, end_date=end_date,
                                 monthly_rent=rent, deposit=_money(deposit, "押金"),
                                 rent_free=[[a.isoformat(), b.isoformat()] for a, b in free],
                                 escalation_pct=esc, escalation_every_months=max(1, escalation_every_months))
    lease.units.set(locked)
    Unit.objects.filter(pk__in=[u.pk for u in locked]).update(status=UnitStatus.LEASED)
    periods = billing.periods(start=start_date, end=end_date, monthly_rent=rent, escalation_pct=esc,
                              escalation_every_months=lease.escalation_every_months, rent_free=free)
    Bill.objects.bulk_create([Bill(lease=lease, period_start=p.start, period_end=p.end,
                                   due_date=p.start + timedelta(days=due_day_offset), amount=p.amount,
                                   status=BillStatus.PAID if p.amount == 0 else BillStatus.UNPAID)
                              for p in periods])
    record(actor=actor, action="park.lease.create", target=lease,
           changes={"enterprise": enterprise.uscc, "units": [u.code for u in locked], "start": start_date,
                    "end": end_date, "monthly_rent": rent, "escalation_pct": esc, "rent_free": lease.rent_free,
                    "bills": len(periods), "total": sum(p.amount for p in periods)})
    return lease


@transaction.atomic
def record_payment(*, actor, bill: Bill, amount) -> Bill:
    """缴费登记: a payment against a bill (never more than is outstanding)."""
    require(actor, "park.lease", department=bill.lease.park.department, hide=True)
    amount = _money(amount, "缴费金额")
    locked = Bill.objects.select_for_update().get(pk=bill.pk)
    if amount <= 0 or amount > locked.amount - locked.paid:
        raise InvalidInput("缴费金额应大于0且不超过未缴金额", code="invalid_payment",
                           detail={"outstanding": str(locked.amount - locked.paid)})
    locked.paid += amount
    locked.status = BillStatus.PAID if locked.paid == locked.amount else BillStatus.PARTIAL
    locked.save(update_fields=["paid", "status"])
    record(actor=actor, action="park.bill.pay", target=locked, changes={"amount": amount, "paid": locked.paid})
    return locked


@transaction.atomic
def end_lease(*, actor, lease: Lease, ended_on: date) -> Lease:
    """退租: units vacant again; bills after the move-out are withdrawn and the one it falls in is
    re-computed to the move-out day (a bill already paid in part keeps its amount: refunds are manual)."""
    require(actor, "park.lease", department=lease.park.department, hide=True)
    locked = Lease.objects.select_for_update().get(pk=lease.pk)
    if locked.status != LeaseStatus.ACTIVE:
        raise Conflict("合同已退租", code="lease_ended")
    if not locked.start_date <= ended_on <= locked.end_date:
        raise InvalidInput("退租日应在租期之内", code="invalid_end")
    free = [(date.fromisoformat(a), date.fromisoformat(b)) for a, b in locked.rent_free]
    free = [(a, min(b, ended_on)) for a, b in free if a <= ended_on]
    periods = {p.start: p for p in billing.periods(
        start=locked.start_date, end=ended_on, monthly_rent=locked.monthly_rent, escalation_pct=locked.escalation_pct,
        escalation_every_months=locked.escalation_every_months, rent_free=free, steps=billing.steps_of(locked))}
    withdrawn = locked.bills.filter(period_start__gt=ended_on, paid=0).delete()[0]
    for bill in locked.bills.filter(period_start__lte=ended_on, period_end__gt=ended_on, paid=0):
        p = periods[bill.period_start]
        bill.period_end, bill.amount = p.end, p.amount
        bill.status = BillStatus.PAID if p.amount == 0 else BillStatus.UNPAID
        bill.save(update_fields=["period_end", "amount", "status"])
    locked.status, locked.ended_on = LeaseStatus.ENDED, ended_on
    locked.save(update_fields=["status", "ended_on"])
    Unit.objects.filter(leases=locked).update(status=UnitStatus.VACANT)
    record(actor=actor, action="park.lease.end", target=locked, changes={"ended_on": ended_on,
                                                                         "bills_withdrawn": withdrawn})
    return locked


# ---------------------------------------------------------------- devices and rules (the shared IoT layer)
def provision_device(*, actor, park: Park, kind: str, code: str, name: str, building: Building | None = None,
                     unit: Unit | None = None):
    """设备接入: a device of the park on the IoT layer, tagged with its park, building and unit; returns
    (device, secret) — the secret is the device's MQTT password, shown once."""
    require(actor, "park.manage", department=park.department)
    if kind not in DEVICE_KINDS:
        raise InvalidInput("设备类型无效", code="invalid_device_kind", detail={"kinds": list(DEVICE_KINDS)})
    if unit is not None:
        building = unit.floor.building
    if building is not None and building.park_id != park.id:
        raise InvalidInput("楼栋不属于本园区", code="building_out_of_park")
    tags = {"park": str(park.id)}
    if building is not None:
        tags["building"] = str(building.id)
    if unit is not None:
        tags["unit"] = str(unit.id)
    return iot.provision_device(actor=actor, department=park.department, app=APP, code=code, name=name, kind=kind,
                                tags=tags)


def save_rule(*, actor, park: Park, data: dict, device=None):
    """A park alarm rule; a rule for one building names it with ``tag_key="building"``."""
    return iot.save_rule(actor=actor, department=park.department, app=APP, data=data, device=device)


def import_rules(*, actor, park: Park, data):
    return iot.import_rules(actor=actor, department=park.department, app=APP, data=data)
