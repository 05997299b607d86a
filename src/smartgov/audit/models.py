"""The tamper-evident audit trail (审计日志).

Each entry is chained to the previous one by SM3: ``hash = SM3(hash of entry n-1 ‖ canonical(entry))``
(32 zero bytes before the first). Hashes are stored as 32 raw bytes.
Periodic checkpoints sign, with the platform's SM2 key, the root of a Merkle tree over every entry
hash so far, built as RFC 6962 §2.1 does (0x00 leaf / 0x01 node prefixes) with SM3 as the hash.
Rows are append-only: the admin offers no change or delete, and on PostgreSQL a trigger refuses
UPDATE and DELETE.
"""

from datetime import UTC, datetime

from django.db import models


class AuditEntry(models.Model):
    seq = models.BigIntegerField("序号", primary_key=True)
    at_us = models.BigIntegerField("时间(微秒)", db_index=True)
    actor_id = models.BigIntegerField("操作人ID", null=True, blank=True)
    actor = models.CharField("操作人", max_length=150, blank=True)
    actor_role = models.CharField("角色", max_length=32, blank=True)
    department_id = models.BigIntegerField("操作人部门ID", null=True, blank=True)
    action = models.CharField("操作", max_length=64, db_index=True)
    target_type = models.CharField("对象类型", max_length=64, blank=True)
    target_id = models.CharField("对象ID", max_length=64, blank=True)
    target_label = models.CharField("对象", max_length=200, blank=True)
    changes = models.TextField("变更内容", blank=True)  # canonical JSON (sorted keys), hashed as stored
    ip = models.CharField("来源IP", max_length=45, blank=True)
    request_id = models.CharField("请求ID", max_length=32, blank=True)
    hash = models.BinaryField("SM3哈希", max_length=32)

    class Meta:
        ordering = ["-seq"]
        verbose_name = "审计日志"
        verbose_name_plural = "审计日志"
        # few indexes on purpose: each one is written on every append
        indexes = [models.Index(fields=["target_type", "target_id"])]

    def __str__(self):
        return f"#{self.seq} {self.action}"

    @property
    def at(self) -> datetime:
        return datetime.fromtimestamp(self.at_us / 1_000_000, tz=UTC)

    @property
    def hash_hex(self) -> str:
        return bytes(self.hash).hex()

    def canonical_row(self) -> tuple:
        return (self.seq, self.at_us, self.actor_id, self.actor, self.actor_role, self.department_id, self.action,
                self.target_type, self.target_id, self.target_label, self.changes, self.ip, self.request_id)


class AuditHead(models.Model):
    """The one row that serialises appends: last sequence number, last hash, Merkle frontier."""

    id = models.PositiveSmallIntegerField(primary_key=True, default=1)
    seq = models.BigIntegerField(default=0)
    hash = models.BinaryField(max_length=32)
    frontier = models.BinaryField(default=b"")  # 32-byte subtree roots, largest first, concatenated

    class Meta:
        verbose_name = "审计链头"

    def __str__(self):
        return f"head {self.seq}"


class Checkpoint(models.Model):
    """An SM2-signed Merkle root over the first ``tree_size`` entries (签名检查点)."""

    tree_size = models.BigIntegerField("条目数", primary_key=True)
    root = models.CharField("Merkle根", max_length=64)
    last_hash = models.CharField("末条哈希", max_length=64)
    signed_at = models.DateTimeField("签名时间")
    key_id = models.CharField("密钥ID", max_length=64)
    signature = models.TextField("SM2签名(DER, hex)")

    class Meta:
        ordering = ["-tree_size"]
        verbose_name = "审计检查点"
        verbose_name_plural = "审计检查点"

    def __str__(self):
        return f"checkpoint {self.tree_size}"


class Verification(models.Model):
    """The result of one full verification of the trail (``selectors.verify_trail``), kept so that screens show
    the chain's status without re-hashing every entry on each look (the city overview's 审计链状态)."""

    checked_at = models.DateTimeField("校验时间", db_index=True)
    ok = models.BooleanField("通过")
    entries = models.BigIntegerField("校验条目数")
    checkpoints = models.IntegerField("检查点数")
    first_bad_seq = models.BigIntegerField("首个问题条目", null=True, blank=True)
    problems = models.JSONField("问题", default=list, blank=True)
    uncovered_entries = models.BigIntegerField("未签名条目数", default=0)
    seconds = models.FloatField("用时(秒)")
    actor = models.CharField("执行人", max_length=150)

    class Meta:
        ordering = ["-checked_at", "-id"]
        verbose_name = "审计链校验"
        verbose_name_plural = "审计链校验"

    def __str__(self):
        return f"verify {self.checked_at:%Y-%m-%d %H:%M} {'ok' if self.ok else 'FAILED'}"
