"""访客: pre-registration for a host enterprise, the gate's check-in and check-out of a pass, cancellation.

A check-in is refused outside the pass's window, for a cancelled pass, and a second time; a check-out
needs a check-in first (a visitor may leave after the window closes). The visit row is locked for either,
so two gates scanning one pass at the same moment cannot both let it in."""

from datetime import datetime, timedelta

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from smartgov.audit.services import record
from smartgov.core.errors import Conflict, InvalidInput, NotFound
from smartgov.core.masking import mask_name, mask_phone
from smartgov.core.permissions import require, scope, user_of
from smartgov.core.validators import normalize_mobile, validate_id_number

from .. import selectors
from ..models import Enterprise, Visit, VisitStatus
from ..passes import visit_id_of

MAX_WINDOW = timedelta(days=7)


def _clean_window(valid_from: datetime, valid_until: datetime, now: datetime) -> None:
    if valid_from.tzinfo is None or valid_until.tzinfo is None:
        raise InvalidInput("有效期应带时区", code="invalid_window")
    if valid_until <= valid_from:
        raise InvalidInput("有效期止应晚于有效期起", code="invalid_window")
    if valid_until - valid_from > MAX_WINDOW:
        raise InvalidInput("通行证有效期不超过7天", code="invalid_window")
    if valid_until <= now:
        raise InvalidInput("有效期已过", code="invalid_window")


@transaction.atomic
def register_visit(*, actor, enterprise: Enterprise, name: str, phone: str, valid_from: datetime,
                   valid_until: datetime, id_number: str = "", purpose: str = "") -> Visit:
    """访客预约登记 for the host ``enterprise``: the pass is valid from ``valid_from`` to ``valid_until``. By the
    operator's front desk, or by the host enterprise itself (its legal representative, from 我的园区)."""
    if not selectors.represents(actor, enterprise):
        require(actor, "park.visitors", department=enterprise.park.department)
    name = (name or "").strip()
    if not name or len(name) > 50:
        raise InvalidInput("请填写访客姓名（50字以内）", code="invalid_visitor_name")
    try:
        phone = normalize_mobile(phone or "")
    except ValidationError:
        raise InvalidInput("请输入有效的11位中国大陆手机号码", code="invalid_mobile") from None
    id_number = (id_number or "").strip().upper()
    if id_number:
        try:
            validate_id_number(id_number)
        except ValidationError:
            raise InvalidInput("身份证号无效", code="invalid_id_number") from None
    _clean_window(valid_from, valid_until, timezone.now())
    visit = Visit.objects.create(park=enterprise.park, enterprise=enterprise, name=name, phone=phone,
                                 id_number=id_number or None, purpose=(purpose or "").strip()[:200],
                                 valid_from=valid_from, valid_until=valid_until, registered_by=user_of(actor))
    record(actor=actor, action="park.visit.register", target=visit,
           changes={"enterprise": enterprise.uscc, "name": mask_name(name), "phone": mask_phone(phone),
                    "id_number": bool(id_number), "from": valid_from.isoformat(), "until": valid_until.isoformat()})
    return visit


def _locked_visit(actor, token: str) -> Visit:
    """The visit a pass token names, locked — a forged token and a visit outside the actor's parks get the
    same answer."""
    visit_id = visit_id_of(token)
    require(actor, "park.visitors")
    qs = scope(actor, Visit.objects.select_for_update(of=("self",)), field="park__department")
    visit = qs.filter(pk=visit_id).first() if visit_id is not None else None
    if visit is None:
        raise NotFound("通行码无效", code="pass_invalid")
    return visit


@transaction.atomic
def check_in(*, actor, token: str, gate: str = "", now: datetime | None = None) -> Visit:
    """闸机入园: the pass must be registered (not yet used, not cancelled) and ``now`` within its window."""
    visit = _locked_visit(actor, token)
    now = now or timezone.now()
    if visit.status == VisitStatus.CANCELLED:
        raise Conflict("该通行证已取消", code="pass_cancelled")
    if visit.status != VisitStatus.REGISTERED:
        raise Conflict("该通行证已入园，不能重复使用", code="pass_used",
                       detail={"checked_in_at": visit.checked_in_at.isoformat() if visit.checked_in_at else None})
    if not visit.valid_from <= now <= visit.valid_until:
        raise Conflict("不在通行证有效时段内", code="pass_outside_window",
                       detail={"valid_from": visit.valid_from.isoformat(), "valid_until": visit.valid_until.isoformat()})
    visit.status, visit.checked_in_at, visit.gate_in = VisitStatus.CHECKED_IN, now, (gate or "").strip()[:50]
    visit.save(update_fields=["status", "checked_in_at", "gate_in", "updated_at"])
    record(actor=actor, action="park.visit.check_in", target=visit, changes={"gate": visit.gate_in,
                                                                               "at": now.isoformat()})
    return visit


@transaction.atomic
def check_out(*, actor, token: str, gate: str = "", now: datetime | None = None) -> Visit:
    """闸机离园: only after a check-in, once."""
    visit = _locked_visit(actor, token)
    now = now or timezone.now()
    if visit.status != VisitStatus.CHECKED_IN:
        raise Conflict("该访客未入园或已离园", code="pass_not_checked_in")
    visit.status, visit.checked_out_at, visit.gate_out = VisitStatus.CHECKED_OUT, now, (gate or "").strip()[:50]
    visit.save(update_fields=["status", "checked_out_at", "gate_out", "updated_at"])
    record(actor=actor, action="park.visit.check_out", target=visit, changes={"gate": visit.gate_out,
                                                                                "at": now.isoformat()})
    return visit


@transaction.atomic
def cancel_visit(*, actor, visit: Visit) -> Visit:
    """取消预约: only a pass not yet used (by the front desk, or by the host enterprise)."""
    if not selectors.represents(actor, visit.enterprise):
        require(actor, "park.visitors", department=visit.park.department, hide=True)
    locked = Visit.objects.select_for_update().get(pk=visit.pk)
    if locked.status != VisitStatus.REGISTERED:
        raise Conflict("只能取消未使用的通行证", code="pass_not_cancellable")
    locked.status = VisitStatus.CANCELLED
    locked.save(update_fields=["status", "updated_at"])
    record(actor=actor, action="park.visit.cancel", target=locked)
    return locked
