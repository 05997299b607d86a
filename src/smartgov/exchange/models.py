"""政务数据共享交换: the resource catalogue (versioned), sharing agreements, consumer keys, the signed
message log with its batch timestamps, events with their outbox deliveries, and the demo certificate
records that the small provider adapters of other departments serve."""

from django.db import models

from smartgov.core.fields import BlindIndexField, EncryptedField
from smartgov.core.models import TimeStampedModel
from smartgov.core.validators import validate_id_number

from .catalogue import ResourceContent


class ShareType(models.TextChoices):
    """共享类型 (《政务信息资源共享管理暂行办法》 第九条)."""

    UNCONDITIONAL = "unconditional", "无条件共享"
    CONDITIONAL = "conditional", "有条件共享"
    NONE = "none", "不予共享"


class Resource(TimeStampedModel):
    """政务信息资源 (one row of the catalogue); its metadata lives in versions."""

    code = models.CharField("资源代码", max_length=40, unique=True)
    name = models.CharField("资源名称", max_length=200)
    department = models.ForeignKey("accounts.Department", on_delete=models.PROTECT, related_name="exchange_resources",
                                   verbose_name="提供方")
    share_type = models.CharField("共享类型", max_length=16, choices=ShareType.choices)
    current_version = models.PositiveIntegerField("当前版本", default=1)
    active = models.BooleanField("在用", default=True)

    class Meta:
        verbose_name = verbose_name_plural = "信息资源"
        ordering = ["code"]

    def __str__(self):
        return f"{self.code} {self.name}"


class ResourceVersion(models.Model):
    """One published version of a resource's metadata (``catalogue.ResourceContent``), never changed."""

    resource = models.ForeignKey(Resource, on_delete=models.CASCADE, related_name="versions")
    version = models.PositiveIntegerField("版本")
    content = models.JSONField("元数据")
    created_at = models.DateTimeField("发布时间", auto_now_add=True)
    created_by = models.CharField("发布人", max_length=150)

    class Meta:
        verbose_name = verbose_name_plural = "资源版本"
        constraints = [models.UniqueConstraint(fields=["resource", "version"], name="exchange_resource_version")]

    def __str__(self):
        return f"{self.resource_id} v{self.version}"

    @property
    def parsed(self):
        cached = getattr(self, "_parsed", None)
        if cached is None:
            cached = self._parsed = ResourceContent.model_validate(self.content)
        return cached


class AgreementStatus(models.TextChoices):
    PENDING = "pending", "待审批"
    ACTIVE = "active", "已授权"
    REFUSED = "refused", "已拒绝"
    REVOKED = "revoked", "已撤销"


class Agreement(TimeStampedModel):
    """共享申请与授权: what a consumer department may read of one resource, for what, until when."""

    resource = models.ForeignKey(Resource, on_delete=models.PROTECT, related_name="agreements")
    consumer = models.ForeignKey("accounts.Department", on_delete=models.PROTECT, related_name="exchange_agreements",
                                 verbose_name="使用方")
    status = models.CharField("状态", max_length=16, choices=AgreementStatus.choices, default=AgreementStatus.PENDING)
    purpose = models.CharField("用途", max_length=200)
    legal_basis = models.CharField("依据", max_length=300)
    requested_fields = models.JSONField("申请字段", default=list)
    fields = models.JSONField("授权字段", default=list)
    clear_fields = models.JSONField("明文个人字段", default=list)  # personal fields returned unmasked
    keep_content = models.BooleanField("留存内容", default=False)  # message log keeps the content, not only digests
    rate_limit = models.PositiveIntegerField("每分钟调用上限", default=60)
    valid_from = models.DateField("起始日期")
    valid_until = models.DateField("截止日期")
    applied_by = models.CharField("申请人", max_length=150)
    decide_by = models.DateField("审批时限", null=True, blank=True)  # working days from the request (core calendar)
    decided_by = models.CharField("审批人", max_length=150, blank=True)
    decided_at = models.DateTimeField("审批时间", null=True, blank=True)
    reason = models.CharField("意见/理由", max_length=500, blank=True)
    revoked_at = models.DateTimeField("撤销时间", null=True, blank=True)

    class Meta:
        verbose_name = verbose_name_plural = "共享协议"
        ordering = ["-pk"]
        indexes = [models.Index(fields=["consumer", "resource", "status"], name="exchange_agreement_lookup")]

    def __str__(self):
        return f"{self.consumer} → {self.resource.code}"

    def effective_status(self, today) -> str:
        if self.status == AgreementStatus.ACTIVE and today > self.valid_until:
            return "expired"
        return self.status


class RateWindow(models.Model):
    """Calls of one agreement in one minute (fixed window), counted with one conditional UPDATE."""

    agreement = models.ForeignKey(Agreement, on_delete=models.CASCADE, related_name="+")
    minute = models.BigIntegerField()
    count = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["agreement", "minute"], name="exchange_rate_window")]

    def __str__(self):
        return f"{self.agreement_id}@{self.minute}: {self.count}"


class ConsumerKey(models.Model):
    """An API key a consumer department's system calls the exchange with (``X-Exchange-Key``)."""

    department = models.ForeignKey("accounts.Department", on_delete=models.PROTECT, related_name="+")
    prefix = models.CharField(max_length=16, unique=True)
    key_hash = models.CharField(max_length=64)
    label = models.CharField("说明", max_length=100)
    active = models.BooleanField(default=True)
    created_by = models.CharField(max_length=150)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = verbose_name_plural = "调用密钥"

    def __str__(self):
        return f"{self.prefix} {self.label}"


class Outcome(models.TextChoices):
    OK = "ok", "成功"
    NOT_FOUND = "not_found", "无记录"
    REFUSED = "refused", "拒绝"
    PROVIDER_ERROR = "provider_error", "提供方错误"
    PROVIDER_TIMEOUT = "provider_timeout", "提供方超时"


class Batch(models.Model):
    """批量时间戳: the Merkle root (RFC 6962, SM3) over the leaves of consecutive messages, SM2-signed
    with the time by the platform."""

    first_id = models.BigIntegerField()
    last_id = models.BigIntegerField()
    size = models.PositiveIntegerField()
    root = models.CharField(max_length=64)
    signed_at = models.DateTimeField()
    key_id = models.CharField(max_length=64)
    signature = models.TextField()

    class Meta:
        verbose_name = verbose_name_plural = "时间戳批次"

    def __str__(self):
        return f"batch {self.pk} ({self.size})"


class Message(models.Model):
    """消息日志: one mediated call. Digests and platform signatures always; the content only when the
    agreement allows it (encrypted at rest)."""

    message_id = models.CharField(max_length=36, unique=True)
    at = models.DateTimeField(db_index=True)
    resource = models.ForeignKey(Resource, null=True, on_delete=models.PROTECT, related_name="+")
    resource_version = models.PositiveIntegerField(default=0)
    agreement = models.ForeignKey(Agreement, null=True, on_delete=models.PROTECT, related_name="+")
    consumer = models.ForeignKey("accounts.Department", null=True, on_delete=models.PROTECT, related_name="+")
    provider = models.ForeignKey("accounts.Department", null=True, on_delete=models.PROTECT, related_name="+")
    caller = models.CharField(max_length=150)
    purpose = models.CharField(max_length=200, blank=True)
    outcome = models.CharField(max_length=20, choices=Outcome.choices)
    reason = models.CharField(max_length=40, blank=True)  # error code of a refused or failed call
    http_status = models.PositiveSmallIntegerField()
    latency_ms = models.FloatField(default=0)
    request_sm3 = models.CharField(max_length=64, blank=True)
    response_sm3 = models.CharField(max_length=64, blank=True)
    request_sig = models.CharField(max_length=200, blank=True)
    response_sig = models.CharField(max_length=200, blank=True)
    key_id = models.CharField(max_length=64, blank=True)
    content = EncryptedField(purpose="exchange_content", null=True, blank=True)
    signed = models.BooleanField(default=False)
    batch = models.ForeignKey(Batch, null=True, blank=True, on_delete=models.PROTECT, related_name="messages")
    leaf_index = models.PositiveIntegerField(null=True, blank=True)

    class Meta:
        verbose_name = verbose_name_plural = "消息日志"
        indexes = [models.Index(fields=["signed", "batch"], name="exchange_message_unbatched"),
                   models.Index(fields=["resource", "at"], name="exchange_message_resource")]

    def __str__(self):
        return self.message_id


class Subscription(TimeStampedModel):
    """订阅: a consumer department receives a resource's change events by webhook or in-platform handler."""

    resource = models.ForeignKey(Resource, on_delete=models.PROTECT, related_name="subscriptions")
    consumer = models.ForeignKey("accounts.Department", on_delete=models.PROTECT, related_name="+")
    url = models.URLField("回调地址", blank=True)
    handler = models.CharField("平台内处理器", max_length=100, blank=True)
    secret = EncryptedField(purpose="exchange_webhook", blank=True, default="")
    active = models.BooleanField(default=True)

    class Meta:
        verbose_name = verbose_name_plural = "事件订阅"

    def __str__(self):
        return f"{self.consumer_id}→{self.resource_id}"


class Event(models.Model):
    """A change event (the outbox): written in the provider's transaction; its id is the offset.

    A subject that is a 公民身份号码 is personal data: it is kept SM4-encrypted in ``subject_id_number``
    with its blind index (the same key as every other ID number's index, so it matches the register's),
    and ``subject`` holds only its masked form (``110105********0021``). Any other subject (a USCC, a
    traceability code) is kept in ``subject`` as given. Read it through ``clear_subject``."""

    event_id = models.CharField(max_length=36, unique=True)
    resource = models.ForeignKey(Resource, on_delete=models.PROTECT, related_name="events")
    event_type = models.CharField(max_length=60)
    subject = models.CharField(max_length=100)  # as shown: masked when the subject is an ID number
    subject_id_number = EncryptedField("主体身份号码", purpose="id_number", normalize=str.upper, null=True, blank=True)
    subject_id_number_bidx = BlindIndexField(source="subject_id_number", db_default="")
    data = models.JSONField(default=dict)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = verbose_name_plural = "变更事件"

    def __str__(self):
        return f"{self.event_type} {self.event_id}"

    @property
    def clear_subject(self) -> str:
        return self.subject_id_number or self.subject

    @property
    def personal_subject(self) -> bool:
        return bool(self.subject_id_number)


class DeliveryStatus(models.TextChoices):
    PENDING = "pending", "待投递"
    DELIVERED = "delivered", "已投递"
    DEAD = "dead", "死信"


class Delivery(models.Model):
    event = models.ForeignKey(Event, on_delete=models.PROTECT, related_name="deliveries")
    subscription = models.ForeignKey(Subscription, on_delete=models.PROTECT, related_name="deliveries")
    status = models.CharField(max_length=12, choices=DeliveryStatus.choices, default=DeliveryStatus.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField()
    lease_until = models.DateTimeField(null=True, blank=True)
    last_error = models.CharField(max_length=300, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = verbose_name_plural = "事件投递"
        constraints = [models.UniqueConstraint(fields=["event", "subscription"], name="exchange_delivery_once")]
        indexes = [models.Index(fields=["status", "next_attempt_at"], name="exchange_delivery_due")]

    def __str__(self):
        return f"{self.event_id}→{self.subscription_id}"


class CertificateKind(models.TextChoices):
    NO_CRIMINAL_RECORD = "no_criminal_record", "无犯罪记录证明"
    HOUSEHOLD = "household", "户籍证明"
    SOCIAL_INSURANCE = "social_insurance", "社保缴费证明"
    TAX_PAYMENT = "tax_payment", "纳税证明"
    REAL_ESTATE = "real_estate", "不动产登记证明"
    MARRIAGE = "marriage", "婚姻登记证明"
    BIRTH = "birth", "出生医学证明"
    MEDICAL_INSURANCE = "medical_insurance", "医保参保证明"
    HOUSING_FUND = "housing_fund", "住房公积金缴存证明"


class CertificateRecord(models.Model):
    """What a department's own system holds for one person (demo data behind the certificate adapters)."""

    kind = models.CharField(max_length=24, choices=CertificateKind.choices)
    id_number = EncryptedField("身份证号", purpose="id_number", normalize=str.upper, validators=[validate_id_number])
    id_number_bidx = BlindIndexField(source="id_number")
    data = models.JSONField(default=dict)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = verbose_name_plural = "部门证明数据"
        constraints = [models.UniqueConstraint(fields=["kind", "id_number_bidx"], name="exchange_certificate_once")]

    def __str__(self):
        return self.get_kind_display()
