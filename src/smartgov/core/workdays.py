"""Working-day calendar for statutory time limits (工作日历 / 法定办理时限).

Time limits in administrative procedure are counted in 工作日 (working days), e.g.
《行政许可法》第八十二条: 行政许可的期限以工作日计算，不含法定节假日. Working days are
Monday-Friday, minus public holidays (法定节假日及放假调休), plus the weekend days
that the State Council designates as working days (调休上班日).

The holiday schedule is published every year by 国务院办公厅 (《关于某年部分节假日
安排的通知》) and shipped as one JSON file per year in ``smartgov/core/data/holidays``.
An administrator can add or correct a year without a release by putting
``<year>.json`` into the directory named by the ``SMARTGOV_HOLIDAYS_DIR`` environment
variable; a file there replaces the shipped file for the same year (no merging).

File format::

    {
      "year": 2025,
      "source": "国务院办公厅关于2025年部分节假日安排的通知（国办发明电〔2024〕12号）",
      "published": "2024-11-12",                      (optional)
      "holidays": [{"name": "元旦", "dates": ["2025-01-01"]}, ...],
      "workdays": [{"name": "春节调休", "dates": ["2025-01-26", "2025-02-08"]}, ...]
    }

Files are validated when loaded (:class:`HolidayDataError` names the file). Years
without a file fall back to plain Monday-Friday; use :meth:`WorkdayCalendar.has_data`
to warn users that a deadline in such a year is provisional.
"""

from __future__ import annotations

import json
import logging
import os
import threading
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import Any, Final

from django.conf import settings

__all__ = [
    "ENV_HOLIDAYS_DIR",
    "HolidayDataError",
    "WorkdayCalendar",
    "YearSchedule",
    "calendar",
    "parse_year_data",
    "reload",
]

logger = logging.getLogger(__name__)

#: Environment variable naming the administrator's override directory.
ENV_HOLIDAYS_DIR: Final = "SMARTGOV_HOLIDAYS_DIR"

# Aware datetimes are converted to Beijing time (UTC+8, no DST) before taking the date:
# a filing at 2025-01-23T17:00Z was made on 2025-01-24 in China.
CHINA_TZ: Final = timezone(timedelta(hours=8), "Asia/Shanghai")

_ONE_DAY: Final = timedelta(days=1)
_SATURDAY: Final = 5
_ALLOWED_KEYS: Final = frozenset({"year", "source", "published", "url", "notes", "holidays", "workdays"})
_REQUIRED_KEYS: Final = frozenset({"year", "source", "holidays", "workdays"})

DateLike = date | datetime
Suspension = tuple[DateLike, DateLike | None]


class HolidayDataError(ValueError):
    """A holiday data file (节假日数据文件) is missing, unreadable or inconsistent."""


@dataclass(frozen=True, slots=True)
class YearSchedule:
    """One year's 放假调休安排: public holidays and adjusted working days."""

    year: int
    source: str
    holidays: frozenset[date]
    workdays: frozenset[date]
    origin: str  # where it was loaded from, for diagnostics


# ---------------------------------------------------------------------------
# Loading and validation
# ---------------------------------------------------------------------------


def _parse_entries(data: dict[str, Any], key: str, year: int, origin: str) -> frozenset[date]:
    entries = data[key]
    if not isinstance(entries, list):
        raise HolidayDataError(f"{origin}: “{key}” 应为列表 (must be a list)")
    result: set[date] = set()
    for i, entry in enumerate(entries):
        where = f"{origin}: {key}[{i}]"
        if not isinstance(entry, dict) or set(entry) != {"name", "dates"}:
            raise HolidayDataError(f'{where} 应为 {{"name": ..., "dates": [...]}}')
        if not isinstance(entry["name"], str) or not entry["name"].strip():
            raise HolidayDataError(f"{where}: name 不能为空 (name must be a non-empty string)")
        if not isinstance(entry["dates"], list) or not entry["dates"]:
            raise HolidayDataError(f"{where} ({entry['name']}): dates 应为非空列表")
        for raw in entry["dates"]:
            try:
                day = date.fromisoformat(raw)
            except (TypeError, ValueError):
                raise HolidayDataError(
                    f"{where} ({entry['name']}): 无效日期 {raw!r} (expected YYYY-MM-DD)"
                ) from None
            if day.year != year:
                raise HolidayDataError(f"{where} ({entry['name']}): 日期 {raw} 不在 {year} 年内")
            result.add(day)
    return frozenset(result)


def parse_year_data(data: object, origin: str, expected_year: int | None = None) -> YearSchedule:
    """Validate decoded JSON ``data`` from ``origin`` and return its :class:`YearSchedule`.

    Checks: required keys and no unknown ones (catches typos such as ``"workday"``),
    ``year`` matches the file name, every date is ISO ``YYYY-MM-DD`` within that year,
    no date is both a holiday and a working day, and every 调休上班日 falls on a
    Saturday or Sunday (a weekday "working day" would be a transcription error).
    """
    if not isinstance(data, dict):
        raise HolidayDataError(f"{origin}: 顶层应为 JSON 对象 (top level must be an object)")
    missing = _REQUIRED_KEYS - data.keys()
    if missing:
        raise HolidayDataError(f"{origin}: 缺少字段 (missing keys) {sorted(missing)}")
    unknown = data.keys() - _ALLOWED_KEYS
    if unknown:
        raise HolidayDataError(f"{origin}: 未知字段 (unknown keys) {sorted(unknown)}")
    year = data["year"]
    if not isinstance(year, int) or isinstance(year, bool):
        raise HolidayDataError(f"{origin}: year 应为整数 (must be an integer)")
    if expected_year is not None and year != expected_year:
        raise HolidayDataError(f"{origin}: year={year} 与文件名年份 {expected_year} 不一致")
    source = data["source"]
    if not isinstance(source, str) or not source.strip():
        raise HolidayDataError(f"{origin}: source 应注明通知名称及文号 (source must name the notice)")

    for key in ("published", "url", "notes"):
        if key in data and not isinstance(data[key], str):
            raise HolidayDataError(f"{origin}: {key} 应为字符串 (must be a string)")

    holidays = _parse_entries(data, "holidays", year, origin)
    workdays = _parse_entries(data, "workdays", year, origin)
    both = sorted(holidays & workdays)
    if both:
        listed = ", ".join(d.isoformat() for d in both)
        raise HolidayDataError(f"{origin}: 日期同时列为假日和调休上班日 (both holiday and workday): {listed}")
    not_weekend = sorted(d for d in workdays if d.weekday() < _SATURDAY)
    if not_weekend:
        listed = ", ".join(d.isoformat() for d in not_weekend)
        raise HolidayDataError(
            f"{origin}: 调休上班日应为周六或周日 (adjusted workday not on a weekend): {listed}"
        )
    return YearSchedule(year=year, source=source, holidays=holidays, workdays=workdays, origin=origin)


def _year_files(directory: Path | Traversable) -> Iterator[tuple[int, Path | Traversable]]:
    """Yield ``(year, file)`` for every ``YYYY.json`` in ``directory``; other files are ignored."""
    for entry in directory.iterdir():
        stem, dot, ext = entry.name.partition(".")
        if dot and ext == "json" and len(stem) == 4 and stem.isascii() and stem.isdigit() and entry.is_file():
            yield int(stem), entry


def _load_file(path: Path | Traversable, year: int) -> YearSchedule:
    origin = str(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise HolidayDataError(f"{origin}: 无法读取 (cannot read): {exc}") from exc
    except json.JSONDecodeError as exc:
        raise HolidayDataError(f"{origin}: JSON 格式错误 (invalid JSON): {exc}") from exc
    return parse_year_data(data, origin, expected_year=year)


def _shipped_dir() -> Traversable:
    return resources.files("smartgov.core").joinpath("data", "holidays")


# ---------------------------------------------------------------------------
# Calendar
# ---------------------------------------------------------------------------


def _as_date(value: DateLike) -> date:
    """Calendar date of ``value``; aware datetimes are taken in Beijing time."""
    if isinstance(value, datetime):
        if value.tzinfo is not None and value.utcoffset() is not None:
            value = value.astimezone(CHINA_TZ)
        return value.date()
    if isinstance(value, date):
        return value
    raise TypeError(f"expected date or datetime, got {type(value).__name__}")


class WorkdayCalendar:
    """工作日历: decides which days are 工作日 and computes statutory deadlines.

    ``shipped_dir`` defaults to the package data; ``override_dir`` defaults to
    ``settings.HOLIDAYS_DIR`` (``SMARTGOV_HOLIDAYS_DIR``) (``None`` or empty: no override). Pass
    ``override_dir=""`` to ignore the environment. All files are loaded and validated
    in the constructor, so a bad file fails fast with :class:`HolidayDataError`.
    """

    def __init__(
        self,
        *,
        shipped_dir: Path | Traversable | None = None,
        override_dir: str | os.PathLike[str] | None = None,
    ) -> None:
        if override_dir is None:
            override_dir = settings.HOLIDAYS_DIR
        sources: list[Path | Traversable] = [shipped_dir if shipped_dir is not None else _shipped_dir()]
        if os.fspath(override_dir):
            override = Path(override_dir)
            if override.is_dir():
                sources.append(override)  # later sources win
            else:
                logger.warning(
                    "%s=%s 不是目录，已忽略 (not a directory, ignored)", ENV_HOLIDAYS_DIR, override
                )
        self._schedules: dict[int, YearSchedule] = {}
        for directory in sources:
            for year, path in _year_files(directory):
                self._schedules[year] = _load_file(path, year)
        self._warned_years: set[int] = set()

    # -- data coverage ------------------------------------------------------

    def known_years(self) -> list[int]:
        """Years that have a 放假安排 data file, ascending."""
        return sorted(self._schedules)

    def has_data(self, year: int) -> bool:
        """Whether ``year`` has holiday data; if not, the calendar assumes plain Mon-Fri."""
        return year in self._schedules

    def schedule(self, year: int) -> YearSchedule | None:
        """The loaded :class:`YearSchedule` for ``year`` (with its ``source``), if any."""
        return self._schedules.get(year)

    # -- single days --------------------------------------------------------

    def is_workday(self, d: DateLike) -> bool:
        """Whether ``d`` is a 工作日: an 调休上班日, or Mon-Fri that is not a holiday."""
        day = _as_date(d)
        sched = self._schedules.get(day.year)
        if sched is None:
            if day.year not in self._warned_years:
                self._warned_years.add(day.year)
                logger.warning("没有 %s 年的节假日数据，按周一至周五计算工作日", day.year)
            return day.weekday() < _SATURDAY
        if day in sched.workdays:
            return True
        return day.weekday() < _SATURDAY and day not in sched.holidays

    def is_holiday(self, d: DateLike) -> bool:
        """Whether ``d`` is listed as a 法定节假日/放假调休 day (weekends are not listed)."""
        day = _as_date(d)
        sched = self._schedules.get(day.year)
        return sched is not None and day in sched.holidays

    def next_workday(self, d: DateLike) -> date:
        """The first 工作日 strictly after ``d``."""
        day = _as_date(d) + _ONE_DAY
        while not self.is_workday(day):
            day += _ONE_DAY
        return day

    # -- counting -----------------------------------------------------------

    def add_workdays(self, start: DateLike, n: int, *, suspensions: Iterable[Suspension] = ()) -> date:
        """Statutory deadline (办理期限届满日): the ``n``-th 工作日 after ``start``.

        The day of ``start`` itself is never counted, even if it is a working day
        (《民法典》第二百零一条: 开始的当日不计入，自下一日开始计算); counting starts
        with the next working day. Because only working days are counted, the result
        is always a working day, so the rule that a period ending on a holiday
        moves to the next working day (《民法典》第二百零三条) is satisfied automatically. ``n == 0`` returns
        ``start``'s date.

        Working days inside ``suspensions`` (中止/暂停计时, inclusive intervals, see
        :meth:`elapsed_workdays`) do not count, which extends the deadline.
        """
        if n < 0:
            raise ValueError("n must be >= 0")
        day = _as_date(start)
        paused = _suspended_days(suspensions)
        remaining = n
        while remaining:
            day = self.next_workday(day)
            if day not in paused:
                remaining -= 1
        return day

    def workdays_between(self, a: DateLike, b: DateLike) -> int:
        """Number of 工作日 in the half-open interval (a, b].

        Inverse of :meth:`add_workdays`: ``workdays_between(s, add_workdays(s, n)) == n``.
        If ``b < a`` the result is ``-workdays_between(b, a)``.
        """
        return self.elapsed_workdays(a, b)

    def elapsed_workdays(self, start: DateLike, end: DateLike, suspensions: Iterable[Suspension] = ()) -> int:
        """工作日 elapsed on a clock started at ``start``, as of ``end``: days in (start, end].

        ``suspensions`` are ``(first_day, last_day)`` pairs, both inclusive, during which
        the clock is suspended (中止计时, e.g. 听证、检验检测、鉴定、专家评审 — 《行政许可法》
        第四十五条: 所需时间不计算在规定的期限内); working days inside them are not
        counted. ``last_day=None`` means "still suspended" (through ``end``).
        Overlapping intervals are fine. If ``end < start`` the result is negative.
        """
        a, b = _as_date(start), _as_date(end)
        if b < a:
            return -self.elapsed_workdays(b, a, suspensions)
        paused = _suspended_days(suspensions, open_end=b)
        count = 0
        day = a + _ONE_DAY
        while day <= b:
            if day not in paused and self.is_workday(day):
                count += 1
            day += _ONE_DAY
        return count

    def workdays_in_year(self, year: int) -> int:
        """Total 工作日 in ``year`` (a sanity figure for data review)."""
        return self.workdays_between(date(year - 1, 12, 31), date(year, 12, 31))


def _suspended_days(suspensions: Iterable[Suspension], open_end: date | None = None) -> frozenset[date]:
    """Expand inclusive suspension intervals into a set of days."""
    days: set[date] = set()
    for first, last in suspensions:
        lo = _as_date(first)
        if last is None:
            if open_end is None:
                raise ValueError("an open-ended suspension (last_day=None) cannot extend a deadline")
            hi = open_end
        else:
            hi = _as_date(last)
            if hi < lo:
                raise ValueError(f"suspension ends before it starts: {lo} > {hi}")
        day = lo
        while day <= hi:
            days.add(day)
            day += _ONE_DAY
    return frozenset(days)


# ---------------------------------------------------------------------------
# Module-level default calendar
# ---------------------------------------------------------------------------

_lock = threading.Lock()
_default: WorkdayCalendar | None = None


def calendar() -> WorkdayCalendar:
    """The process-wide default :class:`WorkdayCalendar` (built once, then cached)."""
    global _default
    cal = _default
    if cal is None:
        with _lock:
            if _default is None:
                _default = WorkdayCalendar()
            cal = _default
    return cal


def reload() -> WorkdayCalendar:
    """Re-read the shipped and override files (e.g. after an admin updated a year)."""
    global _default
    fresh = WorkdayCalendar()  # build outside the lock; a bad file leaves the old one in place
    with _lock:
        _default = fresh
    return fresh
