"""The case actions (办件): prereview, supplement, acceptance, review on the workflow engine, special
procedures, the result, delivery, closing and withdrawal. Review steps run on the workflow engine, whose
clock is the statutory one (stopped during 补正 and special procedures)."""

from django.db import transaction
from django.utils import timezone

from smartgov.core.errors import Conflict, Forbidden, InvalidInput
from smartgov.core.permissions import require
from smartgov.core.validators import org_code_check_char, uscc_check_char
from smartgov.identity.services import register_enterprise
from smartgov.licences.models import LicenceType
from smartgov.licences.services import issue_licence
from smartgov.workflow import services as workflow
from smartgov.workflow.models import InstanceStatus, Outcome
from smartgov.workflow.selectors import actionable_task

from .. import hooks, selectors
from ..models import Application, ApplicationMaterial, MaterialSource, NoticeKind, State, Submission, TrustLevel
from ..notices import issue_notice
from .applying import _field_errors, _stored_for
from .states import (
    DELIVERY_METHODS,
    SPECIAL_PROCEDURES,
    _applicant,
    _guard,
    _locked,
    _move,
    _now,
    _officer,
    _step,
    _tell,
)


@transaction.atomic
def submit_draft(*, actor, application: Application) -> Application:
    app = _locked(application)
    _applicant(actor, app)
    _guard(app, "submit")
    content = app.item_version.parsed
    errors = _field_errors(content, app.answers, selectors.form_values(app, reveal=True))
    errors.update({f"materials.{m.key}": f"请提供{m.name}" for m in app.materials.all()
                   if m.required and m.source == MaterialSource.MISSING})
    if hooks.VALIDATORS:
        errors.update(hooks.validate(item=app.item, form=selectors.form_values(app, reveal=True),
                                     enterprise=app.applicant_enterprise, actor=actor))
    if errors:
        raise InvalidInput("申请内容有误，请按提示修改", code="application_invalid", detail=errors)
    app.submitted_at = _now()
    _move(app, "submit", State.SUBMITTED, actor=actor, fields=("submitted_at",))
    _tell(app, f"您的{app.item.name}申请已提交", f"办件编号 {app.number}")
    if app.submission_id is None:
        hooks.submitted(app.pk)
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


@transaction.atomic
def review(*, actor, application: Application, outcome: str, opinion: str = "") -> Application:
    """审查/决定: act on the case's open workflow step that is the actor's."""
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
                    uscc=_new_uscc(app), legal_representative=person,
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
