"""Statistics of a hall day and staffing advice per hour (Erlang C and Erlang A) against the duty roster."""

import datetime
from collections import defaultdict

from django.utils import timezone

from . import erlang
from .models import Duty, Hall, HallService, Ticket, TicketStatus


def day_report(hall: Hall, day: datetime.date) -> dict:
    """Per opening hour: arrivals, mean wait and service minutes, no-shows, mean 好差评 grade, officers on
    duty, and the officers Erlang C and Erlang A advise for the hall's target (e.g. 80 % called within
    10 minutes). Service time and patience are the day's measured means where there are any, else the
    services' configured ones."""
    tickets = list(Ticket.objects.filter(hall=hall, day=day).only(
        "issued_at", "called_at", "finished_at", "status", "grade", "service_id"))
    services = {s.pk: s for s in HallService.objects.filter(hall=hall)}
    on_duty = Duty.objects.filter(window__hall=hall, day=day).count()
    hours = range(hall.opens.hour, hall.closes.hour + (1 if hall.closes.minute else 0))
    by_hour = defaultdict(list)
    for t in tickets:
        by_hour[timezone.localtime(t.issued_at).hour].append(t)
    configured_aht = (sum(s.mean_service_minutes for s in services.values()) / len(services)) if services else 8.0
    patience = (sum(s.patience_minutes for s in services.values()) / len(services)) if services else 30.0
    served = [t for t in tickets if t.finished_at and t.called_at and t.status == TicketStatus.DONE]
    measured_aht = (sum((t.finished_at - t.called_at).total_seconds() for t in served) / 60 / len(served)) \
        if served else None
    aht = measured_aht or configured_aht
    rows = []
    for h in hours:
        group = by_hour.get(h, [])
        waits = [(t.called_at - t.issued_at).total_seconds() / 60 for t in group if t.called_at]
        grades = [t.grade for t in group if t.grade]
        rate = len(group) / 60  # arrivals per minute in this hour
        c = a = None
        if rate > 0:
            c = erlang.staff_erlang_c(rate=rate, aht=aht, t=hall.target_wait_minutes, target=hall.target_service_level)
            a = erlang.staff_erlang_a(rate=rate, aht=aht, patience=patience, t=hall.target_wait_minutes,
                                      target=hall.target_service_level)
        rows.append({
            "hour": h, "arrivals": len(group), "mean_wait": round(sum(waits) / len(waits), 1) if waits else None,
            "within_target": round(sum(w <= hall.target_wait_minutes for w in waits) / len(waits), 3) if waits else None,
            "no_shows": sum(t.status == TicketStatus.NO_SHOW for t in group),
            "grade": round(sum(grades) / len(grades), 2) if grades else None, "on_duty": on_duty,
            "erlang_c": c.servers if c else 0, "erlang_a": a.servers if a else 0,
            "advice": ("add" if c and c.servers > on_duty else "ok" if c else "idle"),
        })
    return {"rows": rows, "aht": round(aht, 2), "aht_measured": measured_aht is not None, "patience": patience,
            "target": {"minutes": hall.target_wait_minutes, "level": hall.target_service_level},
            "totals": {"tickets": len(tickets), "served": len(served),
                       "no_shows": sum(t.status == TicketStatus.NO_SHOW for t in tickets),
                       "grades": sum(1 for t in tickets if t.grade)}}
