"""Helpers for the ``indicators``/``alerts`` selectors each app publishes to the city overview (docs/overview.md).

The contract: an app's ``selectors.indicators(*, actor, department)`` returns a list of ``indicator(...)``
dicts for ``department`` and everything below it, in a constant number of queries; its optional
``selectors.alerts(*, actor, department, limit)`` returns ``alert(...)`` dicts (newest first). Both refuse a
department outside the actor's scope exactly like a missing one (``check_scope``).
"""

import datetime

from django.db.models import Count, Q
from django.utils import timezone

from .errors import NotFound
from .permissions import covers_department

DAYS = 7  # the trend series: today and the six days before


def check_scope(actor, department) -> None:
    """Refuse (as not found) a department the actor's scope does not cover."""
    if department is None or not covers_department(actor, department):
        raise NotFound("没有这个部门", code="department_not_found")


def day_starts(today: datetime.date | None = None) -> list[datetime.datetime]:
    """Aware local midnights: ``[today-7, today-6, …, today, tomorrow]`` (nine bounds, eight days)."""
    today = today or timezone.localdate()
    tz = timezone.get_current_timezone()
    return [datetime.datetime.combine(today - datetime.timedelta(days=n), datetime.time.min, tzinfo=tz)
            for n in range(DAYS, -2, -1)]


def daily_counts(field: str, prefix: str, bounds: list[datetime.datetime]) -> dict:
    """Aggregate arguments counting rows per day of ``bounds`` on the datetime ``field`` (one query with the rest)."""
    return {f"{prefix}_{i}": Count("pk", filter=Q(**{f"{field}__gte": bounds[i], f"{field}__lt": bounds[i + 1]}))
            for i in range(len(bounds) - 1)}


def series_of(row: dict, prefix: str, bounds: list[datetime.datetime]) -> dict:
    """``value`` (today), ``yesterday``, ``last_week`` (the same weekday a week ago) and the 7-day ``series``."""
    counts = [row[f"{prefix}_{i}"] for i in range(len(bounds) - 1)]
    days = [b.date().isoformat() for b in bounds[:-1]]
    return {"value": counts[-1], "yesterday": counts[-2], "last_week": counts[0],
            "series": [[d, n] for d, n in zip(days[1:], counts[1:], strict=True)]}


def indicator(*, app: str, key: str, name: str, name_en: str, unit: str, value, department, url: str = "",
              yesterday=None, last_week=None, series=None, breakdown=None, text: str = "", text_en: str = "",
              status: str = "", note: str = "", note_en: str = "") -> dict:
    """One figure of an app for a department's scope (``department`` and below).

    A status rather than a number (the audit chain verifies or not) gives ``text``/``text_en`` shown in place of
    the value (``value`` stays a number for the API and reports: 1 yes, 0 no, None unknown), ``status`` ``"ok"``,
    ``"warn"`` or ``"alert"`` to colour the tile, and ``note``/``note_en`` for the line beneath (as of when)."""
    return {"app": app, "key": f"{app}.{key}", "name": name, "name_en": name_en, "unit": unit, "value": value,
            "yesterday": yesterday, "last_week": last_week, "series": series, "breakdown": breakdown,
            "text": text, "text_en": text_en, "status": status, "note": note, "note_en": note_en,
            "department": department.path, "department_name": department.name, "url": url}


def alert(*, app: str, key: str, kind: str, kind_en: str, title: str, at, url: str, level: str = "red",
          department_name: str = "") -> dict:
    """One thing needing a leader's attention; ``key`` is stable (acknowledgements refer to it)."""
    return {"app": app, "key": f"{app}.{key}", "kind": kind, "kind_en": kind_en, "title": title,
            "at": at.isoformat() if at else None, "url": url, "level": level, "department_name": department_name}


def marker(*, app: str, key: str, kind: str, kind_en: str, name: str, status: str, status_label: str,
           department, url: str = "", latitude: float | None = None, longitude: float | None = None,
           at=None) -> dict:
    """One place on the overview's region map (a depot, a vaccination site, a hall, a park, a vehicle).

    ``status`` is ``"ok"``, ``"alert"`` (something open there) or ``"idle"``; ``status_label`` says it in Chinese.
    A place without coordinates (WGS-84) is drawn at the centre of its department's region (``department.path``
    is resolved to the nearest region code by the overview)."""
    return {"app": app, "key": f"{app}.{key}", "kind": kind, "kind_en": kind_en, "name": name, "status": status,
            "status_label": status_label, "department_path": department.path, "department_name": department.name,
            "url": url, "latitude": latitude, "longitude": longitude, "at": at.isoformat() if at else None}
