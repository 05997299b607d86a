"""Every write to 追溯监管. Keyword-only, ``actor=``, atomic, audited (one audit entry per capture job,
per recall, per code issue — never per event or per code).

Capture may be done by a user (``actor``) or by an organisation's API key (a system actor and
``organisation`` given, the key having been checked by the API); the audit entry names which.
"""

import datetime
import hashlib
import re
import secrets
from collections.abc import Iterable

import orjson
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.models import F, Max
from django.utils import timezone

from smartgov.audit.services import record
from smartgov.core.errors import Conflict, Forbidden, InvalidInput, NotFound, validated
from smartgov.core.permissions import covers_department, has_perm, is_system, require, user_of
from smartgov.core.tasks import enqueue_on_commit
from smartgov.identity.services import find_person_by_id_number

from . import codes, coldchain, ingest, nmpa, selectors
from .epcis.xml import XmlDocumentError, xml_to_document
from .models import (
    FLAG_ADMINISTERED,
    FLAG_IN_QUESTION,
    FLAG_RECALLED,
    AefiReport,
    Alert,
    AlertKind,
    Batch,
    CaptureJob,
    CaptureKey,
    CaptureStatus,
    CodeIssue,
    CodeScheme,
    CodeState,
    Logger,
    LotRelease,
    NamedQuery,
    Organisation,
    PackagingLevel,
    Position,
    Product,
    QuerySubscription,
    Reading,
    Recall,
    RecallStatus,
    ReleasedPageToken,
    Vaccination,
)
from .permissions import is_key
from .selectors import is_issued, recall_outstanding  # noqa: F401 (reads used here and by callers of services)
from .tasks import notify_streams

# ------------------------------------------------------------------------------------------ master data


def _org_path(org: Organisation) -> str:
    return (org.parent.path if org.parent else "/") + f"{org.pk}/"


@transaction.atomic
def create_organisation(*, actor, name: str, kind: str, department, location_uri: str, party_uri: str,
                        parent: Organisation | None = None, uscc: str = "", region_code: str = "",
                        latitude: float | None = None, longitude: float | None = None) -> Organisation:
    """Register a party of the chain (生产企业、配送企业、疾控中心、接种单位) with its EPCIS identifiers."""
    require(actor, "trace.manage_master", department=department)
    org = Organisation(name=name, kind=kind, department=department, parent=parent, uscc=uscc,
                       region_code=region_code, location_uri=codes.canonical_dl(location_uri.strip()),
                       party_uri=codes.canonical_dl(party_uri.strip()), latitude=latitude, longitude=longitude)
    validated(org, exclude=["path"])
    org.save()
    org.path = _org_path(org)
    org.save(update_fields=["path"])
    record(actor=actor, action="trace.organisation.create", target=org,
           changes={"name": name, "kind": kind, "location": org.location_uri, "parent": parent.pk if parent else None})
    return org


@transaction.atomic
def create_product(*, actor, department, name: str, holder: str, nmpa_code: str | None = None,
                   gtin: str | None = None, dosage_form: str = "", specification: str = "",
                   manufacturer: Organisation | None = None, gcp_length: int = 7, is_vaccine: bool = True,
                   storage_min: float = 2.0, storage_max: float = 8.0, approval_number: str = "",
                   **rules) -> Product:
    """Register a product (品种). At least one of the 7-digit 药品标识码 and the GTIN; a vaccine's 批准文号
    (国药准字S…) in the format of 《药品注册管理办法》 art. 123 when given."""
    require(actor, "trace.manage_master", department=department)
    nmpa_code = (nmpa_code or "").strip() or None
    gtin = (gtin or "").strip() or None
    if not nmpa_code and not gtin:
        raise InvalidInput("药品标识码和GTIN至少填写一个", code="product_code_required")
    if nmpa_code and (len(nmpa_code) != 7 or not nmpa_code.isdigit()):
        raise InvalidInput("药品标识码应为7位数字", code="invalid_nmpa_code")
    if gtin:
        if len(gtin) == 13:
            gtin = "0" + gtin
        if len(gtin) != 14 or not gtin.isdigit() or codes.gs1_check_digit(gtin[:-1]) != gtin[-1]:
            raise InvalidInput("GTIN应为14位数字且校验位正确", code="invalid_gtin")
    if storage_min >= storage_max:
        raise InvalidInput("储存温度下限应低于上限", code="invalid_storage_range")
    approval_number = _approval_number(approval_number, is_vaccine)
    product = Product(name=name, holder=holder, nmpa_code=nmpa_code, gtin=gtin, dosage_form=dosage_form,
                      approval_number=approval_number,
                      specification=specification, manufacturer=manufacturer, gcp_length=gcp_length,
                      is_vaccine=is_vaccine, storage_min=storage_min, storage_max=storage_max, **rules)
    validated(product)
    product.save()
    record(actor=actor, action="trace.product.create", target=product,
           changes={"name": name, "nmpa_code": nmpa_code, "gtin": gtin, "approval_number": approval_number})
    return product


def _approval_number(text: str, is_vaccine: bool) -> str:
    text = (text or "").strip()
    if not text:
        return ""
    parts = nmpa.parse_approval_number(text)
    if parts is None:
        raise InvalidInput("批准文号格式应为 国药准字 + H/Z/S（+C/J）+ 四位年号 + 四位顺序号",
                           code="invalid_approval_number")
    if is_vaccine and not parts["biological"]:
        raise InvalidInput("疫苗属生物制品，批准文号应为 国药准字S…", code="invalid_approval_number")
    return text


@transaction.atomic
def create_batch(*, actor, product: Product, lot: str, production_date: datetime.date,
                 expiry_date: datetime.date, department=None) -> Batch:
    require(actor, "trace.manage_master", department=department or _product_department(product))
    lot = (lot or "").strip()
    if not lot:
        raise InvalidInput("请填写批号", code="lot_required")
    if expiry_date <= production_date:
        raise InvalidInput("有效期应晚于生产日期", code="invalid_dates")
    if Batch.objects.filter(product=product, lot=lot).exists():
        raise Conflict("该品种已有此批号", code="batch_exists")
    batch = Batch(product=product, lot=lot, production_date=production_date, expiry_date=expiry_date)
    validated(batch)
    batch.save()
    record(actor=actor, action="trace.batch.create", target=batch,
           changes={"product": product.pk, "lot": lot, "expiry": expiry_date.isoformat()})
    return batch


def _product_department(product: Product):
    return product.manufacturer.department if product.manufacturer else None


@transaction.atomic
def issue_capture_key(*, actor, organisation: Organisation, label: str = "") -> tuple[CaptureKey, str]:
    """A new API key for an organisation's system to capture events (shown once)."""
    require(actor, "trace.manage_master", department=organisation.department)
    prefix = secrets.token_hex(4)
    key = f"sgt_{prefix}_{secrets.token_urlsafe(32)}"
    ck = CaptureKey.objects.create(organisation=organisation, prefix=prefix, key_hash=_key_hash(key), label=label,
                                   created_by=user_of(actor))
    record(actor=actor, action="trace.capture_key.issue", target=ck, changes={"organisation": organisation.pk,
                                                                              "label": label})
    return ck, key


def _key_hash(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def authenticate_capture_key(key: str) -> Organisation | None:
    parts = (key or "").split("_", 2)
    if len(parts) != 3 or parts[0] != "sgt":
        return None
    ck = (CaptureKey.objects.select_related("organisation").filter(prefix=parts[1], active=True).first())
    if ck is None or not secrets.compare_digest(ck.key_hash, _key_hash(key)):
        return None
    return ck.organisation


# ------------------------------------------------------------------------------------------ code issuing


@transaction.atomic
def issue_codes(*, actor, batch: Batch, count: int, scheme: str = CodeScheme.NMPA,
                organisation: Organisation | None = None) -> CodeIssue:
    """赋码: reserve ``count`` consecutive serials of the batch's product and bind them to the batch. The
    codes themselves are computed from the range (``issued_codes``) — unique because serials of a product
    are never reused (the product row is locked while the range is taken)."""
    product = Product.objects.select_for_update().get(pk=batch.product_id)
    if not is_key(actor):
        require(actor, "trace.issue_codes", department=_product_department(product))
    elif organisation is None or product.manufacturer_id != organisation.pk:
        raise Forbidden("只有该品种的生产企业可以赋码", code="not_manufacturer")
    if not 1 <= count <= 2_000_000:
        raise InvalidInput("一次赋码数量应在1至2,000,000之间", code="invalid_count")
    if scheme == CodeScheme.NMPA and not product.nmpa_code:
        raise InvalidInput("该品种没有药品标识码，不能赋20位追溯码", code="no_nmpa_code")
    if scheme == CodeScheme.SGTIN and not product.gtin:
        raise InvalidInput("该品种没有GTIN，不能赋SGTIN", code="no_gtin")
    if scheme not in (CodeScheme.NMPA, CodeScheme.SGTIN):
        raise InvalidInput("赋码方式应为 nmpa 或 sgtin", code="invalid_scheme")
    last = CodeIssue.objects.filter(batch__product=product, scheme=scheme).aggregate(
        m=Max(F("first_serial") + F("count")))["m"]
    first = last or 1
    if first + count > 10**9:
        raise Conflict("该品种的9位序列号已用尽", code="serials_exhausted")
    issue = CodeIssue.objects.create(batch=batch, scheme=scheme, first_serial=first, count=count,
                                     issued_by=user_of(actor))
    record(actor=actor, action="trace.codes.issue", target=issue,
           changes={"batch": batch.pk, "scheme": scheme, "first_serial": first, "count": count})
    return issue


def issued_codes(issue: CodeIssue) -> Iterable[str]:
    """The EPC URIs of an issue, in serial order (NMPA: ``urn:nmpa:tc:…``; SGTIN: URN)."""
    product = issue.batch.product
    for serial in range(issue.first_serial, issue.first_serial + issue.count):
        s9 = f"{serial:09d}"
        if issue.scheme == CodeScheme.NMPA:
            yield codes.NMPA_PREFIX + product.nmpa_code + s9 + codes.nmpa_check(product.nmpa_code, s9)
        else:
            yield codes.sgtin_urn(product.gtin, s9 + codes.nmpa_check(product.gtin, s9),
                                  gcp_length=product.gcp_length)


def export_issue_csv(issue: CodeIssue) -> Iterable[str]:
    """CSV lines for the printing line: 序号, code as printed (20 digits / GS1 element string), URI, DL."""
    yield "seq,code,epc_uri,digital_link,lot,expiry\n"
    batch = issue.batch
    for i, uri in enumerate(issued_codes(issue), start=1):
        dl = codes.canonical_dl(uri) if uri.startswith("urn:epc:") else ""
        printed = codes.display(codes.normalize_epc(uri))
        yield f"{i},{printed},{uri},{dl},{batch.lot},{batch.expiry_date.isoformat()}\n"


# ------------------------------------------------------------------------------------------ capture


def _capture_org_allowed(actor, organisation: Organisation | None) -> None:
    if is_key(actor):
        if organisation is None or organisation.pk != actor.organisation.pk:
            raise Forbidden("上报须使用单位密钥或工作人员账号", code="capture_forbidden")
        return
    require(actor, "trace.capture")
    if organisation is not None and not covers_department(actor, organisation.department, include_descendants=True):
        raise Forbidden("不能代其他部门管辖的单位上报", code="capture_out_of_scope")


def capture_epcis_document(*, actor, chunks: Iterable[bytes] | bytes, organisation: Organisation | None = None,
                           behaviour: str = "rollback", progress=None, xml: bool = False) -> CaptureJob:
    """Capture an EPCISDocument or EPCISQueryDocument (JSON-LD streamed as byte chunks; or, with
    ``xml=True``, EPCIS 2.0/1.2 XML, read whole).

    ``behaviour`` is the GS1-Capture-Error-Behaviour: ``rollback`` (default) stores nothing if any event
    is invalid; ``proceed`` stores the valid events and reports the others. A re-sent event (same event
    hash) is stored once. Returns the capture job; raises InvalidInput (with the job's id and the
    per-event errors in ``detail``) when the capture failed."""
    _capture_org_allowed(actor, organisation)
    return _capture_document(actor=actor, chunks=chunks, organisation=organisation, behaviour=behaviour,
                             progress=progress, xml=xml)


def _capture_document(*, actor, chunks, organisation, behaviour="rollback", progress=None,
                      xml=False) -> CaptureJob:
    """The capture itself, once the caller's permission was checked: by ``capture_epcis_document`` or
    by the platform's own services (recall, vaccination) that checked their own permission first."""
    if behaviour not in ("rollback", "proceed"):
        raise InvalidInput("GS1-Capture-Error-Behaviour 应为 rollback 或 proceed", code="invalid_error_behaviour")
    if isinstance(chunks, bytes | bytearray):
        chunks = [bytes(chunks)]
    if xml:  # EPCIS 2.0 or 1.2 XML: read into the JSON-LD form, then the same capture

        try:
            chunks = [orjson.dumps(xml_to_document(b"".join(chunks)))]
        except XmlDocumentError as exc:
            raise InvalidInput(f"EPCIS XML文档无效：{exc}", code="invalid_epcis_document",
                               detail={"document": {"field": "", "message": str(exc)}}) from None
    failure = None
    try:
        with transaction.atomic():
            job = CaptureJob.objects.create(organisation=organisation, actor=user_of(actor),
                                            behaviour=behaviour, status=CaptureStatus.SUCCEEDED)
            result = ingest.run_capture(chunks, capture_id=job.pk, organisation_id=organisation.pk if organisation else None,
                                        proceed=behaviour == "proceed", progress=progress)
            job.status = CaptureStatus.PARTIAL if result.errors else CaptureStatus.SUCCEEDED
            if result.sensor_readings:
                _sensor_readings(actor, result.sensor_readings)
            _finish(job, result)
            record(actor=actor, action="trace.capture", target=job,
                   changes={"behaviour": behaviour, "received": result.received, "stored": result.stored,
                            "duplicates": result.duplicates, "epc_events": result.epc_events,
                            "errors": len(result.errors)})
            if result.stored:
                _notify_subscribers()
    except ingest.RollbackCapture as exc:
        failure = exc.result
    if failure is None:
        return job
    with transaction.atomic():  # the failed job is kept (status endpoint), its events are not
        job = CaptureJob.objects.create(organisation=organisation, actor=user_of(actor), behaviour=behaviour,
                                        status=CaptureStatus.FAILED)
        failure.stored = failure.duplicates = failure.epc_events = 0
        _finish(job, failure)
        record(actor=actor, action="trace.capture", target=job,
               changes={"behaviour": behaviour, "received": failure.received, "stored": 0,
                        "errors": len(failure.errors), "rolled_back": True})
    detail = {"captureID": job.pk, "errors": failure.errors}
    if failure.document_error:
        detail["document"] = failure.document_error
        raise InvalidInput("EPCIS文档无效，未保存任何事件", code="invalid_epcis_document", detail=detail)
    raise InvalidInput(f"{len(failure.errors)}个事件未通过校验，未保存任何事件", code="invalid_epcis_events",
                       detail=detail)


def _sensor_readings(actor, readings) -> None:
    """Temperature reports of captured events go to the logger named by deviceID (or at the readPoint)."""
    keys = {codes.canonical_dl(k) for k, _ in readings if k}
    loggers = {}
    for lg in Logger.objects.filter(device_id__in=keys):
        loggers[lg.device_id] = lg
    for lg in Logger.objects.filter(location_uri__in=keys):
        loggers.setdefault(lg.location_uri, lg)
    per_logger: dict[int, tuple[Logger, list]] = {}
    for key, row in readings:
        lg = loggers.get(codes.canonical_dl(key)) if key else None
        if lg is not None:
            per_logger.setdefault(lg.pk, (lg, []))[1].append(row)
    for lg, rows in per_logger.values():
        record_readings(actor=actor, logger=lg, rows=rows, source="epcis")


def _notify_subscribers() -> None:
    """Stream subscriptions (EPCIS 2.0 REST binding) look for the new events once the capture commits."""
    if QuerySubscription.objects.filter(stream=True).exists():
        enqueue_on_commit(notify_streams)


def _finish(job: CaptureJob, result: ingest.Result) -> None:
    job.events_received, job.events_stored = result.received, result.stored
    job.events_duplicate, job.epc_events = result.duplicates, result.epc_events
    job.context = result.context
    job.errors = result.errors + ([{"event": None, **result.document_error}] if result.document_error else [])
    job.finished_at = timezone.now()
    job.save()


def capture_events(*, actor, events: list[dict], organisation: Organisation | None = None,
                   context: list | None = None) -> CaptureJob:
    """Capture events built by the platform (the simulator, a command) through the same path."""
    _capture_org_allowed(actor, organisation)
    return _capture_events(actor=actor, events=events, organisation=organisation, context=context)


def _capture_events(*, actor, events: list[dict], organisation: Organisation | None = None,
                    context: list | None = None) -> CaptureJob:
    """Events the platform built for a service that checked its own permission (recall: trace.recall,
    vaccination: trace.vaccinate) — they need not also hold trace.capture."""
    doc = {"@context": context or ["https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld"],
           "type": "EPCISDocument", "schemaVersion": "2.0",
           "creationDate": timezone.now().isoformat(timespec="milliseconds"),
           "epcisBody": {"eventList": events}}
    return _capture_document(actor=actor, chunks=orjson.dumps(doc), organisation=organisation)


# ------------------------------------------------------------------------------------------ recall


@transaction.atomic
def recall_batch(*, actor, batch: Batch, reason: str, level: str = "一级") -> Recall:
    """召回 (Vaccine Administration Law art. 73): every code of the batch gets disposition ``recalled``
    (one set-based UPDATE and one EPCIS ObjectEvent listing the batch as a class), and the recall is
    tracked until every unadministered dose is back."""
    require(actor, "trace.recall")
    reason = (reason or "").strip()
    if not reason:
        raise InvalidInput("请填写召回原因", code="reason_required")
    if Recall.objects.filter(batch=batch, status=RecallStatus.OPEN).exists():
        raise Conflict("该批次已在召回中", code="recall_open")
    now = timezone.now()
    with connection.cursor() as cur:
        # a decommissioned code (CBV ``inactive``) keeps saying so: it no longer stands for a dose to bring back
        cur.execute("UPDATE trace_codestate SET disposition = CASE WHEN disposition = 'inactive' THEN disposition "  # noqa: S608 (table/column names and flag bits are constants)
                    f"ELSE 'recalled' END, flags = flags | {FLAG_RECALLED} WHERE batch_id = %s", [batch.pk])
        total = cur.rowcount
        cur.execute(f"SELECT COUNT(*) FROM trace_codestate WHERE batch_id = %s AND (flags & {FLAG_ADMINISTERED}) <> 0",  # noqa: S608 (table/column names and flag bits are constants)
                    [batch.pk])
        administered = cur.fetchone()[0]
    recall = Recall.objects.create(batch=batch, department=actor.department, reason=reason, level=level,
                                   codes_total=total, codes_administered=administered, started_by=user_of(actor))
    event_id = _recall_event(actor=actor, batch=batch, when=now)
    recall.event_id_ref = event_id
    recall.save(update_fields=["event_id_ref"])
    record(actor=actor, action="trace.recall.start", target=recall,
           changes={"batch": batch.pk, "lot": batch.lot, "codes": total, "administered": administered,
                    "reason": reason})
    return recall


def _recall_event(*, actor, batch: Batch, when) -> int | None:
    """One ObjectEvent for the whole batch by class (LGTIN or the NMPA product + lot) with disposition
    recalled and ``persistentDisposition.set = [recalled]`` (CBV 2.0 §7.2: a status that stays with the
    objects through later events until an event unsets it) — the EPCIS record of the decision; the
    per-code state was set in SQL above."""
    product = batch.product
    if product.gtin:
        epc_class = f"{codes.DL_ROOT}/01/{product.gtin}/10/{batch.lot}"
    else:
        epc_class = f"urn:nmpa:class:{product.nmpa_code}:{batch.lot}"
    event = {"type": "ObjectEvent", "eventTime": when.isoformat(timespec="milliseconds"),
             "eventTimeZoneOffset": "+08:00", "action": "OBSERVE", "bizStep": "holding",
             "disposition": "recalled", "persistentDisposition": {"set": ["recalled"]},
             "quantityList": [{"epcClass": epc_class}], "epcList": []}
    job = _capture_events(actor=actor, events=[event], organisation=None)
    return job.events.values_list("id", flat=True).first()


@transaction.atomic
def complete_recall(*, actor, recall: Recall) -> Recall:
    require(actor, "trace.recall", department=recall.department)
    if recall.status == RecallStatus.COMPLETED:
        raise Conflict("召回已完成", code="recall_completed")
    open_count = recall_outstanding(recall)
    if open_count:
        raise Conflict(f"尚有{open_count}剂未退回或销毁，不能结束召回", code="recall_outstanding",
                       detail={"outstanding": open_count})
    recall.status, recall.completed_at = RecallStatus.COMPLETED, timezone.now()
    recall.save(update_fields=["status", "completed_at", "updated_at"])
    record(actor=actor, action="trace.recall.complete", target=recall, changes={"status": "completed"})
    return recall


# ------------------------------------------------------------------------------------------ vaccination


@transaction.atomic
def administer_dose(*, actor, code: str, id_number: str, site: Organisation,
                    when: datetime.datetime | None = None, dose_number: int | None = None, route: str = "",
                    body_site: str = "") -> Vaccination:
    """接种: link a dose to a vaccinee of the identity register and the health worker (actor), and
    capture the CBV ``dispensing``/``dispensed`` event. One dose, one vaccinee; an expired, recalled or
    temperature-questioned dose is refused (Vaccine Administration Law art. 40), and so is a dose of a
    batch refused at lot release (art. 26). The record holds 剂次, 接种途径 and 接种部位 (NMPAB/T 1004-2019
    vaccination data set); the vaccination site is the 接种单位."""
    require(actor, "trace.vaccinate", department=site.department, include_descendants=False)
    _check_dose_details(dose_number, route, body_site)
    epc = _parse_code(code)
    state = CodeState.objects.filter(epc=epc).first()
    if state is None or state.commissioned_at is None:
        raise NotFound("该追溯码未激活或不存在", code="code_unknown")
    if Vaccination.objects.filter(epc=epc).exists() or state.flags & FLAG_ADMINISTERED:
        raise Conflict("该剂次已接种，不能重复使用", code="dose_already_administered")
    if state.flags & FLAG_RECALLED:
        raise Conflict("该批次已召回，禁止接种", code="dose_recalled")
    if state.flags & FLAG_IN_QUESTION:
        raise Conflict("该剂次曾处于温度超标环境，放行前不得接种", code="dose_in_question")
    batch = Batch.objects.filter(pk=state.batch_id).first()
    when = when or timezone.now()
    if batch is not None and batch.expiry_date < timezone.localdate(when):
        raise Conflict("该剂次已过有效期，禁止接种", code="dose_expired")
    if batch is not None and LotRelease.objects.filter(batch=batch, conclusion="refused").exists():
        raise Conflict("该批次不予批签发，禁止接种", code="lot_release_refused")
    person = find_person_by_id_number(actor=actor, id_number=id_number)
    event = {"type": "ObjectEvent", "eventTime": when.isoformat(timespec="milliseconds"),
             "eventTimeZoneOffset": "+08:00", "action": "OBSERVE", "bizStep": "dispensing",
             "disposition": "dispensed", "epcList": [_uri_of(epc)],
             "readPoint": {"id": site.location_uri}, "bizLocation": {"id": site.location_uri}}
    job = _capture_events(actor=actor, events=[event], organisation=site)
    vaccination = Vaccination.objects.create(
        epc=epc, person=person, site=site, worker=actor, worker_name=actor.name or actor.username,
        administered_at=when, event_id_ref=job.events.values_list("id", flat=True).first(), batch_id=state.batch_id,
        dose_number=dose_number, route=route, body_site=body_site)
    CodeState.objects.filter(epc=epc).update(flags=F("flags").bitor(FLAG_ADMINISTERED))
    record(actor=actor, action="trace.vaccination.record", target=vaccination,
           changes={"epc": epc, "person": person.pk, "site": site.pk, "dose_number": dose_number,
                    "route": route, "body_site": body_site})
    return vaccination


def _check_dose_details(dose_number, route: str, body_site: str) -> None:
    if dose_number is not None and not (isinstance(dose_number, int) and 1 <= dose_number <= 10):
        raise InvalidInput("剂次应为1至10的整数", code="invalid_dose_number")
    if route and route not in nmpa.ROUTES:
        raise InvalidInput("接种途径不在代码表内", code="invalid_route")
    if body_site and body_site not in nmpa.SITES:
        raise InvalidInput("接种部位不在代码表内", code="invalid_body_site")
    if route and body_site and body_site not in nmpa.ROUTE_SITES[route]:
        raise InvalidInput(f"{nmpa.ROUTES[route]}不能在{nmpa.SITES[body_site]}接种", code="route_site_mismatch")


# ------------------------------------------------------------------------------------------ NMPA data sets


@transaction.atomic
def set_approval_number(*, actor, product: Product, approval_number: str) -> Product:
    """批准文号 of a registered product (given, or changed at re-registration), audited."""
    require(actor, "trace.manage_master", department=_product_department(product))
    number = _approval_number(approval_number, product.is_vaccine)
    if not number:
        raise InvalidInput("请填写批准文号", code="invalid_approval_number")
    before = product.approval_number
    product.approval_number = number
    product.save(update_fields=["approval_number", "updated_at"])
    record(actor=actor, action="trace.product.approval_number", target=product,
           changes={"approval_number": [before, number]})
    return product


@transaction.atomic
def set_packaging(*, actor, product: Product, ratio: str, units: list[str]) -> list[PackagingLevel]:
    """包装层级与包装比例 of a product: ``ratio`` as the coding platform writes it (``1:5:10``, largest level
    first, cumulative) and one unit name per level, smallest first (``["支", "盒", "箱"]``). Replaces the
    levels declared before."""
    require(actor, "trace.manage_master", department=_product_department(product))
    try:
        contains = nmpa.parse_packaging_ratio(ratio)
    except ValueError as exc:
        raise InvalidInput(str(exc), code="invalid_packaging_ratio") from None
    units = [str(u).strip() for u in units or []]
    if len(units) != len(contains) or not all(units) or any(len(u) > 20 for u in units):
        raise InvalidInput(f"包装比例 {ratio} 有{len(contains)}级，应给出{len(contains)}个包装单位",
                           code="invalid_packaging_units")
    PackagingLevel.objects.filter(product=product).delete()
    levels = PackagingLevel.objects.bulk_create(
        PackagingLevel(product=product, level=i + 1, unit=unit, contains=held)
        for i, (unit, held) in enumerate(zip(units, contains, strict=True)))
    record(actor=actor, action="trace.product.packaging", target=product,
           changes={"ratio": ratio, "units": units})
    return levels


@transaction.atomic
def record_lot_release(*, actor, batch: Batch, certificate_number: str, agency: str, issued_on: datetime.date,
                       conclusion: str, quantity: int | None = None) -> LotRelease:
    """批签发: record the lot release decision on a batch (证明 or 不予批签发通知书). A refused batch's doses
    are refused at the vaccination desk."""
    require(actor, "trace.manage_master", department=_product_department(batch.product))
    certificate_number, agency = (certificate_number or "").strip(), (agency or "").strip()
    if not certificate_number or len(certificate_number) > 50:
        raise InvalidInput("请填写批签发证明（通知书）编号", code="certificate_number_required")
    if not agency or len(agency) > 100:
        raise InvalidInput("请填写批签发机构", code="agency_required")
    if conclusion not in nmpa.LOT_RELEASE_CONCLUSIONS:
        raise InvalidInput("结论应为 passed（予以批签发）或 refused（不予批签发）", code="invalid_conclusion")
    if issued_on < batch.production_date:
        raise InvalidInput("签发日期不能早于生产日期", code="invalid_issue_date")
    if quantity is not None and quantity < 1:
        raise InvalidInput("签发数量应为正整数", code="invalid_quantity")
    if LotRelease.objects.filter(certificate_number=certificate_number).exists():
        raise Conflict("该批签发证明编号已登记", code="certificate_exists")
    release = LotRelease.objects.create(batch=batch, certificate_number=certificate_number, agency=agency,
                                        issued_on=issued_on, conclusion=conclusion, quantity=quantity,
                                        recorded_by=None if is_system(actor) else actor)
    record(actor=actor, action="trace.lot_release.record", target=release,
           changes={"batch": batch.pk, "certificate_number": certificate_number, "conclusion": conclusion})
    return release


@transaction.atomic
def report_aefi(*, actor, vaccination: Vaccination, reporter: Organisation, onset_at: datetime.datetime,
                symptoms: str, severe: bool = False, report_number: str = "",
                reported_at: datetime.datetime | None = None) -> AefiReport:
    """疑似预防接种异常反应: link a reported case to the vaccination (and so to the dose, its batch and its
    journey). Reported by staff of the reporting unit (the vaccination site, a hospital or a CDC in the
    platform); ``report_number`` is the national AEFI system's number when there is one."""
    require(actor, "trace.vaccinate", department=reporter.department, include_descendants=False, hide=True)
    symptoms = (symptoms or "").strip()
    reported_at = reported_at or timezone.now()
    if not symptoms or len(symptoms) > 2000:
        raise InvalidInput("请填写主要临床表现（不超过2000字）", code="symptoms_required")
    if onset_at < vaccination.administered_at or onset_at > reported_at:
        raise InvalidInput("发生时间应在接种之后、报告之前", code="invalid_onset")
    report_number = (report_number or "").strip()
    if len(report_number) > 40:
        raise InvalidInput("报告编号不超过40个字符", code="invalid_report_number")
    if report_number and AefiReport.objects.filter(report_number=report_number).exists():
        raise Conflict("该报告编号已登记", code="aefi_exists")
    report = AefiReport.objects.create(
        vaccination=vaccination, report_number=report_number or f"pending-{secrets.token_hex(8)}",
        onset_at=onset_at, reported_at=reported_at, reporter=reporter, symptoms=symptoms, severe=bool(severe),
        recorded_by=None if is_system(actor) else actor)
    if not report_number:  # the platform's own number: AEFI-<date>-<id>
        report.report_number = f"AEFI-{timezone.localdate(reported_at):%Y%m%d}-{report.pk:06d}"
        report.save(update_fields=["report_number"])
    record(actor=actor, action="trace.aefi.report", target=report,
           changes={"vaccination": vaccination.pk, "report_number": report.report_number, "severe": bool(severe)})
    return report


@transaction.atomic
def classify_aefi(*, actor, report: AefiReport, classification: str) -> AefiReport:
    """The expert group's classification of a case (调查诊断结论), recorded by the regulator."""
    require(actor, "trace.classify_aefi", department=report.reporter.department, hide=True)
    if classification not in nmpa.AEFI_CLASSES:
        raise InvalidInput("分类不在代码表内", code="invalid_aefi_class")
    before = report.classification
    report.classification = classification
    report.save(update_fields=["classification", "updated_at"])
    record(actor=actor, action="trace.aefi.classify", target=report,
           changes={"classification": [before, classification]})
    return report


def _parse_code(code: str) -> str:
    try:
        return codes.parse_any(code)
    except ValidationError as exc:
        raise InvalidInput(exc.messages[0], code="invalid_code") from exc


def _uri_of(epc: str) -> str:
    return epc


# ------------------------------------------------------------------------------------------ cold chain


@transaction.atomic
def register_logger(*, actor, organisation: Organisation, kind: str, name: str, device_id: str,
                    location_uri: str, product: Product | None = None) -> Logger:
    require(actor, "trace.manage_master", department=organisation.department)
    logger = Logger(organisation=organisation, kind=kind, name=name, device_id=codes.canonical_dl(device_id.strip()),
                    location_uri=codes.canonical_dl(location_uri.strip()), product=product)
    validated(logger)
    logger.save()
    record(actor=actor, action="trace.logger.register", target=logger,
           changes={"device_id": logger.device_id, "location": logger.location_uri})
    return logger


# ------------------------------------------------------------------------------------------ named queries

_QUERY_NAME = re.compile(r"^[A-Za-z0-9_.~-]{1,100}$")


@transaction.atomic
def create_named_query(*, actor, organisation: Organisation | None, name: str, query: dict) -> NamedQuery:
    """Save a SimpleEventQuery under a name (EPCIS 2.0 REST ``POST /queries``). ``actor`` is the staff
    member, or None for an organisation's key (``organisation`` is then the owner). The parameters are
    checked by running the query once for one event, so a bad one is refused now, not at each run."""
    name = (name or "").strip()
    if not _QUERY_NAME.match(name) or name == "SimpleEventQuery":
        raise InvalidInput("查询名称只能使用字母、数字和 _ . ~ -（不超过100个字符）",
                           code="QueryParameterException", detail={"parameter": "name"})
    if not isinstance(query, dict) or any(k in ("perPage", "nextPageToken") for k in query):
        raise InvalidInput("query 应为查询参数对象（不含分页参数）", code="QueryParameterException",
                           detail={"parameter": "query"})
    params = {k: "|".join(map(str, v)) if isinstance(v, list) else str(v) for k, v in query.items()}
    if not is_key(actor):  # a key queries its own organisation's events
        require(actor, "trace.view")
    selectors.query_events(organisation or actor, {**params, "perPage": "1"})
    owner = {"organisation": organisation} if is_key(actor) else {"owner": actor}
    if NamedQuery.objects.filter(name=name, **owner).exists():
        raise Conflict("已有同名查询", code="query_exists")
    nq = NamedQuery.objects.create(name=name, query=params, **owner)
    record(actor=actor, action="trace.named_query.create", target=nq, changes={"name": name, "query": params})
    return nq


@transaction.atomic
def delete_named_query(*, actor, organisation: Organisation | None, name: str) -> None:
    owner = {"organisation": organisation} if is_key(actor) else {"owner": actor}
    nq = NamedQuery.objects.select_for_update().filter(name=name, **owner).first()
    if nq is None:
        raise NotFound("没有该查询", code="query_not_found")
    record(actor=actor, action="trace.named_query.delete", target=nq,
           changes={"name": name})
    nq.delete()


@transaction.atomic
def release_page_token(*, actor, organisation: Organisation | None, token: str) -> bool:
    """EPCIS 2.0 REST ``DELETE /nextPageToken/{token}``: the token is invalidated (later pages with it are
    refused) and the release audited. A token that is not valid (never signed here, expired or already
    released) is already unusable: nothing is written and False is returned. Expired releases are pruned."""
    if not selectors.page_token_valid(token):
        return False
    now = timezone.now()
    ReleasedPageToken.objects.filter(expires_at__lt=now).delete()
    released, created = ReleasedPageToken.objects.get_or_create(
        digest=selectors.token_digest(token),
        defaults={"expires_at": now + datetime.timedelta(seconds=selectors.TOKEN_SECONDS)})
    if created:
        record(actor=actor, action="trace.page_token.release", target=released,
               changes={"digest": released.digest[:16]})
    return created


# ------------------------------------------------------------------------------------------ cold chain (冷链)


def upload_readings(*, actor, organisation, logger: Logger, data: bytes, content_type: str = "") -> dict:
    """Store uploaded readings (and GNSS positions) of a logger, then evaluate its excursion rules."""
    if organisation is not None:
        if organisation.pk != logger.organisation_id:
            raise Forbidden("只能上传本单位记录仪的数据", code="logger_out_of_scope")
    else:
        require(actor, "trace.capture", department=logger.organisation.department, include_descendants=True)
    rows = coldchain.parse_upload(data, content_type)
    return record_readings(actor=actor, logger=logger, rows=rows, source="upload")


@transaction.atomic
def record_readings(*, actor, logger: Logger, rows: list[dict], source: str) -> dict:
    """Store a logger's readings (a re-sent reading is stored once) and raise the alerts they cause. The
    logger's row is locked first, so two uploads for one logger cannot both raise the same alert."""
    Logger.objects.select_for_update().filter(pk=logger.pk).first()
    before = Reading.objects.filter(logger=logger).count()
    Reading.objects.bulk_create([Reading(logger=logger, time=r["time"], celsius=r["celsius"]) for r in rows],
                                batch_size=5000, ignore_conflicts=True)
    positions = [Position(logger=logger, time=r["time"], latitude=r["latitude"], longitude=r["longitude"])
                 for r in rows if r.get("latitude") is not None]
    if positions:
        Position.objects.bulk_create(positions, batch_size=5000, ignore_conflicts=True)
    stored = Reading.objects.filter(logger=logger).count() - before
    start = min(r["time"] for r in rows)
    end = max(r["time"] for r in rows)
    alerts = evaluate_excursions(logger=logger, start=start, end=end)
    record(actor=actor, action="trace.readings.record", target=logger,
           changes={"source": source, "rows": len(rows), "stored": stored, "positions": len(positions),
                    "alerts": [a.pk for a in alerts]})
    return {"rows": len(rows), "stored": stored, "positions": len(positions), "alerts": [a.pk for a in alerts]}


def evaluate_excursions(*, logger: Logger, start, end) -> list[Alert]:
    """Apply the product's rules to the logger's readings around [start, end]; new alerts only (the
    caller, ``record_readings``, holds the logger's row lock, so the checks below are not raced)."""
    p = coldchain.rules_for(logger)
    window_start = start - max(coldchain.CUMULATIVE_WINDOW, datetime.timedelta(minutes=p.consecutive_minutes))
    readings = list(Reading.objects.filter(logger=logger, time__gte=window_start, time__lte=end + coldchain.MAX_GAP)
                    .order_by("time").values_list("time", "celsius"))
    if not readings:
        return []
    spans = []  # (time, celsius, minutes it stands for)
    for i, (t, c) in enumerate(readings):
        nxt = readings[i + 1][0] if i + 1 < len(readings) else t + datetime.timedelta(minutes=1)
        spans.append((t, c, min(nxt - t, coldchain.MAX_GAP).total_seconds() / 60))
    found = []
    # instant and consecutive: runs of readings beyond a threshold
    found += coldchain.excursion_runs(spans, lambda c: c < p.storage_min or c > p.storage_max, AlertKind.INSTANT, 0,
                   f"温度超出{p.storage_min:g}–{p.storage_max:g}℃")
    found += coldchain.excursion_runs(spans, lambda c: c > p.consecutive_above, AlertKind.CONSECUTIVE, p.consecutive_minutes,
                   f"连续{p.consecutive_minutes}分钟高于{p.consecutive_above:g}℃")
    # cumulative over the window ending at the last reading
    total, first, peak = 0.0, None, None
    for t, c, minutes in spans:
        if t >= end - coldchain.CUMULATIVE_WINDOW and c >= p.cumulative_above:
            total += minutes
            first = first or t
            peak = c if peak is None else max(peak, c)
            if total >= p.cumulative_minutes:
                found.append((AlertKind.CUMULATIVE, first, t, peak, int(total),
                              f"7日内累计{int(total)}分钟不低于{p.cumulative_above:g}℃"))
                break
    alerts = []
    for kind, s, e, peak, minutes, message in found:
        if s < start - datetime.timedelta(minutes=p.consecutive_minutes) and kind != AlertKind.CUMULATIVE:
            continue
        if Alert.objects.filter(logger=logger, kind=kind, started_at=s).exists():
            continue
        if kind == AlertKind.CUMULATIVE and Alert.objects.filter(
                logger=logger, kind=kind, started_at__gte=end - coldchain.CUMULATIVE_WINDOW).exists():
            continue
        alert = Alert.objects.create(kind=kind, logger=logger, organisation=logger.organisation, started_at=s,
                                     ended_at=e, peak_celsius=peak, minutes=minutes,
                                     message=f"{logger.name}：{message}（峰值{peak:g}℃）")
        alert.doses_in_question = question_doses(alert)
        alert.save(update_fields=["doses_in_question"])
        alerts.append(alert)
    return alerts


QUESTION_SQL = f"""
INSERT INTO trace_questionedcode (alert_id, epc)
WITH RECURSIVE here(epc) AS (
    SELECT epc FROM trace_codestate
    WHERE (biz_location = %(place)s OR read_point = %(place)s) AND (flags & {FLAG_ADMINISTERED}) = 0
      AND (container IS NULL OR container = '')
  UNION
    SELECT c.epc FROM trace_codestate c JOIN here h ON c.container = h.epc
)
SELECT %(alert)s, epc FROM here
"""  # noqa: S608 (flag bits are constants)


def question_doses(alert: Alert) -> int:
    """Put every code at the logger's place (and everything packed inside those codes) in question."""
    with connection.cursor() as cur:
        cur.execute(QUESTION_SQL, {"place": alert.logger.location_uri, "alert": alert.pk})
        cur.execute(f"UPDATE trace_codestate SET flags = flags | {FLAG_IN_QUESTION} "  # noqa: S608 (constant)
                    "WHERE epc IN (SELECT epc FROM trace_questionedcode WHERE alert_id = %s)", [alert.pk])
        return cur.rowcount


@transaction.atomic
def acknowledge_alert(*, actor, alert: Alert, comment: str) -> Alert:
    require(actor, "trace.acknowledge_alert", department=alert.organisation.department, hide=True)
    alert = Alert.objects.select_for_update(of=("self",)).select_related("organisation__department", "logger").get(pk=alert.pk)
    comment = (comment or "").strip()
    if len(comment) < 2:
        raise InvalidInput("确认告警须填写处置说明", code="comment_required")
    if alert.acknowledged_at:
        raise Conflict("该告警已确认", code="alert_acknowledged")
    alert.acknowledged_at, alert.acknowledged_by, alert.comment = timezone.now(), user_of(actor), comment
    alert.save(update_fields=["acknowledged_at", "acknowledged_by", "comment", "updated_at"])
    record(actor=actor, action="trace.alert.acknowledge", target=alert, changes={"comment": comment})
    return alert


@transaction.atomic
def release_doses(*, actor, alert: Alert, comment: str) -> int:
    """After assessment (评估) a regulator releases the doses an alert put in question."""
    require(actor, "trace.release_doses", department=alert.organisation.department, hide=True)
    alert = Alert.objects.select_for_update(of=("self",)).select_related("organisation__department", "logger").get(pk=alert.pk)
    if not alert.acknowledged_at:
        raise Conflict("请先确认告警再放行", code="alert_not_acknowledged")
    if alert.released_at:
        raise Conflict("该告警涉及的剂次已放行", code="already_released")
    with connection.cursor() as cur:
        # a code stays in question while another unreleased alert still holds it
        cur.execute(f"""UPDATE trace_codestate SET flags = flags & ~{FLAG_IN_QUESTION}
                        WHERE epc IN (SELECT q.epc FROM trace_questionedcode q WHERE q.alert_id = %s)
                          AND NOT EXISTS (SELECT 1 FROM trace_questionedcode q2 JOIN trace_alert a ON a.id = q2.alert_id
                                          WHERE q2.epc = trace_codestate.epc AND a.id <> %s
                                            AND a.released_at IS NULL)""",  # noqa: S608 (constant)
                    [alert.pk, alert.pk])
        released = cur.rowcount
    alert.released_at = timezone.now()
    alert.save(update_fields=["released_at", "updated_at"])
    record(actor=actor, action="trace.alert.release", target=alert, changes={"released": released,
                                                                             "comment": comment})
    return released


# ------------------------------------------------------------------------------------------ recall follow-up


class _RevealedVaccinees(selectors.VaccineeRows):
    reveal = True

    def revealed(self, rows) -> None:
        with transaction.atomic():
            record(actor=self.actor, action="trace.recall.vaccinee_contacts", target=self.recall,
                   changes={"vaccinations": [v.pk for v in rows]})


def reveal_vaccinee_contacts(*, actor, recall: Recall) -> selectors.VaccineeRows:
    """The vaccinees of a recalled batch with their phone numbers in clear for a regulator following the
    recall up (``trace.view_vaccinee``) — each page shown is audited; masked for everyone else."""
    if not has_perm(actor, "trace.view_vaccinee"):
        return selectors.recall_vaccinees(actor, recall)
    return _RevealedVaccinees(actor, recall, selectors.vaccinations_of_recall(recall))
