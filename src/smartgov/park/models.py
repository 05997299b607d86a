"""智慧园区: space (parks → buildings → floors → units), resident enterprises, leases and their bills,
energy statements, visitors. Devices and telemetry live in the shared IoT layer (``smartgov.iot``), tagged with the
park, building and unit they sit in."""

from decimal import Decimal

from django.db import models
from django.utils.translation import gettext_lazy as _

from smartgov.core.fields import BlindIndexField, EncryptedField
from smartgov.core.models import TimeStampedModel
from smartgov.core.validators import normalize_mobile, validate_id_number, validate_mobile


class Park(TimeStampedModel):
    """园区. Its ``department`` is the operator (管委会/运营公司) in the org tree."""

    department = models.ForeignKey("accounts.Department", verbose_name="运营单位", on_delete=models.PROTECT,
                                   related_name="parks")
    code = models.SlugField("园区编码", max_length=32, unique=True)
    name = models.CharField("名称", max_length=100)
    address = models.CharField("地址", max_length=200, blank=True)
    electricity_price = models.DecimalField("电价（元/kWh）", max_digits=8, decimal_places=4, default=Decimal("0.85"))

    class Meta:
        ordering = ["code"]
        verbose_name = verbose_name_plural = "园区"

    def __str__(self):
        return self.name


class Building(TimeStampedModel):
    park = models.ForeignKey(Park, verbose_name="园区", on_delete=models.CASCADE, related_name="buildings")
    code = models.CharField("楼栋编码", max_length=32)
    name = models.CharField("名称", max_length=100)

    class Meta:
        ordering = ["park", "code"]
        verbose_name = verbose_name_plural = "楼栋"
        constraints = [models.UniqueConstraint(fields=["park", "code"], name="park_building_code")]

    def __str__(self):
        return self.name


class Floor(models.Model):
    building = models.ForeignKey(Building, verbose_name="楼栋", on_delete=models.CASCADE, related_name="floors")
    number = models.SmallIntegerField("楼层")  # negative: basement
    plan_width = models.PositiveIntegerField("平面图宽（米）", default=60)
    plan_height = models.PositiveIntegerField("平面图深（米）", default=24)

    class Meta:
        ordering = ["building", "number"]
        verbose_name = verbose_name_plural = "楼层"
        constraints = [models.UniqueConstraint(fields=["building", "number"], name="park_floor_number")]

    def __str__(self):
        return f"{self.building} {self.number}F"


class UnitUse(models.TextChoices):
    OFFICE = "office", _("办公")
    LAB = "lab", _("研发")
    PLANT = "plant", _("厂房")
    RETAIL = "retail", _("商业")
    WAREHOUSE = "warehouse", _("仓储")


class UnitStatus(models.TextChoices):
    VACANT = "vacant", _("空置")
    LEASED = "leased", _("已租")
    RESERVED = "reserved", _("预留")


class Unit(TimeStampedModel):
    """房源单元. ``geometry`` is its outline on the floor plan, a polygon in metres ``[[x, y], ...]``."""

    floor = models.ForeignKey(Floor, verbose_name="楼层", on_delete=models.CASCADE, related_name="units")
    code = models.CharField("单元号", max_length=32)
    area = models.DecimalField("面积（㎡）", max_digits=10, decimal_places=2)
    use = models.CharField("用途", max_length=16, choices=UnitUse.choices, default=UnitUse.OFFICE)
    status = models.CharField("状态", max_length=16, choices=UnitStatus.choices, default=UnitStatus.VACANT)
    geometry = models.JSONField("平面轮廓", default=list, blank=True)

    class Meta:
        ordering = ["floor", "code"]
        verbose_name = verbose_name_plural = "房源单元"
        constraints = [models.UniqueConstraint(fields=["floor", "code"], name="park_unit_code")]

    def __str__(self):
        return f"{self.floor.building.code}-{self.code}"


class Enterprise(TimeStampedModel):
    """入驻企业, linked to the register by its 统一社会信用代码 (GB 32100-2015)."""

    park = models.ForeignKey(Park, verbose_name="园区", on_delete=models.CASCADE, related_name="enterprises")
    name = models.CharField("企业名称", max_length=200)
    uscc = models.CharField("统一社会信用代码", max_length=18)
    industry = models.CharField("行业代码（GB/T 4754）", max_length=5)
    employees = models.PositiveIntegerField("从业人数", default=0)
    contact = models.CharField("联系人", max_length=50, blank=True)

    class Meta:
        ordering = ["name"]
        verbose_name = verbose_name_plural = "入驻企业"
        constraints = [models.UniqueConstraint(fields=["park", "uscc"], name="park_enterprise_uscc")]

    def __str__(self):
        return self.name


class EnterpriseReport(models.Model):
    """企业年度报送: output and tax a resident enterprise reports for a year (万元)."""

    enterprise = models.ForeignKey(Enterprise, on_delete=models.CASCADE, related_name="reports")
    year = models.PositiveSmallIntegerField("年度")
    output = models.DecimalField("产值（万元）", max_digits=14, decimal_places=2)
    tax = models.DecimalField("纳税（万元）", max_digits=14, decimal_places=2)

    class Meta:
        ordering = ["enterprise", "year"]
        constraints = [models.UniqueConstraint(fields=["enterprise", "year"], name="park_report_year")]

    def __str__(self):
        return f"{self.enterprise} {self.year}"


class LeaseStatus(models.TextChoices):
    ACTIVE = "active", _("执行中")
    ENDED = "ended", _("已退租")


class Lease(TimeStampedModel):
    """租赁合同. ``rent_free`` lists the 免租期 as ``[["2026-01-01", "2026-03-31"], ...]``; the rent rises by
    ``escalation_pct`` every ``escalation_every_months`` (递增), compounding. Bills: see billing.py."""

    park = models.ForeignKey(Park, verbose_name="园区", on_delete=models.CASCADE, related_name="leases")
    enterprise = models.ForeignKey(Enterprise, verbose_name="承租企业", on_delete=models.PROTECT, related_name="leases")
    code = models.CharField("合同编号", max_length=40)
    units = models.ManyToManyField(Unit, verbose_name="租赁单元", related_name="leases")
    start_date = models.DateField("起租日")
    end_date = models.DateField("到期日")
    monthly_rent = models.DecimalField("月租金（元）", max_digits=12, decimal_places=2)
    deposit = models.DecimalField("押金（元）", max_digits=12, decimal_places=2, default=0)
    rent_free = models.JSONField("免租期", default=list, blank=True)
    escalation_pct = models.DecimalField("递增比例（%）", max_digits=5, decimal_places=2, default=0)
    escalation_every_months = models.PositiveSmallIntegerField("递增周期（月）", default=12)
    # renewals at new terms: [{"start", "monthly_rent", "escalation_pct", "escalation_every_months"}] (billing.RentStep)
    rent_steps = models.JSONField("续租租金条款", default=list, blank=True, null=True)  # null: rows of older servers
    status = models.CharField("状态", max_length=16, choices=LeaseStatus.choices, default=LeaseStatus.ACTIVE)
    ended_on = models.DateField("退租日", null=True, blank=True)

    class Meta:
        ordering = ["-start_date"]
        verbose_name = verbose_name_plural = "租赁合同"
        constraints = [models.UniqueConstraint(fields=["park", "code"], name="park_lease_code")]

    def __str__(self):
        return self.code


class BillStatus(models.TextChoices):
    UNPAID = "unpaid", _("未缴")
    PARTIAL = "partial", _("部分缴纳")
    PAID = "paid", _("已缴清")


class Bill(models.Model):
    """租金账单: one per lease and period; amounts from billing.py."""

    lease = models.ForeignKey(Lease, verbose_name="合同", on_delete=models.CASCADE, related_name="bills")
    period_start = models.DateField("账期开始")
    period_end = models.DateField("账期结束")
    due_date = models.DateField("应缴日")
    amount = models.DecimalField("应缴（元）", max_digits=12, decimal_places=2)
    paid = models.DecimalField("已缴（元）", max_digits=12, decimal_places=2, default=0)
    status = models.CharField("状态", max_length=16, choices=BillStatus.choices, default=BillStatus.UNPAID)

    class Meta:
        ordering = ["lease", "period_start"]
        verbose_name = verbose_name_plural = "租金账单"
        constraints = [models.UniqueConstraint(fields=["lease", "period_start"], name="park_bill_period")]

    def __str__(self):
        return f"{self.lease.code} {self.period_start:%Y-%m}"

    @property
    def outstanding(self) -> Decimal:
        return self.amount - self.paid


class EnergyStatement(models.Model):
    """月度能耗账单: an enterprise's electricity for a month from the meters of its leased units."""

    enterprise = models.ForeignKey(Enterprise, verbose_name="企业", on_delete=models.CASCADE,
                                   related_name="energy_statements")
    month = models.DateField("月份")  # the first day
    kwh = models.DecimalField("用电量（kWh）", max_digits=14, decimal_places=3)
    amount = models.DecimalField("电费（元）", max_digits=12, decimal_places=2)
    carbon_kg = models.DecimalField("碳排放（kgCO₂）", max_digits=14, decimal_places=2)
    meters = models.JSONField("电表明细", default=list)
    # 峰平谷: [{"kind": "peak", "kwh": ..., "price": ..., "amount": ...}, ...]; null when the park has one flat price
    bands = models.JSONField("分时明细", null=True, blank=True)
    issued_at = models.DateTimeField("出具时间", auto_now_add=True)

    class Meta:
        ordering = ["-month"]
        verbose_name = verbose_name_plural = "月度能耗账单"
        constraints = [models.UniqueConstraint(fields=["enterprise", "month"], name="park_energy_month")]

    def __str__(self):
        return f"{self.enterprise} {self.month:%Y-%m}"


class VisitStatus(models.TextChoices):
    REGISTERED = "registered", _("已预约")
    CHECKED_IN = "checked_in", _("已入园")
    CHECKED_OUT = "checked_out", _("已离园")
    CANCELLED = "cancelled", _("已取消")


class Visit(TimeStampedModel):
    """访客预约: a visitor pre-registered for a host enterprise, with a pass (the QR code of a signed token,
    ``park/passes.py``) valid from ``valid_from`` to ``valid_until``; the gate checks it in once and out once.
    Phone and ID number are encrypted at rest (SM4) with blind indexes; pages show them masked."""

    park = models.ForeignKey(Park, verbose_name="园区", on_delete=models.CASCADE, related_name="visits")
    enterprise = models.ForeignKey(Enterprise, verbose_name="被访企业", on_delete=models.PROTECT,
                                   related_name="visits")
    name = models.CharField("访客姓名", max_length=50)
    phone = EncryptedField("手机号", purpose="phone", normalize=normalize_mobile, validators=[validate_mobile])
    phone_bidx = BlindIndexField(source="phone")
    id_number = EncryptedField("身份证号", purpose="id_number", blank=True, null=True, normalize=str.upper,
                               validators=[validate_id_number])
    id_number_bidx = BlindIndexField(source="id_number")
    purpose = models.CharField("来访事由", max_length=200, blank=True)
    valid_from = models.DateTimeField("有效期起")
    valid_until = models.DateTimeField("有效期止")
    status = models.CharField("状态", max_length=16, choices=VisitStatus.choices, default=VisitStatus.REGISTERED)
    checked_in_at = models.DateTimeField("入园时间", null=True, blank=True)
    gate_in = models.CharField("入园闸机", max_length=50, blank=True)
    checked_out_at = models.DateTimeField("离园时间", null=True, blank=True)
    gate_out = models.CharField("离园闸机", max_length=50, blank=True)
    registered_by = models.ForeignKey("accounts.User", verbose_name="登记人", null=True, blank=True,
                                      on_delete=models.SET_NULL, related_name="+")

    class Meta:
        ordering = ["-valid_from"]
        verbose_name = verbose_name_plural = "访客预约"
        indexes = [models.Index(fields=["park", "valid_from"], name="park_visit_park_from")]
        constraints = [models.CheckConstraint(condition=models.Q(valid_until__gt=models.F("valid_from")),
                                              name="park_visit_window")]

    def __str__(self):
        return f"{self.enterprise} · {self.valid_from:%Y-%m-%d}"


class BandKind(models.TextChoices):
    PEAK = "peak", _("峰")
    FLAT = "flat", _("平")
    VALLEY = "valley", _("谷")


class TariffBand(models.Model):
    """峰平谷分时电价: a park's time-of-day band with its price. A park's bands cover every minute of the day
    exactly once (``energy.clean_bands``); a park without bands bills at its one ``electricity_price``."""

    park = models.ForeignKey(Park, verbose_name="园区", on_delete=models.CASCADE, related_name="tariff_bands")
    kind = models.CharField("时段类型", max_length=8, choices=BandKind.choices)
    start = models.TimeField("开始")
    end = models.TimeField("结束")  # exclusive; not after start: runs past midnight
    price = models.DecimalField("电价（元/kWh）", max_digits=8, decimal_places=4)

    class Meta:
        ordering = ["park", "start"]
        verbose_name = verbose_name_plural = "分时电价"
        constraints = [models.UniqueConstraint(fields=["park", "start"], name="park_tariff_band_start")]

    def __str__(self):
        return f"{self.get_kind_display()} {self.start:%H:%M}-{self.end:%H:%M}"


class AnomalyKind(models.TextChoices):
    NIGHT_BASE_LOAD = "night_base_load", _("夜间基础负荷偏高")
    JUMP = "jump", _("日用电量突增")


class EnergyAnomaly(models.Model):
    """能耗异常 found on a meter for a local day (``energy.anomalies``): ``value`` against ``reference``
    (night kW against day kW; the day's kWh against the day before). Found again, it is updated."""

    park = models.ForeignKey(Park, verbose_name="园区", on_delete=models.CASCADE, related_name="energy_anomalies")
    device = models.ForeignKey("iot.Device", verbose_name="电表", on_delete=models.CASCADE, related_name="+")
    day = models.DateField("日期")
    kind = models.CharField("类型", max_length=20, choices=AnomalyKind.choices)
    value = models.FloatField("数值")
    reference = models.FloatField("参照值")
    detected_at = models.DateTimeField("发现时间", auto_now=True)

    class Meta:
        ordering = ["-day", "device"]
        verbose_name = verbose_name_plural = "能耗异常"
        constraints = [models.UniqueConstraint(fields=["device", "day", "kind"], name="park_anomaly_device_day")]

    def __str__(self):
        return f"{self.device_id} {self.day} {self.kind}"


class LeaseChangeKind(models.TextChoices):
    RENEWAL = "renewal", _("续租")
    MOVE_OUT = "move_out", _("退租")


class LeaseChangeStatus(models.TextChoices):
    RUNNING = "running", _("办理中")
    APPROVED = "approved", _("已办结")
    REJECTED = "rejected", _("未通过")
    CANCELLED = "cancelled", _("已撤销")


class LeaseChange(TimeStampedModel):
    """A renewal (续租) or move-out (退租: 现场验收, 押金结算) of a lease as a case on the shared workflow
    (``instance``). The lease changes only when the case is approved, through the lease services
    (``renew_lease``/``end_lease``); one open case per lease. ``settlement`` is the deposit settlement
    written when a move-out is approved: deposit, arrears, deposit applied to them, damages, refund."""

    park = models.ForeignKey(Park, verbose_name="园区", on_delete=models.CASCADE, related_name="lease_changes")
    lease = models.ForeignKey(Lease, verbose_name="合同", on_delete=models.PROTECT, related_name="changes")
    kind = models.CharField("类型", max_length=16, choices=LeaseChangeKind.choices)
    status = models.CharField("状态", max_length=16, choices=LeaseChangeStatus.choices,
                              default=LeaseChangeStatus.RUNNING)
    # set in the same transaction as the row (the instance's subject names the case: park.lease_change:<id>)
    instance = models.OneToOneField("workflow.Instance", verbose_name="审批流程", on_delete=models.PROTECT,
                                    related_name="+", null=True, blank=True)
    new_end_date = models.DateField("续租到期日", null=True, blank=True)
    new_monthly_rent = models.DecimalField("续租月租金（元）", max_digits=12, decimal_places=2, null=True, blank=True)
    new_escalation_pct = models.DecimalField("续租递增比例（%）", max_digits=5, decimal_places=2, null=True, blank=True)
    move_out_on = models.DateField("退租日", null=True, blank=True)
    reason = models.CharField("申请事由", max_length=500, blank=True)
    inspection = models.TextField("现场验收意见", blank=True)
    damages = models.DecimalField("损坏赔偿（元）", max_digits=12, decimal_places=2, default=0)
    deductions = models.DecimalField("其他扣款（元）", max_digits=12, decimal_places=2, default=0)
    settlement = models.JSONField("押金结算", default=dict, blank=True)
    requested_by = models.ForeignKey("accounts.User", verbose_name="申请登记人", null=True, blank=True,
                                     on_delete=models.SET_NULL, related_name="+")
    decided_at = models.DateTimeField("办结时间", null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = verbose_name_plural = "续租退租办件"
        constraints = [models.UniqueConstraint(fields=["lease"], condition=models.Q(status="running"),
                                               name="park_lease_change_open")]

    def __str__(self):
        return f"{self.lease.code} {self.get_kind_display()}"
