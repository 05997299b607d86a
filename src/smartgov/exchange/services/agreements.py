"""共享申请与授权: a consumer department applies for a resource; 无条件共享 is granted at once, 有条件共享
waits for the provider (approve, approve fewer fields, refuse with a reason), 不予共享 cannot be
requested. Either side may revoke; an agreement past its last day no longer lets calls through."""

import datetime

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from smartgov.audit.services import record
from smartgov.core.errors import Conflict, InvalidInput, NotFound
from smartgov.core.permissions import covers_department, is_system, require
from smartgov.core.workdays import calendar

from ..models import Agreement, AgreementStatus, Resource, ShareType

MAX_YEARS = 3  # longest validity one agreement may have (renew with a new application)


def _label(actor) -> str:
    return actor.get_username()


def _text(value: str, *, name: str, code: str, limit: int, required: bool = True) -> str:
    value = (value or "").strip()
    if required and not value:
        raise InvalidInput(f"请填写{name}", code=code)
    if len(value) > limit:
        raise InvalidInput(f"{name}不能超过{limit}个字", code=code)
    return value


@transaction.atomic
def apply_for_resource(*, actor, resource: Resource, purpose: str, legal_basis: str, fields: list[str],
                       valid_until: datetime.date, rate_limit: int = 60, clear_fields: list[str] | None = None,
                       keep_content: bool = False, consumer=None) -> Agreement:
    """A consumer department asks for ``fields`` of ``resource`` for ``purpose`` under ``legal_basis``.
    ``clear_fields``: personal fields it needs in clear (else they come masked); ``keep_content``: the
    message log may keep the content of its calls (else digests only)."""
    consumer = consumer if is_system(actor) else getattr(actor, "department", None)
    if consumer is None:
        raise InvalidInput("申请部门不能为空", code="department_required")
    require(actor, "exchange.apply", department=consumer, include_descendants=False)
    resource = Resource.objects.select_for_update().select_related("department").filter(pk=resource.pk).first()
    if resource is None or not resource.active:
        raise NotFound("资源不存在或已停用", code="resource_not_found")
    if resource.share_type == ShareType.NONE:
        raise Conflict("该资源为不予共享，不能申请", code="share_not_allowed")
    if resource.department_id == consumer.pk:
        raise InvalidInput("本部门的资源无需申请", code="own_resource")
    purpose = _text(purpose, name="用途", code="purpose_required", limit=200)
    legal_basis = _text(legal_basis, name="依据", code="legal_basis_required", limit=300)
    content = resource.versions.get(version=resource.current_version).parsed
    fields = list(dict.fromkeys(fields or []))
    clear = list(dict.fromkeys(clear_fields or []))
    unknown = sorted(set(fields) - set(content.item_keys()))
    if not fields or unknown:
        raise InvalidInput("请选择资源中存在的信息项", code="invalid_fields", detail={"unknown": unknown})
    if set(clear) - (set(fields) & content.personal_keys()):
        raise InvalidInput("明文字段须是所申请信息项中的个人信息项", code="invalid_clear_fields")
    today = timezone.localdate()
    if not isinstance(valid_until, datetime.date) or valid_until < today:
        raise InvalidInput("截止日期不能早于今天", code="invalid_valid_until")
    if valid_until > today + datetime.timedelta(days=366 * MAX_YEARS):
        raise InvalidInput(f"一次授权最长{MAX_YEARS}年", code="invalid_valid_until")
    if not isinstance(rate_limit, int) or not 1 <= rate_limit <= 100_000:
        raise InvalidInput("每分钟调用上限应在1到100000之间", code="invalid_rate_limit")
    if Agreement.objects.filter(resource=resource, consumer=consumer,
                                status__in=[AgreementStatus.PENDING, AgreementStatus.ACTIVE],
                                valid_until__gte=today).exists():
        raise Conflict("已有待审批或有效的申请", code="agreement_exists")
    agreement = Agreement(resource=resource, consumer=consumer, purpose=purpose, legal_basis=legal_basis,
                          requested_fields=fields, rate_limit=rate_limit, valid_from=today, valid_until=valid_until,
                          keep_content=bool(keep_content), applied_by=_label(actor))
    if resource.share_type == ShareType.UNCONDITIONAL:
        agreement.status = AgreementStatus.ACTIVE
        agreement.fields, agreement.clear_fields = fields, clear
        agreement.decided_by, agreement.decided_at = "system:exchange", timezone.now()
        agreement.reason = "无条件共享，自动授权"
    else:
        agreement.clear_fields = clear  # what was asked in clear; the provider decides
        agreement.decide_by = calendar().add_workdays(today, settings.EXCHANGE_DECIDE_WORKDAYS)
    agreement.save()
    record(actor=actor, action="exchange.agreement.apply", target=agreement,
           changes={"resource": resource.code, "consumer": consumer.pk, "fields": fields, "clear_fields": clear,
                    "status": agreement.status, "valid_until": valid_until.isoformat(), "rate_limit": rate_limit,
                    "keep_content": agreement.keep_content})
    return agreement


def _locked_pending(actor, agreement: Agreement) -> Agreement:
    locked = Agreement.objects.select_for_update().select_related("resource__department").get(pk=agreement.pk)
    require(actor, "exchange.decide", department=locked.resource.department, include_descendants=False, hide=True)
    if locked.status != AgreementStatus.PENDING:
        raise Conflict(f"该申请已{AgreementStatus(locked.status).label}", code="agreement_not_pending")
    return locked


@transaction.atomic
def approve_agreement(*, actor, agreement: Agreement, fields: list[str] | None = None,
                      clear_fields: list[str] | None = None, rate_limit: int | None = None,
                      reason: str = "") -> Agreement:
    """The provider approves, possibly fewer fields (and fewer in clear, or a lower rate) than asked."""
    locked = _locked_pending(actor, agreement)
    granted = list(dict.fromkeys(fields if fields is not None else locked.requested_fields))
    clear = list(dict.fromkeys(clear_fields if clear_fields is not None else locked.clear_fields))
    if not granted or set(granted) - set(locked.requested_fields):
        raise InvalidInput("只能批准所申请的信息项（可以少于申请）", code="invalid_fields")
    if set(clear) - (set(granted) & set(locked.clear_fields)):
        raise InvalidInput("明文字段只能是申请明文且已批准的信息项", code="invalid_clear_fields")
    if rate_limit is not None:
        if not isinstance(rate_limit, int) or not 1 <= rate_limit <= locked.rate_limit:
            raise InvalidInput("批准的调用上限不能高于申请", code="invalid_rate_limit")
        locked.rate_limit = rate_limit
    locked.status, locked.fields, locked.clear_fields = AgreementStatus.ACTIVE, granted, clear
    locked.decided_by, locked.decided_at = _label(actor), timezone.now()
    locked.reason = _text(reason, name="意见", code="reason_too_long", limit=500, required=False)
    locked.save()
    record(actor=actor, action="exchange.agreement.approve", target=locked,
           changes={"fields": granted, "clear_fields": clear, "rate_limit": locked.rate_limit,
                    "fewer": sorted(set(locked.requested_fields) - set(granted))})
    return locked


@transaction.atomic
def refuse_agreement(*, actor, agreement: Agreement, reason: str) -> Agreement:
    locked = _locked_pending(actor, agreement)
    locked.reason = _text(reason, name="拒绝理由", code="reason_required", limit=500)
    locked.status, locked.decided_by, locked.decided_at = AgreementStatus.REFUSED, _label(actor), timezone.now()
    locked.save()
    record(actor=actor, action="exchange.agreement.refuse", target=locked, changes={"reason": locked.reason})
    return locked


@transaction.atomic
def revoke_agreement(*, actor, agreement: Agreement, reason: str) -> Agreement:
    """撤销: the provider withdraws the grant, or the consumer gives it up; calls stop at once."""
    locked = Agreement.objects.select_for_update().select_related("resource__department", "consumer").get(
        pk=agreement.pk)
    if not is_system(actor) and not (
            covers_department(actor, locked.resource.department, include_descendants=False)
            or covers_department(actor, locked.consumer, include_descendants=False)):
        raise NotFound()
    require(actor, "exchange.decide")
    if locked.status not in (AgreementStatus.ACTIVE, AgreementStatus.PENDING):
        raise Conflict(f"该申请已{AgreementStatus(locked.status).label}", code="agreement_not_active")
    reason = _text(reason, name="撤销理由", code="reason_required", limit=500)
    before = locked.status
    locked.status, locked.reason, locked.revoked_at = AgreementStatus.REVOKED, reason, timezone.now()
    locked.save()
    record(actor=actor, action="exchange.agreement.revoke", target=locked,
           changes={"status": [before, AgreementStatus.REVOKED], "reason": reason})
    return locked
