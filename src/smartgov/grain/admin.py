"""Back office: read-only lists of the grain records, narrowed to the user's departments. Every write
goes through the services (API, pages, ``smartgov grain`` commands, demo)."""

from django.contrib import admin

from smartgov.core.admin import ReadOnlyAdmin
from smartgov.core.permissions import scope

from .models import Alert, Depot, Lot, Movement, Scan, StockCheck, Warehouse


class GrainAdmin(ReadOnlyAdmin):
    view_perm = "grain.view"
    scope_field = "depot__department"

    def get_queryset(self, request):
        return scope(request.user, super().get_queryset(request), field=self.scope_field)


@admin.register(Depot)
class DepotAdmin(GrainAdmin):
    scope_field = "department"
    list_display = ["code", "name", "department", "region"]
    search_fields = ["code", "name"]


@admin.register(Warehouse)
class WarehouseAdmin(GrainAdmin):
    list_display = ["__str__", "kind", "capacity_t", "rows", "cols", "layers"]
    list_filter = ["kind"]
    list_select_related = ["depot"]


@admin.register(Lot)
class LotAdmin(GrainAdmin):
    scope_field = "warehouse__depot__department"
    list_display = ["warehouse", "variety", "grade", "harvest_year", "owner", "tonnes", "moisture", "active"]
    list_filter = ["variety", "owner", "active"]
    list_select_related = ["warehouse__depot"]


@admin.register(Scan)
class ScanAdmin(GrainAdmin):
    scope_field = "warehouse__depot__department"
    list_display = ["warehouse", "taken_at", "source", "t_max", "t_mean", "t_min", "temp_class"]
    list_filter = ["source", "temp_class"]
    list_select_related = ["warehouse__depot"]
    exclude = ["temps", "stuck"]


@admin.register(Alert)
class AlertAdmin(GrainAdmin):
    scope_field = "warehouse__depot__department"
    list_display = ["warehouse", "kind", "status", "message", "last_at"]
    list_filter = ["kind", "status"]
    list_select_related = ["warehouse__depot"]


@admin.register(Movement)
class MovementAdmin(GrainAdmin):
    scope_field = "warehouse__depot__department"
    list_display = ["warehouse", "kind", "vehicle", "settled_kg", "balance_t", "at"]
    list_select_related = ["warehouse__depot"]


@admin.register(StockCheck)
class StockCheckAdmin(GrainAdmin):
    scope_field = "warehouse__depot__department"
    list_display = ["warehouse", "checked_on", "book_t", "measured_t", "difference_pct", "within_tolerance"]
    list_select_related = ["warehouse__depot"]
