"""Users, departments (the org tree) and roles."""

from django.contrib.auth.models import AbstractUser, UserManager
from django.db import models
from django.utils import timezone

from smartgov.core.fields import BlindIndexField, EncryptedField
from smartgov.core.models import TimeStampedModel
from smartgov.core.permissions import STAFF_ROLES, Role
from smartgov.core.validators import normalize_mobile, validate_id_number, validate_mobile, validate_uscc


class Level(models.TextChoices):
    NATIONAL = "national", "国家"
    PROVINCE = "province", "省"
    CITY = "city", "市"
    COUNTY = "county", "县"
    TOWNSHIP = "township", "乡"


LEVEL_ORDER = [Level.NATIONAL, Level.PROVINCE, Level.CITY, Level.COUNTY, Level.TOWNSHIP]


class Department(TimeStampedModel):
    """A government department or agency in the org tree (部门/机构)."""

    name = models.CharField("名称", max_length=100)
    code = models.CharField("部门编码", max_length=32, unique=True)
    parent = models.ForeignKey("self", verbose_name="上级部门", null=True, blank=True,
                               on_delete=models.PROTECT, related_name="children")
    level = models.CharField("行政层级", max_length=16, choices=Level.choices)
    uscc = models.CharField("统一社会信用代码", max_length=18, unique=True, null=True, blank=True,
                            validators=[validate_uscc])
    region_code = models.CharField("行政区划代码", max_length=6, blank=True)
    # Materialised path "/1/4/9/": "this department and everything below it" is one prefix match.
    path = models.CharField(max_length=255, editable=False, db_index=True)
    is_active = models.BooleanField("启用", default=True)

    class Meta:
        ordering = ["path"]
        verbose_name = "部门"
        verbose_name_plural = "部门"

    def __str__(self):
        return self.name

    @property
    def depth(self) -> int:
        return self.path.count("/") - 2

    def is_within(self, other: "Department") -> bool:
        return self.path.startswith(other.path)


def normalize_id(value: str) -> str:
    return value.strip().upper()


class SmartGovUserManager(UserManager):
    def create_superuser(self, *args, **kwargs):
        raise PermissionError(
            "SmartGov has no superuser (三员分立): create a sysadmin, secadmin and auditadmin with "
            "`smartgov demo` or through the services."
        )


class User(AbstractUser):
    """Every person who signs in: citizens, enterprise users and staff of every role."""

    name = models.CharField("姓名", max_length=100, blank=True)
    role = models.CharField("角色", max_length=16, choices=Role.choices, default=Role.CITIZEN)
    department = models.ForeignKey(Department, verbose_name="所属部门", null=True, blank=True,
                                   on_delete=models.PROTECT, related_name="users")
    id_number = EncryptedField("身份证号", purpose="id_number", blank=True, null=True,
                               normalize=normalize_id, validators=[validate_id_number])
    id_number_bidx = BlindIndexField(source="id_number")
    phone = EncryptedField("手机号", purpose="phone", blank=True, null=True, normalize=normalize_mobile,
                           validators=[validate_mobile])
    phone_bidx = BlindIndexField(source="phone")
    totp_secret = EncryptedField("TOTP密钥", purpose="totp", blank=True, null=True)
    totp_confirmed_at = models.DateTimeField("双因子绑定时间", null=True, blank=True)
    # RFC 6238 §5.2: a code is accepted once — the last time step used, so a later code must be newer
    totp_last_step = models.BigIntegerField("最近使用的动态口令时间步", null=True, blank=True, editable=False)
    failed_logins = models.PositiveIntegerField("连续失败次数", default=0)
    locked_until = models.DateTimeField("锁定至", null=True, blank=True)

    objects = SmartGovUserManager()

    class Meta:
        verbose_name = "用户"
        verbose_name_plural = "用户"
        constraints = [
            models.UniqueConstraint(fields=["id_number_bidx"], condition=~models.Q(id_number_bidx=""),
                                    name="accounts_user_unique_id_number"),
        ]

    def __str__(self):
        return self.name or self.username

    @property
    def is_staff_role(self) -> bool:
        return self.role in STAFF_ROLES

    @property
    def is_locked(self) -> bool:
        return self.locked_until is not None and self.locked_until > timezone.now()

    def save(self, *args, **kwargs):
        # Django admin access follows the role; nobody is a superuser (三员分立).
        self.is_staff = self.role in STAFF_ROLES
        self.is_superuser = False
        super().save(*args, **kwargs)


class DepartmentKey(TimeStampedModel):
    """A department's SM2 signing key (签章密钥): it signs what the department issues — EID credentials,
    e-licences, documents. The private key is SM4-encrypted at rest; retired keys stay for verification."""

    department = models.ForeignKey(Department, verbose_name="部门", on_delete=models.PROTECT,
                                   related_name="signing_keys")
    key_id = models.CharField("密钥ID", max_length=32, unique=True)
    public_pem = models.TextField("公钥(PEM)")
    private_pem = EncryptedField("私钥(PEM，加密存储)", purpose="department_sm2_key")
    active = models.BooleanField("在用", default=True)
    retired_at = models.DateTimeField("停用时间", null=True, blank=True)

    class Meta:
        verbose_name = "部门签名密钥"
        verbose_name_plural = "部门签名密钥"
        constraints = [models.UniqueConstraint(fields=["department"], condition=models.Q(active=True),
                                               name="accounts_one_active_key_per_department")]

    def __str__(self):
        return f"{self.department} {self.key_id}"


class Supervision(models.Model):
    """A supervision scope beside the org tree (监督指导关系): a department that oversees, for one domain,
    departments that are not below it — e.g. a region's 政务服务和数据管理局 supervises the service
    measures (一网通办指标) of every department in the region, though the tax bureau reports up its own
    line. It grants reading that domain's figures, nothing else."""

    supervisor = models.ForeignKey(Department, verbose_name="监督部门", on_delete=models.CASCADE,
                                   related_name="supervises")
    supervised = models.ForeignKey(Department, verbose_name="被监督部门", on_delete=models.CASCADE,
                                   related_name="supervised_by")
    domain = models.CharField("监督事项", max_length=40)  # e.g. "onestop.measures"
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = verbose_name_plural = "监督指导关系"
        constraints = [models.UniqueConstraint(fields=["supervisor", "supervised", "domain"],
                                               name="accounts_supervision_once")]

    def __str__(self):
        return f"{self.supervisor} → {self.supervised}（{self.domain}）"
