"""Pydantic (Ninja) in/out schemas of the trace API."""

import datetime

from ninja import Schema


class CaptureOut(Schema):
    """The capture job of the EPCIS 2.0 REST binding (openapi.yaml ``CaptureJob``) plus counts."""

    captureID: str
    running: bool
    success: bool
    captureErrorBehaviour: str
    createdAt: str
    finishedAt: str | None
    errors: list
    eventsReceived: int
    eventsStored: int
    eventsDuplicate: int
    epcEvents: int


class NamedQueryIn(Schema):
    name: str
    query: dict


class IssueIn(Schema):
    batch_id: int
    count: int
    scheme: str = "nmpa"


class IssueOut(Schema):
    id: int
    batch_id: int
    scheme: str
    first_serial: int
    count: int


class RecallIn(Schema):
    batch_id: int
    reason: str
    level: str = "一级"


class RecallOut(Schema):
    id: int
    batch_id: int
    status: str
    reason: str
    codes_total: int
    codes_administered: int


class VaccineeOut(Schema):
    code: str
    name: str
    phone: str
    site: str
    administered_at: str


class VaccinationIn(Schema):
    code: str
    id_number: str
    site_id: int
    dose_number: int | None = None
    route: str = ""
    body_site: str = ""


class PackagingIn(Schema):
    ratio: str
    units: list[str]


class LotReleaseIn(Schema):
    certificate_number: str
    agency: str
    issued_on: datetime.date
    conclusion: str
    quantity: int | None = None


class AefiIn(Schema):
    reporter_id: int
    onset_at: datetime.datetime
    symptoms: str
    severe: bool = False
    report_number: str = ""


class AefiClassIn(Schema):
    classification: str


class AckIn(Schema):
    comment: str


class SubscriptionIn(Schema):
    """The binding's QueryStreamSubscription / QueryScheduleSubscription."""

    dest: str
    stream: bool | None = None
    schedule: dict | None = None
    reportIfEmpty: bool = False
    initialRecordTime: str | None = None
    signatureToken: str = ""
