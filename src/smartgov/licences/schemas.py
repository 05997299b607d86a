import datetime
from typing import Literal

from ninja import Schema
from pydantic import Field

from .selectors import payload_for


class LicenceOut(Schema):
    """A licence as the API shows it: the holder by name and masked ID number (or USCC), never clear."""

    id: int
    identifier: str
    type_code: str
    type_name: str
    holder_kind: Literal["person", "enterprise"]
    holder_name: str
    holder_id: str
    issuer: str
    issuer_uscc: str
    issued_on: datetime.date
    valid_from: datetime.date
    valid_until: datetime.date | None
    status: str
    status_label: str
    revocation_reason: str
    trust_level: str
    trust_level_label: str
    data: dict[str, str]
    version: int
    key_id: str
    payload: str

    @staticmethod
    def resolve_type_code(obj):
        return obj.licence_type.code

    @staticmethod
    def resolve_type_name(obj):
        return obj.licence_type.name

    @staticmethod
    def resolve_holder_kind(obj):
        return "person" if obj.holder_person_id else "enterprise"

    @staticmethod
    def resolve_holder_id(obj):
        return obj.holder_public_id

    @staticmethod
    def resolve_issuer(obj):
        return obj.department.name

    @staticmethod
    def resolve_status(obj):
        return obj.effective_status()

    @staticmethod
    def resolve_status_label(obj):
        return obj.effective_status_label

    @staticmethod
    def resolve_trust_level_label(obj):
        return obj.get_trust_level_display()

    @staticmethod
    def resolve_payload(obj):
        return payload_for(obj)


class HolderIn(Schema):
    kind: Literal["person", "enterprise"]
    code: str = Field(min_length=1, max_length=32, description="身份证号码（自然人）或统一社会信用代码（法人）")


class IssueIn(Schema):
    type_code: str = Field(min_length=2, max_length=20)
    holder: HolderIn
    data: dict = Field(default_factory=dict)
    valid_from: datetime.date | None = None
    trust_level: Literal["A", "B", "C", "D"] = "A"


class ReasonIn(Schema):
    reason: str = Field(min_length=1, max_length=500)


class VerifyIn(Schema):
    payload: str = Field(min_length=1, max_length=8192)


class VerifiedLicence(Schema):
    """The public claims of a licence whose signature verified (as signed: holder ID masked)."""

    identifier: str
    type_name: str
    holder_name: str
    holder_id: str
    issuer: str
    issued_on: str
    valid_from: str
    valid_until: str | None
    data: dict


class VerifyOut(Schema):
    ok: bool
    code: str
    message: str
    licence: VerifiedLicence | None = None


class ShareIn(Schema):
    type_code: str = Field(min_length=2, max_length=20)
    holder: HolderIn
    purpose: str = ""
    legal_basis: str = ""
    consent_reference: str = ""
