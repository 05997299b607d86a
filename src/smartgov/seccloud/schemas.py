"""Pydantic (Ninja) in/out schemas of the seccloud API."""

from datetime import datetime

from ninja import Schema


class IngestOut(Schema):
    received: int
    stored: int
    quarantined: int
    alerts: int


class EventOut(Schema):
    seq: int
    at: datetime
    source_id: int
    host: str
    app: str
    severity: int
    user: str
    src_ip: str
    action: str
    outcome: str
    message: str
    raw: str


class EventFilter(Schema):
    q: str = ""
    source: int | None = None
    host: str = ""
    app: str = ""
    user: str = ""
    src_ip: str = ""
    action: str = ""
    outcome: str = ""
    since: datetime | None = None
    until: datetime | None = None


class SourceIn(Schema):
    department_id: int
    name: str
    kind: str
    address: str | None = None


class SourceOut(Schema):
    id: int
    department_id: int
    name: str
    kind: str
    address: str | None
    active: bool
    received: int
    stored: int
    quarantined: int


class SourceCreated(SourceOut):
    token: str


class RuleOut(Schema):
    id: int
    rule_id: str
    title: str
    kind: str
    level: str
    tags: list[str]
    enabled: bool
    builtin: bool
    hits: int


class RuleIn(Schema):
    yaml: str


class IncidentOut(Schema):
    id: int
    title: str
    severity: str
    status: str
    assignee_id: int | None
    department_id: int
    created_at: datetime


class StatusIn(Schema):
    status: str
    note: str = ""


class TreeHeadOut(Schema):
    tree_size: int
    root: str
    timestamp_ms: int
    key_id: str
    signature: str


class ProofOut(Schema):
    tree_size: int
    leaf_index: int | None = None
    first: int | None = None
    second: int | None = None
    leaf_hash: str | None = None
    proof: list[str]


class PublicKeyOut(Schema):
    key_id: str
    department: str
    department_code: str
    public_pem: str
    active: bool
