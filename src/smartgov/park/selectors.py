"""Reads of the park that more than one caller needs (never write)."""

from collections import Counter
from datetime import date, datetime, time, timedelta

from django.db.models import Case, Count, Q, Sum, When
from django.urls import reverse
from django.utils import timezone

from smartgov.core.errors import NotFound
from smartgov.core.indicators import alert as core_alert
from smartgov.core.indicators import check_scope, day_starts, indicator, marker
from smartgov.core.permissions import require, scope
from smartgov.iot import selectors as iot_selectors
from smartgov.iot.models import OPEN_STATUSES, Alarm, Device
from smartgov.onestop import selectors as onestop_selectors

from . import billing
from .energy import ENERGY_KEY
from .industry import section_name
from .models import (
    Bill,
    BillStatus,
    EnergyAnomaly,
    EnergyStatement,
    Enterprise,
    EnterpriseReport,
    Lease,
    LeaseChange,
    LeaseChangeStatus,
    LeaseStatus,
    Park,
    TariffBand,
    Unit,
    UnitStatus,
    Visit,
    VisitStatus,
)
from .service_items import BASIC_CODES


def parks_for(user):
    require(user, "park.view")
    return scope(user, Park.objects.select_related("department"))


def get_park_for(user, park_id: int) -> Park:
    park = parks_for(user).filter(pk=park_id).first()
    if park is None:
        raise NotFound("没有这个园区", code="park_not_found")
    return park


def enterprises_for(user):
    require(user, "park.view")
    return scope(user, Enterprise.objects.select_related("park"), field="park__department")


def get_enterprise_for(user, enterprise_id: int) -> Enterprise:
    ent = enterprises_for(user).filter(pk=enterprise_id).first()
    if ent is None:
        raise NotFound("没有这家企业", code="enterprise_not_found")
    return ent


def bills_for(user):
    require(user, "park.view")
    return scope(user, Bill.objects.select_related("lease", "lease__enterprise", "lease__park__department"),
                 field="lease__park__department")


def leases_for(user):
    require(user, "park.view")
    return scope(user, Lease.objects.select_related("park__department", "enterprise"), field="park__department")


def get_lease_for(user, lease_id: int) -> Lease:
    lease = leases_for(user).filter(pk=lease_id).first()
    if lease is None:
        raise NotFound("没有这份合同", code="lease_not_found")
    return lease


def lease_changes_for(user, park: Park | None = None):
    """续租/退租 cases in the user's scope (one park's, given one), running first, newest first."""
    require(user, "park.view")
    qs = scope(user, LeaseChange.objects.select_related("park__department", "lease__enterprise", "instance",
                                                        "requested_by"), field="park__department")
    if park is not None:
        qs = qs.filter(park=park)
    return qs.order_by(Case(When(status=LeaseChangeStatus.RUNNING, then=0), default=1), "-created_at", "-id")


def get_lease_change_for(user, change_id: int) -> LeaseChange:
    change = lease_changes_for(user).filter(pk=change_id).first()
    if change is None:
        raise NotFound("没有这件续租或退租申请", code="lease_change_not_found")
    return change


def lease_change_steps(change: LeaseChange) -> list:
    """The case's workflow steps in order (open, done, withdrawn), for its page and the API."""
    return list(change.instance.tasks.select_related("actor", "department").order_by("stage", "id"))


def service_cases(user, park: Park):
    """企业服务 cases (报修、政策申报、投诉) of one park: the one-stop cases of the operator's park service
    items whose form names this park, as the one-stop service lets ``user`` see them."""
    require(user, "park.view", department=park.department, hide=True)
    return onestop_selectors.item_cases(user, basic_codes=BASIC_CODES, department=park.department,
                                        form_equals={"park": park.code})


def resident_enterprises_for(user) -> list[Enterprise]:
    """The resident enterprises ``user`` may act for: those whose register record (same USCC) has ``user`` as
    its legal representative (the one-stop service's rule for applying in an enterprise's name)."""
    usccs = [e.uscc for e in onestop_selectors.represented_enterprises(user)]
    if not usccs:
        return []
    return list(Enterprise.objects.filter(uscc__in=usccs).select_related("park__department").order_by("park", "name"))


def get_resident_enterprise_for(user, enterprise_id: int) -> Enterprise:
    ent = next((e for e in resident_enterprises_for(user) if e.pk == enterprise_id), None)
    if ent is None:
        raise NotFound("没有这家企业", code="enterprise_not_found")
    return ent


def represents(user, enterprise: Enterprise) -> bool:
    """Whether ``user`` is the legal representative of this resident enterprise's register record."""
    return any(e.pk == enterprise.pk for e in resident_enterprises_for(user))


def my_leases(user) -> list[Lease]:
    """The active leases of the resident enterprises ``user`` represents, with their units."""
    return list(_my_leases(user).prefetch_related("units__floor__building").order_by("enterprise__name", "code"))


def _my_leases(user):
    return (Lease.objects.filter(enterprise__in=resident_enterprises_for(user), status=LeaseStatus.ACTIVE)
            .select_related("park__department", "enterprise"))


def get_my_lease(user, lease_id: int) -> Lease:
    """One of ``my_leases`` (404 otherwise, as for a missing lease)."""
    lease = _my_leases(user).filter(pk=lease_id).first()
    if lease is None:
        raise NotFound("没有这份合同", code="lease_not_found")
    return lease


def my_lease_changes(user):
    """续租/退租 cases of the enterprises ``user`` represents (whoever asked), newest first."""
    ents = resident_enterprises_for(user)
    return (LeaseChange.objects.filter(lease__enterprise__in=ents).select_related("lease__enterprise", "instance")
            .order_by("-created_at", "-id"))


def my_visits(user):
    """访客 of the enterprises ``user`` represents (the host's own pre-registrations and the front desk's),
    latest window first."""
    return (Visit.objects.filter(enterprise__in=resident_enterprises_for(user)).select_related("park", "enterprise")
            .order_by("-valid_from", "-id"))


def get_my_visit(user, visit_id: int) -> Visit:
    visit = my_visits(user).filter(pk=visit_id).first()
    if visit is None:
        raise NotFound("没有这条访客预约", code="visit_not_found")
    return visit


def my_service_cases(user):
    """The applicant's own 企业服务 cases (every park), newest first (applicants see only their own cases)."""
    require(user, "onestop.apply")
    return onestop_selectors.item_cases(user, basic_codes=BASIC_CODES)


def visits_for(user):
    require(user, "park.visitors")
    return scope(user, Visit.objects.select_related("park__department", "enterprise"), field="park__department")


def get_visit_for(user, visit_id: int) -> Visit:
    visit = visits_for(user).filter(pk=visit_id).first()
    if visit is None:
        raise NotFound("没有这条访客记录", code="visit_not_found")
    return visit


def _day_bounds(day: date) -> tuple[datetime, datetime]:
    tz = timezone.get_current_timezone()
    start = datetime.combine(day, time.min, tz)
    return start, start + timedelta(days=1)


def visit_log(user, park: Park, day: date):
    """访客记录 of a local day: the passes valid at any time that day, and any visit checked in or out then."""
    start, end = _day_bounds(day)
    return (visits_for(user).filter(park=park).filter(
        Q(valid_from__lt=end, valid_until__gte=start) | Q(checked_in_at__gte=start, checked_in_at__lt=end)
        | Q(checked_out_at__gte=start, checked_out_at__lt=end))
        .order_by("valid_from", "pk"))


def visitors_today(park: Park, day: date) -> dict:
    """今日访客 (one query): expected (passes valid today, not cancelled), arrived (checked in today), on site now."""
    start, end = _day_bounds(day)
    return Visit.objects.filter(park=park).aggregate(
        expected=Count("id", filter=Q(valid_from__lt=end, valid_until__gte=start) & ~Q(status=VisitStatus.CANCELLED)),
        arrived=Count("id", filter=Q(checked_in_at__gte=start, checked_in_at__lt=end)),
        on_site=Count("id", filter=Q(status=VisitStatus.CHECKED_IN)))


def floor_plan(floor) -> dict:
    """A floor's units for the SVG plan: outline, code, status and the tenant."""
    units = []
    for u in floor.units.prefetch_related("leases__enterprise"):
        tenant = next((le.enterprise.name for le in u.leases.all() if le.status == "active"), "")
        units.append({"code": u.code, "status": u.status, "area": float(u.area), "tenant": tenant,
                      "points": " ".join(f"{x},{y}" for x, y in u.geometry)})
    return {"width": floor.plan_width, "height": floor.plan_height, "units": units}


def output_trend(park: Park) -> list[dict]:
    rows = (EnterpriseReport.objects.filter(enterprise__park=park).values("year")
            .annotate(output=Sum("output"), tax=Sum("tax")).order_by("year"))
    return [{"year": r["year"], "output": float(r["output"]), "tax": float(r["tax"])} for r in rows]


def energy_by_enterprise(park: Park, month: date) -> list[dict]:
    return [{"name": s.enterprise.name, "kwh": float(s.kwh), "amount": float(s.amount)}
            for s in EnergyStatement.objects.filter(enterprise__park=park, month=month).select_related("enterprise")]


def park_devices(park: Park):
    return Device.objects.filter(app="park", tags__park=str(park.id)).order_by("code")


def enterprise_meters(enterprise: Enterprise, month: date):
    """The energy meters in the units the enterprise leased at any time in ``month``."""
    month_end = billing.add_months(month, 1)
    unit_ids = Unit.objects.filter(
        leases__enterprise=enterprise, leases__start_date__lt=month_end, leases__end_date__gte=month).filter(
        Q(leases__ended_on__isnull=True) | Q(leases__ended_on__gte=month)).values_list("id", flat=True).distinct()
    return Device.objects.filter(app="park", kind="meter", tags__unit__in=[str(i) for i in unit_ids]).order_by("code")


def tariff(park: Park):
    return TariffBand.objects.filter(park=park).order_by("start")


def recent_anomalies(park: Park, *, since: date, devices=None):
    """能耗异常 from ``since`` on, of the park's meters (or of ``devices``), newest first."""
    qs = EnergyAnomaly.objects.filter(park=park, day__gte=since).select_related("device")
    if devices is not None:
        qs = qs.filter(device__in=devices)
    return qs.order_by("-day", "device__code", "kind")


def occupancy(park: Park) -> dict:
    rows = Unit.objects.filter(floor__building__park=park).values("status").annotate(n=Count("id"), area=Sum("area"))
    by = {r["status"]: r for r in rows}
    total = sum(float(r["area"] or 0) for r in rows)
    leased = float((by.get(UnitStatus.LEASED) or {}).get("area") or 0)
    return {"units": sum(r["n"] for r in rows), "area": total, "leased_area": leased,
            "rate": round(leased / total, 4) if total else 0.0}


def enterprises_by_industry(park: Park) -> list[dict]:
    counts = Counter(park.enterprises.values_list("industry", flat=True))
    by_section = Counter()
    for code, n in counts.items():
        by_section[code[:1]] += n
    return [{"section": s, "name": section_name(s), "count": n} for s, n in by_section.most_common()]


def arrears(park: Park, *, today: date):
    """欠费: bills due and not paid in full."""
    return (Bill.objects.filter(lease__park=park, due_date__lt=today).exclude(status=BillStatus.PAID)
            .select_related("lease__enterprise").order_by("due_date"))


def active_leases(park: Park):
    return Lease.objects.filter(park=park).select_related("enterprise").prefetch_related("units")


# --------------------------------------------------------------------------- the city overview's contract


def indicators(*, actor, department) -> list[dict]:
    """园区 figures of ``department`` and below for the city overview (docs/overview.md): occupancy of the
    parks' leasable area, resident enterprises, open device alarms, and today's energy — what the parks' meters
    (``totalActiveEnergyImport``) counted since local midnight, with yesterday, last week and 7 days (4 queries)."""
    check_scope(actor, department)
    bounds = day_starts()
    meters = Device.objects.filter(app="park", kind="meter", department__path__startswith=department.path)
    kwh = [round(v, 1) for v in iot_selectors.counter_rises(meters, ENERGY_KEY, bounds)]
    units = Unit.objects.filter(floor__building__park__department__path__startswith=department.path).aggregate(
        total=Sum("area"), leased=Sum("area", filter=Q(status=UnitStatus.LEASED)))
    enterprises = Enterprise.objects.filter(park__department__path__startswith=department.path).count()
    alarms = Alarm.objects.filter(app="park", status__in=OPEN_STATUSES,
                                  department__path__startswith=department.path).count()
    area, leased = float(units["total"] or 0), float(units["leased"] or 0)
    common = {"app": "park", "department": department, "url": reverse("park:index")}
    return [
        indicator(key="occupancy", name="园区出租率", name_en="Park occupancy", unit="%",
                  value=round(100 * leased / area, 1) if area else 0.0, **common),
        indicator(key="enterprises", name="入驻企业", name_en="Resident enterprises", unit="家", value=enterprises,
                  **common),
        indicator(key="open_alarms", name="园区设备告警", name_en="Open park alarms", unit="条", value=alarms, **common),
        indicator(key="energy_today", name="今日用电", name_en="Energy today", unit="kWh", value=kwh[-1],
                  yesterday=kwh[-2], last_week=kwh[0],
                  series=[[b.date().isoformat(), v] for b, v in zip(bounds[1:-1], kwh[1:], strict=True)], **common),
    ]


def alerts(*, actor, department, limit: int = 20) -> list[dict]:
    """Open critical and major device alarms of the parks of ``department`` and below (two queries)."""
    check_scope(actor, department)
    rows = list(Alarm.objects.filter(app="park", status__in=OPEN_STATUSES,
                                     department__path__startswith=department.path)
                .select_related("rule", "device", "department").order_by("-raised_at")[:limit])
    parks = {str(p.pk): p.pk for p in Park.objects.filter(
        pk__in={int(a.device.tags.get("park")) for a in rows if str(a.device.tags.get("park", "")).isdigit()})}
    out = []
    for a in rows:
        park_id = parks.get(str(a.device.tags.get("park", "")))
        url = reverse("park:alarms", args=[park_id]) if park_id else reverse("park:index")
        out.append(core_alert(app="park", key=f"alarm:{a.pk}", kind="园区设备告警", kind_en="Park alarm",
                              title=f"{a.device.name} · {a.rule.name}", at=a.raised_at, url=url,
                              level="red" if a.severity in ("critical", "major") else "orange",
                              department_name=a.department.name))
    return out


def map_markers(*, actor, department) -> list[dict]:
    """For the overview's map: each park of ``department`` and below, with its open alarms (two queries)."""
    check_scope(actor, department)
    parks = list(Park.objects.filter(department__path__startswith=department.path).select_related("department")
                 .order_by("code")[:500])
    open_by_park = Counter()
    for tags in Device.objects.filter(app="park", alarms__status__in=OPEN_STATUSES,
                                      department__path__startswith=department.path).values_list("tags", flat=True):
        open_by_park[str((tags or {}).get("park", ""))] += 1
    return [marker(app="park", key=f"park:{p.pk}", kind="园区", kind_en="Park", name=p.name,
                   status="alert" if open_by_park[str(p.pk)] else "ok",
                   status_label=f"设备告警 {open_by_park[str(p.pk)]} 条" if open_by_park[str(p.pk)] else "运行正常",
                   department=p.department, url=reverse("park:dashboard", args=[p.pk])) for p in parks]
