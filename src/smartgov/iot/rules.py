"""Alarm-rule semantics, pure (no database): validating a rule's conditions and stepping a rule's state
over a device's readings in time order.

A condition ``{"key": "activePower", "cmp": ">", "value": 50, "for_seconds": 300}`` holds at reading time
``t`` when every reading of ``key`` from some time ``s`` up to ``t`` satisfied the comparison and
``t - s >= for_seconds`` ("above 50 for 5 minutes": the first reading 300 s or more after the first
reading above 50, with none at or below 50 between, raises). A reading that lacks ``key`` leaves the
condition as it was; a reading that fails the comparison resets it. A rule holds when all (AND) or any
(OR) of its conditions hold; the alarm is raised when it starts holding and cleared when it stops.
"""

import operator
from dataclasses import dataclass, field
from datetime import datetime

from smartgov.core.errors import InvalidInput

COMPARATORS = {">": operator.gt, ">=": operator.ge, "<": operator.lt, "<=": operator.le,
               "==": operator.eq, "!=": operator.ne}
MAX_CONDITIONS = 10


def clean_conditions(conditions) -> list[dict]:
    """The conditions as stored, or InvalidInput naming the bad one."""
    if not isinstance(conditions, list) or not conditions:
        raise InvalidInput("请至少填写一个条件", code="conditions_required")
    if len(conditions) > MAX_CONDITIONS:
        raise InvalidInput(f"条件最多 {MAX_CONDITIONS} 个", code="too_many_conditions")
    out = []
    for n, c in enumerate(conditions):
        where = {"index": n}
        if not isinstance(c, dict):
            raise InvalidInput(f"第 {n + 1} 个条件应为对象", code="invalid_condition", detail=where)
        key = c.get("key")
        if not isinstance(key, str) or not key or len(key) > 64:
            raise InvalidInput(f"第 {n + 1} 个条件缺少读数名", code="invalid_condition", detail=where)
        if c.get("cmp") not in COMPARATORS:
            raise InvalidInput(f"第 {n + 1} 个条件的比较符应为 {' '.join(COMPARATORS)}", code="invalid_condition",
                               detail=where)
        value = c.get("value")
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise InvalidInput(f"第 {n + 1} 个条件的阈值应为数值", code="invalid_condition", detail=where)
        seconds = c.get("for_seconds", 0) or 0
        if isinstance(seconds, bool) or not isinstance(seconds, int) or not 0 <= seconds <= 7 * 86400:
            raise InvalidInput(f"第 {n + 1} 个条件的持续时间应为 0～604800 秒", code="invalid_condition",
                               detail=where)
        out.append({"key": key, "cmp": c["cmp"], "value": float(value), "for_seconds": seconds})
    return out


@dataclass
class State:
    """A rule's state for one device: ``since[i]`` is when condition i started holding (or None)."""

    last_ts: datetime | None
    since: list = field(default_factory=list)


@dataclass
class Transition:
    ts: datetime
    raised: bool  # True: the rule started holding; False: it stopped
    values: dict


def holds(conditions: list[dict], match: str, since: list, ts: datetime) -> bool:
    results = (s is not None and (ts - s).total_seconds() >= c["for_seconds"]
               for c, s in zip(conditions, since, strict=True))
    return all(results) if match == "and" else any(results)


def step(conditions: list[dict], match: str, state: State, readings, *, open_alarm: bool) -> list[Transition]:
    """Advance ``state`` over ``readings`` ((ts, values) in time order); readings at or before
    ``state.last_ts`` are ignored (a redelivery, or a late message: stored, not evaluated). Returns the
    raises and clears in order; ``open_alarm`` says whether an alarm is open before the first."""
    if len(state.since) != len(conditions):
        state.since = [None] * len(conditions)
    out = []
    for ts, values in readings:
        if state.last_ts is not None and ts <= state.last_ts:
            continue
        for i, c in enumerate(conditions):
            v = values.get(c["key"])
            if isinstance(v, bool) or not isinstance(v, int | float):
                continue
            if COMPARATORS[c["cmp"]](v, c["value"]):
                if state.since[i] is None:
                    state.since[i] = ts
            else:
                state.since[i] = None
        state.last_ts = ts
        now_holds = holds(conditions, match, state.since, ts)
        if now_holds and not open_alarm:
            out.append(Transition(ts, True, dict(values)))
            open_alarm = True
        elif not now_holds and open_alarm:
            out.append(Transition(ts, False, dict(values)))
            open_alarm = False
    return out
