import datetime

from ninja import Schema


class SlotOut(Schema):
    starts_at: datetime.datetime
    ends_at: datetime.datetime
    left: int


class BookIn(Schema):
    service_id: int
    starts_at: datetime.datetime


class AppointmentOut(Schema):
    number: str
    token: str
    status: str
    service: str
    starts_at: datetime.datetime


class TicketIn(Schema):
    service: str | None = None  # the service's queue letter, for a walk-in
    appointment: str = ""  # the appointment QR code's content
    eid: str = ""  # an EID QR code's content
    green: bool = False


class TicketOut(Schema):
    number: str
    token: str
    status: str
    priority: str
    source: str
    position: int | None = None
    eta_minutes: float | None = None


class MrzIn(Schema):
    text: str
