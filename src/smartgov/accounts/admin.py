"""Back-office for departments and users. Every save goes through the services (audited, validated);
personal data is shown masked; visibility follows the same permissions as the API."""

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.options import ActionLocation

from smartgov.core.admin import PermissionAdmin
from smartgov.core.masking import mask_id_number, mask_phone
from smartgov.core.permissions import ADMIN_TRIAD, Role, has_perm

from . import selectors, services
from .models import Department, User


@admin.register(Department)
class DepartmentAdmin(PermissionAdmin):
    view_perm = "accounts.view_department"
    manage_perm = "accounts.manage_department"
    list_display = ["name", "code", "level", "parent", "uscc", "is_active"]
    list_filter = ["level", "is_active"]
    search_fields = ["name", "code", "uscc"]
    fields = ["name", "code", "level", "parent", "uscc", "region_code"]

    def get_queryset(self, request):
        return selectors.departments_for(request.user).select_related("parent")

    def get_readonly_fields(self, request, obj=None):
        return ["code", "level", "parent"] if obj else []

    def save_model(self, request, obj, form, change):
        if change:
            services.update_department(actor=request.user, department=obj,
                                       changes={f: form.cleaned_data[f] for f in form.changed_data})
        else:
            d = form.cleaned_data
            created = services.create_department(actor=request.user, name=d["name"], code=d["code"],
                                                 level=d["level"], parent=d["parent"], uscc=d["uscc"],
                                                 region_code=d["region_code"])
            obj.pk, obj.path = created.pk, created.path


class UserCreateForm(forms.ModelForm):
    password = forms.CharField(label="初始密码", widget=forms.PasswordInput, min_length=10)
    id_number = forms.CharField(label="身份证号", required=False)
    phone = forms.CharField(label="手机号", required=False)

    class Meta:
        model = User
        fields = ["username", "name", "role", "department", "id_number", "phone", "password"]


class UserChangeForm(forms.ModelForm):
    class Meta:
        model = User
        fields = ["name", "role", "department", "is_active"]


@admin.register(User)
class UserAdmin(PermissionAdmin):
    view_perm = "accounts.view_user"
    manage_perm = "accounts.manage_user"
    list_display = ["username", "name", "role", "department", "masked_id_number", "masked_phone",
                    "two_factor", "is_locked", "is_active"]
    list_filter = ["role", "is_active"]
    search_fields = ["username", "name"]
    readonly_fields = ["masked_id_number", "masked_phone", "last_login", "failed_logins", "locked_until"]
    actions = ["unlock", "reset_second_factor"]

    def get_queryset(self, request):
        return selectors.users_for(request.user)

    def formfield_for_choice_field(self, db_field, request, **kwargs):
        if db_field.name == "role":  # offer only the roles this administrator may grant (三员分立)
            allowed = services.grantable_roles(request.user)
            kwargs["choices"] = [(r.value, r.label) for r in Role if r in allowed]
        return super().formfield_for_choice_field(db_field, request, **kwargs)

    def has_change_permission(self, request, obj=None):
        if obj is not None and obj.role in ADMIN_TRIAD:
            return False  # the three administrators' accounts are changed only by the installation
        return super().has_change_permission(request, obj)

    def get_form(self, request, obj=None, change=False, **kwargs):
        kwargs["form"] = UserChangeForm if obj else UserCreateForm
        return super().get_form(request, obj, change=change, **kwargs)

    def get_fields(self, request, obj=None):
        if obj is None:
            return ["username", "name", "role", "department", "id_number", "phone", "password"]
        return ["name", "role", "department", "is_active", *self.readonly_fields]

    @admin.display(description="身份证号")
    def masked_id_number(self, obj):
        return mask_id_number(obj.id_number) if obj.id_number else "—"

    @admin.display(description="手机号")
    def masked_phone(self, obj):
        return mask_phone(obj.phone) if obj.phone else "—"

    @admin.display(description="双因子", boolean=True)
    def two_factor(self, obj):
        return obj.totp_confirmed_at is not None

    @admin.display(description="已锁定", boolean=True)
    def is_locked(self, obj):
        return obj.is_locked

    def save_model(self, request, obj, form, change):
        d = form.cleaned_data
        if change:
            services.update_user(actor=request.user, user=obj,
                                 changes={f: d[f] for f in form.changed_data})
        else:
            created = services.create_user(actor=request.user, username=d["username"], password=d["password"],
                                           role=d["role"], name=d["name"], department=d["department"],
                                           id_number=d.get("id_number") or None, phone=d.get("phone") or None)
            obj.pk = created.pk

    @admin.action(description="解除锁定")
    def unlock(self, request, queryset):
        for user in queryset:
            services.unlock_user(actor=request.user, user=user)
        messages.success(request, f"已解除 {queryset.count()} 个账号的锁定")

    @admin.action(description="重置双因子（下次登录重新绑定）")
    def reset_second_factor(self, request, queryset):
        for user in queryset:
            services.reset_second_factor(actor=request.user, user=user)
        messages.success(request, f"已重置 {queryset.count()} 个账号的双因子")

    def get_actions(self, request, action_location=ActionLocation.CHANGE_LIST):
        actions = super().get_actions(request, action_location=action_location)
        if not has_perm(request.user, "accounts.unlock_user"):
            actions.pop("unlock", None)
        if not has_perm(request.user, "accounts.reset_second_factor"):
            actions.pop("reset_second_factor", None)
        return actions
