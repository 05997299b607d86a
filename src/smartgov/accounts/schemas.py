from datetime import datetime

from ninja import Schema
from pydantic import Field

from smartgov.core.masking import mask_id_number, mask_phone


class DepartmentOut(Schema):
    id: int
    name: str
    code: str
    level: str
    parent_id: int | None
    uscc: str | None
    region_code: str
    path: str


class DepartmentIn(Schema):
    name: str = Field(min_length=1, max_length=100)
    code: str = Field(min_length=1, max_length=32)
    level: str
    parent_id: int | None = None
    uscc: str | None = None
    region_code: str = ""


class UserOut(Schema):
    """A user as others see it: personal data masked (身份证号、手机号脱敏)."""

    id: int
    username: str
    name: str
    role: str
    department_id: int | None
    id_number: str | None
    phone: str | None
    two_factor: bool
    locked: bool
    last_login: datetime | None

    @staticmethod
    def resolve_id_number(obj) -> str | None:
        return mask_id_number(obj.id_number) if obj.id_number else None

    @staticmethod
    def resolve_phone(obj) -> str | None:
        return mask_phone(obj.phone) if obj.phone else None

    @staticmethod
    def resolve_two_factor(obj) -> bool:
        return obj.totp_confirmed_at is not None

    @staticmethod
    def resolve_locked(obj) -> bool:
        return obj.is_locked


class UserIn(Schema):
    username: str = Field(min_length=3, max_length=150)
    password: str | None = Field(default=None, min_length=10)
    role: str
    name: str = ""
    department_id: int | None = None
    id_number: str | None = None
    phone: str | None = None


class PersonalDataOut(Schema):
    id_number: str | None
    phone: str | None
