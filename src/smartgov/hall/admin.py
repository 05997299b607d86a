"""Back office: read-only lists of the hall's records, narrowed to the user's departments. Every write
goes through the services (pages, API, ``smartgov hall`` commands, demo)."""

from django.contrib import admin

from smartgov.core.admin import ReadOnlyAdmin
from smartgov.core.permissions import scope

from .models import Appointment, Duty, Hall, HallEvent, LockerItem, Ticket, Window


class HallAdmin(ReadOnlyAdmin):
    view_perm = "hall.view"
    scope_field = "hall__department"

    def get_queryset(self, request):
        return scope(request.user, super().get_queryset(request), field=self.scope_field)


@admin.register(Hall)
class HallsAdmin(HallAdmin):
    scope_field = "department"
    list_display = ["code", "name", "department", "opens", "closes"]


@admin.register(Window)
class WindowAdmin(HallAdmin):
    list_display = ["hall", "number", "name", "active"]


@admin.register(Duty)
class DutyAdmin(HallAdmin):
    scope_field = "window__hall__department"
    list_display = ["day", "window", "officer"]
    list_filter = ["day"]


@admin.register(Appointment)
class AppointmentAdmin(HallAdmin):
    list_display = ["number", "hall", "service", "slot", "status"]
    list_filter = ["status"]


@admin.register(Ticket)
class TicketAdmin(HallAdmin):
    list_display = ["number", "hall", "day", "priority", "status", "window"]
    list_filter = ["status", "priority", "day"]


@admin.register(HallEvent)
class HallEventAdmin(HallAdmin):
    list_display = ["id", "hall", "kind", "at"]
    list_filter = ["kind"]


@admin.register(LockerItem)
class LockerItemAdmin(HallAdmin):
    scope_field = "locker__hall__department"
    list_display = ["locker", "application", "status", "due_at"]
    list_filter = ["status"]
