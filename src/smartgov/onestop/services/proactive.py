"""免申即享 cases (主动办): the platform found that a person qualifies for a benefit, so the case is
opened already decided (准予办理) with the reason, no application; it ends when the person confirms
(办结) or declines (已撤回), or when the benefit is ended before they answered (办结). Another app
decides (smart's entitlements) and calls these services; officers see the case in their queue and
cannot act on it — the decision is the platform's, the answer the applicant's."""

from django.db import transaction

from smartgov.audit.services import record
from smartgov.core.errors import Conflict, InvalidInput
from smartgov.core.permissions import is_system, require

from .. import selectors
from ..models import Application, Channel, ServiceItem, State
from .applying import _create
from .states import _applicant, _locked, _move, _now, _step

# outcome → (state it leads to, step name)
PROACTIVE_OUTCOMES = {"confirm": (State.CLOSED, "确认领取"), "decline": (State.WITHDRAWN, "放弃"),
                      "end": (State.CLOSED, "终止")}


@transaction.atomic
def open_decided_case(*, actor, item: ServiceItem, person, user, reason: str) -> Application:
    """Open a case already decided for ``person`` (account ``user``) under ``item``: the platform's
    decision (``reason``: which rule, which data) is its first step; the applicant answers it."""
    require(actor, "onestop.handle", department=item.department, include_descendants=False)
    if user is None:
        raise InvalidInput("没有平台账号的人不能建立办件", code="applicant_account_required")
    version = selectors.current_version(item)
    now = _now()
    app = Application(item=item, item_version=version, department=item.department, applicant_user=user,
                      applicant_person=person, applicant_name=person.name, channel=Channel.UNASKED,
                      state=State.APPROVED, state_since=now, submitted_at=now, decided_at=now,
                      decision_reason=reason[:2000], visits=0)
    _create(app, [])
    _step(app, "proactive_decide", actor=actor, step="免申即享认定", opinion=reason[:2000], started_at=now).save()
    record(actor=actor, action="onestop.application.proactive", target=app,
           changes={"item": item.pk, "version": version.version, "state": app.state})
    return app


@transaction.atomic
def conclude_decided_case(*, actor, application: Application, outcome: str, opinion: str = "") -> Application:
    """The applicant confirms (办结) or declines (已撤回) a 免申即享 case; the deciding department or the
    platform ends one not yet answered (办结, with the reason)."""
    if outcome not in PROACTIVE_OUTCOMES:
        raise InvalidInput("未知的办理结果", code="invalid_outcome")
    app = _locked(application)
    if outcome in ("confirm", "decline"):
        if not is_system(actor):
            _applicant(actor, app)
    else:
        require(actor, "onestop.handle", department=app.department, include_descendants=False, hide=True)
    if app.channel != Channel.UNASKED or app.state != State.APPROVED:
        raise Conflict(f"办件当前状态为“{State(app.state).label}”，不能{PROACTIVE_OUTCOMES[outcome][1]}",
                       code="illegal_transition", detail={"state": app.state, "action": outcome})
    state, step = PROACTIVE_OUTCOMES[outcome]
    app.closed_at = _now()
    return _move(app, f"proactive_{outcome}", state, actor=actor, opinion=opinion[:2000], step=step,
                 fields=("closed_at",))
