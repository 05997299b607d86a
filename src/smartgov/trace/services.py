"""Every write to 追溯监管. Keyword-only, ``actor=``, atomic, audited (one audit entry per capture job,
per recall, per code issue — never per event or per code).

Capture may be done by a user (``actor``) or by an organisation's API key (``actor=None`` and
``organisation`` given, the key having been checked by the API); the audit entry names which.
"""

import datetime
import hashlib
import secrets
from collections.abc import Iterable

import orjson
from django.db import connection, transaction
from django.db.models import F, Max
from django.utils import timezone

from smartgov.audit.services import record
from smartgov.core.errors import Conflict, Forbidden, InvalidInput, NotFound, validated
from smartgov.core.permissions import covers_department, require

from . import codes, ingest
from .models import (
    FLAG_ADMINISTERED,
    FLAG_IN_QUESTION,
    FLAG_RECALLED,
    Batch,
    CaptureJob,
    CaptureKey,
    CaptureStatus,
    CodeIssue,
    CodeScheme,
    CodeState,
    Logger,
    Organisation,
    Product,
    Recall,
    RecallStatus,
    Vaccination,
)

# ------------------------------------------------------------------------------------------ master data


def _org_path(org: Organisation) -> str:
    return (org.parent.path if org.parent else "/") + f"{org.pk}/"


@transaction.atomic
def create_organisation(*, actor, name: str, kind: str, department, location_uri: str, party_uri: str,
                        parent: Organisation | None = None, uscc: str = "", region_code: str = "",
                        latitude: float | None = None, longitude: float | None = None) -> Organisation:
    """Register a party of the chain (生产企业、配送企业、疾控中心、接种单位) with its EPCIS identifiers."""
    if actor is not None:
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
                   storage_min: float = 2.0, storage_max: float = 8.0, **rules) -> Product:
    """Register a product (品种). At least one of the 7-digit 药品标识码 and the GTIN."""
    if actor is not None:
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
    product = Product(name=name, holder=holder, nmpa_code=nmpa_code, gtin=gtin, dosage_form=dosage_form,
                      specification=specification, manufacturer=manufacturer, gcp_length=gcp_length,
                      is_vaccine=is_vaccine, storage_min=storage_min, storage_max=storage_max, **rules)
    validated(product)
    product.save()
    record(actor=actor, action="trace.product.create", target=product,
           changes={"name": name, "nmpa_code": nmpa_code, "gtin": gtin})
    return product


@transaction.atomic
def create_batch(*, actor, product: Product, lot: str, production_date: datetime.date,
                 expiry_date: datetime.date, department=None) -> Batch:
    if actor is not None:
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
                                   created_by=actor)
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
    if actor is not None:
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
                                     issued_by=actor if actor is not None and actor.is_authenticated else None)
    record(actor=actor, action="trace.codes.issue", target=issue,
           actor_label=_label(actor, organisation),
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


def is_issued(epc: str) -> bool:
    """Whether a (normalised) code was issued by this platform: right check digits, serial in an issue."""
    if epc.startswith(codes.NMPA_PREFIX):
        code = codes.parse_nmpa(epc)
        if codes.nmpa_check(code.product_code, code.serial) != code.check:
            return False
        serial, qs = int(code.serial), CodeIssue.objects.filter(scheme=CodeScheme.NMPA,
                                                                 batch__product__nmpa_code=code.product_code)
    elif epc.startswith(codes.DL_ROOT + "/01/"):
        segs = epc[len(codes.DL_ROOT) + 1:].split("/")
        if len(segs) < 4 or len(segs[3]) != 13 or not segs[3].isdigit():
            return False
        gtin, s9, check = segs[1], segs[3][:9], segs[3][9:]
        if codes.nmpa_check(gtin, s9) != check:
            return False
        serial, qs = int(s9), CodeIssue.objects.filter(scheme=CodeScheme.SGTIN, batch__product__gtin=gtin)
    else:
        return False
    return qs.filter(first_serial__lte=serial, first_serial__gt=serial - F("count")).exists()


# ------------------------------------------------------------------------------------------ capture


def _capture_org_allowed(actor, organisation: Organisation | None) -> None:
    if actor is None:
        if organisation is None:
            raise Forbidden("上报须使用单位密钥或工作人员账号", code="capture_forbidden")
        return
    require(actor, "trace.capture")
    if organisation is not None and not covers_department(actor, organisation.department, include_descendants=True):
        raise Forbidden("不能代其他部门管辖的单位上报", code="capture_out_of_scope")


def capture_epcis_document(*, actor, chunks: Iterable[bytes] | bytes, organisation: Organisation | None = None,
                           behaviour: str = "rollback", progress=None, checked: bool = False) -> CaptureJob:
    """Capture an EPCISDocument (JSON-LD), streamed as byte chunks.

    ``behaviour`` is the GS1-Capture-Error-Behaviour: ``rollback`` (default) stores nothing if any event
    is invalid; ``proceed`` stores the valid events and reports the others. A re-sent event (same event
    hash) is stored once. Returns the capture job; raises InvalidInput (with the job's id and the
    per-event errors in ``detail``) when the capture failed. ``checked=True`` only for the platform's own
    services (recall, vaccination) that have already checked their actor's permission."""
    if not checked:
        _capture_org_allowed(actor, organisation)
    if behaviour not in ("rollback", "proceed"):
        raise InvalidInput("GS1-Capture-Error-Behaviour 应为 rollback 或 proceed", code="invalid_error_behaviour")
    if isinstance(chunks, bytes | bytearray):
        chunks = [bytes(chunks)]
    failure = None
    try:
        with transaction.atomic():
            job = CaptureJob.objects.create(organisation=organisation, actor=actor if actor is not None else None,
                                            behaviour=behaviour, status=CaptureStatus.SUCCEEDED)
            result = ingest.run_capture(chunks, capture_id=job.pk, organisation_id=organisation.pk if organisation else None,
                                        proceed=behaviour == "proceed", progress=progress)
            job.status = CaptureStatus.PARTIAL if result.errors else CaptureStatus.SUCCEEDED
            if result.sensor_readings:
                _sensor_readings(actor, result.sensor_readings)
            _finish(job, result)
            record(actor=actor, action="trace.capture", target=job,
                   actor_label=_label(actor, organisation),
                   changes={"behaviour": behaviour, "received": result.received, "stored": result.stored,
                            "duplicates": result.duplicates, "epc_events": result.epc_events,
                            "errors": len(result.errors)})
    except ingest.RollbackCapture as exc:
        failure = exc.result
    if failure is None:
        return job
    with transaction.atomic():  # the failed job is kept (status endpoint), its events are not
        job = CaptureJob.objects.create(organisation=organisation, actor=actor, behaviour=behaviour,
                                        status=CaptureStatus.FAILED)
        failure.stored = failure.duplicates = failure.epc_events = 0
        _finish(job, failure)
        record(actor=actor, action="trace.capture", target=job, actor_label=_label(actor, organisation),
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
    from . import coldchain

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
        coldchain.record_readings(actor=actor, logger=lg, rows=rows, source="epcis")


def _label(actor, organisation) -> str:
    if actor is not None:
        return ""
    return f"org:{organisation.pk}" if organisation is not None else "system"


def _finish(job: CaptureJob, result: ingest.Result) -> None:
    job.events_received, job.events_stored = result.received, result.stored
    job.events_duplicate, job.epc_events = result.duplicates, result.epc_events
    job.context = result.context
    job.errors = result.errors + ([{"event": None, **result.document_error}] if result.document_error else [])
    job.finished_at = timezone.now()
    job.save()


def capture_events(*, actor, events: list[dict], organisation: Organisation | None = None,
                   context: list | None = None, checked: bool = False) -> CaptureJob:
    """Capture events built by the platform itself (recall, vaccination, simulator) through the same path."""
    doc = {"@context": context or ["https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld"],
           "type": "EPCISDocument", "schemaVersion": "2.0",
           "creationDate": timezone.now().isoformat(timespec="milliseconds"),
           "epcisBody": {"eventList": events}}
    return capture_epcis_document(actor=actor, chunks=orjson.dumps(doc), organisation=organisation, checked=checked)


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
        cur.execute(f"UPDATE trace_codestate SET disposition = 'recalled', flags = flags | {FLAG_RECALLED} "  # noqa: S608 (table/column names and flag bits are constants)
                    "WHERE batch_id = %s", [batch.pk])
        total = cur.rowcount
        cur.execute(f"SELECT COUNT(*) FROM trace_codestate WHERE batch_id = %s AND (flags & {FLAG_ADMINISTERED}) <> 0",  # noqa: S608 (table/column names and flag bits are constants)
                    [batch.pk])
        administered = cur.fetchone()[0]
    recall = Recall.objects.create(batch=batch, department=actor.department, reason=reason, level=level,
                                   codes_total=total, codes_administered=administered, started_by=actor)
    event_id = _recall_event(actor=actor, batch=batch, when=now)
    recall.event_id_ref = event_id
    recall.save(update_fields=["event_id_ref"])
    record(actor=actor, action="trace.recall.start", target=recall,
           changes={"batch": batch.pk, "lot": batch.lot, "codes": total, "administered": administered,
                    "reason": reason})
    return recall


def recall_outstanding(recall: Recall) -> int:
    """Doses of the recalled batch neither administered nor returned/destroyed yet."""
    with connection.cursor() as cur:
        cur.execute(f"SELECT COUNT(*) FROM trace_codestate WHERE batch_id = %s AND (flags & {FLAG_ADMINISTERED}) = 0 "  # noqa: S608 (table/column names and flag bits are constants)
                    "AND disposition NOT IN ('destroyed', 'returned')", [recall.batch_id])
        return cur.fetchone()[0]


def _recall_event(*, actor, batch: Batch, when) -> int | None:
    """One ObjectEvent for the whole batch by class (LGTIN or the NMPA product + lot) with disposition
    recalled — the EPCIS record of the decision; the per-code state was set in SQL above."""
    product = batch.product
    if product.gtin:
        epc_class = f"{codes.DL_ROOT}/01/{product.gtin}/10/{batch.lot}"
    else:
        epc_class = f"urn:nmpa:class:{product.nmpa_code}:{batch.lot}"
    event = {"type": "ObjectEvent", "eventTime": when.isoformat(timespec="milliseconds"),
             "eventTimeZoneOffset": "+08:00", "action": "OBSERVE", "bizStep": "holding",
             "disposition": "recalled", "quantityList": [{"epcClass": epc_class}], "epcList": []}
    job = capture_events(actor=actor, events=[event], organisation=None, checked=True)
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
                    when: datetime.datetime | None = None) -> Vaccination:
    """接种: link a dose to a vaccinee of the identity register and the health worker (actor), and
    capture the CBV ``dispensing``/``dispensed`` event. One dose, one vaccinee; an expired, recalled or
    temperature-questioned dose is refused (Vaccine Administration Law art. 40)."""
    from smartgov.identity.services import find_person_by_id_number

    require(actor, "trace.vaccinate", department=site.department, include_descendants=False)
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
    person = find_person_by_id_number(actor=actor, id_number=id_number)
    event = {"type": "ObjectEvent", "eventTime": when.isoformat(timespec="milliseconds"),
             "eventTimeZoneOffset": "+08:00", "action": "OBSERVE", "bizStep": "dispensing",
             "disposition": "dispensed", "epcList": [_uri_of(epc)],
             "readPoint": {"id": site.location_uri}, "bizLocation": {"id": site.location_uri}}
    job = capture_events(actor=actor, events=[event], organisation=site, checked=True)
    vaccination = Vaccination.objects.create(
        epc=epc, person=person, site=site, worker=actor, worker_name=actor.name or actor.username,
        administered_at=when, event_id_ref=job.events.values_list("id", flat=True).first(), batch_id=state.batch_id)
    CodeState.objects.filter(epc=epc).update(flags=F("flags").bitor(FLAG_ADMINISTERED))
    record(actor=actor, action="trace.vaccination.record", target=vaccination,
           changes={"epc": epc, "person": person.pk, "site": site.pk})
    return vaccination


def _parse_code(code: str) -> str:
    from django.core.exceptions import ValidationError

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
    if actor is not None:
        require(actor, "trace.manage_master", department=organisation.department)
    logger = Logger(organisation=organisation, kind=kind, name=name, device_id=codes.canonical_dl(device_id.strip()),
                    location_uri=codes.canonical_dl(location_uri.strip()), product=product)
    validated(logger)
    logger.save()
    record(actor=actor, action="trace.logger.register", target=logger,
           changes={"device_id": logger.device_id, "location": logger.location_uri})
    return logger
