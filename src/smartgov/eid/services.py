"""EID issuance and revocation, partners, VIDs, consent, one-time codes and the verification service
(in the style of MOSIP ID authentication). Keyword-only, ``actor=``, atomic, audited."""

import hmac
import logging
import secrets
import time
import unicodedata
from dataclasses import dataclass, field
from datetime import date, timedelta

import orjson
from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.utils import timezone
from django.utils.module_loading import import_string

from smartgov.accounts.models import Department
from smartgov.accounts.selectors import public_key
from smartgov.accounts.services import create_user, signing_key_for
from smartgov.audit.services import record
from smartgov.biometrics.selectors import verify_one_to_one
from smartgov.core.checkdigits import luhn_digit
from smartgov.core.crypto import keys
from smartgov.core.errors import Conflict, Forbidden, InvalidInput, NotFound
from smartgov.core.fields import blind_lookup
from smartgov.core.permissions import Role, require, system_actor
from smartgov.identity.models import Person
from smartgov.identity.services import link_account, register_person

from . import credentials
from .models import (
    Consent,
    CredentialStatus,
    EidCredential,
    KioskChallenge,
    OneTimeCode,
    OutboxMessage,
    Partner,
    VerificationRecord,
    VirtualId,
)

log = logging.getLogger("smartgov.eid")

OTP_TTL = timedelta(minutes=5)
OTP_PURPOSES = {"login": "登录", "kiosk_login": "自助终端登录", "verify": "身份核验", "ekyc": "实名核验"}
OTP_MAX_ATTEMPTS = 3
KYC_ATTRIBUTES = {"name", "sex", "birth_date", "nationality", "region_code", "address", "phone"}


# --- EID credentials --------------------------------------------------------------------------------

@transaction.atomic
def issue_eid(*, actor, person: Person, issuer, years: int = 10, photo_hash: str = "") -> EidCredential:
    """Issue ``person`` a new EID signed by the issuing department's SM2 key; a previous valid
    credential is superseded (换发). ``actor`` None means the platform's own self-service flow."""
    require(actor, "eid.issue", department=issuer)
    if not issuer.uscc:
        raise InvalidInput("签发机关缺少统一社会信用代码", code="issuer_without_uscc")
    today = timezone.localdate()
    EidCredential.objects.filter(person=person, status=CredentialStatus.VALID).update(
        status=CredentialStatus.SUPERSEDED, revoked_at=timezone.now(), revoke_reason="换发")
    key_id, private = signing_key_for(issuer)
    eid = credentials.new_eid()
    until = today.replace(year=today.year + years) if not (today.month == 2 and today.day == 29) \
        else today.replace(year=today.year + years, day=28)
    claims = {"v": 1, "eid": eid, "name": person.name, "photo": photo_hash, "from": today.isoformat(),
              "until": until.isoformat(), "iss": issuer.uscc, "kid": key_id}
    body = credentials.canonical(claims)
    cred = EidCredential.objects.create(
        eid=eid, person=person, issuer=issuer, key_id=key_id, payload=body.decode(),
        signature=private.sign(body).hex(), photo_hash=photo_hash, valid_from=today, valid_until=until)
    record(actor=actor, action="eid.credential.issue", target=cred,
           changes={"person": person.pk, "issuer": issuer.pk, "valid_until": until})
    return cred


def qr_payload(cred: EidCredential) -> str:
    return credentials.encode_payload(cred.payload.encode(), bytes.fromhex(cred.signature))


@transaction.atomic
def revoke_eid(*, actor, credential: EidCredential, reason: str) -> EidCredential:
    require(actor, "eid.revoke", department=credential.issuer)
    if not reason.strip():
        raise InvalidInput("请填写吊销原因", code="reason_required")
    if credential.status != CredentialStatus.VALID:
        raise Conflict("该EID已不是有效状态", code="not_valid")
    credential.status, credential.revoked_at, credential.revoke_reason = (
        CredentialStatus.REVOKED, timezone.now(), reason.strip()[:200])
    credential.save(update_fields=["status", "revoked_at", "revoke_reason"])
    record(actor=actor, action="eid.credential.revoke", target=credential, changes={"reason": reason})
    return credential


def verify_eid_payload(text: str, *, today: date | None = None) -> credentials.Outcome:
    """Online check of a QR payload: the same rules as offline, with the live revocation list."""
    def is_revoked(eid: str) -> bool:
        return not EidCredential.objects.filter(eid=eid, status=CredentialStatus.VALID).exists()

    return credentials.check_payload(text, public_key_for=public_key, is_revoked=is_revoked,
                                     today=today or timezone.localdate())


# --- partners ---------------------------------------------------------------------------------------

def _key_hash(api_key: str) -> str:
    return keys.blind_index(api_key, purpose="partner_api_key")


@transaction.atomic
def register_partner(*, actor, code: str, name: str, department=None,
                     allowed_attributes: list[str] | None = None) -> tuple[Partner, str]:
    """Register a relying application; returns it and its API key, which is shown this once only.
    ``actor`` None is the platform itself (commands, benchmarks)."""
    require(actor, "eid.manage_partner", department=department)
    unknown = set(allowed_attributes or []) - KYC_ATTRIBUTES
    if unknown:
        raise InvalidInput("未知的e-KYC属性", code="unknown_attribute", detail=sorted(unknown))
    if Partner.objects.filter(code=code).exists():
        raise Conflict("该编码已被使用", code="partner_code_taken")
    prefix = secrets.token_hex(4)
    api_key = f"sgp_{prefix}_{secrets.token_urlsafe(32)}"
    partner = Partner.objects.create(code=code, name=name, department=department, key_prefix=prefix,
                                     key_hash=_key_hash(api_key), allowed_attributes=sorted(allowed_attributes or []))
    record(actor=actor, action="eid.partner.register", target=partner,
           changes={"code": code, "allowed_attributes": partner.allowed_attributes})
    return partner, api_key


# key hash → (partner, checked at): a partner's every call needs it, so each process keeps it for a
# short while; deactivating a partner takes effect everywhere within PARTNER_CACHE_SECONDS.
PARTNER_CACHE_SECONDS = 30
_partner_cache: dict[str, tuple[Partner, float]] = {}


def authenticate_partner(api_key: str) -> Partner | None:
    parts = (api_key or "").split("_", 2)
    if len(parts) != 3 or parts[0] != "sgp":
        return None
    expected = _key_hash(api_key)
    cached = _partner_cache.get(expected)
    if cached and time.monotonic() - cached[1] < PARTNER_CACHE_SECONDS:
        return cached[0]
    for partner in Partner.objects.filter(key_prefix=parts[1], active=True):
        if hmac.compare_digest(partner.key_hash, expected):
            _partner_cache[expected] = (partner, time.monotonic())
            return partner
    _partner_cache.pop(expected, None)
    return None


def partner_token(partner: Partner, person: Person) -> str:
    """The person's token for this partner (伪名标识): stable for the pair, different for every partner,
    and useless for finding the person anywhere else (HMAC-SM3 under a platform key)."""
    return keys.blind_index(f"{partner.code}:{person.pk}", purpose="partner_token")[:32]


# --- VIDs and consent (the citizen's own actions) ---------------------------------------------------

@transaction.atomic
def create_vid(*, person: Person, hours: int = 24) -> VirtualId:
    if not 1 <= hours <= 24 * 30:
        raise InvalidInput("VID有效期应在1小时到30天之间", code="invalid_vid_ttl")
    while True:
        body = "".join(secrets.choice("0123456789") for _ in range(15))
        vid = body + luhn_digit(body)
        if not VirtualId.objects.filter(vid=vid).exists():
            break
    v = VirtualId.objects.create(vid=vid, person=person, expires_at=timezone.now() + timedelta(hours=hours))
    record(actor=person.user, action="eid.vid.create", target=v, changes={"hours": hours})
    return v


@transaction.atomic
def revoke_vid(*, person: Person, vid: VirtualId) -> VirtualId:
    if vid.person_id != person.pk:
        raise NotFound()
    vid.revoked_at = timezone.now()
    vid.save(update_fields=["revoked_at"])
    record(actor=person.user, action="eid.vid.revoke", target=vid)
    return vid


@transaction.atomic
def grant_consent(*, person: Person, partner: Partner, attributes: list[str]) -> Consent:
    unknown = set(attributes) - KYC_ATTRIBUTES
    if unknown:
        raise InvalidInput("未知的属性", code="unknown_attribute", detail=sorted(unknown))
    Consent.objects.filter(person=person, partner=partner, revoked_at=None).update(revoked_at=timezone.now())
    consent = Consent.objects.create(person=person, partner=partner, attributes=sorted(set(attributes)))
    record(actor=person.user, action="eid.consent.grant", target=consent,
           changes={"partner": partner.code, "attributes": consent.attributes})
    return consent


@transaction.atomic
def revoke_consent(*, person: Person, consent: Consent) -> None:
    if consent.person_id != person.pk:
        raise NotFound()
    consent.revoked_at = timezone.now()
    consent.save(update_fields=["revoked_at"])
    record(actor=person.user, action="eid.consent.revoke", target=consent)


# --- one-time codes ---------------------------------------------------------------------------------

def send_to_outbox(person: Person, subject: str, body: str) -> None:
    """The default sender: the citizen's portal inbox (and, for development, the server log without
    the code's owner's personal data). Other senders (SMS, email) plug in with SMARTGOV_OTP_SENDER."""
    OutboxMessage.objects.create(person=person, subject=subject, body=body)
    log.info("outbox message for person %s: %s", person.pk, subject)


def _sender():
    path = getattr(settings, "OTP_SENDER", "")
    if not path and getattr(settings, "DEMO_MODE", False):
        return demo_otp_sender
    return import_string(path) if path else send_to_outbox


def _code_hash(transaction_id: str, code: str) -> str:
    return keys.blind_index(f"{transaction_id}:{code}", purpose="one_time_code")


@transaction.atomic
def send_one_time_code(*, person: Person, purpose: str, partner: Partner | None = None) -> str:
    """Send a 6-digit code; returns the transaction id the code must be presented with."""
    code = f"{secrets.randbelow(10**6):06d}"
    txn = secrets.token_hex(16)
    OneTimeCode.objects.create(person=person, purpose=purpose, partner=partner, transaction_id=txn,
                               code_hash=_code_hash(txn, code), expires_at=timezone.now() + OTP_TTL)
    who = partner.name if partner else "SmartGov"
    use = OTP_PURPOSES.get(purpose, purpose)
    _sender()(person, f"{who} 验证码", f"您的验证码是 {code}，5分钟内有效。用途：{use}。请勿告诉他人。")
    record(actor=AnonymousUser(), action="eid.otp.send", target=("identity.person", person.pk),
           changes={"purpose": purpose, "partner": partner.code if partner else None})
    return txn


def check_one_time_code(*, person: Person, transaction_id: str, code: str, partner: Partner | None = None) -> bool:
    """True once for a correct, unexpired code of this person (and partner); three wrong tries burn it."""
    with transaction.atomic():
        otp = (OneTimeCode.objects.select_for_update()
               .filter(transaction_id=transaction_id, person=person, partner=partner, used_at=None).first())
        if otp is None or otp.expires_at < timezone.now() or otp.attempts >= OTP_MAX_ATTEMPTS:
            return False
        if hmac.compare_digest(otp.code_hash, _code_hash(transaction_id, (code or "").strip())):
            otp.used_at = timezone.now()
            otp.save(update_fields=["used_at"])
            return True
        otp.attempts += 1
        otp.save(update_fields=["attempts"])
        return False


# --- the verification service ------------------------------------------------------------------------

def resolve_person(id_type: str, id_value: str) -> Person | None:
    """The person behind an ID number, a usable VID or a valid EID — or None."""
    id_value = (id_value or "").strip()
    if id_type == "id_number":
        try:
            bidx = blind_lookup(Person, "id_number", id_value)["id_number_bidx"]
        except ValidationError:  # a malformed ID number matches nobody
            return None
        return _person_by_bidx(bidx)
    if id_type == "vid":
        vid = VirtualId.objects.select_related("person").filter(vid=id_value).first()
        return vid.person if vid and vid.usable else None
    if id_type == "eid":
        cred = EidCredential.objects.select_related("person").filter(
            eid=id_value.upper(), status=CredentialStatus.VALID).first()
        return cred.person if cred else None
    raise InvalidInput("id_type 只能是 id_number、vid 或 eid", code="invalid_id_type")


# Model.from_db wants the values in the model's field order
_PERSON_FIELDS = tuple(f.attname for f in Person._meta.concrete_fields
                       if f.attname in {"id", "name", "birth_date", "sex", "nationality", "region_code", "address"})
_PERSON_SQL = (f"SELECT {', '.join(_PERSON_FIELDS)} FROM {Person._meta.db_table}"  # noqa: S608 (model metadata)
               " WHERE id_number_bidx = %s")


def _person_by_bidx(bidx: str) -> Person | None:
    """The verification hot path: one indexed lookup without the ORM's query building, and without
    loading (and decrypting) the encrypted columns it does not need; the rest loads lazily if asked."""
    with connection.cursor() as cur:
        cur.execute(_PERSON_SQL, [bidx])
        row = cur.fetchone()
    if row is None:
        return None
    values = list(row)
    i = _PERSON_FIELDS.index("birth_date")
    if isinstance(values[i], str):  # SQLite hands dates back as text
        values[i] = date.fromisoformat(values[i])
    return Person.from_db(connection.alias, _PERSON_FIELDS, values)


_RECORD_SQL = (f"INSERT INTO {VerificationRecord._meta.db_table}"  # noqa: S608 (model metadata)
               " (partner_id, person_id, purpose, factors, result, reason, at) VALUES (%s, %s, %s, %s, %s, %s, %s)")


def _same_name(a: str, b: str) -> bool:
    norm = lambda s: unicodedata.normalize("NFKC", s or "").replace(" ", "").replace("·", "").strip()  # noqa: E731
    return norm(a) == norm(b) != ""


@dataclass
class VerifyRequest:
    id_type: str
    id_value: str
    purpose: str
    name: str | None = None
    birth_date: date | None = None
    otp_transaction_id: str | None = None
    otp_code: str | None = None
    biometric_modality: str | None = None
    biometric_vector: list[float] | None = None
    kyc_attributes: list[str] = field(default_factory=list)


@dataclass
class VerifyResult:
    result: bool
    reason: str
    factors: dict[str, bool]
    partner_token: str | None = None
    kyc: dict | None = None


def verify_person(*, partner: Partner, request: VerifyRequest) -> VerifyResult:
    """Authenticate a person for a partner with every factor it sent (demographic, one-time code,
    biometric 1:1); the result is true only if all pass. Recorded and audited whatever the result.
    The response never carries an ID number: the partner gets its own token for the person."""
    if not request.purpose.strip():
        raise InvalidInput("请说明核验用途", code="purpose_required")
    factors: dict[str, bool] = {}
    person = resolve_person(request.id_type, request.id_value)
    reason = "ok"
    if person is None:
        reason = "identity_not_found"
    else:
        if request.name is not None or request.birth_date is not None:
            ok = (request.name is None or _same_name(request.name, person.name)) and \
                 (request.birth_date is None or request.birth_date == person.birth_date)
            factors["demographic"] = ok
        if request.otp_transaction_id is not None:
            factors["otp"] = check_one_time_code(person=person, transaction_id=request.otp_transaction_id,
                                                 code=request.otp_code or "", partner=partner)
        if request.biometric_vector is not None:
            outcome = verify_one_to_one(person=person, modality=request.biometric_modality or "face",
                                        vector=request.biometric_vector)
            factors["biometric"] = outcome.match
        if not factors:
            raise InvalidInput("至少提供一种认证因子（人口信息、验证码或生物特征）", code="no_factor")
        failed = [k for k, v in factors.items() if not v]
        if failed:
            reason = f"{failed[0]}_mismatch"
    ok = reason == "ok"
    kyc = None
    if ok and request.kyc_attributes:
        kyc = _kyc(partner, person, request.kyc_attributes)
    with transaction.atomic(), connection.cursor() as cur:
        # hot path: a plain INSERT (the ORM's query building cost more than the write itself)
        cur.execute(_RECORD_SQL, [partner.pk, person.pk if person else None, request.purpose[:100],
                                  orjson.dumps(sorted(factors)).decode(), ok, reason, timezone.now()])
        record(actor=AnonymousUser(), actor_label=f"partner:{partner.code}", action="eid.verify",
               target=("identity.person", person.pk if person else ""),
               changes={"purpose": request.purpose[:100], "factors": factors, "result": ok, "reason": reason,
                        "kyc": sorted(kyc) if kyc else []})
    return VerifyResult(result=ok, reason=reason, factors=factors,
                        partner_token=partner_token(partner, person) if ok else None, kyc=kyc)


def _kyc(partner: Partner, person: Person, requested: list[str]) -> dict:
    """Only what the person consented to share with this partner and the partner may ask for."""
    consent = Consent.objects.filter(person=person, partner=partner, revoked_at=None).first()
    allowed = set(requested) & set(partner.allowed_attributes) & set(consent.attributes if consent else [])
    values = {"name": person.name, "sex": person.sex, "birth_date": person.birth_date.isoformat(),
              "nationality": person.nationality, "region_code": person.region_code, "address": person.address,
              "phone": person.phone}
    return {k: values[k] for k in sorted(allowed)}


def person_for_user(user) -> Person:
    person = getattr(user, "person", None) if user is not None and user.is_authenticated else None
    if person is None:
        raise Forbidden("当前账号未关联实名信息", code="no_person")
    return person


# --- citizens ------------------------------------------------------------------------------------------

def _department_or_none(code: str):
    return Department.objects.filter(code=code).first()


def issuer_department():
    """The EID issuing authority: the department whose code is SMARTGOV_EID_ISSUER."""
    code = getattr(settings, "EID_ISSUER", "")
    dept = Department.objects.filter(code=code).first() if code else None
    if dept is None:
        raise InvalidInput("未配置EID签发机关（SMARTGOV_EID_ISSUER）", code="no_eid_issuer")
    return dept


@transaction.atomic
def register_citizen(*, name: str, id_number: str, phone: str, password: str):
    """Real-name self-registration (实名注册): a citizen account bound to the register's person record.
    An existing record is linked if the name matches; a new one is created otherwise."""
    try:
        person = Person.objects.select_for_update().filter(**blind_lookup(Person, "id_number", id_number)).first()
    except ValidationError as exc:
        raise InvalidInput("身份证号码无效", code="invalid_id_number", detail={"id_number": exc.messages}) from exc
    if person is not None and (person.user_id or not _same_name(person.name, name)):
        raise Conflict("该身份证号码已注册或与登记信息不符", code="id_number_taken")
    try:
        validate_password(password)
    except ValidationError as exc:
        raise InvalidInput("密码不符合要求", code="weak_password", detail={"password": exc.messages}) from exc
    user = create_user(actor=system_actor("eid.register"), username=f"c{secrets.token_hex(6)}", password=password,
                       role=Role.CITIZEN, name=name.strip(), id_number=id_number, phone=phone)
    if person is None:  # registered by the EID authority's office
        office = _department_or_none(settings.EID_ISSUER) if settings.EID_ISSUER else None
        person = register_person(actor=system_actor("eid.register"), name=name, id_number=id_number, phone=phone, department=office)
    link_account(person=person, user=user)
    record(actor=user, action="eid.citizen.register", target=person, changes={"user": user.pk})
    return user, person


# --- kiosk sign-in by a signed challenge ------------------------------------------------------------

KIOSK_TTL = timedelta(minutes=2)


@transaction.atomic
def create_kiosk_challenge(*, person: Person):
    """The kiosk read ``person``'s EID: issue a challenge signed by the EID authority, which the citizen
    answers from their own signed-in device (the kiosk never sees a password)."""
    key_id, private = signing_key_for(issuer_department())
    challenge = KioskChallenge(code="".join(secrets.choice("ABCDEFGHJKLMNPQRSTUVWXYZ23456789") for _ in range(8)),
                               person=person, key_id=key_id, expires_at=timezone.now() + KIOSK_TTL)
    challenge.signature = private.sign(challenge.message()).hex()
    challenge.save()
    record(actor=AnonymousUser(), action="eid.kiosk.challenge", target=("identity.person", person.pk),
           changes={"code": challenge.code})
    return challenge


def challenge_is_genuine(challenge) -> bool:
    key = public_key(challenge.key_id)
    return key is not None and key.verify(bytes.fromhex(challenge.signature), challenge.message())


@transaction.atomic
def approve_kiosk_challenge(*, person: Person, code: str):
    challenge = KioskChallenge.objects.select_for_update().filter(code=code, person=person).first()
    if challenge is None:
        raise NotFound()
    if challenge.expires_at < timezone.now() or challenge.consumed_at or not challenge_is_genuine(challenge):
        raise Conflict("该登录请求已失效", code="challenge_expired")
    challenge.approved_at = timezone.now()
    challenge.save(update_fields=["approved_at"])
    record(actor=person.user, action="eid.kiosk.approve", target=("identity.person", person.pk),
           changes={"code": code})
    return challenge


@transaction.atomic
def consume_kiosk_challenge(*, code: str):
    """The kiosk's poll: the citizen's account once the challenge was approved (once only), else None."""
    challenge = (KioskChallenge.objects.select_for_update(of=("self",)).select_related("person__user")
                 .filter(code=code).first())
    if challenge is None or not challenge.approved_at or challenge.consumed_at \
            or challenge.expires_at < timezone.now() or not challenge_is_genuine(challenge):
        return None
    challenge.consumed_at = timezone.now()
    challenge.save(update_fields=["consumed_at"])
    return challenge.person.user


def mark_messages_read(*, person: Person, ids: list[int] | None = None) -> int:
    """Mark the person's own outbox messages (one-time codes, EID notices) read; all when ids is None."""
    messages = OutboxMessage.objects.filter(person=person, read_at=None)
    if ids is not None:
        messages = messages.filter(pk__in=ids)
    return messages.update(read_at=timezone.now())


def demo_otp_sender(person: Person, subject: str, body: str) -> None:
    """The demo's one-time-code sender (SMARTGOV_DEMO_MODE): the inbox as usual, and the code printed
    to the server log, because a demo has no SMS gateway and the inbox is only readable after sign-in.
    The sign-in page shows it too, marked as demo-only (eid/code.html). Never for production."""
    send_to_outbox(person, subject, body)
    log.warning("DEMO MODE one-time code for person %s: %s", person.pk, body)
