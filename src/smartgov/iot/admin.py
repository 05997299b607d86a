from django.contrib import admin

from .models import Alarm, AlarmRule, Device


@admin.register(Device)
class DeviceAdmin(admin.ModelAdmin):
    list_display = ("code", "name", "app", "kind", "department", "last_seen_at", "active")
    list_filter = ("app", "kind", "active")
    search_fields = ("code", "name")
    exclude = ("secret_hash",)  # provisioned and rotated through the services only
    readonly_fields = ("last_seen_at", "last_values")


@admin.register(AlarmRule)
class AlarmRuleAdmin(admin.ModelAdmin):
    list_display = ("name", "app", "kind", "department", "severity", "enabled")
    list_filter = ("app", "kind", "enabled")


@admin.register(Alarm)
class AlarmAdmin(admin.ModelAdmin):
    list_display = ("rule", "device", "severity", "status", "raised_at", "cleared_at")
    list_filter = ("app", "status", "severity")
    list_select_related = ("rule", "device")

    def has_change_permission(self, request, obj=None):
        return False
