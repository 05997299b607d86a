"""Reads more than one caller needs, always narrowed to the user's department scope."""

from django.db.models import Count, Sum

from smartgov.core.errors import NotFound
from smartgov.core.permissions import require, scope

from .models import Alert, AlertStatus, Depot, Lot, Scan, Warehouse


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
    from django.db.models import OuterRef, Subquery

    newest = Scan.objects.filter(warehouse_id=OuterRef("warehouse_id")).order_by("-taken_at").values("pk")[:1]
    qs = Scan.objects.filter(warehouse_id__in=ids, pk=Subquery(newest)).defer("temps", "stuck")
    return {s.warehouse_id: s for s in qs}


def active_lots(warehouse_ids) -> dict[int, Lot]:
    return {lot.warehouse_id: lot for lot in Lot.objects.filter(warehouse_id__in=list(warehouse_ids), active=True)}


def stock_by_variety_owner(user):
    """Tonnes in store by variety and owner (粮权) over the user's depots."""
    lots = scope(user, Lot.objects.filter(active=True), field="warehouse__depot__department")
    return list(lots.values("variety", "owner").annotate(t=Sum("tonnes"), n=Count("pk")).order_by("variety", "owner"))
