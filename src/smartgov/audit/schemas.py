from datetime import datetime

from ninja import Schema


class AuditEntryOut(Schema):
    seq: int
    at: datetime
    actor_id: int | None
    actor: str
    actor_role: str
    action: str
    target_type: str
    target_id: str
    target_label: str
    changes: str
    ip: str
    request_id: str
    hash: str

    @staticmethod
    def resolve_hash(obj) -> str:
        return obj.hash_hex


class VerifyOut(Schema):
    ok: bool
    entries: int
    checkpoints: int
    first_bad_seq: int | None
    problems: list[str]
    seconds: float
    workers: int
