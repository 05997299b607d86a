"""Reads of licences that more than one caller needs: scoped lists, the wallet, holder look-up, and
verification of a QR payload."""

import datetime
from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db.models import Count, Q
from django.urls import reverse
from django.utils import timezone

from smartgov.accounts.selectors import key_department, public_key
from smartgov.core.errors import InvalidInput, NotFound
from smartgov.core.fields import blind_lookup
from smartgov.core.indicators import check_scope, daily_counts, day_starts, indicator, series_of
from smartgov.core.pdf import qr_svg as core_qr_svg
from smartgov.core.permissions import require, scope
from smartgov.identity.models import Enterprise, Person

from . import payload
from .models import Licence, LicenceAccess, LicenceStatus, LicenceType

_RELATED = ("licence_type", "department")


def licences_for(user):
    """Licences the officer may see: those issued by their department (and below, for admins and
    supervisors)."""
    require(user, "licences.view_licence")
    return scope(user, Licence.objects.select_related(*_RELATED), field="department")


def get_licence_for(user, licence_id: int) -> Licence:
    """One licence for staff of its department, or for its holder; else 404 (existence is not told)."""
    licence = Licence.objects.select_related(*_RELATED, "holder_person").filter(pk=licence_id).first()
    if licence is None:
        raise NotFound()
    if is_holder(user, licence):
        return licence
    require(user, "licences.view_licence", department=licence.department, hide=True)
    return licence


def is_holder(user, licence: Licence) -> bool:
    """The signed-in person holds the licence: their own, or one of an enterprise they are the legal
    representative of (the same rule as the wallet, so every wallet button opens)."""
    if not getattr(user, "is_authenticated", False):
        return False
    if licence.holder_person_id is not None:
        person = licence.holder_person
        return person is not None and person.user_id == user.pk
    if licence.holder_enterprise_id is not None:
        return Licence.objects.filter(pk=licence.pk, holder_enterprise__legal_representative__user=user).exists()
    return False


def wallet_for(user):
    """The signed-in person's licences (证照夹): their own, through the register's Person.user link, and
    those of the enterprises they are the legal representative of (企业证照)."""
    if not getattr(user, "is_authenticated", False):
        return Licence.objects.none()
    return Licence.objects.select_related(*_RELATED).filter(
        Q(holder_person__user=user, holder_person__isnull=False)
        | Q(holder_enterprise__legal_representative__user=user, holder_enterprise__isnull=False))


def types_for_issuer(user):
    """Active licence types the officer's department issues."""
    if user.department_id is None:
        return LicenceType.objects.none()
    return LicenceType.objects.filter(department_id=user.department_id, active=True).order_by("code")


def find_holder(*, kind: str, code: str):
    """A person by resident ID number (through its blind index) or an enterprise by 统一社会信用代码."""
    code = (code or "").strip().upper()
    if not code:
        raise InvalidInput("请填写持证主体的证件号码", code="holder_required")
    if kind == "enterprise":
        holder = Enterprise.objects.filter(uscc=code).first()
    else:
        try:
            holder = Person.objects.filter(**blind_lookup(Person, "id_number", code)).first()
        except ValidationError as exc:  # a malformed number cannot be normalised: nobody has it
            raise InvalidInput("身份证号码格式不正确", code="invalid_id_number") from exc
    if holder is None:
        raise NotFound("人口库/法人库中未找到该持证主体", code="holder_not_found")
    return holder


# --- the QR payload -----------------------------------------------------------------------------------

def payload_for(licence: Licence) -> str:
    return payload.encode(licence.signed_content.encode(), bytes.fromhex(licence.signature), licence.key_id)


def verify_url(licence: Licence) -> str:
    return f"{settings.SITE_URL.rstrip('/')}/verify/?p={payload_for(licence)}"


def qr_svg(licence: Licence, *, scale: int = 3) -> str:
    return core_qr_svg(verify_url(licence), scale=scale)


@dataclass(frozen=True)
class VerifyOutcome:
    ok: bool
    reason_code: str
    reason_message_zh: str
    licence: Licence | None = None
    claims: dict | None = None  # the signed public claims, when the signature verified


REASONS = {
    "valid": "证照真实有效",
    "malformed_payload": "二维码内容格式不正确，不是本平台签发的电子证照",
    "unknown_key": "签名密钥不存在，无法确认发证机关",
    "key_mismatch": "签名密钥不属于证照上的发证机关",
    "bad_signature": "签名验证失败，证照内容可能被篡改",
    "unknown_licence": "证照库中没有这份证照",
    "superseded": "证照库中的记录与二维码不一致，该证照可能已换发",
    "revoked": "该证照已被吊销",
    "cancelled": "该证照已注销",
    "expired": "该证照已过期",
    "not_yet_valid": "该证照尚未生效",
}


def _fail(code: str, message: str | None = None, *, licence=None, claims=None) -> VerifyOutcome:
    return VerifyOutcome(False, code, message or REASONS[code], licence, claims)


# key_id → (public key, department id). A key id is the hash of the public key and a key never changes
# department, so entries never go stale; unknown ids are not remembered (a key may be created later).
_KEYS: dict[str, tuple] = {}
_KEYS_MAX = 4096


def _key(key_id: str):
    cached = _KEYS.get(key_id)
    if cached is None:
        key = public_key(key_id)
        if key is None:
            return None, None
        department = key_department(key_id)
        if len(_KEYS) >= _KEYS_MAX:
            _KEYS.clear()
        cached = _KEYS[key_id] = (key, department.pk if department else None)
    return cached


def verify_payload(text: str, *, today: datetime.date | None = None) -> VerifyOutcome:
    """Check a QR payload: its shape, the issuer's SM2 signature (retired keys still verify), then the
    register — the signing key belongs to the issuing department, the content is the register's, the
    status (注销/吊销 with the reason) and the dates. Each failure has a stable code."""
    try:
        content, claims, signature, key_id = payload.decode(text)
    except payload.MalformedPayload:
        return _fail("malformed_payload")
    key, key_department_id = _key(key_id)
    if key is None:
        return _fail("unknown_key")
    if not key.verify(signature, content):
        return _fail("bad_signature")
    found = list(Licence.objects.select_related("licence_type").filter(identifier=claims["id"])[:1])
    if not found:
        return _fail("unknown_licence", claims=claims)
    licence = found[0]
    if key_department_id != licence.department_id:
        return _fail("key_mismatch", claims=claims)
    if licence.signed_content.encode() != content:
        return _fail("superseded", licence=licence, claims=claims)
    if licence.status in (LicenceStatus.REVOKED, LicenceStatus.CANCELLED):
        code = "revoked" if licence.status == LicenceStatus.REVOKED else "cancelled"
        when = timezone.localtime(licence.revoked_at).date().isoformat() if licence.revoked_at else ""
        message = f"{REASONS[code]}（{when}）：{licence.revocation_reason}" if when else \
            f"{REASONS[code]}：{licence.revocation_reason}"
        return _fail(code, message, licence=licence, claims=claims)
    today = today or timezone.localdate()
    if licence.effective_status(today) == LicenceStatus.EXPIRED:
        until = licence.valid_until.isoformat() if licence.valid_until else ""
        return _fail("expired", f"该证照已于{until}到期" if until else None, licence=licence, claims=claims)
    if today < licence.valid_from:
        return _fail("not_yet_valid", f"该证照自{licence.valid_from.isoformat()}起生效", licence=licence,
                     claims=claims)
    return VerifyOutcome(True, "valid", REASONS["valid"], licence, claims)


def indicators(*, actor, department) -> list[dict]:
    """电子证照 figures of ``department`` and below: licences issued today (7-day trend), valid licences,
    sharing-interface calls today (two queries; docs/overview.md)."""
    check_scope(actor, department)
    bounds = day_starts()
    lic = Licence.objects.filter(department__path__startswith=department.path).aggregate(
        **daily_counts("created_at", "i", bounds), valid=Count("id", filter=Q(status=LicenceStatus.VALID)))
    calls = LicenceAccess.objects.filter(department__path__startswith=department.path).aggregate(
        **daily_counts("at", "c", bounds))
    url = reverse("licences:list")
    common = {"app": "licences", "department": department, "url": url}
    return [indicator(key="issued_today", name="今日发证", name_en="Licences issued today", unit="张",
                      **series_of(lic, "i", bounds), **common),
            indicator(key="valid", name="有效证照", name_en="Valid licences", unit="张", value=lic["valid"], **common),
            indicator(key="shared_today", name="今日证照共享调用", name_en="Licence sharing calls today", unit="次",
                      **series_of(calls, "c", bounds), **common)]
