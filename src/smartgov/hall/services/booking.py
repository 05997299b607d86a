"""Appointments (预约): slots from the hall's working plan, booking rules, QR confirmation, no-shows."""

import datetime
import secrets

from django.db import IntegrityError, connection, transaction
from django.db.models import F

from smartgov.audit.services import record
from smartgov.core.errors import Conflict, Forbidden, InvalidInput, NotFound
from smartgov.core.permissions import is_system, require

from .. import selectors
from ..models import Appointment, AppointmentStatus, HallService, Slot
from ._common import emit, emit_many, hall_transaction, local, now_or


def ensure_slots(service: HallService, day: datetime.date) -> list[Slot]:
    """The service's slots of ``day`` from the hall's working plan (created once; safe to call twice)."""
    hall = service.hall
    wanted = selectors.slot_periods(hall, day)
    if not wanted:
        return []
    Slot.objects.bulk_create([Slot(service=service, starts_at=s, ends_at=e, capacity=service.slot_capacity)
                              for s, e in wanted], ignore_conflicts=True)
    return list(Slot.objects.filter(service=service, starts_at__gte=wanted[0][0], starts_at__lte=wanted[-1][0]))


# The last place is taken by this one statement: on PostgreSQL a second booker waits for the first's row
# lock, re-reads the row and matches nothing; the check constraint booked <= capacity backs it.
_TAKE_PLACE = (f"UPDATE {Slot._meta.db_table} SET booked = booked + 1"  # noqa: S608
               " WHERE service_id = %s AND starts_at = %s AND booked < capacity RETURNING id")


def _take_place(service: HallService, starts_at: datetime.datetime) -> int | None:
    """The slot's id if a place was taken, None if it is full or not made yet."""
    with connection.cursor() as cur:
        cur.execute(_TAKE_PLACE, [service.pk, connection.ops.adapt_datetimefield_value(starts_at)])
        row = cur.fetchone()
    return row[0] if row else None


def _new_number(at) -> str:
    return local(at).strftime("%Y%m%d") + "".join(secrets.choice("0123456789") for _ in range(8))


@hall_transaction()
def book_appointment(*, actor, service: HallService, starts_at: datetime.datetime,
                     at: datetime.datetime | None = None) -> Appointment:
    """预约: one slot of one service. Rules (each a stable error code): the slot is in the working plan
    (``no_such_slot``), at least ``lead_minutes`` ahead (``too_late_to_book``) and within ``horizon_days``
    (``beyond_horizon``); no temporary ban for no-shows (``booking_banned``); one active booking per person
    and service (``already_booked``); and the slot has room (``slot_full``) — decided by one conditional
    UPDATE, so two people can never both get the last place."""
    require(actor, "hall.book")
    person = getattr(actor, "person", None)
    if person is None:
        raise Forbidden("请先用EID实名认证后再预约", code="person_required")
    now = now_or(at)
    hall = service.hall
    starts_at = local(starts_at)
    if starts_at not in {s for s, _ in selectors.slot_periods(hall, starts_at.date())}:
        raise InvalidInput("该时段不可预约", code="no_such_slot")
    if starts_at < now + datetime.timedelta(minutes=hall.lead_minutes):
        raise Conflict(f"须至少提前 {hall.lead_minutes} 分钟预约", code="too_late_to_book")
    if starts_at.date() > local(now).date() + datetime.timedelta(days=hall.horizon_days):
        raise Conflict(f"只能预约 {hall.horizon_days} 天内的时段", code="beyond_horizon")
    banned_until = selectors.booking_ban_until(hall, person, now)
    if banned_until is not None:
        raise Conflict(f"因多次爽约，{local(banned_until):%Y-%m-%d} 前暂停预约", code="booking_banned",
                       detail={"until": banned_until.isoformat()})
    if Appointment.objects.filter(person=person, service=service, status=AppointmentStatus.BOOKED).exists():
        raise Conflict("您已有该业务的有效预约", code="already_booked")
    slot_id = _take_place(service, starts_at)
    if slot_id is None and not Slot.objects.filter(service=service, starts_at=starts_at).exists():
        ensure_slots(service, starts_at.date())  # the day's first booking of this service makes its slots
        slot_id = _take_place(service, starts_at)
    if slot_id is None:
        raise Conflict("该时段已约满，请选择其他时段", code="slot_full")
    appointment = Appointment(hall=hall, service=service, slot_id=slot_id, person=person, user=actor,
                              number=_new_number(now), token=secrets.token_urlsafe(18))
    try:
        with transaction.atomic():
            appointment.save()
    except IntegrityError:  # the same person booking the same service twice at the same moment
        raise Conflict("您已有该业务的有效预约", code="already_booked") from None
    emit_many(hall.pk, [("booked", {"service": service.code, "slot": starts_at.isoformat()})], now)
    record(actor=actor, action="hall.appointment.book", target=appointment,
           changes={"service": service.code, "slot": starts_at.isoformat()})
    return appointment


@hall_transaction()
def cancel_appointment(*, actor, appointment: Appointment, at: datetime.datetime | None = None) -> Appointment:
    """Cancel up to ``cancel_minutes`` before the slot; the place goes back to the slot."""
    now = now_or(at)
    appt = Appointment.objects.select_for_update().select_related("slot", "hall").get(pk=appointment.pk)
    if not is_system(actor) and appt.user_id != getattr(actor, "pk", None):
        raise NotFound()
    if appt.status != AppointmentStatus.BOOKED:
        raise Conflict("该预约已不能取消", code="not_cancellable")
    if now > appt.slot.starts_at - datetime.timedelta(minutes=appt.hall.cancel_minutes):
        raise Conflict(f"须在时段开始 {appt.hall.cancel_minutes} 分钟前取消", code="cancel_deadline_passed")
    appt.status, appt.cancelled_at = AppointmentStatus.CANCELLED, now
    appt.save(update_fields=["status", "cancelled_at", "updated_at"])
    Slot.objects.filter(pk=appt.slot_id).update(booked=F("booked") - 1)
    emit(appt.hall_id, "cancelled", {"service": appt.service_id, "slot": appt.slot.starts_at.isoformat()}, now)
    record(actor=actor, action="hall.appointment.cancel", target=appt)
    return appt


@hall_transaction()
def mark_no_shows(*, actor, hall, at: datetime.datetime | None = None) -> int:
    """爽约: bookings whose slot began more than ``late_minutes`` ago without arrival. Counted against the
    person's booking rights (``no_show_limit`` within ``no_show_window_days`` → ``ban_days`` ban)."""
    require(actor, "hall.manage", department=hall.department)
    now = now_or(at)
    late = now - datetime.timedelta(minutes=hall.late_minutes)
    ids = list(Appointment.objects.select_for_update().filter(
        hall=hall, status=AppointmentStatus.BOOKED, slot__starts_at__lt=late).values_list("id", flat=True))
    if ids:
        Appointment.objects.filter(id__in=ids).update(status=AppointmentStatus.NO_SHOW, updated_at=now)
        emit(hall, "no_shows", {"count": len(ids)}, now)
        record(actor=actor, action="hall.appointment.no_show", target=hall, changes={"appointments": ids})
    return len(ids)
