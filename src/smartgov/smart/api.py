"""用数赋智 API: entitlements (免申即享) and their grants, a citizen's own offers, 秒批 rules with the test
panel, sampled approvals (事后抽查), 智能预审 of an upload, and the measures. See docs/smart.md."""

from django.utils import timezone
from ninja import File, Form, Router, Status
from ninja.files import UploadedFile
from ninja.pagination import paginate
from ninja.security import django_auth

from smartgov.core.errors import InvalidInput, NotFound
from smartgov.core.indicators import check_scope
from smartgov.core.pagination import PageNumber
from smartgov.core.permissions import require
from smartgov.onestop import selectors as onestop_selectors

from . import ocr, selectors, services
from .schemas import (
    ApprovalOut,
    EntitlementIn,
    EntitlementOut,
    GrantDetailOut,
    GrantOut,
    InstantRulesIn,
    MeasuresOut,
    PrereviewOut,
    ReasonIn,
    RespondIn,
    ReviewIn,
    RuleSetOut,
    ScreenOut,
    TrialIn,
    TrialOut,
)

router = Router(tags=["用数赋智 smart"], auth=django_auth)
MAX_UPLOAD = 10 * 1_048_576


def _detail(g):
    g.decision_list = selectors.decisions_of(g)
    return g


def _item(request, code: str):
    item = onestop_selectors.item_by_code(code, fresh=True)
    if item is None:
        raise NotFound("没有这个事项", code="item_not_found")
    require(request.user, "smart.manage_rules", department=item.department, include_descendants=False, hide=True)
    return item


# --- 免申即享 ---------------------------------------------------------------------------------------------

@router.get("/entitlements", response=list[EntitlementOut], summary="免申即享事项（本部门及下级）")
@paginate(PageNumber)
def list_entitlements(request):
    return selectors.entitlements_for(request.user)


@router.put("/entitlements/{code}", response=EntitlementOut, summary="发布免申即享规则（新版本；部门管理员）")
def publish_entitlement(request, code: str, body: EntitlementIn):
    if body.code.strip().upper() != code.strip().upper():
        raise InvalidInput("路径与内容中的编码不一致", code="code_mismatch")
    ent = services.publish_entitlement(actor=request.user, department=request.user.department, code=code,
                                       name=body.name, definition=body.definition)
    return ent


@router.post("/screen", response=ScreenOut, summary="立即筛查本部门免申即享事项的新符合条件人员并复核到期待遇")
def screen_now(request):
    require(request.user, "smart.manage_rules")
    return services.screen(actor=request.user, department=request.user.department)


@router.get("/grants", response=list[GrantOut], summary="享受记录（本部门及下级）")
@paginate(PageNumber)
def list_grants(request, entitlement: str = "", status: str = ""):
    ent = selectors.entitlement_for(request.user, entitlement) if entitlement else None
    return selectors.grants_for(request.user, entitlement=ent, status=status)


@router.get("/grants/{grant_id}", response=GrantDetailOut, summary="享受记录与认定依据")
def get_grant(request, grant_id: int):
    return _detail(selectors.grant_for(request.user, grant_id))


@router.post("/grants/{grant_id}/end", response=GrantOut, summary="终止待遇（须写明原因）")
def end_grant(request, grant_id: int, body: ReasonIn):
    grant = selectors.grant_for(request.user, grant_id)
    return (services.end_grant(actor=request.user, grant=grant, reason=body.reason))


@router.get("/my/grants", response=list[GrantOut], summary="我的免申即享待遇")
@paginate(PageNumber)
def my_grants(request):
    require(request.user, "smart.respond")
    return selectors.grants_of_user(request.user).select_related("person")


@router.get("/my/grants/{grant_id}", response=GrantDetailOut, summary="我的待遇：为什么符合、用了哪些数据")
def my_grant(request, grant_id: int):
    require(request.user, "smart.respond")
    return _detail(selectors.grant_of_user(request.user, grant_id))


@router.post("/my/grants/{grant_id}/respond", response=GrantOut, summary="确认收款账户或放弃")
def respond(request, grant_id: int, body: RespondIn):
    require(request.user, "smart.respond")
    grant = selectors.grant_of_user(request.user, grant_id)
    return (services.respond_to_grant(actor=request.user, grant=grant, accept=body.accept,
                                                bank_name=body.bank_name, bank_account=body.bank_account))


# --- 秒批 ---------------------------------------------------------------------------------------------------

@router.get("/rulesets", response=list[RuleSetOut], summary="秒批规则（本部门及下级的事项）")
@paginate(PageNumber)
def list_rulesets(request):
    return [{"id": r.pk, "item": r.item.implementation_code, "item_name": r.item.name, "version": r.current_version,
             "active": r.active} for r in selectors.rulesets_for(request.user)]


@router.put("/items/{code}/instant-rules", response=RuleSetOut, summary="发布事项的秒批规则（新版本）")
def publish_instant(request, code: str, body: InstantRulesIn):
    item = _item(request, code)
    rs = services.publish_instant_rules(actor=request.user, item=item, definition=body.definition)
    return {"id": rs.pk, "item": item.implementation_code, "item_name": item.name, "version": rs.current_version,
            "active": rs.active}


@router.post("/items/{code}/instant-rules/trial", response=TrialOut, summary="规则试运行：对历史办件运行草拟规则")
def trial(request, code: str, body: TrialIn):
    item = _item(request, code)
    return selectors.trial_run(request.user, item, body.definition, limit=max(1, min(body.limit, 500)))


@router.get("/approvals", response=list[ApprovalOut], summary="秒批结果（pending=true：待事后抽查）")
@paginate(PageNumber)
def list_approvals(request, pending: bool = False):
    return selectors.approvals_for(request.user, pending=pending)


@router.post("/approvals/{approval_id}/review", response=ApprovalOut, summary="事后抽查：确认或撤销（撤销须写明理由）")
def review(request, approval_id: int, body: ReviewIn):
    approval = selectors.approval_for(request.user, approval_id)
    a = services.review_sample(actor=request.user, approval=approval, revoke=body.revoke, reason=body.reason)
    return selectors.approval_for(request.user, a.pk)


# --- 智能预审 -----------------------------------------------------------------------------------------------

@router.post("/prereview", response={201: PrereviewOut}, summary="智能预审：识别上传的身份证或营业执照并核对表单")
def prereview(request, file: File[UploadedFile], kind: Form[str] = "id_card", name: Form[str] = "",
              id_number: Form[str] = "", uscc: Form[str] = ""):
    require(request.user, "smart.prereview")
    if file.size > MAX_UPLOAD:
        raise InvalidInput("文件不能超过10MB", code="file_too_large")
    try:
        result = ocr.read_document(file.read(), kind=kind)
    except ocr.UnreadableDocument as exc:
        raise InvalidInput(str(exc), code="unreadable_document") from None
    problems = ocr.check(kind, result, {"name": name.strip(), "id_number": id_number.strip(), "uscc": uscc.strip()},
                         today=timezone.localdate())
    pr = services.record_prereview(actor=request.user, kind=kind, result=result, problems=problems)
    return Status(201, {"id": pr.pk, "kind": pr.kind, "fields": pr.fields, "problems": pr.problems,
                        "engine": pr.engine, "ms": pr.ms})


@router.get("/measures", response=MeasuresOut, summary="免申即享、秒批、抽查与预审的统计（本部门及下级）")
def measures(request):
    require(request.user, "smart.view")
    check_scope(request.user, request.user.department)
    return selectors.measures(request.user.department)
