"""数据共享交换 API: the catalogue, agreements, mediated calls (``POST /api/exchange/call/{resource}``),
the message log and evidence export, subscriptions and events, statistics.

Authentication: staff sessions, or a consumer department's key in ``X-Exchange-Key`` for calls (its
department's systems). See docs/exchange.md."""

from django.http import HttpResponse
from django.utils import timezone
from ninja import File, Router, Status
from ninja.files import UploadedFile
from ninja.pagination import paginate
from ninja.security import APIKeyHeader, django_auth

from smartgov.core.pagination import PageNumber
from smartgov.core.permissions import require

from . import excel, selectors, services
from .models import Message
from .schemas import (
    AgreementIn,
    AgreementOut,
    CallIn,
    CallOut,
    CountOut,
    DecisionIn,
    EventIn,
    EventOut,
    ImportOut,
    MessageOut,
    ReasonIn,
    ReplayIn,
    ResourceIn,
    ResourceOut,
    SubscriptionIn,
    SubscriptionOut,
)


class ExchangeKey(APIKeyHeader):
    param_name = "X-Exchange-Key"

    def authenticate(self, request, key):
        return services.authenticate_key(key)


router = Router(tags=["数据共享交换 exchange"], auth=django_auth)
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _resource_out(resource, content) -> dict:
    return {"code": resource.code, "name": resource.name, "department": resource.department.name,
            "department_code": resource.department.code, "share_type": resource.share_type,
            "version": resource.current_version, "content": content.model_dump(mode="json")}


def _agreement_out(ag) -> dict:
    return {"id": ag.pk, "resource": ag.resource.code, "resource_name": ag.resource.name,
            "provider": ag.resource.department.name, "consumer": ag.consumer.name, "status": ag.status,
            "effective_status": ag.effective_status(timezone.localdate()), "purpose": ag.purpose,
            "legal_basis": ag.legal_basis, "requested_fields": ag.requested_fields, "fields": ag.fields,
            "clear_fields": ag.clear_fields, "keep_content": ag.keep_content, "rate_limit": ag.rate_limit,
            "valid_from": ag.valid_from, "valid_until": ag.valid_until, "reason": ag.reason,
            "decided_by": ag.decided_by}


class _Mapped:
    """A queryset for the one pagination whose page is turned into schema rows by ``fn(page)``."""

    def __init__(self, qs, fn):
        self.qs, self.fn = qs, fn

    def all(self):
        return self

    def count(self):
        return self.qs.count()

    def __getitem__(self, key):
        return self.fn(self.qs[key])


# --- catalogue ---------------------------------------------------------------------------------------

@router.get("/resources", response=list[ResourceOut], summary="信息资源目录（可检索）")
@paginate(PageNumber)
def list_resources(request, q: str = "", department: str = "", share_type: str = ""):
    qs = selectors.catalogue_for(request.auth, q=q, department=department, share_type=share_type)
    return _Mapped(qs, lambda page: [_resource_out(r, c) for r, c in selectors.with_content(page)])


@router.get("/resources.xlsx", summary="导出信息资源目录（Excel）")
def export_resources(request, q: str = "", department: str = ""):
    qs = selectors.catalogue_for(request.auth, q=q, department=department)
    data = excel.export_workbook(selectors.with_content(qs))
    resp = HttpResponse(data, content_type=XLSX)
    resp["Content-Disposition"] = 'attachment; filename="exchange-catalogue.xlsx"'
    return resp


@router.post("/resources/import", response=ImportOut, summary="导入信息资源目录（Excel，全部成功或全部不导入）")
def import_resources(request, file: File[UploadedFile]):
    return services.import_resources(actor=request.auth, data=file.read(5 * 1_048_576))


@router.get("/resources/{code}", response=ResourceOut, summary="资源详情（当前版本元数据）")
def get_resource(request, code: str):
    return _resource_out(*selectors.get_resource(request.auth, code))


@router.post("/resources", response={201: ResourceOut}, summary="编目：发布资源或新版本（提供方部门管理员）")
def publish_resource(request, body: ResourceIn):
    require(request.auth, "exchange.manage_resource")
    resource = services.publish_resource(actor=request.auth, department=request.auth.department, code=body.code,
                                         name=body.name, share_type=body.share_type, content=body.content)
    return Status(201, _resource_out(resource, resource.versions.get(version=resource.current_version).parsed))


# --- agreements ---------------------------------------------------------------------------------------

@router.get("/agreements", response=list[AgreementOut], summary="共享协议（side=consumer|provider）")
@paginate(PageNumber)
def list_agreements(request, side: str = "", status: str = ""):
    qs = selectors.agreements_for(request.auth, side=side).order_by("-pk")
    if status:
        qs = qs.filter(status=status)
    return _Mapped(qs, lambda page: [_agreement_out(a) for a in page])


@router.post("/agreements", response={201: AgreementOut}, summary="申请共享（无条件共享立即授权）")
def apply(request, body: AgreementIn):
    resource, _ = selectors.get_resource(request.auth, body.resource)
    ag = services.apply_for_resource(actor=request.auth, resource=resource, purpose=body.purpose,
                                     legal_basis=body.legal_basis, fields=body.fields, valid_until=body.valid_until,
                                     rate_limit=body.rate_limit, clear_fields=body.clear_fields,
                                     keep_content=body.keep_content)
    return Status(201, _agreement_out(ag))


@router.post("/agreements/{agreement_id}/approve", response=AgreementOut, summary="批准（可少于申请的字段）")
def approve(request, agreement_id: int, body: DecisionIn):
    ag = selectors.get_agreement_for(request.auth, agreement_id)
    return _agreement_out(services.approve_agreement(actor=request.auth, agreement=ag, fields=body.fields,
                                                     clear_fields=body.clear_fields, rate_limit=body.rate_limit,
                                                     reason=body.reason))


@router.post("/agreements/{agreement_id}/refuse", response=AgreementOut, summary="拒绝（须写明理由）")
def refuse(request, agreement_id: int, body: ReasonIn):
    ag = selectors.get_agreement_for(request.auth, agreement_id)
    return _agreement_out(services.refuse_agreement(actor=request.auth, agreement=ag, reason=body.reason))


@router.post("/agreements/{agreement_id}/revoke", response=AgreementOut, summary="撤销（提供方或使用方）")
def revoke(request, agreement_id: int, body: ReasonIn):
    ag = selectors.get_agreement_for(request.auth, agreement_id)
    return _agreement_out(services.revoke_agreement(actor=request.auth, agreement=ag, reason=body.reason))


# --- calls and the message log ---------------------------------------------------------------------------

@router.post("/call/{resource}", response=CallOut, auth=[ExchangeKey(), django_auth],
             summary="数据交换调用：按协议返回授权字段，签名留痕",
             description="错误：403 无协议/字段未授权/协议到期或撤销，429 超过调用上限，502 提供方错误，"
                         "504 提供方超时，503 批量时间戳中断。")
def call(request, resource: str, body: CallIn):
    out = services.call_resource(actor=request.auth, resource_code=resource, params=body.params, fields=body.fields,
                                 purpose=body.purpose)
    return {"message_id": out.message_id, "resource": out.resource, "found": out.found, "data": out.data,
            "masked": out.masked}


def _message_out(m: Message) -> dict:
    return {"message_id": m.message_id, "at": m.at, "resource": m.resource.code if m.resource_id else None,
            "consumer": m.consumer.name if m.consumer_id else None,
            "provider": m.provider.name if m.provider_id else None, "caller": m.caller, "purpose": m.purpose,
            "outcome": m.outcome, "reason": m.reason, "http_status": m.http_status,
            "latency_ms": round(m.latency_ms, 2), "request_sm3": m.request_sm3, "response_sm3": m.response_sm3,
            "batch": m.batch_id}


@router.get("/messages", response=list[MessageOut], summary="消息日志")
@paginate(PageNumber)
def list_messages(request, outcome: str = "", resource: str = ""):
    return _Mapped(selectors.messages_for(request.auth, outcome=outcome, resource=resource),
                   lambda page: [_message_out(m) for m in page])


@router.get("/messages/{message_id}/evidence", summary="导出一次调用的证据文件（离线用 smartgov exchange verify 核验）")
def evidence(request, message_id: str):
    msg = selectors.get_message_for(request.auth, message_id)
    data = services.export_evidence(actor=request.auth, message=msg)
    resp = HttpResponse(data, content_type="application/json")
    resp["Content-Disposition"] = f'attachment; filename="evidence-{msg.message_id}.json"'
    return resp


# --- events ---------------------------------------------------------------------------------------------

@router.post("/subscriptions", response={201: SubscriptionOut}, summary="订阅资源的变更事件（回调或平台内处理器）")
def subscribe(request, body: SubscriptionIn):
    resource, _ = selectors.get_resource(request.auth, body.resource)
    sub, secret = services.subscribe(actor=request.auth, resource=resource, url=body.url, handler=body.handler)
    return Status(201, {"id": sub.pk, "resource": resource.code, "url": sub.url, "handler": sub.handler,
                        "secret": secret})


@router.post("/subscriptions/{subscription_id}/replay", response=CountOut, summary="从偏移量起重放事件")
def replay(request, subscription_id: int, body: ReplayIn):
    sub = selectors.get_subscription_for(request.auth, subscription_id)
    return {"count": services.replay_from(actor=request.auth, subscription=sub, offset=body.offset)}


@router.post("/subscriptions/{subscription_id}/redeliver", response=CountOut, summary="重新投递死信")
def redeliver(request, subscription_id: int):
    sub = selectors.get_subscription_for(request.auth, subscription_id)
    return {"count": services.redeliver_dead(actor=request.auth, subscription=sub)}


@router.post("/events/{resource}", response={201: EventOut}, summary="提供方发布变更事件")
def publish(request, resource: str, body: EventIn):
    res, _ = selectors.get_resource(request.auth, resource)
    ev = services.publish_event(actor=request.auth, resource=res, event_type=body.event_type, subject=body.subject,
                                data=body.data)
    return Status(201, {"event_id": ev.event_id, "offset": ev.pk})


@router.get("/stats", summary="共享调用统计")
def stats(request, days: int = 30):
    return selectors.statistics(request.auth, days=max(1, min(days, 366)))


@router.get("/quality", summary="数据质量报告")
def quality(request):
    return selectors.quality_report(request.auth)
