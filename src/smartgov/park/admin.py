from django.contrib import admin

from .models import Bill, Building, EnergyStatement, Enterprise, Lease, LeaseChange, Park, Unit


@admin.register(Park)
class ParkAdmin(admin.ModelAdmin):
    list_display = ("code", "name", "department", "electricity_price")
    search_fields = ("code", "name")


@admin.register(Building)
class BuildingAdmin(admin.ModelAdmin):
    list_display = ("code", "name", "park")
    list_filter = ("park",)


@admin.register(Unit)
class UnitAdmin(admin.ModelAdmin):
    list_display = ("code", "floor", "area", "use", "status")
    list_filter = ("status", "use")
    list_select_related = ("floor__building",)


@admin.register(Enterprise)
class EnterpriseAdmin(admin.ModelAdmin):
    list_display = ("name", "uscc", "industry", "employees", "park")
    search_fields = ("name", "uscc")


@admin.register(Lease)
class LeaseAdmin(admin.ModelAdmin):
    list_display = ("code", "enterprise", "start_date", "end_date", "monthly_rent", "status")
    list_filter = ("status",)
    readonly_fields = ("rent_free",)

    def has_change_permission(self, request, obj=None):  # leases change through the services (bills, audit)
        return False


@admin.register(LeaseChange)
class LeaseChangeAdmin(admin.ModelAdmin):
    list_display = ("lease", "kind", "status", "new_end_date", "move_out_on", "created_at")
    list_filter = ("kind", "status")
    list_select_related = ("lease",)

    def has_add_permission(self, request):  # a case is opened, acted on and decided through the services
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(Bill)
class BillAdmin(admin.ModelAdmin):
    list_display = ("lease", "period_start", "due_date", "amount", "paid", "status")
    list_filter = ("status",)

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(EnergyStatement)
class EnergyStatementAdmin(admin.ModelAdmin):
    list_display = ("enterprise", "month", "kwh", "amount", "carbon_kg")
