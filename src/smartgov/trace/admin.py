"""Back office for 追溯监管: read-only views of master data, captures, state, alerts and recalls.
Every write goes through the services (capture API, recall and vaccination pages, commands)."""

from django.contrib import admin

from smartgov.core.admin import ReadOnlyAdmin

from .models import Alert, Batch, CaptureJob, CodeIssue, CodeState, Logger, Organisation, Product, Recall, RuleFlag


@admin.register(Organisation)
class OrganisationAdmin(ReadOnlyAdmin):
    list_display = ["name", "kind", "parent", "department", "location_uri"]
    list_filter = ["kind"]
    search_fields = ["name", "location_uri"]


@admin.register(Product)
class ProductAdmin(ReadOnlyAdmin):
    list_display = ["name", "nmpa_code", "gtin", "specification", "holder", "storage_min", "storage_max"]
    search_fields = ["name", "nmpa_code", "gtin"]


@admin.register(Batch)
class BatchAdmin(ReadOnlyAdmin):
    list_display = ["product", "lot", "production_date", "expiry_date"]
    list_select_related = ["product"]
    search_fields = ["lot"]


@admin.register(CodeIssue)
class CodeIssueAdmin(ReadOnlyAdmin):
    list_display = ["batch", "scheme", "first_serial", "count", "created_at"]
    list_select_related = ["batch__product"]


@admin.register(CaptureJob)
class CaptureJobAdmin(ReadOnlyAdmin):
    list_display = ["pk", "organisation", "status", "behaviour", "events_received", "events_stored",
                    "events_duplicate", "epc_events", "created_at"]
    list_filter = ["status", "behaviour"]
    list_select_related = ["organisation"]


@admin.register(CodeState)
class CodeStateAdmin(ReadOnlyAdmin):
    list_display = ["epc", "biz_step", "disposition", "biz_location", "container", "last_event_time", "flags"]
    search_fields = ["=epc"]
    show_full_result_count = False


@admin.register(RuleFlag)
class RuleFlagAdmin(ReadOnlyAdmin):
    list_display = ["rule", "epc", "detail", "event_id_ref", "created_at"]
    list_filter = ["rule"]


@admin.register(Logger)
class LoggerAdmin(ReadOnlyAdmin):
    list_display = ["name", "kind", "organisation", "device_id", "location_uri"]
    list_select_related = ["organisation"]


@admin.register(Alert)
class AlertAdmin(ReadOnlyAdmin):
    list_display = ["kind", "organisation", "message", "started_at", "acknowledged_at", "released_at"]
    list_filter = ["kind"]
    list_select_related = ["organisation"]


@admin.register(Recall)
class RecallAdmin(ReadOnlyAdmin):
    list_display = ["batch", "status", "codes_total", "codes_administered", "created_at", "completed_at"]
    list_select_related = ["batch__product"]
