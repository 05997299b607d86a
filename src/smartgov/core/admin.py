"""Admin base classes: what a role may see and do in the back office follows the same permission
registry as the API and pages (never Django's is_staff/is_superuser model permissions)."""

from django.contrib import admin

from .permissions import has_perm


class PermissionAdmin(admin.ModelAdmin):
    """Visible with ``view_perm``; add and change with ``manage_perm`` (saves must call the app's
    services); never delete — records deactivate instead, and the audit trail keeps pointing at them."""

    view_perm = ""
    manage_perm = ""

    def has_module_permission(self, request):
        return has_perm(request.user, self.view_perm)

    def has_view_permission(self, request, obj=None):
        return has_perm(request.user, self.view_perm)

    def has_add_permission(self, request):
        return bool(self.manage_perm) and has_perm(request.user, self.manage_perm)

    def has_change_permission(self, request, obj=None):
        return bool(self.manage_perm) and has_perm(request.user, self.manage_perm)

    def has_delete_permission(self, request, obj=None):
        return False


class ReadOnlyAdmin(PermissionAdmin):
    """A list and detail to look at; every write goes through the app's services elsewhere."""

    actions = None
