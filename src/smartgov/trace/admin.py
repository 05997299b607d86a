"""Back office for the traceability master data: the drug administration's supervisors and department
admins register organisations, products and batches (saved through the services, audited); existing
rows are read-only here (events change state, not edits). Recalls and alerts are listed read-only."""

from django import forms
from django.contrib import admin, messages
from django.shortcuts import redirect

from smartgov.core.admin import ReadOnlyAdmin
from smartgov.core.errors import DomainError
from smartgov.core.permissions import has_perm, scope

from . import services
from .models import AefiReport, Alert, Batch, LotRelease, Organisation, PackagingLevel, Product, Recall


class MasterDataAdmin(admin.ModelAdmin):
    """Add through the services; never change or delete (codes and events point at these rows)."""

    def has_module_permission(self, request):
        return has_perm(request.user, "trace.view")

    def has_view_permission(self, request, obj=None):
        return has_perm(request.user, "trace.view")

    def has_add_permission(self, request):
        return has_perm(request.user, "trace.manage_master")

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def add_view(self, request, form_url="", extra_context=None):
        try:
            return super().add_view(request, form_url, extra_context)
        except DomainError as exc:
            self.message_user(request, exc.message, messages.ERROR)
            return redirect(request.get_full_path())

    def save_related(self, request, form, formsets, change):
        pass


@admin.register(Organisation)
class OrganisationAdmin(MasterDataAdmin):
    list_display = ["name", "kind", "parent", "department", "location_uri"]
    list_filter = ["kind"]
    search_fields = ["name", "location_uri", "uscc"]
    fields = ["name", "kind", "parent", "department", "uscc", "region_code", "location_uri", "party_uri",
              "latitude", "longitude"]

    def get_queryset(self, request):
        return scope(request.user, super().get_queryset(request).select_related("parent", "department"))

    def save_model(self, request, obj, form, change):
        d = form.cleaned_data
        created = services.create_organisation(actor=request.user, **{k: d[k] for k in self.fields})
        obj.pk = created.pk


class PackagingInline(admin.TabularInline):
    """包装层级 (declared through the API's ``/products/{id}/packaging``): shown, never edited here."""

    model = PackagingLevel
    extra = 0
    can_delete = False
    fields = readonly_fields = ["level", "unit", "contains"]

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(Product)
class ProductAdmin(MasterDataAdmin):
    list_display = ["name", "nmpa_code", "gtin", "approval_number", "holder", "storage_min", "storage_max",
                    "is_vaccine"]
    search_fields = ["name", "nmpa_code", "gtin", "holder", "approval_number"]
    fields = ["name", "holder", "nmpa_code", "gtin", "approval_number", "dosage_form", "specification",
              "manufacturer", "is_vaccine", "storage_min", "storage_max"]
    inlines = [PackagingInline]

    def save_model(self, request, obj, form, change):
        d = form.cleaned_data
        created = services.create_product(actor=request.user, department=request.user.department,
                                          **{k: d[k] for k in self.fields})
        obj.pk = created.pk


class BatchForm(forms.ModelForm):
    class Meta:
        model = Batch
        fields = ["product", "lot", "production_date", "expiry_date"]


@admin.register(Batch)
class BatchAdmin(MasterDataAdmin):
    form = BatchForm
    list_display = ["product", "lot", "production_date", "expiry_date"]
    search_fields = ["lot", "product__name"]
    list_select_related = ["product"]

    def save_model(self, request, obj, form, change):
        d = form.cleaned_data
        created = services.create_batch(actor=request.user, product=d["product"], lot=d["lot"],
                                        production_date=d["production_date"], expiry_date=d["expiry_date"])
        obj.pk = created.pk


class LotReleaseForm(forms.ModelForm):
    class Meta:
        model = LotRelease
        fields = ["batch", "certificate_number", "agency", "issued_on", "conclusion", "quantity"]


@admin.register(LotRelease)
class LotReleaseAdmin(MasterDataAdmin):
    """批签发: recorded through ``services.record_lot_release`` (audited); never edited afterwards."""

    form = LotReleaseForm
    list_display = ["certificate_number", "batch", "agency", "issued_on", "conclusion", "quantity"]
    list_filter = ["conclusion"]
    search_fields = ["certificate_number", "batch__lot", "batch__product__name"]
    list_select_related = ["batch__product"]

    def get_queryset(self, request):
        return scope(request.user, super().get_queryset(request), field="batch__product__manufacturer__department")

    def save_model(self, request, obj, form, change):
        created = services.record_lot_release(actor=request.user, **form.cleaned_data)
        obj.pk = created.pk


@admin.register(AefiReport)
class AefiReportAdmin(ReadOnlyAdmin):
    view_perm = "trace.view"
    list_display = ["report_number", "vaccination", "reporter", "onset_at", "reported_at", "severe", "classification"]
    list_filter = ["severe", "classification"]
    search_fields = ["report_number"]
    list_select_related = ["vaccination__site", "reporter"]
    exclude = ["recorded_by"]

    def get_queryset(self, request):
        return scope(request.user, super().get_queryset(request), field="reporter__department")


@admin.register(Recall)
class RecallAdmin(ReadOnlyAdmin):
    view_perm = "trace.view"
    list_display = ["batch", "department", "status", "created_at"]
    list_select_related = ["batch", "department"]

    def get_queryset(self, request):
        return scope(request.user, super().get_queryset(request))


@admin.register(Alert)
class AlertAdmin(ReadOnlyAdmin):
    view_perm = "trace.view"
    list_display = ["organisation", "kind", "started_at", "peak_celsius", "minutes", "doses_in_question",
                    "acknowledged_at"]
    list_filter = ["kind"]
    list_select_related = ["organisation"]

    def get_queryset(self, request):
        return scope(request.user, super().get_queryset(request), field="organisation__department")
