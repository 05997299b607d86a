"""续租、退租 as cases on the shared workflow engine: the lease changes only when the case is approved.

A renewal (``request_renewal``: a later end date) runs 续租审核 (officer) → 续租审批 (department admin);
a move-out (``request_move_out``: the day) runs 现场验收 (officer: inspection notes and damages) → 押金结算
(officer: other deductions) → 退租审批 (department admin). Each step is ``act_on_lease_change`` on the
caller's open task; 不同意 at any step ends the case and leaves the lease as it was. On approval the last
step calls the lease services: ``renew_lease`` or ``end_lease`` followed by the deposit settlement (the
deposit pays the outstanding bills, oldest first, through ``record_payment``; damages and deductions come
off the rest; what is left is refunded). One open case per lease (the lease row is locked, and a partial
unique constraint backs it)."""

from datetime import date, timedelta
from decimal import Decimal

from django.db import IntegrityError, transaction
from django.utils import timezone

from smartgov.audit.services import record
from smartgov.core.errors import Conflict, Forbidden, InvalidInput
from smartgov.core.permissions import require, system_actor, user_of
from smartgov.workflow import services as workflow
from smartgov.workflow.models import InstanceStatus, Outcome, Process
from smartgov.workflow.selectors import actionable_task

from .. import billing, selectors
from ..models import Bill, BillStatus, Lease, LeaseChange, LeaseChangeKind, LeaseChangeStatus, LeaseStatus

TIME_LIMIT_DAYS = 5  # working days for either case (the operator's own service promise)
MAX_RENEWAL_YEARS = 10
PROCESSES = {
    "park_lease_renewal": ("园区续租审批", {"stages": [
        {"name": "审核", "steps": [{"key": "review", "name": "续租审核", "role": "officer"}]},
        {"name": "审批", "steps": [{"key": "approve", "name": "续租审批", "role": "dept_admin"}]}]}),
    "park_move_out": ("园区退租（验收、押金结算）", {"stages": [
        {"name": "现场验收", "steps": [{"key": "inspect", "name": "现场验收", "role": "officer"}]},
        {"name": "押金结算", "steps": [{"key": "settle", "name": "押金结算", "role": "officer"}]},
        {"name": "审批", "steps": [{"key": "approve", "name": "退租审批", "role": "dept_admin"}]}]}),
}
PROCESS_OF = {LeaseChangeKind.RENEWAL: "park_lease_renewal", LeaseChangeKind.MOVE_OUT: "park_move_out"}
TITLES = {LeaseChangeKind.RENEWAL: "续租", LeaseChangeKind.MOVE_OUT: "退租"}  # stored: not in the caller's language


def _money(value, name) -> Decimal:
    from . import _money as money  # noqa: PLC0415 — cycle: park.services.lease_changes <-> park.services._money  # the park's one money parser

    return money(value, name)


def ensure_processes() -> None:
    """Define the park's two processes on the workflow engine if they are not there yet (idempotent)."""
    have = set(Process.objects.filter(code__in=PROCESSES).values_list("code", flat=True))
    for code, (name, definition) in PROCESSES.items():
        if code not in have:
            workflow.define_process(actor=system_actor("park.processes"), code=code, name=name, definition=definition)


def _require_requester(actor, lease: Lease) -> None:
    """Who may ask for a renewal or a move-out, or withdraw the request: the operator's lease staff of the
    park's department, or the tenant enterprise's legal representative (from 我的园区: the one-stop rule for
    acting in an enterprise's name). To anyone else the lease does not exist."""
    if selectors.represents(actor, lease.enterprise):
        return
    require(actor, "park.lease", department=lease.park.department, hide=True)


def _locked_active_lease(lease: Lease) -> Lease:
    locked = Lease.objects.select_for_update().select_related("park__department", "enterprise").get(pk=lease.pk)
    if locked.status != LeaseStatus.ACTIVE:
        raise Conflict("合同已退租", code="lease_ended")
    if LeaseChange.objects.filter(lease=locked, status=LeaseChangeStatus.RUNNING).exists():
        raise Conflict("该合同已有办理中的续租或退租申请", code="lease_change_open")
    return locked


def _start(*, actor, lease: Lease, kind: str, context: dict, **fields) -> LeaseChange:
    ensure_processes()
    try:
        with transaction.atomic():  # savepoint: the constraint answers a race the lock did not
            change = LeaseChange.objects.create(park=lease.park, lease=lease, kind=kind, requested_by=user_of(actor),
                                                **fields)
    except IntegrityError:
        raise Conflict("该合同已有办理中的续租或退租申请", code="lease_change_open") from None
    change.instance = instance = workflow.start_instance(
        actor=actor, process_code=PROCESS_OF[kind], subject=f"park.lease_change:{change.pk}",
        title=f"{TITLES[kind]}（{lease.enterprise.name} {lease.code}）", department=lease.park.department,
        context=context, time_limit_days=TIME_LIMIT_DAYS)
    change.save(update_fields=["instance"])
    record(actor=actor, action=f"park.lease_change.{kind}", target=change,
           changes={"lease": lease.code, "due_on": instance.due_on, **context})
    return change


def _new_terms(monthly_rent, escalation_pct) -> tuple[Decimal | None, Decimal | None]:
    """A renewal's new terms, each optional: the monthly rent (> 0) and the escalation (0–100 %)."""
    rent = esc = None
    if monthly_rent not in (None, ""):
        rent = _money(monthly_rent, "续租月租金")
        if rent <= 0:
            raise InvalidInput("续租月租金应大于0", code="invalid_amount")
    if escalation_pct not in (None, ""):
        try:
            esc = Decimal(str(escalation_pct)).quantize(Decimal("0.01"))
        except (ArithmeticError, ValueError):
            esc = None
        if esc is None or not Decimal(0) <= esc <= Decimal(100):
            raise InvalidInput("递增比例应为 0～100", code="invalid_escalation")
    return rent, esc


@transaction.atomic
def request_renewal(*, actor, lease: Lease, end_date: date, reason: str = "", monthly_rent=None,
                    escalation_pct=None) -> LeaseChange:
    """续租申请: the lease to run until ``end_date`` — on its terms (rent and escalation continue), or at a new
    monthly rent and/or escalation from the first period after the current end; the bills of the added months
    are issued when the case is approved. Asked by the operator or by the tenant."""
    _require_requester(actor, lease)
    locked = _locked_active_lease(lease)
    if not isinstance(end_date, date) or end_date <= locked.end_date:
        raise InvalidInput("续租到期日应晚于原到期日", code="invalid_renewal_end")
    if end_date > billing.add_months(locked.end_date, 12 * MAX_RENEWAL_YEARS):
        raise InvalidInput(f"续租期不超过{MAX_RENEWAL_YEARS}年", code="invalid_renewal_end")
    rent, esc = _new_terms(monthly_rent, escalation_pct)
    context = {"end_date": end_date.isoformat()}
    if rent is not None:
        context["monthly_rent"] = str(rent)
    if esc is not None:
        context["escalation_pct"] = str(esc)
    return _start(actor=actor, lease=locked, kind=LeaseChangeKind.RENEWAL, new_end_date=end_date,
                  new_monthly_rent=rent, new_escalation_pct=esc, reason=reason.strip()[:500], context=context)


@transaction.atomic
def request_move_out(*, actor, lease: Lease, move_out_on: date, reason: str = "") -> LeaseChange:
    """退租申请 for ``move_out_on`` (within the term): inspection and deposit settlement follow. Asked by the
    operator or by the tenant."""
    _require_requester(actor, lease)
    locked = _locked_active_lease(lease)
    if not isinstance(move_out_on, date) or not locked.start_date <= move_out_on <= locked.end_date:
        raise InvalidInput("退租日应在租期之内", code="invalid_end")
    return _start(actor=actor, lease=locked, kind=LeaseChangeKind.MOVE_OUT, move_out_on=move_out_on,
                  reason=reason.strip()[:500], context={"move_out_on": move_out_on.isoformat()})


def _locked_change(change: LeaseChange) -> LeaseChange:
    return (LeaseChange.objects.select_for_update(of=("self",))
            .select_related("park__department", "lease__enterprise", "instance").get(pk=change.pk))


@transaction.atomic
def act_on_lease_change(*, actor, change: LeaseChange, outcome: str, opinion: str = "", inspection: str = "",
                        damages=0, deductions=0) -> LeaseChange:
    """Complete the caller's open step (同意/不同意 with an opinion). 现场验收 records the inspection notes
    (required when agreeing) and damages; 押金结算 other deductions. After the last step the lease changes."""
    require(actor, "park.lease", department=change.park.department, hide=True)
    change = _locked_change(change)
    if change.status != LeaseChangeStatus.RUNNING:
        raise Conflict("该申请已办结", code="lease_change_closed")
    task = actionable_task(actor, change.instance)
    if task is None:
        raise Forbidden("当前环节不由您办理", code="not_task_actor")
    if outcome not in Outcome.values:
        raise InvalidInput("办理意见应为同意或不同意", code="invalid_outcome")
    fields = []
    if task.step_key == "inspect" and outcome == Outcome.APPROVE:
        if not inspection.strip():
            raise InvalidInput("请填写现场验收意见", code="inspection_required")
        change.inspection, change.damages = inspection.strip()[:2000], _money(damages or 0, "损坏赔偿")
        fields += ["inspection", "damages"]
    elif task.step_key == "settle" and outcome == Outcome.APPROVE:
        change.deductions = _money(deductions or 0, "其他扣款")
        fields.append("deductions")
    instance = change.instance = workflow.complete_task(actor=actor, task=task, outcome=outcome, opinion=opinion)
    if fields:
        change.save(update_fields=[*fields, "updated_at"])
    record(actor=actor, action="park.lease_change.act", target=change,
           changes={"step": task.step_key, "outcome": outcome,
                    **({k: getattr(change, k) for k in fields})})
    if instance.status == InstanceStatus.COMPLETED:
        _conclude(actor=actor, change=change, instance=instance)
    return change


def _conclude(*, actor, change: LeaseChange, instance) -> None:
    change.decided_at = timezone.now()
    if instance.outcome != Outcome.APPROVE:
        change.status = LeaseChangeStatus.REJECTED
        change.save(update_fields=["status", "decided_at", "updated_at"])
        record(actor=actor, action="park.lease_change.reject", target=change, changes={"reason": instance.reason})
        return
    from . import end_lease  # noqa: PLC0415 — cycle: park.services.lease_changes <-> park.services.end_lease

    if change.kind == LeaseChangeKind.RENEWAL:
        renew_lease(actor=actor, lease=change.lease, end_date=change.new_end_date,
                    monthly_rent=change.new_monthly_rent, escalation_pct=change.new_escalation_pct)
    else:
        lease = end_lease(actor=actor, lease=change.lease, ended_on=change.move_out_on)
        change.settlement = _settle_deposit(actor=actor, lease=lease, damages=change.damages,
                                            deductions=change.deductions)
    change.status = LeaseChangeStatus.APPROVED
    change.save(update_fields=["status", "decided_at", "settlement", "updated_at"])
    record(actor=actor, action="park.lease_change.approve", target=change, changes={"settlement": change.settlement})


def _settle_deposit(*, actor, lease: Lease, damages: Decimal, deductions: Decimal) -> dict:
    """押金结算: the deposit pays what is still owed on the lease (oldest bill first), then damages and other
    deductions; the rest is refunded, or what the deposit did not cover is still due."""
    from . import record_payment  # noqa: PLC0415 — cycle: park.services.lease_changes <-> park.services.record_payment

    left = lease.deposit
    owed = list(Bill.objects.filter(lease=lease).exclude(status=BillStatus.PAID).order_by("period_start"))
    arrears = sum((b.amount - b.paid for b in owed), Decimal(0))
    applied = Decimal(0)
    for bill in owed:
        pay = min(left, bill.amount - bill.paid)
        if pay <= 0:
            break
        record_payment(actor=actor, bill=bill, amount=pay)
        left -= pay
        applied += pay
    charges = damages + deductions
    refund = max(left - charges, Decimal(0))
    due = (arrears - applied) + max(charges - left, Decimal(0))
    return {"deposit": str(lease.deposit), "arrears": str(arrears), "applied_to_bills": str(applied),
            "damages": str(damages), "deductions": str(deductions), "refund": str(refund), "still_due": str(due)}


@transaction.atomic
def cancel_lease_change(*, actor, change: LeaseChange, reason: str) -> LeaseChange:
    """撤销 a running case (the enterprise changed its mind — the operator records it, or the tenant withdraws
    it from 我的园区): the lease stays as it was."""
    _require_requester(actor, change.lease)
    change = _locked_change(change)
    if change.status != LeaseChangeStatus.RUNNING:
        raise Conflict("该申请已办结", code="lease_change_closed")
    if not reason.strip():
        raise InvalidInput("请填写撤销理由", code="reason_required")
    change.instance = workflow.cancel(actor=actor, instance=change.instance, reason=reason.strip())
    change.status, change.decided_at = LeaseChangeStatus.CANCELLED, timezone.now()
    change.save(update_fields=["status", "decided_at", "updated_at"])
    record(actor=actor, action="park.lease_change.cancel", target=change, changes={"reason": reason.strip()})
    return change


@transaction.atomic
def renew_lease(*, actor, lease: Lease, end_date: date, monthly_rent: Decimal | None = None,
                escalation_pct: Decimal | None = None) -> Lease:
    """续租 (the last step of an approved renewal case): the term runs on to ``end_date``. On the lease's terms
    the rent keeps escalating from the original start; with a new ``monthly_rent`` or ``escalation_pct`` those
    apply from the first period starting after the old end, escalating afresh from there (a rent step, see
    billing.py). The added periods are billed. A last period the old end cut short is billed in full now, on
    the old terms (what was paid on it stays paid)."""
    require(actor, "park.lease", department=lease.park.department, hide=True)
    locked = Lease.objects.select_for_update().get(pk=lease.pk)
    if locked.status != LeaseStatus.ACTIVE:
        raise Conflict("合同已退租", code="lease_ended")
    if end_date <= locked.end_date:
        raise InvalidInput("续租到期日应晚于原到期日", code="invalid_renewal_end")
    old_end = locked.end_date
    free = [(date.fromisoformat(a), date.fromisoformat(b)) for a, b in locked.rent_free]
    steps = billing.steps_of(locked)
    new_step = None
    if monthly_rent is not None or escalation_pct is not None:
        current = billing.periods(start=locked.start_date, end=end_date, monthly_rent=locked.monthly_rent,
                                  escalation_pct=locked.escalation_pct,
                                  escalation_every_months=locked.escalation_every_months, steps=steps)
        first_new = next(p for p in current if p.start > old_end)  # end_date > old_end: there is one
        last_terms = steps[-1] if steps else None
        new_step = billing.RentStep(
            start=first_new.start,
            monthly_rent=monthly_rent if monthly_rent is not None else first_new.rent,
            escalation_pct=(escalation_pct if escalation_pct is not None else
                            last_terms.escalation_pct if last_terms else locked.escalation_pct),
            escalation_every_months=last_terms.escalation_every_months if last_terms else locked.escalation_every_months)
        steps = [*steps, new_step]
    free = [(date.fromisoformat(a), date.fromisoformat(b)) for a, b in locked.rent_free]
    periods = billing.periods(start=locked.start_date, end=end_date, monthly_rent=locked.monthly_rent,
                              escalation_pct=locked.escalation_pct,
                              escalation_every_months=locked.escalation_every_months, rent_free=free, steps=steps)
    offset = timedelta(0)
    first = locked.bills.order_by("period_start").first()
    if first is not None:
        offset = first.due_date - first.period_start  # the lease's own due-day offset
    by_start = {b.period_start: b for b in locked.bills.filter(period_end__gte=old_end)}
    new, extended = [], 0
    for p in periods:
        if p.start > old_end:
            new.append(Bill(lease=locked, period_start=p.start, period_end=p.end, due_date=p.start + offset,
                            amount=p.amount, status=BillStatus.PAID if p.amount == 0 else BillStatus.UNPAID))
        elif (bill := by_start.get(p.start)) is not None and bill.period_end < p.end:
            bill.period_end, bill.amount = p.end, p.amount
            bill.status = (BillStatus.PAID if bill.paid >= p.amount else
                           BillStatus.PARTIAL if bill.paid > 0 else BillStatus.UNPAID)
            bill.save(update_fields=["period_end", "amount", "status"])
            extended += 1
    Bill.objects.bulk_create(new)
    locked.end_date = end_date
    fields = ["end_date", "updated_at"]
    if new_step is not None:
        locked.rent_steps = [*(locked.rent_steps or []), new_step.as_json()]
        fields.append("rent_steps")
    locked.save(update_fields=fields)
    record(actor=actor, action="park.lease.renew", target=locked,
           changes={"end": [old_end, end_date], "bills": len(new), "extended": extended,
                    **({"rent_step": new_step.as_json()} if new_step else {}),
                    "total": sum((b.amount for b in new), Decimal(0))})
    return locked
