"""The self-service kiosk (自助终端): EID sign-in, reading the travel document, photo check, 1:1 biometric
check, filing the one-stop application with the register's data, fee.

The kiosk is a device signed in with an officer account of the hall (``hall.kiosk``). It acts for a
citizen only after the citizen's EID QR code was verified, and files the application as that citizen
(the one-stop case is the citizen's, channel 自助终端); both steps are in the audit trail.
"""

import datetime
from decimal import Decimal

from django.core.files.uploadedfile import SimpleUploadedFile

from smartgov.audit.services import record
from smartgov.biometrics.selectors import verify_one_to_one
from smartgov.core.errors import Conflict, InvalidInput
from smartgov.core.permissions import require
from smartgov.onestop import selectors as onestop_selectors
from smartgov.onestop import services as onestop

from .. import mrz
from ..models import Hall, Ticket, TicketStatus
from ..photo import check_photo
from ._common import emit, hall_transaction, now_or
from .queue import _person_from_eid


def eid_sign_in(*, actor, hall: Hall, payload: str):
    """The citizen shows their EID QR code: verified (signature, validity, revocation) → the person."""
    require(actor, "hall.kiosk", department=hall.department)
    person = _person_from_eid(payload)
    if person.user_id is None:
        raise Conflict("请先在门户注册并绑定EID后再使用自助终端", code="no_account")
    record(actor=actor, action="hall.kiosk.sign_in", target=("identity.person", person.pk),
           changes={"hall": hall.code})
    return person


def read_document(*, actor, hall: Hall, person, text: str) -> dict:
    """Read a travel document's MRZ (ICAO 9303) and check it is the signed-in person's."""
    require(actor, "hall.kiosk", department=hall.department)
    doc = mrz.parse(text)
    if doc.birth_date and person.birth_date and doc.birth_date != person.birth_date:
        raise mrz.MRZError("证件出生日期与登录人不一致", detail={"birth_date": "与户籍登记不一致"})
    record(actor=actor, action="hall.kiosk.read_document", target=("identity.person", person.pk),
           changes={"format": doc.format, "document_code": doc.document_code, "issuing_state": doc.issuing_state})
    return doc.as_dict()


def verify_biometric(*, actor, hall: Hall, person, modality: str, vector) -> dict:
    """1:1 fingerprint/face check through the biometrics service, recorded in the audit trail."""
    require(actor, "hall.kiosk", department=hall.department)
    result = verify_one_to_one(person=person, modality=modality, vector=vector)
    record(actor=actor, action="hall.kiosk.biometric", target=("identity.person", person.pk),
           changes={"modality": modality, "match": result.match, "score": result.score})
    return {"match": result.match, "score": result.score}


def prefill(person, ticket: Ticket, *, document: dict | None = None) -> dict:
    """The application's form from the register (and the name in Latin letters from the MRZ)."""
    item = ticket.service.item
    if item is None:
        return {}
    content = onestop_selectors.current_version(item).parsed
    values = onestop_selectors.prefill(person.user, content, {})
    if document:
        values["name_pinyin"] = f"{document['surname']} {document['given_names']}".strip()
    return values


def fee_for(ticket: Ticket, answers: dict) -> str:
    item = ticket.service.item
    if item is None:
        return "0.00"
    return str(onestop_selectors.current_version(item).parsed.fee_total(answers).quantize(Decimal("0.01")))


@hall_transaction()
def file_application(*, actor, ticket: Ticket, person, form_data: dict, answers: dict, photo: bytes,
                     at: datetime.datetime | None = None):
    """Check the photo against the guide, keep it in the citizen's material library and file the one-stop
    application (channel 自助终端) for the ticket's service. Nothing is written if anything is wrong."""
    hall = ticket.hall
    require(actor, "hall.kiosk", department=hall.department)
    now = now_or(at)
    t = Ticket.objects.select_for_update(of=("self",)).select_related("service__item").get(pk=ticket.pk)
    if t.application_id:
        raise Conflict("该号已提交申请", code="already_filed")
    if t.status not in (TicketStatus.WAITING, TicketStatus.CALLED):
        raise Conflict("该号已办结或过号", code="ticket_closed")
    if t.service.item is None:
        raise Conflict("该业务无需在自助终端申请", code="no_item")
    problems = check_photo(photo)
    if problems:
        raise InvalidInput("照片不符合《出入境证件相片照相指引》", code="photo_rejected",
                           detail={p.code: p.message for p in problems})
    citizen = person.user
    stored = onestop.store_material(actor=citizen, key="photo", name="近期免冠证件照片",
                                    upload=SimpleUploadedFile("photo.jpg", photo, "image/jpeg"))
    app = onestop.apply(actor=citizen, item=t.service.item, answers=answers, form_data=form_data,
                        materials={"photo": stored.pk}, channel="kiosk")
    t.application, t.person = app, person
    t.save(update_fields=["application", "person"])
    emit(hall, "filed", {"ticket": t.number, "application": app.number}, now)
    record(actor=actor, action="hall.kiosk.file", target=t, changes={"application": app.number,
                                                                     "fee": str(app.fee_total)})
    return app
