"""航天智慧安全云: log sources, normalised events (one leaf each of an SM3 RFC 6962 Merkle tree),
quarantined lines, Sigma rules, alerts and incidents, signed tree heads, department data keys.

Events are stored by day (``day``; retention deletes whole days) and are append-only: the tree head
row serialises appends and ``seq`` is the event's leaf index in the tree.
"""

from django.conf import settings
from django.db import models

from smartgov.core.models import TimeStampedModel


class Source(TimeStampedModel):
    """A registered log source of a department (日志源): syslog from a host, or JSON lines over HTTP."""

    class Kind(models.TextChoices):
        SYSLOG = "syslog", "Syslog"
        HTTP = "http", "HTTP JSON lines"
        PLATFORM = "platform", "平台审计日志"

    department = models.ForeignKey("accounts.Department", on_delete=models.PROTECT, related_name="log_sources",
                                   verbose_name="部门")
    name = models.CharField("名称", max_length=100)
    kind = models.CharField("类型", max_length=16, choices=Kind.choices)
    # syslog: the sender's address (UDP/TCP peer IP) that identifies this source
    address = models.GenericIPAddressField("发送地址", null=True, blank=True, unique=True)
    token_hash = models.CharField("令牌哈希(SM3)", max_length=64, blank=True, db_index=True)
    active = models.BooleanField("启用", default=True)
    received = models.BigIntegerField("接收条数", default=0)
    stored = models.BigIntegerField("入库条数", default=0)
    quarantined = models.BigIntegerField("隔离条数", default=0)
    last_seen = models.DateTimeField("最近接收", null=True, blank=True)

    class Meta:
        ordering = ["department__path", "name"]
        constraints = [models.UniqueConstraint(fields=["department", "name"], name="seccloud_source_unique_name")]
        verbose_name = "日志源"
        verbose_name_plural = "日志源"

    def __str__(self):
        return self.name


class Event(models.Model):
    """One normalised security event (规范化事件) and leaf ``seq`` of the log's Merkle tree."""

    seq = models.BigIntegerField("叶序号", primary_key=True)
    day = models.DateField("日期", db_index=True)
    at = models.DateTimeField("事件时间", db_index=True)
    received_at = models.DateTimeField("接收时间")
    source = models.ForeignKey(Source, on_delete=models.PROTECT, related_name="events", verbose_name="日志源")
    department = models.ForeignKey("accounts.Department", on_delete=models.PROTECT, related_name="+",
                                   verbose_name="部门")
    host = models.CharField("主机", max_length=255, blank=True)
    app = models.CharField("应用", max_length=64, blank=True)
    severity = models.PositiveSmallIntegerField("严重性", default=6)  # syslog severity 0 (emerg) … 7 (debug)
    user = models.CharField("用户", max_length=150, blank=True, db_index=True)
    src_ip = models.CharField("来源IP", max_length=45, blank=True, db_index=True)
    action = models.CharField("动作", max_length=100, blank=True, db_index=True)
    outcome = models.CharField("结果", max_length=16, blank=True)
    message = models.TextField("消息", blank=True)
    extra = models.JSONField("其他字段", default=dict, blank=True)
    raw = models.TextField("原始日志")
    leaf_hash = models.BinaryField("叶哈希", max_length=32)

    class Meta:
        ordering = ["-seq"]
        verbose_name = "安全事件"
        verbose_name_plural = "安全事件"

    def __str__(self):
        return f"#{self.seq} {self.action or self.app}"


class LogHead(models.Model):
    """The one row that serialises appends to the event log: size and Merkle frontier."""

    id = models.PositiveSmallIntegerField(primary_key=True, default=1)
    size = models.BigIntegerField(default=0)
    frontier = models.BinaryField(default=b"")

    class Meta:
        verbose_name = "日志树头"

    def __str__(self):
        return f"log {self.size}"

class LogTile(models.Model):
    """A tile of the log's Merkle tree (as Tessera/tlog tiles): up to 256 node hashes of tree level
    ``8 × stratum``, starting at node index ``index × 256``, and the tile's inner levels 4–8 (31 hashes
    at fixed places, ``store._inner_offset``), so a proof hashes at most 7 times per tile. Empty on
    tiles written before the levels were stored (0005): those are recomputed as before."""

    stratum = models.PositiveSmallIntegerField()
    index = models.BigIntegerField()
    hashes = models.BinaryField()
    levels = models.BinaryField(default=b"", blank=True, null=True)  # null: tiles of servers before 0005

    class Meta:
        constraints = [models.UniqueConstraint(fields=["stratum", "index"], name="seccloud_tile_unique")]

    def __str__(self):
        return f"tile {self.stratum}/{self.index}"

class TreeHead(models.Model):
    """A signed tree head (STH): the SM2-signed RFC 6962 root of the first ``tree_size`` events."""

    tree_size = models.BigIntegerField("叶数", primary_key=True)
    root = models.CharField("根哈希", max_length=64)
    timestamp_ms = models.BigIntegerField("时间戳(毫秒)")
    key_id = models.CharField("密钥ID", max_length=64)
    signature = models.TextField("SM2签名(DER, hex)")

    class Meta:
        ordering = ["-tree_size"]
        verbose_name = "签名树头"
        verbose_name_plural = "签名树头"

    def __str__(self):
        return f"STH {self.tree_size}"

class Quarantine(models.Model):
    """A line that could not be parsed or accepted (隔离区), kept with the reason — never dropped."""

    at = models.DateTimeField("接收时间", db_index=True)
    source = models.ForeignKey(Source, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    transport = models.CharField("通道", max_length=16)
    peer = models.CharField("对端", max_length=64, blank=True)
    reason = models.CharField("原因", max_length=64)
    detail = models.CharField("说明", max_length=255, blank=True)
    raw = models.TextField("原始内容")

    class Meta:
        ordering = ["-at"]
        verbose_name = "隔离日志"
        verbose_name_plural = "隔离日志"

    def __str__(self):
        return f"{self.reason}: {self.raw[:40]}"

class Rule(TimeStampedModel):
    """A Sigma rule (YAML, parsed by pySigma): a detection, or a correlation over detections."""

    class Kind(models.TextChoices):
        DETECTION = "detection", "检测规则"
        CORRELATION = "correlation", "关联规则"

    rule_id = models.CharField("规则ID", max_length=64, unique=True)
    title = models.CharField("名称", max_length=255)
    kind = models.CharField("类型", max_length=16, choices=Kind.choices)
    level = models.CharField("级别", max_length=16)
    tags = models.JSONField("标签", default=list)
    yaml = models.TextField("YAML")
    enabled = models.BooleanField("启用", default=True)
    builtin = models.BooleanField("内置", default=False)
    hits = models.BigIntegerField("命中次数", default=0)

    class Meta:
        ordering = ["title"]
        verbose_name = "检测规则"
        verbose_name_plural = "检测规则"

    def __str__(self):
        return self.title

    @property
    def attack_tags(self) -> list[str]:
        return [t for t in self.tags if t.startswith("attack.")]


class Signal(models.Model):
    """A match of a rule that a correlation rule counts (not itself an alert)."""

    rule = models.ForeignKey(Rule, on_delete=models.CASCADE, related_name="+")
    group_key = models.CharField(max_length=255)
    at = models.DateTimeField()
    event_seq = models.BigIntegerField()

    class Meta:
        indexes = [models.Index(fields=["rule", "group_key", "at"])]

    def __str__(self):
        return f"{self.rule_id} {self.group_key}"

class Incident(TimeStampedModel):
    """A security incident (安全事件处置单): alerts of one rule and group, worked by an analyst."""

    class Status(models.TextChoices):
        OPEN = "open", "待处理"
        INVESTIGATING = "investigating", "处置中"
        CLOSED = "closed", "已关闭"

    title = models.CharField("标题", max_length=255)
    severity = models.CharField("严重级别", max_length=16)
    status = models.CharField("状态", max_length=16, choices=Status.choices, default=Status.OPEN)
    group_key = models.CharField("归并键", max_length=300, db_index=True)
    department = models.ForeignKey("accounts.Department", on_delete=models.PROTECT, related_name="+",
                                   verbose_name="部门")
    assignee = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
                                 related_name="+", verbose_name="处置人")
    closed_at = models.DateTimeField("关闭时间", null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = "安全事件处置单"
        verbose_name_plural = "安全事件处置单"

    def __str__(self):
        return self.title


class Alert(models.Model):
    """A rule hit (告警) with severity and ATT&CK tags, grouped into an incident."""

    rule = models.ForeignKey(Rule, on_delete=models.PROTECT, related_name="alerts")
    at = models.DateTimeField("时间", db_index=True)
    created_at = models.DateTimeField("产生时间", auto_now_add=True)
    severity = models.CharField("严重级别", max_length=16)
    tags = models.JSONField("标签", default=list)
    group_key = models.CharField("分组", max_length=255, blank=True)
    summary = models.CharField("摘要", max_length=255)
    event_seqs = models.JSONField("事件", default=list)
    department = models.ForeignKey("accounts.Department", on_delete=models.PROTECT, related_name="+")
    incident = models.ForeignKey(Incident, on_delete=models.CASCADE, related_name="alerts", null=True)

    class Meta:
        ordering = ["-at"]
        verbose_name = "告警"
        verbose_name_plural = "告警"

    def __str__(self):
        return self.summary

class IncidentEntry(models.Model):
    """The incident's timeline: created, alert added, assigned, status changed, note."""

    incident = models.ForeignKey(Incident, on_delete=models.CASCADE, related_name="timeline")
    at = models.DateTimeField(auto_now_add=True)
    actor = models.CharField(max_length=150)
    kind = models.CharField(max_length=16)
    text = models.TextField(blank=True)

    class Meta:
        ordering = ["at", "id"]

    def __str__(self):
        return f"{self.kind}: {self.text[:40]}"


class DataKey(models.Model):
    """A department's SM4 data key (数据密钥), stored only wrapped by the master key (信封加密)."""

    department = models.ForeignKey("accounts.Department", on_delete=models.PROTECT, related_name="+",
                                   verbose_name="部门")
    version = models.PositiveIntegerField("版本")
    wrapped = models.BinaryField("封装后的密钥")  # SM4-GCM(master wrapping key, data key), aad = department, version
    master_version = models.PositiveIntegerField("主密钥版本")
    active = models.BooleanField("在用", default=True)
    created_at = models.DateTimeField("创建时间", auto_now_add=True)
    retired_at = models.DateTimeField("停用时间", null=True, blank=True)

    class Meta:
        ordering = ["department", "-version"]
        constraints = [
            models.UniqueConstraint(fields=["department", "version"], name="seccloud_datakey_version"),
            models.UniqueConstraint(fields=["department"], condition=models.Q(active=True),
                                    name="seccloud_one_active_datakey"),
        ]
        verbose_name = "数据密钥"
        verbose_name_plural = "数据密钥"

    def __str__(self):
        return f"{self.department_id} v{self.version}"


class KeyUsage(models.Model):
    """Every use of a data key (密钥使用记录): who, what for, when — never the key or the data."""

    key = models.ForeignKey(DataKey, on_delete=models.PROTECT, related_name="usages")
    at = models.DateTimeField(auto_now_add=True)
    actor = models.CharField(max_length=150)
    operation = models.CharField(max_length=16)  # create / encrypt / decrypt / rewrap / retire
    purpose = models.CharField(max_length=64, blank=True)

    class Meta:
        ordering = ["-at", "-id"]

    def __str__(self):
        return f"{self.operation} {self.key_id}"


class SelfCheck(models.Model):
    """A 等保 2.0 self-check: items with result and evidence, and a score. Blank ``system_name``: this
    platform, evaluated from its live configuration; otherwise a department system's questionnaire."""

    at = models.DateTimeField("时间", auto_now_add=True)
    actor = models.CharField("执行人", max_length=150)
    score = models.PositiveSmallIntegerField("得分")
    items = models.JSONField("检查项")
    system_name = models.CharField("系统名称", max_length=100, blank=True)
    department = models.ForeignKey("accounts.Department", on_delete=models.PROTECT, null=True, blank=True,
                                   related_name="+", verbose_name="部门")

    class Meta:
        ordering = ["-at", "-id"]
        verbose_name = "等保自查"
        verbose_name_plural = "等保自查"

    def __str__(self):
        return f"{self.system_name or 'SmartGov'} {self.score}"
