"""免申即享 entitlements, 秒批 rule sets and every automatic decision, with the rule version and the data
it rested on; 智能预审 results of uploaded materials."""

from django.conf import settings
from django.db import models
from django.db.models import Q

from smartgov.core.fields import EncryptedField
from smartgov.core.models import TimeStampedModel


class Entitlement(TimeStampedModel):
    """A benefit a department grants without an application (免申即享); its rule lives in versions."""

    code = models.CharField("编码", max_length=40, unique=True)
    name = models.CharField("名称", max_length=100)
    department = models.ForeignKey("accounts.Department", verbose_name="主管部门", on_delete=models.PROTECT,
                                   related_name="+")
    current_version = models.PositiveIntegerField("当前版本", default=0)  # 0: drafted, never published
    active = models.BooleanField("在用", default=True)

    class Meta:
        verbose_name = "免申即享事项"
        verbose_name_plural = "免申即享事项"

    def __str__(self):
        return self.name


class EntitlementVersion(models.Model):
    """A published rule; never changed. Decisions name the version they applied."""

    entitlement = models.ForeignKey(Entitlement, on_delete=models.CASCADE, related_name="versions")
    version = models.PositiveIntegerField("版本")
    definition = models.JSONField("规则")
    published_at = models.DateTimeField("发布时间", auto_now_add=True)
    published_by = models.CharField("发布人", max_length=150)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["entitlement", "version"], name="smart_entitlement_version")]

    def __str__(self):
        return f"{self.entitlement_id} v{self.version}"


class GrantStatus(models.TextChoices):
    OFFERED = "offered", "待确认"
    ACTIVE = "active", "享受中"
    DECLINED = "declined", "已放弃"
    ENDED = "ended", "已终止"


OPEN_GRANTS = (GrantStatus.OFFERED, GrantStatus.ACTIVE)


class Grant(TimeStampedModel):
    """One person's entitlement, decided by the platform (a case already decided): offered, then
    confirmed with bank details or declined; ended when a fact changes."""

    entitlement = models.ForeignKey(Entitlement, on_delete=models.PROTECT, related_name="grants")
    version = models.PositiveIntegerField("规则版本")
    department = models.ForeignKey("accounts.Department", on_delete=models.PROTECT, related_name="+")
    person = models.ForeignKey("identity.Person", verbose_name="享受人", on_delete=models.PROTECT, related_name="+")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                             related_name="+")
    status = models.CharField("状态", max_length=12, choices=GrantStatus.choices, default=GrantStatus.OFFERED)
    tier = models.CharField("档次", max_length=50, blank=True)
    amount = models.DecimalField("金额", max_digits=10, decimal_places=2, default=0)
    unit = models.CharField("单位", max_length=20, blank=True)
    starts_on = models.DateField("起始日期")
    next_check_on = models.DateField("下次复核")
    bank_name = models.CharField("开户银行", max_length=50, blank=True)
    bank_account = EncryptedField("银行账号", purpose="bank_account", blank=True, null=True)
    responded_at = models.DateTimeField("确认时间", null=True, blank=True)
    ended_on = models.DateField("终止日期", null=True, blank=True)
    end_reason = models.CharField("终止原因", max_length=200, blank=True)
    # the one-stop case the grant is (opened already decided; closed or withdrawn by the citizen's answer)
    application = models.OneToOneField("onestop.Application", verbose_name="办件", null=True, blank=True,
                                       on_delete=models.PROTECT, related_name="+")

    class Meta:
        verbose_name = "享受记录"
        verbose_name_plural = "享受记录"
        constraints = [models.UniqueConstraint(fields=["entitlement", "person"], condition=Q(status__in=OPEN_GRANTS),
                                               name="smart_one_open_grant")]
        indexes = [models.Index(fields=["status", "next_check_on"]), models.Index(fields=["department", "status"])]

    def __str__(self):
        return f"{self.entitlement.name}（{self.person.name}）"


class DecisionKind(models.TextChoices):
    GRANT = "grant", "免申即享认定"
    RECHECK = "recheck", "复核"
    END = "end", "终止"
    INSTANT = "instant", "秒批"


class Decision(models.Model):
    """One automatic decision: which rule (code and version), what it found, the data it used (values
    as the exchange returned them, masked where the agreement masks) and the exchange messages that
    carried them — enough to explain it to the citizen and to audit it."""

    kind = models.CharField(max_length=10, choices=DecisionKind.choices)
    department = models.ForeignKey("accounts.Department", on_delete=models.PROTECT, related_name="+")
    rule_code = models.CharField("规则", max_length=40)
    rule_version = models.PositiveIntegerField("规则版本")
    qualified = models.BooleanField("符合")
    failed = models.CharField("未满足的条件", max_length=200, blank=True)
    leaves = models.JSONField("逐条结果", default=list)
    facts = models.JSONField("所用数据", default=dict)
    messages = models.JSONField("数据交换调用", default=list)  # [{"source", "resource", "message_id", "found"}]
    subject = models.CharField("对象", max_length=100)  # "grant:<id>", "application:<number>"
    at = models.DateTimeField(auto_now_add=True, db_index=True)
    actor = models.CharField(max_length=150)

    class Meta:
        ordering = ["-at", "-id"]

    def __str__(self):
        return f"{self.rule_code} v{self.rule_version} {self.subject}"


class InstantRuleSet(TimeStampedModel):
    """The 秒批 rules of one service item: versioned with it; a share of approvals is sampled."""

    item = models.OneToOneField("onestop.ServiceItem", on_delete=models.PROTECT, related_name="+")
    department = models.ForeignKey("accounts.Department", on_delete=models.PROTECT, related_name="+")
    current_version = models.PositiveIntegerField("当前版本", default=0)
    active = models.BooleanField("在用", default=True)

    class Meta:
        verbose_name = "秒批规则"
        verbose_name_plural = "秒批规则"

    def __str__(self):
        return str(self.item_id)


class InstantRuleVersion(models.Model):
    ruleset = models.ForeignKey(InstantRuleSet, on_delete=models.CASCADE, related_name="versions")
    version = models.PositiveIntegerField("版本")
    item_version = models.PositiveIntegerField("事项版本")  # the item's version the rules were published with
    definition = models.JSONField("规则")
    published_at = models.DateTimeField(auto_now_add=True)
    published_by = models.CharField(max_length=150)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["ruleset", "version"], name="smart_instant_version")]

    def __str__(self):
        return f"{self.ruleset_id} v{self.version}"


class ReviewStatus(models.TextChoices):
    NONE = "", "未抽中"
    PENDING = "pending", "待抽查"
    CONFIRMED = "confirmed", "抽查无误"
    REVOKED = "revoked", "已撤销"


class InstantApproval(models.Model):
    """The 秒批 outcome of one application: approved by rule (and maybe sampled for 事后抽查) or sent
    to the normal workflow with the failed rule named."""

    application = models.OneToOneField("onestop.Application", on_delete=models.PROTECT, related_name="+")
    ruleset = models.ForeignKey(InstantRuleSet, on_delete=models.PROTECT, related_name="approvals")
    version = models.PositiveIntegerField()
    department = models.ForeignKey("accounts.Department", on_delete=models.PROTECT, related_name="+")
    decision = models.OneToOneField(Decision, on_delete=models.PROTECT, related_name="+")
    approved = models.BooleanField()
    failed_rule = models.CharField(max_length=200, blank=True)
    sampled = models.BooleanField(default=False)
    review_status = models.CharField(max_length=10, choices=ReviewStatus.choices, default=ReviewStatus.NONE,
                                     blank=True)
    reviewer = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                 related_name="+")
    reviewed_at = models.DateTimeField(null=True, blank=True)
    review_reason = models.CharField(max_length=500, blank=True)
    seconds = models.FloatField("提交到出证（秒）", null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["department", "review_status"])]

    def __str__(self):
        return f"秒批 {self.application_id}"


class Prereview(models.Model):
    """智能预审 of one uploaded file: what OCR read, what did not match the form and the register."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    stored = models.ForeignKey("onestop.StoredMaterial", null=True, blank=True, on_delete=models.SET_NULL,
                               related_name="+")
    kind = models.CharField("材料类型", max_length=20)
    fields = models.JSONField("识别字段", default=dict)
    lines = models.JSONField("识别文本", default=list)
    problems = models.JSONField("问题", default=list)  # [{"field", "message"}]
    engine = models.CharField(max_length=60)
    ms = models.FloatField(default=0)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self):
        return f"预审 {self.kind} {self.pk}"
