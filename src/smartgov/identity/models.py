"""The population and enterprise register (人口库 / 法人库)."""

from django.conf import settings
from django.core.exceptions import ValidationError
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
    nationality = models.CharField("国籍", max_length=3, default="CHN")  # ISO 3166-1 alpha-3
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
