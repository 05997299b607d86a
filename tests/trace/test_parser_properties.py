"""Property tests (hypothesis) for the trace parsers: readings uploads and codes as people type them.

Any input either parses or is refused with the platform's error (InvalidInput / ValidationError) —
never another exception, which would be a 500 — and well-formed input round-trips."""

import datetime

import orjson
from django.core.exceptions import ValidationError
from hypothesis import given, settings
from hypothesis import strategies as st

from smartgov.core.errors import InvalidInput
from smartgov.trace import codes, coldchain

UTC8 = datetime.timezone(datetime.timedelta(hours=8))

readings = st.lists(st.fixed_dictionaries({
    "time": st.datetimes(min_value=datetime.datetime(2020, 1, 1), max_value=datetime.datetime(2035, 1, 1))
              .map(lambda d: d.replace(microsecond=0, tzinfo=UTC8)),
    "celsius": st.floats(min_value=-80, max_value=80, allow_nan=False).map(lambda c: round(c, 2)),
}), min_size=1, max_size=30)


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=300), st.sampled_from(["", "text/csv", "application/json"]))
def test_any_upload_parses_or_is_refused_with_invalid_input(data, content_type):
    try:
        rows = coldchain.parse_upload(data, content_type)
    except InvalidInput:
        return
    assert rows and all(-80 <= r["celsius"] <= 80 and r["time"].tzinfo for r in rows)


@settings(max_examples=200, deadline=None)
@given(st.recursive(st.none() | st.booleans() | st.integers(-10**12, 10**12) | st.floats(allow_nan=False) | st.text(max_size=20),
                    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.sampled_from(
                        ["time", "celsius", "temperature", "lat", "lng", "readings"]), inner, max_size=4),
                    max_leaves=12))
def test_any_json_value_parses_or_is_refused_with_invalid_input(value):
    try:
        coldchain.parse_upload(orjson.dumps(value), "application/json")
    except InvalidInput:
        pass


@settings(max_examples=100, deadline=None)
@given(readings)
def test_readings_round_trip_through_csv_and_json(rows):
    csv_body = "time,celsius\n" + "".join(f"{r['time'].isoformat()},{r['celsius']}\n" for r in rows)
    json_body = orjson.dumps([{"time": r["time"].isoformat(), "celsius": r["celsius"]} for r in rows])
    for parsed in (coldchain.parse_upload(csv_body.encode(), "text/csv"),
                   coldchain.parse_upload(json_body, "application/json")):
        assert [(p["time"], p["celsius"]) for p in parsed] == [(r["time"], r["celsius"]) for r in rows]


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=60) | st.from_regex(r"\A(urn:|https://id\.gs1\.org/|\(01\)|01)[0-9A-Za-z:./()]{0,40}\Z"))
def test_any_typed_code_parses_or_is_refused_with_validation_error(value):
    try:
        stored = codes.parse_any(value)
    except ValidationError:
        return
    assert isinstance(stored, str) and stored == stored.strip()


@given(st.from_regex(r"\A[0-9]{20}\Z"))
def test_a_twenty_digit_code_splits_and_joins_back(digits):
    code = codes.parse_nmpa(digits)
    assert code.product_code + code.serial + code.check == digits
    assert codes.parse_any(digits) == codes.NMPA_PREFIX + digits == codes.normalize_epc(digits)
