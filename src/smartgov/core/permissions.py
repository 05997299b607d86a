"""Who may do what, scoped by department — the one permission mechanism for API, pages and commands.

Roles are platform-wide (core imports no app, so they live here). Each app registers its permissions
(name → roles) with ``register``; ``require`` checks a permission and, given a department, that the
user's department scope covers it; ``scope`` narrows a queryset to what the user may see.

三员分立: the system administrator, the security administrator and the audit administrator are three
different roles, and no permission is granted to more than one of them unless the app says why.
"""

from collections.abc import Iterable

from django.db import models

from .errors import Forbidden, NotAuthenticated, NotFound


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


class NonPersonActor:
    """What ``require()``, ``record()`` and the templates read from an actor that is not a user account:
    signed in, active, no staff flags, no department, no primary key (``user_of()`` gives None)."""

    is_authenticated = True
    is_active = True
    is_anonymous = False
    is_staff = False
    is_superuser = False
    role = ""
    pk = None
    id = None
    department = None
    department_id = None


class SystemActor(NonPersonActor):
    """The platform itself acting on purpose: a background job, a command, an ingest worker, a data load.

    There is exactly one kind of actor that is not a person, and it is always named (``system:<name>``),
    so the audit trail says which job or command acted. ``require()`` lets it pass and ``scope()`` gives
    it everything — the code that passes it is the decision, written where a reader sees it. Never
    build one from a request.
    """

    role = "system"

    def __init__(self, name: str):
        if not name:
            raise ValueError("a system actor needs a name (the job or command that acts)")
        self.name = name

    def get_username(self) -> str:
        return f"system:{self.name}"

    def __str__(self) -> str:
        return self.get_username()

    def __repr__(self) -> str:
        return f"SystemActor({self.name!r})"

    def __eq__(self, other) -> bool:
        return isinstance(other, SystemActor) and other.name == self.name

    def __hash__(self) -> int:
        return hash(("system", self.name))


def system_actor(name: str) -> SystemActor:
    """The platform acting as ``name`` (e.g. ``"worker"``, ``"demo"``, ``"grain.ingest"``)."""
    return SystemActor(name)


def is_system(actor) -> bool:
    return isinstance(actor, SystemActor)


def user_of(actor):
    """The person behind ``actor`` for a ``created_by``-style foreign key: None when the system (or another
    actor that is no user, such as an organisation's API key) acted."""
    return None if isinstance(actor, SystemActor) or getattr(actor, "pk", None) is None else actor


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
    if isinstance(user, SystemActor):
        roles_for(perm)  # still refuse a permission nobody registered
        return True
    if user is None or not getattr(user, "is_authenticated", False) or not user.is_active:
        return False
    return user.role in roles_for(perm)


def department_path(user) -> str | None:
    dept = getattr(user, "department", None)
    return dept.path if dept is not None else None


def covers_path(user, path: str | None, *, include_descendants: bool | None = None) -> bool:
    """True if the department with materialised ``path`` is within the user's department scope."""
    if isinstance(user, SystemActor) or user.role in ADMIN_TRIAD:
        return True  # the triad's own permissions are narrow; their scope is the whole installation
    own = department_path(user)
    if own is None or path is None:
        return False
    if include_descendants is None:
        include_descendants = user.role in SUBTREE_ROLES
    return path == own or (include_descendants and path.startswith(own))


def covers_department(user, dept, *, include_descendants: bool | None = None) -> bool:
    """True if ``dept`` (a Department or None) is within the user's department scope."""
    return covers_path(user, dept.path if dept is not None else None, include_descendants=include_descendants)


def require(user, perm: str, *, department=None, include_descendants: bool | None = None,
            hide: bool = False) -> None:
    """Raise unless ``user`` holds ``perm`` (and, given ``department``, covers it).

    ``hide=True`` answers an out-of-scope record with 404 rather than 403, so a user cannot probe
    which records exist in other departments.
    """
    if isinstance(user, SystemActor):
        roles_for(perm)
        return
    if user is None or not getattr(user, "is_authenticated", False):
        raise NotAuthenticated()
    if not has_perm(user, perm):
        raise Forbidden(detail={"permission": perm})
    if department is not None and not covers_department(user, department,
                                                        include_descendants=include_descendants):
        if hide:
            raise NotFound()
        raise Forbidden("该记录不属于您的部门", detail={"permission": perm})


def scope(user, queryset, *, field: str | None = "department", include_descendants: bool | None = None):
    """Narrow ``queryset`` to rows whose ``field`` (a Department FK) the user's scope covers
    (``field=None``: the queryset is of departments themselves)."""
    if isinstance(user, SystemActor) or user.role in ADMIN_TRIAD:
        return queryset
    own = department_path(user)
    if own is None:
        return queryset.none()
    if include_descendants is None:
        include_descendants = user.role in SUBTREE_ROLES
    if include_descendants:
        return queryset.filter(**{f"{field}__path__startswith" if field else "path__startswith": own})
    # one department: by its id, not its path — a join on the path hides the department from the planner,
    # which then cannot walk an index in the order a list asks for (the officer's queue at 10^6 cases)
    return queryset.filter(**{f"{field}_id" if field else "pk": user.department_id})
