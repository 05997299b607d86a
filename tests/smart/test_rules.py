"""Rule evaluation: every operator, three-valued logic (missing data is never eligible and never an
error), and the checks a rule passes before it may be published."""

import datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from smartgov.core.errors import InvalidInput
from smartgov.smart import rules

TODAY = datetime.date(2026, 12, 5)


def ev(cond, facts):
    rules.check(cond)
    return rules.compile_condition(cond, today=TODAY)(facts)


def leaf(op, value=None, fact="s.x"):
    d = {"fact": fact, "op": op}
    if value is not None:
        d["value"] = value
    return d


@pytest.mark.parametrize(("op", "value", "actual", "expected"), [
    ("eq", "A", "A", True), ("eq", "A", "B", False), ("eq", 3, "3", True), ("eq", 3, 3.0, True),
    ("ne", "A", "B", True), ("ne", "A", "A", False),
    ("gt", 5, 6, True), ("gt", 5, 5, False), ("ge", 5, 5, True), ("ge", 5, "4", False),
    ("lt", 5, 4, True), ("lt", 5, 5, False), ("le", 5, 5, True), ("le", 5, 6, False),
    ("in", ["C1", "C2"], "C2", True), ("in", ["C1", "C2"], "B1", False),
    ("not_in", ["330"], "331", True), ("not_in", ["330"], "330", False),
    ("between", [18, 60], 60, True), ("between", [18, 60], 61, False),
    ("contains", "医", "医疗保险", True), ("contains", "A", ["A", "B"], True), ("contains", "C", ["A"], False),
    ("startswith", "3301", "330102", True), ("startswith", "3301", "320102", False),
    ("exists", None, "x", True), ("exists", None, None, False), ("exists", None, "", False),
    ("truthy", None, True, True), ("truthy", None, 0, False), ("falsy", None, False, True), ("falsy", None, 1, False),
    ("age_ge", 80, "1946-12-05", True), ("age_ge", 80, "1946-12-06", False), ("age_ge", 80, datetime.date(1946, 12, 5), True),
    ("age_lt", 70, "1956-12-06", True), ("age_lt", 70, "1956-12-05", False),
    ("within_days", 30, "2026-11-10", True), ("within_days", 30, "2026-10-01", False),
    ("date_before", "2026-01-01", "2025-12-31", True), ("date_before", "2026-01-01", "2026-01-01", False),
    ("date_after", "2026-01-01", "2026-01-02", True), ("date_after", "2026-01-01", "2025-01-02", False),
])
def test_every_operator(op, value, actual, expected):
    assert ev(leaf(op, value), {"s.x": actual}) is expected


@pytest.mark.parametrize("op,value", [(op, v) for op, v in [
    ("eq", "A"), ("ne", "A"), ("gt", 1), ("ge", 1), ("lt", 1), ("le", 1), ("in", ["A"]), ("not_in", ["A"]),
    ("between", [1, 2]), ("contains", "A"), ("startswith", "A"), ("truthy", None), ("falsy", None),
    ("age_ge", 80), ("age_lt", 70), ("within_days", 3), ("date_before", "2026-01-01"), ("date_after", "2026-01-01")]])
def test_missing_data_is_unknown_never_an_error(op, value):
    assert ev(leaf(op, value), {}) is None
    assert ev(leaf(op, value), {"s.x": None}) is None


@pytest.mark.parametrize("actual", [{"a": 1}, object(), "not-a-date", [1, 2]])
def test_data_of_the_wrong_shape_does_not_qualify(actual):
    for op, value in [("gt", 1), ("age_ge", 80), ("within_days", 3)]:
        assert ev(leaf(op, value), {"s.x": actual}) is not True


def test_not_of_missing_data_stays_unknown():
    assert ev({"not": leaf("eq", "A")}, {}) is None
    assert ev({"not": leaf("eq", "A")}, {"s.x": "B"}) is True


def test_groups_are_three_valued():
    t, f_, u = leaf("eq", 1, "s.t"), leaf("eq", 1, "s.f"), leaf("eq", 1, "s.u")
    facts = {"s.t": 1, "s.f": 2}
    assert ev({"all": [t, u]}, facts) is None
    assert ev({"all": [f_, u]}, facts) is False
    assert ev({"any": [t, u]}, facts) is True
    assert ev({"any": [f_, u]}, facts) is None
    assert ev({"any": [f_, f_]}, facts) is False


def test_explain_names_the_failed_leaf_and_what_it_saw():
    cond = {"all": [{"fact": "p.birth_date", "op": "age_ge", "value": 80, "label": "年满80周岁"},
                    {"fact": "a.region", "op": "startswith", "value": "3301", "label": "户籍在本市"}]}
    outcome, leaves = rules.explain(cond, {"p.birth_date": "1940-01-01", "a.region": "320100"}, today=TODAY)
    assert outcome is False
    failed = rules.first_failure(leaves)
    assert (failed.label, failed.actual, failed.result) == ("户籍在本市", "320100", False)


@pytest.mark.parametrize("bad", [
    {}, {"fact": "x", "op": "eq", "value": 1}, {"fact": "s.x", "op": "like", "value": 1},
    {"fact": "s.x", "op": "gt", "value": "ten"}, {"fact": "s.x", "op": "in", "value": "A"},
    {"fact": "s.x", "op": "exists", "value": 1}, {"all": []}, {"all": [{"fact": "s.x"}], "extra": 1},
    {"fact": "s.x", "op": "date_before", "value": "yesterday"}, {"not": {"fact": "s.x", "op": "eq", "value": 1}, "x": 1},
])
def test_malformed_rules_are_refused_with_a_path(bad):
    with pytest.raises(InvalidInput) as exc:
        rules.check(bad)
    assert exc.value.code == "invalid_rule"
    assert "path" in exc.value.detail


def test_undeclared_fact_is_refused():
    with pytest.raises(InvalidInput):
        rules.check(leaf("eq", 1, "tax.grade"), facts={"person.birth_date"})


def test_too_deep_is_refused():
    cond = leaf("eq", 1)
    for _ in range(12):
        cond = {"not": cond}
    with pytest.raises(InvalidInput):
        rules.check(cond)


@given(st.dates(min_value=datetime.date(1900, 1, 1), max_value=datetime.date(2026, 12, 5)),
       st.integers(min_value=0, max_value=110))
def test_age_matches_calendar_arithmetic(born, years):
    age = TODAY.year - born.year - ((TODAY.month, TODAY.day) < (born.month, born.day))
    if (born.month, born.day) == (2, 29) and (TODAY.month, TODAY.day) == (2, 28):
        return  # the leap-day birthday convention, covered separately
    fn = rules.compile_condition(leaf("age_ge", years), today=TODAY)
    assert fn({"s.x": born.isoformat()}) is (age >= years)
    assert fn({"s.x": born}) is (age >= years)


def test_leap_day_birthday_is_reached_on_the_first_of_march_in_common_years():
    born = {"s.x": "1944-02-29"}
    assert rules.compile_condition(leaf("age_ge", 81), today=datetime.date(2025, 2, 28))(born) is False
    assert rules.compile_condition(leaf("age_ge", 81), today=datetime.date(2025, 3, 1))(born) is True
    assert rules.compile_condition(leaf("age_ge", 80), today=datetime.date(2024, 2, 29))(born) is True
