"""``smartgov hall simulate``: play one hall day through the real services on a simulated clock.

Arrivals are Poisson by hour (the hourly profile below, scaled to ``visitors``); a share of visitors
booked the day before (some of them never come: no-shows), some are 绿色通道, the rest walk in. Service
times are log-normal around each service's mean; a visitor whose wait exceeds their patience
(exponential, the service's mean patience) is not there when called — recalled, then skipped (过号).
Every ticket, call, recall, skip, booking and rating goes through ``hall.services`` with ``at=`` the
simulated time, so the day leaves the same rows, events and audit entries a real day would.
"""

import datetime
import heapq
import math
import random
import time
from dataclasses import dataclass, field

from django.db import transaction
from django.utils import timezone

from smartgov.accounts.models import User
from smartgov.accounts.services import create_user
from smartgov.core.errors import Conflict
from smartgov.core.permissions import Role, system_actor
from smartgov.core.validators import id_number_check_char
from smartgov.core.workdays import calendar
from smartgov.identity.services import link_account, register_person

from . import selectors, services
from .models import Duty, Hall, HallService, Ticket, TicketStatus, Window

# share of the day's arrivals in each opening hour (a morning peak, a smaller afternoon one)
PROFILE = {9: 0.15, 10: 0.18, 11: 0.14, 13: 0.08, 14: 0.17, 15: 0.15, 16: 0.13}
APPOINTMENT_SHARE, NO_SHOW_SHARE, GREEN_SHARE, RATED_SHARE = 0.35, 0.08, 0.05, 0.3


@dataclass(order=True)
class Event:
    at: datetime.datetime
    seq: int
    kind: str = field(compare=False)
    data: dict = field(compare=False, default_factory=dict)


def _free_day(hall: Hall) -> datetime.date:
    """The next working day (from tomorrow) on which this hall has no tickets yet."""
    day = calendar().next_workday(timezone.localdate() + datetime.timedelta(days=1))
    while Ticket.objects.filter(hall=hall, day=day).exists():
        day = calendar().next_workday(day + datetime.timedelta(days=1))
    return day


def ensure_sim_hall(*, department, visitors: int, stdout=None) -> Hall:
    """A hall sized for ``visitors`` a day (windows for the peak hour at 85 % load), made through the services."""
    actor = system_actor("hall.simulate")
    code = f"SIM-{visitors}"
    hall = Hall.objects.filter(code=code).first()
    if hall is None:
        hall = services.create_hall(actor=actor, department=department, code=code, name=f"模拟大厅（{visitors}人/日）",
                                    lead_minutes=0, horizon_days=30)
        specs = [("A", "普通护照", 6.0), ("B", "往来港澳通行证", 4.0), ("C", "往来台湾通行证", 4.0)]
        slots_per_day = len(selectors.slot_periods(hall, calendar().next_workday(timezone.localdate())))
        per_slot = math.ceil(visitors * APPOINTMENT_SHARE / len(specs) / max(slots_per_day, 1) * 1.5)
        made = [services.add_service(actor=actor, hall=hall, code=c, name=n, mean_service_minutes=m,
                                     slot_capacity=per_slot) for c, n, m in specs]
        aht = sum(m for *_, m in specs) / len(specs)
        peak = visitors * max(PROFILE.values()) / 60
        count = max(3, math.ceil(peak * aht / 0.85))
        for i in range(count):
            services.add_window(actor=actor, hall=hall, number=i + 1, services=made)
        if stdout:
            stdout.write(f"模拟大厅 {code}：{count} 个窗口")
    return hall


def _officers(hall: Hall, count: int) -> list:
    have = list(User.objects.filter(department=hall.department, role=Role.OFFICER, is_active=True).order_by("id"))
    for i in range(len(have), count):
        have.append(create_user(actor=system_actor("hall.simulate"), username=f"{hall.code.lower()}_sim_{i + 1}", password=None,
                                role=Role.OFFICER, name=f"模拟窗口{i + 1}", department=hall.department))
    return have[:count]


def _citizens(count: int) -> list:
    """Simulated citizens (account + register entry), made once and reused by later runs."""
    have = list(User.objects.filter(username__startswith="hallsim_", role=Role.CITIZEN).select_related("person")
                .order_by("id")[:count])
    for i in range(len(have), count):
        first17 = f"330106{1950 + i % 50}{1 + i % 12:02d}{1 + i % 28:02d}{i % 1000:03d}"  # unique below 42,000
        user = create_user(actor=system_actor("hall.simulate"), username=f"hallsim_{i + 1}", password=None, role=Role.CITIZEN,
                           name=f"模拟办事人{i + 1}")
        person = register_person(actor=system_actor("hall.simulate"), name=f"模拟办事人{i + 1}", id_number=first17 + id_number_check_char(first17))
        link_account(person=person, user=user)
        user.person = person
        have.append(user)
    return have


def simulate_day(*, hall: Hall, visitors: int, day: datetime.date | None = None, seed: int = 1,
                 stdout=None) -> dict:
    rng = random.Random(seed)
    actor = system_actor("hall.simulate")
    day = day or _free_day(hall)
    tz = timezone.get_current_timezone()
    windows = list(Window.objects.filter(hall=hall, active=True).prefetch_related("services").order_by("number"))
    hall_services = list(HallService.objects.filter(hall=hall).order_by("code"))
    t_setup = time.perf_counter()
    officers = _officers(hall, len(windows))
    with transaction.atomic():
        for window, officer in zip(windows, officers, strict=False):
            if not Duty.objects.filter(window=window, day=day).exists() and not Duty.objects.filter(
                    officer=officer, day=day).exists():
                services.assign_duty(actor=actor, window=window, officer=officer, day=day)
    n_booked = int(visitors * APPOINTMENT_SHARE)
    people = _citizens(math.ceil(n_booked / max(len(hall_services), 1)) + 1)
    setup_s = time.perf_counter() - t_setup

    t0, cpu0 = time.perf_counter(), time.process_time()
    periods = selectors.opening_periods(hall, day)
    slots = selectors.slot_periods(hall, day)
    # arrivals: Poisson count per hour, uniform within the hour's open minutes
    arrivals: list[datetime.datetime] = []
    scale = visitors / sum(PROFILE.values())
    for hour, share in PROFILE.items():
        start = datetime.datetime.combine(day, datetime.time(hour), tzinfo=tz)
        open_in_hour = [(max(s, start), min(e, start + datetime.timedelta(hours=1))) for s, e in periods
                        if s < start + datetime.timedelta(hours=1) and e > start]
        minutes = [(s, (e - s).total_seconds() / 60) for s, e in open_in_hour if e > s]
        if not minutes:
            continue
        k = _poisson(rng, share * scale)
        for _ in range(k):
            s, span = rng.choice(minutes)
            arrivals.append(s + datetime.timedelta(minutes=rng.uniform(0, span)))
    arrivals.sort()
    # bookings, the evening before
    evening = datetime.datetime.combine(day - datetime.timedelta(days=1), datetime.time(20), tzinfo=tz)
    plans = []
    booked_people = {s.pk: iter(people) for s in hall_services}
    for at in arrivals:
        service = rng.choice(hall_services)
        plan = {"at": at, "service": service, "green": rng.random() < GREEN_SHARE, "token": ""}
        if rng.random() < APPOINTMENT_SHARE:
            slot = max((s for s, _ in slots if s <= at + datetime.timedelta(minutes=20)), default=slots[0][0])
            user = next(booked_people[service.pk], None)
            if user is not None:
                try:
                    appt = services.book_appointment(actor=user, service=service, starts_at=slot, at=evening)
                    plan["token"] = appt.token
                except Conflict:
                    pass
        plans.append(plan)
    no_shows = 0
    events: list[Event] = []
    seq = 0
    for plan in plans:
        if plan["token"] and rng.random() < NO_SHOW_SHARE:
            no_shows += 1
            continue
        seq += 1
        heapq.heappush(events, Event(plan["at"], seq, "arrive", plan))
    idle = {w.pk: w for w in windows}
    serves = {w.pk: {s.pk for s in w.services.all()} for w in windows}
    patience = {}
    done = recalls = skipped = 0
    rated = []
    close = periods[-1][1] if periods else datetime.datetime.combine(day, hall.closes, tzinfo=tz)
    while events:
        ev = heapq.heappop(events)
        if ev.kind == "arrive":
            plan = ev.data
            try:
                ticket = services.issue_ticket(actor=actor, hall=hall, service=plan["service"],
                                               appointment_token=plan["token"], green=plan["green"], at=ev.at)
            except Conflict:  # too early for the booking: take a walk-in ticket instead
                ticket = services.issue_ticket(actor=actor, hall=hall, service=plan["service"], green=plan["green"],
                                               at=ev.at)
            patience[ticket.pk] = ev.at + datetime.timedelta(
                minutes=rng.expovariate(1 / plan["service"].patience_minutes))
            for wid, window in list(idle.items()):
                if plan["service"].pk in serves[wid] or ticket.target_window_id == wid:
                    del idle[wid]
                    seq += 1
                    heapq.heappush(events, Event(ev.at, seq, "free", {"window": window}))
                    break
        elif ev.kind == "free":
            window = ev.data["window"]
            if ev.at > close + datetime.timedelta(hours=2):
                continue
            ticket = services.call_next(actor=actor, window=window, at=ev.at)
            if ticket is None:
                idle[window.pk] = window
                continue
            seq += 1
            if ev.at > patience.get(ticket.pk, ev.at):  # gave up and left: recalled, then 过号
                heapq.heappush(events, Event(ev.at + datetime.timedelta(minutes=1), seq, "recall",
                                             {"window": window, "ticket": ticket}))
                continue
            minutes = rng.lognormvariate(math.log(ticket.service.mean_service_minutes) - 0.08, 0.4)
            heapq.heappush(events, Event(ev.at + datetime.timedelta(minutes=minutes), seq, "finish",
                                         {"window": window, "ticket": ticket}))
        elif ev.kind == "recall":
            ticket = services.recall(actor=actor, ticket=ev.data["ticket"], at=ev.at)
            recalls += 1
            seq += 1
            if ticket.status == TicketStatus.NO_SHOW:
                skipped += 1
                heapq.heappush(events, Event(ev.at, seq, "free", {"window": ev.data["window"]}))
            else:
                heapq.heappush(events, Event(ev.at + datetime.timedelta(minutes=1), seq, "recall", ev.data))
        elif ev.kind == "finish":
            # the window's next call finishes the current ticket at this moment (as an officer's 叫下一位 does)
            done += 1
            seq += 1
            heapq.heappush(events, Event(ev.at, seq, "free", {"window": ev.data["window"]}))
            if rng.random() < RATED_SHARE:
                rated.append(ev.data["ticket"])
    for ticket in rated:  # 好差评 after the visit
        services.rate_visit(actor=actor, ticket=ticket, grade=rng.choices([5, 4, 3, 2, 1], [60, 25, 9, 4, 2])[0])
    marked = services.mark_no_shows(actor=actor, hall=hall, at=close + datetime.timedelta(hours=1))
    result = {"hall": hall.code, "day": day.isoformat(), "visitors": len(plans), "windows": len(windows),
              "served": done, "skipped": skipped, "recalls": recalls, "appointment_no_shows": marked,
              "sim_day_s": round(time.perf_counter() - t0, 2), "setup_s": round(setup_s, 2),
              # this process's CPU time for the day: steadier than the wall clock on a shared machine
              "sim_day_cpu_s": round(time.process_time() - cpu0, 2)}
    if stdout:
        stdout.write(str(result))
    return result


def _poisson(rng: random.Random, lam: float) -> int:
    """Poisson by the normal approximation above 50 (a count per hour), Knuth's method below."""
    if lam > 50:
        return max(0, round(rng.gauss(lam, math.sqrt(lam))))
    limit, k, p = math.exp(-lam), 0, 1.0
    while True:
        p *= rng.random()
        if p <= limit:
            return k
        k += 1
