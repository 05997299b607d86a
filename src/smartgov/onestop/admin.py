"""Back office for the catalogue: department admins keep their department's items. Content is edited
as the item's elements (JSON checked against the catalogue schema) and saved as a new version
through the services; Excel export/import of the whole list; versions, cases and evaluations are
read-only here (cases move through the officer pages and the API)."""

import json

from django import forms
from django.contrib import admin, messages
from django.http import HttpResponse
from django.shortcuts import redirect
from django.urls import path

from smartgov.core.admin import ReadOnlyAdmin
from smartgov.core.errors import DomainError
from smartgov.core.permissions import has_perm, scope

from . import excel, selectors, services
from .models import Application, Bundle, Evaluation, ItemVersion, Rectification, ServiceItem


class ItemForm(forms.ModelForm):
    content = forms.CharField(label="事项要素（JSON）", widget=forms.Textarea(attrs={"rows": 30, "cols": 110}),
                              help_text="情形、材料、表单字段、收费、结果与时限；保存即发布新版本，已受理的办件仍按原版本办理。")

    class Meta:
        model = ServiceItem
        fields = ["name", "basic_code", "item_type", "department", "active"]

    def clean_content(self):
        try:
            return json.loads(self.cleaned_data["content"])
        except ValueError as exc:
            raise forms.ValidationError(f"不是有效的 JSON：{exc}") from None


class VersionInline(admin.TabularInline):
    model = ItemVersion
    fields = ["version", "created_at", "created_by"]
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(ServiceItem)
class ServiceItemAdmin(admin.ModelAdmin):
    form = ItemForm
    list_display = ["implementation_code", "name", "item_type", "department", "current_version", "active"]
    list_filter = ["item_type", "active"]
    search_fields = ["name", "implementation_code", "basic_code"]
    inlines = [VersionInline]
    change_list_template = "admin/onestop/serviceitem/change_list.html"

    def has_module_permission(self, request):
        return has_perm(request.user, "onestop.manage_catalogue") or has_perm(request.user, "onestop.view_stats")

    def has_view_permission(self, request, obj=None):
        return self.has_module_permission(request)

    def has_add_permission(self, request):
        return has_perm(request.user, "onestop.manage_catalogue")

    def has_change_permission(self, request, obj=None):
        return has_perm(request.user, "onestop.manage_catalogue") and (
            obj is None or obj.department_id == request.user.department_id)

    def has_delete_permission(self, request, obj=None):
        return False  # switch an item off instead: cases point at its versions

    def get_queryset(self, request):
        return scope(request.user, super().get_queryset(request).select_related("department"))

    def get_readonly_fields(self, request, obj=None):
        return ["basic_code", "item_type", "department"] if obj else ["department"]

    def get_form(self, request, obj=None, **kwargs):
        form = super().get_form(request, obj, **kwargs)
        form.base_fields["content"].initial = json.dumps(
            selectors.current_version(obj).content if obj else {"legal_limit_days": 20, "promised_limit_days": 10,
                                                                 "result": {"kind": "document", "name": "办理结果"}},
            ensure_ascii=False, indent=2)
        return form

    def save_model(self, request, obj, form, change):
        d = form.cleaned_data
        try:
            if change:
                services.publish_item_version(actor=request.user, item=obj, content=d["content"], name=d["name"],
                                              active=d["active"])
            else:
                created = services.create_item(actor=request.user, department=request.user.department,
                                               basic_code=d["basic_code"], name=d["name"], item_type=d["item_type"],
                                               content=d["content"])
                obj.pk = created.pk
        except DomainError as exc:
            raise forms.ValidationError(exc.message) from exc

    def save_related(self, request, form, formsets, change):
        pass  # versions are written by the services only

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        try:
            return super().changeform_view(request, object_id, form_url, extra_context)
        except forms.ValidationError as exc:
            self.message_user(request, "；".join(exc.messages), messages.ERROR)
            return redirect(request.get_full_path())

    def get_urls(self):
        return [path("export/", self.admin_site.admin_view(self.export_view), name="onestop_serviceitem_export"),
                path("import/", self.admin_site.admin_view(self.import_view), name="onestop_serviceitem_import"),
                *super().get_urls()]

    def export_view(self, request):
        if not self.has_module_permission(request):
            return HttpResponse(status=403)
        data = excel.export_catalogue(self.get_queryset(request))
        resp = HttpResponse(data, content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
        resp["Content-Disposition"] = 'attachment; filename="catalogue.xlsx"'
        return resp

    def import_view(self, request):
        if request.method != "POST" or not self.has_add_permission(request) or "file" not in request.FILES:
            self.message_user(request, "请选择要导入的 Excel 文件", messages.ERROR)
            return redirect("admin:onestop_serviceitem_changelist")
        try:
            counts = excel.import_catalogue(actor=request.user, data=request.FILES["file"].read())
            self.message_user(request, f"导入完成：新增 {counts['created']} 项，发布新版本 {counts['published']} 项，"
                                       f"未变 {counts['unchanged']} 项。")
        except DomainError as exc:
            detail = exc.detail if isinstance(exc.detail, list) else []
            self.message_user(request, exc.message + ("：" + "；".join(detail[:10]) if detail else ""),
                              messages.ERROR)
        return redirect("admin:onestop_serviceitem_changelist")


@admin.register(Bundle)
class BundleAdmin(ReadOnlyAdmin):
    view_perm = "onestop.view_stats"
    list_display = ["code", "name", "active"]


@admin.register(Application)
class ApplicationAdmin(ReadOnlyAdmin):
    view_perm = "onestop.view_case"
    list_display = ["number", "item", "department", "applicant_name", "state", "due_on", "submitted_at"]
    list_filter = ["state", "channel"]
    search_fields = ["number", "applicant_name"]
    list_select_related = ["item", "department"]
    exclude = ["agent_id_number"]

    def get_queryset(self, request):
        return selectors.cases_for(request.user)


@admin.register(Evaluation)
class EvaluationAdmin(ReadOnlyAdmin):
    view_perm = "onestop.view_stats"
    list_display = ["application", "item", "department", "grade", "channel", "created_at"]
    list_filter = ["grade", "channel"]
    list_select_related = ["application", "item", "department"]

    def get_queryset(self, request):
        return scope(request.user, super().get_queryset(request))


@admin.register(Rectification)
class RectificationAdmin(ReadOnlyAdmin):
    view_perm = "onestop.rectify"
    list_display = ["evaluation", "department", "due_on", "status"]
    list_filter = ["status"]

    def get_queryset(self, request):
        return scope(request.user, super().get_queryset(request).select_related("department", "evaluation"))
