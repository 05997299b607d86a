"""智能粮库: depots, warehouses with their cable grids, stored lots, grain-condition scans (粮情), alerts,
stock movements and checks, prices.

A scan is stored as ONE row: the temperatures of every point of the grid packed as little-endian float32
(NaN = no reading) in ``temps``, with the 三温两湿 and the per-scan analysis beside them. See
docs/adr/0006-grain-scan-storage.md for why (one row per point could not reach the ingest target).
"""

import math

import numpy as np
from django.core.exceptions import ValidationError
from django.db import models

from smartgov.core.models import TimeStampedModel

# GB 50320-2014 粮食平房仓设计规范 (测温电缆): cables no more than 5 m apart horizontally and
# measuring points no more than 2 m apart vertically.
MAX_CABLE_SPACING_M = 5.0
MAX_POINT_SPACING_M = 2.0


class Variety(models.TextChoices):
    WHEAT = "wheat", "小麦"
    CORN = "corn", "玉米"
    PADDY = "paddy", "稻谷"
    SOYBEAN = "soybean", "大豆"


class Owner(models.TextChoices):
    CENTRAL = "central", "中央储备粮"
    LOCAL = "local", "地方储备粮"
    COMMERCIAL = "commercial", "商品粮"


class WarehouseKind(models.TextChoices):
    FLAT = "flat", "平房仓"
    SQUAT_SILO = "squat_silo", "浅圆仓"
    STEEL_SILO = "steel_silo", "钢板仓"


class Region(models.TextChoices):
    SOUTH = "south", "长江以南"
    NORTH = "north", "长江以北"


class Depot(TimeStampedModel):
    """库点. Its ``department`` is the depot's own unit in the org tree (under a grain bureau), so bureau
    supervisors see every depot below them and depot staff see their own."""

    department = models.OneToOneField("accounts.Department", verbose_name="所属单位", on_delete=models.PROTECT,
                                      related_name="grain_depot")
    code = models.CharField("库点编码", max_length=32, unique=True)
    name = models.CharField("库点名称", max_length=100)
    region = models.CharField("地区", max_length=8, choices=Region.choices, default=Region.NORTH)
    address = models.CharField("地址", max_length=200, blank=True)

    class Meta:
        ordering = ["code"]
        verbose_name = verbose_name_plural = "库点"

    def __str__(self):
        return f"{self.name}（{self.code}）"


class Warehouse(TimeStampedModel):
    """仓房 with its temperature-cable grid: ``rows`` × ``cols`` cables, ``layers`` points per cable.

    Point index ``i = (layer * rows + row) * cols + col``; layer 0 is the top (表层)."""

    depot = models.ForeignKey(Depot, verbose_name="库点", on_delete=models.PROTECT, related_name="warehouses")
    code = models.CharField("仓号", max_length=32)
    name = models.CharField("仓房名称", max_length=100, blank=True)
    kind = models.CharField("仓型", max_length=16, choices=WarehouseKind.choices, default=WarehouseKind.FLAT)
    capacity_t = models.DecimalField("设计仓容（吨）", max_digits=12, decimal_places=1)
    length_m = models.FloatField("长/直径（米）")
    width_m = models.FloatField("宽/直径（米）")
    grain_height_m = models.FloatField("装粮高度（米）")
    rows = models.PositiveSmallIntegerField("电缆行数")
    cols = models.PositiveSmallIntegerField("电缆列数")
    layers = models.PositiveSmallIntegerField("测温层数")

    class Meta:
        ordering = ["depot__code", "code"]
        constraints = [models.UniqueConstraint(fields=["depot", "code"], name="grain_warehouse_code_unique")]
        verbose_name = verbose_name_plural = "仓房"

    def __str__(self):
        return f"{self.depot.code}-{self.code}"

    @property
    def points(self) -> int:
        return self.rows * self.cols * self.layers

    def clean(self):
        errors = {}
        for field in ("rows", "cols", "layers"):
            value = getattr(self, field)
            if value is not None and not 1 <= value <= 200:
                errors[field] = "应在1到200之间"
        for field in ("length_m", "width_m", "grain_height_m"):
            value = getattr(self, field)
            if value is not None and not (0 < value <= 200):
                errors[field] = "应为正数（米）"
        if not errors and None not in (self.rows, self.cols, self.length_m, self.width_m):
            if self.length_m / self.rows > MAX_CABLE_SPACING_M or self.width_m / self.cols > MAX_CABLE_SPACING_M:
                errors["rows"] = f"测温电缆间距不得大于{MAX_CABLE_SPACING_M:g}米（GB 50320）"
        if not errors and None not in (self.layers, self.grain_height_m):
            if self.grain_height_m / self.layers > MAX_POINT_SPACING_M:
                errors["layers"] = f"测温点垂直间距不得大于{MAX_POINT_SPACING_M:g}米（GB 50320）"
        if errors:
            raise ValidationError(errors)

    def positions(self) -> np.ndarray:
        """(points, 3) array of each point's x, y, z in metres (z from the floor), in index order."""
        dx, dy, dz = self.length_m / self.rows, self.width_m / self.cols, self.grain_height_m / self.layers
        k, r, c = np.meshgrid(np.arange(self.layers), np.arange(self.rows), np.arange(self.cols), indexing="ij")
        x = (r + 0.5) * dx
        y = (c + 0.5) * dy
        z = self.grain_height_m - (k + 0.5) * dz
        return np.stack([x.ravel(), y.ravel(), z.ravel()], axis=1)

    def point_label(self, index: int) -> str:
        layer, rest = divmod(index, self.rows * self.cols)
        row, col = divmod(rest, self.cols)
        return f"第{layer + 1}层 {row + 1}行{col + 1}列"


class Lot(TimeStampedModel):
    """货位/批次: grain stored in a warehouse."""

    warehouse = models.ForeignKey(Warehouse, verbose_name="仓房", on_delete=models.PROTECT, related_name="lots")
    variety = models.CharField("品种", max_length=16, choices=Variety.choices)
    grade = models.PositiveSmallIntegerField("等级", default=3)
    harvest_year = models.PositiveSmallIntegerField("收获年度")
    owner = models.CharField("粮权", max_length=16, choices=Owner.choices)
    tonnes = models.DecimalField("数量（吨）", max_digits=12, decimal_places=3)
    moisture = models.FloatField("水分（%）")
    storage_start = models.DateField("入仓日期")
    active = models.BooleanField("在储", default=True)

    class Meta:
        ordering = ["warehouse_id", "-storage_start"]
        verbose_name = verbose_name_plural = "储粮批次"

    def __str__(self):
        return f"{self.get_variety_display()} {self.harvest_year} {self.tonnes}吨"

    def clean(self):
        errors = {}
        if self.grade is not None and not 1 <= self.grade <= 5:
            errors["grade"] = "等级应为1到5等"
        if self.moisture is not None and not 5 <= self.moisture <= 35:
            errors["moisture"] = "水分应在5%到35%之间"
        if self.tonnes is not None and self.tonnes < 0:
            errors["tonnes"] = "数量不能为负"
        if errors:
            raise ValidationError(errors)


class TempClass(models.TextChoices):
    LOW = "low", "低温"
    QUASI_LOW = "quasi_low", "准低温"
    NORMAL = "normal", "常温"


class Source(models.TextChoices):
    MQTT = "mqtt", "MQTT"
    HTTP = "http", "HTTP"
    CSV = "csv", "CSV"


class Scan(models.Model):
    """One grain-condition scan (一次粮情检测) of a warehouse: every point plus 三温两湿, gases, analysis.

    Unique by (warehouse, taken_at): a replayed scan is stored once."""

    warehouse = models.ForeignKey(Warehouse, verbose_name="仓房", on_delete=models.PROTECT, related_name="scans")
    taken_at = models.DateTimeField("检测时间")
    received_at = models.DateTimeField("接收时间")
    source = models.CharField("来源", max_length=8, choices=Source.choices)
    temps = models.BinaryField("各点粮温（float32）")
    air_temp = models.FloatField("仓温", null=True)
    air_rh = models.FloatField("仓湿", null=True)
    out_temp = models.FloatField("气温", null=True)
    out_rh = models.FloatField("气湿", null=True)
    o2 = models.FloatField("氧气（%）", null=True)
    co2 = models.FloatField("二氧化碳（ppm）", null=True)
    ph3 = models.FloatField("磷化氢（ppm）", null=True)
    moisture = models.FloatField("粮食水分（%）", null=True)
    t_max = models.FloatField("最高粮温", null=True)
    t_min = models.FloatField("最低粮温", null=True)
    t_mean = models.FloatField("平均粮温", null=True)
    layer_stats = models.TextField("分层统计")  # JSON [[max, min, mean], ...] top layer first
    faulty = models.TextField("故障点")  # JSON [{"i", "why", "value"}]
    hot = models.TextField("发热点")  # JSON [{"i", "why", "value", "ref"}]
    stuck = models.BinaryField("连续不变次数（uint16）及起始层均温（float32）")
    temp_class = models.CharField("温控类型", max_length=12, choices=TempClass.choices)
    next_check_days = models.PositiveSmallIntegerField("检测周期（天）")

    class Meta:
        ordering = ["warehouse_id", "-taken_at"]
        constraints = [models.UniqueConstraint(fields=["warehouse", "taken_at"], name="grain_scan_once")]
        verbose_name = verbose_name_plural = "粮情检测"

    def __str__(self):
        return f"{self.warehouse_id}@{self.taken_at:%Y-%m-%d %H:%M}"

    def temperature_array(self) -> np.ndarray:
        return np.frombuffer(bytes(self.temps), dtype="<f4")

    @staticmethod
    def clean_float(value):
        return None if value is None or (isinstance(value, float) and math.isnan(value)) else value


class AlertKind(models.TextChoices):
    HOT_SPOT = "hot_spot", "发热点"
    RISING = "rising", "粮温上升过快"
    FAULTY = "faulty", "测温点故障"
    HIGH_TEMP = "high_temp", "粮温过高"
    GAS = "gas", "气体浓度异常"


class AlertStatus(models.TextChoices):
    OPEN = "open", "待处理"
    ACKNOWLEDGED = "acknowledged", "处理中"
    RESOLVED = "resolved", "已处置"


class Alert(TimeStampedModel):
    """粮情预警: raised by scan analysis; one open alert per (warehouse, kind), refreshed by later scans.
    Supervisors see them; depot staff handle them (acknowledge, resolve with a note)."""

    warehouse = models.ForeignKey(Warehouse, verbose_name="仓房", on_delete=models.PROTECT, related_name="alerts")
    kind = models.CharField("类型", max_length=16, choices=AlertKind.choices)
    status = models.CharField("状态", max_length=16, choices=AlertStatus.choices, default=AlertStatus.OPEN)
    message = models.CharField("说明", max_length=300)
    points = models.JSONField("相关测温点", default=list)
    first_at = models.DateTimeField("首次发现")
    last_at = models.DateTimeField("最近发现")
    scans = models.PositiveIntegerField("检测次数", default=1)
    handled_by = models.ForeignKey("accounts.User", verbose_name="处理人", null=True, blank=True,
                                   on_delete=models.PROTECT, related_name="+")
    handled_at = models.DateTimeField("处理时间", null=True, blank=True)
    note = models.CharField("处理说明", max_length=500, blank=True)

    class Meta:
        ordering = ["-last_at"]
        constraints = [models.UniqueConstraint(fields=["warehouse", "kind"], condition=~models.Q(status="resolved"),
                                               name="grain_one_open_alert")]
        verbose_name = verbose_name_plural = "粮情预警"

    def __str__(self):
        return f"{self.get_kind_display()} {self.warehouse_id}"


class Parameters(models.Model):
    """The editable parameters of analysis and ventilation advice (one row; defaults in analysis.py)."""

    values = models.JSONField("参数", default=dict)
    updated_at = models.DateTimeField("更新时间", auto_now=True)

    class Meta:
        verbose_name = verbose_name_plural = "粮情参数"

    def __str__(self):
        return "粮情参数"


class MovementKind(models.TextChoices):
    INTAKE = "intake", "入库"
    OUTTAKE = "outtake", "出库"


class Movement(TimeStampedModel):
    """出入库 over the weighbridge: net = gross − tare; settled = net − moisture and impurity deductions."""

    warehouse = models.ForeignKey(Warehouse, verbose_name="仓房", on_delete=models.PROTECT, related_name="movements")
    kind = models.CharField("类型", max_length=8, choices=MovementKind.choices)
    variety = models.CharField("品种", max_length=16, choices=Variety.choices)
    vehicle = models.CharField("车牌号", max_length=16)
    gross_kg = models.DecimalField("毛重（kg）", max_digits=10, decimal_places=1)
    tare_kg = models.DecimalField("皮重（kg）", max_digits=10, decimal_places=1)
    moisture = models.FloatField("水分（%）")
    impurity = models.FloatField("杂质（%）")
    grade = models.PositiveSmallIntegerField("等级")
    deduction_kg = models.DecimalField("扣量（kg）", max_digits=10, decimal_places=1)
    settled_kg = models.DecimalField("结算重量（kg）", max_digits=10, decimal_places=1)
    balance_t = models.DecimalField("结存（吨）", max_digits=12, decimal_places=3)
    at = models.DateTimeField("过磅时间")
    by = models.ForeignKey("accounts.User", verbose_name="经办人", null=True, on_delete=models.PROTECT,
                           related_name="+")

    class Meta:
        ordering = ["warehouse_id", "at", "pk"]
        verbose_name = verbose_name_plural = "出入库"

    def __str__(self):
        return f"{self.get_kind_display()} · {self.warehouse} · {self.vehicle}"


class StockCheck(TimeStampedModel):
    """库存检查 (账实相符): measured volume × bulk density against the book, ± tolerance."""

    warehouse = models.ForeignKey(Warehouse, verbose_name="仓房", on_delete=models.PROTECT,
                                  related_name="stock_checks")
    checked_on = models.DateField("检查日期")
    volume_m3 = models.FloatField("测量体积（m³）")
    bulk_density = models.FloatField("容重（kg/m³）")
    allowed_loss_t = models.DecimalField("合理损耗（吨）", max_digits=12, decimal_places=3)
    measured_t = models.DecimalField("实测数量（吨）", max_digits=12, decimal_places=3)
    book_t = models.DecimalField("账面数量（吨）", max_digits=12, decimal_places=3)
    difference_pct = models.FloatField("差率（%）")
    within_tolerance = models.BooleanField("账实相符")
    by = models.ForeignKey("accounts.User", verbose_name="检查人", null=True, on_delete=models.PROTECT,
                           related_name="+")

    class Meta:
        ordering = ["-checked_on", "-pk"]
        verbose_name = verbose_name_plural = "库存检查"

    def __str__(self):
        return f"账实核对 {self.warehouse} · {self.checked_on}"


class Price(models.Model):
    """粮食价格 by variety, region and date (元/吨)."""

    variety = models.CharField("品种", max_length=16, choices=Variety.choices)
    region = models.CharField("地区", max_length=32)
    on = models.DateField("日期")
    yuan_per_t = models.DecimalField("价格（元/吨）", max_digits=10, decimal_places=2)

    class Meta:
        ordering = ["variety", "region", "on"]
        constraints = [models.UniqueConstraint(fields=["variety", "region", "on"], name="grain_price_once")]
        verbose_name = verbose_name_plural = "粮食价格"

    def __str__(self):
        return f"{self.variety} {self.region} {self.on} {self.yuan_per_t}"
