"""Who may do what, scoped by department — the one permission mechanism for API, pages and commands.

Roles are platform-wide (core imports no app, so they live here). Each app registers its permissions
(name → roles) with ``register``; ``require`` checks a permission and, given a department, that the
user's department scope covers it; ``scope`` narrows a queryset to what the user may see.

三员分立: the system administrator, the security administrator and the audit administrator are three
different roles, and no permission is granted to more than one of them unless the app says why.
"""

from collections.abc import Iterable

from django.db import models

from .errors import Forbidden, NotAuthenticated


class Role(models.TextChoices):
    CITIZEN = "citizen", "办事群众"
    ENTERPRISE = "enterprise", "企业用户"
    OFFICER = "officer", "窗口/审批人员"
    DEPT_ADMIN = "dept_admin", "部门管理员"
    SUPERVISOR = "supervisor", "监管人员"
    SYSADMIN = "sysadmin", "系统管理员"
    SECADMIN = "secadmin", "安全管理员"
    AUDITADMIN = "auditadmin", "审计管理员"


STAFF_ROLES = frozenset({Role.OFFICER, Role.DEPT_ADMIN, Role.SUPERVISOR, Role.SYSADMIN, Role.SECADMIN,
                         Role.AUDITADMIN})
ADMIN_TRIAD = frozenset({Role.SYSADMIN, Role.SECADMIN, Role.AUDITADMIN})
# Roles whose department scope includes every descendant department by default (监管 sees downwards).
SUBTREE_ROLES = frozenset({Role.SUPERVISOR, Role.DEPT_ADMIN})

_REGISTRY: dict[str, frozenset[str]] = {}


def register(perms: dict[str, Iterable[str]]) -> None:
    """Declare permissions: ``{"audit.view_entry": {Role.AUDITADMIN}}``. Re-registering must agree."""
    for name, roles in perms.items():
        roles = frozenset(roles)
        if name in _REGISTRY and _REGISTRY[name] != roles:
            raise ValueError(f"permission {name} registered twice with different roles")
        _REGISTRY[name] = roles


def roles_for(perm: str) -> frozenset[str]:
    try:
        return _REGISTRY[perm]
    except KeyError:
        raise KeyError(f"unknown permission {perm!r}; register it in the app's permissions.py") from None


def has_perm(user, perm: str) -> bool:
    if user is None or not getattr(user, "is_authenticated", False) or not user.is_active:
        return False
    return user.role in roles_for(perm)


def department_path(user) -> str | None:
    dept = getattr(user, "department", None)
    return dept.path if dept is not None else None


def covers_department(user, dept, *, include_descendants: bool | None = None) -> bool:
    """True if ``dept`` (a Department or None) is within the user's department scope."""
    if user.role in ADMIN_TRIAD:
        return True  # the triad's own permissions are narrow; their scope is the whole installation
    own = department_path(user)
    if own is None or dept is None:
        return False
    if include_descendants is None:
        include_descendants = user.role in SUBTREE_ROLES
    return dept.path == own or (include_descendants and dept.path.startswith(own))


def require(user, perm: str, *, department=None, include_descendants: bool | None = None,
            hide: bool = False) -> None:
    """Raise unless ``user`` holds ``perm`` (and, given ``department``, covers it).

    ``hide=True`` answers an out-of-scope record with 404 rather than 403, so a user cannot probe
    which records exist in other departments.
    """
    from .errors import NotFound

    if user is None or not getattr(user, "is_authenticated", False):
        raise NotAuthenticated()
    if not has_perm(user, perm):
        raise Forbidden(detail={"permission": perm})
    if department is not None and not covers_department(user, department,
                                                        include_descendants=include_descendants):
        if hide:
            raise NotFound()
        raise Forbidden("该记录不属于您的部门", detail={"permission": perm})


def scope(user, queryset, *, field: str = "department", include_descendants: bool | None = None):
    """Narrow ``queryset`` to rows whose ``field`` (a Department FK) the user's scope covers."""
    if user.role in ADMIN_TRIAD:
        return queryset
    own = department_path(user)
    if own is None:
        return queryset.none()
    if include_descendants is None:
        include_descendants = user.role in SUBTREE_ROLES
    if include_descendants:
        return queryset.filter(**{f"{field}__path__startswith": own})
    return queryset.filter(**{f"{field}__path": own})
