"""Electronic licences (电子证照, GB/T 36901–36906): licence types, issued licences, sharing accesses."""

import datetime

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils import timezone

from smartgov.core.models import TimeStampedModel

from .identifiers import TYPE_CODE_RE


class HolderKind(models.TextChoices):
    PERSON = "person", "自然人"
    ENTERPRISE = "enterprise", "法人"


class LicenceStatus(models.TextChoices):
    VALID = "valid", "有效"
    CANCELLED = "cancelled", "注销"
    REVOKED = "revoked", "吊销"
    EXPIRED = "expired", "过期"


class TrustLevel(models.TextChoices):
    """可信等级, after 国办函〔2016〕108号 (《“互联网+政务服务”技术体系建设指南》)."""

    A = "A", "A级：发证机关直接签发的电子证照"
    B = "B", "B级：工作人员核验原件后归集"
    C = "C", "C级：上传的证照复印件/扫描件"
    D = "D", "D级：申请人自行声明"


FIELD_KEY_MAX = 40
FIELD_VALUE_MAX = 500


def validate_field_template(template) -> None:
    """A template is a list of ``{"key", "label", "required"}`` with unique, simple keys."""
    if not isinstance(template, list):
        raise ValidationError("字段模板应为列表")
    seen = set()
    for i, item in enumerate(template):
        if not isinstance(item, dict) or set(item) - {"key", "label", "required"}:
            raise ValidationError(f"第{i + 1}个字段应为 {{key, label, required}}")
        key, label = item.get("key"), item.get("label")
        if not isinstance(key, str) or not key.isidentifier() or not key.isascii() or len(key) > FIELD_KEY_MAX:
            raise ValidationError(f"第{i + 1}个字段的key应为不超过{FIELD_KEY_MAX}位的英文标识符")
        if not isinstance(label, str) or not label.strip() or len(label) > 100:
            raise ValidationError(f"第{i + 1}个字段缺少名称(label)")
        if not isinstance(item.get("required", False), bool):
            raise ValidationError(f"第{i + 1}个字段的required应为true或false")
        if key in seen:
            raise ValidationError(f"字段key重复：{key}")
        seen.add(key)


def validate_type_code(value: str) -> None:
    if not TYPE_CODE_RE.match(value or ""):
        raise ValidationError("证照类型代码应为2–20位数字或大写字母")


class LicenceType(TimeStampedModel):
    """A kind of licence a department issues (证照类型): 营业执照, 食品经营许可证, 出生医学证明 …"""

    name = models.CharField("证照名称", max_length=100)
    code = models.CharField("证照类型代码", max_length=20, unique=True, validators=[validate_type_code])
    department = models.ForeignKey("accounts.Department", verbose_name="发证部门", on_delete=models.PROTECT,
                                   related_name="licence_types")
    holder_kind = models.CharField("持证主体", max_length=16, choices=HolderKind.choices)
    validity_years = models.PositiveSmallIntegerField("有效期（年）", null=True, blank=True,
                                                      help_text="留空表示长期有效")
    field_template = models.JSONField("照面字段模板", default=list, blank=True,
                                      validators=[validate_field_template])
    active = models.BooleanField("启用", default=True)

    class Meta:
        ordering = ["code"]
        verbose_name = "证照类型"
        verbose_name_plural = "证照类型"
        constraints = [models.CheckConstraint(condition=Q(validity_years__isnull=True) | Q(validity_years__gt=0),
                                              name="licences_type_validity_positive")]

    def __str__(self):
        return f"{self.name}（{self.code}）"

    def valid_until_for(self, valid_from: datetime.date) -> datetime.date | None:
        """Last day of validity: N years from ``valid_from``, less one day (29 Feb → 28 Feb)."""
        if not self.validity_years:
            return None
        year = valid_from.year + self.validity_years
        try:
            end = valid_from.replace(year=year)
        except ValueError:
            end = datetime.date(year, 3, 1)
        return end - datetime.timedelta(days=1)


class Licence(TimeStampedModel):
    """One issued electronic licence (电子证照). Created and changed only by the services."""

    identifier = models.CharField("证照标识", max_length=96, unique=True)
    licence_type = models.ForeignKey(LicenceType, verbose_name="证照类型", on_delete=models.PROTECT,
                                     related_name="licences")
    holder_person = models.ForeignKey("identity.Person", verbose_name="持证人（自然人）", null=True, blank=True,
                                      on_delete=models.PROTECT, related_name="licences")
    holder_enterprise = models.ForeignKey("identity.Enterprise", verbose_name="持证主体（法人）", null=True,
                                          blank=True, on_delete=models.PROTECT, related_name="licences")
    holder_name = models.CharField("持证主体名称", max_length=200)
    holder_public_id = models.CharField("持证主体代码（脱敏）", max_length=32)
    department = models.ForeignKey("accounts.Department", verbose_name="发证部门", on_delete=models.PROTECT,
                                   related_name="licences")
    issuer_uscc = models.CharField("发证机关统一社会信用代码", max_length=18)
    serial = models.PositiveIntegerField("顺序号")
    version = models.PositiveSmallIntegerField("版本号", default=1)
    issued_on = models.DateField("签发日期")
    valid_from = models.DateField("有效期起")
    valid_until = models.DateField("有效期止", null=True, blank=True)
    status = models.CharField("状态", max_length=16, choices=LicenceStatus.choices, default=LicenceStatus.VALID)
    data = models.JSONField("照面信息", default=dict, blank=True)
    trust_level = models.CharField("可信等级", max_length=1, choices=TrustLevel.choices, default=TrustLevel.A)
    signed_content = models.TextField("签名原文（规范化JSON）")
    signature = models.TextField("SM2签名（DER，十六进制）")
    key_id = models.CharField("签名密钥ID", max_length=32)
    issued_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name="签发人", null=True, blank=True,
                                  on_delete=models.PROTECT, related_name="+")
    revocation_reason = models.CharField("注销/吊销原因", max_length=500, blank=True)
    revoked_at = models.DateTimeField("注销/吊销时间", null=True, blank=True)
    revoked_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name="注销/吊销人", null=True, blank=True,
                                   on_delete=models.PROTECT, related_name="+")

    class Meta:
        ordering = ["-issued_on", "-pk"]
        verbose_name = "电子证照"
        verbose_name_plural = "电子证照"
        constraints = [
            models.CheckConstraint(
                condition=(Q(holder_person__isnull=False, holder_enterprise__isnull=True)
                           | Q(holder_person__isnull=True, holder_enterprise__isnull=False)),
                name="licences_licence_exactly_one_holder"),
            models.CheckConstraint(condition=Q(valid_until__isnull=True) | Q(valid_until__gte=models.F("valid_from")),
                                   name="licences_licence_dates_ordered"),
            models.UniqueConstraint(fields=["licence_type", "department", "serial", "version"],
                                    name="licences_licence_unique_serial"),
        ]
        indexes = [models.Index(fields=["holder_person", "licence_type"]),
                   models.Index(fields=["holder_enterprise", "licence_type"])]

    def __str__(self):
        return self.identifier

    @property
    def holder(self):
        return self.holder_person or self.holder_enterprise

    def effective_status(self, today: datetime.date | None = None) -> str:
        """The stored status, or 过期 when a valid licence is past its last day."""
        today = today or timezone.localdate()
        if self.status == LicenceStatus.VALID and self.valid_until is not None and today > self.valid_until:
            return LicenceStatus.EXPIRED
        return self.status

    @property
    def effective_status_label(self) -> str:
        return LicenceStatus(self.effective_status()).label


class AccessResult(models.TextChoices):
    FOUND = "found", "已返回证照"
    NONE = "none", "无有效证照"


class LicenceAccess(models.Model):
    """One use of the department sharing interface (证照共享调用记录). Append-only."""

    at = models.DateTimeField("调用时间", default=timezone.now, db_index=True)
    department = models.ForeignKey("accounts.Department", verbose_name="调用部门", on_delete=models.PROTECT,
                                   related_name="+")
    officer = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name="调用人", on_delete=models.PROTECT,
                                related_name="+")
    holder_person = models.ForeignKey("identity.Person", verbose_name="持证人（自然人）", null=True, blank=True,
                                      on_delete=models.PROTECT, related_name="+")
    holder_enterprise = models.ForeignKey("identity.Enterprise", verbose_name="持证主体（法人）", null=True,
                                          blank=True, on_delete=models.PROTECT, related_name="+")
    licence_type = models.ForeignKey(LicenceType, verbose_name="证照类型", on_delete=models.PROTECT, related_name="+")
    purpose = models.CharField("用途", max_length=200)
    legal_basis = models.CharField("法律依据", max_length=300, blank=True)
    consent_reference = models.CharField("授权同意凭证", max_length=100, blank=True)
    result = models.CharField("结果", max_length=16, choices=AccessResult.choices)
    licence_count = models.PositiveIntegerField("返回证照数", default=0)

    class Meta:
        ordering = ["-at"]
        verbose_name = "证照共享调用记录"
        verbose_name_plural = "证照共享调用记录"
        constraints = [
            models.CheckConstraint(
                condition=(Q(holder_person__isnull=False, holder_enterprise__isnull=True)
                           | Q(holder_person__isnull=True, holder_enterprise__isnull=False)),
                name="licences_access_exactly_one_holder"),
            models.CheckConstraint(condition=~Q(legal_basis="") | ~Q(consent_reference=""),
                                   name="licences_access_has_basis"),
        ]

    def __str__(self):
        return f"{self.department} · {self.licence_type} · {self.at:%Y-%m-%d %H:%M}"
