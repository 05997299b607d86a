"""一网通办: the service catalogue (items, versions, life-event bundles), applications (办件) with
their materials, steps and notices, the applicant's material library, evaluations (好差评) and
rectification tickets, and the portal inbox."""

import orjson
from django.conf import settings
from django.db import models
from django.db.models import Q

from smartgov.core.fields import EncryptedField
from smartgov.core.models import TimeStampedModel

from .catalogue import ItemContent


class ItemType(models.TextChoices):
    """事项类型 (the two-letter prefix of the basic code)."""

    XK = "XK", "行政许可"
    QR = "QR", "行政确认"
    JF = "JF", "行政给付"
    JL = "JL", "行政奖励"
    CJ = "CJ", "行政裁决"
    GG = "GG", "公共服务"
    QT = "QT", "其他行政权力"


class ServiceItem(TimeStampedModel):
    """政务服务事项 (one row of the implementation list, 实施清单); its content lives in versions."""

    basic_code = models.CharField("基本编码", max_length=10, db_index=True)
    implementation_code = models.CharField("实施编码", max_length=30, unique=True)
    name = models.CharField("事项名称", max_length=200)
    item_type = models.CharField("事项类型", max_length=2, choices=ItemType.choices)
    department = models.ForeignKey("accounts.Department", on_delete=models.PROTECT, related_name="service_items",
                                   verbose_name="实施机构")
    current_version = models.PositiveIntegerField("当前版本", default=1)
    active = models.BooleanField("在用", default=True)

    class Meta:
        verbose_name = verbose_name_plural = "政务服务事项"
        ordering = ["department_id", "basic_code"]

    def __str__(self):
        return self.name


class ItemVersion(models.Model):
    """One published version of an item's content (``catalogue.ItemContent``), never changed."""

    item = models.ForeignKey(ServiceItem, on_delete=models.CASCADE, related_name="versions", verbose_name="事项")
    version = models.PositiveIntegerField("版本")
    content = models.JSONField("要素")
    created_at = models.DateTimeField("发布时间", auto_now_add=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                   related_name="+", verbose_name="发布人")

    class Meta:
        verbose_name = verbose_name_plural = "事项版本"
        constraints = [models.UniqueConstraint(fields=["item", "version"], name="onestop_item_version")]

    def __str__(self):
        return f"{self.item.name} v{self.version}"

    @property
    def parsed(self):
        cached = getattr(self, "_parsed", None)
        if cached is None:
            cached = self._parsed = ItemContent.model_validate(self.content)
        return cached


class Bundle(TimeStampedModel):
    """一件事: several items asked in one guided form and submitted once."""

    code = models.CharField("代码", max_length=20, unique=True)
    name = models.CharField("名称", max_length=100)
    description = models.TextField("说明", blank=True)
    synonyms = models.JSONField("常用说法", default=list, blank=True)
    items = models.ManyToManyField(ServiceItem, through="BundleItem", related_name="bundles", verbose_name="事项")
    active = models.BooleanField("在用", default=True)

    class Meta:
        verbose_name = verbose_name_plural = "一件事"

    def __str__(self):
        return self.name


class BundleItem(models.Model):
    bundle = models.ForeignKey(Bundle, on_delete=models.CASCADE, related_name="members")
    item = models.ForeignKey(ServiceItem, on_delete=models.PROTECT, related_name="+")
    order = models.PositiveSmallIntegerField("顺序", default=0)

    class Meta:
        ordering = ["order"]
        constraints = [models.UniqueConstraint(fields=["bundle", "item"], name="onestop_bundle_item")]

    def __str__(self):
        return f"{self.bundle_id}:{self.item_id}"


class Channel(models.TextChoices):
    ONLINE = "online", "网上办"
    WINDOW = "window", "窗口办"
    KIOSK = "kiosk", "自助终端"
    MOBILE = "mobile", "掌上办"
    UNASKED = "unasked", "免申即享"  # opened by the platform, already decided: no application


class State(models.TextChoices):
    DRAFT = "draft", "草稿"
    SUBMITTED = "submitted", "已提交待预审"
    PREREVIEW = "prereview", "预审中"
    SUPPLEMENT = "supplement", "待补正"
    ACCEPTED = "accepted", "已受理"
    NOT_ACCEPTED = "not_accepted", "不予受理"
    REVIEW = "review", "审查中"
    APPROVED = "approved", "准予办理"
    REJECTED = "rejected", "不予办理"
    ISSUED = "issued", "已出证"
    DELIVERED = "delivered", "已送达"
    CLOSED = "closed", "已办结"
    WITHDRAWN = "withdrawn", "已撤回"


# the states an officer's queue shows (cases not yet closed, withdrawn or still drafts)
OPEN_STATES = (State.SUBMITTED, State.PREREVIEW, State.ACCEPTED, State.REVIEW, State.APPROVED, State.ISSUED,
               State.DELIVERED, State.REJECTED, State.NOT_ACCEPTED, State.SUPPLEMENT)


class Submission(models.Model):
    """One submission of a life-event bundle, fanned out into one application per item."""

    bundle = models.ForeignKey(Bundle, on_delete=models.PROTECT, related_name="submissions")
    applicant_user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    answers = models.JSONField(default=dict)
    form_data = models.JSONField(default=dict)
    fee_total = models.DecimalField("合计费用（元）", max_digits=12, decimal_places=2, default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    completed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = verbose_name_plural = "一件事申报"

    def __str__(self):
        return f"一件事申报 {self.pk}"


class Application(models.Model):
    """办件."""

    number = models.CharField("办件编号", max_length=22, unique=True)
    # 查询码: printed on the 受理通知书 (never in its signed, publicly verifiable content); with the number
    # it lets anyone holding the paper look up progress without giving an ID number
    query_code = models.CharField("查询码", max_length=8, blank=True, editable=False)
    item = models.ForeignKey(ServiceItem, on_delete=models.PROTECT, related_name="applications", verbose_name="事项")
    item_version = models.ForeignKey(ItemVersion, on_delete=models.PROTECT, related_name="+", verbose_name="事项版本")
    department = models.ForeignKey("accounts.Department", on_delete=models.PROTECT, related_name="+",
                                   verbose_name="办理部门")
    submission = models.ForeignKey(Submission, null=True, blank=True, on_delete=models.PROTECT,
                                   related_name="applications", verbose_name="一件事申报")
    applicant_user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+",
                                       verbose_name="申请账号")
    applicant_person = models.ForeignKey("identity.Person", null=True, blank=True, on_delete=models.PROTECT,
                                         related_name="+", verbose_name="申请人")
    applicant_enterprise = models.ForeignKey("identity.Enterprise", null=True, blank=True, on_delete=models.PROTECT,
                                             related_name="+", verbose_name="申请单位")
    applicant_name = models.CharField("申请人名称", max_length=200, db_index=True)
    agent_name = models.CharField("代理人", max_length=100, blank=True)
    agent_id_number = EncryptedField("代理人身份证号", purpose="id_number", blank=True)
    channel = models.CharField("渠道", max_length=8, choices=Channel.choices, default=Channel.ONLINE)
    answers = models.JSONField("情形选择", default=dict, blank=True)
    form_data = models.JSONField("表单", default=dict, blank=True)
    fee_total = models.DecimalField("费用（元）", max_digits=12, decimal_places=2, default=0)
    state = models.CharField("状态", max_length=16, choices=State.choices, default=State.DRAFT)
    state_since = models.DateTimeField("进入当前状态时间")
    resume_state = models.CharField("补正后回到", max_length=16, choices=State.choices, blank=True)
    instance = models.OneToOneField("workflow.Instance", null=True, blank=True, on_delete=models.PROTECT,
                                    related_name="+", verbose_name="审批流程")
    due_on = models.DateField("承诺办结日", null=True, blank=True)  # mirrors the workflow clock for queries
    decision_reason = models.TextField("决定理由", blank=True)
    result_licence = models.ForeignKey("licences.Licence", null=True, blank=True, on_delete=models.PROTECT,
                                       related_name="+", verbose_name="结果证照")
    delivery_method = models.CharField("送达方式", max_length=16, blank=True)
    delivery_detail = models.CharField("送达信息", max_length=200, blank=True)
    visits = models.PositiveSmallIntegerField("实际到现场次数", default=0)
    created_at = models.DateTimeField("创建时间", auto_now_add=True)
    submitted_at = models.DateTimeField("提交时间", null=True, blank=True)
    accepted_at = models.DateTimeField("受理时间", null=True, blank=True)
    decided_at = models.DateTimeField("决定时间", null=True, blank=True)
    closed_at = models.DateTimeField("办结时间", null=True, blank=True)
    on_time = models.BooleanField("按时办结", null=True, blank=True)

    class Meta:
        verbose_name = verbose_name_plural = "办件"
        indexes = [
            models.Index(fields=["department", "state", "due_on"], name="onestop_app_queue"),
            models.Index(fields=["applicant_user", "-created_at"], name="onestop_app_mine"),
            models.Index(fields=["department", "-submitted_at"], name="onestop_app_recent"),
            # the officer's queue in its own order, open cases only: the first page without a sort
            # (ADR 0023; 427 → 17–20 ms at 10^6 cases)
            models.Index(fields=["department", "due_on", "submitted_at", "id"], name="onestop_app_open",
                         condition=models.Q(state__in=OPEN_STATES)),
        ]

    def __str__(self):
        return f"{self.number} {self.item.name}"


class MaterialSource(models.TextChoices):
    UPLOAD = "upload", "本次上传"
    LIBRARY = "library", "材料库复用"
    LICENCE = "licence", "电子证照复用"
    REGISTER = "register", "政府数据共享"
    EXCHANGE = "exchange", "部门共享调取"
    BUNDLE = "bundle", "一件事内前序结果"
    PAPER = "paper", "窗口收取纸质件"
    MISSING = "missing", "未提供"


class TrustLevel(models.TextChoices):
    A = "A", "A 电子证照/政府数据"
    B = "B", "B 窗口核验原件"
    C = "C", "C 申请人上传"
    D = "D", "D 未核验/承诺"


REUSED_SOURCES = (MaterialSource.LIBRARY, MaterialSource.LICENCE, MaterialSource.REGISTER, MaterialSource.BUNDLE,
                  MaterialSource.EXCHANGE)


class StoredMaterial(models.Model):
    """材料库: a file the applicant uploaded once, reused in later applications (trust B once a
    window officer has checked the original)."""

    owner_user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    key = models.CharField("材料代码", max_length=40)
    name = models.CharField("材料名称", max_length=200)
    file = models.FileField("文件", upload_to="onestop/%Y/%m/")
    sha256 = models.CharField(max_length=64)
    size = models.PositiveIntegerField()
    content_type = models.CharField(max_length=100)
    trust_level = models.CharField("可信等级", max_length=1, choices=TrustLevel.choices, default=TrustLevel.C)
    checked_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                   related_name="+")
    checked_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = verbose_name_plural = "材料库"
        indexes = [models.Index(fields=["owner_user", "key"], name="onestop_library_key")]

    def __str__(self):
        return self.name


class ApplicationMaterial(models.Model):
    application = models.ForeignKey(Application, on_delete=models.CASCADE, related_name="materials")
    key = models.CharField("材料代码", max_length=40)
    name = models.CharField("材料名称", max_length=200)
    required = models.BooleanField("必需", default=True)
    source = models.CharField("来源", max_length=16, choices=MaterialSource.choices)
    trust_level = models.CharField("可信等级", max_length=1, choices=TrustLevel.choices, default=TrustLevel.D)
    stored = models.ForeignKey(StoredMaterial, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    licence = models.ForeignKey("licences.Licence", null=True, blank=True, on_delete=models.PROTECT,
                                related_name="+")
    awaits = models.ForeignKey(Application, null=True, blank=True, on_delete=models.PROTECT, related_name="+",
                               verbose_name="等待前序办件结果")
    # 免提交: the document fetched through the data-sharing exchange, with its provenance (JSON, encrypted)
    shared = EncryptedField("共享调取的证明", purpose="onestop_shared", null=True, blank=True)

    class Meta:
        verbose_name = verbose_name_plural = "办件材料"
        constraints = [models.UniqueConstraint(fields=["application", "key"], name="onestop_material_once")]

    def __str__(self):
        return self.name

    @property
    def shared_document(self) -> dict | None:
        """The fetched document with its provenance (resource, provider, message ID, time, data)."""
        return orjson.loads(self.shared) if self.shared else None


class CaseStep(models.Model):
    """Every step of a case: what was done, by whom, with what opinion, from when to when."""

    application = models.ForeignKey(Application, on_delete=models.CASCADE, related_name="steps")
    step = models.CharField("环节", max_length=40)
    action = models.CharField("动作", max_length=40)
    opinion = models.TextField("意见", blank=True)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                              related_name="+")
    actor_name = models.CharField("办理人", max_length=100, blank=True)
    state_after = models.CharField("之后状态", max_length=16, choices=State.choices)
    started_at = models.DateTimeField("开始")
    ended_at = models.DateTimeField("结束")

    class Meta:
        ordering = ["application_id", "id"]
        verbose_name = verbose_name_plural = "办理环节"

    def __str__(self):
        return f"{self.step} {self.action}"


class NoticeKind(models.TextChoices):
    ACCEPTANCE = "acceptance", "受理通知书"
    NOT_ACCEPTED = "not_accepted", "不予受理通知书"
    SUPPLEMENT = "supplement", "补正材料通知书"
    RESULT = "result", "办理结果通知书"


class Notice(models.Model):
    """A notice the department issues, signed (SM2) so its QR code can be verified by anyone."""

    application = models.ForeignKey(Application, on_delete=models.PROTECT, related_name="notices")
    kind = models.CharField("文书", max_length=16, choices=NoticeKind.choices)
    number = models.CharField("文书编号", max_length=40, unique=True)
    content = models.JSONField("内容")
    signed_content = models.TextField()
    signature = models.TextField()
    key_id = models.CharField(max_length=32)
    issued_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = verbose_name_plural = "文书"

    def __str__(self):
        return self.number


class Notification(models.Model):
    """The portal inbox (站内信); other channels (SMS, email) are pluggable senders."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    application = models.ForeignKey(Application, null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    title = models.CharField(max_length=200)
    body = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    read_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["user", "-created_at"], name="onestop_inbox")]

    def __str__(self):
        return self.title


class Grade(models.IntegerChoices):
    VERY_SATISFIED = 5, "非常满意"
    SATISFIED = 4, "满意"
    BASIC = 3, "基本满意"
    DISSATISFIED = 2, "不满意"
    VERY_DISSATISFIED = 1, "非常不满意"


class Evaluation(models.Model):
    """好差评: one per case online (or one per hall visit)."""

    application = models.ForeignKey(Application, on_delete=models.PROTECT, related_name="evaluations")
    department = models.ForeignKey("accounts.Department", on_delete=models.PROTECT, related_name="+")
    item = models.ForeignKey(ServiceItem, on_delete=models.PROTECT, related_name="+")
    channel = models.CharField(max_length=8, choices=Channel.choices)
    visit = models.PositiveSmallIntegerField("第几次到现场", default=0)  # 0 = the online evaluation
    grade = models.PositiveSmallIntegerField("评价", choices=Grade.choices)
    comment = models.TextField("评价内容", blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = verbose_name_plural = "好差评"
        constraints = [models.UniqueConstraint(fields=["application", "visit"], name="onestop_one_evaluation")]

    def __str__(self):
        return f"{self.application_id} {self.get_grade_display()}"


class TicketStatus(models.TextChoices):
    OPEN = "open", "待整改"
    REPLIED = "replied", "已整改待回访"
    CLOSED = "closed", "已回访办结"


class Rectification(models.Model):
    """差评整改工单: a negative evaluation goes to the responsible department with a deadline."""

    evaluation = models.OneToOneField(Evaluation, on_delete=models.PROTECT, related_name="ticket")
    department = models.ForeignKey("accounts.Department", on_delete=models.PROTECT, related_name="+")
    due_on = models.DateField("整改期限")
    status = models.CharField(max_length=8, choices=TicketStatus.choices, default=TicketStatus.OPEN)
    reply = models.TextField("整改情况", blank=True)
    replied_at = models.DateTimeField(null=True, blank=True)
    follow_up = models.TextField("回访情况", blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = verbose_name_plural = "差评整改"
        constraints = [models.CheckConstraint(condition=~Q(status="closed") | ~Q(follow_up=""),
                                              name="onestop_ticket_followed_up")]

    def __str__(self):
        return f"整改 {self.pk}"

