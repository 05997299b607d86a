"""追溯监管 API: EPCIS 2.0 capture and query (REST binding), traces, public lookup, master data, code
issuing, recall, vaccination and cold-chain uploads.

Authentication: staff sessions (scoped by department) or an organisation-bound key in ``X-Trace-Key``
(the systems of manufacturers, distributors and CDCs). See docs/trace.md.
"""


import orjson
from django.conf import settings
from django.http import HttpResponse, StreamingHttpResponse
from ninja import Router, Status
from ninja.pagination import paginate
from ninja.security import APIKeyHeader, django_auth

from smartgov.core.errors import InvalidInput, NotFound
from smartgov.core.middleware import limited_body
from smartgov.core.pagination import PageNumber
from smartgov.core.permissions import require

from . import selectors, services, subscriptions
from .epcis import render
from .models import AefiReport, Batch, CaptureJob, CodeIssue, NamedQuery, Organisation, Product, Recall, Vaccination
from .permissions import OrganisationKey
from .schemas import (
    AckIn,
    AefiClassIn,
    AefiIn,
    CaptureOut,
    IssueIn,
    IssueOut,
    LotReleaseIn,
    NamedQueryIn,
    PackagingIn,
    RecallIn,
    RecallOut,
    SubscriptionIn,
    VaccinationIn,
    VaccineeOut,
)


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


def _acting(request):
    """(actor, organisation or None) for a write a key may make: the signed-in user, or the
    organisation's key (``OrganisationKey``) acting for its own organisation."""
    if isinstance(request.auth, Organisation):
        return OrganisationKey(request.auth), request.auth
    return request.auth, None


def _org(org_id) -> Organisation:
    org = Organisation.objects.select_related("department").filter(pk=org_id).first()
    if org is None:
        raise NotFound("没有该追溯参与单位", code="organisation_not_found")
    return org


# ------------------------------------------------------------------------------------------ capture


def _iso(value) -> str | None:
    return value.isoformat(timespec="milliseconds").replace("+00:00", "Z") if value else None


def _problem(error: dict) -> dict:
    """A per-event error as an RFC 7807 problem (what the binding's CaptureJob.errors holds), keeping
    our own fields (event index, eventID, field, Chinese message)."""
    where = f"#/epcisBody/eventList/{error['event']}" if error.get("event") is not None else "#"
    return {"type": "epcisException:ValidationException", "title": error.get("message", ""), "status": 400,
            "detail": error.get("field", ""), "instance": where, **error}


def _capture_out(job: CaptureJob) -> dict:
    return {"captureID": str(job.pk), "running": False, "success": job.status == "succeeded" and not job.errors,
            "captureErrorBehaviour": job.behaviour, "createdAt": _iso(job.created_at),
            "finishedAt": _iso(job.finished_at), "errors": [_problem(e) for e in job.errors],
            "eventsReceived": job.events_received, "eventsStored": job.events_stored,
            "eventsDuplicate": job.events_duplicate, "epcEvents": job.epc_events}


@router.post("/epcis/capture", response={202: CaptureOut}, summary="EPCIS 2.0 事件上报（JSON-LD，流式）")
def capture(request, response: HttpResponse, organisation: int | None = None):
    """Body: an EPCISDocument. Header ``GS1-Capture-Error-Behaviour: rollback|proceed``. Staff name the
    organisation they capture for (``?organisation=``); a key captures for its own organisation."""
    actor, org = _acting(request)
    if org is None:
        if organisation is None:
            raise InvalidInput("请指定上报单位（organisation）", code="organisation_required")
        org = _org(organisation)
    behaviour = request.headers.get("GS1-Capture-Error-Behaviour", "rollback").strip().lower()
    chunks = limited_body(request, settings.MAX_REQUEST_BYTES)
    xml = (request.content_type or "").endswith("xml")  # application/xml, text/xml
    job = services.capture_epcis_document(actor=actor, organisation=org, chunks=chunks, behaviour=behaviour, xml=xml)
    response["Location"] = f"{request.path.rstrip('/')}/{job.pk}"
    for name, value in GS1_HEADERS.items():
        response[name] = value
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


# Response headers of the EPCIS 2.0 REST binding (openapi.yaml, "Headers"): the versions this
# repository speaks, and how identifiers come back (a query answer names the GS1-EPC-Format it applied;
# elsewhere: any of them may be asked for).
GS1_HEADERS = {"GS1-EPCIS-Version": "2.0.0", "GS1-CBV-Version": "2.0.0", "GS1-EPCIS-Min": "2.0.0",
               "GS1-EPCIS-Max": "2.0.0", "GS1-CBV-Min": "2.0.0", "GS1-CBV-Max": "2.0.0",
               "GS1-EPC-Format": "No_Preference", "GS1-CBV-XML-Format": "No_Preference", "GS1-Extensions": ""}
PROBLEM_STATUS = {"QueryParameterException": 400, "QueryTooLargeException": 413, "NotAcceptableException": 406}
XML = "application/xml"
# what a query answer can be given as (Accept): JSON-LD first, so */* and no Accept get JSON-LD
QUERY_MEDIA = (LD_JSON, "application/json", XML, "text/xml")


def _gs1(resp: HttpResponse) -> HttpResponse:
    for name, value in GS1_HEADERS.items():
        resp[name] = value
    return resp


def _problem_response(exc: InvalidInput, request) -> HttpResponse:
    """QueryParameterException/QueryTooLargeException as the binding wants them: RFC 7807
    ``application/problem+json`` with 400/413 (our code, Chinese message and detail kept)."""
    status = PROBLEM_STATUS[exc.code]
    body = {"type": f"epcisException:{exc.code}", "title": exc.message, "status": status,
            "detail": exc.message, "instance": request.get_full_path(), "code": exc.code,
            "message": exc.message, **({"parameters": exc.detail} if exc.detail else {})}
    return _gs1(HttpResponse(orjson.dumps(body), status=status, content_type="application/problem+json"))


def _query(request, actor, params: dict) -> HttpResponse:
    try:
        page = selectors.query_events(actor, params)
    except InvalidInput as exc:
        if exc.code in PROBLEM_STATUS:
            return _problem_response(exc, request)
        raise
    return _query_response(page, request)


def _next_link(resp: HttpResponse, request, token: str | None, expires=None) -> HttpResponse:
    """The binding's paging: ``Link: <absolute URL of the next page>; rel="next"`` while there are more
    results (none on the last page) and ``GS1-Next-Page-Token-Expires``."""
    if token:
        params = request.GET.copy()
        params["nextPageToken"] = token
        resp["Link"] = f'<{request.build_absolute_uri(request.path)}?{params.urlencode()}>; rel="next"'
        if expires is not None:
            resp["GS1-Next-Page-Token-Expires"] = _iso(expires)
    return resp


def _query_response(page: selectors.QueryPage, request) -> HttpResponse:
    """The EPCISQueryDocument in the representation asked for: ``Accept`` (JSON-LD, JSON or EPCIS 2.0 XML;
    406 ``NotAcceptableException`` for anything else) and ``GS1-EPC-Format`` (identifiers as Digital Links
    — the binding's default —, as EPC URNs, or as captured)."""
    epc_format = request.headers.get("GS1-EPC-Format", render.DEFAULT_EPC_FORMAT).strip()
    if epc_format not in render.EPC_FORMATS:
        return _problem_response(InvalidInput(f"GS1-EPC-Format 应为 {'、'.join(render.EPC_FORMATS)} 之一",
                                              code="QueryParameterException", detail={"header": "GS1-EPC-Format"}),
                                 request)
    media = request.get_preferred_type(QUERY_MEDIA)
    if media is None:
        return _problem_response(InvalidInput("可提供 application/ld+json、application/json 或 application/xml",
                                              code="NotAcceptableException", detail={"header": "Accept"}), request)
    xml = media in (XML, "text/xml")
    body = page.body
    if xml or epc_format not in ("Never_Translates", "No_Preference"):
        document = render.translate_epcs(orjson.loads(body), epc_format)
        body = render.query_document_xml(document) if xml else orjson.dumps(document)
    resp = _gs1(HttpResponse(body, content_type=media if media != "application/json" else LD_JSON))
    resp["GS1-EPC-Format"] = epc_format
    resp["Vary"] = "Accept, GS1-EPC-Format"
    return _next_link(resp, request, page.next_token, page.token_expires)


@router.get("/epcis/events", summary="EPCIS 2.0 事件查询（MATCH_/EQ_/GE_/LT_/WD_ 参数，perPage + nextPageToken）")
def events(request):
    user, org = _caller(request)
    return _query(request, org or user, request.GET.dict())


EVENT_TYPE_NAMES = ("ObjectEvent", "AggregationEvent", "TransactionEvent", "TransformationEvent", "AssociationEvent")
# /{resource}/{value}/events → the query parameter the value goes into (openapi.yaml paths)
RESOURCE_PARAMS = {"eventTypes": "eventType", "epcs": "MATCH_anyEPC", "bizSteps": "EQ_bizStep",
                   "bizLocations": "EQ_bizLocation", "readPoints": "EQ_readPoint", "dispositions": "EQ_disposition"}


def _named(user, org):
    return NamedQuery.objects.filter(organisation=org) if org is not None else NamedQuery.objects.filter(owner=user)


def _query_out(nq) -> dict:
    return {"name": nq.name, "query": nq.query, "createdAt": _iso(nq.created_at)}


@router.post("/epcis/queries", response={201: dict}, summary="创建命名查询（EPCIS 2.0 /queries）")
def create_query(request, response: HttpResponse, payload: NamedQueryIn):
    actor, org = _acting(request)
    try:
        nq = services.create_named_query(actor=actor, organisation=org, name=payload.name, query=payload.query)
    except InvalidInput as exc:
        if exc.code in PROBLEM_STATUS:
            return _problem_response(exc, request)
        raise
    response["Location"] = f"{request.path.rstrip('/')}/{nq.name}"
    return Status(201, _query_out(nq))


@router.get("/epcis/queries", summary="命名查询列表")
def list_queries(request):
    user, org = _caller(request)
    return {"@context": selectors.EPCIS_CONTEXT, "type": "Collection",
            "member": [_query_out(q) for q in _named(user, org).order_by("name")]}


@router.get("/epcis/queries/{name}", summary="命名查询")
def get_query(request, name: str):
    user, org = _caller(request)
    nq = _named(user, org).filter(name=name).first()
    if nq is None:
        raise NotFound("没有该查询", code="query_not_found")
    return _query_out(nq)


@router.delete("/epcis/queries/{name}", response={204: None}, summary="删除命名查询")
def delete_query(request, name: str):
    actor, org = _acting(request)
    services.delete_named_query(actor=actor, organisation=org, name=name)
    return Status(204, None)


@router.get("/epcis/queries/{name}/events", summary="运行命名查询")
def run_query(request, name: str):
    user, org = _caller(request)
    nq = _named(user, org).filter(name=name).first()
    if nq is None:
        raise NotFound("没有该查询", code="query_not_found")
    params = {k: v for k, v in request.GET.dict().items() if k in ("perPage", "nextPageToken")}
    return _query(request, org or user, {**nq.query, **params})


@router.get("/epcis/events/{path:event_id}", summary="按 eventID 取单个事件（含错误声明）")
def event_by_id(request, event_id: str):
    user, org = _caller(request)
    page = selectors.query_events(org or user, {"EQ_eventID": event_id, "perPage": "1000"})
    if b'"eventList":[]' in page.body:
        raise NotFound("没有该事件", code="event_not_found")
    return _query_response(page, request)


@router.get("/epcis/{resource}/{path:value}/events", summary="某一资源（事件类型、标识、业务步骤、地点、读点、处置）的事件")
def resource_events(request, resource: str, value: str):
    param = RESOURCE_PARAMS.get(resource)
    if param is None:
        raise NotFound("没有该资源", code="resource_not_found")
    user, org = _caller(request)
    params = request.GET.dict()
    params[param] = selectors.parse_code(value) if resource == "epcs" else value
    return _query(request, org or user, params)


@router.get("/epcis/{resource}", summary="EPCIS 资源列表（eventTypes、epcs、bizSteps、bizLocations、readPoints、dispositions）")
def resource_list(request, resource: str):
    if resource not in RESOURCE_PARAMS:
        raise NotFound("没有该资源", code="resource_not_found")
    user, org = _caller(request)
    try:
        members, token = selectors.resource_members(org or user, resource, request.GET.dict())
    except InvalidInput as exc:
        if exc.code in PROBLEM_STATUS:
            return _problem_response(exc, request)
        raise
    body = {"@context": selectors.EPCIS_CONTEXT, "type": "Collection", "member": members}
    resp = _gs1(HttpResponse(orjson.dumps(body), content_type=LD_JSON))
    return _next_link(resp, request, token)


@router.delete("/epcis/nextPageToken/{path:token}", response={204: None},
               summary="释放 nextPageToken（EPCIS 2.0 可选端点：令牌作废）")
def release_token(request, token: str):
    """The binding's optional ``DELETE /nextPageToken/{token}`` (204 NextPageTokenInvalidated): the token
    is invalidated — a later page asked with it is refused like an expired one. A token that is already
    unusable (not ours, expired, released before) answers 204 as well and changes nothing."""
    actor, org = _acting(request)
    services.release_page_token(actor=actor, organisation=org, token=token)
    return Status(204, None)


OPTIONS_PATHS = ("/epcis/capture", "/epcis/events", "/epcis/queries", "/epcis/eventTypes", "/epcis/epcs", "/epcis/bizSteps",
                 "/epcis/bizLocations", "/epcis/readPoints", "/epcis/dispositions")


def _options(request, **_):
    allow = "OPTIONS, POST" if request.path.endswith("/capture") else \
        "OPTIONS, GET, POST" if request.path.endswith("/queries") else "OPTIONS, GET"
    resp = _gs1(HttpResponse(status=204))
    resp["Allow"] = allow
    return resp


for _path in OPTIONS_PATHS:
    router.add_api_operation(_path, ["OPTIONS"], _options, auth=None, summary="EPCIS 2.0：支持的方法与版本头",
                             include_in_schema=False)


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


@router.post("/code-issues", response={201: IssueOut}, summary="赋码：为批次生成追溯码")
def issue_codes(request, body: IssueIn):
    actor, org = _acting(request)
    batch = Batch.objects.select_related("product__manufacturer__department").filter(pk=body.batch_id).first()
    if batch is None:
        raise NotFound("没有该批次", code="batch_not_found")
    issue = services.issue_codes(actor=actor, organisation=org, batch=batch, count=body.count, scheme=body.scheme)
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


@router.get("/recalls/{recall_id}/vaccinees", response=list[VaccineeOut], summary="召回影响：已接种者及联系方式")
@paginate(PageNumber)
def recall_vaccinees(request, recall_id: int):
    user, _ = _caller(request)
    return services.reveal_vaccinee_contacts(actor=user, recall=_recall(user, recall_id))


def _recall(user, recall_id) -> Recall:
    require(user, "trace.view")
    recall = Recall.objects.select_related("batch__product", "department").filter(pk=recall_id).first()
    if recall is None:
        raise NotFound("没有该召回", code="recall_not_found")
    require(user, "trace.view", department=recall.department, hide=True)
    return recall


# ------------------------------------------------------------------------------------------ vaccination


@router.post("/vaccinations", response={201: dict}, summary="接种登记：剂次关联受种者与接种人员（剂次、接种途径、接种部位）")
def vaccinate(request, body: VaccinationIn):
    user, _ = _caller(request)
    vac = services.administer_dose(actor=user, code=body.code, id_number=body.id_number, site=_org(body.site_id),
                                   dose_number=body.dose_number, route=body.route, body_site=body.body_site)
    return Status(201, {"id": vac.pk, "epc": vac.epc, "administered_at": vac.administered_at,
                        **selectors.vaccination_details(vac)})


# ------------------------------------------------------------------------------------------ NMPA data sets


def _batch(batch_id: int) -> Batch:
    batch = Batch.objects.select_related("product__manufacturer__department").filter(pk=batch_id).first()
    if batch is None:
        raise NotFound("没有该批次", code="batch_not_found")
    return batch


@router.post("/products/{product_id}/packaging", response=dict, summary="包装层级与包装比例（如 1:5:10，支/盒/箱）")
def set_packaging(request, product_id: int, body: PackagingIn):
    user, _ = _caller(request)
    product = Product.objects.select_related("manufacturer__department").filter(pk=product_id).first()
    if product is None:
        raise NotFound("没有该品种", code="product_not_found")
    services.set_packaging(actor=user, product=product, ratio=body.ratio, units=body.units)
    return selectors.packaging(product)


@router.post("/batches/{batch_id}/lot-releases", response={201: dict}, summary="登记批签发（证明或不予批签发通知书）")
def lot_release(request, batch_id: int, body: LotReleaseIn):
    user, _ = _caller(request)
    release = services.record_lot_release(actor=user, batch=_batch(batch_id), **body.dict())
    return Status(201, {"id": release.pk, "certificate_number": release.certificate_number,
                        "conclusion": release.conclusion})


@router.post("/vaccinations/{vaccination_id}/aefi", response={201: dict}, summary="报告疑似预防接种异常反应（关联接种记录）")
def report_aefi(request, vaccination_id: int, body: AefiIn):
    user, _ = _caller(request)
    reporter = _org(body.reporter_id)
    vac = Vaccination.objects.select_related("site").filter(pk=vaccination_id).first()
    if vac is None or not selectors.organisations_for(user).filter(pk=vac.site_id).exists():
        raise NotFound("没有该接种记录", code="vaccination_not_found")
    report = services.report_aefi(actor=user, vaccination=vac, reporter=reporter, onset_at=body.onset_at,
                                  symptoms=body.symptoms, severe=body.severe, report_number=body.report_number)
    return Status(201, {"id": report.pk, "report_number": report.report_number,
                        "classification": report.classification})


@router.post("/aefi/{report_id}/classify", response=dict, summary="AEFI 调查诊断分类")
def classify_aefi(request, report_id: int, body: AefiClassIn):
    user, _ = _caller(request)
    report = AefiReport.objects.select_related("reporter__department").filter(pk=report_id).first()
    if report is None:
        raise NotFound("没有该报告", code="aefi_not_found")
    report = services.classify_aefi(actor=user, report=report, classification=body.classification)
    return {"report_number": report.report_number, "classification": report.classification}


@router.get("/batches/{batch_id}/aefi", response=list[dict], summary="某批次疫苗关联的疑似预防接种异常反应")
def batch_aefi(request, batch_id: int):
    user, _ = _caller(request)
    return selectors.aefi_reports(user, batch=_batch(batch_id))


@router.get("/batches/{batch_id}/nmpa-export", summary="疫苗追溯数据交换导出（NMPAB/T 1004-2019 数据集，JSON）")
def nmpa_export(request, batch_id: int):
    user, _ = _caller(request)
    body = selectors.nmpa_export(user, batch=_batch(batch_id))
    resp = HttpResponse(orjson.dumps(body), content_type="application/json")
    resp["Content-Disposition"] = f'attachment; filename="vaccine-exchange-{batch_id}.json"'
    return resp


# ------------------------------------------------------------------------------------------ cold chain


@router.post("/loggers/{logger_id}/readings", response={201: dict}, summary="上传温度数据（CSV 或 JSON）")
def upload_readings(request, logger_id: int):
    actor, org = _acting(request)
    logger = selectors.get_logger(logger_id)
    content_type = request.headers.get("Content-Type", "")
    outcome = services.upload_readings(actor=actor, organisation=org, logger=logger, data=request.body,
                                        content_type=content_type)
    return Status(201, outcome)


@router.post("/alerts/{alert_id}/acknowledge", response=dict, summary="确认温度告警（须填写说明）")
def acknowledge(request, alert_id: int, body: AckIn):
    user, _ = _caller(request)
    alert = services.acknowledge_alert(actor=user, alert=selectors.get_alert(alert_id), comment=body.comment)
    return {"id": alert.pk, "acknowledged_at": alert.acknowledged_at}


# ------------------------------------------------------------------ query subscriptions (webhooks)

PROBLEM_STATUS.setdefault("SubscriptionControlsException", 400)


def _subscription_out(sub) -> dict:
    out = {"subscriptionID": sub.subscription_id, "dest": sub.dest, "createdAt": _iso(sub.created_at),
           "lastNotifiedAt": _iso(sub.last_notified_at), "initialRecordTime": _iso(sub.initial_record_time),
           "reportIfEmpty": sub.report_if_empty, "epcFormat": "No_Preference"}
    out.update({"stream": True} if sub.stream else {"schedule": sub.schedule})
    return out


@router.post("/epcis/queries/{name}/subscriptions", response={201: dict},
             summary="订阅命名查询（EPCIS 2.0 webhook）")
def create_subscription(request, response: HttpResponse, name: str, payload: SubscriptionIn):
    actor, org = _acting(request)
    try:
        sub = subscriptions.create_subscription(
            actor=actor, organisation=org, name=name, dest=payload.dest, stream=payload.stream,
            schedule=payload.schedule, report_if_empty=payload.reportIfEmpty,
            initial_record_time=payload.initialRecordTime, signature_token=payload.signatureToken)
    except InvalidInput as exc:
        if exc.code in PROBLEM_STATUS:
            return _problem_response(exc, request)
        raise
    response["Location"] = f"{request.path.rstrip('/')}/{sub.subscription_id}"
    return Status(201, _subscription_out(sub))


@router.get("/epcis/queries/{name}/subscriptions", summary="命名查询的订阅列表")
def list_subscriptions(request, name: str):
    actor, org = _acting(request)
    return {"@context": selectors.EPCIS_CONTEXT, "type": "Collection",
            "member": [_subscription_out(s) for s in subscriptions.subscriptions_of(actor, org, name)]}


@router.get("/epcis/queries/{name}/subscriptions/{subscription_id}", summary="订阅")
def get_subscription(request, name: str, subscription_id: str):
    actor, org = _acting(request)
    sub = subscriptions.subscriptions_of(actor, org, name).filter(subscription_id=subscription_id).first()
    if sub is None:
        raise NotFound("没有该订阅", code="subscription_not_found")
    return _subscription_out(sub)


@router.delete("/epcis/queries/{name}/subscriptions/{subscription_id}", response={204: None},
               summary="取消订阅")
def delete_subscription(request, name: str, subscription_id: str):
    actor, org = _acting(request)
    subscriptions.delete_subscription(actor=actor, organisation=org, name=name, subscription_id=subscription_id)
    return Status(204, None)
