from smartgov.core.errors import NotFound
from smartgov.core.permissions import ADMIN_TRIAD, require, scope

from .models import Department, User


def departments_for(user):
    """Departments the user may see: all for the admin triad, else their own subtree."""
    require(user, "accounts.view_department")
    if user.role in ADMIN_TRIAD:
        return Department.objects.all()
    if user.department is None:
        return Department.objects.none()
    return Department.objects.filter(path__startswith=user.department.path)


def users_for(user):
    """Users the actor may list: their department (and below, for department admins and supervisors)."""
    require(user, "accounts.view_user")
    return scope(user, User.objects.select_related("department"), field="department").order_by("username")


def get_user_for(actor, user_id: int) -> User:
    """One user, or 404 when it does not exist or is outside the actor's department scope."""
    target = User.objects.select_related("department").filter(pk=user_id).first()
    if target is None:
        raise NotFound()
    require(actor, "accounts.view_user", department=target.department, hide=True)
    return target
