import datetime

from ninja import Schema
from pydantic import Field


class ResourceOut(Schema):
    code: str
    name: str
    department: str
    department_code: str
    share_type: str
    version: int
    content: dict


class ResourceIn(Schema):
    code: str
    name: str
    share_type: str
    content: dict


class AgreementIn(Schema):
    resource: str
    purpose: str
    legal_basis: str
    fields: list[str]
    valid_until: datetime.date
    rate_limit: int = 60
    clear_fields: list[str] = []
    keep_content: bool = False


class DecisionIn(Schema):
    fields: list[str] | None = None
    clear_fields: list[str] | None = None
    rate_limit: int | None = None
    reason: str = ""


class ReasonIn(Schema):
    reason: str


class AgreementOut(Schema):
    id: int
    resource: str
    resource_name: str
    provider: str
    consumer: str
    status: str
    effective_status: str
    purpose: str
    legal_basis: str
    requested_fields: list[str]
    fields: list[str]
    clear_fields: list[str]
    keep_content: bool
    rate_limit: int
    valid_from: datetime.date
    valid_until: datetime.date
    reason: str
    decided_by: str


class CallIn(Schema):
    params: dict
    fields: list[str] | None = None
    purpose: str = ""


class CallOut(Schema):
    message_id: str
    resource: str
    found: bool
    data: dict
    masked: list[str]


class MessageOut(Schema):
    message_id: str
    at: datetime.datetime
    resource: str | None
    consumer: str | None
    provider: str | None
    caller: str
    purpose: str
    outcome: str
    reason: str
    http_status: int
    latency_ms: float
    request_sm3: str
    response_sm3: str
    batch: int | None


class SubscriptionIn(Schema):
    resource: str
    url: str = ""
    handler: str = ""


class SubscriptionOut(Schema):
    id: int
    resource: str
    url: str
    handler: str
    secret: str = Field("", description="HMAC-SM3 密钥，仅创建时返回一次")


class EventIn(Schema):
    event_type: str
    subject: str
    data: dict = {}


class EventOut(Schema):
    event_id: str
    offset: int


class ReplayIn(Schema):
    offset: int


class CountOut(Schema):
    count: int


class ImportOut(Schema):
    imported: int
