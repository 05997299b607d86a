"""The leader's picture: every installed app's indicators and alerts for one department's scope."""

import copy
import threading
import time
from collections import OrderedDict
from functools import cache
from pathlib import Path

import orjson
from django.conf import settings
from django.utils import timezone

from smartgov.accounts.models import Department
from smartgov.audit.selectors import trail_length
from smartgov.core.errors import NotFound
from smartgov.core.indicators import check_scope
from smartgov.core.permissions import is_system, require, scope

from .models import Acknowledgement, Report
from .registry import marker_sources, providers

DEMO_REGIONS = Path(__file__).parent / "data" / "demo-regions.geojson"

ALERTS_PER_APP = 20


def departments_for(actor) -> list[Department]:
    """The departments a leader may look at: their own and everything below it."""
    require(actor, "overview.view")
    return list(scope(actor, Department.objects.order_by("path"), field=None))


def department_for(actor, department_id: int | None = None) -> Department:
    """The department whose figures to show: the leader's own, or one below it (out of scope = not found)."""
    require(actor, "overview.view")
    if department_id is None:
        if actor.department is None:
            raise NotFound("没有这个部门", code="department_not_found")
        return actor.department
    dept = scope(actor, Department.objects.all(), field=None).filter(pk=department_id).first()
    if dept is None:
        raise NotFound("没有这个部门", code="department_not_found")
    return dept


class FigureCache:
    """Each department's figures (every app's indicators and alerts, and the map), kept per process.

    An entry is used only while (a) the audit trail's head is where it was when the entry was computed — every
    write of the platform leaves an audit entry in the same transaction, so an unchanged head means no audited
    write committed since — (b) it is the same local day (the daily series roll over at midnight), and (c) it is
    younger than ``OVERVIEW_CACHE_SECONDS``, which bounds what changes without an audited write (a statutory
    deadline passing, sensor readings between a batch's entries). Checking costs one primary-key read."""

    SIZE = 512

    def __init__(self):
        self.lock = threading.Lock()
        self.entries: OrderedDict[int, tuple] = OrderedDict()
        self.hits = self.misses = 0

    def get(self, department_id: int, version: int, day, now: float):
        with self.lock:
            entry = self.entries.get(department_id)
            if entry is None or entry[0] != version or entry[1] != day or now - entry[2] > settings.OVERVIEW_CACHE_SECONDS:
                self.misses += 1
                return None
            self.entries.move_to_end(department_id)
            self.hits += 1
            return entry[3]

    def put(self, department_id: int, version: int, day, now: float, figures: dict) -> None:
        with self.lock:
            self.entries[department_id] = (version, day, now, figures)
            self.entries.move_to_end(department_id)
            while len(self.entries) > self.SIZE:
                self.entries.popitem(last=False)

    def clear(self) -> None:
        with self.lock:
            self.entries.clear()
            self.hits = self.misses = 0


FIGURES = FigureCache()


def _figures(actor, department: Department) -> dict:
    """Every installed app's indicators and alerts (all of them, acknowledged or not) and the map."""
    groups, alerts = [], []
    for p in providers():
        groups.append({"app": p.label, "name": p.name,
                       "indicators": p.indicators(actor=actor, department=department)})
        if p.alerts is not None:
            alerts.extend(p.alerts(actor=actor, department=department, limit=ALERTS_PER_APP))
    alerts.sort(key=lambda a: a["at"] or "", reverse=True)
    return {"apps": groups, "alerts": alerts, "map": map_data(actor, department)}


def department_figures(actor, department: Department) -> dict:
    """``_figures`` through the per-process cache (see ``FigureCache``). A department's figures do not depend on
    which leader looks; the scope is checked before the cache is consulted. Returns a copy the caller may change."""
    require(actor, "overview.view")
    check_scope(actor, department)
    if settings.OVERVIEW_CACHE_SECONDS <= 0:
        return _figures(actor, department)
    version, day, now = trail_length(), timezone.localdate(), time.monotonic()
    figures = FIGURES.get(department.pk, version, day, now)
    if figures is None:
        figures = _figures(actor, department)
        FIGURES.put(department.pk, version, day, now, figures)
    return copy.deepcopy(figures)  # callers mark alerts as acknowledged: never the cached ones


def snapshot(actor, department: Department, *, include_acknowledged: bool = False) -> dict:
    """Indicators grouped by app and the rolling alert list (newest first), for ``department`` and below.

    Queries: each app's constant few when the department's figures are not cached (``department_figures``), the
    audit head, and one for the leader's acknowledgements."""
    figures = department_figures(actor, department)
    alerts = figures["alerts"]
    acked = set(Acknowledgement.objects.filter(user=actor, alert_key__in=[a["key"] for a in alerts])
                .values_list("alert_key", flat=True)) if alerts and not is_system(actor) else set()
    for a in alerts:
        a["acknowledged"] = a["key"] in acked
    if not include_acknowledged:
        alerts = [a for a in alerts if not a["acknowledged"]]
    return {"department": {"id": department.pk, "name": department.name, "path": department.path},
            "apps": figures["apps"], "alerts": alerts, "map": figures["map"], "at": timezone.now().isoformat()}


def figures_only(data: dict) -> dict:
    """The part of a snapshot that changes when the data does (what the live stream compares)."""
    return {"apps": data["apps"], "alerts": data["alerts"], "map": data["map"]}


def reports_for(actor, department: Department | None = None, *, limit: int = 50) -> list[Report]:
    """The kept 运行报告 of the departments in the leader's scope (of ``department`` and below, when given)."""
    require(actor, "overview.view")
    qs = Report.objects.filter(department__in=scope(actor, Department.objects.all(), field=None))
    if department is not None:
        qs = qs.filter(department__path__startswith=department.path)
    return list(qs.select_related("department").defer("pdf", "xlsx", "figures")[:limit])


def report_for(actor, report_id: int) -> Report:
    """One kept report; a report of a department outside the leader's scope is not found, like a missing one."""
    require(actor, "overview.view")
    report = (Report.objects.filter(pk=report_id, department__in=scope(actor, Department.objects.all(), field=None))
              .select_related("department").first())
    if report is None:
        raise NotFound("没有这份报告", code="report_not_found")
    return report


def regions_geojson() -> dict:
    """The installation's regions (settings.OVERVIEW_REGIONS_GEOJSON, else the shipped demo regions), read once."""
    return _load_regions(getattr(settings, "OVERVIEW_REGIONS_GEOJSON", "") or str(DEMO_REGIONS))


@cache
def _load_regions(path: str) -> dict:
    return orjson.loads(Path(path).read_bytes())


def _region_prefix(code: str) -> str:
    """330100 → "3301" (a city covers its counties), 330102 → "330102", 330000 → "33"."""
    while code.endswith("00") and len(code) > 2:
        code = code[:-2]
    return code


def _centre(feature: dict) -> list[float]:
    centre = feature.get("properties", {}).get("center")
    if centre:
        return centre
    ring = feature["geometry"]["coordinates"][0]
    if feature["geometry"]["type"] == "MultiPolygon":
        ring = ring[0]
    return [sum(p[0] for p in ring) / len(ring), sum(p[1] for p in ring) / len(ring)]


def _regions(department: Department):
    """(the regions of ``department``'s scope, its own region code, a path → nearest region code function)."""
    geo = regions_geojson()
    coded = sorted(Department.objects.exclude(region_code="").values_list("path", "region_code"),
                   key=lambda r: len(r[0]), reverse=True)

    def region_of(path: str) -> str | None:
        return next((code for p, code in coded if path.startswith(p)), None)

    own = region_of(department.path)
    features = geo.get("features", [])
    if own:
        prefix = _region_prefix(own)
        inside = [f for f in features if str(f.get("properties", {}).get("code", "")).startswith(prefix)]
        features = inside or [f for f in features if prefix.startswith(
            _region_prefix(str(f.get("properties", {}).get("code", "")) or "-"))]
    return features, own, region_of


def regions_for(actor, department: Department) -> dict:
    """The GeoJSON drawn for ``department``'s scope: the regions below its region code (all of them when no
    department up its tree has one)."""
    require(actor, "overview.view")
    features, _own, _region_of = _regions(department)
    return {"type": "FeatureCollection", "features": features}


def map_data(actor, department: Department) -> dict:
    """The places the installed apps publish (``map_markers``) for ``department``'s scope. A place without
    coordinates is drawn near the centre of the region of its nearest department with a region code."""
    require(actor, "overview.view")
    features, own, region_of = _regions(department)
    centres = {str(f["properties"].get("code")): _centre(f) for f in features}
    fallback = ([sum(c[0] for c in centres.values()) / len(centres), sum(c[1] for c in centres.values()) / len(centres)]
                if centres else None)
    markers = []
    for _label, fn in marker_sources():
        for m in fn(actor=actor, department=department):
            if m["latitude"] is None or m["longitude"] is None:
                m["region_code"] = region_of(m["department_path"])
                centre = centres.get(m["region_code"] or "", fallback)
                if centre is None:
                    continue
                n = len(markers)  # spread the places of one region around its centre
                m["longitude"], m["latitude"] = centre[0] + 0.012 * (n % 5 - 2), centre[1] + 0.01 * (n // 5 % 5 - 2)
                m["placed"] = "region"
            else:
                m["placed"] = "gnss" if m["kind_en"] == "Vehicle" else "coordinates"
            markers.append(m)
    return {"markers": markers, "region_code": own}
