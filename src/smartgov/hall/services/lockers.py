"""Self-service collection (自助取证): an issued document goes into a locker, the holder gets a pickup code,
collects it at the kiosk with the code and their EID or ID number; overdue items go back to the counter."""

import datetime
import hashlib
import hmac
import secrets

from django.conf import settings
from django.db import IntegrityError, transaction

from smartgov.audit.services import record
from smartgov.core.errors import Conflict, InvalidInput, NotFound
from smartgov.core.permissions import require
from smartgov.eid.services import resolve_person, send_to_outbox
from smartgov.onestop import services as onestop

from ..models import HallService, Locker, LockerItem, LockerStatus
from ._common import emit, hall_transaction, now_or
from .queue import _person_from_eid


def _code_hash(hall_id: int, code: str) -> str:
    return hmac.new(settings.SECRET_KEY.encode(), f"hall-locker:{hall_id}:{code}".encode(), hashlib.sha256).hexdigest()


@hall_transaction()
def store_in_locker(*, actor, application, at: datetime.datetime | None = None) -> tuple[LockerItem, str]:
    """出证并入柜: issue the result through the one-stop service if the case is approved, put the document in
    a free locker of the hall that handles the item, and send the pickup code to the holder's inbox.
    Returns the item and the code (for the sender; never shown to the officer)."""
    now = now_or(at)
    service = HallService.objects.select_related("hall__department").filter(item_id=application.item_id).first()
    if service is None:
        raise Conflict("该事项不在出入境大厅办理", code="not_a_hall_item")
    hall = service.hall
    require(actor, "hall.call", department=hall.department)
    if application.state == "approved":
        application = onestop.issue_result(actor=actor, application=application)
    if application.state != "issued":
        raise Conflict("办件尚未出证", code="not_issued")
    if application.applicant_person_id is None:
        raise Conflict("办件没有自然人申请人", code="no_holder")
    locker = (Locker.objects.select_for_update(skip_locked=True).filter(hall=hall, active=True)
              .exclude(items__status=LockerStatus.STORED).order_by("code").first())
    if locker is None:
        raise Conflict("取证柜已满，请改为窗口领取", code="lockers_full")
    taken = set(LockerItem.objects.filter(locker__hall=hall, status=LockerStatus.STORED)
                .values_list("code_hash", flat=True))
    while True:
        code = f"{secrets.randbelow(10**6):06d}"
        if _code_hash(hall.pk, code) not in taken:
            break
    try:
        with transaction.atomic():
            item = LockerItem.objects.create(locker=locker, application=application,
                                             person_id=application.applicant_person_id,
                                             code_hash=_code_hash(hall.pk, code),
                                             due_at=now + datetime.timedelta(days=hall.locker_hold_days))
    except IntegrityError:  # the unique constraint: this case is already in a locker
        raise Conflict("该证件已在取证柜中", code="already_in_locker") from None
    send_to_outbox(item.person, f"{application.item.name}可自助领取",
                   f"您的证件已放入{hall.name}自助取证柜，取件码 {code}，请于 "
                   f"{item.due_at:%Y-%m-%d} 前凭取件码和EID或身份证领取。")
    emit(hall, "locker_stored", {"locker": locker.code, "application": application.number}, now)
    record(actor=actor, action="hall.locker.store", target=item,
           changes={"locker": locker.code, "application": application.number})
    return item, code


@hall_transaction()
def collect_from_locker(*, actor, hall, code: str, id_number: str = "", eid_payload: str = "",
                        at: datetime.datetime | None = None) -> LockerItem:
    """自助取证: the pickup code and the holder's EID QR code or ID number open the locker; the case is
    delivered (送达, 窗口自取) through the one-stop service."""
    require(actor, "hall.kiosk", department=hall.department)
    now = now_or(at)
    code = (code or "").strip()
    if not (len(code) == 6 and code.isdigit()):
        raise InvalidInput("取件码为6位数字", code="invalid_code")
    if eid_payload:
        person = _person_from_eid(eid_payload)
    elif id_number:
        person = resolve_person("id_number", id_number)
    else:
        raise InvalidInput("请出示EID或输入身份证号", code="identity_required")
    item = (LockerItem.objects.select_for_update(of=("self",)).select_related("locker", "application")
            .filter(locker__hall=hall, status=LockerStatus.STORED, code_hash=_code_hash(hall.pk, code)).first())
    if item is None or person is None or item.person_id != person.pk:
        record(actor=actor, action="hall.locker.denied", target=hall, changes={"reason": "code_or_identity"})
        raise NotFound("取件码或身份信息不正确", code="no_such_pickup")
    onestop.deliver(actor=actor, application=item.application, method="pickup",
                    detail=f"{hall.name}自助取证柜 {item.locker.code}")
    item.status, item.collected_at = LockerStatus.COLLECTED, now
    item.save(update_fields=["status", "collected_at", "updated_at"])
    emit(hall, "locker_collected", {"locker": item.locker.code}, now)
    record(actor=actor, action="hall.locker.collect", target=item, changes={"locker": item.locker.code})
    return item


@hall_transaction()
def return_overdue(*, actor, hall, at: datetime.datetime | None = None) -> int:
    """逾期未取: back to the counter (the locker is free again); the holder is told."""
    require(actor, "hall.call", department=hall.department)
    now = now_or(at)
    items = list(LockerItem.objects.select_for_update(of=("self",)).select_related("locker", "person", "application")
                 .filter(locker__hall=hall, status=LockerStatus.STORED, due_at__lt=now))
    for item in items:
        item.status, item.returned_at = LockerStatus.RETURNED, now
        item.save(update_fields=["status", "returned_at", "updated_at"])
        send_to_outbox(item.person, "证件已转窗口保管", f"您的证件逾期未取，已转至{hall.name}窗口，请携带身份证到窗口领取。")
        record(actor=actor, action="hall.locker.return", target=item, changes={"locker": item.locker.code})
    if items:
        emit(hall, "locker_returned", {"count": len(items)}, now)
    return len(items)
