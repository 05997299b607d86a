"""追溯监管 API: EPCIS 2.0 capture and query (REST binding), traces, public lookup, master data, code
issuing, recall, vaccination and cold-chain uploads.

Authentication: staff sessions (scoped by department) or an organisation-bound key in ``X-Trace-Key``
(the systems of manufacturers, distributors and CDCs). See docs/trace.md.
"""

from django.http import HttpResponse, StreamingHttpResponse
from ninja import Router, Schema, Status
from ninja.pagination import paginate
from ninja.security import APIKeyHeader, django_auth

from smartgov.core.errors import InvalidInput, NotFound
from smartgov.core.pagination import PageNumber
from smartgov.core.permissions import require

from . import coldchain, selectors, services
from .models import Batch, CaptureJob, CodeIssue, Organisation, Recall


class TraceKey(APIKeyHeader):
    param_name = "X-Trace-Key"

    def authenticate(self, request, key):
        return services.authenticate_capture_key(key)


AUTH = [TraceKey(), django_auth]
router = Router(tags=["药品（疫苗）追溯监管 trace"], auth=AUTH)

LD_JSON = "application/ld+json"


def _caller(request):
    """(user or None, organisation or None) for the authenticated caller."""
    if isinstance(request.auth, Organisation):
        return None, request.auth
    return request.auth, None


def _org(org_id) -> Organisation:
    org = Organisation.objects.select_related("department").filter(pk=org_id).first()
    if org is None:
        raise NotFound("没有该追溯参与单位", code="organisation_not_found")
    return org


# ------------------------------------------------------------------------------------------ capture


class CaptureOut(Schema):
    captureID: int
    running: bool
    success: bool
    captureErrorBehaviour: str
    eventsReceived: int
    eventsStored: int
    eventsDuplicate: int
    epcEvents: int
    errors: list


def _capture_out(job: CaptureJob) -> dict:
    return {"captureID": job.pk, "running": False, "success": job.status != "failed",
            "captureErrorBehaviour": job.behaviour, "eventsReceived": job.events_received,
            "eventsStored": job.events_stored, "eventsDuplicate": job.events_duplicate,
            "epcEvents": job.epc_events, "errors": job.errors}


@router.post("/epcis/capture", response={202: CaptureOut}, summary="EPCIS 2.0 事件上报（JSON-LD，流式）")
def capture(request, organisation: int | None = None):
    """Body: an EPCISDocument. Header ``GS1-Capture-Error-Behaviour: rollback|proceed``. Staff name the
    organisation they capture for (``?organisation=``); a key captures for its own organisation."""
    user, org = _caller(request)
    if org is None:
        if organisation is None:
            raise InvalidInput("请指定上报单位（organisation）", code="organisation_required")
        org = _org(organisation)
    behaviour = request.headers.get("GS1-Capture-Error-Behaviour", "rollback").strip().lower()
    chunks = iter(lambda: request.read(1 << 20), b"")
    job = services.capture_epcis_document(actor=user, organisation=org, chunks=chunks, behaviour=behaviour)
    return Status(202, _capture_out(job))


@router.get("/epcis/capture/{capture_id}", response=CaptureOut, summary="上报处理状态")
def capture_status(request, capture_id: int):
    user, org = _caller(request)
    job = CaptureJob.objects.select_related("organisation__department").filter(pk=capture_id).first()
    if job is None:
        raise NotFound("没有该上报记录", code="capture_not_found")
    if org is not None:
        if job.organisation_id != org.pk:
            raise NotFound("没有该上报记录", code="capture_not_found")
    else:
        require(user, "trace.view", department=job.organisation.department if job.organisation else user.department,
                hide=True)
    return _capture_out(job)


# ------------------------------------------------------------------------------------------ query


def _query_response(page: selectors.QueryPage, request) -> HttpResponse:
    resp = HttpResponse(page.body, content_type=LD_JSON)
    if page.next_token:
        params = request.GET.copy()
        params["nextPageToken"] = page.next_token
        resp["Link"] = f'<{request.path}?{params.urlencode()}>; rel="next"'
    return resp


@router.get("/epcis/events", summary="EPCIS 2.0 事件查询（MATCH_/EQ_/GE_/LT_/WD_ 参数，perPage + nextPageToken）")
def events(request):
    user, org = _caller(request)
    return _query_response(selectors.query_events(org or user, request.GET.dict()), request)


@router.get("/epcis/epcs/{path:epc}/events", summary="某个标识的全部事件")
def epc_events(request, epc: str):
    user, org = _caller(request)
    params = request.GET.dict()
    params["MATCH_anyEPC"] = selectors.parse_code(epc)
    return _query_response(selectors.query_events(org or user, params), request)


@router.get("/trace/{path:code}", summary="追溯码全程追溯（含所经容器的事件与冷链数据）")
def trace(request, code: str):
    user, org = _caller(request)
    if org is not None:
        raise NotFound("单位密钥不能查询全程追溯", code="trace_requires_staff")
    return selectors.trace_for(user, code)


@router.get("/lookup/{path:code}", auth=None, summary="公众查询：真伪、品种、批号、有效期（不含个人信息）")
def lookup(request, code: str):
    return selectors.public_lookup(code)


# ------------------------------------------------------------------------------------------ codes


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


@router.post("/code-issues", response={201: IssueOut}, summary="赋码：为批次生成追溯码")
def issue_codes(request, body: IssueIn):
    user, org = _caller(request)
    batch = Batch.objects.select_related("product__manufacturer__department").filter(pk=body.batch_id).first()
    if batch is None:
        raise NotFound("没有该批次", code="batch_not_found")
    issue = services.issue_codes(actor=user, organisation=org, batch=batch, count=body.count, scheme=body.scheme)
    return Status(201, issue)


@router.get("/code-issues/{issue_id}/csv", summary="导出赋码CSV（供印刷/喷码线）")
def issue_csv(request, issue_id: int):
    user, org = _caller(request)
    issue = CodeIssue.objects.select_related("batch__product__manufacturer__department").filter(pk=issue_id).first()
    if issue is None:
        raise NotFound("没有该赋码记录", code="issue_not_found")
    maker = issue.batch.product.manufacturer
    if org is not None:
        if maker is None or maker.pk != org.pk:
            raise NotFound("没有该赋码记录", code="issue_not_found")
    else:
        require(user, "trace.issue_codes", department=maker.department if maker else None, hide=True)
    resp = StreamingHttpResponse(services.export_issue_csv(issue), content_type="text/csv; charset=utf-8")
    resp["Content-Disposition"] = f'attachment; filename="codes-{issue.pk}.csv"'
    return resp


# ------------------------------------------------------------------------------------------ recall


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


@router.post("/recalls", response={201: RecallOut}, summary="召回批次")
def start_recall(request, body: RecallIn):
    user, _ = _caller(request)
    require(user, "trace.recall")
    batch = Batch.objects.filter(pk=body.batch_id).first()
    if batch is None:
        raise NotFound("没有该批次", code="batch_not_found")
    return Status(201, services.recall_batch(actor=user, batch=batch, reason=body.reason, level=body.level))


@router.get("/recalls/{recall_id}", summary="召回进度：按所在地点汇总的未接种剂次")
def recall_progress(request, recall_id: int):
    user, _ = _caller(request)
    return selectors.recall_progress(_recall(user, recall_id))


@router.get("/recalls/{recall_id}/doses", summary="召回影响：未接种剂次及其所在位置")
def recall_doses(request, recall_id: int, page: int = 1, page_size: int = 50):
    user, _ = _caller(request)
    return selectors.recall_doses(_recall(user, recall_id), page=page, page_size=page_size)


class VaccineeOut(Schema):
    code: str
    name: str
    phone: str
    site: str
    administered_at: str


@router.get("/recalls/{recall_id}/vaccinees", response=list[VaccineeOut], summary="召回影响：已接种者及联系方式")
@paginate(PageNumber)
def recall_vaccinees(request, recall_id: int):
    user, _ = _caller(request)
    return selectors.recall_vaccinees(user, _recall(user, recall_id))


def _recall(user, recall_id) -> Recall:
    require(user, "trace.view")
    recall = Recall.objects.select_related("batch__product", "department").filter(pk=recall_id).first()
    if recall is None:
        raise NotFound("没有该召回", code="recall_not_found")
    require(user, "trace.view", department=recall.department, hide=True)
    return recall


# ------------------------------------------------------------------------------------------ vaccination


class VaccinationIn(Schema):
    code: str
    id_number: str
    site_id: int


@router.post("/vaccinations", response={201: dict}, summary="接种登记：剂次关联受种者与接种人员")
def vaccinate(request, body: VaccinationIn):
    user, _ = _caller(request)
    vac = services.administer_dose(actor=user, code=body.code, id_number=body.id_number, site=_org(body.site_id))
    return Status(201, {"id": vac.pk, "epc": vac.epc, "administered_at": vac.administered_at})


# ------------------------------------------------------------------------------------------ cold chain


@router.post("/loggers/{logger_id}/readings", response={201: dict}, summary="上传温度数据（CSV 或 JSON）")
def upload_readings(request, logger_id: int):
    user, org = _caller(request)
    logger = coldchain.get_logger(logger_id)
    content_type = request.headers.get("Content-Type", "")
    outcome = coldchain.upload_readings(actor=user, organisation=org, logger=logger, data=request.body,
                                        content_type=content_type)
    return Status(201, outcome)


class AckIn(Schema):
    comment: str


@router.post("/alerts/{alert_id}/acknowledge", response=dict, summary="确认温度告警（须填写说明）")
def acknowledge(request, alert_id: int, body: AckIn):
    user, _ = _caller(request)
    alert = coldchain.acknowledge_alert(actor=user, alert=coldchain.get_alert(alert_id), comment=body.comment)
    return {"id": alert.pk, "acknowledged_at": alert.acknowledged_at}
