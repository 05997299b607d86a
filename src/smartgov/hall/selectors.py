"""Reads of the hall: the working plan, free slots, bookings, the live display, ticket positions and ETAs."""

import datetime
import math

from django.db.models import Avg, Count, DurationField, ExpressionWrapper, F, Q
from django.urls import reverse
from django.utils import timezone

from smartgov.core.indicators import check_scope, daily_counts, day_starts, indicator, marker, series_of
from smartgov.core.permissions import scope
from smartgov.core.workdays import calendar

from .models import (
    Announcement,
    Appointment,
    AppointmentStatus,
    Duty,
    Hall,
    HallService,
    Slot,
    Ticket,
    TicketStatus,
    Window,
)


def halls_for(user):
    return scope(user, Hall.objects.select_related("department"))


def opening_periods(hall: Hall, day: datetime.date) -> list[tuple[datetime.datetime, datetime.datetime]]:
    """The hall's open periods on ``day``: none on a non-working day of the core calendar (节假日、周末,
    调休上班日 open), otherwise opening to closing minus the lunch break."""
    if not hall.open_non_workdays and not calendar().is_workday(day):
        return []
    tz = timezone.get_current_timezone()

    def at(t):
        return datetime.datetime.combine(day, t, tzinfo=tz)

    if hall.break_start and hall.break_end:
        return [(at(hall.opens), at(hall.break_start)), (at(hall.break_end), at(hall.closes))]
    return [(at(hall.opens), at(hall.closes))]


def slot_periods(hall: Hall, day: datetime.date) -> list[tuple[datetime.datetime, datetime.datetime]]:
    """Working plan → slots of ``slot_minutes`` that fit wholly in an open period."""
    step = datetime.timedelta(minutes=hall.slot_minutes)
    out = []
    for start, end in opening_periods(hall, day):
        t = start
        while t + step <= end:
            out.append((t, t + step))
            t += step
    return out


def free_slots(service: HallService, day: datetime.date, *, now: datetime.datetime | None = None) -> list[dict]:
    """Bookable slots of a day with their remaining places (slots nobody booked yet are not stored)."""
    hall = service.hall
    now = now or timezone.now()
    earliest = now + datetime.timedelta(minutes=hall.lead_minutes)
    if day > timezone.localdate(now) + datetime.timedelta(days=hall.horizon_days):
        return []
    stored = {s.starts_at: s for s in Slot.objects.filter(service=service, starts_at__date=day)}
    out = []
    for start, end in slot_periods(hall, day):
        if start < earliest:
            continue
        s = stored.get(start)
        left = (s.capacity - s.booked) if s else service.slot_capacity
        out.append({"starts_at": start, "ends_at": end, "left": left})
    return out


def booking_ban_until(hall: Hall, person, now: datetime.datetime) -> datetime.datetime | None:
    """When the person may book again after too many no-shows, or None if they may book now."""
    since = now - datetime.timedelta(days=hall.no_show_window_days)
    misses = list(Appointment.objects.filter(hall=hall, person=person, status=AppointmentStatus.NO_SHOW,
                                             slot__starts_at__gte=since)
                  .order_by("-slot__starts_at").values_list("slot__starts_at", flat=True)[:hall.no_show_limit])
    if len(misses) < hall.no_show_limit:
        return None
    until = misses[0] + datetime.timedelta(days=hall.ban_days)
    return until if until > now else None


def day_bookings(hall: Hall, day: datetime.date):
    return (Appointment.objects.filter(hall=hall, slot__starts_at__date=day)
            .select_related("service", "slot", "person").order_by("slot__starts_at", "id"))


def appointments_of(user):
    return (Appointment.objects.filter(user=user).select_related("hall", "service", "slot")
            .order_by("-slot__starts_at"))


def duty_today(hall: Hall, day: datetime.date) -> dict[int, Duty]:
    """window id → the day's duty (with the officer)."""
    return {d.window_id: d for d in Duty.objects.filter(window__hall=hall, day=day).select_related("officer")}


def servers_per_service(hall: Hall, day: datetime.date) -> dict[int, int]:
    """service id → windows with an officer on duty that serve it (at least 1, so an ETA is finite)."""
    rows = (Window.objects.filter(hall=hall, active=True, duties__day=day)
            .values_list("services", flat=True))
    counts: dict[int, int] = {}
    for service_id in rows:
        counts[service_id] = counts.get(service_id, 0) + 1
    return counts


def waiting_positions(hall: Hall, day: datetime.date) -> dict[int, tuple[int, float]]:
    """ticket id → (position in its service's queue, ETA in minutes) for every waiting ticket.

    ETA: the ticket is served when the ``position`` tickets ahead-and-including it have gone through the
    service's ``servers`` windows, each taking the service's mean time: ``ceil(position / servers)`` ×
    mean minutes. One query for the whole hall, however many pages ask."""
    services = {s.pk: s for s in HallService.objects.filter(hall=hall)}
    servers = servers_per_service(hall, day)
    counters: dict[int, int] = {}
    out = {}
    for tid, service_id in (Ticket.objects.filter(hall=hall, day=day, status=TicketStatus.WAITING)
                            .order_by("order_key", "id").values_list("id", "service_id")):
        counters[service_id] = counters.get(service_id, 0) + 1
        pos = counters[service_id]
        n = max(servers.get(service_id, 0), 1)
        out[tid] = (pos, round(math.ceil(pos / n) * services[service_id].mean_service_minutes, 1))
    return out


def display_state(hall: Hall, day: datetime.date | None = None) -> dict:
    """What the hall display shows: now serving per window, the last calls, waiting counts per service."""
    day = day or timezone.localdate()
    windows = list(Window.objects.filter(hall=hall, active=True).order_by("number"))
    serving = {t.window_id: t for t in Ticket.objects.filter(hall=hall, day=day, status=TicketStatus.CALLED)
               .only("id", "number", "window_id")}
    waiting = dict(Ticket.objects.filter(hall=hall, day=day, status=TicketStatus.WAITING)
                   .values("service").annotate(n=Count("id")).values_list("service", "n"))
    calls = (Announcement.objects.filter(hall=hall, speak_at__date=day).select_related("ticket", "window")
             .order_by("-speak_at")[:8])
    return {
        "hall": hall.name,
        "windows": [{"number": w.number, "name": w.name,
                     "serving": serving[w.pk].number if w.pk in serving else None} for w in windows],
        "calls": [{"ticket": a.ticket.number, "window": a.window.number, "text": a.text,
                   "speak_at": a.speak_at.isoformat(), "seconds": a.seconds} for a in calls],
        "waiting": [{"service": s.code, "name": s.name, "count": waiting.get(s.pk, 0)}
                    for s in HallService.objects.filter(hall=hall).order_by("code")],
    }


def ticket_state(ticket: Ticket, positions: dict | None = None) -> dict:
    """The citizen's own ticket page: status, position and ETA, or the window they are called to."""
    state = {"ticket": ticket.number, "service": ticket.service.name, "status": ticket.status,
             "status_label": TicketStatus(ticket.status).label, "position": None, "eta_minutes": None,
             "window": ticket.window.number if ticket.window_id else None}
    if ticket.status == TicketStatus.WAITING:
        if positions is None:
            positions = waiting_positions(ticket.hall, ticket.day)
        if ticket.pk in positions:
            state["position"], state["eta_minutes"] = positions[ticket.pk]
    return state


def ticket_by_token(token: str) -> Ticket | None:
    return Ticket.objects.select_related("service", "window", "hall").filter(token=token).first()


def window_queue(window: Window, day: datetime.date):
    """The waiting tickets a window may call next, in calling order."""
    return (Ticket.objects.filter(hall_id=window.hall_id, day=day, status=TicketStatus.WAITING)
            .filter(Q(target_window=window) | Q(target_window__isnull=True, service__in=window.services.all()))
            .select_related("service").order_by("order_key", "id"))


def indicators(*, actor, department) -> list[dict]:
    """出入境大厅 figures of ``department`` and below (one query): people waiting now, tickets issued per day,
    and the mean wait (issue to first call) of today's called tickets."""
    check_scope(actor, department)
    bounds = day_starts()
    today = timezone.localdate()
    tickets = Ticket.objects.filter(hall__department__path__startswith=department.path, issued_at__gte=bounds[0])
    t = tickets.aggregate(**daily_counts("issued_at", "in", bounds),
                          waiting=Count("id", filter=Q(status=TicketStatus.WAITING, day=today)),
                          wait=Avg(ExpressionWrapper(F("called_at") - F("issued_at"), output_field=DurationField()),
                                   filter=Q(day=today, called_at__isnull=False)))
    wait = t["wait"]
    common = {"app": "hall", "department": department, "url": reverse("hall:index")}
    return [
        indicator(key="waiting", name="当前等候", name_en="People waiting", unit="人", value=t["waiting"], **common),
        indicator(key="mean_wait", name="今日平均等候", name_en="Mean wait today", unit="分钟",
                  value=None if wait is None else round(wait.total_seconds() / 60, 1), **common),
        indicator(key="tickets_today", name="今日取号", name_en="Tickets issued today", unit="个",
                  **series_of(t, "in", bounds), **common),
    ]


def map_markers(*, actor, department) -> list[dict]:
    """For the overview's map: each exit-entry hall of ``department`` and below with the people waiting now
    (one query)."""
    check_scope(actor, department)
    today = timezone.localdate()
    halls = (Hall.objects.filter(department__path__startswith=department.path).select_related("department")
             .annotate(waiting=Count("tickets", filter=Q(tickets__status=TicketStatus.WAITING,
                                                         tickets__day=today)))
             .order_by("code")[:500])
    return [marker(app="hall", key=f"hall:{h.pk}", kind="办事大厅", kind_en="Service hall", name=h.name,
                   status="ok" if h.waiting < 30 else "alert", status_label=f"等候 {h.waiting} 人",
                   department=h.department, url=reverse("hall:stats", args=[h.code])) for h in halls]
