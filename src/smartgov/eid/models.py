"""EID credentials, partners (relying applications), tokens, VIDs, consent, verification records and the
one-time-code outbox (电子身份 / 身份认证服务)."""

from django.db import models
from django.utils import timezone

from smartgov.core.models import TimeStampedModel


class CredentialStatus(models.TextChoices):
    VALID = "valid", "有效"
    REVOKED = "revoked", "已吊销"
    SUPERSEDED = "superseded", "已换发"


class EidCredential(TimeStampedModel):
    """A person's EID (电子身份标识) bound to a credential the issuing authority signed with SM2 over
    canonical JSON. The QR code carries the signed payload, so it can be checked offline."""

    eid = models.CharField("EID", max_length=20, unique=True)
    person = models.ForeignKey("identity.Person", verbose_name="持有人", on_delete=models.PROTECT,
                               related_name="eid_credentials")
    issuer = models.ForeignKey("accounts.Department", verbose_name="签发机关", on_delete=models.PROTECT)
    key_id = models.CharField("签名密钥", max_length=32)
    payload = models.TextField("签名内容(规范JSON)")
    signature = models.TextField("SM2签名(DER, hex)")
    photo_hash = models.CharField("照片SM3", max_length=64, blank=True)
    valid_from = models.DateField("有效期起")
    valid_until = models.DateField("有效期止")
    status = models.CharField("状态", max_length=16, choices=CredentialStatus.choices, default=CredentialStatus.VALID)
    revoked_at = models.DateTimeField("吊销时间", null=True, blank=True)
    revoke_reason = models.CharField("吊销原因", max_length=200, blank=True)

    class Meta:
        verbose_name = "EID凭证"
        verbose_name_plural = "EID凭证"
        constraints = [models.UniqueConstraint(fields=["person"], condition=models.Q(status="valid"),
                                               name="eid_one_valid_credential_per_person")]

    def __str__(self):
        return self.eid


class Partner(TimeStampedModel):
    """A relying application (依赖方) that verifies people through the platform, with its own API key."""

    code = models.SlugField("编码", max_length=40, unique=True)
    name = models.CharField("名称", max_length=100)
    department = models.ForeignKey("accounts.Department", verbose_name="所属部门", null=True, blank=True,
                                   on_delete=models.PROTECT)
    key_prefix = models.CharField("密钥前缀", max_length=8, db_index=True)
    key_hash = models.CharField("密钥HMAC-SM3", max_length=64)
    allowed_attributes = models.JSONField("可申请的e-KYC属性", default=list)
    active = models.BooleanField("启用", default=True)

    class Meta:
        verbose_name = "依赖方应用"
        verbose_name_plural = "依赖方应用"

    def __str__(self):
        return self.name


class VirtualId(TimeStampedModel):
    """A short-lived virtual ID (VID) a citizen gives instead of the ID number, revocable at any time."""

    vid = models.CharField("VID", max_length=16, unique=True)
    person = models.ForeignKey("identity.Person", on_delete=models.CASCADE, related_name="vids")
    expires_at = models.DateTimeField("过期时间")
    revoked_at = models.DateTimeField("撤销时间", null=True, blank=True)

    class Meta:
        verbose_name = "虚拟身份号(VID)"
        verbose_name_plural = "虚拟身份号(VID)"

    def __str__(self):
        return self.vid

    @property
    def usable(self) -> bool:
        return self.revoked_at is None and self.expires_at > timezone.now()


class Consent(TimeStampedModel):
    """What a person agreed a partner may receive in e-KYC (授权共享的属性)."""

    person = models.ForeignKey("identity.Person", on_delete=models.CASCADE, related_name="consents")
    partner = models.ForeignKey(Partner, on_delete=models.CASCADE, related_name="consents")
    attributes = models.JSONField("授权属性", default=list)
    revoked_at = models.DateTimeField("撤回时间", null=True, blank=True)

    class Meta:
        verbose_name = "授权"
        verbose_name_plural = "授权"
        constraints = [models.UniqueConstraint(fields=["person", "partner"], condition=models.Q(revoked_at=None),
                                               name="eid_one_live_consent")]

    def __str__(self):
        return f"{self.partner} · 授权 {self.person_id}"


class VerificationRecord(models.Model):
    """Every verification a partner asked for: who, why, which factors, the result (核验记录)."""

    partner = models.ForeignKey(Partner, on_delete=models.PROTECT, related_name="verifications")
    person = models.ForeignKey("identity.Person", null=True, blank=True, on_delete=models.SET_NULL,
                               related_name="verifications")
    purpose = models.CharField("用途", max_length=100)
    factors = models.JSONField("认证因子", default=list)
    result = models.BooleanField("结果")
    reason = models.CharField("原因代码", max_length=40, blank=True)
    at = models.DateTimeField("时间", default=timezone.now, db_index=True)

    class Meta:
        ordering = ["-at"]
        verbose_name = "核验记录"
        verbose_name_plural = "核验记录"

    def __str__(self):
        return f"{self.partner_id}:{self.purpose}:{self.result}"


class OneTimeCode(models.Model):
    """A one-time code sent to a person (login or partner authentication); only its HMAC is kept."""

    person = models.ForeignKey("identity.Person", on_delete=models.CASCADE, related_name="one_time_codes")
    purpose = models.CharField("用途", max_length=40)
    partner = models.ForeignKey(Partner, null=True, blank=True, on_delete=models.CASCADE)
    transaction_id = models.CharField(max_length=32, unique=True)
    code_hash = models.CharField(max_length=64)
    expires_at = models.DateTimeField()
    attempts = models.PositiveSmallIntegerField(default=0)
    used_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = "一次性验证码"
        verbose_name_plural = "一次性验证码"

    def __str__(self):
        return self.transaction_id


class OutboxMessage(models.Model):
    """A message to a person, shown in their portal inbox (the default one-time-code sender)."""

    person = models.ForeignKey("identity.Person", on_delete=models.CASCADE, related_name="outbox")
    subject = models.CharField("标题", max_length=100)
    body = models.TextField("内容")
    created_at = models.DateTimeField(default=timezone.now)
    read_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = "站内消息"
        verbose_name_plural = "站内消息"

    def __str__(self):
        return self.subject


class KioskChallenge(models.Model):
    """A kiosk sign-in waiting for the citizen's answer: the kiosk read their EID QR; the EID authority
    signed this challenge; the citizen approves it on their own signed-in device (自助终端扫码登录)."""

    code = models.CharField("挑战码", max_length=8, unique=True)
    person = models.ForeignKey("identity.Person", on_delete=models.CASCADE, related_name="kiosk_challenges")
    key_id = models.CharField(max_length=32)
    signature = models.TextField("SM2签名(DER, hex)")
    expires_at = models.DateTimeField()
    approved_at = models.DateTimeField(null=True, blank=True)
    consumed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = "自助终端登录挑战"
        verbose_name_plural = "自助终端登录挑战"

    def __str__(self):
        return self.code

    def message(self) -> bytes:
        return f"smartgov-kiosk-login:v1:{self.code}:{self.person_id}:{self.expires_at.isoformat()}".encode()
