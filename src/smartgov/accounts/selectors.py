from django.db.models import Q

from smartgov.core.crypto.sm2 import SM2PublicKey
from smartgov.core.errors import NotFound
from smartgov.core.permissions import ADMIN_TRIAD, require, scope

from .models import Department, DepartmentKey, Supervision, User


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


def public_key(key_id: str):
    """The SM2 public key (active or retired) with this id, or None — for verifying signatures."""
    pem = DepartmentKey.objects.filter(key_id=key_id).values_list("public_pem", flat=True).first()
    return SM2PublicKey.from_pem(pem.encode()) if pem else None


def key_department(key_id: str):
    key = DepartmentKey.objects.select_related("department").filter(key_id=key_id).first()
    return key.department if key else None


def published_public_keys():
    """Every department SM2 public key, active and retired, for anyone to verify signatures (公钥公开)."""
    return (DepartmentKey.objects.select_related("department").order_by("department__path", "-created_at")
            .only("key_id", "public_pem", "active", "created_at", "retired_at", "department__name",
                  "department__code", "department__path"))
def supervised_departments(department, *, domain: str):
    """Departments ``department`` oversees for ``domain`` through supervision scopes (each with the
    departments below it), beside its own subtree."""
    if department is None:
        return Department.objects.none()
    paths = list(Supervision.objects.filter(supervisor=department, domain=domain)
                 .values_list("supervised__path", flat=True))
    if not paths:
        return Department.objects.none()
    q = Q()
    for path in paths:
        q |= Q(path__startswith=path)
    return Department.objects.filter(q)
