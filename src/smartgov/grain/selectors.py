"""Reads more than one caller needs, always narrowed to the user's department scope."""

from django.db.models import Avg, Count, Max, OuterRef, Q, Subquery, Sum
from django.urls import reverse
from django.utils import timezone

from smartgov.core.errors import NotFound
from smartgov.core.indicators import alert, check_scope, indicator, marker
from smartgov.core.permissions import require, scope

from .models import Alert, AlertStatus, Depot, Lot, Owner, Price, Scan, StockCheck, Variety, Warehouse


def depots_for(user):
    require(user, "grain.view")
    return scope(user, Depot.objects.select_related("department"), field="department")


def warehouses_for(user):
    require(user, "grain.view")
    return scope(user, Warehouse.objects.select_related("depot", "depot__department"), field="depot__department")


def get_depot_for(user, depot_id: int) -> Depot:
    depot = depots_for(user).filter(pk=depot_id).first()
    if depot is None:
        raise NotFound("没有这个库点", code="depot_not_found")
    return depot


def get_warehouse_for(user, warehouse_id: int) -> Warehouse:
    wh = warehouses_for(user).filter(pk=warehouse_id).first()
    if wh is None:
        raise NotFound("没有这个仓房", code="warehouse_not_found")
    return wh


def alerts_for(user, *, open_only: bool = False):
    require(user, "grain.view")
    qs = scope(user, Alert.objects.select_related("warehouse", "warehouse__depot"),
               field="warehouse__depot__department")
    if open_only:
        qs = qs.exclude(status=AlertStatus.RESOLVED)
    return qs


def latest_scan(warehouse_id: int) -> Scan | None:
    return Scan.objects.filter(warehouse_id=warehouse_id).order_by("-taken_at").first()


def latest_scans(warehouse_ids) -> dict[int, Scan]:
    """The latest scan of each warehouse, in one query (no temps blob)."""
    ids = list(warehouse_ids)
    if not ids:
        return {}

    newest = Scan.objects.filter(warehouse_id=OuterRef("warehouse_id")).order_by("-taken_at").values("pk")[:1]
    qs = Scan.objects.filter(warehouse_id__in=ids, pk=Subquery(newest)).defer("temps", "stuck")
    return {s.warehouse_id: s for s in qs}


def active_lots(warehouse_ids) -> dict[int, Lot]:
    return {lot.warehouse_id: lot for lot in Lot.objects.filter(warehouse_id__in=list(warehouse_ids), active=True)}


def stock_by_variety_owner(user):
    """Tonnes in store by variety and owner (粮权) over the user's depots."""
    lots = scope(user, Lot.objects.filter(active=True), field="warehouse__depot__department")
    return list(lots.values("variety", "owner").annotate(t=Sum("tonnes"), n=Count("pk")).order_by("variety", "owner"))


# 轮换年限 (years in store before rotation) by variety and region (长江以南 / 以北): the window opens at
# the first figure and the deadline is the second. Soybean is not in the list; it takes corn's.
ROTATION_YEARS = {
    ("corn", "south"): (1, 2), ("corn", "north"): (2, 3),
    ("wheat", "south"): (3, 4), ("wheat", "north"): (3, 5),
    ("paddy", "south"): (2, 3), ("paddy", "north"): (2, 3),
    ("soybean", "south"): (1, 2), ("soybean", "north"): (2, 3),
}
DUE_SOON_DAYS = 180


def _add_years(d, years: int):
    try:
        return d.replace(year=d.year + years)
    except ValueError:  # 29 February
        return d.replace(year=d.year + years, day=28)


def rotation_status(lot, region: str, today=None) -> dict:
    """When a lot may and must be rotated (轮换): window opens, deadline, and the state today."""
    today = today or timezone.localdate()
    lo, hi = ROTATION_YEARS.get((lot.variety, region), (2, 3))
    opens, deadline = _add_years(lot.storage_start, lo), _add_years(lot.storage_start, hi)
    if today > deadline:
        state, label = "overdue", "已超期"
    elif (deadline - today).days <= DUE_SOON_DAYS:
        state, label = "due_soon", "即将到期"
    elif today >= opens:
        state, label = "window", "可轮换"
    else:
        state, label = "ok", "储存期内"
    return {"opens": opens, "deadline": deadline, "state": state, "label": label, "years": (lo, hi),
            "days_left": (deadline - today).days}


def latest_prices() -> dict[str, float]:
    """The latest price of each variety (元/吨): the mean over regions on that variety's latest date."""
    out = {}
    for row in Price.objects.values("variety").annotate(last=Max("on")):
        avg = Price.objects.filter(variety=row["variety"], on=row["last"]).aggregate(a=Avg("yuan_per_t"))["a"]
        out[row["variety"]] = float(avg)
    return out


def stock_value(stock: list[dict]) -> dict:
    """The value of the stored grain at the latest prices, by variety (万元)."""
    prices = latest_prices()
    by_variety: dict[str, float] = {}
    for row in stock:
        by_variety[row["variety"]] = by_variety.get(row["variety"], 0.0) + float(row["t"])

    rows = [{"variety": v, "label": Variety(v).label, "tonnes": t, "price": prices.get(v),
             "value_wan": round(t * prices[v] / 10000, 1) if v in prices else None} for v, t in by_variety.items()]
    return {"rows": rows, "total": round(sum(r["value_wan"] or 0 for r in rows), 1)}


def stock_chart(stock: list[dict]) -> dict:
    """Tonnes by variety (x) and owner (stacked series) for an ECharts bar chart."""
    varieties = [v for v in Variety.values if any(r["variety"] == v for r in stock)]
    series = []
    for owner in Owner.values:
        data = [round(float(sum(r["t"] for r in stock if r["variety"] == v and r["owner"] == owner)), 1)
                for v in varieties]
        if any(data):
            series.append({"name": Owner(owner).label, "data": data})
    return {"categories": [Variety(v).label for v in varieties], "series": series}


# ------------------------------------------------------------------------------ city overview (docs/overview.md)

HEAT_ALERTS = ("hot_spot", "high_temp", "rising")


def indicators(*, actor, department) -> list[dict]:
    """粮库 figures of ``department`` and below: stock by variety, warehouses with hot spots, open alerts, and the
    账实相符 rate — the share of warehouses whose latest 库存检查 found the measured stock within tolerance of the
    book (``services.check_stock``; warehouses never checked are left out) (3 queries)."""
    check_scope(actor, department)
    stock = list(Lot.objects.filter(active=True, warehouse__depot__department__path__startswith=department.path)
                 .values("variety").annotate(t=Sum("tonnes")).order_by("variety"))
    a = Alert.objects.filter(warehouse__depot__department__path__startswith=department.path).exclude(
        status=AlertStatus.RESOLVED).aggregate(
        open=Count("id"), hot=Count("warehouse", distinct=True, filter=Q(kind="hot_spot")))
    latest = StockCheck.objects.filter(warehouse=OuterRef("warehouse")).order_by("-checked_on", "-pk").values("pk")[:1]
    checks = StockCheck.objects.filter(warehouse__depot__department__path__startswith=department.path,
                                       pk=Subquery(latest)).aggregate(n=Count("pk"), ok=Count("pk", filter=Q(within_tolerance=True)))
    url = reverse("grain:supervision")
    common = {"app": "grain", "department": department, "url": url}
    return [
        indicator(key="stock_tonnes", name="储粮总量", name_en="Grain in store", unit="吨",
                  value=round(float(sum(r["t"] or 0 for r in stock)), 1),
                  breakdown=[{"name": str(Variety(r["variety"]).label), "value": round(float(r["t"] or 0), 1)}
                             for r in stock], **common),
        indicator(key="hot_spot_warehouses", name="发热仓房", name_en="Warehouses with hot spots", unit="栋",
                  value=a["hot"], **common),
        indicator(key="open_alerts", name="粮情预警", name_en="Open grain alerts", unit="条", value=a["open"], **common),
        indicator(key="stock_agreement", name="账实相符率", name_en="Book-to-stock agreement", unit="%",
                  value=round(100 * checks["ok"] / checks["n"], 1) if checks["n"] else None,
                  breakdown=[{"name": "相符", "name_en": "agree", "value": checks["ok"]},
                             {"name": "不符", "name_en": "disagree", "value": checks["n"] - checks["ok"]}],
                  **common),
    ]


def alerts(*, actor, department, limit: int = 20) -> list[dict]:
    """Open heat alerts (发热点, 粮温过高, 上升过快) of ``department`` and below (one query)."""
    check_scope(actor, department)
    rows = (Alert.objects.filter(warehouse__depot__department__path__startswith=department.path,
                                 kind__in=HEAT_ALERTS).exclude(status=AlertStatus.RESOLVED)
            .select_related("warehouse__depot__department").order_by("-last_at")[:limit])
    return [alert(app="grain", key=f"heat:{a.pk}", kind=a.get_kind_display(), kind_en="Grain heat",
                  title=f"{a.warehouse.depot.name} {a.warehouse} · {a.message}", at=a.last_at,
                  url=reverse("grain:warehouse", args=[a.warehouse_id]), level="red" if a.kind == "hot_spot" else "orange",
                  department_name=a.warehouse.depot.department.name) for a in rows]


def map_markers(*, actor, department) -> list[dict]:
    """For the overview's map: each depot of ``department`` and below, its status the open 粮情预警 (one query)."""
    check_scope(actor, department)
    depots = (Depot.objects.filter(department__path__startswith=department.path).select_related("department")
              .annotate(open_alerts=Count("warehouses__alerts",
                                          filter=~Q(warehouses__alerts__status=AlertStatus.RESOLVED)))
              .order_by("code")[:500])
    return [marker(app="grain", key=f"depot:{d.pk}", kind="粮库", kind_en="Grain depot", name=d.name,
                   status="alert" if d.open_alerts else "ok",
                   status_label=f"粮情预警 {d.open_alerts} 条" if d.open_alerts else "粮情正常", department=d.department,
                   url=reverse("grain:depot", args=[d.pk])) for d in depots]
