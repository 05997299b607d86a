"""The population and enterprise register (人口库 / 法人库)."""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator
from django.db import models

from smartgov.core.fields import BlindIndexField, EncryptedField
from smartgov.core.models import TimeStampedModel
from smartgov.core.validators import normalize_mobile, parse_id_number, validate_mobile, validate_uscc


def normalize_id(value: str) -> str:
    return parse_id_number(value).normalized


class Sex(models.TextChoices):
    MALE = "M", "男"
    FEMALE = "F", "女"


class Person(TimeStampedModel):
    """A natural person in the register (自然人). Sex and birth date are derived from the resident ID
    number (GB 11643) and must agree with it."""

    name = models.CharField("姓名", max_length=100)
    id_number = EncryptedField("公民身份号码", purpose="id_number", normalize=normalize_id)
    id_number_bidx = BlindIndexField(source="id_number")
    sex = models.CharField("性别", max_length=1, choices=Sex.choices, blank=True)  # derived in clean()
    birth_date = models.DateField("出生日期", blank=True)  # derived in clean()
    nationality = models.CharField("国籍", max_length=3, default="CHN",  # ISO 3166-1 alpha-3 (GB/T 2659)
                                   validators=[RegexValidator(r"^[A-Z]{3}$", "国籍应为3位大写字母代码（如CHN）",
                                                              code="invalid_nationality")])
    region_code = models.CharField("住址行政区划代码", max_length=6, blank=True)  # GB/T 2260
    address = models.CharField("住址", max_length=200, blank=True)
    phone = EncryptedField("手机号", purpose="phone", blank=True, null=True, normalize=normalize_mobile,
                           validators=[validate_mobile])
    phone_bidx = BlindIndexField(source="phone")
    department = models.ForeignKey("accounts.Department", verbose_name="登记机关", null=True, blank=True,
                                   on_delete=models.PROTECT, related_name="persons")
    user = models.OneToOneField(settings.AUTH_USER_MODEL, verbose_name="平台账号", null=True, blank=True,
                                on_delete=models.SET_NULL, related_name="person")

    class Meta:
        verbose_name = "自然人"
        verbose_name_plural = "自然人"
        constraints = [models.UniqueConstraint(fields=["id_number_bidx"], name="identity_person_unique_id")]

    def __str__(self):
        return self.name

    def clean(self):
        super().clean()
        if not self.id_number:
            return
        try:
            parsed = parse_id_number(self.id_number)
        except ValidationError as exc:
            raise ValidationError({"id_number": exc.messages}) from exc
        errors = {}
        if self.sex and self.sex != parsed.sex:
            errors["sex"] = "性别与身份证号码不符"
        if self.birth_date and self.birth_date != parsed.birth_date:
            errors["birth_date"] = "出生日期与身份证号码不符"
        if self.region_code and not (len(self.region_code) == 6 and self.region_code.isdigit()):
            errors["region_code"] = "行政区划代码应为6位数字（GB/T 2260）"
        if errors:
            raise ValidationError(errors)
        self.sex, self.birth_date = parsed.sex, parsed.birth_date


class EnterpriseStatus(models.TextChoices):
    ACTIVE = "active", "存续"
    CANCELLED = "cancelled", "注销"
    REVOKED = "revoked", "吊销"


class Enterprise(TimeStampedModel):
    """A legal person in the register (法人), identified by its 统一社会信用代码 (GB 32100)."""

    name = models.CharField("名称", max_length=200)
    uscc = models.CharField("统一社会信用代码", max_length=18, unique=True, validators=[validate_uscc])
    legal_representative = models.ForeignKey(Person, verbose_name="法定代表人", null=True, blank=True,
                                             on_delete=models.PROTECT, related_name="represents")
    region_code = models.CharField("住所行政区划代码", max_length=6, blank=True)
    address = models.CharField("住所", max_length=200, blank=True)
    status = models.CharField("状态", max_length=16, choices=EnterpriseStatus.choices,
                              default=EnterpriseStatus.ACTIVE)
    established_on = models.DateField("成立日期", null=True, blank=True)
    department = models.ForeignKey("accounts.Department", verbose_name="登记机关", null=True, blank=True,
                                   on_delete=models.PROTECT, related_name="enterprises")

    class Meta:
        verbose_name = "法人"
        verbose_name_plural = "法人"

    def __str__(self):
        return self.name


class ImportKind(models.TextChoices):
    PERSONS = "persons", "自然人"
    ENTERPRISES = "enterprises", "法人"


class ImportRun(models.Model):
    """One import of a register file (批量导入): what was read, what was written, and the row-by-row
    errors for the downloadable report. The file itself is not kept, only its SM3 hash."""

    kind = models.CharField("类型", max_length=16, choices=ImportKind.choices)
    file_name = models.CharField("文件名", max_length=255)
    file_sm3 = models.CharField("文件SM3", max_length=64)
    valid_only = models.BooleanField("仅导入有效行", default=False)
    total_rows = models.PositiveIntegerField("数据行数", default=0)
    imported = models.PositiveIntegerField("已导入", default=0)
    rejected = models.PositiveIntegerField("有错误的行", default=0)
    # [[row, column, message, value], …] in file order; at most MAX_STORED_ERRORS (errors_truncated says so)
    errors = models.JSONField("错误明细", default=list, blank=True)
    errors_truncated = models.BooleanField(default=False)
    department = models.ForeignKey("accounts.Department", verbose_name="登记机关", null=True, blank=True,
                                   on_delete=models.PROTECT, related_name="+")
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name="操作人", null=True, blank=True,
                              on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField("导入时间", auto_now_add=True)

    MAX_STORED_ERRORS = 20_000

    class Meta:
        verbose_name = "导入记录"
        verbose_name_plural = "导入记录"
        ordering = ["-created_at", "-id"]

    def __str__(self):
        return f"{self.get_kind_display()} {self.file_name}"

    @property
    def committed(self) -> bool:
        """Whether any row was written (all-or-nothing imports with errors write none)."""
        return self.imported > 0
