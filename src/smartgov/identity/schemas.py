from datetime import date, datetime

from django.urls import NoReverseMatch, reverse
from ninja import Schema
from pydantic import Field

from smartgov.core.masking import mask_id_number, mask_phone


class PersonOut(Schema):
    """A person as the register shows it: ID number and phone masked (脱敏)."""

    id: int
    name: str
    id_number: str
    sex: str
    birth_date: date
    nationality: str
    region_code: str
    address: str
    phone: str | None
    department_id: int | None
    created_at: datetime

    @staticmethod
    def resolve_id_number(obj) -> str:
        return mask_id_number(obj.id_number)

    @staticmethod
    def resolve_phone(obj) -> str | None:
        return mask_phone(obj.phone) if obj.phone else None


class PersonIn(Schema):
    name: str = Field(min_length=1, max_length=100)
    id_number: str = Field(min_length=1, max_length=32)
    nationality: str = "CHN"
    region_code: str = ""
    address: str = ""
    phone: str | None = None


class PersonPatch(Schema):
    name: str | None = None
    nationality: str | None = None
    region_code: str | None = None
    address: str | None = None
    phone: str | None = None


class LookupIn(Schema):
    id_number: str = Field(min_length=1, max_length=32)


class PersonalDataOut(Schema):
    id_number: str
    phone: str | None


class EnterpriseOut(Schema):
    id: int
    name: str
    uscc: str
    legal_representative_id: int | None
    legal_representative_name: str | None
    region_code: str
    address: str
    status: str
    status_label: str
    established_on: date | None
    department_id: int | None

    @staticmethod
    def resolve_legal_representative_name(obj) -> str | None:
        return obj.legal_representative.name if obj.legal_representative_id else None

    @staticmethod
    def resolve_status_label(obj) -> str:
        return obj.get_status_display()


class EnterpriseIn(Schema):
    name: str = Field(min_length=1, max_length=200)
    uscc: str = Field(min_length=1, max_length=32)
    legal_representative_id_number: str | None = None
    region_code: str = ""
    address: str = ""
    status: str = "active"
    established_on: date | None = None


class EnterprisePatch(Schema):
    name: str | None = None
    region_code: str | None = None
    address: str | None = None
    status: str | None = None
    established_on: date | None = None
    legal_representative_id_number: str | None = None


class ImportErrorOut(Schema):
    row: int
    column: str
    message: str
    value: str


class ImportOut(Schema):
    """The outcome of an import. ``committed`` is false when nothing was written (errors, all-or-nothing)."""

    id: int
    kind: str
    file_name: str
    file_sm3: str
    valid_only: bool
    total_rows: int
    imported: int
    rejected: int
    committed: bool
    error_count: int
    errors: list[ImportErrorOut]
    errors_truncated: bool
    report_url: str | None

    @staticmethod
    def resolve_error_count(obj) -> int:
        return getattr(obj, "error_count", len(obj.errors))

    @staticmethod
    def resolve_errors(obj) -> list[dict]:
        return [{"row": r, "column": c, "message": m, "value": v} for r, c, m, v in obj.errors[:1000]]

    @staticmethod
    def resolve_errors_truncated(obj) -> bool:
        return obj.errors_truncated or len(obj.errors) > 1000

    @staticmethod
    def resolve_report_url(obj) -> str | None:
        if not obj.errors:
            return None
        try:
            return reverse("identity:import_report", args=[obj.pk])
        except NoReverseMatch:
            return None
