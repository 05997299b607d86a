"""Read-only back-office lists of the register, masked and scoped; writes go through the services."""

from django.contrib import admin

from smartgov.core.admin import ReadOnlyAdmin
from smartgov.core.masking import mask_id_number, mask_phone
from smartgov.core.permissions import scope

from .models import Enterprise, ImportRun, Person


class ReadOnlyRegisterAdmin(ReadOnlyAdmin):
    view_perm = "identity.view_register"

    def get_queryset(self, request):
        return scope(request.user, super().get_queryset(request).select_related("department"))


@admin.register(Person)
class PersonAdmin(ReadOnlyRegisterAdmin):
    list_display = ["name", "masked_id_number", "sex", "birth_date", "region_code", "masked_phone", "department"]
    search_fields = ["name"]
    list_filter = ["sex"]
    fields = ["name", "masked_id_number", "sex", "birth_date", "nationality", "region_code", "address",
              "masked_phone", "department", "created_at", "updated_at"]
    readonly_fields = fields

    @admin.display(description="公民身份号码")
    def masked_id_number(self, obj):
        return mask_id_number(obj.id_number)

    @admin.display(description="手机号")
    def masked_phone(self, obj):
        return mask_phone(obj.phone) if obj.phone else "—"


@admin.register(Enterprise)
class EnterpriseAdmin(ReadOnlyRegisterAdmin):
    list_display = ["name", "uscc", "legal_representative", "status", "established_on", "department"]
    search_fields = ["name", "uscc"]
    list_filter = ["status"]
    fields = ["name", "uscc", "legal_representative", "region_code", "address", "status", "established_on",
              "department", "created_at", "updated_at"]
    readonly_fields = fields


@admin.register(ImportRun)
class ImportRunAdmin(ReadOnlyRegisterAdmin):
    view_perm = "identity.import_register"
    list_display = ["created_at", "kind", "file_name", "total_rows", "imported", "rejected", "actor", "department"]
    list_filter = ["kind"]
    exclude = ["errors"]
    readonly_fields = ["kind", "file_name", "file_sm3", "valid_only", "total_rows", "imported", "rejected",
                       "errors_truncated", "department", "actor", "created_at"]
