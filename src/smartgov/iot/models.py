"""The shared IoT layer (物联网接入): devices with their own credentials, telemetry, alarm rules and alarms.

Every app with devices (park's meters and sensors, and any other) registers them here with ``app`` naming
the owner and ``tags`` placing the device in the owner's world (``{"park": 1, "building": 3, "unit": 17}``);
the owner never needs its own device table. Field names of telemetry follow FIWARE Smart Data Models where
one exists (``activePower``, ``totalActiveEnergyImport``, ``temperature``, ``relativeHumidity``, ``pm25``,
``co2``, ``noiseLevel``)."""

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from smartgov.core.models import TimeStampedModel


class Device(TimeStampedModel):
    """A device (设备). ``code`` is also its MQTT user name; ``secret_hash`` is its password in Mosquitto's
    PBKDF2-SHA512 form (``$7$…``), so the broker's password file is written straight from this table and
    the HTTP ingest checks the same secret. The secret itself is shown once, at provisioning."""

    department = models.ForeignKey("accounts.Department", verbose_name="所属单位", on_delete=models.PROTECT,
                                   related_name="iot_devices")
    app = models.CharField("所属应用", max_length=32, db_index=True)
    code = models.SlugField("设备编码", max_length=64, unique=True)
    name = models.CharField("名称", max_length=100)
    kind = models.CharField("类型", max_length=32, db_index=True)
    tags = models.JSONField("位置标签", default=dict, blank=True)
    secret_hash = models.CharField("凭证摘要", max_length=200, editable=False)
    active = models.BooleanField("启用", default=True)
    last_seen_at = models.DateTimeField("最后上报", null=True, blank=True)
    last_values = models.JSONField("最新读数", default=dict, blank=True)

    class Meta:
        ordering = ["code"]
        verbose_name = verbose_name_plural = "设备"

    def __str__(self):
        return f"{self.code} {self.name}"


class Telemetry(models.Model):
    """One message of one device: its time and its values (``{"activePower": 12.5, ...}``). Unique by
    (device, time): a redelivered message is stored once."""

    device = models.ForeignKey(Device, on_delete=models.CASCADE, related_name="+")
    ts = models.DateTimeField("采集时间")
    received_at = models.DateTimeField("接收时间")
    data = models.JSONField("读数")

    class Meta:
        verbose_name = verbose_name_plural = "遥测数据"
        constraints = [models.UniqueConstraint(fields=["device", "ts"], name="iot_telemetry_device_ts")]

    def __str__(self):
        return f"{self.device_id}@{self.ts:%Y-%m-%d %H:%M:%S}"


class RuleKind(models.TextChoices):
    TELEMETRY = "telemetry", _("读数条件")
    NO_DATA = "no_data", _("无数据")


class Severity(models.TextChoices):
    CRITICAL = "critical", _("紧急")
    MAJOR = "major", _("重要")
    MINOR = "minor", _("一般")
    WARNING = "warning", _("提示")


class AlarmRule(TimeStampedModel):
    """告警规则. Applies to the devices of its department (and below) that match its target: one device, a
    device type, or a tag (``building`` = 3). A telemetry rule is conditions joined by AND or OR, each
    ``{"key", "cmp", "value", "for_seconds"}`` (above X for N seconds); a no-data rule fires when a
    matching device has sent nothing for ``no_data_minutes``. See docs/iot.md for the exact semantics."""

    department = models.ForeignKey("accounts.Department", verbose_name="所属单位", on_delete=models.PROTECT,
                                   related_name="iot_rules")
    app = models.CharField("所属应用", max_length=32, db_index=True)
    name = models.CharField("名称", max_length=100)
    kind = models.CharField("类型", max_length=16, choices=RuleKind.choices, default=RuleKind.TELEMETRY)
    severity = models.CharField("级别", max_length=16, choices=Severity.choices, default=Severity.MAJOR)
    device = models.ForeignKey(Device, verbose_name="设备", null=True, blank=True, on_delete=models.CASCADE,
                               related_name="rules")
    device_kind = models.CharField("设备类型", max_length=32, blank=True)
    tag_key = models.CharField("标签", max_length=32, blank=True)
    tag_value = models.CharField("标签值", max_length=64, blank=True)
    match = models.CharField("条件组合", max_length=3, choices=[("and", _("全部满足")), ("or", _("任一满足"))],
                             default="and")
    conditions = models.JSONField("条件", default=list, blank=True)
    no_data_minutes = models.PositiveIntegerField("无数据分钟数", null=True, blank=True)
    # 告警升级: an alarm of this rule still unacknowledged this long after it was raised is escalated (the
    # department's admins notified); None: never
    escalate_after_minutes = models.PositiveIntegerField("未确认升级分钟数", null=True, blank=True)
    enabled = models.BooleanField("启用", default=True)

    class Meta:
        ordering = ["name"]
        verbose_name = verbose_name_plural = "告警规则"
        constraints = [models.UniqueConstraint(fields=["department", "app", "name"], name="iot_rule_name")]

    def __str__(self):
        return self.name


class RuleState(models.Model):
    """Where a telemetry rule stands for one device: the time of the last reading evaluated and, per
    condition, since when it has held without a break (``None`` = not holding)."""

    rule = models.ForeignKey(AlarmRule, on_delete=models.CASCADE, related_name="+")
    device = models.ForeignKey(Device, on_delete=models.CASCADE, related_name="+")
    last_ts = models.DateTimeField()
    since = models.JSONField(default=list)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["rule", "device"], name="iot_rulestate_rule_device")]

    def __str__(self):
        return f"{self.rule_id}/{self.device_id}"


class AlarmStatus(models.TextChoices):
    ACTIVE = "active", _("未确认")
    ACKNOWLEDGED = "acknowledged", _("已确认")
    CLEARED = "cleared", _("已消除")


OPEN_STATUSES = (AlarmStatus.ACTIVE, AlarmStatus.ACKNOWLEDGED)


class Alarm(models.Model):
    """告警. Open (active or acknowledged) at most once per rule and device; cleared when the rule stops
    holding (a reading that breaks it, or data again after silence) — acknowledged or not."""

    rule = models.ForeignKey(AlarmRule, verbose_name="规则", on_delete=models.CASCADE, related_name="alarms")
    device = models.ForeignKey(Device, verbose_name="设备", on_delete=models.CASCADE, related_name="alarms")
    department = models.ForeignKey("accounts.Department", on_delete=models.PROTECT, related_name="+")
    app = models.CharField(max_length=32, db_index=True)
    severity = models.CharField("级别", max_length=16, choices=Severity.choices)
    status = models.CharField("状态", max_length=16, choices=AlarmStatus.choices, default=AlarmStatus.ACTIVE)
    raised_at = models.DateTimeField("发生时间")
    created_at = models.DateTimeField("入库时间", auto_now_add=True)
    details = models.JSONField("详情", default=dict)
    acknowledged_at = models.DateTimeField("确认时间", null=True, blank=True)
    acknowledged_by = models.ForeignKey("accounts.User", null=True, blank=True, on_delete=models.PROTECT,
                                        related_name="+")
    cleared_at = models.DateTimeField("消除时间", null=True, blank=True)
    escalated_at = models.DateTimeField("升级时间", null=True, blank=True)
    escalated_to = models.JSONField("升级通知对象", null=True, blank=True)  # the user names notified

    class Meta:
        ordering = ["-raised_at"]
        verbose_name = verbose_name_plural = "告警"
        constraints = [models.UniqueConstraint(fields=["rule", "device"], condition=~Q(status="cleared"),
                                               name="iot_alarm_one_open")]
        indexes = [models.Index(fields=["app", "status"], name="iot_alarm_app_status")]

    def __str__(self):
        return f"{self.rule} · {self.device_id} · {self.get_status_display()}"
