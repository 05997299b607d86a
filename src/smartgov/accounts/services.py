"""Every write to accounts and departments. Keyword-only, ``actor=``, atomic, audited."""

from datetime import timedelta

import pyotp
from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.utils import timezone

from smartgov.audit.services import record
from smartgov.core.crypto.sm2 import SM2PrivateKey
from smartgov.core.errors import Conflict, Forbidden, InvalidInput, validated
from smartgov.core.fields import blind_lookup
from smartgov.core.permissions import ADMIN_TRIAD, STAFF_ROLES, Role, is_system, require, system_actor

from .models import LEVEL_ORDER, Department, DepartmentKey, Supervision, User


@transaction.atomic
def create_department(*, actor, name: str, code: str, level: str, parent: Department | None = None,
                      uscc: str | None = None, region_code: str = "") -> Department:
    require(actor, "accounts.manage_department")
    if parent is not None and LEVEL_ORDER.index(level) < LEVEL_ORDER.index(parent.level):
        raise InvalidInput("下级部门的行政层级不能高于上级", code="invalid_level",
                           detail={"level": level, "parent_level": parent.level})
    dept = Department(name=name, code=code, level=level, parent=parent, uscc=uscc or None,
                      region_code=region_code, path="/")
    validated(dept, exclude=["path"])
    dept.save()
    dept.path = f"{parent.path if parent else '/'}{dept.pk}/"
    dept.save(update_fields=["path"])
    record(actor=actor, action="accounts.department.create", target=dept,
           changes={"name": name, "code": code, "level": level, "parent": parent.pk if parent else None})
    return dept


# 三员分立: who may grant which role. The system administrator runs ordinary accounts; a department
# administrator runs its own department's staff. The three administrator roles (system, security, audit)
# are granted by nobody signed in: only by the installation (``smartgov accounts create-user`` run on
# the server as ``system_actor("accounts.command")``), so no one of the three can make another — or a second self — and read what
# the separation keeps from them. Their accounts are likewise changed only by the installation.
GRANTABLE_ROLES: dict[str, frozenset[str]] = {
    Role.SYSADMIN: frozenset({Role.CITIZEN, Role.ENTERPRISE, Role.OFFICER, Role.DEPT_ADMIN, Role.SUPERVISOR}),
    Role.DEPT_ADMIN: frozenset({Role.OFFICER, Role.DEPT_ADMIN}),
}


def grantable_roles(actor) -> frozenset[str]:
    """The roles ``actor`` may give (the installation — a system actor — may give every role)."""
    if is_system(actor):
        return frozenset(Role)
    return GRANTABLE_ROLES.get(actor.role, frozenset())


def _check_grant(actor, role: str | None, *, target: User | None = None) -> None:
    """The one check every path (API, admin, CLI, pages) goes through before a role is given or an
    account's role, department or state is changed."""
    if is_system(actor):
        return
    if role is not None and role not in grantable_roles(actor):
        raise Forbidden("您不能授予该角色（三员分立：三类管理员只能在安装时设立）", code="role_not_allowed",
                        detail={"role": role, "actor_role": actor.role})
    if target is not None and target.role in ADMIN_TRIAD:
        raise Forbidden("三类管理员账号只能由安装程序变更", code="role_not_allowed",
                        detail={"role": target.role, "actor_role": actor.role})


@transaction.atomic
def create_user(*, actor, username: str, password: str | None, role: str, name: str = "",
                department: Department | None = None, id_number: str | None = None,
                phone: str | None = None, email: str = "") -> User:
    require(actor, "accounts.manage_user", department=department)
    _check_grant(actor, role)
    if role in STAFF_ROLES - {Role.SYSADMIN, Role.SECADMIN, Role.AUDITADMIN} and department is None:
        raise InvalidInput("工作人员必须属于一个部门", code="department_required")
    user = User(username=username, role=role, name=name, department=department, id_number=id_number or None,
                phone=phone or None, email=email)
    if password:
        user.set_password(password)
    else:
        user.set_unusable_password()
    validated(user, exclude=["password", "id_number_bidx", "phone_bidx"])
    if id_number and User.objects.filter(**blind_lookup(User, "id_number", id_number)).exists():
        raise Conflict("该身份证号已注册", code="id_number_taken")
    user.save()
    record(actor=actor, action="accounts.user.create", target=user,
           changes={"username": username, "role": role, "department": department.pk if department else None,
                    "id_number": id_number, "phone": phone})
    return user


@transaction.atomic
def set_role(*, actor, user: User, role: str, department: Department | None = None) -> User:
    require(actor, "accounts.manage_user", department=user.department)
    if department is not None:  # moving someone: the destination must be within the actor's scope too
        require(actor, "accounts.manage_user", department=department)
    _check_grant(actor, role, target=user)
    old = (user.role, user.department_id)
    user.role = role
    user.department = department if department is not None else user.department
    user.save(update_fields=["role", "department", "is_staff", "is_superuser"])
    record(actor=actor, action="accounts.user.set_role", target=user,
           changes={"role": [old[0], role], "department": [old[1], user.department_id]})
    return user


# --- login: password, second factor, lockout -------------------------------------------------------

def register_login_failure(*, user: User, reason: str) -> User:
    """Count a failed password or one-time code; lock the account after too many in a row."""
    with transaction.atomic():
        user = User.objects.select_for_update().get(pk=user.pk)
        user.failed_logins += 1
        locked = user.failed_logins >= settings.LOGIN_MAX_FAILURES
        if locked:
            user.locked_until = timezone.now() + timedelta(minutes=settings.LOGIN_LOCKOUT_MINUTES)
        user.save(update_fields=["failed_logins", "locked_until"])
        record(actor=AnonymousUser(), actor_label=user.username, action="accounts.login.failed", target=user,
               changes={"reason": reason, "failures": user.failed_logins})
        if locked:
            record(actor=AnonymousUser(), action="accounts.user.locked", target=user,
                   changes={"until": user.locked_until.isoformat(), "failures": user.failed_logins})
    return user


@transaction.atomic
def register_login_success(*, user: User, second_factor: bool) -> None:
    User.objects.filter(pk=user.pk).update(failed_logins=0, locked_until=None, last_login=timezone.now())
    record(actor=user, action="accounts.login.succeeded", target=user,
           changes={"second_factor": "totp" if second_factor else "none"})


@transaction.atomic
def unlock_user(*, actor, user: User) -> User:
    require(actor, "accounts.unlock_user")
    user.failed_logins, user.locked_until = 0, None
    user.save(update_fields=["failed_logins", "locked_until"])
    record(actor=actor, action="accounts.user.unlock", target=user)
    return user


@transaction.atomic
def begin_totp_enrolment(*, user: User) -> str:
    """Give the user a new (unconfirmed) TOTP secret and return its otpauth:// URI for the QR code."""
    if user.totp_confirmed_at is not None:
        raise Conflict("已绑定动态口令，如需更换请联系安全管理员", code="totp_already_enrolled")
    secret = pyotp.random_base32()
    user.totp_secret = secret
    user.save(update_fields=["totp_secret"])
    record(actor=AnonymousUser(), actor_label=user.username, action="accounts.totp.begin", target=user)
    return totp_uri(user)


def totp_uri(user: User) -> str:
    return pyotp.TOTP(user.totp_secret).provisioning_uri(name=user.username, issuer_name=settings.TOTP_ISSUER)


def check_totp(user: User, code: str) -> bool:
    """RFC 6238 code, 30 s steps, ±1 step of clock drift, each step accepted once (§5.2): the step of an
    accepted code is remembered and no code of that step or an earlier one works again (no replay
    within the window, not even from another session)."""
    if not user.totp_secret or not code or not code.strip().isdigit():
        return False
    totp = pyotp.TOTP(user.totp_secret)
    now_step = totp.timecode(timezone.now())
    step = next((s for s in (now_step - 1, now_step, now_step + 1)
                 if pyotp.utils.strings_equal(totp.generate_otp(s), code.strip())), None)
    if step is None:
        return False
    with transaction.atomic():
        # one conditional UPDATE: two sessions racing with the same code cannot both win
        used = User.objects.filter(pk=user.pk).filter(
            models.Q(totp_last_step__isnull=True) | models.Q(totp_last_step__lt=step)).update(totp_last_step=step)
    if not used:
        record(actor=AnonymousUser(), actor_label=user.username, action="accounts.totp.replay", target=user,
               changes={"step": step})
        return False
    user.totp_last_step = step
    return True


@transaction.atomic
def confirm_totp_enrolment(*, user: User, code: str) -> bool:
    if not check_totp(user, code):
        return False
    user.totp_confirmed_at = timezone.now()
    user.save(update_fields=["totp_confirmed_at"])
    record(actor=user, action="accounts.totp.confirm", target=user)
    return True


@transaction.atomic
def reset_second_factor(*, actor, user: User) -> User:
    require(actor, "accounts.reset_second_factor")
    user.totp_secret, user.totp_confirmed_at = None, None
    user.save(update_fields=["totp_secret", "totp_confirmed_at"])
    record(actor=actor, action="accounts.totp.reset", target=user)
    return user


@transaction.atomic
def reveal_personal_data(*, actor, user: User) -> dict[str, str | None]:
    """Clear ID number and phone of a user, for a role that may see them; every reveal is audited."""
    require(actor, "accounts.view_personal_data", department=user.department, hide=True)
    record(actor=actor, action="accounts.personal_data.view", target=user, changes={"fields": ["id_number", "phone"]})
    return {"id_number": user.id_number, "phone": user.phone}


@transaction.atomic
def update_department(*, actor, department: Department, changes: dict) -> Department:
    """Rename or re-describe a department (its place in the tree does not move here)."""
    require(actor, "accounts.manage_department")
    allowed = {"name", "uscc", "region_code", "is_active"}
    if set(changes) - allowed:
        raise InvalidInput("只能修改名称、信用代码、区划代码和启用状态", code="field_not_editable",
                           detail=sorted(set(changes) - allowed))
    before = {k: getattr(department, k) for k in changes}
    for key, value in changes.items():
        setattr(department, key, value or None if key == "uscc" else value)
    validated(department)
    department.save()
    record(actor=actor, action="accounts.department.update", target=department,
           changes={k: [before[k], getattr(department, k)] for k in changes})
    return department


@transaction.atomic
def update_user(*, actor, user: User, changes: dict) -> User:
    """Change a user's name, role, department or active flag (the back-office edit form)."""
    require(actor, "accounts.manage_user", department=user.department)
    _check_grant(actor, changes.get("role"), target=user)
    allowed = {"name", "role", "department", "is_active"}
    if set(changes) - allowed:
        raise InvalidInput("该字段不可在此修改", code="field_not_editable", detail=sorted(set(changes) - allowed))
    if "role" in changes or "department" in changes:
        set_role(actor=actor, user=user, role=changes.get("role", user.role),
                 department=changes.get("department", user.department))
    before = {k: getattr(user, k) for k in ("name", "is_active") if k in changes}
    for key in before:
        setattr(user, key, changes[key])
    if before:
        user.save(update_fields=list(before))
        record(actor=actor, action="accounts.user.update", target=user,
               changes={k: [before[k], changes[k]] for k in before})
    return user


@transaction.atomic
def change_password(*, user: User, old_password: str, new_password: str) -> User:
    """A user changes their own password (the old one is checked, the new one validated)."""
    if not user.check_password(old_password):
        raise InvalidInput("原密码不正确", code="wrong_password")
    try:
        validate_password(new_password, user)
    except ValidationError as exc:
        raise InvalidInput("新密码不符合要求", code="weak_password", detail=exc.messages) from exc
    user.set_password(new_password)
    user.save(update_fields=["password"])
    record(actor=user, action="accounts.password.change", target=user)
    return user


# --- department signing keys ------------------------------------------------------------------------

def signing_key_for(department: Department):
    """The department's active SM2 key as ``(key_id, SM2PrivateKey)``, created on first use (audited)."""
    key = DepartmentKey.objects.filter(department=department, active=True).first()
    if key is None:
        key = _new_department_key(actor=system_actor("accounts.signing_key"), department=department)
    return key.key_id, SM2PrivateKey.from_pem(key.private_pem.encode())


@transaction.atomic
def rotate_department_key(*, actor, department: Department):
    """Retire the department's active key (kept for verifying what it signed) and make a new one."""
    require(actor, "accounts.manage_department")

    DepartmentKey.objects.filter(department=department, active=True).update(active=False,
                                                                             retired_at=timezone.now())
    return _new_department_key(actor=actor, department=department)


@transaction.atomic
def _new_department_key(*, actor, department: Department):
    Department.objects.select_for_update().filter(pk=department.pk).first()  # one creator at a time
    existing = DepartmentKey.objects.filter(department=department, active=True).first()
    if existing is not None:
        return existing
    private = SM2PrivateKey.generate()
    public = private.public_key()
    key = DepartmentKey.objects.create(department=department, key_id=public.key_id(),
                                       public_pem=public.to_pem().decode(), private_pem=private.to_pem().decode())
    record(actor=actor, action="accounts.department_key.create", target=key,
           changes={"department": department.pk, "key_id": key.key_id})
    return key


@transaction.atomic
def grant_supervision(*, actor, supervisor: Department, supervised: Department, domain: str):
    """Let ``supervisor`` oversee ``supervised`` (and the departments below it) for ``domain``."""
    require(actor, "accounts.manage_department")
    if supervisor.pk == supervised.pk or supervised.path.startswith(supervisor.path):
        raise InvalidInput("该部门已在本部门之下，无需另设监督关系", code="already_below")
    if not domain:
        raise InvalidInput("请填写监督事项", code="domain_required")
    row, created = Supervision.objects.get_or_create(supervisor=supervisor, supervised=supervised, domain=domain)
    if created:
        record(actor=actor, action="accounts.supervision.grant", target=row,
               changes={"supervisor": supervisor.code, "supervised": supervised.code, "domain": domain})
    return row
