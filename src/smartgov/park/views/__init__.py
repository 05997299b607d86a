"""Pages: the parks in scope, a park's 一张图 (occupancy, industry mix, output and tax, energy, floor plan,
live alarms, visitors today), an enterprise (leases, bills, energy statements), forms to register
enterprises, leases and devices, the visitor log with the gate (htmx) and a visitor's QR pass. Views
validate and call one service."""

from datetime import date, datetime, timedelta

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from smartgov.core.errors import DomainError, InvalidInput, NotFound
from smartgov.core.masking import mask_id_number, mask_name, mask_phone
from smartgov.core.pdf import qr_svg
from smartgov.core.permissions import has_perm
from smartgov.iot import selectors as iot_selectors
from smartgov.iot import services as iot_services
from smartgov.iot.readings import telemetry_topic

from .. import excel, selectors, services
from ..industry import SECTIONS
from ..models import BandKind, Building, EnergyStatement, Floor, LeaseStatus, Unit, VisitStatus
from ..passes import pass_token


def _month(request) -> date:
    raw = request.GET.get("month", "")
    try:
        return date.fromisoformat(raw + "-01") if raw else timezone.localdate().replace(day=1)
    except ValueError:
        return timezone.localdate().replace(day=1)


@login_required
def index(request):
    parks = list(selectors.parks_for(request.user))
    if len(parks) == 1:
        return redirect("park:dashboard", parks[0].pk)
    return render(request, "park/index.html", {"parks": parks})


@login_required
def dashboard(request, park_id: int):
    """园区一张图."""
    park = selectors.get_park_for(request.user, park_id)
    month = _month(request)
    buildings = list(park.buildings.prefetch_related("floors"))
    floor = None
    floor_id = request.GET.get("floor", "")
    if floor_id.isdigit():
        floor = Floor.objects.filter(pk=int(floor_id), building__park=park).first()
    if floor is None:
        floor = Floor.objects.filter(building__park=park, units__isnull=False).order_by("building__code", "number") \
            .first()
    charts = {"industry": selectors.enterprises_by_industry(park), "output": selectors.output_trend(park),
              "energy": selectors.energy_by_enterprise(park, month), "occupancy": selectors.occupancy(park)}
    return render(request, "park/dashboard.html", {
        "park": park, "buildings": buildings, "floor": floor, "plan": selectors.floor_plan(floor) if floor else None,
        "charts": charts, "month": month, "enterprises": list(park.enterprises.all()),
        "devices": list(selectors.park_devices(park)[:50]), "can_manage": has_perm(request.user, "park.manage"),
        "can_lease": has_perm(request.user, "park.lease"), "sections": SECTIONS,
        "vacant_units": list(Unit.objects.filter(floor__building__park=park, status="vacant")
                             .select_related("floor__building")),
        "device_kinds": services.DEVICE_KINDS,
        "visitors": selectors.visitors_today(park, timezone.localdate()),
        "tariff": list(selectors.tariff(park)),
        "anomalies": list(selectors.recent_anomalies(park, since=timezone.localdate() - timedelta(days=7))[:50]),
        "can_visitors": has_perm(request.user, "park.visitors"),
    })


@login_required
def alarms(request, park_id: int):
    """The live alarm panel (htmx polls it every few seconds)."""
    park = selectors.get_park_for(request.user, park_id)
    rows = list(iot_selectors.open_alarms(app="park", department_path=park.department.path))
    rows = [a for a in rows if a.device.tags.get("park") == str(park.id)]
    return render(request, "park/_alarms.html", {"park": park, "alarms": rows,
                                                 "can_handle": has_perm(request.user, "iot.handle_alarm")})


@login_required
@require_POST
def acknowledge(request, park_id: int, alarm_id: int):
    park = selectors.get_park_for(request.user, park_id)
    alarm = iot_selectors.open_alarms(app="park", department_path=park.department.path, limit=1000)
    alarm = next((a for a in alarm if a.pk == alarm_id), None)
    if alarm is None:
        raise NotFound("没有这条告警", code="alarm_not_found")
    try:
        iot_services.acknowledge_alarm(actor=request.user, alarm=alarm)
    except DomainError as exc:
        messages.error(request, exc.message)
    return redirect("park:dashboard", park.pk)


@login_required
@require_POST
def register_enterprise(request, park_id: int):
    park = selectors.get_park_for(request.user, park_id)
    p = request.POST
    try:
        ent = services.register_enterprise(actor=request.user, park=park, name=p.get("name", ""), uscc=p.get("uscc", ""),
                                           industry=p.get("industry", ""), employees=int(p.get("employees") or 0),
                                           contact=p.get("contact", ""))
    except (DomainError, ValueError) as exc:
        messages.error(request, getattr(exc, "message", str(exc)))
        return redirect("park:dashboard", park.pk)
    messages.success(request, _("企业已登记入驻"))
    return redirect("park:enterprise", ent.pk)


@login_required
@require_POST
def create_lease(request, enterprise_id: int):
    ent = selectors.get_enterprise_for(request.user, enterprise_id)
    p = request.POST
    units = list(Unit.objects.filter(pk__in=[int(x) for x in p.getlist("units") if x.isdigit()],
                                     floor__building__park=ent.park))
    rent_free = []
    if p.get("free_start") and p.get("free_end"):
        rent_free = [[p["free_start"], p["free_end"]]]
    try:
        services.create_lease(actor=request.user, park=ent.park, enterprise=ent, code=p.get("code", "").strip(),
                              units=units, start_date=date.fromisoformat(p.get("start_date", "")),
                              end_date=date.fromisoformat(p.get("end_date", "")), monthly_rent=p.get("monthly_rent"),
                              deposit=p.get("deposit") or 0, rent_free=rent_free,
                              escalation_pct=p.get("escalation_pct") or 0)
    except (DomainError, ValueError) as exc:
        messages.error(request, getattr(exc, "message", None) or _("日期或金额格式不正确"))
    else:
        messages.success(request, _("合同已签订，账单已生成"))
    return redirect("park:enterprise", ent.pk)


@login_required
def enterprise(request, enterprise_id: int):
    ent = selectors.get_enterprise_for(request.user, enterprise_id)
    leases = list(ent.leases.prefetch_related("units__floor__building", "bills", "changes"))
    month = timezone.localdate().replace(day=1)
    meters = selectors.enterprise_meters(ent, month)
    return render(request, "park/enterprise.html", {
        "anomalies": list(selectors.recent_anomalies(ent.park, since=timezone.localdate() - timedelta(days=30),
                                                     devices=meters)[:50]),
        "ent": ent, "leases": leases, "statements": list(ent.energy_statements.all()[:24]),
        "vacant_units": list(Unit.objects.filter(floor__building__park=ent.park, status="vacant")
                             .select_related("floor__building")),
        "can_lease": has_perm(request.user, "park.lease"), "active": LeaseStatus.ACTIVE, "month": month,
    })


@login_required
@require_POST
def issue_statement(request, enterprise_id: int):
    ent = selectors.get_enterprise_for(request.user, enterprise_id)
    try:
        st = services.issue_energy_statement(actor=request.user, enterprise=ent,
                                             month=date.fromisoformat(request.POST.get("month", "") + "-01"))
    except (DomainError, ValueError) as exc:
        messages.error(request, getattr(exc, "message", None) or _("月份格式应为 YYYY-MM"))
        return redirect("park:enterprise", ent.pk)
    return redirect("park:statement", st.pk)


@login_required
def statement(request, statement_id: int):
    st = EnergyStatement.objects.select_related("enterprise__park").filter(pk=statement_id).first()
    if st is None:
        raise NotFound("没有这份账单", code="statement_not_found")
    selectors.get_enterprise_for(request.user, st.enterprise_id)  # scope
    bands = [{**b, "label": BandKind(b["kind"]).label} for b in st.bands or []]
    return render(request, "park/statement.html", {"st": st, "factor": services.GRID_EMISSION_FACTOR, "bands": bands})


@login_required
@require_POST
def provision_device(request, park_id: int):
    park = selectors.get_park_for(request.user, park_id)
    p = request.POST
    unit = Unit.objects.filter(pk=int(p["unit"]), floor__building__park=park).first() if p.get("unit", "").isdigit() \
        else None
    building = Building.objects.filter(pk=int(p["building"]), park=park).first() \
        if p.get("building", "").isdigit() else None
    try:
        device, secret = services.provision_device(actor=request.user, park=park, kind=p.get("kind", ""),
                                                   code=p.get("code", "").strip(), name=p.get("name", "").strip(),
                                                   building=building, unit=unit)
    except DomainError as exc:
        messages.error(request, exc.message)
        return redirect("park:dashboard", park.pk)
    return render(request, "park/device_secret.html", {"park": park, "device": device, "secret": secret,
                                                       "topic": telemetry_topic("smartgov", device.code)})


@login_required
@require_POST
def save_rule(request, park_id: int):
    park = selectors.get_park_for(request.user, park_id)
    p = request.POST
    data = {"name": p.get("name", ""), "match": "and", "device_kind": p.get("device_kind", ""),
            "severity": p.get("severity", "major")}
    try:
        if p.get("escalate", "").strip():
            data["escalate_after_minutes"] = int(p["escalate"])
        if p.get("kind") == "no_data":
            data.update(kind="no_data", no_data_minutes=int(p.get("minutes") or 0))
        else:
            data["conditions"] = [{"key": p.get("key", ""), "cmp": p.get("cmp", ">"), "value": float(p.get("value")),
                                   "for_seconds": int(float(p.get("minutes") or 0) * 60)}]
        services.save_rule(actor=request.user, park=park, data=data)
    except (DomainError, ValueError, TypeError) as exc:
        messages.error(request, getattr(exc, "message", None) or _("阈值和分钟数应为数值"))
    else:
        messages.success(request, _("告警规则已保存"))
    return redirect("park:dashboard", park.pk)


# ---------------------------------------------------------------- lease import
@login_required
def lease_template(request):
    resp = HttpResponse(excel.lease_template(),
                        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    resp["Content-Disposition"] = 'attachment; filename="park-leases.xlsx"'
    return resp


@login_required
@require_POST
def import_leases(request, park_id: int):
    """存量合同导入: all or nothing; a refused workbook answers a page listing every bad row."""
    park = selectors.get_park_for(request.user, park_id)
    upload = request.FILES.get("file")
    try:
        if upload is None:
            raise InvalidInput(_("请选择要导入的 Excel 文件"), code="file_required")
        if upload.size > excel.MAX_BYTES:
            raise InvalidInput(_("文件超过 5 MB"), code="file_too_large")
        done = excel.import_leases(actor=request.user, park=park, data=upload.read())
    except DomainError as exc:
        return render(request, "park/lease_import.html", {
            "park": park, "message": exc.message, "errors": exc.detail if isinstance(exc.detail, list) else []},
            status=422)
    messages.success(request, _("已导入合同 %(leases)s 份（新登记企业 %(enterprises)s 家），生成账单 %(bills)s 张") % done)
    return redirect("park:dashboard", park.pk)


# ---------------------------------------------------------------- energy
BAND_WORDS = {"峰": "peak", "平": "flat", "谷": "valley", "peak": "peak", "flat": "flat", "valley": "valley"}


def _tariff_lines(text: str) -> list[dict]:
    """Lines of ``峰 08:00 11:00 1.2035`` (or ``peak 08:00-11:00 1.2035``) from the tariff form."""
    out = []
    for n, line in enumerate((text or "").splitlines(), 1):
        parts = line.replace("-", " ").replace("～", " ").split()
        if not parts:
            continue
        if len(parts) != 4 or parts[0] not in BAND_WORDS:
            raise InvalidInput(_("第 %(n)s 行应为：峰/平/谷 开始 结束 电价，如“峰 08:00 11:00 1.2”") % {"n": n},
                               code="invalid_tariff")
        out.append({"kind": BAND_WORDS[parts[0]], "start": parts[1], "end": parts[2], "price": parts[3]})
    return out


@login_required
@require_POST
def set_tariff(request, park_id: int):
    park = selectors.get_park_for(request.user, park_id)
    try:
        services.set_tariff(actor=request.user, park=park, bands=_tariff_lines(request.POST.get("bands", "")))
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("分时电价已保存"))
    return redirect("park:dashboard", park.pk)


@login_required
@require_POST
def detect_anomalies(request, park_id: int):
    park = selectors.get_park_for(request.user, park_id)
    try:
        day = date.fromisoformat(request.POST.get("day", ""))
    except ValueError:
        day = timezone.localdate() - timedelta(days=1)
    try:
        found = services.detect_energy_anomalies(actor=request.user, park=park, day=day)
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("已检查 %(day)s 的能耗，发现异常 %(n)s 项") % {"day": day.isoformat(), "n": len(found)})
    return redirect("park:dashboard", park.pk)


# ---------------------------------------------------------------- visitors
def _day(request) -> date:
    try:
        return date.fromisoformat(request.GET.get("day", ""))
    except ValueError:
        return timezone.localdate()


def _local_datetime(raw: str) -> datetime:
    """A ``datetime-local`` field (no zone) read in the installation's time zone."""
    try:
        value = datetime.fromisoformat(raw or "")
    except ValueError:
        raise InvalidInput(_("时间格式不正确"), code="invalid_datetime") from None
    return value if value.tzinfo else timezone.make_aware(value)


def _masked(visits) -> list[dict]:
    return [{"visit": v, "name": mask_name(v.name), "phone": mask_phone(v.phone),
             "id_number": mask_id_number(v.id_number)} for v in visits]


@login_required
def visitors(request, park_id: int):
    """访客: the day's log, pre-registration for a host enterprise, and the gate (scan a pass: in or out)."""
    park = selectors.get_park_for(request.user, park_id)
    day = _day(request)
    rows = _masked(selectors.visit_log(request.user, park, day))
    now = timezone.localtime().replace(second=0, microsecond=0)
    return render(request, "park/visitors.html", {
        "park": park, "day": day, "rows": rows, "enterprises": list(park.enterprises.all()),
        "today": selectors.visitors_today(park, timezone.localdate()), "now": now,
        "until": now.replace(hour=23, minute=59) if now.hour < 23 else now})


@login_required
def visit_log(request, park_id: int):
    """The log table alone, with today's figures swapped in out of band (htmx reloads both after a gate event)."""
    park = selectors.get_park_for(request.user, park_id)
    day = _day(request)
    return render(request, "park/_visit_log.html", {"park": park, "day": day,
                                                    "rows": _masked(selectors.visit_log(request.user, park, day)),
                                                    "oob_today": selectors.visitors_today(park, timezone.localdate())})


@login_required
@require_POST
def register_visit(request, park_id: int):
    park = selectors.get_park_for(request.user, park_id)
    p = request.POST
    ent = park.enterprises.filter(pk=int(p["enterprise"])).first() if p.get("enterprise", "").isdigit() else None
    try:
        if ent is None:
            raise InvalidInput(_("请选择被访企业"), code="enterprise_required")
        visit = _register_visit_from(request, ent)
    except DomainError as exc:
        messages.error(request, exc.message)
        return redirect("park:visitors", park.pk)
    messages.success(request, _("访客已登记，通行证已生成"))
    return redirect("park:visit", visit.pk)


def _register_visit_from(request, ent):
    """The pre-registration form (front desk's or host's) for host ``ent``."""
    p = request.POST
    return services.register_visit(actor=request.user, enterprise=ent, name=p.get("name", ""),
                                   phone=p.get("phone", ""), id_number=p.get("id_number", ""),
                                   purpose=p.get("purpose", ""), valid_from=_local_datetime(p.get("valid_from")),
                                   valid_until=_local_datetime(p.get("valid_until")))


def _cancel_visit_and_show(request, v, page: str):
    try:
        services.cancel_visit(actor=request.user, visit=v)
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("预约已取消"))
    return redirect(page, v.pk)


@login_required
@require_POST
def gate(request, park_id: int):
    """闸机: a scanned pass checked in or out; answers the result panel (htmx) and tells the log to reload."""
    park = selectors.get_park_for(request.user, park_id)
    p = request.POST
    action = services.check_out if p.get("direction") == "out" else services.check_in
    try:
        visit = action(actor=request.user, token=p.get("token", ""), gate=p.get("gate", ""))
    except DomainError as exc:
        response = render(request, "park/_gate_result.html", {"park": park, "error": exc.message})
    else:
        response = render(request, "park/_gate_result.html", {"park": park, "visit": visit,
                                                              "name": mask_name(visit.name)})
        response["HX-Trigger"] = "visits-changed"
    return response


@login_required
def visit(request, visit_id: int):
    """A visitor's pass: the QR code of its signed token, the window, masked personal data."""
    return _pass_page(request, selectors.get_visit_for(request.user, visit_id), mine=False)


def _pass_page(request, v, *, mine: bool):
    # the SVG core.pdf draws from our own signed token: markup we made, not user text
    qr = mark_safe(qr_svg(pass_token(v.pk), scale=5)) if v.status == VisitStatus.REGISTERED else ""  # noqa: S308
    return render(request, "park/visit.html", {
        "park": v.park, "v": v, "qr_svg": qr, "token": pass_token(v.pk), "name": mask_name(v.name),
        "phone": mask_phone(v.phone), "id_number": mask_id_number(v.id_number),
        "can_cancel": v.status == VisitStatus.REGISTERED, "mine": mine})


@login_required
@require_POST
def cancel_visit(request, visit_id: int):
    return _cancel_visit_and_show(request, selectors.get_visit_for(request.user, visit_id), "park:visit")


# ---------------------------------------------------------------- the host enterprise's own visitors (我的园区)
@login_required
@require_POST
def my_register_visit(request, enterprise_id: int):
    ent = selectors.get_resident_enterprise_for(request.user, enterprise_id)
    try:
        visit = _register_visit_from(request, ent)
    except DomainError as exc:
        messages.error(request, exc.message)
        return redirect("park:my")
    messages.success(request, _("访客已登记，通行证已生成"))
    return redirect("park:my_visit", visit.pk)


@login_required
def my_visit(request, visit_id: int):
    """The host's view of a pass: the same page as the front desk's, reached from 我的园区."""
    return _pass_page(request, selectors.get_my_visit(request.user, visit_id), mine=True)


@login_required
@require_POST
def my_cancel_visit(request, visit_id: int):
    return _cancel_visit_and_show(request, selectors.get_my_visit(request.user, visit_id), "park:my_visit")
