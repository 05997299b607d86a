"""Rules as data (规则即数据): the conditions a department writes for an entitlement (免申即享) or an item's
instant approval (秒批), checked when published and compiled to closures for evaluation.

A condition is a leaf ``{"fact": "person.birth_date", "op": "age_ge", "value": 80, "label": "年满80周岁"}``
or a group ``{"all": [...]}``, ``{"any": [...]}``, ``{"not": {...}}``. Facts are flat keys
``<source>.<field>`` (``form.area``, ``tax.credit_grade``, ``register.birth_date``).

Evaluation is three-valued: a leaf whose fact is missing (the provider had no record, the field was not
granted, a value of the wrong type) is *unknown*, never an error. ``all`` is false if any part is false,
else unknown if any part is unknown; ``any`` the mirror; ``not`` keeps unknown. Only a condition that
is *true* qualifies — missing data never makes anyone eligible, not even under ``not``.
"""

import datetime
from collections.abc import Callable
from dataclasses import dataclass

from smartgov.core.errors import InvalidInput

# op → (Chinese wording, kind of value expected)
OPERATORS = {
    "eq": ("等于", "scalar"), "ne": ("不等于", "scalar"),
    "gt": ("大于", "number"), "ge": ("大于等于", "number"), "lt": ("小于", "number"), "le": ("小于等于", "number"),
    "in": ("属于", "list"), "not_in": ("不属于", "list"), "between": ("介于", "pair"),
    "contains": ("包含", "scalar"), "startswith": ("开头为", "string"),
    "exists": ("有记录", "none"), "truthy": ("为真", "none"), "falsy": ("为假", "none"),
    "age_ge": ("距今满（年）", "number"), "age_lt": ("距今不满（年）", "number"),
    "within_days": ("在最近（天）内", "number"), "date_before": ("早于", "date"), "date_after": ("晚于", "date"),
}
MAX_DEPTH = 8
MAX_LEAVES = 100


@dataclass(frozen=True)
class LeafResult:
    label: str
    fact: str
    op: str
    value: object
    actual: object
    result: bool | None  # None: unknown (data missing)

    def as_dict(self) -> dict:
        return {"label": self.label, "fact": self.fact, "op": self.op, "value": self.value,
                "actual": self.actual, "result": self.result}


def _bad(message: str, path: str) -> InvalidInput:
    return InvalidInput(message, code="invalid_rule", detail={"path": path})


def check(cond, *, facts: set[str] | None = None, path: str = "condition", depth: int = 0, _count=None) -> None:
    """Refuse a malformed condition (unknown operator or fact, wrong value kind, too deep) with the path
    of the first problem; ``facts`` (if given) are the keys the rule may name."""
    count = _count if _count is not None else [0]
    if depth > MAX_DEPTH:
        raise _bad("规则嵌套过深", path)
    if not isinstance(cond, dict) or len(cond) == 0:
        raise _bad("规则条件应为对象", path)
    if "all" in cond or "any" in cond:
        key = "all" if "all" in cond else "any"
        parts = cond[key]
        if set(cond) - {key, "label"} or not isinstance(parts, list) or not parts:
            raise _bad(f"“{key}”应为非空的条件列表", path)
        for i, part in enumerate(parts):
            check(part, facts=facts, path=f"{path}.{key}[{i}]", depth=depth + 1, _count=count)
        return
    if "not" in cond:
        if set(cond) - {"not", "label"}:
            raise _bad("“not”只能包含一个条件", path)
        check(cond["not"], facts=facts, path=f"{path}.not", depth=depth + 1, _count=count)
        return
    if set(cond) - {"fact", "op", "value", "label"}:
        raise _bad(f"未知的键：{sorted(set(cond) - {'fact', 'op', 'value', 'label'})}", path)
    fact, op = cond.get("fact"), cond.get("op")
    if not isinstance(fact, str) or "." not in fact:
        raise _bad("fact 应为“来源.字段”", path)
    if facts is not None and fact not in facts:
        raise _bad(f"未声明的数据项：{fact}", path)
    if op not in OPERATORS:
        raise _bad(f"未知的运算符：{op}", path)
    kind, value = OPERATORS[op][1], cond.get("value")
    ok = {"none": value is None,
          "scalar": isinstance(value, str | int | float | bool),
          "string": isinstance(value, str),
          "number": isinstance(value, int | float) and not isinstance(value, bool),
          "list": isinstance(value, list) and all(isinstance(v, str | int | float) for v in value),
          "pair": isinstance(value, list) and len(value) == 2 and all(isinstance(v, int | float | str) for v in value),
          "date": isinstance(value, str) and _date(value) is not None}[kind]
    if not ok:
        raise _bad(f"运算符 {op} 的取值不正确", path)
    count[0] += 1
    if count[0] > MAX_LEAVES:
        raise _bad("规则条件过多", path)


def fact_keys(cond) -> set[str]:
    """Every fact a condition names."""
    if "all" in cond or "any" in cond:
        return set().union(*(fact_keys(c) for c in cond.get("all", cond.get("any", []))))
    if "not" in cond:
        return fact_keys(cond["not"])
    return {cond["fact"]}


def _date(value) -> datetime.date | None:
    if isinstance(value, datetime.datetime):
        return value.date()
    if isinstance(value, datetime.date):
        return value
    if isinstance(value, str):
        try:
            return datetime.date.fromisoformat(value[:10])
        except ValueError:
            return None
    return None


def _years_before(today: datetime.date, years: int) -> datetime.date:
    try:
        return today.replace(year=today.year - years)
    except ValueError:  # 29 February → 28 February (the birthday is reached on 1 March in a common year)
        return today.replace(year=today.year - years, day=28)


def _number(v):
    if isinstance(v, bool):
        return None
    if isinstance(v, int | float):
        return v
    if isinstance(v, str):
        try:
            return float(v)
        except ValueError:
            return None
    return None


def _leaf(cond, today: datetime.date) -> Callable[[dict], bool | None]:
    """A closure ``facts → True/False/None`` for one leaf; the comparison values are prepared once here."""
    key, op, value = cond["fact"], cond["op"], cond.get("value")
    if op in ("age_ge", "age_lt"):
        cutoff = _years_before(today, int(value))
        cutoff_s = cutoff.isoformat()
        ge = op == "age_ge"

        def age(facts):
            v = facts.get(key)
            if v.__class__ is datetime.date:  # as the register yields it: the hot path
                return (v <= cutoff) if ge else (v > cutoff)
            if v is None:
                return None
            if isinstance(v, str):  # ISO dates compare as text: no parsing on the hot path
                if len(v) < 10 or v[4] != "-":
                    return None
                return (v[:10] <= cutoff_s) if ge else (v[:10] > cutoff_s)
            d = _date(v)
            if d is None:
                return None
            return (d <= cutoff) if ge else (d > cutoff)
        setattr(age, SAFE, True)
        return age
    if op in ("within_days", "date_before", "date_after"):
        limit = today - datetime.timedelta(days=int(value)) if op == "within_days" else _date(value)

        def dated(facts):
            d = _date(facts.get(key))
            if d is None:
                return None
            if op == "within_days":
                return limit <= d <= today
            return d < limit if op == "date_before" else d > limit
        setattr(dated, SAFE, True)
        return dated
    if op in ("gt", "ge", "lt", "le", "between"):
        bounds = [_number(v) for v in (value if op == "between" else [value])]
        cmp = {"gt": lambda x: x > bounds[0], "ge": lambda x: x >= bounds[0], "lt": lambda x: x < bounds[0],
               "le": lambda x: x <= bounds[0], "between": lambda x: bounds[0] <= x <= bounds[1]}[op]

        def numeric(facts):
            x = _number(facts.get(key))
            return None if x is None else cmp(x)
        setattr(numeric, SAFE, True)
        return numeric
    if op in ("exists", "truthy", "falsy"):
        def presence(facts):
            v = facts.get(key)
            if op == "exists":
                return v is not None and v != ""
            if v is None:
                return None
            return bool(v) if op == "truthy" else not v
        setattr(presence, SAFE, True)
        return presence
    if op in ("in", "not_in"):
        allowed = {str(v) for v in value}
        inside = op == "in"

        def member(facts):
            v = facts.get(key)
            if v is None or v == "":
                return None
            return (str(v) in allowed) == inside
        setattr(member, SAFE, True)
        return member
    if op == "startswith":
        prefix = str(value)

        def starts(facts):
            v = facts.get(key)
            if v.__class__ is str:
                return v.startswith(prefix) if v else None
            return None if v is None else str(v).startswith(prefix)
        setattr(starts, SAFE, True)
        return starts
    # eq, ne, contains: numbers compare as numbers, everything else as text
    target_n = _number(value)

    def scalar(facts):
        v = facts.get(key)
        if v is None or v == "":
            return None
        if op == "contains":
            return str(value) in [str(x) for x in v] if isinstance(v, list) else str(value) in str(v)
        if isinstance(value, bool) or isinstance(v, bool):
            same = bool(v) == bool(value) if isinstance(v, bool) and isinstance(value, bool) else str(v) == str(value)
        elif target_n is not None and _number(v) is not None and not isinstance(value, str):
            same = _number(v) == target_n
        else:
            same = str(v) == str(value)
        return same if op == "eq" else not same
    return scalar


SAFE = "_rule_leaf_safe"  # a leaf that checks the types it compares, so it cannot raise


def _safe(fn):
    if getattr(fn, SAFE, False):
        return fn

    def run(facts):
        try:
            return fn(facts)
        except (TypeError, ValueError, AttributeError, IndexError):
            return None  # data of an unexpected shape counts as missing, never as an error
    return run


def compile_condition(cond, *, today: datetime.date) -> Callable[[dict], bool | None]:
    """The condition as one closure; evaluating it costs a few dictionary look-ups."""
    if "all" in cond:
        parts = [compile_condition(c, today=today) for c in cond["all"]]
        if len(parts) == 2:  # the common case, unrolled: screens run this a million times
            first, second = parts

            def all2(facts):
                r = first(facts)
                if r is False:
                    return False
                t = second(facts)
                if t is False:
                    return False
                return None if r is None or t is None else True
            return all2

        def all_(facts):
            unknown = False
            for p in parts:
                r = p(facts)
                if r is False:
                    return False
                if r is None:
                    unknown = True
            return None if unknown else True
        return all_
    if "any" in cond:
        parts = [compile_condition(c, today=today) for c in cond["any"]]

        def any_(facts):
            unknown = False
            for p in parts:
                r = p(facts)
                if r is True:
                    return True
                if r is None:
                    unknown = True
            return None if unknown else False
        return any_
    if "not" in cond:
        inner = compile_condition(cond["not"], today=today)

        def not_(facts):
            r = inner(facts)
            return None if r is None else not r
        return not_
    return _safe(_leaf(cond, today))


def describe(cond) -> str:
    """A plain Chinese reading of a leaf (for the citizen and the officer)."""
    if "label" in cond:
        return cond["label"]
    word = OPERATORS.get(cond.get("op"), (cond.get("op"), ""))[0]
    value = cond.get("value")
    return f"{cond.get('fact')} {word}" + ("" if value is None else f" {value}")


def explain(cond, facts: dict, *, today: datetime.date) -> tuple[bool | None, list[LeafResult]]:
    """Evaluate and say why: the outcome and every leaf with the value it saw."""
    leaves: list[LeafResult] = []

    def walk(c):
        if "all" in c or "any" in c:
            results = [walk(p) for p in c.get("all", c.get("any", []))]
            if "all" in c:
                return False if False in results else (None if None in results else True)
            return True if True in results else (None if None in results else False)
        if "not" in c:
            r = walk(c["not"])
            return None if r is None else not r
        r = compile_condition(c, today=today)(facts)
        leaves.append(LeafResult(describe(c), c["fact"], c["op"], c.get("value"), facts.get(c["fact"]), r))
        return r
    return walk(cond), leaves


def first_failure(leaves: list[LeafResult]) -> LeafResult | None:
    for leaf in leaves:
        if leaf.result is not True:
            return leaf
    return None
