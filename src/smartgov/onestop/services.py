"""Every write of the one-stop service. Keyword-only, ``actor=``, atomic, audited.

The case state machine (办件状态) is ``TRANSITIONS``: an action allowed only from the listed states;
anything else is a ``Conflict`` with code ``illegal_transition`` (HTTP 409). Review steps run on the
workflow engine, whose clock is the statutory one (stopped during 补正 and special procedures).
"""

import datetime
import hashlib
import secrets
from decimal import Decimal

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone
from pydantic import ValidationError as PydanticError

from smartgov.audit.services import record
from smartgov.core.errors import Conflict, Forbidden, InvalidInput, NotFound
from smartgov.core.permissions import has_perm, require
from smartgov.core.validators import is_valid_id_number, is_valid_mobile, is_valid_uscc
from smartgov.core.workdays import calendar
from smartgov.workflow import services as workflow
from smartgov.workflow.models import InstanceStatus, Outcome

from . import notify, selectors
from .catalogue import BASIC_CODE, ItemContent
from .models import (
    REUSED_SOURCES,
    Application,
    ApplicationMaterial,
    Bundle,
    BundleItem,
    CaseStep,
    Channel,
    Evaluation,
    Grade,
    ItemType,
    ItemVersion,
    MaterialSource,
    NoticeKind,
    Rectification,
    ServiceItem,
    State,
    StoredMaterial,
    Submission,
    TicketStatus,
    TrustLevel,
)

# action → (states it may be taken from, state it leads to; None = decided by the action)
TRANSITIONS: dict[str, tuple[frozenset[str], str | None]] = {
    "submit": (frozenset({State.DRAFT}), State.SUBMITTED),
    "prereview": (frozenset({State.SUBMITTED}), State.PREREVIEW),
    "request_supplement": (frozenset({State.PREREVIEW, State.REVIEW, State.ACCEPTED}), State.SUPPLEMENT),
    "supplement": (frozenset({State.SUPPLEMENT}), None),  # back where it was
    "accept": (frozenset({State.PREREVIEW}), State.ACCEPTED),
    "not_accept": (frozenset({State.PREREVIEW}), State.NOT_ACCEPTED),
    "review": (frozenset({State.ACCEPTED, State.REVIEW}), None),  # REVIEW, APPROVED or REJECTED
    "special_procedure": (frozenset({State.ACCEPTED, State.REVIEW}), State.REVIEW),
    "end_special_procedure": (frozenset({State.REVIEW}), State.REVIEW),
    "issue": (frozenset({State.APPROVED}), State.ISSUED),
    "deliver": (frozenset({State.ISSUED}), State.DELIVERED),
    "close": (frozenset({State.DELIVERED, State.REJECTED, State.NOT_ACCEPTED}), State.CLOSED),
    "withdraw": (frozenset({State.DRAFT, State.SUBMITTED, State.PREREVIEW, State.SUPPLEMENT}), State.WITHDRAWN),
}
APPLICANT_ACTIONS = frozenset({"submit", "supplement", "withdraw"})
SPECIAL_PROCEDURES = {"hearing": "听证", "expert_review": "专家评审", "inspection": "现场核查",
                      "testing": "检验检测"}
DELIVERY_METHODS = {"electronic": "电子送达", "courier": "邮寄送达", "pickup": "窗口自取"}
STEP_NAMES = {"submit": "申请", "prereview": "预审", "request_supplement": "一次性告知补正", "supplement": "补正材料",
              "accept": "受理", "not_accept": "不予受理", "review": "审查", "special_procedure": "特别程序",
              "end_special_procedure": "特别程序结束", "issue": "出证", "deliver": "送达", "close": "办结",
              "withdraw": "撤回"}


def _now():
    return timezone.now()


# --------------------------------------------------------------------------- catalogue


def parse_content(content: dict) -> ItemContent:
    try:
        return ItemContent.model_validate(content)
    except PydanticError as exc:
        raise InvalidInput("事项要素不完整或格式不正确", code="invalid_item_content",
                           detail=exc.errors(include_url=False, include_context=False)) from None


def implementation_code(department, basic_code: str, business_item: str = "01") -> str:
    """实施编码 = implementing department's USCC (18) + basic code (10) + business item (2)."""
    if not department.uscc:
        raise InvalidInput(f"{department.name}没有统一社会信用代码，不能编制实施编码", code="department_uscc_missing")
    if not BASIC_CODE.match(basic_code or ""):
        raise InvalidInput("基本编码应为2位事项类型字母加8位数字", code="invalid_basic_code")
    if not (business_item.isdigit() and len(business_item) == 2):
        raise InvalidInput("业务办理项编码应为2位数字", code="invalid_business_item")
    return f"{department.uscc}{basic_code}{business_item}"


def _check_result_type(department, content: ItemContent) -> None:
    if content.result.kind != "licence":
        return
    from smartgov.licences.models import LicenceType

    lt = LicenceType.objects.filter(code=content.result.licence_type).first()
    if lt is None:
        raise InvalidInput(f"结果证照类型 {content.result.licence_type} 不存在", code="unknown_licence_type")
    if lt.department_id != department.pk:
        raise InvalidInput("结果证照须由事项的实施机构签发", code="licence_type_department")
    missing = {f["key"] for f in lt.field_template if f.get("required")} - {f.key for f in content.fields}
    if missing:
        raise InvalidInput(f"表单缺少证照照面字段：{'、'.join(sorted(missing))}", code="licence_fields_missing")


@transaction.atomic
def create_item(*, actor, department, basic_code: str, name: str, item_type: str, content: dict,
                business_item: str = "01") -> ServiceItem:
    """Add an item to the department's implementation list with its first version."""
    if actor is not None:
        require(actor, "onestop.manage_catalogue", department=department, include_descendants=False)
    if item_type not in ItemType.values or not basic_code.startswith(item_type):
        raise InvalidInput("事项类型与基本编码不符", code="invalid_item_type")
    parsed = parse_content(content)
    _check_result_type(department, parsed)
    code = implementation_code(department, basic_code, business_item)
    if ServiceItem.objects.filter(implementation_code=code).exists():
        raise Conflict("该实施编码已存在", code="item_exists")
    item = ServiceItem.objects.create(basic_code=basic_code, implementation_code=code, name=name.strip(),
                                      item_type=item_type, department=department, current_version=1)
    ItemVersion.objects.create(item=item, version=1, content=parsed.model_dump(mode="json", by_alias=True),
                               created_by=actor)
    record(actor=actor, action="onestop.item.create", target=item, changes={"code": code, "name": item.name})
    return item


@transaction.atomic
def publish_item_version(*, actor, item: ServiceItem, content: dict, name: str | None = None,
                         active: bool | None = None) -> ItemVersion:
    """Publish new content for an item (版本化): applications already made keep their version."""
    item = ServiceItem.objects.select_for_update().select_related("department").get(pk=item.pk)
    if actor is not None:
        require(actor, "onestop.manage_catalogue", department=item.department, include_descendants=False)
    parsed = parse_content(content)
    _check_result_type(item.department, parsed)
    version = ItemVersion.objects.create(item=item, version=item.current_version + 1, created_by=actor,
                                         content=parsed.model_dump(mode="json", by_alias=True))
    item.current_version = version.version
    if name:
        item.name = name.strip()
    if active is not None:
        item.active = active
    item.save(update_fields=["current_version", "name", "active", "updated_at"])
    transaction.on_commit(lambda: selectors.forget_item(item.implementation_code))
    record(actor=actor, action="onestop.item.publish", target=item, changes={"version": version.version})
    return version


@transaction.atomic
def create_bundle(*, actor, code: str, name: str, items: list[ServiceItem], description: str = "",
                  synonyms: list[str] | None = None) -> Bundle:
    if actor is not None:
        require(actor, "onestop.manage_catalogue")
    if len(items) < 2:
        raise InvalidInput("一件事至少包含两个事项", code="bundle_too_small")
    if Bundle.objects.filter(code=code).exists():
        raise Conflict("该一件事代码已存在", code="bundle_exists")
    bundle = Bundle.objects.create(code=code, name=name, description=description, synonyms=synonyms or [])
    BundleItem.objects.bulk_create([BundleItem(bundle=bundle, item=item, order=i) for i, item in enumerate(items)])
    record(actor=actor, action="onestop.bundle.create", target=bundle, changes={"items": [i.pk for i in items]})
    return bundle


# --------------------------------------------------------------------------- materials library


@transaction.atomic
def store_material(*, actor, key: str, name: str, upload) -> StoredMaterial:
    """Keep an uploaded file in the applicant's material library (trust C until checked)."""
    require(actor, "onestop.apply")
    if (getattr(upload, "size", None) or 0) > settings.ONESTOP_MAX_UPLOAD_BYTES:  # before reading it into memory
        raise InvalidInput(f"“{name}”超过 {settings.ONESTOP_MAX_UPLOAD_BYTES // 1_048_576} MB", code="file_too_large")
    data = upload.read()
    if not data:
        raise InvalidInput(f"“{name}”是空文件", code="empty_file")
    if len(data) > settings.ONESTOP_MAX_UPLOAD_BYTES:
        raise InvalidInput(f"“{name}”超过 {settings.ONESTOP_MAX_UPLOAD_BYTES // 1_048_576} MB", code="file_too_large")
    kind = getattr(upload, "content_type", "") or "application/octet-stream"
    if kind not in settings.ONESTOP_UPLOAD_TYPES:
        raise InvalidInput(f"“{name}”的文件类型不受支持（请上传 PDF 或图片）", code="file_type")
    from django.core.files.base import ContentFile

    stored = StoredMaterial(owner_user=actor, key=key, name=name, sha256=hashlib.sha256(data).hexdigest(),
                            size=len(data), content_type=kind)
    stored.file.save(f"{secrets.token_hex(12)}", ContentFile(data), save=False)
    stored.save()
    record(actor=actor, action="onestop.material.store", target=stored, changes={"key": key, "size": len(data)})
    return stored


@transaction.atomic
def check_material(*, actor, stored: StoredMaterial) -> StoredMaterial:
    """窗口核验: an officer has seen the original; the stored copy becomes trust level B."""
    if not has_perm(actor, "onestop.handle"):
        raise Forbidden("只有窗口工作人员可以核验原件", code="forbidden")
    stored.trust_level, stored.checked_by, stored.checked_at = TrustLevel.B, actor, _now()
    stored.save(update_fields=["trust_level", "checked_by", "checked_at"])
    ApplicationMaterial.objects.filter(stored=stored).update(trust_level=TrustLevel.B)
    record(actor=actor, action="onestop.material.check", target=stored)
    return stored


# --------------------------------------------------------------------------- applying


def _field_errors(content: ItemContent, answers: dict, form: dict, pending: frozenset[str] = frozenset()) -> dict:
    """Every problem with the answers and the form, keyed by field (``pending`` fields are filled later
    by the platform, e.g. the USCC of a company the same 一件事 registers)."""
    errors = {}
    for situation in content.situations_for(answers):
        value = answers.get(situation.key)
        allowed = {o.value for o in situation.options}
        values = value if isinstance(value, list) and situation.multiple else [value]
        if value in (None, "", []) or any(str(v) not in allowed for v in values):
            errors[f"answers.{situation.key}"] = f"请回答：{situation.question}"
    for field in content.fields_for(answers):
        value = form.get(field.key)
        text = "" if value is None else str(value).strip()
        if not text and field.key in pending:
            continue
        if not text:
            if field.required:
                errors[field.key] = f"请填写{field.label}"
            continue
        ok = True
        match field.type:
            case "id_number":
                ok = is_valid_id_number(text)
            case "phone":
                ok = is_valid_mobile(text)
            case "uscc":
                ok = is_valid_uscc(text)
            case "number":
                try:
                    float(text)
                except ValueError:
                    ok = False
            case "date":
                try:
                    datetime.date.fromisoformat(text)
                except ValueError:
                    ok = False
            case "choice":
                ok = text in field.choices
        if not ok:
            errors[field.key] = f"{field.label}格式不正确"
        elif len(text) > 2000:
            errors[field.key] = f"{field.label}过长"
    return errors


def _new_number() -> str:
    """办件编号: date + 14 random digits (unique constraint; a collision is retried)."""
    return f"{timezone.localdate():%Y%m%d}{secrets.randbelow(10**14):014d}"


def _step(app: Application, action: str, *, actor, opinion: str = "", step: str | None = None,
          started_at=None) -> CaseStep:
    return CaseStep(application=app, step=step or STEP_NAMES.get(action, action), action=action, opinion=opinion,
                    actor=actor if getattr(actor, "pk", None) else None,
                    actor_name=getattr(actor, "name", "") or "系统", state_after=app.state,
                    started_at=started_at or app.state_since, ended_at=_now())


def _resolve_enterprise(actor, enterprise_uscc: str | None):
    if not enterprise_uscc:
        return None
    from smartgov.identity.models import Enterprise

    enterprise = Enterprise.objects.filter(uscc=enterprise_uscc.strip().upper()).select_related(
        "legal_representative").first()
    person = getattr(actor, "person", None)
    if enterprise is None or person is None or enterprise.legal_representative_id != person.pk:
        raise Forbidden("只能以您担任法定代表人的企业名义申请", code="not_legal_representative")
    return enterprise


def _materials_for(app: Application, content: ItemContent, answers: dict, provided: dict, plan: dict,
                   awaiting: dict) -> tuple[list[ApplicationMaterial], dict[str, str]]:
    rows, errors = [], {}
    # a file attached to an earlier application is a reuse from the library; otherwise a fresh upload
    used = {s.pk for s in provided.values() if s.used}
    for material in content.materials_for(answers):
        reuse = plan.get(material.key)
        kw = {"application": app, "key": material.key, "name": material.name, "required": material.required}
        if material.key in awaiting:
            rows.append(ApplicationMaterial(**kw, source=MaterialSource.BUNDLE, trust_level=TrustLevel.A,
                                            awaits=awaiting[material.key]))
        elif material.key in provided:
            stored = provided[material.key]
            rows.append(ApplicationMaterial(**kw, source=MaterialSource.LIBRARY if stored.pk in used
                                            else MaterialSource.UPLOAD, stored=stored, trust_level=stored.trust_level))
        elif reuse is not None:
            rows.append(ApplicationMaterial(**kw, source=reuse.source, trust_level=reuse.trust_level,
                                            stored=reuse.stored, licence=reuse.licence))
        elif material.required:
            errors[f"materials.{material.key}"] = f"请提供{material.name}"
        else:
            rows.append(ApplicationMaterial(**kw, source=MaterialSource.MISSING, trust_level=TrustLevel.D))
    return rows, errors


def _stored_for(actor, provided_ids: dict[str, int]) -> dict[str, StoredMaterial]:
    if not provided_ids:
        return {}
    ids = sorted({int(v) for v in provided_ids.values()})
    # hot path (every submission): one plain query; `used` says whether an earlier case attached the file
    sm, am = StoredMaterial._meta.db_table, ApplicationMaterial._meta.db_table
    found = {s.pk: s for s in StoredMaterial.objects.raw(
        f"SELECT s.id, s.key, s.name, s.trust_level, s.owner_user_id, "  # noqa: S608 — our own tables
        f"EXISTS (SELECT 1 FROM {am} m WHERE m.stored_id = s.id) AS used "
        f"FROM {sm} s WHERE s.owner_user_id = %s AND s.id IN ({', '.join(['%s'] * len(ids))})", [actor.pk, *ids])}
    missing = [k for k, v in provided_ids.items() if v not in found]
    if missing:
        raise InvalidInput("引用的材料不存在或不属于您", code="material_not_found", detail=missing)
    return {k: found[v] for k, v in provided_ids.items()}


def _create(app: Application, rows: list[ApplicationMaterial]) -> Application:
    # 14 random digits per day: at 280,000 cases a day two numbers collide about once in seven years.
    # No savepoint on this hot path (two round trips): the unique constraint turns that rare collision
    # into a retryable 409 and the whole submission rolls back.
    app.number = _new_number()
    try:
        app.save()
    except IntegrityError as exc:
        raise Conflict("办件编号冲突，请重新提交", code="retry", detail={"number": app.number}) from exc
    for row in rows:
        row.application = app
    ApplicationMaterial.objects.bulk_create(rows)
    app._prefetched_objects_cache = {"materials": rows}  # the caller shows them without reading them back
    return app


@transaction.atomic
def apply(*, actor, item: ServiceItem, answers: dict, form_data: dict, materials: dict[str, int] | None = None,
          channel: str = Channel.ONLINE, enterprise_uscc: str | None = None, agent_name: str = "",
          agent_id_number: str = "", draft: bool = False) -> Application:
    """Apply for one item (申请): validate answers, form and materials against the item's current version,
    reuse what the government already has, and submit (or keep a draft). Nothing is written if anything
    is wrong: the error lists every problem."""
    require(actor, "onestop.apply")
    if not item.active:
        raise Conflict("该事项已停止办理", code="item_inactive")
    version = selectors.current_version(item)
    content = version.parsed
    enterprise = _resolve_enterprise(actor, enterprise_uscc)
    provided = _stored_for(actor, materials or {})
    plan = selectors.reuse_plan(actor, content, answers, enterprise=enterprise, skip=provided.keys())
    return _apply_one(actor=actor, item=item, version=version, answers=answers, form_data=form_data,
                      provided=provided, plan=plan, channel=channel, enterprise=enterprise, agent_name=agent_name,
                      agent_id_number=agent_id_number, draft=draft)


def _apply_one(*, actor, item, version, answers, form_data, provided, plan, channel, enterprise, agent_name,
               agent_id_number, draft, submission=None, awaiting=None, pending=frozenset()) -> Application:
    content = version.parsed
    if channel not in Channel.values:
        raise InvalidInput("渠道无效", code="invalid_channel")
    if agent_id_number and not is_valid_id_number(agent_id_number):
        raise InvalidInput("代理人身份证号不正确", code="invalid_agent_id")
    errors = _field_errors(content, answers, form_data, pending)
    now = _now()
    person = getattr(actor, "person", None)
    fields = {f.key for f in content.fields_for(answers)}
    app = Application(item=item, item_version=version, department=item.department, submission=submission,
                      applicant_user=actor, applicant_person=person, applicant_enterprise=enterprise,
                      applicant_name=enterprise.name if enterprise else (person.name if person else actor.name),
                      agent_name=agent_name.strip()[:100], agent_id_number=agent_id_number or "", channel=channel,
                      answers={k: v for k, v in answers.items() if k in {s.key for s in content.situations}},
                      form_data=selectors.seal_form({k: str(v).strip() for k, v in form_data.items() if k in fields},
                                                    content.sealed_keys()),
                      fee_total=content.fee_total(answers), state=State.DRAFT if draft else State.SUBMITTED,
                      state_since=now, submitted_at=None if draft else now,
                      visits=0 if channel in (Channel.ONLINE, Channel.MOBILE) else 1)
    rows, material_errors = _materials_for(app, content, answers, provided, plan, awaiting or {})
    errors.update(material_errors)
    if errors and not draft:
        raise InvalidInput("申请内容有误，请按提示修改", code="application_invalid", detail=errors)
    _create(app, rows)
    _step(app, "submit" if not draft else "draft", actor=actor, step="申请", started_at=now).save()
    if not draft:
        notify.send(user=actor, application=app, title=f"您的{item.name}申请已提交",
                    body=f"办件编号 {app.number}，请留意预审结果。")
    # last: the audit chain's head is locked from here to the commit, so keep that stretch short
    record(actor=actor, action="onestop.application.submit" if not draft else "onestop.application.draft",
           target=app, changes={"item": item.pk, "version": version.version, "channel": channel,
                                "reused": sum(r.source in REUSED_SOURCES for r in rows)})
    return app


@transaction.atomic
def apply_bundle(*, actor, bundle: Bundle, answers: dict, form_data: dict, materials: dict[str, int] | None = None,
                 channel: str = Channel.ONLINE, enterprise_uscc: str | None = None) -> Submission:
    """一件事: one form, one submission, one case per item (one per department), run in parallel.
    Shared fields and materials are asked once; a material one item's licence result provides is
    attached when that case issues it."""
    require(actor, "onestop.apply")
    plan_items = selectors.bundle_plan(bundle)
    enterprise = _resolve_enterprise(actor, enterprise_uscc)
    provided = _stored_for(actor, materials or {})
    errors: dict[str, str] = {}
    sealed = {k: t for e in plan_items for k, t in e.version.parsed.sealed_keys().items()}
    submission = Submission.objects.create(bundle=bundle, applicant_user=actor, answers=answers,
                                           form_data=selectors.seal_form(
                                               {k: str(v).strip() for k, v in form_data.items()}, sealed))
    produced: dict[str, Application] = {}  # licence type code → the case that will issue it
    pending = frozenset(selectors.pending_bundle_fields(plan_items, answers)) if enterprise is None else frozenset()
    total = Decimal("0")
    for entry in plan_items:
        content = entry.version.parsed
        plan = selectors.reuse_plan(actor, content, answers, enterprise=enterprise, skip=provided.keys())
        awaiting = {m.key: produced[m.licence_type] for m in content.materials_for(answers)
                    if m.licence_type in produced and m.key not in plan}
        try:
            app = _apply_one(actor=actor, item=entry.item, version=entry.version, answers=answers,
                             form_data=form_data, provided=provided, plan=plan, channel=channel,
                             enterprise=enterprise, agent_name="", agent_id_number="", draft=False,
                             submission=submission, awaiting=awaiting, pending=pending)
        except InvalidInput as exc:
            errors.update(exc.detail or {})
            continue
        total += app.fee_total
        if content.result.kind == "licence":
            produced[content.result.licence_type] = app
    if errors:  # raising inside the atomic block rolls back the submission and every case made so far
        raise InvalidInput("申请内容有误，请按提示修改", code="application_invalid", detail=errors)
    submission.fee_total = total
    submission.save(update_fields=["fee_total"])
    record(actor=actor, action="onestop.bundle.submit", target=submission,
           changes={"bundle": bundle.code, "applications": len(plan_items)})
    return submission


# --------------------------------------------------------------------------- the case state machine


def _locked(app: Application) -> Application:
    return (Application.objects.select_for_update(of=("self",))
            .select_related("item", "item_version", "department", "instance", "applicant_user")
            .get(pk=app.pk))


def _guard(app: Application, action: str) -> None:
    allowed, _target = TRANSITIONS[action]
    if app.state not in allowed:
        raise Conflict(f"办件当前状态为“{State(app.state).label}”，不能{STEP_NAMES[action]}",
                       code="illegal_transition", detail={"state": app.state, "action": action})


def _officer(actor, app: Application) -> None:
    require(actor, "onestop.handle", department=app.department, include_descendants=False, hide=True)


def _applicant(actor, app: Application) -> None:
    if actor is None or app.applicant_user_id != actor.pk:
        raise NotFound("没有这个办件", code="not_found")


def _move(app: Application, action: str, state: str, *, actor, opinion: str = "", step: str | None = None,
          fields: tuple[str, ...] = (), audit: dict | None = None) -> Application:
    started = app.state_since
    app.state, app.state_since = state, _now()
    app.save(update_fields=["state", "state_since", *fields])
    _step(app, action, actor=actor, opinion=opinion, step=step, started_at=started).save()
    record(actor=actor, action=f"onestop.application.{action}", target=app,
           changes={"state": state, **(audit or {})})
    return app


def _tell(app: Application, title: str, body: str = "") -> None:
    notify.send(user=app.applicant_user, application=app, title=title, body=body)


@transaction.atomic
def submit_draft(*, actor, application: Application) -> Application:
    app = _locked(application)
    _applicant(actor, app)
    _guard(app, "submit")
    content = app.item_version.parsed
    errors = _field_errors(content, app.answers, selectors.form_values(app, reveal=True))
    errors.update({f"materials.{m.key}": f"请提供{m.name}" for m in app.materials.all()
                   if m.required and m.source == MaterialSource.MISSING})
    if errors:
        raise InvalidInput("申请内容有误，请按提示修改", code="application_invalid", detail=errors)
    app.submitted_at = _now()
    _move(app, "submit", State.SUBMITTED, actor=actor, fields=("submitted_at",))
    _tell(app, f"您的{app.item.name}申请已提交", f"办件编号 {app.number}")
    return app


@transaction.atomic
def start_prereview(*, actor, application: Application) -> Application:
    app = _locked(application)
    _officer(actor, app)
    _guard(app, "prereview")
    return _move(app, "prereview", State.PREREVIEW, actor=actor)


@transaction.atomic
def request_supplement(*, actor, application: Application, materials: list[str], opinion: str) -> Application:
    """一次性告知: everything to supplement at once; during review the statutory clock stops."""
    from .notices import issue_notice

    app = _locked(application)
    _officer(actor, app)
    _guard(app, "request_supplement")
    names = dict(app.materials.values_list("key", "name"))
    unknown = [k for k in materials if k not in names]
    if not materials or unknown or not opinion.strip():
        raise InvalidInput("请选择需补正的材料并说明原因", code="supplement_invalid", detail={"unknown": unknown})
    app.resume_state = app.state
    if app.instance and app.instance.status == InstanceStatus.RUNNING:
        workflow.suspend(actor=actor, instance=app.instance, reason="补正材料")
    _move(app, "request_supplement", State.SUPPLEMENT, actor=actor, opinion=opinion.strip(), fields=("resume_state",),
          audit={"materials": materials})
    app.materials.filter(key__in=materials).update(source=MaterialSource.MISSING, stored=None, licence=None,
                                                   trust_level=TrustLevel.D)
    issue_notice(app, NoticeKind.SUPPLEMENT, body=f"您申请的事项需补正以下材料：{opinion.strip()}",
                 extra={"list": [names[k] for k in materials]})
    _tell(app, f"{app.item.name}需要补正材料", opinion.strip())
    return app


@transaction.atomic
def provide_supplement(*, actor, application: Application, materials: dict[str, int]) -> Application:
    app = _locked(application)
    _applicant(actor, app)
    _guard(app, "supplement")
    stored = _stored_for(actor, materials)
    wanted = {m.key: m for m in app.materials.filter(source=MaterialSource.MISSING, required=True)}
    if missing := sorted(set(wanted) - set(stored)):
        raise InvalidInput("仍有材料未补正", code="supplement_incomplete",
                           detail={f"materials.{k}": f"请提供{wanted[k].name}" for k in missing})
    for key, row in wanted.items():
        row.stored, row.trust_level = stored[key], stored[key].trust_level
        row.source = MaterialSource.UPLOAD
        row.save(update_fields=["stored", "trust_level", "source"])
    if app.instance and app.instance.status == InstanceStatus.SUSPENDED:
        instance = workflow.resume(actor=actor, instance=app.instance)
        app.due_on = instance.due_on
    back = app.resume_state or State.PREREVIEW
    app.resume_state = ""
    return _move(app, "supplement", back, actor=actor, fields=("resume_state", "due_on"))


@transaction.atomic
def accept(*, actor, application: Application, opinion: str = "") -> Application:
    """受理: the statutory clock starts (the promised limit in working days, on the workflow engine)."""
    from .notices import issue_notice

    app = _locked(application)
    _officer(actor, app)
    _guard(app, "accept")
    content = app.item_version.parsed
    instance = workflow.start_instance(actor=actor, process_code=content.process, subject=f"onestop.application:{app.pk}",
                                       title=f"{app.item.name}（{app.applicant_name}）", department=app.department,
                                       context={k: v for k, v in app.form_data.items()
                                                if k not in content.sealed_keys()},  # no ID numbers
                                       time_limit_days=content.promised_limit_days)
    app.instance, app.due_on, app.accepted_at = instance, instance.due_on, _now()
    _move(app, "accept", State.ACCEPTED, actor=actor, opinion=opinion, fields=("instance", "due_on", "accepted_at"))
    issue_notice(app, NoticeKind.ACCEPTANCE, body=f"您的申请材料齐全、符合法定形式，决定予以受理。"
                 f"承诺于 {instance.due_on.isoformat()} 前（{content.promised_limit_days} 个工作日）办结。")
    _tell(app, f"{app.item.name}已受理", f"承诺办结日 {instance.due_on.isoformat()}")
    if instance.status == InstanceStatus.COMPLETED:  # a process with no applicable step
        _decide(app, instance, actor)
    return app


@transaction.atomic
def not_accept(*, actor, application: Application, reason: str) -> Application:
    from .notices import issue_notice

    app = _locked(application)
    _officer(actor, app)
    _guard(app, "not_accept")
    if not reason.strip():
        raise InvalidInput("不予受理须说明理由", code="reason_required")
    app.decision_reason, app.decided_at = reason.strip(), _now()
    _move(app, "not_accept", State.NOT_ACCEPTED, actor=actor, opinion=reason.strip(),
          fields=("decision_reason", "decided_at"))
    issue_notice(app, NoticeKind.NOT_ACCEPTED, body=f"经审查，您的申请不予受理。理由：{reason.strip()}"
                 "。如不服，可依法申请行政复议或者提起行政诉讼。")
    _tell(app, f"{app.item.name}不予受理", reason.strip())
    return app


def _decide(app: Application, instance, actor) -> None:
    from .notices import issue_notice

    app.decided_at = _now()
    if instance.outcome == Outcome.APPROVE:
        _move(app, "review", State.APPROVED, actor=actor, step="决定", opinion="准予办理", fields=("decided_at",))
        _tell(app, f"{app.item.name}已审批通过", "正在出具办理结果。")
    else:
        app.decision_reason = instance.reason
        _move(app, "review", State.REJECTED, actor=actor, step="决定", opinion=instance.reason,
              fields=("decided_at", "decision_reason"))
        issue_notice(app, NoticeKind.RESULT, body=f"经审查，决定不予办理。理由：{instance.reason}"
                     "。如不服，可依法申请行政复议或者提起行政诉讼。")
        _tell(app, f"{app.item.name}未获批准", instance.reason)


def _actionable(actor, app: Application) -> bool:
    from smartgov.workflow.selectors import actionable_task

    return app.instance is not None and actionable_task(actor, app.instance) is not None


@transaction.atomic
def review(*, actor, application: Application, outcome: str, opinion: str = "") -> Application:
    """审查/决定: act on the case's open workflow step that is the actor's."""
    from smartgov.workflow.selectors import actionable_task

    app = _locked(application)
    _guard(app, "review")
    if app.instance is None:
        raise Conflict("办件尚未受理", code="illegal_transition")
    task = actionable_task(actor, app.instance)
    if task is None:
        require(actor, "onestop.handle", department=app.department, hide=True)
        raise Forbidden("当前环节不由您办理", code="not_task_actor")
    instance = workflow.complete_task(actor=actor, task=task, outcome=outcome, opinion=opinion)
    if instance.status == InstanceStatus.COMPLETED:
        _decide(app, instance, actor)
    elif app.state != State.REVIEW:
        _move(app, "review", State.REVIEW, actor=actor, step=task.name, opinion=opinion)
    else:
        _step(app, "review", actor=actor, step=task.name, opinion=opinion, started_at=task.opened_at).save()
    return app


@transaction.atomic
def start_special_procedure(*, actor, application: Application, kind: str, opinion: str = "") -> Application:
    """听证、专家评审、现场核查、检验检测: the time they take does not count (《行政许可法》第四十五条)."""
    app = _locked(application)
    _officer(actor, app)
    _guard(app, "special_procedure")
    if kind not in SPECIAL_PROCEDURES:
        raise InvalidInput("特别程序类型无效", code="invalid_procedure", detail=sorted(SPECIAL_PROCEDURES))
    if app.instance.status != InstanceStatus.RUNNING:
        raise Conflict("计时已暂停", code="illegal_transition")
    workflow.suspend(actor=actor, instance=app.instance, reason=SPECIAL_PROCEDURES[kind])
    _move(app, "special_procedure", State.REVIEW, actor=actor, step=SPECIAL_PROCEDURES[kind], opinion=opinion)
    _tell(app, f"{app.item.name}进入{SPECIAL_PROCEDURES[kind]}程序", "特别程序所需时间不计入办理时限。")
    return app


@transaction.atomic
def end_special_procedure(*, actor, application: Application, opinion: str = "") -> Application:
    app = _locked(application)
    _officer(actor, app)
    _guard(app, "end_special_procedure")
    if app.instance.status != InstanceStatus.SUSPENDED:
        raise Conflict("没有进行中的特别程序", code="illegal_transition")
    instance = workflow.resume(actor=actor, instance=app.instance)
    app.due_on = instance.due_on
    return _move(app, "end_special_procedure", State.REVIEW, actor=actor, opinion=opinion, fields=("due_on",))


def _new_uscc(app: Application) -> str:
    """A unified social credit code for a newly registered company (GB 32100): 9 (registered by the market
    regulator) 1 (enterprise) + the registering office's region + a new organisation code."""
    from smartgov.core.validators import org_code_check_char, uscc_check_char

    digits = "0123456789ABCDEFGHJKLMNPQRTUWXY"
    n, body = app.pk, ""
    for _ in range(6):
        n, r = divmod(n, 31)
        body = digits[r] + body
    org = "MA" + body
    first17 = "91" + (app.department.uscc[2:8] if app.department.uscc else "330100") + org + org_code_check_char(org)
    return first17 + uscc_check_char(first17)


@transaction.atomic
def issue_result(*, actor, application: Application) -> Application:
    """出证: an e-licence through the licences app (or a signed result document); materials of other
    cases in the same 一件事 that waited for this result get it attached."""
    from smartgov.identity.services import register_enterprise
    from smartgov.licences.models import LicenceType
    from smartgov.licences.services import issue_licence

    from .notices import issue_notice

    app = _locked(application)
    _officer(actor, app)
    _guard(app, "issue")
    result = app.item_version.parsed.result
    licence = None
    if result.kind == "licence":
        licence_type = LicenceType.objects.select_related("department").get(code=result.licence_type)
        holder = {"holder_person": app.applicant_person}
        if licence_type.holder_kind == "enterprise":
            if app.applicant_enterprise is None and result.registers_enterprise:
                person = app.applicant_person
                app.applicant_enterprise = register_enterprise(
                    actor=actor, name=app.form_data.get("enterprise_name", app.applicant_name),
                    uscc=_new_uscc(app), legal_representative_id_number=person.id_number if person else None,
                    region_code=(app.department.uscc or "  330100")[2:8], department=app.department,
                    address=app.form_data.get("enterprise_address", app.form_data.get("address", "")),
                    established_on=timezone.localdate())
                app.save(update_fields=["applicant_enterprise"])
                if app.submission_id:  # the new company is the applicant of the other cases of the 一件事
                    for sibling in Application.objects.filter(submission_id=app.submission_id,
                                                              applicant_enterprise__isnull=True):
                        sibling.applicant_enterprise = app.applicant_enterprise
                        sibling.applicant_name = app.applicant_enterprise.name
                        for field in sibling.item_version.parsed.fields:
                            if field.prefill == "enterprise.uscc":
                                sibling.form_data[field.key] = app.applicant_enterprise.uscc
                        sibling.save(update_fields=["applicant_enterprise", "applicant_name", "form_data"])
            if app.applicant_enterprise is None:
                raise Conflict("须待前序事项办结（企业设立）后才能出证", code="awaiting_prerequisite")
            holder = {"holder_enterprise": app.applicant_enterprise}
        template = [f["key"] for f in licence_type.field_template]
        values = selectors.form_values(app, reveal=True)
        licence = issue_licence(actor=actor, licence_type=licence_type, data={k: values.get(k, "") for k in template},
                                **holder)
        app.result_licence = licence
        waiting = ApplicationMaterial.objects.filter(awaits=app)
        waiting.update(licence=licence, awaits=None, source=MaterialSource.BUNDLE, trust_level=TrustLevel.A)
    issue_notice(app, NoticeKind.RESULT, body=f"经审查，准予办理。办理结果：{result.name}"
                 + (f"（电子证照 {licence.identifier}，已存入您的证照夹）" if licence else "（本文书即为办理结果）"))
    _move(app, "issue", State.ISSUED, actor=actor, opinion=result.name, fields=("result_licence",))
    _tell(app, f"{app.item.name}已出具结果", result.name)
    return app


@transaction.atomic
def deliver(*, actor, application: Application, method: str, detail: str = "") -> Application:
    app = _locked(application)
    _officer(actor, app)
    _guard(app, "deliver")
    if method not in DELIVERY_METHODS:
        raise InvalidInput("送达方式无效", code="invalid_delivery", detail=sorted(DELIVERY_METHODS))
    if method == "courier" and not detail.strip():
        raise InvalidInput("邮寄送达须填写运单号", code="tracking_required")
    app.delivery_method, app.delivery_detail = method, detail.strip()[:200]
    if method == "pickup":
        app.visits += 1
    _move(app, "deliver", State.DELIVERED, actor=actor, opinion=DELIVERY_METHODS[method],
          fields=("delivery_method", "delivery_detail", "visits"))
    return app


@transaction.atomic
def close(*, actor, application: Application) -> Application:
    """办结: the case ends; on-time is judged against the (suspension-extended) deadline."""
    app = _locked(application)
    _officer(actor, app)
    _guard(app, "close")
    app.closed_at = _now()
    app.on_time = app.due_on is None or timezone.localdate() <= app.due_on
    _move(app, "close", State.CLOSED, actor=actor, fields=("closed_at", "on_time"))
    if app.submission_id and not Application.objects.filter(submission_id=app.submission_id).exclude(
            state__in=[State.CLOSED, State.WITHDRAWN]).exists():
        Submission.objects.filter(pk=app.submission_id).update(completed_at=app.closed_at)
    _tell(app, f"{app.item.name}已办结", "欢迎对本次服务作出评价。")
    return app


@transaction.atomic
def withdraw(*, actor, application: Application, reason: str = "") -> Application:
    app = _locked(application)
    _applicant(actor, app)
    _guard(app, "withdraw")
    if app.instance and app.instance.status in (InstanceStatus.RUNNING, InstanceStatus.SUSPENDED):
        workflow.cancel(actor=actor, instance=app.instance, reason="申请人撤回")
    app.closed_at = _now()
    return _move(app, "withdraw", State.WITHDRAWN, actor=actor, opinion=reason, fields=("closed_at",))


# --------------------------------------------------------------------------- evaluation (好差评)


@transaction.atomic
def evaluate(*, actor, application: Application, grade: int, comment: str = "", visit: int = 0) -> Evaluation:
    """One evaluation per case online (visit 0) or per hall visit; 不满意/非常不满意 opens a
    rectification ticket to the department with a deadline in working days."""
    app = Application.objects.select_related("department", "item").get(pk=application.pk)
    _applicant(actor, app)
    if app.state in (State.DRAFT, State.WITHDRAWN):
        raise Conflict("该办件尚未办理，不能评价", code="illegal_transition")
    if grade not in Grade.values:
        raise InvalidInput("评价等级应为1–5", code="invalid_grade")
    if grade <= Grade.DISSATISFIED and not comment.strip():
        raise InvalidInput("差评请说明原因，以便整改", code="comment_required")
    if not 0 <= visit <= app.visits:
        raise InvalidInput("没有这次现场办理", code="invalid_visit")
    if Evaluation.objects.filter(application=app, visit=visit).exists():
        raise Conflict("您已评价过", code="already_evaluated")
    evaluation = Evaluation.objects.create(application=app, department=app.department, item=app.item,
                                           channel=app.channel if visit == 0 else Channel.WINDOW, visit=visit,
                                           grade=grade, comment=comment.strip()[:2000])
    record(actor=actor, action="onestop.evaluate", target=evaluation, changes={"grade": grade})
    if grade <= Grade.DISSATISFIED:
        ticket = Rectification.objects.create(
            evaluation=evaluation, department=app.department,
            due_on=calendar().add_workdays(timezone.localdate(), settings.ONESTOP_RECTIFY_DAYS))
        record(actor=None, action="onestop.rectification.open", target=ticket,
               changes={"department": app.department_id, "due_on": ticket.due_on.isoformat()})
    return evaluation


@transaction.atomic
def reply_rectification(*, actor, ticket: Rectification, reply: str) -> Rectification:
    ticket = Rectification.objects.select_for_update().select_related("department").get(pk=ticket.pk)
    require(actor, "onestop.rectify", department=ticket.department, include_descendants=False, hide=True)
    if ticket.status != TicketStatus.OPEN:
        raise Conflict("该工单已回复", code="illegal_transition")
    if not reply.strip():
        raise InvalidInput("请填写整改情况", code="reply_required")
    ticket.reply, ticket.replied_at, ticket.status = reply.strip(), _now(), TicketStatus.REPLIED
    ticket.save(update_fields=["reply", "replied_at", "status"])
    record(actor=actor, action="onestop.rectification.reply", target=ticket)
    return ticket


@transaction.atomic
def follow_up_rectification(*, actor, ticket: Rectification, follow_up: str) -> Rectification:
    """回访: every negative evaluation is followed up with the applicant before the ticket closes."""
    ticket = Rectification.objects.select_for_update().select_related("department").get(pk=ticket.pk)
    require(actor, "onestop.follow_up", department=ticket.department, hide=True)
    if ticket.status != TicketStatus.REPLIED:
        raise Conflict("工单须先整改回复才能回访", code="illegal_transition")
    if not follow_up.strip():
        raise InvalidInput("请填写回访情况", code="follow_up_required")
    ticket.follow_up, ticket.closed_at, ticket.status = follow_up.strip(), _now(), TicketStatus.CLOSED
    ticket.save(update_fields=["follow_up", "closed_at", "status"])
    record(actor=actor, action="onestop.rectification.close", target=ticket)
    return ticket
