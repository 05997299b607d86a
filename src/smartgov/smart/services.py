"""Every write of the smart app: publishing rules, 免申即享 decisions and their lifecycle, 秒批 and its
事后抽查, and 智能预审 of uploads.

Data of other departments is read only through the exchange's mediated calls (as the deciding
department, under its agreements): each decision keeps the message IDs, so the signed message log
shows what was asked and answered. The exchange calls run before the decision's own transaction, so
they stay logged even if the decision is then refused."""

import datetime
import logging
import random
import time

from django.db import IntegrityError, transaction
from django.utils import timezone

from smartgov.audit.services import record
from smartgov.core.errors import Conflict, DomainError, InvalidInput, NotFound
from smartgov.core.masking import mask_id_number
from smartgov.core.permissions import has_perm, require, system_actor
from smartgov.core.validators import is_valid_id_number
from smartgov.exchange import services as exchange
from smartgov.identity.selectors import id_number_index
from smartgov.licences.services import revoke_licence
from smartgov.onestop import notify
from smartgov.onestop import selectors as onestop_selectors
from smartgov.onestop import services as onestop
from smartgov.onestop.models import Application, State

from . import definitions, ocr, rules, selectors
from .models import (
    OPEN_GRANTS,
    Decision,
    DecisionKind,
    Entitlement,
    EntitlementVersion,
    Grant,
    GrantStatus,
    InstantApproval,
    InstantRuleSet,
    InstantRuleVersion,
    Prereview,
    ReviewStatus,
)

log = logging.getLogger("smartgov.smart")
JOB = "smart"


def _label(actor) -> str:
    return actor.get_username()


# --- reading other departments' data through the exchange ------------------------------------------------

def gather(*, department, sources: dict, subject: dict, form: dict, purpose: str) -> tuple[dict, list[dict]]:
    """Ask the exchange for each source as ``department``; returns the facts (``<source>.<field>``) and
    the calls made. A refused or failed call leaves that source's facts missing (→ not qualified)."""
    actor = system_actor(JOB)
    facts, calls = {}, []
    for name, src in sources.items():
        params = {}
        for key, ref in src.get("params", {}).items():
            if ref.startswith("subject."):
                params[key] = subject.get(ref[8:])
            elif ref.startswith("form."):
                params[key] = form.get(ref[5:])
            else:
                params[key] = ref
        if any(v in (None, "") for v in params.values()):
            calls.append({"source": name, "resource": src["resource"], "error": "params_missing"})
            continue
        try:
            result = exchange.call_resource(actor=actor, consumer=department, resource_code=src["resource"],
                                            params=params, fields=src["fields"], purpose=purpose)
        except DomainError as exc:
            calls.append({"source": name, "resource": src["resource"], "error": exc.code})
            continue
        calls.append({"source": name, "resource": result.resource, "message_id": result.message_id,
                      "found": result.found})
        for key, value in result.data.items():
            facts[f"{name}.{key}"] = value
    return facts, calls


def _kept_facts(cond_facts: set[str], facts: dict) -> dict:
    """The facts a decision rests on, as stored with it (ID numbers masked)."""
    kept = {}
    for key in sorted(cond_facts):
        value = facts.get(key)
        if isinstance(value, str) and is_valid_id_number(value):
            value = mask_id_number(value)
        kept[key] = value
    return kept


# --- 免申即享: entitlements ---------------------------------------------------------------------------------

@transaction.atomic
def publish_entitlement(*, actor, department, code: str, name: str, definition: dict) -> Entitlement:
    """Publish (a new version of) an entitlement's rule; running grants keep the version they got."""
    require(actor, "smart.manage_rules", department=department, include_descendants=False)
    code, name = (code or "").strip().upper(), (name or "").strip()
    if not code or len(code) > 40 or not name or len(name) > 100:
        raise InvalidInput("请填写编码（不超过40字）和名称（不超过100字）", code="invalid_entitlement")
    definitions.check_entitlement(definition)
    ent = Entitlement.objects.select_for_update().filter(code=code).first()
    if ent is None:
        ent = Entitlement.objects.create(code=code, name=name, department=department)
    elif ent.department_id != department.pk:
        raise Conflict("该编码已被其他部门使用", code="entitlement_exists")
    if onestop_selectors.department_item(department, definition["item"]) is None:
        raise InvalidInput(f"本部门没有基本编码为 {definition['item']} 的一网通办事项", code="invalid_rule",
                           detail={"path": "item"})
    current = ent.versions.filter(version=ent.current_version).first()
    if current is not None and current.definition == definition and ent.name == name:
        return ent
    ent.current_version += 1
    ent.name = name
    ent.save(update_fields=["current_version", "name", "updated_at"])
    EntitlementVersion.objects.create(entitlement=ent, version=ent.current_version, definition=definition,
                                      published_by=_label(actor))
    record(actor=actor, action="smart.entitlement.publish", target=ent,
           changes={"code": code, "version": ent.current_version})
    return ent


def _tier(defn: dict, facts: dict, today) -> tuple[str, float]:
    for tier in defn.get("tiers", []):
        if rules.compile_condition(tier["condition"], today=today)(facts) is True:
            return tier["name"], tier["amount"]
    return "", defn.get("amount", 0)


def _assess(ent: Entitlement, version: EntitlementVersion, person, *, today, purpose: str):
    defn = version.definition
    facts, calls = gather(department=ent.department, sources=defn.get("sources", {}),
                          subject={"id_number": person.id_number}, form={}, purpose=purpose)
    outcome, leaves = rules.explain(defn["condition"], facts, today=today)
    tier, amount = _tier(defn, facts, today) if outcome is True else ("", 0)
    used = rules.fact_keys(defn["condition"]).union(*(rules.fact_keys(t["condition"]) for t in defn.get("tiers", [])))
    return outcome is True, leaves, tier, amount, _kept_facts(used, facts), calls


def _decision(*, kind, department, code, version, qualified, leaves, facts, calls, subject, actor) -> Decision:
    failed = rules.first_failure(leaves) if not qualified else None
    reason = ""
    if failed is not None:
        reason = failed.label + ("（缺少数据）" if failed.result is None else "")
    return Decision.objects.create(kind=kind, department=department, rule_code=code, rule_version=version,
                                   qualified=qualified, failed=reason[:200], leaves=[lf.as_dict() for lf in leaves],
                                   facts=facts, messages=calls, subject=subject, actor=_label(actor))


def decide_entitlement(*, actor, entitlement: Entitlement, person, today: datetime.date | None = None) -> Grant | None:
    """Decide for one person on fresh data: a qualifier gets a grant already decided (待确认) and a
    notice with the reason and the data used. Returns the grant, or None if not qualified (the decision
    is still recorded) or if the person already has an open one."""
    require(actor, "smart.manage_rules", department=entitlement.department, include_descendants=False)
    today = today or timezone.localdate()
    version = entitlement.versions.get(version=entitlement.current_version)
    qualified, leaves, tier, amount, facts, calls = _assess(entitlement, version, person, today=today,
                                                            purpose=f"免申即享：{entitlement.name}资格认定")
    defn = version.definition
    try:
        with transaction.atomic():
            decision = _decision(kind=DecisionKind.GRANT, department=entitlement.department, code=entitlement.code,
                                 version=version.version, qualified=qualified, leaves=leaves, facts=facts, calls=calls,
                                 subject=f"person:{person.pk}", actor=actor)
            if not qualified:
                record(actor=actor, action="smart.entitlement.not_qualified", target=decision,
                       changes={"entitlement": entitlement.code, "version": version.version, "failed": decision.failed})
                return None
            grant = Grant.objects.create(
                entitlement=entitlement, version=version.version, department=entitlement.department, person=person,
                user=person.user, tier=tier, amount=amount, unit=defn.get("unit", ""), starts_on=today,
                next_check_on=today + datetime.timedelta(days=defn.get("recheck_days", 30)))
            Decision.objects.filter(pk=decision.pk).update(subject=f"grant:{grant.pk}")
            if person.user_id:
                what = f"{defn['benefit']}{('（' + tier + '）') if tier else ''}：{amount:g}{grant.unit}"
                why = f"依据：{'；'.join(lf.label for lf in leaves)}（{entitlement.code} 第{version.version}版规则）"
                grant.application = _open_case(entitlement, defn, person, f"{what}。{why}。请确认收款账户或选择放弃。",
                                               actor)
                grant.save(update_fields=["application"])
                notify.send(user=person.user, application=grant.application,
                            title=f"您符合{entitlement.name}条件，无需申请",
                            body=f"{what}。{why}。请确认收款账户或选择放弃。")
            record(actor=actor, action="smart.grant.offer", target=grant,
                   changes={"entitlement": entitlement.code, "version": version.version, "decision": decision.pk,
                            "tier": tier, "amount": amount})
            return grant
    except IntegrityError:  # another run offered it meanwhile (one open grant per person and entitlement)
        return None


def _open_case(entitlement: Entitlement, defn: dict, person, reason: str, actor):
    """The grant as a one-stop case, opened already decided under the department's item (None for a rule
    version published before entitlements named their item: its grants stay the smart app's own)."""
    if not defn.get("item"):
        return None
    item = onestop_selectors.department_item(entitlement.department, defn["item"])
    if item is None:
        raise Conflict(f"一网通办事项 {defn['item']} 已不存在", code="entitlement_item_missing")
    return onestop.open_decided_case(actor=actor, item=item, person=person, user=person.user, reason=reason)


@transaction.atomic
def respond_to_grant(*, actor, grant: Grant, accept: bool, bank_name: str = "", bank_account: str = "") -> Grant:
    """The citizen confirms (with the account to pay into) or declines an offered entitlement."""
    require(actor, "smart.respond")
    grant = Grant.objects.select_for_update(of=("self",)).select_related("entitlement").filter(pk=grant.pk).first()
    if grant is None or grant.user_id != actor.pk:
        raise NotFound()
    if grant.status != GrantStatus.OFFERED:
        raise Conflict("该待遇已确认或已结束", code="grant_not_offered")
    if accept:
        bank_name, bank_account = (bank_name or "").strip(), (bank_account or "").replace(" ", "")
        if not bank_name or not (bank_account.isdigit() and 12 <= len(bank_account) <= 30):
            raise InvalidInput("请填写开户银行和12至30位数字的银行账号", code="invalid_bank_account",
                               detail={"bank_account": "银行账号应为12至30位数字"})
        grant.bank_name, grant.bank_account, grant.status = bank_name[:50], bank_account, GrantStatus.ACTIVE
    else:
        grant.status = GrantStatus.DECLINED
    grant.responded_at = timezone.now()
    grant.save(update_fields=["bank_name", "bank_account", "status", "responded_at", "updated_at"])
    if grant.application_id:  # the case ends with the answer: 办结 when confirmed, 已撤回 when declined
        onestop.conclude_decided_case(actor=actor, application=grant.application,
                                      outcome="confirm" if accept else "decline",
                                      opinion=f"收款账户 {bank_name} ****{bank_account[-4:]}" if accept else "申请人放弃该待遇")
    record(actor=actor, action="smart.grant.confirm" if accept else "smart.grant.decline", target=grant,
           changes={"bank_account": f"****{bank_account[-4:]}"} if accept else {})
    return grant


def _end(grant: Grant, reason: str, actor, decision: Decision | None) -> Grant:
    offered = grant.status == GrantStatus.OFFERED
    grant.status, grant.ended_on, grant.end_reason = GrantStatus.ENDED, timezone.localdate(), reason[:200]
    grant.save(update_fields=["status", "ended_on", "end_reason", "updated_at"])
    if offered and grant.application_id:  # not answered yet: the case ends too (a confirmed one is closed)
        onestop.conclude_decided_case(actor=actor, application=grant.application, outcome="end", opinion=reason)
    if grant.user_id:
        notify.send(user=grant.user, title=f"{grant.entitlement.name}已终止", body=f"原因：{reason}")
    record(actor=actor, action="smart.grant.end", target=grant,
           changes={"reason": reason, "decision": decision.pk if decision else None})
    return grant


@transaction.atomic
def end_grant(*, actor, grant: Grant, reason: str) -> Grant:
    """An officer (or an event) ends an open grant, with the reason."""
    require(actor, "smart.manage_rules", department=grant.department, hide=True)
    grant = Grant.objects.select_for_update(of=("self",)).select_related("entitlement", "user").get(pk=grant.pk)
    if grant.status not in OPEN_GRANTS:
        raise Conflict("该待遇已结束", code="grant_closed")
    if not (reason or "").strip():
        raise InvalidInput("请说明终止原因", code="reason_required")
    return _end(grant, reason.strip(), actor, None)


def recheck_grant(*, actor, grant: Grant, today: datetime.date | None = None, why: str = "定期复核") -> Grant:
    """Re-decide an open grant on fresh data under the entitlement's current rule: it ends when the
    person no longer qualifies, moves to another tier when that changed, and is checked again later."""
    require(actor, "smart.manage_rules", department=grant.department, hide=True)
    today = today or timezone.localdate()
    ent = grant.entitlement
    version = ent.versions.get(version=ent.current_version)
    qualified, leaves, tier, amount, facts, calls = _assess(ent, version, grant.person, today=today,
                                                            purpose=f"免申即享：{ent.name}{why}")
    with transaction.atomic():
        grant = Grant.objects.select_for_update(of=("self",)).select_related("entitlement", "user", "person").get(pk=grant.pk)
        if grant.status not in OPEN_GRANTS:
            return grant
        decision = _decision(kind=DecisionKind.RECHECK, department=grant.department, code=ent.code,
                             version=version.version, qualified=qualified, leaves=leaves, facts=facts, calls=calls,
                             subject=f"grant:{grant.pk}", actor=actor)
        if not qualified:
            return _end(grant, f"{why}：不再符合条件（{decision.failed}）", actor, decision)
        changes = {"decision": decision.pk}
        if (tier, float(amount)) != (grant.tier, float(grant.amount)):
            changes.update({"tier": [grant.tier, tier], "amount": [float(grant.amount), amount]})
            grant.tier, grant.amount, grant.version = tier, amount, version.version
            if grant.user_id:
                notify.send(user=grant.user, title=f"{ent.name}标准已调整",
                            body=f"自{today.isoformat()}起按{tier or '基本'}标准发放：{amount:g}{grant.unit}。")
        grant.next_check_on = today + datetime.timedelta(days=version.definition.get("recheck_days", 30))
        grant.save(update_fields=["tier", "amount", "version", "next_check_on", "updated_at"])
        record(actor=actor, action="smart.grant.recheck", target=grant, changes=changes)
    return grant


def screen(*, actor, today: datetime.date | None = None, limit: int = 10_000, department=None) -> dict:
    """The scheduled job (``smartgov smart screen``): for each published entitlement (of ``department``
    only, when given), find people the screen names who have no grant yet and decide for each on
    exchange data; then recheck due grants."""
    if department is not None:
        require(actor, "smart.manage_rules", department=department, include_descendants=False)
    today = today or timezone.localdate()
    counts = {"screened": 0, "candidates": 0, "offered": 0, "not_qualified": 0, "rechecked": 0, "ended": 0}
    entitlements = selectors.published_entitlements()
    if department is not None:
        entitlements = entitlements.filter(department=department)
    for ent in entitlements:
        defn = ent.versions.get(version=ent.current_version).definition
        screened, candidates = selectors.candidates(ent, defn["screen"], today=today, limit=limit)
        counts["screened"] += screened
        counts["candidates"] += len(candidates)
        for person in candidates:
            grant = decide_entitlement(actor=actor, entitlement=ent, person=person, today=today)
            counts["offered" if grant else "not_qualified"] += 1
    for grant in selectors.grants_due(today=today, limit=limit, department=department):
        grant = recheck_grant(actor=actor, grant=grant, today=today)
        counts["rechecked"] += 1
        counts["ended"] += grant.status == GrantStatus.ENDED
    return counts


def handle_exchange_event(event: dict) -> None:
    """In-platform subscriber (``smart.entitlements``): an event that ends an entitlement (death) ends
    the subject's open grants at once; one that may change it (moving, a revoked licence) rechecks them;
    one that may make the subject a new qualifier (a birth registered, a disability certificate issued:
    the entitlement's ``decide_on``) decides for them at once, as the scheduled screen would."""
    actor = system_actor("smart.events")
    event_type, subject = event.get("type", ""), (event.get("subject") or "").strip()
    # the exchange keeps and delivers a person's ID number encrypted or masked: the person is matched
    # through the blind index the event carries (or, for a caller holding the clear number, its index)
    index = event.get("subject_index") or (id_number_index(subject) if is_valid_id_number(subject) else "")
    if not index:
        return
    _end_or_recheck_on_event(event, event_type, index, actor)
    for ent, _defn in selectors.entitlements_deciding_on(event):
        person = selectors.person_to_decide(ent, index)
        if person is not None:  # an event delivered twice (at least once) finds the grant and stops here
            decide_entitlement(actor=actor, entitlement=ent, person=person)


def _end_or_recheck_on_event(event: dict, event_type: str, index: str, actor) -> None:
    for grant in selectors.open_grants_of(index):
        defn = grant.entitlement.versions.get(version=grant.entitlement.current_version).definition
        if event_type in defn.get("ends_on", {}):
            with transaction.atomic():
                locked = Grant.objects.select_for_update(of=("self",)).select_related("entitlement", "user").get(pk=grant.pk)
                if locked.status in OPEN_GRANTS:
                    _end(locked, f"{defn['ends_on'][event_type]}（数据交换事件 {event.get('event_id', '')}）", actor,
                         None)
        elif event_type in defn.get("recheck_on", []):
            recheck_grant(actor=actor, grant=grant, why=f"事件复核（{event_type}）")


# --- 秒批: instant approval -------------------------------------------------------------------------------

@transaction.atomic
def publish_instant_rules(*, actor, item, definition: dict) -> InstantRuleSet:
    """Publish the item's 秒批 rules (a new version, tied to the item's current version)."""
    require(actor, "smart.manage_rules", department=item.department, include_descendants=False, hide=True)
    content = onestop_selectors.current_version(item).parsed
    definitions.check_instant(definition, form_keys={f.key for f in content.fields},
                              answer_keys={s.key for s in content.situations})
    rs, _ = InstantRuleSet.objects.select_for_update().get_or_create(item=item, defaults={"department": item.department})
    rs.current_version += 1
    rs.active = True
    rs.save(update_fields=["current_version", "active", "updated_at"])
    InstantRuleVersion.objects.create(ruleset=rs, version=rs.current_version, item_version=item.current_version,
                                      definition=definition, published_by=_label(actor))
    record(actor=actor, action="smart.instant.publish", target=rs,
           changes={"item": item.implementation_code, "version": rs.current_version,
                    "item_version": item.current_version})
    return rs


def _instant_facts(app: Application, version: InstantRuleVersion) -> tuple[dict, list[dict], dict]:
    form = onestop_selectors.form_values(app, reveal=True)
    person = app.applicant_person
    subject = {"id_number": person.id_number if person else ""}
    facts, calls = gather(department=app.department, sources=version.definition.get("sources", {}), subject=subject,
                          form=form, purpose=f"秒批：{app.item.name}（{app.number}）")
    facts.update({f"form.{k}": v for k, v in form.items()})
    facts.update({f"answers.{k}": v for k, v in (app.answers or {}).items()})
    return facts, calls, form


def _approve_by_rule(app: Application, actor) -> Application:
    """Move the case through the ordinary steps as the platform: prereview, acceptance (the workflow
    instance starts), each review step, the decision, and the result (the e-licence)."""
    app = onestop.start_prereview(actor=actor, application=app)
    app = onestop.accept(actor=actor, application=app, opinion="秒批：符合全部规则")
    for _ in range(10):
        if app.state == State.APPROVED:
            break
        app = onestop.review(actor=actor, application=app, outcome="approve", opinion="秒批：符合全部规则")
    if app.state != State.APPROVED:
        raise Conflict("流程未能自动完成", code="instant_incomplete")
    return onestop.issue_result(actor=actor, application=app)


def instant_approve(*, actor, application: Application) -> InstantApproval | None:
    """Decide a submitted application by its item's published rules: all met → approved and its result
    issued by the platform within the request; any not met (or missing data) → left to the officers'
    normal workflow with the failed rule named. A share of approvals is sampled for 事后抽查."""
    app = Application.objects.select_related("item", "department", "applicant_person", "applicant_user",
                                             "item_version").get(pk=application.pk)
    rs = InstantRuleSet.objects.filter(item=app.item, active=True, current_version__gt=0).first()
    if rs is None or app.state != State.SUBMITTED:
        return None
    require(actor, "smart.manage_rules", department=rs.department, include_descendants=False)
    version = rs.versions.get(version=rs.current_version)
    facts, calls, _form = _instant_facts(app, version)
    today = timezone.localdate()
    leaves, failed = [], ""
    if version.item_version != app.item_version.version:
        failed = "事项已发布新版本，秒批规则尚未随之发布"
    for rule in version.definition["rules"]:
        outcome, rule_leaves = rules.explain(rule["condition"], facts, today=today)
        leaves += rule_leaves
        if outcome is not True and not failed:
            failed = rule["name"] + ("（缺少数据）" if outcome is None else "")
    used = set().union(*(rules.fact_keys(r["condition"]) for r in version.definition["rules"]))
    kept = _kept_facts(used, facts)
    approved = not failed
    if approved:
        try:
            with transaction.atomic():
                app = _approve_by_rule(app, actor)
                return _record_instant(app, rs, version, True, "", leaves, kept, calls, actor)
        except DomainError as exc:  # the process needs a person (e.g. a department head's decision)
            failed = f"流程须人工办理：{exc.message}"
    with transaction.atomic():
        result = _record_instant(app, rs, version, False, failed, leaves, kept, calls, actor)
        if app.applicant_user_id:
            notify.send(user=app.applicant_user, application=app, title=f"{app.item.name}转人工审查",
                        body=f"未满足秒批条件：{failed}。您的申请已进入正常审批流程，无需重新提交。")
    return result


def _record_instant(app, rs, version, approved, failed, leaves, kept, calls, actor) -> InstantApproval:
    decision = Decision.objects.create(kind=DecisionKind.INSTANT, department=rs.department,
                                       rule_code=app.item.implementation_code, rule_version=version.version,
                                       qualified=approved, failed=failed[:200], leaves=[lf.as_dict() for lf in leaves],
                                       facts=kept, messages=calls, subject=f"application:{app.number}",
                                       actor=_label(actor))
    rate = float(version.definition.get("sample_rate", 0.1))
    sampled = approved and random.random() < rate
    seconds = (timezone.now() - app.submitted_at).total_seconds() if approved and app.submitted_at else None
    approval = InstantApproval.objects.create(
        application=app, ruleset=rs, version=version.version, department=rs.department, decision=decision,
        approved=approved, failed_rule=failed[:200], sampled=sampled,
        review_status=ReviewStatus.PENDING if sampled else ReviewStatus.NONE, seconds=seconds)
    record(actor=actor, action="smart.instant.approve" if approved else "smart.instant.fallback", target=approval,
           changes={"application": app.number, "version": version.version, "failed": failed, "sampled": sampled})
    return approval


def instant_approve_after_commit(application_pk: int) -> None:
    """onestop's submitted hook: decide at once, in the submitting request, after its commit."""
    t0 = time.perf_counter()
    app = Application.objects.filter(pk=application_pk).select_related("item").first()
    if app is None or not InstantRuleSet.objects.filter(item_id=app.item_id, active=True).exists():
        return
    instant_approve(actor=system_actor("smart.instant"), application=app)
    log.info("instant approval of %s took %.0f ms", app.number, (time.perf_counter() - t0) * 1000)


@transaction.atomic
def review_sample(*, actor, approval: InstantApproval, revoke: bool, reason: str = "") -> InstantApproval:
    """事后抽查: an officer confirms a sampled instant approval, or revokes it with reasons (the
    licence is revoked and the applicant told why)."""
    require(actor, "smart.review_sample", department=approval.department, hide=True)
    approval = (InstantApproval.objects.select_for_update(of=("self",))
                .select_related("application__result_licence", "application__applicant_user", "application__item")
                .get(pk=approval.pk))
    if approval.review_status != ReviewStatus.PENDING:
        raise Conflict("该办件不在待抽查状态", code="not_pending_review")
    reason = (reason or "").strip()
    if revoke and not reason:
        raise InvalidInput("撤销须说明理由", code="reason_required")
    app = approval.application
    if revoke:
        if app.result_licence_id:
            revoke_licence(actor=actor, licence=app.result_licence, reason=f"秒批事后抽查撤销：{reason}")
        if app.applicant_user_id:
            notify.send(user=app.applicant_user, application=app, title=f"{app.item.name}经抽查被撤销",
                        body=f"理由：{reason}。如不服，可依法申请行政复议或者提起行政诉讼。")
    approval.review_status = ReviewStatus.REVOKED if revoke else ReviewStatus.CONFIRMED
    approval.reviewer, approval.reviewed_at, approval.review_reason = actor, timezone.now(), reason[:500]
    approval.save(update_fields=["review_status", "reviewer", "reviewed_at", "review_reason"])
    record(actor=actor, action="smart.instant.revoke" if revoke else "smart.instant.confirm", target=approval,
           changes={"application": app.number, "reason": reason})
    return approval


# --- 智能预审 ------------------------------------------------------------------------------------------------

@transaction.atomic
def record_prereview(*, actor, kind: str, result, problems: list[dict], stored=None) -> Prereview:
    """Keep what OCR read from an upload and what did not match (the officer sees it beside the file)."""
    require(actor, "smart.prereview")
    pr = Prereview.objects.create(user=actor, stored=stored, kind=kind, fields=result.fields, lines=result.lines,
                                  problems=problems, engine=result.engine, ms=result.ms)
    record(actor=actor, action="smart.prereview", target=pr,
           changes={"kind": kind, "problems": [p["field"] for p in problems]})
    return pr


def prereview_material(*, actor, stored, material_name: str, expected: dict) -> dict | None:
    """onestop's material reviewer (``onestop.hooks.on_material_review``): read an applicant's upload as
    it is chosen on the application form, check it against what the form and the register say, keep the
    result with the stored file (the officer sees it on the case) and return it for the form. None when
    the material is not an ID card or a business licence, or the actor may not use the pre-review."""
    kind = ocr.kind_for_material(material_name)
    if kind is None or not has_perm(actor, "smart.prereview"):
        return None
    unread = {"id": None, "kind": kind, "kind_label": ocr.KINDS[kind], "fields": [], "problems": []}
    if not (stored.content_type.startswith("image/") or stored.content_type == "application/pdf"):
        return {**unread, "unread": "该文件格式不能自动预审，提交后由工作人员人工核对"}
    with stored.file.open("rb") as fh:
        data = fh.read()
    try:
        result = ocr.read_document(data, kind=kind)
    except ocr.UnreadableDocument as exc:
        return {**unread, "unread": f"{exc}，提交后由工作人员人工核对"}
    if kind == "id_card":
        wanted = {"name": expected.get("name", ""), "id_number": expected.get("id_number", "")}
    else:
        wanted = {"name": expected.get("enterprise_name", ""), "uscc": expected.get("uscc", "")}
    problems = ocr.check(kind, result, wanted, today=timezone.localdate())
    return selectors.review_of(record_prereview(actor=actor, kind=kind, result=result, problems=problems, stored=stored))
