"""The case state machine (办件状态): which action may be taken from which state, and the helpers every
case action shares (lock, guard, move with its step and audit entry, tell the applicant).

An action is allowed only from the listed states; anything else is a ``Conflict`` with code
``illegal_transition`` (HTTP 409).
"""

from django.utils import timezone

from smartgov.audit.services import record
from smartgov.core.errors import Conflict, NotFound
from smartgov.core.permissions import require

from .. import notify
from ..models import Application, CaseStep, Channel, State

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


def _step(app: Application, action: str, *, actor, opinion: str = "", step: str | None = None,
          started_at=None) -> CaseStep:
    return CaseStep(application=app, step=step or STEP_NAMES.get(action, action), action=action, opinion=opinion,
                    actor=actor if getattr(actor, "pk", None) else None,
                    actor_name=getattr(actor, "name", "") or "系统", state_after=app.state,
                    started_at=started_at or app.state_since, ended_at=_now())


def _locked(app: Application) -> Application:
    return (Application.objects.select_for_update(of=("self",))
            .select_related("item", "item_version", "department", "instance", "applicant_user")
            .get(pk=app.pk))


def _guard(app: Application, action: str) -> None:
    if app.channel == Channel.UNASKED:  # the platform decided it; only the applicant's answer moves it
        raise Conflict(f"免申即享办件由申请人确认或放弃，不能{STEP_NAMES[action]}", code="proactive_case",
                       detail={"state": app.state, "action": action})
    allowed, _target = TRANSITIONS[action]
    if app.state not in allowed:
        raise Conflict(f"办件当前状态为“{State(app.state).label}”，不能{STEP_NAMES[action]}",
                       code="illegal_transition", detail={"state": app.state, "action": action})


def _officer(actor, app: Application) -> None:
    require(actor, "onestop.handle", department=app.department, include_descendants=False, hide=True)


def _applicant(actor, app: Application) -> None:
    if not actor.is_authenticated or app.applicant_user_id != actor.pk:
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
