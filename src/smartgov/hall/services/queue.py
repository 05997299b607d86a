"""The queue (排队叫号): tickets, priority classes with the fairness rule, calls, the announcement schedule.

Fairness rule (docs/hall.md): a ticket's ``order_key`` is its issue time minus its class's head start
(绿色通道 ``green_head_start`` minutes, an appointment kept on time ``appointment_head_start``, walk-in 0),
and every window calls the waiting ticket with the smallest key among the services it serves. So a
ticket can only be overtaken by tickets issued less than the largest head start after it: once a walk-in
has waited ``green_head_start`` minutes, nobody who arrives later is called before it — no one starves,
however many priority tickets keep coming.
"""

import datetime
import secrets

from django.db import connection

from smartgov.audit.services import record
from smartgov.core.errors import Conflict, Forbidden, InvalidInput, NotFound
from smartgov.core.permissions import is_system, require
from smartgov.eid.services import resolve_person, verify_eid_payload

from ..models import (
    Announcement,
    Appointment,
    AppointmentStatus,
    Hall,
    HallService,
    Priority,
    Ticket,
    TicketCounter,
    TicketSource,
    TicketStatus,
    Window,
)
from ._common import emit, emit_many, hall_transaction, local, now_or

GREEN_AGE = 70  # 老年人 (70 and over) get the green channel without asking


def head_start(hall: Hall, priority: str) -> datetime.timedelta:
    minutes = {Priority.GREEN: hall.green_head_start, Priority.APPOINTMENT: hall.appointment_head_start}
    return datetime.timedelta(minutes=minutes.get(priority, 0))


def _age(person, day: datetime.date) -> int:
    b = person.birth_date
    return day.year - b.year - ((day.month, day.day) < (b.month, b.day))


def _appointment_priority(appt: Appointment, now: datetime.datetime) -> str:
    hall = appt.hall
    start = appt.slot.starts_at
    if now < start - datetime.timedelta(minutes=hall.early_minutes):
        raise Conflict(f"预约时段为 {local(start):%H:%M}，请于开始前 {hall.early_minutes} 分钟内取号",
                       code="too_early")
    on_time = now <= start + datetime.timedelta(minutes=hall.late_minutes)
    return Priority.APPOINTMENT if on_time else Priority.WALK_IN


def _person_from_eid(payload: str):
    outcome = verify_eid_payload(payload)
    if not outcome.ok:
        raise InvalidInput(outcome.message, code=f"eid_{outcome.code}")
    person = resolve_person("eid", outcome.claims["eid"])
    if person is None:
        raise InvalidInput("该EID已不是有效状态", code="eid_revoked")
    return person


def issue_ticket(*, actor, hall: Hall, service: HallService | None = None, appointment_token: str = "",
                 eid_payload: str = "", green: bool = False, at: datetime.datetime | None = None) -> Ticket:
    """取号 at the kiosk or the guide desk: from an appointment's QR code (on time → 预约准时, late → 现场),
    from an EID QR code (with the person's booking of today, if any), or walk-in. ``green`` is the guide's
    decision for 老弱病残孕 (70 and over are recognised from the register).

    What needs no lock — the permission, the EID signature, a walk-in's service — is checked before the
    transaction; inside it, the booking (locked), the number (one upsert) and the ticket (one INSERT)."""
    require(actor, "hall.kiosk", department=hall.department)
    now = now_or(at)
    person = None
    if eid_payload and not appointment_token:
        person = _person_from_eid(eid_payload)
    checked = None
    if not appointment_token and not eid_payload:
        _check_service(hall, service)
        checked = service
    with hall_transaction():
        return _issue_ticket(actor=actor, hall=hall, service=service, checked=checked, person=person,
                             appointment_token=appointment_token, eid=bool(eid_payload), green=green, now=now)


_SERVED = (f"SELECT 1 FROM {Window._meta.db_table} w JOIN {Window.services.through._meta.db_table} ws"  # noqa: S608
           " ON ws.window_id = w.id WHERE ws.hallservice_id = %s AND w.active LIMIT 1")


def _check_service(hall: Hall, service: HallService | None) -> None:
    if service is None:
        raise InvalidInput("请选择办理的业务", code="service_required")
    if service.hall_id != hall.pk:
        raise InvalidInput("该业务不在本大厅办理", code="wrong_hall")
    with connection.cursor() as cur:
        cur.execute(_SERVED, [service.pk])
        if cur.fetchone() is None:
            raise Conflict("本大厅暂无受理该业务的窗口", code="no_window")


def _issue_ticket(*, actor, hall, service, checked, person, appointment_token, eid, green, now) -> Ticket:
    day = local(now).date()
    appt = None
    source = TicketSource.WALK_IN
    if appointment_token:
        appt = (Appointment.objects.select_for_update(of=("self",)).select_related("slot", "hall", "person", "service")
                .filter(token=appointment_token.strip(), hall=hall).first())
        if appt is None:
            raise NotFound("未找到该预约", code="no_such_appointment")
        source = TicketSource.APPOINTMENT
    elif eid:
        source = TicketSource.EID
        booked = Appointment.objects.select_for_update(of=("self",)).select_related("slot", "hall", "person", "service")
        booked = booked.filter(hall=hall, person=person, status=AppointmentStatus.BOOKED,
                               slot__starts_at__date=day)
        appt = (booked.filter(service=service) if service else booked).order_by("slot__starts_at").first()
    if appt is not None:
        if appt.status != AppointmentStatus.BOOKED:
            raise Conflict(f"该预约状态为“{AppointmentStatus(appt.status).label}”，不能取号", code="appointment_used")
        if local(appt.slot.starts_at).date() != day:
            raise Conflict(f"该预约在 {local(appt.slot.starts_at):%Y-%m-%d}，不是今天", code="not_today")
        priority = _appointment_priority(appt, now)
        service, person = appt.service, appt.person
        appt.status, appt.arrived_at = AppointmentStatus.ARRIVED, now
        appt.save(update_fields=["status", "arrived_at", "updated_at"])
    else:
        priority = Priority.WALK_IN
    if service is not checked:
        _check_service(hall, service)
    if green or (person is not None and _age(person, day) >= GREEN_AGE):
        priority = Priority.GREEN
    seq = _next_seq(service, day)
    ticket = _insert_ticket(hall=hall, service=service, day=day, seq=seq, source=source, priority=priority,
                            order_key=now - head_start(hall, priority), appointment=appt, person=person, now=now)
    emit_many(hall.pk, [("ticket", {"ticket": ticket.number, "service": service.code, "priority": priority})], now)
    record(actor=actor, action="hall.ticket.issue", target=ticket,
           changes={"source": source, "priority": priority, "appointment": appt.pk if appt else None})
    return ticket


_TICKET_INSERT = (f"INSERT INTO {Ticket._meta.db_table} (hall_id, service_id, day, seq, number, source, priority,"  # noqa: S608
                  " order_key, appointment_id, person_id, status, calls, issued_at, token)"
                  " VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)"
                  f" RETURNING {', '.join(f.column for f in Ticket._meta.concrete_fields)}")


def _insert_ticket(*, hall, service, day, seq, source, priority, order_key, appointment, person, now) -> Ticket:
    """One INSERT … RETURNING (the ORM's ``create`` costs more to compile than to run here)."""
    ops = connection.ops
    with connection.cursor() as cur:
        cur.execute(_TICKET_INSERT, [
            hall.pk, service.pk, ops.adapt_datefield_value(day), seq, f"{service.code}{seq:03d}", source, priority,
            ops.adapt_datetimefield_value(order_key), appointment.pk if appointment else None,
            person.pk if person else None, TicketStatus.WAITING, 0, ops.adapt_datetimefield_value(now),
            secrets.token_urlsafe(18)])
        ticket = _from_row(Ticket, cur.fetchone())
    ticket.hall, ticket.service, ticket.appointment, ticket.person = hall, service, appointment, person
    return ticket


_NEXT_SEQ = (f"INSERT INTO {TicketCounter._meta.db_table} (service_id, day, last) VALUES (%s, %s, 1)"  # noqa: S608
             f" ON CONFLICT (service_id, day) DO UPDATE SET last = {TicketCounter._meta.db_table}.last + 1"
             " RETURNING last")


def _next_seq(service: HallService, day: datetime.date) -> int:
    """The service's next ticket number of the day, in one statement (the counter row's lock orders
    concurrent kiosks; the unique ticket number backs it)."""
    with connection.cursor() as cur:
        cur.execute(_NEXT_SEQ, [service.pk, connection.ops.adapt_datefield_value(day)])
        return cur.fetchone()[0]


# --------------------------------------------------------------------------- calling


def _on_duty(actor, window: Window, day: datetime.date) -> None:
    require(actor, "hall.call", department=window.hall.department, hide=True)
    if is_system(actor):
        return
    if not window.duties.filter(officer=actor, day=day).exists():
        raise Forbidden("您今天不在该窗口值班", code="not_on_duty")


SECONDS_PER_CHAR = 0.28  # Mandarin TTS at a calm hall pace (about 3.5 syllables a second)
PAUSE_SECONDS = 1.5


def announcement_text(ticket: Ticket, window: Window) -> str:
    return f"请{ticket.number}号到{window.number}号窗口办理"


_EPOCH = datetime.datetime(1970, 1, 1, tzinfo=datetime.UTC)
_US = datetime.timedelta(microseconds=1)
_HALL, _TICKET, _ANN = Hall._meta.db_table, Ticket._meta.db_table, Announcement._meta.db_table
_WINDOW_SERVICES = Window.services.through._meta.db_table
# One statement moves the hall's announcement clock on and says where this announcement starts: the
# later of now and the end of the previous one. On PostgreSQL the row lock it takes orders the hall's
# calls until commit, so the schedule is a total order; on SQLite the single writer does.
_CLOCK = {v: (f"UPDATE {_HALL} SET announced_until_us = {fn}(announced_until_us, %s) + %s"  # noqa: S608
              " WHERE id = %s RETURNING announced_until_us") for v, fn in (("sqlite", "MAX"), ("postgresql", "GREATEST"))}
_ANN_INSERT = (f"INSERT INTO {_ANN} (hall_id, ticket_id, window_id, text, speak_at, seconds)"  # noqa: S608
               " VALUES (%s, %s, %s, %s, %s, %s) RETURNING id")


def _announce(hall: Hall | int, ticket: Ticket, window: Window, now: datetime.datetime) -> Announcement:
    """Schedule the spoken call right after the previous one ends, so two calls are never spoken over each
    other: ``speak_at`` = max(now, end of the hall's previous announcement)."""
    hall_id = hall if isinstance(hall, int) else hall.pk
    text = announcement_text(ticket, window)
    seconds = round(len(text) * SECONDS_PER_CHAR + PAUSE_SECONDS, 2)
    length_us = round(seconds * 1_000_000)
    with connection.cursor() as cur:
        cur.execute(_CLOCK[connection.vendor], [(now - _EPOCH) // _US, length_us, hall_id])
        speak_at = _EPOCH + (cur.fetchone()[0] - length_us) * _US
        cur.execute(_ANN_INSERT, [hall_id, ticket.pk, window.pk, text,
                                  connection.ops.adapt_datetimefield_value(speak_at), seconds])
        pk = cur.fetchone()[0]
    return Announcement(pk=pk, hall_id=hall_id, ticket=ticket, window=window, text=text, speak_at=speak_at,
                        seconds=seconds)


def _call_payload(ticket: Ticket, window: Window, ann: Announcement) -> dict:
    return {"ticket": ticket.number, "window": window.number, "service": ticket.service.code,
            "text": ann.text, "speak_at": ann.speak_at.isoformat(), "seconds": ann.seconds}


_TICKET_COLUMNS = ", ".join(f.column for f in Ticket._meta.concrete_fields)
_FINISH = (f"UPDATE {_TICKET} SET status = %s, finished_at = %s"  # noqa: S608
           " WHERE window_id = %s AND status = %s RETURNING number")
# The waiting ticket with the smallest order key that this window may call (transferred to it, or of a
# service it serves), claimed in the same statement. SKIP LOCKED (PostgreSQL): a ticket another window is
# claiming right now is passed over instead of waited for.
_CLAIM = (f"UPDATE {_TICKET} SET status = %s, window_id = %s, calls = 1, called_at = %s"  # noqa: S608
          f" WHERE status = %s AND id = (SELECT id FROM {_TICKET} WHERE hall_id = %s AND day = %s AND status = %s"
          "  AND (target_window_id = %s OR (target_window_id IS NULL AND service_id IN"
          f"   (SELECT hallservice_id FROM {_WINDOW_SERVICES} WHERE window_id = %s)))"
          "  ORDER BY order_key, id LIMIT 1{skip_locked})"
          f" RETURNING {_TICKET_COLUMNS}")


_SERVICES = (f"SELECT {', '.join(f.column for f in HallService._meta.concrete_fields)}"  # noqa: S608
             f" FROM {HallService._meta.db_table} WHERE hall_id = %s")


def _converters(model) -> list:
    """Per column of ``model``, the functions the ORM applies to a value read from this database."""
    out = []
    for f in model._meta.concrete_fields:
        col = f.get_col(model._meta.db_table)
        out.append((col, (*connection.ops.get_db_converters(col), *f.get_db_converters(connection))))
    return out


_converter_cache: dict[tuple[str, type], list] = {}


def _from_row(model, row):
    """A model instance from a row of all its columns as the database returned them (e.g. by RETURNING),
    converted as the ORM converts them."""
    key = (connection.vendor, model)
    if key not in _converter_cache:
        _converter_cache[key] = _converters(model)
    values = []
    for (col, converters), value in zip(_converter_cache[key], row, strict=True):
        for convert in converters:
            value = convert(value, col, connection)
        values.append(value)
    return model.from_db(connection.alias, [f.attname for f in model._meta.concrete_fields], values)


def call_next(*, actor, window: Window, at: datetime.datetime | None = None) -> Ticket | None:
    """叫号: finish the window's current ticket and call the waiting one with the smallest order key among
    the services the window serves (or transferred to this window). None when nobody waits.

    This runs for every call at every window, so the transaction holds only prepared statements (finish,
    claim, announcement clock, announcement, events, audit entry) and everything else is done before it:
    the duty check and the hall's services (a handful of rows) are read first."""
    now = now_or(at)
    day = local(now).date()
    _on_duty(actor, window, day)
    with connection.cursor() as cur:
        cur.execute(_SERVICES, [window.hall_id])
        services = {s.pk: s for s in (_from_row(HallService, row) for row in cur.fetchall())}
    stamp, adapt = connection.ops.adapt_datetimefield_value(now), connection.ops.adapt_datefield_value
    skip_locked = " FOR UPDATE SKIP LOCKED" if connection.features.has_select_for_update_skip_locked else ""
    with hall_transaction(), connection.cursor() as cur:
        cur.execute(_FINISH, [TicketStatus.DONE, stamp, window.pk, TicketStatus.CALLED])
        events = [("finished", {"ticket": number, "window": window.number}) for (number,) in cur.fetchall()]
        cur.execute(_CLAIM.format(skip_locked=skip_locked),
                    [TicketStatus.CALLED, window.pk, stamp, TicketStatus.WAITING, window.hall_id, adapt(day),
                     TicketStatus.WAITING, window.pk, window.pk])
        row = cur.fetchone()
        if row is None:
            emit_many(window.hall_id, events, now)
            return None
        ticket = _from_row(Ticket, row)
        ticket.service, ticket.window = services[ticket.service_id], window
        ann = _announce(window.hall_id, ticket, window, now)
        emit_many(window.hall_id, [*events, ("call", _call_payload(ticket, window, ann))], now)
        record(actor=actor, action="hall.ticket.call", target=ticket,
               changes={"window": window.number, "waited_s": int((now - ticket.issued_at).total_seconds())})
    return ticket


def _called_here(actor, ticket: Ticket, now) -> Ticket:
    t = Ticket.objects.select_for_update(of=("self",)).select_related("window", "service", "hall").get(pk=ticket.pk)
    if t.status != TicketStatus.CALLED or t.window is None:
        raise Conflict("该号当前不在叫号状态", code="not_called")
    _on_duty(actor, t.window, local(now).date())
    return t


@hall_transaction()
def recall(*, actor, ticket: Ticket, at: datetime.datetime | None = None) -> Ticket:
    """重呼. After ``max_calls`` calls without the visitor coming, the ticket is 过号 (no-show)."""
    now = now_or(at)
    t = _called_here(actor, ticket, now)
    hall = t.hall
    if t.calls >= hall.max_calls:
        return _skip(actor, t, now, reason="max_calls")
    t.calls += 1
    t.save(update_fields=["calls"])
    ann = _announce(hall, t, t.window, now)
    emit(hall, "recall", {**_call_payload(t, t.window, ann), "calls": t.calls}, now)
    record(actor=actor, action="hall.ticket.recall", target=t, changes={"calls": t.calls})
    return t


def _skip(actor, t: Ticket, now, *, reason: str) -> Ticket:
    t.status, t.finished_at = TicketStatus.NO_SHOW, now
    t.save(update_fields=["status", "finished_at"])
    emit(t.hall_id, "skip", {"ticket": t.number, "window": t.window.number, "reason": reason}, now)
    record(actor=actor, action="hall.ticket.skip", target=t, changes={"calls": t.calls, "reason": reason})
    return t


@hall_transaction()
def skip(*, actor, ticket: Ticket, at: datetime.datetime | None = None) -> Ticket:
    """过号: the visitor did not come to the window."""
    now = now_or(at)
    return _skip(actor, _called_here(actor, ticket, now), now, reason="officer")


@hall_transaction()
def transfer(*, actor, ticket: Ticket, to_window: Window, at: datetime.datetime | None = None) -> Ticket:
    """转窗口: back to waiting, for ``to_window`` only, keeping its place (its order key)."""
    now = now_or(at)
    t = _called_here(actor, ticket, now)
    if to_window.hall_id != t.hall_id or not to_window.active or to_window.pk == t.window_id:
        raise InvalidInput("请选择本大厅的另一个在用窗口", code="invalid_window")
    source = t.window
    t.status, t.target_window, t.window, t.calls = TicketStatus.WAITING, to_window, None, 0
    t.save(update_fields=["status", "target_window", "window", "calls"])
    emit(t.hall_id, "transfer", {"ticket": t.number, "from": source.number, "to": to_window.number}, now)
    record(actor=actor, action="hall.ticket.transfer", target=t,
           changes={"from": source.number, "to": to_window.number})
    return t


@hall_transaction()
def finish_ticket(*, actor, ticket: Ticket, at: datetime.datetime | None = None) -> Ticket:
    """办结 at the window (the next call also finishes the current ticket)."""
    now = now_or(at)
    t = _called_here(actor, ticket, now)
    t.status, t.finished_at = TicketStatus.DONE, now
    t.save(update_fields=["status", "finished_at"])
    emit(t.hall_id, "finished", {"ticket": t.number, "window": t.window.number}, now)
    record(actor=actor, action="hall.ticket.finish", target=t)
    return t


@hall_transaction()
def rate_visit(*, actor, ticket: Ticket, grade: int) -> Ticket:
    """好差评 for the visit (1–5), given at the window's evaluator or the personal ticket page."""
    if grade not in range(1, 6):
        raise InvalidInput("评价须为1到5", code="invalid_grade")
    t = Ticket.objects.select_for_update().get(pk=ticket.pk)
    if t.status != TicketStatus.DONE:
        raise Conflict("办结后才能评价", code="not_finished")
    if t.grade is not None:
        raise Conflict("已评价", code="already_rated")
    t.grade = grade
    t.save(update_fields=["grade"])
    record(actor=actor, action="hall.ticket.rate", target=t, changes={"grade": grade})
    return t
