from django.contrib import admin

from smartgov.core.permissions import has_perm

from .models import AuditEntry, Checkpoint


class ReadOnlyAuditAdmin(admin.ModelAdmin):
    """Read-only for the audit administrator; invisible to everyone else; nobody changes or deletes."""

    def has_module_permission(self, request):
        return has_perm(request.user, "audit.view_entry")

    def has_view_permission(self, request, obj=None):
        return has_perm(request.user, "audit.view_entry")

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(AuditEntry)
class AuditEntryAdmin(ReadOnlyAuditAdmin):
    list_display = ["seq", "at", "actor", "actor_role", "action", "target_type", "target_id"]
    list_filter = ["action", "actor_role"]
    search_fields = ["actor", "action", "target_id"]
    actions = None


@admin.register(Checkpoint)
class CheckpointAdmin(ReadOnlyAuditAdmin):
    list_display = ["tree_size", "signed_at", "key_id", "root"]
    actions = None
