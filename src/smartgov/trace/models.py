"""药品（疫苗）追溯监管: master data, codes, EPCIS events and the state derived from them, cold chain,
recalls and vaccinations.

The event tables (``Event``, ``EventEpc``) and the state table (``CodeState``) are written by the bulk
capture path in ``ingest.py`` with batched SQL, not row by row through the ORM; the models here
describe them for reads, admin and migrations.
"""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from smartgov.core.fields import EncryptedField
from smartgov.core.models import TimeStampedModel


class OrgKind(models.TextChoices):
    MANUFACTURER = "manufacturer", "疫苗生产企业"
    DISTRIBUTOR = "distributor", "配送企业"
    PROVINCIAL_CDC = "provincial_cdc", "省级疾控中心"
    CITY_CDC = "city_cdc", "市级疾控中心"
    COUNTY_CDC = "county_cdc", "县级疾控中心"
    SITE = "site", "接种单位"


class Organisation(TimeStampedModel):
    """An EPCIS party and its location (参与方/地点): manufacturer, distributor, CDC, vaccination site.

    ``parent`` forms the supply hierarchy (省疾控 → 市/县疾控 → 接种单位) with a materialised ``path``,
    so "within this county" is one prefix match. ``department`` is the department whose scope covers
    the organisation (its supervising authority or, for a CDC, its own department)."""

    name = models.CharField(_("名称"), max_length=100)
    kind = models.CharField(_("类型"), max_length=20, choices=OrgKind.choices)
    parent = models.ForeignKey("self", verbose_name=_("上级单位"), null=True, blank=True, on_delete=models.PROTECT,
                               related_name="children")
    path = models.CharField(max_length=255, editable=False, db_index=True, default="")
    department = models.ForeignKey("accounts.Department", verbose_name=_("所属/监管部门"), on_delete=models.PROTECT,
                                   related_name="trace_organisations")
    uscc = models.CharField(_("统一社会信用代码"), max_length=18, blank=True)
    region_code = models.CharField(_("行政区划代码"), max_length=6, blank=True)
    location_uri = models.CharField(_("地点标识（SGLN等）"), max_length=200, unique=True)
    party_uri = models.CharField(_("参与方标识（PGLN等）"), max_length=200, unique=True)
    latitude = models.FloatField(_("纬度"), null=True, blank=True)
    longitude = models.FloatField(_("经度"), null=True, blank=True)

    class Meta:
        ordering = ["path"]
        verbose_name = verbose_name_plural = _("追溯参与单位")

    def __str__(self):
        return self.name


class CaptureKey(TimeStampedModel):
    """An organisation-bound API key for system-to-system capture (生产/配送企业、疾控的业务系统)."""

    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="capture_keys")
    prefix = models.CharField(max_length=12, unique=True)
    key_hash = models.CharField(max_length=64, unique=True)
    label = models.CharField(_("用途"), max_length=100, blank=True)
    active = models.BooleanField(default=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")

    class Meta:
        verbose_name = verbose_name_plural = _("数据上报密钥")

    def __str__(self):
        return gettext("%(org)s · 采集密钥 %(prefix)s") % {"org": self.organisation, "prefix": self.prefix}


class Product(TimeStampedModel):
    """A drug or vaccine product at one package level (药品/疫苗品种)."""

    name = models.CharField(_("通用名称"), max_length=100)
    nmpa_code = models.CharField(_("药品标识码"), max_length=7, unique=True, null=True, blank=True)
    gtin = models.CharField("GTIN", max_length=14, unique=True, null=True, blank=True)
    gcp_length = models.PositiveSmallIntegerField(_("厂商识别代码长度"), default=7)
    dosage_form = models.CharField(_("剂型"), max_length=50, blank=True)
    specification = models.CharField(_("规格"), max_length=100, blank=True)
    holder = models.CharField(_("上市许可持有人"), max_length=100)
    approval_number = models.CharField(_("批准文号"), max_length=30, blank=True)  # 国药准字S…
    manufacturer = models.ForeignKey(Organisation, verbose_name=_("生产企业"), null=True, blank=True,
                                     on_delete=models.PROTECT, related_name="products")
    is_vaccine = models.BooleanField(_("疫苗"), default=True)
    storage_min = models.FloatField(_("储存温度下限（℃）"), default=2.0)
    storage_max = models.FloatField(_("储存温度上限（℃）"), default=8.0)
    # excursion rules (温度超标规则): consecutive minutes above a threshold; cumulative minutes at/above one
    consecutive_above = models.FloatField(_("连续超温阈值（℃）"), default=8.0)
    consecutive_minutes = models.PositiveIntegerField(_("连续超温时长（分钟）"), default=120)
    cumulative_above = models.FloatField(_("累计超温阈值（℃）"), default=10.0)
    cumulative_minutes = models.PositiveIntegerField(_("累计超温时长（分钟）"), default=600)

    class Meta:
        ordering = ["name"]
        verbose_name = verbose_name_plural = _("药品/疫苗品种")

    def __str__(self):
        return self.name


class Batch(TimeStampedModel):
    """A production lot (批次)."""

    product = models.ForeignKey(Product, on_delete=models.PROTECT, related_name="batches")
    lot = models.CharField(_("批号"), max_length=40)
    production_date = models.DateField(_("生产日期"))
    expiry_date = models.DateField(_("有效期至"))

    class Meta:
        ordering = ["product", "lot"]
        verbose_name = verbose_name_plural = _("批次")
        constraints = [models.UniqueConstraint(fields=["product", "lot"], name="trace_batch_unique_lot")]

    def __str__(self):
        return f"{self.product.name} {self.lot}"


class CodeScheme(models.TextChoices):
    NMPA = "nmpa", "药品追溯码（20位）"
    SGTIN = "sgtin", "GS1 SGTIN"
    SSCC = "sscc", "GS1 SSCC"


class CodeIssue(TimeStampedModel):
    """One run of the code-issuing service (赋码): serials ``first_serial … first_serial+count-1`` of a
    product, bound to a batch. Serials are consecutive per product and never reused."""

    batch = models.ForeignKey(Batch, on_delete=models.PROTECT, related_name="code_issues")
    scheme = models.CharField(max_length=8, choices=CodeScheme.choices)
    first_serial = models.BigIntegerField()
    count = models.PositiveIntegerField()
    issued_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")

    class Meta:
        ordering = ["-id"]
        verbose_name = verbose_name_plural = _("赋码记录")

    def __str__(self):
        return gettext("赋码 %(batch)s ×%(count)s") % {"batch": self.batch, "count": self.count}


class CaptureStatus(models.TextChoices):
    SUCCEEDED = "succeeded", "成功"
    PARTIAL = "partial", "部分成功"
    FAILED = "failed", "失败"


class CaptureJob(TimeStampedModel):
    """One EPCIS capture (一次上报): what came in, what was stored, which events failed and why."""

    organisation = models.ForeignKey(Organisation, null=True, on_delete=models.PROTECT, related_name="captures")
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    behaviour = models.CharField(max_length=10, default="rollback")
    status = models.CharField(max_length=10, choices=CaptureStatus.choices)
    events_received = models.PositiveIntegerField(default=0)
    events_stored = models.PositiveIntegerField(default=0)
    events_duplicate = models.PositiveIntegerField(default=0)
    epc_events = models.PositiveIntegerField(default=0)
    context = models.JSONField(default=list)
    errors = models.JSONField(default=list)
    finished_at = models.DateTimeField(null=True)

    class Meta:
        ordering = ["-id"]
        verbose_name = verbose_name_plural = _("EPCIS上报")

    def __str__(self):
        return gettext("EPCIS采集 #%(id)s（%(status)s）") % {"id": self.pk, "status": gettext(self.get_status_display())}


class EventType(models.IntegerChoices):
    OBJECT = 1, "ObjectEvent"
    AGGREGATION = 2, "AggregationEvent"
    TRANSACTION = 3, "TransactionEvent"
    TRANSFORMATION = 4, "TransformationEvent"
    ASSOCIATION = 5, "AssociationEvent"


class Event(models.Model):
    """One EPCIS event, identified by its ``eventID`` — the sender's, or else its GS1 event hash (EPCIS 2.0
    §7.4.1; CBV 2.0 §8.9). ``body`` is the event as captured with ``eventID`` and ``recordTime`` added
    (JSON). An error declaration (EPCIS 2.0 §7.4.1.4) of a stored event is attached to it: its body then
    carries the ``errorDeclaration`` and ``error_declared_at``/``error_reason`` are set."""

    id = models.BigAutoField(primary_key=True)  # allocated by the capture in blocks (explicit ids)
    event_hash = models.CharField(max_length=100, db_index=True)  # the content hash (not unique)
    event_id = models.CharField(max_length=200, db_index=True)  # eventID as sent, else the event hash
    error_declared_at = models.DateTimeField(null=True)
    error_reason = models.CharField(max_length=200, null=True)  # noqa: DJ001 (NULL = no declaration)
    type = models.PositiveSmallIntegerField(choices=EventType.choices)
    action = models.CharField(max_length=8, blank=True)
    event_time = models.DateTimeField(db_index=True)
    tz_offset = models.CharField(max_length=6)
    record_time = models.DateTimeField()
    biz_step = models.CharField(max_length=200, blank=True, db_index=True)
    disposition = models.CharField(max_length=200, blank=True)
    read_point = models.CharField(max_length=200, blank=True)
    biz_location = models.CharField(max_length=200, blank=True, db_index=True)
    parent_epc = models.CharField(max_length=200, blank=True)
    source_location = models.CharField(max_length=200, blank=True)
    dest_location = models.CharField(max_length=200, blank=True)
    dest_owner = models.CharField(max_length=200, blank=True)
    batch_id = models.BigIntegerField(null=True)  # bound at commissioning from ilmd lotNumber
    epc_count = models.PositiveIntegerField(default=0)
    capture = models.ForeignKey(CaptureJob, on_delete=models.PROTECT, related_name="events", db_index=True)
    organisation_id_ref = models.BigIntegerField(null=True, db_index=True)  # who captured (scope)
    body = models.TextField()

    class Meta:
        verbose_name = verbose_name_plural = _("EPCIS事件")

    def __str__(self):
        return f"{self.get_type_display()} {self.event_time:%Y-%m-%d %H:%M}"


class EpcRole(models.TextChoices):
    EPC = "e", "epcList"
    CHILD = "c", "childEPCs"
    PARENT = "p", "parentID"
    INPUT = "i", "inputEPCList"
    OUTPUT = "o", "outputEPCList"


class EventEpc(models.Model):
    """One (event, identifier) pair: the index every EPC query and every trace goes through."""

    id = models.BigAutoField(primary_key=True)
    event = models.ForeignKey(Event, on_delete=models.CASCADE, db_constraint=False, related_name="epcs")
    epc = models.CharField(max_length=200)
    role = models.CharField(max_length=1, choices=EpcRole.choices)

    class Meta:
        indexes = [models.Index(fields=["epc", "event"], name="trace_eventepc_epc")]

    def __str__(self):
        return self.epc


# bits of CodeState.flags (业务规则标记; stored as bits so that one UPDATE sets them for a whole set)
FLAG_RECALLED = 1          # 召回
FLAG_IN_QUESTION = 2       # 温度超标待评估（不可接种）
FLAG_ADMINISTERED = 4      # 已接种
FLAG_DESTROYED = 8         # 已销毁
FLAG_NAMES = {FLAG_RECALLED: "已召回", FLAG_IN_QUESTION: "温度存疑", FLAG_ADMINISTERED: "已接种",
              FLAG_DESTROYED: "已销毁"}


class CodeState(models.Model):
    """The current state of one code, derived from its events (and, while it sits in a container, from
    the container's): where it is, in what, with what disposition, owned by whom, after which event."""

    epc = models.CharField(max_length=200, primary_key=True)
    batch_id = models.BigIntegerField(null=True, db_index=True)
    product_key = models.CharField(max_length=40, blank=True)
    container = models.CharField(max_length=200, null=True, db_index=True)  # noqa: DJ001 (NULL = unknown)
    biz_location = models.CharField(max_length=200, null=True)  # noqa: DJ001 (NULL = unknown)
    read_point = models.CharField(max_length=200, null=True)  # noqa: DJ001 (NULL = unknown)
    disposition = models.CharField(max_length=200, null=True)  # noqa: DJ001 (NULL = unknown)
    owner = models.CharField(max_length=200, null=True)  # noqa: DJ001 (NULL = unknown)
    biz_step = models.CharField(max_length=200, null=True)  # noqa: DJ001 (NULL = unknown)
    last_event_id = models.BigIntegerField()
    last_event_time = models.DateTimeField()
    commissioned_at = models.DateTimeField(null=True)
    flags = models.IntegerField(default=0)

    class Meta:
        verbose_name = verbose_name_plural = _("追溯码状态")

    def __str__(self):
        return self.epc


class RuleCode(models.TextChoices):
    RECEIVED_NOT_SHIPPED = "received_not_shipped", "未发货即收货"
    SHIPPED_ELSEWHERE = "shipped_elsewhere", "发货地与所在地不符"
    COMMISSIONED_TWICE = "commissioned_twice", "重复赋码激活"
    DISPENSED_EXPIRED = "dispensed_expired", "接种/发放过期产品"
    DISPENSED_RECALLED = "dispensed_recalled", "接种/发放召回产品"
    DISPENSED_IN_QUESTION = "dispensed_in_question", "接种/发放温度存疑产品"
    TWO_PARENTS = "two_parents", "同一子码装入两个容器"
    UNKNOWN_BATCH = "unknown_batch", "批号未登记"


class RuleFlag(models.Model):
    """A business-rule finding on a captured event (what happened is stored; this says it was wrong)."""

    event_id_ref = models.BigIntegerField(db_index=True)
    epc = models.CharField(max_length=200, db_index=True)
    rule = models.CharField(max_length=30, choices=RuleCode.choices)
    detail = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField()

    class Meta:
        verbose_name = verbose_name_plural = _("业务规则告警")

    def __str__(self):
        return f"{self.get_rule_display()} {self.epc}"


# ------------------------------------------------------------------------------------------ cold chain


class LoggerKind(models.TextChoices):
    STORAGE = "storage", "冷库/冰箱"
    VEHICLE = "vehicle", "冷藏车"


class Logger(TimeStampedModel):
    """A temperature logger on a storage unit or a vehicle (温度记录仪)."""

    organisation = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="loggers")
    kind = models.CharField(_("类型"), max_length=10, choices=LoggerKind.choices)
    name = models.CharField(_("名称"), max_length=100)
    device_id = models.CharField(_("设备标识"), max_length=200, unique=True)
    location_uri = models.CharField(_("所在地点/车辆标识"), max_length=200, db_index=True)
    product = models.ForeignKey(Product, verbose_name=_("适用规则的品种"), null=True, blank=True,
                                on_delete=models.SET_NULL, related_name="+")

    class Meta:
        ordering = ["organisation", "name"]
        verbose_name = verbose_name_plural = _("温度记录仪")

    def __str__(self):
        return self.name


class Reading(models.Model):
    logger = models.ForeignKey(Logger, on_delete=models.CASCADE, related_name="readings")
    time = models.DateTimeField()
    celsius = models.FloatField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["logger", "time"], name="trace_reading_unique")]
        indexes = [models.Index(fields=["logger", "time"], name="trace_reading_time")]

    def __str__(self):
        return f"{self.time:%Y-%m-%d %H:%M} {self.celsius}℃"


class Position(models.Model):
    """A vehicle position (北斗/GNSS), WGS-84."""

    logger = models.ForeignKey(Logger, on_delete=models.CASCADE, related_name="positions")
    time = models.DateTimeField()
    latitude = models.FloatField()
    longitude = models.FloatField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["logger", "time"], name="trace_position_unique")]

    def __str__(self):
        return f"{self.time:%Y-%m-%d %H:%M} {self.latitude},{self.longitude}"


class AlertKind(models.TextChoices):
    INSTANT = "instant", "瞬时超温"
    CONSECUTIVE = "consecutive", "连续超温"
    CUMULATIVE = "cumulative", "累计超温"
    RULE = "rule", "业务规则"
    RECALL = "recall", "召回"


class Alert(TimeStampedModel):
    """A supervision alert; temperature alerts must be acknowledged with a comment (确认并说明)."""

    kind = models.CharField(max_length=12, choices=AlertKind.choices)
    logger = models.ForeignKey(Logger, null=True, blank=True, on_delete=models.CASCADE, related_name="alerts")
    organisation = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="alerts")
    started_at = models.DateTimeField()
    ended_at = models.DateTimeField(null=True)
    peak_celsius = models.FloatField(null=True)
    minutes = models.PositiveIntegerField(default=0)
    message = models.CharField(max_length=300)
    doses_in_question = models.PositiveIntegerField(default=0)
    acknowledged_at = models.DateTimeField(null=True)
    acknowledged_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL,
                                        related_name="+")
    comment = models.TextField(blank=True)
    released_at = models.DateTimeField(null=True)

    class Meta:
        ordering = ["-started_at"]
        verbose_name = verbose_name_plural = _("监管告警")
        constraints = [models.UniqueConstraint(fields=["logger", "kind", "started_at"], name="trace_alert_once")]

    def __str__(self):
        return f"{self.get_kind_display()} · {self.organisation}"


# ------------------------------------------------------------------------------------ recall, vaccination


class RecallStatus(models.TextChoices):
    OPEN = "open", "召回中"
    COMPLETED = "completed", "已完成"


class Recall(TimeStampedModel):
    batch = models.ForeignKey(Batch, on_delete=models.PROTECT, related_name="recalls")
    department = models.ForeignKey("accounts.Department", on_delete=models.PROTECT, related_name="+")
    reason = models.CharField(_("召回原因"), max_length=300)
    level = models.CharField(_("召回级别"), max_length=10, default="一级")
    status = models.CharField(max_length=10, choices=RecallStatus.choices, default=RecallStatus.OPEN)
    codes_total = models.PositiveIntegerField(default=0)
    codes_administered = models.PositiveIntegerField(default=0)
    started_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    event_id_ref = models.BigIntegerField(null=True)
    completed_at = models.DateTimeField(null=True)

    class Meta:
        ordering = ["-id"]
        verbose_name = verbose_name_plural = _("召回")

    def __str__(self):
        return gettext("召回 %(lot)s（%(status)s）") % {"lot": self.batch.lot, "status": gettext(self.get_status_display())}


class PackagingLevel(models.Model):
    """A package level of a product (包装层级): level 1 is the minimum sales package that carries the
    traceability code; each higher level holds ``contains`` packages of the level below (包装比例)."""

    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="packaging_levels")
    level = models.PositiveSmallIntegerField(_("包装层级"))
    unit = models.CharField(_("包装单位"), max_length=20)  # 支、盒、箱 …
    contains = models.PositiveIntegerField(_("内含下一级包装数量"), default=1)

    class Meta:
        ordering = ["product", "level"]
        verbose_name = verbose_name_plural = _("包装层级")
        constraints = [models.UniqueConstraint(fields=["product", "level"], name="trace_packaging_level_once")]

    def __str__(self):
        return gettext("%(level)s级 %(unit)s") % {"level": self.level, "unit": self.unit}


class LotRelease(TimeStampedModel):
    """批签发: the lot release decision on a batch (《生物制品批签发管理办法》); a passed one is the
    《生物制品批签发证明》, a refused one the 《不予批签发通知书》."""

    batch = models.ForeignKey(Batch, on_delete=models.PROTECT, related_name="lot_releases")
    certificate_number = models.CharField(_("批签发证明编号"), max_length=50, unique=True)
    agency = models.CharField(_("批签发机构"), max_length=100)
    issued_on = models.DateField(_("签发日期"))
    conclusion = models.CharField(_("结论"), max_length=10,
                                  choices=[("passed", _("予以批签发")), ("refused", _("不予批签发"))])
    quantity = models.PositiveIntegerField(_("签发数量"), null=True, blank=True)
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")

    class Meta:
        ordering = ["-issued_on", "-id"]
        verbose_name = verbose_name_plural = _("批签发")

    def __str__(self):
        return gettext("批签发 %(number)s（%(conclusion)s）") % {"number": self.certificate_number, "conclusion": self.get_conclusion_display()}


class Vaccination(TimeStampedModel):
    """One dose given to one vaccinee (接种记录) — one dose, one vaccinee."""

    epc = models.CharField(max_length=200, unique=True)
    person = models.ForeignKey("identity.Person", on_delete=models.PROTECT, related_name="vaccinations")
    site = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="vaccinations")
    worker = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    worker_name = models.CharField(_("接种人员"), max_length=100)
    administered_at = models.DateTimeField()
    event_id_ref = models.BigIntegerField(null=True)
    batch_id = models.BigIntegerField(null=True, db_index=True)
    dose_number = models.PositiveSmallIntegerField(_("剂次"), null=True, blank=True)
    route = models.CharField(_("接种途径"), max_length=20, blank=True)  # nmpa.ROUTES
    body_site = models.CharField(_("接种部位"), max_length=20, blank=True)  # nmpa.SITES

    class Meta:
        ordering = ["-administered_at"]
        verbose_name = verbose_name_plural = _("接种记录")

    def __str__(self):
        return gettext("接种记录 %(date)s · %(site)s") % {"date": f"{self.administered_at:%Y-%m-%d}", "site": self.site}


class AefiReport(TimeStampedModel):
    """疑似预防接种异常反应 (AEFI) reported for one vaccination: the link from a dose (and so its batch and
    every place it travelled) to the case; classified by the expert group later (``pending`` till then)."""

    vaccination = models.ForeignKey(Vaccination, on_delete=models.PROTECT, related_name="aefi_reports")
    report_number = models.CharField(_("报告编号"), max_length=40, unique=True)
    onset_at = models.DateTimeField(_("发生时间"))
    reported_at = models.DateTimeField(_("报告时间"))
    reporter = models.ForeignKey(Organisation, verbose_name=_("报告单位"), on_delete=models.PROTECT, related_name="+")
    symptoms = models.TextField(_("主要临床表现"))
    severe = models.BooleanField(_("严重"), default=False)
    classification = models.CharField(_("分类"), max_length=20, default="pending")  # nmpa.AEFI_CLASSES
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")

    class Meta:
        ordering = ["-reported_at"]
        verbose_name = verbose_name_plural = _("疑似预防接种异常反应报告")

    def __str__(self):
        return f"AEFI {self.report_number}"


class QuestionedCode(models.Model):
    """A code put "in question" (温度存疑) by a temperature alert; released with the alert."""

    alert = models.ForeignKey(Alert, on_delete=models.CASCADE, related_name="questioned")
    epc = models.CharField(max_length=200, db_index=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["alert", "epc"], name="trace_questioned_once")]

    def __str__(self):
        return self.epc


class NamedQuery(TimeStampedModel):
    """An EPCIS 2.0 named query (REST binding ``/queries``): a SimpleEventQuery's parameters saved under a
    name by an organisation's system (key) or by a staff member; run with ``/queries/{name}/events``."""

    name = models.CharField(max_length=100)
    query = models.JSONField(default=dict)
    organisation = models.ForeignKey(Organisation, null=True, on_delete=models.CASCADE, related_name="+")
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.CASCADE, related_name="+")

    class Meta:
        verbose_name = verbose_name_plural = _("EPCIS命名查询")
        constraints = [
            models.UniqueConstraint(fields=["organisation", "name"], name="trace_namedquery_org_name",
                                    condition=models.Q(organisation__isnull=False)),
            models.UniqueConstraint(fields=["owner", "name"], name="trace_namedquery_owner_name",
                                    condition=models.Q(owner__isnull=False)),
        ]

    def __str__(self):
        return self.name


class QuerySubscription(TimeStampedModel):
    """A subscription to a named query (EPCIS 2.0 REST binding): by webhook (``POST
    /queries/{name}/subscriptions``: matching events go to ``dest``) or by WebSocket (``GET
    /queries/{name}/events`` upgraded: ``websocket``, no ``dest``; the row lives as long as the socket), as
    EPCISQueryDocuments, either as they are captured (``stream``) or on a cron-like ``schedule``.
    ``last_event_id`` is how far delivery got (capture order); ``notified`` counts the captures signalled to
    a WebSocket subscription (the live server delivers when it changes)."""

    subscription_id = models.CharField(max_length=36, unique=True)
    query = models.ForeignKey(NamedQuery, on_delete=models.CASCADE, related_name="subscriptions")
    dest = models.URLField(max_length=500, blank=True)
    websocket = models.BooleanField(default=False, db_default=False)
    notified = models.PositiveBigIntegerField(default=0, db_default=0)
    stream = models.BooleanField(default=False)
    schedule = models.JSONField(default=dict, blank=True)
    report_if_empty = models.BooleanField(default=False)
    initial_record_time = models.DateTimeField()
    signature_token = EncryptedField(_("签名令牌"), purpose="trace.webhook", blank=True)
    last_event_id = models.BigIntegerField(default=0)
    last_notified_at = models.DateTimeField(null=True)
    last_run_minute = models.CharField(max_length=16, blank=True)  # schedule: the minute last run
    failures = models.PositiveIntegerField(default=0)
    last_error = models.CharField(max_length=300, blank=True)

    class Meta:
        verbose_name = verbose_name_plural = _("EPCIS查询订阅")

    def __str__(self):
        return self.subscription_id


class ReleasedPageToken(models.Model):
    """A ``nextPageToken`` released early (EPCIS 2.0 REST ``DELETE /nextPageToken/{token}``): tokens are
    signed and stateless, so releasing one means remembering its digest until it would have expired
    anyway; a released token is refused like an expired one."""

    digest = models.CharField(max_length=64, unique=True)  # SHA-256 of the token
    expires_at = models.DateTimeField(db_index=True)

    class Meta:
        verbose_name = verbose_name_plural = _("已释放的分页令牌")

    def __str__(self):
        return self.digest[:12]
