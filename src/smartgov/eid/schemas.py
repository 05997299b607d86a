from datetime import date, datetime

from ninja import Schema
from pydantic import Field


class PayloadIn(Schema):
    payload: str = Field(min_length=1, max_length=4000)


class OutcomeOut(Schema):
    ok: bool
    code: str
    message: str
    claims: dict | None = None


class RevocationListOut(Schema):
    """Everything an offline verifier needs: issuer public keys and the revoked EIDs."""

    generated_at: datetime
    keys: dict[str, str]
    revoked: list[str]


class OtpIn(Schema):
    id_type: str = Field(pattern="^(id_number|vid|eid)$")
    id_value: str = Field(min_length=1, max_length=40)
    purpose: str = Field(min_length=1, max_length=100)


class OtpOut(Schema):
    transaction_id: str
    sent: bool


class Demographics(Schema):
    name: str | None = None
    birth_date: date | None = None


class OtpFactor(Schema):
    transaction_id: str
    code: str


class BiometricFactor(Schema):
    modality: str = "face"
    vector: list[float]


class VerifyIn(Schema):
    id_type: str = Field(pattern="^(id_number|vid|eid)$")
    id_value: str = Field(min_length=1, max_length=40)
    purpose: str = Field(min_length=1, max_length=100)
    demographics: Demographics | None = None
    otp: OtpFactor | None = None
    biometric: BiometricFactor | None = None
    kyc_attributes: list[str] = []


class VerifyOut(Schema):
    """Never an ID number: the partner learns yes/no, its own token for the person, and consented e-KYC."""

    result: bool
    reason: str
    factors: dict[str, bool]
    partner_token: str | None
    kyc: dict | None


class VidOut(Schema):
    vid: str
    expires_at: datetime
    usable: bool


class MyEidOut(Schema):
    eid: str | None
    valid_until: date | None
    payload: str | None
