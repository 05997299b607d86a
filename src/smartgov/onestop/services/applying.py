"""Applying (申请): one item or a 一件事, validated against the item's current version, with the
materials the government already holds attached instead of asked for (材料复用)."""

import datetime
import secrets
from dataclasses import replace

import orjson
from django.db import IntegrityError, transaction
from django.utils import timezone

from smartgov.audit.services import record
from smartgov.core.errors import Conflict, DomainError, InvalidInput
from smartgov.core.permissions import require, system_actor
from smartgov.core.validators import is_valid_id_number, is_valid_mobile, is_valid_uscc
from smartgov.exchange.services import fetch_document

from .. import hooks, notify, selectors
from ..catalogue import ItemContent
from ..models import (
    REUSED_SOURCES,
    Application,
    ApplicationMaterial,
    Bundle,
    Channel,
    MaterialSource,
    ServiceItem,
    State,
    StoredMaterial,
    Submission,
    TrustLevel,
)
from .states import _now, _step


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


QUERY_CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I: read aloud and typed from paper


def new_query_code() -> str:
    """查询码: 8 characters from 32 (40 bits), so guessing within the lookup's failure limit is hopeless."""
    return "".join(secrets.choice(QUERY_CODE_ALPHABET) for _ in range(8))


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
                                            stored=reuse.stored, licence=reuse.licence, shared=reuse.shared))
        elif material.required:
            errors[f"materials.{material.key}"] = f"请提供{material.name}"
        else:
            rows.append(ApplicationMaterial(**kw, source=MaterialSource.MISSING, trust_level=TrustLevel.D))
    return rows, errors


def _fetch_shared(item, person, plan: dict, consent: bool) -> dict[str, str]:
    """Fetch the documents the plan names through the data-sharing exchange, as the item's department
    with the applicant's consent. A document that cannot be fetched (no consent, the provider down, no
    record) leaves the plan, so the applicant uploads it; the returned reasons go into the error text."""
    reasons = {}
    for key, reuse in list(plan.items()):
        if reuse.source != MaterialSource.EXCHANGE:
            continue
        del plan[key]
        if not consent:
            reasons[f"materials.{key}"] = "未授权调取，请上传"
            continue
        try:
            doc = fetch_document(actor=system_actor("onestop.reuse"), consumer=item.department,
                                 resource_code=reuse.resource, id_number=person.id_number, consent=True,
                                 purpose=f"办理〈{item.name}〉：申请人授权调取申请材料")
        except DomainError as exc:
            reasons[f"materials.{key}"] = f"{exc.message}，请上传"
            continue
        if doc is None:
            reasons[f"materials.{key}"] = "提供部门没有您的记录，请上传"
            continue

        plan[key] = replace(reuse, shared=orjson.dumps(doc).decode())
    return reasons


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
    app.query_code = app.query_code or new_query_code()
    try:
        app.save()
    except IntegrityError as exc:
        raise Conflict("办件编号冲突，请重新提交", code="retry", detail={"number": app.number}) from exc
    for row in rows:
        row.application = app
    ApplicationMaterial.objects.bulk_create(rows)
    app._prefetched_objects_cache = {"materials": rows}  # the caller shows them without reading them back
    return app


def apply(*, actor, item: ServiceItem, answers: dict, form_data: dict, materials: dict[str, int] | None = None,
          channel: str = Channel.ONLINE, enterprise_uscc: str | None = None, agent_name: str = "",
          agent_id_number: str = "", draft: bool = False, consent_exchange: bool = False) -> Application:
    """Apply for one item (申请): validate answers, form and materials against the item's current version,
    reuse what the government already has, and submit (or keep a draft). Nothing is written if anything
    is wrong: the error lists every problem. Documents other departments issued are fetched through the
    data-sharing exchange first (``consent_exchange``: the applicant agreed on the form); each fetch is
    logged by the exchange whether or not the application then goes through."""
    require(actor, "onestop.apply")
    if not item.active:
        raise Conflict("该事项已停止办理", code="item_inactive")
    version = selectors.current_version(item)
    content = version.parsed
    enterprise = selectors.represented_enterprise(actor, enterprise_uscc)
    provided = _stored_for(actor, materials or {})
    plan = selectors.reuse_plan(actor, content, answers, enterprise=enterprise, skip=provided.keys())
    fetch_errors = {}
    if not draft and not _field_errors(content, answers, form_data):
        fetch_errors = _fetch_shared(item, getattr(actor, "person", None), plan, consent_exchange)
    with transaction.atomic():
        return _apply_one(actor=actor, item=item, version=version, answers=answers, form_data=form_data,
                          provided=provided, plan=plan, channel=channel, enterprise=enterprise, agent_name=agent_name,
                          agent_id_number=agent_id_number, draft=draft, fetch_errors=fetch_errors)


def _apply_one(*, actor, item, version, answers, form_data, provided, plan, channel, enterprise, agent_name,
               agent_id_number, draft, submission=None, awaiting=None, pending=frozenset(),
               fetch_errors=None, applicant=None, person=None) -> Application:
    """``applicant``/``person``: the applying account and register record when an officer files the case
    (窗口受理); otherwise the actor is the applicant."""
    content = version.parsed
    fetch_errors = fetch_errors or {}
    for key, reuse in list(plan.items()):  # a document not fetched (draft, bundle, refused) is uploaded instead
        if reuse.source == MaterialSource.EXCHANGE and reuse.shared is None:
            del plan[key]
    if channel not in Channel.values:
        raise InvalidInput("渠道无效", code="invalid_channel")
    if agent_id_number and not is_valid_id_number(agent_id_number):
        raise InvalidInput("代理人身份证号不正确", code="invalid_agent_id")
    errors = _field_errors(content, answers, form_data, pending)
    now = _now()
    applicant = applicant or actor
    person = person if person is not None else getattr(actor, "person", None)
    fields = {f.key for f in content.fields_for(answers)}
    app = Application(item=item, item_version=version, department=item.department, submission=submission,
                      applicant_user=applicant, applicant_person=person, applicant_enterprise=enterprise,
                      applicant_name=enterprise.name if enterprise else (person.name if person else applicant.name),
                      agent_name=agent_name.strip()[:100], agent_id_number=agent_id_number or "", channel=channel,
                      answers={k: v for k, v in answers.items() if k in {s.key for s in content.situations}},
                      form_data=selectors.seal_form({k: str(v).strip() for k, v in form_data.items() if k in fields},
                                                    content.sealed_keys()),
                      fee_total=content.fee_total(answers), state=State.DRAFT if draft else State.SUBMITTED,
                      state_since=now, submitted_at=None if draft else now,
                      visits=0 if channel in (Channel.ONLINE, Channel.MOBILE) else 1)
    if hooks.VALIDATORS and not draft:
        errors.update(hooks.validate(item=item, form=form_data, enterprise=enterprise, actor=actor))
    rows, material_errors = _materials_for(app, content, answers, provided, plan, awaiting or {})
    errors.update({k: f"{v}（{fetch_errors[k]}）" if k in fetch_errors else v for k, v in material_errors.items()})
    if errors and not draft:
        raise InvalidInput("申请内容有误，请按提示修改", code="application_invalid", detail=errors)
    _create(app, rows)
    _step(app, "submit" if not draft else "draft", actor=actor, step="申请", started_at=now).save()
    if not draft and not getattr(applicant, "is_staff_role", False):  # a walk-in without an account hears it at the window
        notify.send(user=applicant, application=app, title=f"您的{item.name}申请已提交",
                    body=f"办件编号 {app.number}，请留意预审结果。")
        if submission is None:  # a single application (not a 一件事): hooks such as 秒批 may act on it
            hooks.submitted(app.pk)
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
    enterprise = selectors.represented_enterprise(actor, enterprise_uscc)
    provided = _stored_for(actor, materials or {})
    errors: dict[str, str] = {}
    sealed = {k: t for e in plan_items for k, t in e.version.parsed.sealed_keys().items()}
    submission = Submission.objects.create(bundle=bundle, applicant_user=actor, answers=answers,
                                           form_data=selectors.seal_form(
                                               {k: str(v).strip() for k, v in form_data.items()}, sealed))
    produced: dict[str, Application] = {}  # licence type code → the case that will issue it
    pending = frozenset(selectors.pending_bundle_fields(plan_items, answers)) if enterprise is None else frozenset()
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
        if content.result.kind == "licence":
            produced[content.result.licence_type] = app
    if errors:  # raising inside the atomic block rolls back the submission and every case made so far
        raise InvalidInput("申请内容有误，请按提示修改", code="application_invalid", detail=errors)
    submission.fee_total = selectors.bundle_fee_total(plan_items, answers)
    submission.save(update_fields=["fee_total"])
    record(actor=actor, action="onestop.bundle.submit", target=submission,
           changes={"bundle": bundle.code, "applications": len(plan_items)})
    return submission
