"""Tests for smartgov.core.workdays (工作日历) against the official 2025 and 2026 schedules."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from smartgov.core import workdays
from smartgov.core.workdays import ENV_HOLIDAYS_DIR, HolidayDataError, WorkdayCalendar

fast = settings(database=None, max_examples=100, deadline=None)

D = date.fromisoformat


def days(first: str, last: str) -> list[date]:
    a, b = D(first), D(last)
    return [a + timedelta(days=i) for i in range((b - a).days + 1)]


# Independent transcription of the two State Council notices (ranges, not the JSON lists),
# so a typo in the shipped data files is caught.
OFFICIAL = {
    # 国务院办公厅关于2025年部分节假日安排的通知（国办发明电〔2024〕12号）
    2025: {
        "holidays": [
            ("2025-01-01", "2025-01-01"),  # 元旦
            ("2025-01-28", "2025-02-04"),  # 春节, 8 days
            ("2025-04-04", "2025-04-06"),  # 清明节
            ("2025-05-01", "2025-05-05"),  # 劳动节
            ("2025-05-31", "2025-06-02"),  # 端午节
            ("2025-10-01", "2025-10-08"),  # 国庆节、中秋节, 8 days
        ],
        "workdays": ["2025-01-26", "2025-02-08", "2025-04-27", "2025-09-28", "2025-10-11"],
    },
    # 国务院办公厅关于2026年部分节假日安排的通知（国办发明电〔2025〕7号）
    2026: {
        "holidays": [
            ("2026-01-01", "2026-01-03"),  # 元旦
            ("2026-02-15", "2026-02-23"),  # 春节, 9 days
            ("2026-04-04", "2026-04-06"),  # 清明节
            ("2026-05-01", "2026-05-05"),  # 劳动节
            ("2026-06-19", "2026-06-21"),  # 端午节
            ("2026-09-25", "2026-09-27"),  # 中秋节
            ("2026-10-01", "2026-10-07"),  # 国庆节
        ],
        "workdays": ["2026-01-04", "2026-02-14", "2026-02-28", "2026-05-09", "2026-09-20", "2026-10-10"],
    },
}


@pytest.fixture
def cal() -> WorkdayCalendar:
    """Calendar with the shipped data only (ignores any SMARTGOV_HOLIDAYS_DIR)."""
    return WorkdayCalendar(override_dir="")


def write_year(directory: Path, year: int, overrides: dict[str, Any] | None = None) -> Path:
    data: dict[str, Any] = {
        "year": year,
        "source": f"测试数据 {year}",
        "holidays": [{"name": "测试假日", "dates": [f"{year}-03-02"]}],
        "workdays": [],
    }
    data.update(overrides or {})
    path = directory / f"{year}.json"
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    return path


# ---------------------------------------------------------------------------
# Shipped data
# ---------------------------------------------------------------------------


class TestShippedData:
    def test_known_years(self, cal: WorkdayCalendar) -> None:
        assert cal.known_years() == [2025, 2026]
        assert cal.has_data(2025) and cal.has_data(2026)

    @pytest.mark.parametrize("year", [2025, 2026])
    def test_matches_official_notice(self, cal: WorkdayCalendar, year: int) -> None:
        sched = cal.schedule(year)
        assert sched is not None
        expected_holidays = {d for first, last in OFFICIAL[year]["holidays"] for d in days(first, last)}
        assert sched.holidays == expected_holidays
        assert sched.workdays == {D(s) for s in OFFICIAL[year]["workdays"]}
        assert "国务院办公厅" in sched.source and "国办发明电" in sched.source

    @pytest.mark.parametrize("year", [2025, 2026])
    def test_adjusted_workdays_fall_on_weekends(self, cal: WorkdayCalendar, year: int) -> None:
        for s in OFFICIAL[year]["workdays"]:
            assert D(s).weekday() in (5, 6), f"调休上班日 {s} is not a Saturday/Sunday"
        sched = cal.schedule(year)
        assert sched is not None
        assert all(d.weekday() >= 5 for d in sched.workdays)

    def test_weekday_spot_checks_from_the_notices(self) -> None:
        # The notices state these weekdays explicitly (周日/周六/周二...).
        assert D("2025-01-26").strftime("%a") == "Sun"
        assert D("2025-02-08").strftime("%a") == "Sat"
        assert D("2025-01-28").strftime("%a") == "Tue"  # 农历除夕
        assert D("2026-02-15").strftime("%a") == "Sun"  # 农历腊月二十八
        assert D("2026-02-23").strftime("%a") == "Mon"
        assert D("2026-01-04").strftime("%a") == "Sun"

    @pytest.mark.parametrize("year", [2025, 2026])
    def test_working_days_per_year(self, cal: WorkdayCalendar, year: int) -> None:
        # 261 weekdays - weekday holidays + 调休上班日: 2025: 261 - 18 + 5; 2026: 261 - 19 + 6.
        # (Counted from the official dates; the brief's expected 250 does not match.)
        assert cal.workdays_in_year(year) == 248
        brute = sum(1 for d in days(f"{year}-01-01", f"{year}-12-31") if cal.is_workday(d))
        assert brute == 248


# ---------------------------------------------------------------------------
# Single days
# ---------------------------------------------------------------------------


class TestIsWorkday:
    def test_adjusted_sunday_is_workday(self, cal: WorkdayCalendar) -> None:
        assert cal.is_workday(D("2025-01-26"))
        assert not cal.is_holiday(D("2025-01-26"))

    def test_spring_festival_2025(self, cal: WorkdayCalendar) -> None:
        for d in days("2025-01-28", "2025-02-04"):
            assert not cal.is_workday(d), d
            assert cal.is_holiday(d)
        assert cal.is_workday(D("2025-01-27"))
        assert cal.is_workday(D("2025-02-05"))
        assert cal.is_workday(D("2025-02-08"))  # Saturday, 调休上班
        assert not cal.is_workday(D("2025-02-09"))  # ordinary Sunday

    def test_ordinary_days(self, cal: WorkdayCalendar) -> None:
        assert cal.is_workday(D("2025-03-05"))  # Wednesday
        assert not cal.is_workday(D("2025-03-08"))  # Saturday
        assert not cal.is_holiday(D("2025-03-08"))  # weekends are not "holidays"

    def test_2026(self, cal: WorkdayCalendar) -> None:
        assert not cal.is_workday(D("2026-01-02"))  # Friday, 元旦
        assert cal.is_workday(D("2026-01-04"))  # Sunday, 调休上班
        assert not cal.is_workday(D("2026-02-23"))  # Monday, last day of 春节
        assert cal.is_workday(D("2026-02-28"))  # Saturday, 调休上班
        assert not cal.is_workday(D("2026-09-25"))  # Friday, 中秋节
        assert cal.is_workday(D("2026-09-20"))  # Sunday, 调休上班
        assert cal.is_workday(D("2026-10-08"))  # Thursday after 国庆节

    def test_next_workday(self, cal: WorkdayCalendar) -> None:
        assert cal.next_workday(D("2025-09-30")) == D("2025-10-09")
        assert cal.next_workday(D("2025-01-24")) == D("2025-01-26")
        assert cal.next_workday(D("2025-12-31")) == D("2026-01-04")  # across the year boundary
        assert cal.next_workday(D("2025-03-05")) == D("2025-03-06")

    def test_datetimes_are_taken_in_beijing_time(self, cal: WorkdayCalendar) -> None:
        # 2025-01-24T17:00Z is already Saturday 01:00 in Beijing.
        aware = datetime(2025, 1, 24, 17, 0, tzinfo=UTC)
        assert not cal.is_workday(aware)
        assert cal.add_workdays(aware, 1) == D("2025-01-26")
        naive = datetime(2025, 1, 24, 23, 0)
        assert cal.is_workday(naive)

    def test_rejects_non_dates(self, cal: WorkdayCalendar) -> None:
        with pytest.raises(TypeError):
            cal.is_workday("2025-01-26")  # type: ignore[arg-type]


# ---------------------------------------------------------------------------
# Deadlines and counting
# ---------------------------------------------------------------------------


class TestAddWorkdays:
    def test_friday_before_spring_festival(self, cal: WorkdayCalendar) -> None:
        start = D("2025-01-24")  # Friday; not counted itself
        assert cal.add_workdays(start, 1) == D("2025-01-26")  # Sunday, 调休上班
        assert cal.add_workdays(start, 2) == D("2025-01-27")
        assert cal.add_workdays(start, 3) == D("2025-02-05")  # jumps over 01-28..02-04
        assert cal.add_workdays(start, 0) == start

    def test_twenty_day_clock_over_national_day(self, cal: WorkdayCalendar) -> None:
        start = D("2025-09-26")  # Friday
        expected_days = [
            D("2025-09-28"),  # Sunday, 调休上班
            D("2025-09-29"),
            D("2025-09-30"),
            # 10-01 .. 10-08 国庆节、中秋节
            D("2025-10-09"),
            D("2025-10-10"),
            D("2025-10-11"),  # Saturday, 调休上班
            *days("2025-10-13", "2025-10-17"),
            *days("2025-10-20", "2025-10-24"),
            *days("2025-10-27", "2025-10-30"),
        ]
        assert len(expected_days) == 20
        for n, due in enumerate(expected_days, start=1):
            assert cal.add_workdays(start, n) == due
        assert cal.add_workdays(start, 20) == D("2025-10-30")
        assert cal.workdays_between(start, D("2025-10-30")) == 20

    def test_start_on_a_holiday(self, cal: WorkdayCalendar) -> None:
        assert cal.add_workdays(D("2026-10-03"), 1) == D("2026-10-08")
        assert cal.add_workdays(D("2026-10-03"), 3) == D("2026-10-10")  # Saturday, 调休上班

    def test_negative_rejected(self, cal: WorkdayCalendar) -> None:
        with pytest.raises(ValueError):
            cal.add_workdays(D("2025-01-01"), -1)

    def test_with_suspension(self, cal: WorkdayCalendar) -> None:
        # Clock suspended for a week of 专家评审 (5 working days) → deadline 5 working days later.
        due = cal.add_workdays(D("2025-09-26"), 20, suspensions=[(D("2025-10-13"), D("2025-10-17"))])
        assert due == D("2025-11-06")

    def test_open_ended_suspension_cannot_extend_deadline(self, cal: WorkdayCalendar) -> None:
        with pytest.raises(ValueError):
            cal.add_workdays(D("2025-09-26"), 5, suspensions=[(D("2025-10-13"), None)])


class TestCounting:
    def test_half_open_interval(self, cal: WorkdayCalendar) -> None:
        assert cal.workdays_between(D("2025-03-03"), D("2025-03-03")) == 0
        assert cal.workdays_between(D("2025-03-03"), D("2025-03-07")) == 4  # Tue..Fri; Monday excluded
        assert cal.workdays_between(D("2025-03-02"), D("2025-03-07")) == 5
        assert cal.workdays_between(D("2025-01-27"), D("2025-02-07")) == 3  # 02-05, 02-06, 02-07

    def test_reversed_interval_is_negative(self, cal: WorkdayCalendar) -> None:
        assert cal.workdays_between(D("2025-03-07"), D("2025-03-02")) == -5

    def test_elapsed_with_suspensions(self, cal: WorkdayCalendar) -> None:
        start, end = D("2025-09-26"), D("2025-10-30")
        assert cal.elapsed_workdays(start, end, []) == 20
        one_week = [(D("2025-10-13"), D("2025-10-17"))]
        assert cal.elapsed_workdays(start, end, one_week) == 15
        # Overlapping intervals are not double-counted; weekend/holiday days inside don't matter.
        overlapping = [(D("2025-10-13"), D("2025-10-15")), (D("2025-10-14"), D("2025-10-19"))]
        assert cal.elapsed_workdays(start, end, overlapping) == 15
        over_holiday = [(D("2025-09-30"), D("2025-10-09"))]  # only 09-30 and 10-09 are workdays
        assert cal.elapsed_workdays(start, end, over_holiday) == 18

    def test_open_suspension_runs_to_end(self, cal: WorkdayCalendar) -> None:
        start = D("2025-09-26")
        assert cal.elapsed_workdays(start, D("2025-10-30"), [(D("2025-10-27"), None)]) == 16

    def test_invalid_suspension(self, cal: WorkdayCalendar) -> None:
        with pytest.raises(ValueError):
            cal.elapsed_workdays(D("2025-01-01"), D("2025-02-01"), [(D("2025-01-10"), D("2025-01-09"))])

    @fast
    @given(
        st.dates(min_value=date(2024, 10, 1), max_value=date(2027, 3, 1)),
        st.integers(min_value=0, max_value=60),
    )
    def test_add_and_between_are_inverse(self, start: date, n: int) -> None:
        cal = workdays_shipped()
        due = cal.add_workdays(start, n)
        assert cal.workdays_between(start, due) == n
        if n:
            assert cal.is_workday(due)
            assert cal.workdays_between(start, due - timedelta(days=1)) == n - 1


_SHIPPED: WorkdayCalendar | None = None


def workdays_shipped() -> WorkdayCalendar:
    """Shared shipped-data calendar for hypothesis tests (fixtures don't mix with @given)."""
    global _SHIPPED
    if _SHIPPED is None:
        _SHIPPED = WorkdayCalendar(override_dir="")
    return _SHIPPED


# ---------------------------------------------------------------------------
# Years without data
# ---------------------------------------------------------------------------


class TestFallback:
    def test_unknown_year_is_plain_monday_to_friday(
        self, cal: WorkdayCalendar, caplog: pytest.LogCaptureFixture
    ) -> None:
        assert not cal.has_data(2030)
        assert cal.schedule(2030) is None
        with caplog.at_level(logging.WARNING, logger="smartgov.core.workdays"):
            assert cal.is_workday(D("2030-01-01"))  # Tuesday; New Year unknown without data
            assert not cal.is_workday(D("2030-01-05"))
            assert cal.workdays_in_year(2030) == 261
        assert sum("2030" in r.getMessage() for r in caplog.records) == 1  # warned once

    def test_deadline_across_into_unknown_year(self, cal: WorkdayCalendar) -> None:
        assert cal.add_workdays(D("2026-12-30"), 3) == D("2027-01-04")  # 12-31, 01-01 (no data), 01-04


# ---------------------------------------------------------------------------
# Admin override directory and validation
# ---------------------------------------------------------------------------


@pytest.fixture
def restore_default() -> Iterator[None]:
    yield
    workdays._default = None  # next calendar() call rebuilds from the restored environment


class TestOverride:
    def test_override_file_wins(self, tmp_path: Path) -> None:
        write_year(tmp_path, 2025, {"holidays": [{"name": "临时假日", "dates": ["2025-01-27"]}]})
        cal = WorkdayCalendar(override_dir=tmp_path)
        assert not cal.is_workday(D("2025-01-27"))
        # The whole year is replaced, not merged: the shipped 春节 is gone.
        assert cal.is_workday(D("2025-01-28"))
        assert not cal.is_workday(D("2025-01-26"))
        sched = cal.schedule(2025)
        assert sched is not None and str(tmp_path) in sched.origin
        assert cal.schedule(2026) is not None  # other shipped years still there

    def test_override_adds_a_year(self, tmp_path: Path) -> None:
        write_year(tmp_path, 2027)
        (tmp_path / "README.md").write_text("notes", encoding="utf-8")  # ignored
        (tmp_path / "2027.json.bak").write_text("{", encoding="utf-8")  # ignored
        cal = WorkdayCalendar(override_dir=tmp_path)
        assert cal.known_years() == [2025, 2026, 2027]
        assert not cal.is_workday(D("2027-03-02"))

    def test_setting_and_reload(
        self, tmp_path: Path, settings, restore_default: None
    ) -> None:
        settings.HOLIDAYS_DIR = ""
        before = workdays.reload()
        assert workdays.calendar() is before  # cached
        assert before.is_workday(D("2025-01-27"))

        write_year(tmp_path, 2025, {"holidays": [{"name": "临时假日", "dates": ["2025-01-27"]}]})
        settings.HOLIDAYS_DIR = str(tmp_path)  # SMARTGOV_HOLIDAYS_DIR(_FILE)
        assert workdays.calendar() is before  # not re-read until reload()
        after = workdays.reload()
        assert workdays.calendar() is after
        assert not after.is_workday(D("2025-01-27"))

    def test_failed_reload_keeps_previous_calendar(
        self, tmp_path: Path, settings, restore_default: None
    ) -> None:
        settings.HOLIDAYS_DIR = ""
        good = workdays.reload()
        (tmp_path / "2025.json").write_text("{not json", encoding="utf-8")
        settings.HOLIDAYS_DIR = str(tmp_path)  # SMARTGOV_HOLIDAYS_DIR(_FILE)
        with pytest.raises(HolidayDataError):
            workdays.reload()
        assert workdays.calendar() is good

    def test_missing_override_dir_is_ignored_with_warning(
        self, tmp_path: Path, caplog: pytest.LogCaptureFixture
    ) -> None:
        with caplog.at_level(logging.WARNING, logger="smartgov.core.workdays"):
            cal = WorkdayCalendar(override_dir=tmp_path / "nope")
        assert cal.known_years() == [2025, 2026]
        assert any(ENV_HOLIDAYS_DIR in r.getMessage() for r in caplog.records)


class TestMalformedFiles:
    @pytest.mark.parametrize(
        ("overrides", "fragment"),
        [
            ({"year": 2024}, "文件名年份"),
            ({"holidays": [{"name": "x", "dates": ["2026-01-01"]}]}, "不在 2025 年内"),
            ({"holidays": [{"name": "x", "dates": ["2025-02-30"]}]}, "无效日期"),
            ({"holidays": [{"name": "x", "dates": ["2025/03/02"]}]}, "无效日期"),
            (
                {
                    "holidays": [{"name": "x", "dates": ["2025-03-01"]}],
                    "workdays": [{"name": "y", "dates": ["2025-03-01"]}],
                },
                "同时列为假日和调休上班日",
            ),
            ({"workdays": [{"name": "y", "dates": ["2025-03-03"]}]}, "周六或周日"),  # a Monday
            ({"workday": []}, "未知字段"),
            ({"source": ""}, "source"),
            ({"holidays": {"name": "x"}}, "列表"),
            ({"holidays": [{"name": "x", "date": ["2025-03-02"]}]}, "holidays[0]"),
            ({"holidays": [{"name": "x", "dates": []}]}, "非空列表"),
            ({"year": "2025"}, "整数"),
            ({"published": 20241112}, "published"),
        ],
    )
    def test_error_names_the_file(self, tmp_path: Path, overrides: dict[str, Any], fragment: str) -> None:
        path = write_year(tmp_path, 2025, overrides)
        with pytest.raises(HolidayDataError) as exc_info:
            WorkdayCalendar(override_dir=tmp_path)
        message = str(exc_info.value)
        assert str(path) in message
        assert fragment in message

    def test_missing_key(self, tmp_path: Path) -> None:
        path = tmp_path / "2025.json"
        path.write_text(json.dumps({"year": 2025, "source": "s", "holidays": []}), encoding="utf-8")
        with pytest.raises(HolidayDataError, match="workdays"):
            WorkdayCalendar(override_dir=tmp_path)

    @pytest.mark.parametrize("content", ["{not json", "[]", ""])
    def test_not_a_json_object(self, tmp_path: Path, content: str) -> None:
        (tmp_path / "2025.json").write_text(content, encoding="utf-8")
        with pytest.raises(HolidayDataError, match=r"2025\.json"):
            WorkdayCalendar(override_dir=tmp_path)

    def test_shipped_files_pass_validation(self) -> None:
        # Re-validate the shipped JSON directly (also guards against hand edits).
        shipped = Path(workdays.__file__).parent / "data" / "holidays"
        for year in (2025, 2026):
            data = json.loads((shipped / f"{year}.json").read_text(encoding="utf-8"))
            sched = workdays.parse_year_data(data, f"{year}.json", expected_year=year)
            assert sched.year == year
