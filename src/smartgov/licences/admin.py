"""Back office: licence types are kept by the issuing department's admins (saves go through the
services); licences and sharing accesses are read-only (issue/revoke through the services)."""

from django.contrib import admin

from smartgov.accounts.selectors import departments_for
from smartgov.core.admin import ReadOnlyAdmin
from smartgov.core.permissions import covers_department, has_perm, scope

from . import services
from .models import Licence, LicenceAccess, LicenceType


@admin.register(LicenceType)
class LicenceTypeAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "department", "holder_kind", "validity_years", "active"]
    list_filter = ["holder_kind", "active"]
    search_fields = ["code", "name"]
    fields = ["name", "code", "department", "holder_kind", "validity_years", "field_template", "active"]

    def _may_manage(self, request, obj=None):
        if not has_perm(request.user, "licences.manage_type"):
            return False
        return obj is None or covers_department(request.user, obj.department)

    def has_module_permission(self, request):
        return has_perm(request.user, "licences.manage_type") or has_perm(request.user, "licences.view_licence")

    def has_view_permission(self, request, obj=None):
        return self.has_module_permission(request)

    def has_add_permission(self, request):
        return self._may_manage(request)

    def has_change_permission(self, request, obj=None):
        return self._may_manage(request, obj)

    def has_delete_permission(self, request, obj=None):
        return False  # switch a type off instead: issued licences point at it

    def get_queryset(self, request):
        return scope(request.user, super().get_queryset(request).select_related("department"))

    def get_readonly_fields(self, request, obj=None):
        return ["code", "department"] if obj else []

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "department":
            kwargs["queryset"] = departments_for(request.user)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def save_model(self, request, obj, form, change):
        d = form.cleaned_data
        if change:
            services.update_licence_type(actor=request.user, licence_type=obj,
                                         changes={f: d[f] for f in form.changed_data if f in services.TYPE_FIELDS})
        else:
            created = services.create_licence_type(
                actor=request.user, name=d["name"], code=d["code"], department=d["department"],
                holder_kind=d["holder_kind"], validity_years=d["validity_years"],
                field_template=d["field_template"], active=d["active"])
            obj.pk = created.pk


@admin.register(Licence)
class LicenceAdmin(ReadOnlyAdmin):
    view_perm = "licences.view_licence"
    list_display = ["identifier", "licence_type", "holder_name", "holder_public_id", "issued_on", "valid_until",
                    "status", "trust_level"]
    list_filter = ["status", "trust_level", "licence_type"]
    search_fields = ["identifier", "holder_name"]
    exclude = ["holder_person", "holder_enterprise", "issued_by", "revoked_by"]

    def get_queryset(self, request):
        return scope(request.user, super().get_queryset(request).select_related("licence_type", "department"))


@admin.register(LicenceAccess)
class LicenceAccessAdmin(ReadOnlyAdmin):
    view_perm = "licences.view_access"
    list_display = ["at", "department", "officer", "licence_type", "purpose", "legal_basis", "consent_reference",
                    "result", "licence_count"]
    list_filter = ["result", "licence_type"]
    exclude = ["holder_person", "holder_enterprise"]

    def get_queryset(self, request):
        return scope(request.user, super().get_queryset(request).select_related("department", "officer",
                                                                                "licence_type"))
