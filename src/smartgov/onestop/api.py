"""一网通办 API: the catalogue and guide (public), planning and applying (applicants), case actions
(officers of the item's department), evaluations and rectification, and the measures."""

from django.db.models import Prefetch
from ninja import File, Form, Router, Status
from ninja.files import UploadedFile
from ninja.pagination import paginate

from smartgov.accounts.models import Department
from smartgov.core.errors import InvalidInput, NotFound
from smartgov.core.pagination import PageNumber
from smartgov.core.permissions import covers_department, has_perm, require, scope

from . import selectors, services
from .guide_index import search
from .models import Application, Bundle, CaseStep, Rectification, ServiceItem
from .schemas import (
    ActionIn,
    ApplicationCreated,
    ApplicationDetail,
    ApplicationOut,
    ApplyIn,
    BundleApplyIn,
    BundleOut,
    EvaluationIn,
    EvaluationOut,
    GuideHit,
    ItemDetail,
    ItemIn,
    ItemOut,
    PlanIn,
    PlanOut,
    StoredOut,
    SubmissionOut,
    TextIn,
    TicketOut,
    VersionIn,
)

router = Router(tags=["一网通办 onestop"])


def _item(code: str) -> ServiceItem:
    item = selectors.item_by_code(code)
    if item is None:
        raise NotFound("没有这个事项", code="item_not_found")
    return item


def _bundle(code: str) -> Bundle:
    bundle = Bundle.objects.filter(code=code.strip().upper(), active=True).first()
    if bundle is None:
        raise NotFound("没有这个一件事", code="bundle_not_found")
    return bundle


def _case(request, number: str, *, detail: bool = False) -> Application:
    qs = selectors.cases_for(request.user)
    if detail:
        qs = qs.select_related("result_licence").prefetch_related(
            Prefetch("steps", CaseStep.objects.order_by("id")), "materials", "notices")
    app = qs.filter(number=number.strip()).first()
    if app is None:
        raise NotFound("没有这个办件", code="not_found")
    return app


# --------------------------------------------------------------------------- catalogue and guide


@router.get("/items", response=list[ItemOut], auth=None, summary="事项目录（公开）")
@paginate(PageNumber)
def list_items(request, q: str = "", department: str = ""):
    items = ServiceItem.objects.filter(active=True).select_related("department").order_by("implementation_code")
    if q:
        items = items.filter(name__icontains=q.strip())
    if department:
        items = items.filter(department__code=department.strip())
    return items


@router.get("/items/{code}", response=ItemDetail, auth=None, summary="事项详情（当前版本要素）")
def get_item(request, code: str):
    item = _item(code)
    item.content = selectors.current_version(item).content
    return item


@router.post("/items", response={201: ItemDetail}, summary="新增事项（部门管理员）")
def create_item(request, body: ItemIn):
    item = services.create_item(actor=request.user, department=request.user.department, **body.dict())
    item.content = selectors.current_version(item).content
    return Status(201, item)


@router.put("/items/{code}", response=ItemDetail, summary="发布事项新版本（部门管理员）")
def publish_item(request, code: str, body: VersionIn):
    item = _item(code)
    version = services.publish_item_version(actor=request.user, item=item, **body.dict())
    item.refresh_from_db()
    item.content = version.content
    return item


@router.get("/bundles", response=list[BundleOut], auth=None, summary="一件事目录（公开）")
def list_bundles(request):
    return Bundle.objects.filter(active=True).prefetch_related("members__item").order_by("code")


@router.get("/guide", response=list[GuideHit], auth=None, summary="智能导办：用一句话找事项和一件事（公开）")
def guide(request, q: str, k: int = 5):
    if not 1 <= k <= 20:
        raise InvalidInput("k 应在1–20之间", code="invalid_k")
    return search(q, k=k)


@router.post("/items/{code}/plan", response=PlanOut, summary="按情形得到材料清单、预填表单与费用（含复用）")
def plan_item(request, code: str, body: PlanIn):
    require(request.user, "onestop.apply")
    item = _item(code)
    content = selectors.current_version(item).parsed
    enterprise = selectors.represented_enterprise(request.user, body.enterprise_uscc)
    reuse = selectors.reuse_plan(request.user, content, body.answers, enterprise=enterprise)
    return {
        "situations": [s.model_dump(by_alias=True) for s in content.situations_for(body.answers)],
        "fields": [f.model_dump() for f in content.fields_for(body.answers)],
        "prefill": selectors.prefill(request.user, content, body.answers, enterprise=enterprise),
        "materials": [{"key": m.key, "name": m.name, "required": m.required,
                       "reuse": reuse[m.key].source if m.key in reuse else None,
                       "reuse_label": reuse[m.key].label if m.key in reuse else None}
                      for m in content.materials_for(body.answers)],
        "fee_total": content.fee_total(body.answers),
        "promised_limit_days": content.promised_limit_days, "visits": content.visits,
    }


@router.post("/materials", response={201: StoredOut}, summary="上传材料到我的材料库")
def upload_material(request, key: Form[str], name: Form[str], file: File[UploadedFile]):
    return Status(201, services.store_material(actor=request.user, key=key, name=name, upload=file))


# --------------------------------------------------------------------------- applications


@router.post("/applications", response={201: ApplicationCreated}, summary="提交申请（或保存草稿）")
def apply(request, body: ApplyIn):
    data = body.dict()
    item = _item(data.pop("item"))
    return Status(201, services.apply(actor=request.user, item=item, **data))


@router.post("/bundles/{code}/apply", response={201: SubmissionOut}, summary="一件事：一表申请，分送各部门")
def apply_bundle(request, code: str, body: BundleApplyIn):
    return Status(201, services.apply_bundle(actor=request.user, bundle=_bundle(code), **body.dict()))


@router.get("/applications", response=list[ApplicationOut], summary="办件查询（申请人：我的办件；工作人员：本部门）")
@paginate(PageNumber)
def list_applications(request, q: str = "", state: str = "", queue: bool = False):
    apps = selectors.case_queue(request.user) if queue else selectors.cases_for(request.user).order_by("-id")
    if state:
        apps = apps.filter(state=state)
    if q := q.strip():
        apps = apps.filter(number=q) if q.isdigit() and len(q) == 22 else apps.filter(applicant_name=q)
    return apps


@router.get("/applications/{number}", response=ApplicationDetail, summary="办件详情与办理进度")
def get_application(request, number: str):
    return _case(request, number, detail=True)


ACTIONS = {
    "submit": lambda u, a, b: services.submit_draft(actor=u, application=a),
    "prereview": lambda u, a, b: services.start_prereview(actor=u, application=a),
    "request_supplement": lambda u, a, b: services.request_supplement(
        actor=u, application=a, materials=list(b.materials), opinion=b.opinion),
    "supplement": lambda u, a, b: services.provide_supplement(
        actor=u, application=a, materials=dict(b.materials) if isinstance(b.materials, dict) else {}),
    "accept": lambda u, a, b: services.accept(actor=u, application=a, opinion=b.opinion),
    "not_accept": lambda u, a, b: services.not_accept(actor=u, application=a, reason=b.opinion),
    "review": lambda u, a, b: services.review(actor=u, application=a, outcome=b.outcome or "", opinion=b.opinion),
    "special_procedure": lambda u, a, b: services.start_special_procedure(
        actor=u, application=a, kind=b.kind, opinion=b.opinion),
    "end_special_procedure": lambda u, a, b: services.end_special_procedure(actor=u, application=a,
                                                                            opinion=b.opinion),
    "issue": lambda u, a, b: services.issue_result(actor=u, application=a),
    "deliver": lambda u, a, b: services.deliver(actor=u, application=a, method=b.method, detail=b.detail),
    "close": lambda u, a, b: services.close(actor=u, application=a),
    "withdraw": lambda u, a, b: services.withdraw(actor=u, application=a, reason=b.opinion),
}


@router.post("/applications/{number}/actions/{action}", response=ApplicationDetail,
             summary="办件动作：prereview/accept/not_accept/request_supplement/supplement/review/"
                     "special_procedure/end_special_procedure/issue/deliver/close/withdraw/submit")
def act(request, number: str, action: str, body: ActionIn):
    if action not in ACTIONS:
        raise NotFound("没有这个办件动作", code="unknown_action", detail=sorted(ACTIONS))
    app = _case(request, number)
    ACTIONS[action](request.user, app, body)
    return _case(request, number, detail=True)


@router.post("/applications/{number}/evaluation", response={201: EvaluationOut}, summary="好差评")
def evaluate(request, number: str, body: EvaluationIn):
    return Status(201, services.evaluate(actor=request.user, application=_case(request, number), **body.dict()))


# --------------------------------------------------------------------------- rectification and measures


@router.get("/rectifications", response=list[TicketOut], summary="差评整改工单（本部门）")
@paginate(PageNumber)
def list_tickets(request, status: str = ""):
    if not (has_perm(request.user, "onestop.rectify") or has_perm(request.user, "onestop.follow_up")):
        require(request.user, "onestop.rectify")
    tickets = scope(request.user, Rectification.objects.select_related(
        "department", "evaluation__application", "evaluation__item"), field="department").order_by("due_on")
    return tickets.filter(status=status) if status else tickets


def _ticket(request, ticket_id: int) -> Rectification:
    ticket = Rectification.objects.select_related("department", "evaluation__application",
                                                  "evaluation__item").filter(pk=ticket_id).first()
    if ticket is None:
        raise NotFound("没有这个工单", code="not_found")
    return ticket


@router.post("/rectifications/{ticket_id}/reply", response=TicketOut, summary="整改回复")
def reply_ticket(request, ticket_id: int, body: TextIn):
    return services.reply_rectification(actor=request.user, ticket=_ticket(request, ticket_id), reply=body.text)


@router.post("/rectifications/{ticket_id}/follow-up", response=TicketOut, summary="回访办结")
def follow_up_ticket(request, ticket_id: int, body: TextIn):
    return services.follow_up_rectification(actor=request.user, ticket=_ticket(request, ticket_id),
                                            follow_up=body.text)


@router.get("/measures", summary="一网通办指标：覆盖度、完备度、成效度")
def measures(request, department: str = ""):
    require(request.user, "onestop.view_stats")

    dept = None
    if department:
        dept = Department.objects.filter(code=department).first()
        if dept is None or not covers_department(request.user, dept, include_descendants=True):
            raise NotFound("没有这个部门", code="not_found")
    return selectors.measures(department=dept)
