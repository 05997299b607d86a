from django.contrib import admin

from smartgov.core.admin import ReadOnlyAdmin

from .models import AuditEntry, Checkpoint


class ReadOnlyAuditAdmin(ReadOnlyAdmin):
    """Read-only for the audit administrator; invisible to everyone else; nobody changes or deletes."""

    view_perm = "audit.view_entry"


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
