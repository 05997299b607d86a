"""安全云 API: JSON lines in (per-source token), event search, sources, Sigma rules, incidents,
signed tree heads and the log's inclusion and consistency proofs."""

import base64

from ninja import Query, Router, Status
from ninja.pagination import paginate

from smartgov.accounts.models import Department
from smartgov.accounts.selectors import published_public_keys
from smartgov.core.errors import InvalidInput, NotAuthenticated, NotFound
from smartgov.core.pagination import PageNumber
from smartgov.core.permissions import require, system_actor

from . import ingest, selectors, services, store
from .schemas import (
    EventFilter,
    EventOut,
    IncidentOut,
    IngestOut,
    ProofOut,
    PublicKeyOut,
    RuleIn,
    RuleOut,
    SourceCreated,
    SourceIn,
    SourceOut,
    StatusIn,
    TreeHeadOut,
)

router = Router(tags=["安全云 seccloud"])
MAX_BODY_LINES = 50_000


@router.post("/ingest", auth=None, response=IngestOut, summary="JSON lines 日志上报（每行一个JSON对象，Bearer令牌）")
def ingest_lines(request):
    header = request.headers.get("Authorization", "")
    token = header[7:].strip() if header.startswith("Bearer ") else ""
    source = services.source_for_token(token)
    if source is None:
        raise NotAuthenticated("日志源令牌无效", code="bad_source_token")
    try:
        text = request.body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InvalidInput("请求体须为UTF-8文本", code="bad_encoding") from exc
    lines = text.splitlines()
    if len(lines) > MAX_BODY_LINES:
        raise InvalidInput(f"一次最多上报{MAX_BODY_LINES}行", code="too_many_lines")
    return ingest.ingest(actor=system_actor(f"seccloud.http:{source.pk}"), source=source, lines=lines, kind="json",
                         transport="http", peer=request.META.get("REMOTE_ADDR", ""))


@router.get("/events", response=list[EventOut], summary="事件检索（筛选与全文）")
@paginate(PageNumber)
def list_events(request, filters: Query[EventFilter]):
    f = filters.dict()
    f["user_name"] = f.pop("user")
    return selectors.search_events(request.user, **f)


@router.get("/sources", response=list[SourceOut], summary="日志源")
@paginate(PageNumber)
def list_sources(request):
    return selectors.sources_for(request.user)


@router.post("/sources", response={201: SourceCreated}, summary="登记日志源（HTTP令牌仅显示一次）")
def create_source(request, payload: SourceIn):
    dept = Department.objects.filter(pk=payload.department_id).first()
    if dept is None:
        raise NotFound("部门不存在", code="department_not_found")
    source, token = services.register_source(actor=request.user, department=dept, name=payload.name,
                                             kind=payload.kind, address=payload.address)
    out = SourceOut.from_orm(source).model_dump()
    return Status(201, {**out, "token": token})


@router.get("/rules", response=list[RuleOut], summary="Sigma规则")
@paginate(PageNumber)
def list_rules(request):
    return selectors.rules_for(request.user)


@router.post("/rules", response={201: list[RuleOut]}, summary="上传Sigma规则（YAML，pySigma解析）")
def upload_rules(request, payload: RuleIn):
    return Status(201, services.upload_rules(actor=request.user, yaml_text=payload.yaml))


@router.get("/incidents", response=list[IncidentOut], summary="安全事件")
@paginate(PageNumber)
def list_incidents(request, status: str = ""):
    qs = selectors.incidents_for(request.user)
    return qs.filter(status=status) if status else qs


@router.post("/incidents/{incident_id}/status", response=IncidentOut, summary="变更事件状态")
def incident_status(request, incident_id: int, payload: StatusIn):
    inc = selectors.get_incident_for(request.user, incident_id)
    return services.set_incident_status(actor=request.user, incident=inc, status=payload.status, note=payload.note)


# --- the tamper-evident log (RFC 6962) -------------------------------------------------------------


@router.get("/log/sth", response=TreeHeadOut, auth=None, summary="最新签名树头（SM2）")
def latest_sth(request):
    sth = selectors.latest_tree_head()
    if sth is None:
        raise NotFound("尚无签名树头", code="no_tree_head")
    return sth


def _check_size(size: int) -> None:
    current, _ = store.head()
    if not 0 < size <= current:
        raise InvalidInput("树大小超出日志范围", code="bad_tree_size", detail={"size": size, "current": current})


@router.get("/log/inclusion", response=ProofOut, summary="包含证明（RFC 6962 §2.1.1）")
def inclusion(request, seq: int, size: int):
    e = selectors.get_event_for(request.user, seq)
    _check_size(size)
    if seq >= size:
        raise InvalidInput("叶序号须小于树大小", code="bad_leaf_index")
    proof = store.inclusion_proof(seq, size)
    return {"tree_size": size, "leaf_index": seq, "leaf_hash": bytes(e.leaf_hash).hex(),
            "proof": [p.hex() for p in proof]}


@router.get("/log/consistency", response=ProofOut, summary="一致性证明（RFC 6962 §2.1.2）")
def consistency(request, first: int, second: int):
    require(request.user, "seccloud.view")
    _check_size(second)
    if not 0 < first <= second:
        raise InvalidInput("须 0 < first ≤ second", code="bad_tree_size")
    return {"tree_size": second, "first": first, "second": second,
            "proof": [p.hex() for p in store.consistency_proof(first, second)]}


@router.get("/log/leaf/{seq}", summary="叶数据（规范JSON，base64）")
def leaf(request, seq: int):
    e = selectors.get_event_for(request.user, seq)
    return {"seq": seq, "leaf": base64.b64encode(ingest.event_leaf_bytes(e)).decode()}


@router.get("/keys/public", response=list[PublicKeyOut], auth=None, summary="部门SM2签名公钥（公开）")
def public_keys(request):
    return [{"key_id": k.key_id, "department": k.department.name, "department_code": k.department.code,
             "public_pem": k.public_pem, "active": k.active} for k in published_public_keys()]
