"""Every write to licences. Keyword-only, ``actor=``, atomic, audited.

``issue_licence`` is what other apps (the one-stop service) call to issue a licence as the result of
an application.
"""

import datetime
import re

from django.db import transaction
from django.db.models import Max, Q
from django.utils import timezone

from smartgov.accounts.services import signing_key_for
from smartgov.audit.services import record
from smartgov.core.errors import Conflict, InvalidInput, validated
from smartgov.core.permissions import require
from smartgov.core.validators import is_valid_id_number

from . import hooks, payload
from .identifiers import build_identifier
from .models import (
    FIELD_VALUE_MAX,
    AccessResult,
    HolderKind,
    Licence,
    LicenceAccess,
    LicenceStatus,
    LicenceType,
    TrustLevel,
)

TYPE_FIELDS = ("name", "holder_kind", "validity_years", "field_template", "active")


@transaction.atomic
def create_licence_type(*, actor, name: str, code: str, department, holder_kind: str,
                        validity_years: int | None = None, field_template: list | None = None,
                        active: bool = True) -> LicenceType:
    """Register a licence type for a department (its admin, or a system actor)."""
    require(actor, "licences.manage_type", department=department)
    licence_type = LicenceType(name=name, code=(code or "").strip().upper(), department=department,
                               holder_kind=holder_kind, validity_years=validity_years or None,
                               field_template=field_template or [], active=active)
    validated(licence_type)
    licence_type.save()
    record(actor=actor, action="licences.type.create", target=licence_type,
           changes={"code": licence_type.code, "name": name, "department": department.pk,
                    "holder_kind": holder_kind, "validity_years": licence_type.validity_years,
                    "field_template": licence_type.field_template})
    return licence_type


@transaction.atomic
def update_licence_type(*, actor, licence_type: LicenceType, changes: dict) -> LicenceType:
    """Rename, change the template or validity, or switch a type off. Its code and department stay."""
    require(actor, "licences.manage_type", department=licence_type.department)
    if set(changes) - set(TYPE_FIELDS):
        raise InvalidInput("证照类型代码和发证部门不可修改", code="field_not_editable",
                           detail=sorted(set(changes) - set(TYPE_FIELDS)))
    if "holder_kind" in changes and changes["holder_kind"] != licence_type.holder_kind \
            and licence_type.licences.exists():
        raise Conflict("已签发证照的类型不能更改持证主体", code="holder_kind_in_use")
    before = {k: getattr(licence_type, k) for k in changes}
    for key, value in changes.items():
        setattr(licence_type, key, value)
    validated(licence_type)
    licence_type.save()
    record(actor=actor, action="licences.type.update", target=licence_type,
           changes={k: [before[k], getattr(licence_type, k)] for k in changes})
    return licence_type


_ID_LIKE = re.compile(r"(?<!\d)\d{17}[\dXx](?![\dXx])")


def _contains_id_number(value: str) -> bool:
    return any(is_valid_id_number(m.group()) for m in _ID_LIKE.finditer(value))


def validate_licence_data(licence_type: LicenceType, data) -> dict:
    """The licence's fields checked against its type's template: no unknown keys, required ones
    present, short text values, and never a clear resident ID number (show it masked)."""
    if not isinstance(data, dict):
        raise InvalidInput("照面信息应为键值对象", code="invalid_data")
    template = {f["key"]: f for f in licence_type.field_template}
    errors = {}
    unknown = sorted(set(data) - set(template))
    for key in unknown:
        errors[key] = "证照类型中没有此字段"
    clean = {}
    for key, spec in template.items():
        value = data.get(key)
        if value is None or (isinstance(value, str) and not value.strip()):
            if spec.get("required"):
                errors[key] = f"{spec['label']}为必填项"
            continue
        if not isinstance(value, str | int | float) or isinstance(value, bool):
            errors[key] = f"{spec['label']}应为文本"
            continue
        value = str(value).strip()
        if len(value) > FIELD_VALUE_MAX:
            errors[key] = f"{spec['label']}不能超过{FIELD_VALUE_MAX}个字符"
        elif _contains_id_number(value):
            errors[key] = f"{spec['label']}不能包含完整的身份证号码，请脱敏后填写"
        else:
            clean[key] = value
    if errors:
        raise InvalidInput("照面信息与证照模板不符", code="invalid_data", detail=errors)
    return clean


def _next_serial(licence_type: LicenceType, department) -> int:
    # One issuer at a time per type: lock the type row, then take the next number (GB/T 36904 顺序号).
    LicenceType.objects.select_for_update().filter(pk=licence_type.pk).first()
    last = Licence.objects.filter(licence_type=licence_type, department=department).aggregate(m=Max("serial"))["m"]
    return (last or 0) + 1


def _sign(licence: Licence) -> None:
    key_id, private = signing_key_for(licence.department)
    content = payload.canonical(payload.claims_for(licence))
    licence.signed_content = content.decode()
    licence.signature = private.sign(content).hex()
    licence.key_id = key_id


@transaction.atomic
def issue_licence(*, actor, licence_type: LicenceType, holder_person=None, holder_enterprise=None,
                  data: dict, valid_from: datetime.date | None = None, trust_level: str = TrustLevel.A,
                  issued_on: datetime.date | None = None) -> Licence:
    """Issue (签发) a licence of ``licence_type`` to a person or an enterprise of the register, signed
    with the issuing department's SM2 key. Only officers of the type's department may issue it."""
    require(actor, "licences.issue", department=licence_type.department, include_descendants=False)
    if not licence_type.active:
        raise Conflict("该证照类型已停用", code="type_inactive")
    if (holder_person is None) == (holder_enterprise is None):
        raise InvalidInput("须且只能指定一个持证主体", code="holder_required")
    kind = HolderKind.PERSON if holder_person is not None else HolderKind.ENTERPRISE
    if kind != licence_type.holder_kind:
        raise InvalidInput(f"{licence_type.name}的持证主体应为{HolderKind(licence_type.holder_kind).label}",
                           code="holder_kind_mismatch")
    if holder_enterprise is not None and holder_enterprise.status != "active":
        raise Conflict("该法人已注销或被吊销，不能签发证照", code="holder_inactive")
    if trust_level not in TrustLevel.values:
        raise InvalidInput("可信等级应为A、B、C或D", code="invalid_trust_level")
    department = licence_type.department
    if not department.uscc:
        raise InvalidInput("发证部门没有统一社会信用代码，无法生成证照标识", code="issuer_without_uscc")
    clean_data = validate_licence_data(licence_type, data)
    today = timezone.localdate()
    issued_on = issued_on or today
    valid_from = valid_from or issued_on
    if valid_from < issued_on:
        raise InvalidInput("有效期起始日不能早于签发日期", code="invalid_dates")
    holder = payload.holder_claims(person=holder_person, enterprise=holder_enterprise)
    serial = _next_serial(licence_type, department)
    licence = Licence(
        identifier=build_identifier(type_code=licence_type.code, issuer_uscc=department.uscc, serial=serial,
                                    version=1),
        licence_type=licence_type, holder_person=holder_person, holder_enterprise=holder_enterprise,
        holder_name=holder["name"], holder_public_id=holder["id"], department=department,
        issuer_uscc=department.uscc, serial=serial, version=1, issued_on=issued_on, valid_from=valid_from,
        valid_until=licence_type.valid_until_for(valid_from), data=clean_data, trust_level=trust_level,
        issued_by=actor if getattr(actor, "pk", None) else None,  # a system actor (秒批) is no user
    )
    _sign(licence)
    licence.save()
    record(actor=actor, action="licences.licence.issue", target=licence,
           changes={"identifier": licence.identifier, "type": licence_type.code, "holder_kind": kind,
                    "holder": holder["id"], "valid_from": valid_from.isoformat(),
                    "valid_until": licence.valid_until.isoformat() if licence.valid_until else None,
                    "trust_level": trust_level, "key_id": licence.key_id})
    hooks.changed(licence=licence, event_type="licence.issued")
    return licence


def _end(*, actor, licence: Licence, reason: str, status: str, action: str) -> Licence:
    require(actor, "licences.revoke", department=licence.department, include_descendants=False, hide=True)
    reason = (reason or "").strip()
    if not reason:
        raise InvalidInput("请填写原因", code="reason_required")
    if len(reason) > 500:
        raise InvalidInput("原因不能超过500个字符", code="reason_too_long")
    locked = Licence.objects.select_for_update().get(pk=licence.pk)
    if locked.status in (LicenceStatus.CANCELLED, LicenceStatus.REVOKED):
        raise Conflict(f"该证照已{LicenceStatus(locked.status).label}", code="licence_not_valid",
                       detail={"status": locked.status})
    before = locked.status
    locked.status, locked.revocation_reason = status, reason
    locked.revoked_at, locked.revoked_by = timezone.now(), actor
    locked.save(update_fields=["status", "revocation_reason", "revoked_at", "revoked_by", "updated_at"])
    record(actor=actor, action=action, target=locked,
           changes={"status": [before, status], "reason": reason})
    for field in ("status", "revocation_reason", "revoked_at", "revoked_by"):
        setattr(licence, field, getattr(locked, field))
    hooks.changed(licence=locked, event_type="licence.revoked" if status == LicenceStatus.REVOKED
                  else "licence.cancelled")
    return locked


@transaction.atomic
def revoke_licence(*, actor, licence: Licence, reason: str) -> Licence:
    """吊销: the issuer withdraws the licence as a sanction."""
    return _end(actor=actor, licence=licence, reason=reason, status=LicenceStatus.REVOKED,
                action="licences.licence.revoke")


@transaction.atomic
def cancel_licence(*, actor, licence: Licence, reason: str) -> Licence:
    """注销: the licence ends at the holder's request or because it no longer applies."""
    return _end(actor=actor, licence=licence, reason=reason, status=LicenceStatus.CANCELLED,
                action="licences.licence.cancel")


@transaction.atomic
def mark_expired_licences(*, actor, today: datetime.date | None = None) -> int:
    """Store 过期 on valid licences past their last day (the status is derived anyway; this keeps the
    register's column honest for reports). One audit entry per licence."""
    today = today or timezone.localdate()
    ids = list(Licence.objects.select_for_update().filter(status=LicenceStatus.VALID, valid_until__lt=today)
               .values_list("pk", "identifier"))
    Licence.objects.filter(pk__in=[pk for pk, _ in ids]).update(status=LicenceStatus.EXPIRED, updated_at=timezone.now())
    for pk, identifier in ids:
        record(actor=actor, action="licences.licence.expire", target=("licences.licence", pk, identifier),
               changes={"status": [LicenceStatus.VALID, LicenceStatus.EXPIRED]})
    return len(ids)


@transaction.atomic
def share_licences(*, actor, licence_type: LicenceType, holder_person=None, holder_enterprise=None,
                   purpose: str, legal_basis: str = "", consent_reference: str = "") -> list[Licence]:
    """The department sharing interface (证照共享): the holder's currently valid licences of one type,
    for a stated purpose under a legal basis or the holder's consent. Every call is logged
    (``LicenceAccess``) and audited; a call without purpose and basis is refused and leaves nothing."""
    require(actor, "licences.share")
    purpose, legal_basis = (purpose or "").strip(), (legal_basis or "").strip()
    consent_reference = (consent_reference or "").strip()
    if not purpose:
        raise InvalidInput("请说明调用证照的用途", code="purpose_required")
    if not legal_basis and not consent_reference:
        raise InvalidInput("调用证照须有法律依据或持证人的授权同意", code="legal_basis_required")
    if len(purpose) > 200 or len(legal_basis) > 300 or len(consent_reference) > 100:
        raise InvalidInput("用途、法律依据或授权凭证过长", code="too_long")
    if (holder_person is None) == (holder_enterprise is None):
        raise InvalidInput("须且只能指定一个持证主体", code="holder_required")
    if actor.department is None:
        raise InvalidInput("调用人须属于一个部门", code="department_required")
    today = timezone.localdate()
    licences = list(
        Licence.objects.select_related("licence_type", "department")
        .filter(licence_type=licence_type, status=LicenceStatus.VALID, valid_from__lte=today,
                holder_person=holder_person, holder_enterprise=holder_enterprise)
        .filter(Q(valid_until__isnull=True) | Q(valid_until__gte=today))
        .order_by("-issued_on", "-pk"))
    access = LicenceAccess.objects.create(
        department=actor.department, officer=actor, holder_person=holder_person,
        holder_enterprise=holder_enterprise, licence_type=licence_type, purpose=purpose,
        legal_basis=legal_basis, consent_reference=consent_reference,
        result=AccessResult.FOUND if licences else AccessResult.NONE, licence_count=len(licences))
    holder = holder_person or holder_enterprise
    record(actor=actor, action="licences.licence.share", target=access,
           changes={"type": licence_type.code, "holder": (holder._meta.model_name, holder.pk),
                    "purpose": purpose, "legal_basis": legal_basis, "consent_reference": consent_reference,
                    "identifiers": [lic.identifier for lic in licences]})
    return licences
