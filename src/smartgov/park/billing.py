"""Lease billing (租金计算), pure: monthly periods from the lease's start, yearly (or every N months)
escalation compounding on the base rent, rent-free periods (免租期) deducted by the day, and a last
period cut short at the lease's end prorated by the day.

Period ``i`` runs from ``start + i months`` to the day before ``start + (i+1) months`` (a lease starting
on the 31st bills to the 29th/30th of short months, as calendar months do). Its full rent is
``monthly_rent × (1 + escalation_pct/100) ^ (i // escalation_every_months)``; the amount billed is that
rent × (days billable ÷ days in the full period), rounded to the fen (half up).

A renewal at new terms adds a rent step (``RentStep``, kept on the lease as ``rent_steps``): from the first
period starting on or after its day, the base rent and escalation are the step's, and escalation counts
again from that period (a renewal is a new term); the periods before keep the earlier terms."""

import calendar
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal

FEN = Decimal("0.01")


def add_months(d: date, months: int) -> date:
    y, m = divmod(d.month - 1 + months, 12)
    year, month = d.year + y, m + 1
    return date(year, month, min(d.day, calendar.monthrange(year, month)[1]))


@dataclass(frozen=True)
class Period:
    index: int
    start: date
    end: date  # inclusive
    full_days: int
    billable_days: int
    rent: Decimal  # the full period's rent after escalation
    amount: Decimal


def _overlap(a0: date, a1: date, b0: date, b1: date) -> int:
    lo, hi = max(a0, b0), min(a1, b1)
    return (hi - lo).days + 1 if hi >= lo else 0


@dataclass(frozen=True)
class RentStep:
    start: date  # the terms apply to the periods starting on or after this day
    monthly_rent: Decimal
    escalation_pct: Decimal
    escalation_every_months: int

    def as_json(self) -> dict:
        return {"start": self.start.isoformat(), "monthly_rent": str(self.monthly_rent),
                "escalation_pct": str(self.escalation_pct), "escalation_every_months": self.escalation_every_months}


def steps_of(lease) -> list[RentStep]:
    """A lease's rent steps (its ``rent_steps`` JSON), in order."""
    return sorted((RentStep(date.fromisoformat(x["start"]), Decimal(x["monthly_rent"]), Decimal(x["escalation_pct"]),
                            int(x["escalation_every_months"])) for x in lease.rent_steps or []), key=lambda x: x.start)


def periods(*, start: date, end: date, monthly_rent: Decimal, escalation_pct: Decimal = Decimal(0),
            escalation_every_months: int = 12, rent_free: list[tuple[date, date]] = (),
            steps: Sequence[RentStep] = ()) -> list[Period]:
    """Every billing period of a lease from ``start`` to ``end`` (both inclusive)."""
    if end < start:
        raise ValueError("租期结束早于开始")
    out, i = [], 0
    free = sorted(rent_free)
    pending = sorted(steps, key=lambda x: x.start)
    base, pct, every, first = Decimal(monthly_rent), Decimal(escalation_pct), escalation_every_months, 0
    while True:
        p0 = add_months(start, i)
        if p0 > end:
            break
        while pending and p0 >= pending[0].start:  # a renewal's terms from here on, escalating afresh
            step = pending.pop(0)
            base, pct, every, first = step.monthly_rent, step.escalation_pct, step.escalation_every_months, i
        full_end = add_months(start, i + 1) - timedelta(days=1)
        p1 = min(full_end, end)
        full_days = (full_end - p0).days + 1
        covered = (p1 - p0).days + 1
        free_days = 0
        for f0, f1 in free:  # rent-free ranges do not overlap each other (checked by the service)
            free_days += _overlap(p0, p1, f0, f1)
        billable = covered - free_days
        factor = (1 + pct / 100) ** ((i - first) // max(1, every))
        rent = (base * factor).quantize(FEN, ROUND_HALF_UP)
        amount = (base * factor * billable / full_days).quantize(FEN, ROUND_HALF_UP)
        out.append(Period(i, p0, p1, full_days, billable, rent, amount))
        i += 1
    return out
