"""Halls, their services, windows, duty rosters (排班) and lockers."""

import datetime

from django.db import IntegrityError, transaction

from smartgov.audit.services import record
from smartgov.core.errors import Conflict, InvalidInput, validated
from smartgov.core.permissions import covers_department, is_system, require

from .. import selectors
from ..models import Duty, Hall, HallService, Locker, Window
from ._common import hall_transaction

RULES = ("open_non_workdays", "opens", "closes", "break_start", "break_end", "slot_minutes", "lead_minutes", "horizon_days",
         "cancel_minutes", "no_show_limit", "no_show_window_days", "ban_days", "early_minutes", "late_minutes",
         "max_calls", "green_head_start", "appointment_head_start", "locker_hold_days", "target_wait_minutes",
         "target_service_level")


@hall_transaction()
def create_hall(*, actor, department, code: str, name: str, address: str = "", **rules) -> Hall:
    require(actor, "hall.manage", department=department)
    unknown = set(rules) - set(RULES)
    if unknown:
        raise InvalidInput("未知的大厅规则", code="unknown_rule", detail=sorted(unknown))
    hall = Hall(department=department, code=code.strip(), name=name.strip(), address=address.strip(), **rules)
    validated(hall)
    if hall.opens >= hall.closes:
        raise InvalidInput("开门时间须早于关门时间", code="invalid_hours")
    if (hall.break_start is None) != (hall.break_end is None) or (
            hall.break_start and not hall.opens < hall.break_start < hall.break_end < hall.closes):
        raise InvalidInput("午休须在开放时间之内", code="invalid_break")
    if not 0 < hall.target_service_level < 1:
        raise InvalidInput("目标服务水平须在0与1之间", code="invalid_service_level")
    hall.save()
    record(actor=actor, action="hall.hall.create", target=hall, changes={"code": hall.code, "name": hall.name})
    return hall


@hall_transaction()
def add_service(*, actor, hall: Hall, code: str, name: str, item=None, mean_service_minutes: float = 8.0,
                slot_capacity: int = 4, patience_minutes: float = 30.0) -> HallService:
    require(actor, "hall.manage", department=hall.department)
    code = code.strip().upper()
    if not (1 <= len(code) <= 2 and code.isalpha() and code.isascii()):
        raise InvalidInput("叫号字母须为1–2个英文字母", code="invalid_code")
    if mean_service_minutes <= 0 or patience_minutes <= 0 or slot_capacity < 1:
        raise InvalidInput("办理时长、耐心和名额须为正数", code="invalid_parameters")
    service = HallService(hall=hall, code=code, name=name.strip(), item=item,
                          mean_service_minutes=mean_service_minutes, slot_capacity=slot_capacity,
                          patience_minutes=patience_minutes)
    validated(service, exclude=["hall", "item"])
    try:
        with transaction.atomic():
            service.save()
    except IntegrityError:
        raise Conflict("该叫号字母已被使用", code="duplicate_code") from None
    record(actor=actor, action="hall.service.create", target=service,
           changes={"hall": hall.code, "code": code, "item": item.pk if item else None})
    return service


@hall_transaction()
def add_window(*, actor, hall: Hall, number: int, services: list[HallService], name: str = "") -> Window:
    require(actor, "hall.manage", department=hall.department)
    if not services or any(s.hall_id != hall.pk for s in services):
        raise InvalidInput("窗口须受理本大厅的至少一项业务", code="invalid_services")
    try:
        with transaction.atomic():
            window = Window.objects.create(hall=hall, number=number, name=name or f"{number}号窗口")
    except IntegrityError:
        raise Conflict("窗口号已存在", code="duplicate_window") from None
    window.services.set(services)
    record(actor=actor, action="hall.window.create", target=window,
           changes={"hall": hall.code, "number": number, "services": [s.code for s in services]})
    return window


@hall_transaction()
def assign_duty(*, actor, window: Window, officer, day: datetime.date) -> Duty:
    """排班: ``officer`` works ``window`` on ``day`` (a working day of the core calendar)."""
    hall = window.hall
    require(actor, "hall.manage", department=hall.department)

    if not selectors.opening_periods(hall, day):
        raise InvalidInput("该日大厅不开放（非工作日）", code="not_workday")
    if is_system(officer) or not covers_department(officer, hall.department, include_descendants=False) \
            or not officer.is_active:
        raise InvalidInput("值班人员须为本大厅所属部门的在岗人员", code="officer_not_in_department")
    try:
        with transaction.atomic():
            duty = Duty.objects.create(window=window, officer=officer, day=day)
    except IntegrityError:
        raise Conflict("该窗口或该人员当天已有排班", code="duty_taken") from None
    record(actor=actor, action="hall.duty.assign", target=duty,
           changes={"window": window.number, "officer": officer.pk, "day": day})
    return duty


@hall_transaction()
def remove_duty(*, actor, duty: Duty) -> None:
    require(actor, "hall.manage", department=duty.window.hall.department)
    record(actor=actor, action="hall.duty.remove", target=duty,
           changes={"window": duty.window.number, "officer": duty.officer_id, "day": duty.day})
    duty.delete()


@hall_transaction()
def add_lockers(*, actor, hall: Hall, count: int, prefix: str = "L") -> list[Locker]:
    require(actor, "hall.manage", department=hall.department)
    if not 1 <= count <= 500:
        raise InvalidInput("柜格数须在1到500之间", code="invalid_count")
    start = Locker.objects.filter(hall=hall).count()
    lockers = Locker.objects.bulk_create(
        [Locker(hall=hall, code=f"{prefix}{start + i + 1:03d}") for i in range(count)])
    record(actor=actor, action="hall.locker.create", target=hall, changes={"count": count})
    return lockers
