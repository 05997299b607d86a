"""Reads of the smart app: whom to ask about (the screens), grants and decisions in a user's scope,
sampled approvals, the rule test panel, and the measures and overview indicators."""

import datetime

from django.db.models import Count, Q
from django.urls import reverse
from django.utils import timezone

from smartgov.core.errors import NotFound
from smartgov.core.indicators import check_scope, indicator
from smartgov.core.masking import mask_id_number
from smartgov.core.permissions import require, scope
from smartgov.identity.models import Person
from smartgov.identity.selectors import person_by_id_number_index
from smartgov.licences.models import Licence, LicenceStatus
from smartgov.onestop import selectors as onestop_selectors
from smartgov.onestop.models import Application, State

from . import definitions, ocr, rules
from .models import (
    OPEN_GRANTS,
    Decision,
    DecisionKind,
    Entitlement,
    Grant,
    GrantStatus,
    InstantApproval,
    InstantRuleSet,
    Prereview,
    ReviewStatus,
)


def published_entitlements():
    return Entitlement.objects.filter(active=True, current_version__gt=0).select_related("department").order_by("pk")


def register_rows(chunk: int = 20_000):
    """The register's non-personal columns for screening: (pk, birth date, region, sex). Only whom to ask
    about is chosen from them; every decision rests on data fetched through the exchange."""
    return Person.objects.values_list("pk", "birth_date", "region_code", "sex").order_by().iterator(chunk_size=chunk)


def screen_register(cond: dict, *, today: datetime.date, rows) -> tuple[int, list[int]]:
    """Evaluate a register screen over ``rows`` (tuples as ``register_rows`` yields); returns how many
    were looked at and the pks that pass. One compiled closure and a reused dict per row."""
    test = rules.compile_condition(cond, today=today)
    used = rules.fact_keys(cond)
    facts: dict = {}
    hits, n = [], 0
    birth_key = "register.birth_date" if "register.birth_date" in used else "_"
    region_key = "register.region_code" if "register.region_code" in used else "_"
    sex_key = "register.sex" if "register.sex" in used else "_"
    for pk, birth, region, sex in rows:  # only the columns the rule names are put in (one reused dict)
        facts[birth_key] = birth
        facts[region_key] = region
        facts[sex_key] = sex
        n += 1
        if test(facts) is True:
            hits.append(pk)
    return n, hits


def candidates(ent: Entitlement, screen: dict, *, today: datetime.date, limit: int) -> tuple[int, list[Person]]:
    """People the entitlement's screen names who have never had a grant of it."""
    had = set(Grant.objects.filter(entitlement=ent).values_list("person_id", flat=True))
    if "register" in screen:
        n, pks = screen_register(screen["register"], today=today, rows=register_rows())
    else:
        pks = list(Licence.objects.filter(licence_type__code=screen["licence"], status=LicenceStatus.VALID,
                                          holder_person__isnull=False).values_list("holder_person_id", flat=True))
        n = len(pks)
    new = [pk for pk in dict.fromkeys(pks) if pk not in had][:limit]
    people = Person.objects.select_related("user").in_bulk(new)
    return n, [people[pk] for pk in new if pk in people]


def grants_due(*, today: datetime.date, limit: int, department=None):
    qs = Grant.objects.filter(status__in=OPEN_GRANTS, next_check_on__lte=today)
    if department is not None:
        qs = qs.filter(department=department)
    return list(qs.select_related("entitlement", "person", "user").order_by("next_check_on", "pk")[:limit])


def open_grants_of(id_index: str) -> list[Grant]:
    """Open grants of the person whose ID number has the blind index ``id_index`` (an exchange event's)."""
    person = person_by_id_number_index(Person.objects.all(), id_index).first()
    if person is None:
        return []
    return list(Grant.objects.filter(person=person, status__in=OPEN_GRANTS).select_related("entitlement", "person"))


def entitlements_deciding_on(event: dict) -> list[tuple[Entitlement, dict]]:
    """Published entitlements (with their current rule) whose ``decide_on`` names this event — its type,
    and the event data values the rule asks for (``{"licence.issued": {"type_code": "CJRZ"}}``) — of the
    department the event was delivered for (all departments when the event does not say)."""
    ents = published_entitlements()
    if event.get("consumer"):
        ents = ents.filter(department_id=event["consumer"])
    data, out = event.get("data") or {}, []
    for ent in ents:
        defn = ent.versions.get(version=ent.current_version).definition
        wanted = defn.get("decide_on", {}).get(event.get("type", ""))
        if wanted is not None and all(data.get(k) == v for k, v in wanted.items()):
            out.append((ent, defn))
    return out


def person_to_decide(entitlement: Entitlement, id_index: str) -> Person | None:
    """The register person whose ID number has the blind index ``id_index``, unless they already hold an
    open grant of it."""
    person = person_by_id_number_index(Person.objects.select_related("user"), id_index).first()
    if person is None or Grant.objects.filter(entitlement=entitlement, person=person, status__in=OPEN_GRANTS).exists():
        return None
    return person


# --- citizens ----------------------------------------------------------------------------------------------

def grants_of_user(user):
    return (Grant.objects.filter(user=user).select_related("entitlement", "department", "application")
            .order_by("-created_at", "-pk"))


def grant_of_user(user, grant_id: int) -> Grant:
    grant = (Grant.objects.select_related("entitlement", "department", "person", "application")
             .filter(pk=grant_id, user=user).first())
    if grant is None:
        raise NotFound()
    return grant


def decisions_of(grant: Grant):
    return list(Decision.objects.filter(subject=f"grant:{grant.pk}").order_by("at", "pk"))


# --- officers ----------------------------------------------------------------------------------------------

def entitlements_for(actor):
    require(actor, "smart.view")
    return (scope(actor, Entitlement.objects.select_related("department"))
            .annotate(active_grants=Count("grants", filter=Q(grants__status=GrantStatus.ACTIVE)),
                      offered=Count("grants", filter=Q(grants__status=GrantStatus.OFFERED)))
            .order_by("department__path", "code"))


def entitlement_for(actor, code: str) -> Entitlement:
    ent = Entitlement.objects.select_related("department").filter(code=code).first()
    if ent is None:
        raise NotFound()
    require(actor, "smart.view", department=ent.department, hide=True)
    return ent


def grants_for(actor, *, entitlement: Entitlement | None = None, status: str = ""):
    require(actor, "smart.view")
    qs = scope(actor, Grant.objects.select_related("entitlement", "person", "department", "application")).order_by(
        "-created_at", "-pk")
    if entitlement is not None:
        qs = qs.filter(entitlement=entitlement)
    if status:
        qs = qs.filter(status=status)
    return qs


def grant_for(actor, grant_id: int) -> Grant:
    grant = Grant.objects.select_related("entitlement", "person", "department", "application").filter(pk=grant_id).first()
    if grant is None:
        raise NotFound()
    require(actor, "smart.view", department=grant.department, hide=True)
    return grant


def rulesets_for(actor):
    require(actor, "smart.view")
    return (scope(actor, InstantRuleSet.objects.select_related("item", "department"))
            .annotate(approved=Count("approvals", filter=Q(approvals__approved=True)),
                      fallback=Count("approvals", filter=Q(approvals__approved=False)))
            .order_by("item__name"))


def ruleset_for(actor, ruleset_id: int) -> InstantRuleSet:
    rs = InstantRuleSet.objects.select_related("item", "department").filter(pk=ruleset_id).first()
    if rs is None:
        raise NotFound()
    require(actor, "smart.view", department=rs.department, hide=True)
    return rs


def approvals_for(actor, *, pending: bool = False):
    require(actor, "smart.view")
    qs = scope(actor, InstantApproval.objects.select_related("application__item", "decision", "department"))
    if pending:
        qs = qs.filter(review_status=ReviewStatus.PENDING)
    return qs.order_by("-created_at", "-pk")


def approval_for(actor, approval_id: int) -> InstantApproval:
    a = (InstantApproval.objects.select_related("application__item", "application__result_licence", "decision",
                                                "department").filter(pk=approval_id).first())
    if a is None:
        raise NotFound()
    require(actor, "smart.view", department=a.department, hide=True)
    return a


def instant_of_application(app) -> InstantApproval | None:
    return InstantApproval.objects.select_related("decision").filter(application=app).first()


def trial_run(actor, item, definition: dict, *, limit: int = 50) -> dict:
    """The rule editor's test panel: run draft rules against the item's past cases, on the data those
    cases carried (their form, and the exchange data recorded by an earlier 秒批 decision) — no new calls.
    Returns per-case outcomes and the count that would be approved."""
    require(actor, "smart.manage_rules", department=item.department, include_descendants=False, hide=True)

    content = onestop_selectors.current_version(item).parsed
    definitions.check_instant(definition, form_keys={f.key for f in content.fields},
                              answer_keys={s.key for s in content.situations})
    apps = list(Application.objects.filter(item=item).exclude(state=State.DRAFT)
                .select_related("item").order_by("-pk")[:limit])
    earlier = {d.subject: d.facts for d in Decision.objects.filter(
        kind=DecisionKind.INSTANT, subject__in=[f"application:{a.number}" for a in apps])}
    today = timezone.localdate()
    rows, would = [], 0
    for app in apps:
        facts = dict(earlier.get(f"application:{app.number}", {}))
        facts.update({f"form.{k}": v for k, v in onestop_selectors.form_values(app, reveal=False).items()})
        facts.update({f"answers.{k}": v for k, v in (app.answers or {}).items()})
        failed = ""
        for rule in definition["rules"]:
            outcome, _ = rules.explain(rule["condition"], facts, today=today)
            if outcome is not True:
                failed = rule["name"] + ("（缺少数据）" if outcome is None else "")
                break
        would += not failed
        rows.append({"number": app.number, "state": app.get_state_display(), "approved": not failed,
                     "failed": failed})
    return {"cases": len(rows), "would_approve": would, "rows": rows}


# --- measures --------------------------------------------------------------------------------------------

def measures(department) -> dict:
    """免申即享 share, 秒批 share, sampling results and pre-review catches for ``department`` and below
    (four queries)."""
    path = department.path
    g = Grant.objects.filter(department__path__startswith=path).aggregate(
        total=Count("id"), active=Count("id", filter=Q(status=GrantStatus.ACTIVE)),
        offered=Count("id", filter=Q(status=GrantStatus.OFFERED)),
        declined=Count("id", filter=Q(status=GrantStatus.DECLINED)), ended=Count("id", filter=Q(status=GrantStatus.ENDED)))
    i = InstantApproval.objects.filter(department__path__startswith=path).aggregate(
        total=Count("id"), approved=Count("id", filter=Q(approved=True)), sampled=Count("id", filter=Q(sampled=True)),
        reviewed=Count("id", filter=Q(review_status__in=[ReviewStatus.CONFIRMED, ReviewStatus.REVOKED])),
        revoked=Count("id", filter=Q(review_status=ReviewStatus.REVOKED)),
        pending=Count("id", filter=Q(review_status=ReviewStatus.PENDING)))
    submitted = Application.objects.filter(department__path__startswith=path).exclude(state=State.DRAFT).count()
    p = Prereview.objects.aggregate(total=Count("id"), caught=Count("id", filter=~Q(problems=[])))
    share = lambda n, d: round(100 * n / d, 1) if d else None  # noqa: E731
    return {"grants": g, "instant": i, "submitted": submitted, "prereview": p,
            "instant_share": share(i["approved"], submitted), "revocation_rate": share(i["revoked"], i["reviewed"]),
            "granted_without_application": g["total"]}


def indicators(*, actor, department) -> list[dict]:
    """用数赋智 figures of ``department`` and below (docs/overview.md), in a constant number of queries."""
    check_scope(actor, department)
    m = measures(department)
    common = {"app": "smart", "department": department}
    return [
        indicator(key="granted_without_application", name="免申即享人次", name_en="Entitlements granted unasked",
                  unit="人", value=m["grants"]["total"] - m["grants"]["declined"], url=reverse("smart:entitlements"),
                  **common),
        indicator(key="instant_share", name="秒批占比", name_en="Share approved instantly", unit="%",
                  value=m["instant_share"], url=reverse("smart:approvals"), **common),
        indicator(key="revocation_rate", name="秒批抽查撤销率", name_en="Revoked on sampling", unit="%",
                  value=m["revocation_rate"], url=reverse("smart:approvals"), **common),
        indicator(key="sampling_pending", name="待抽查秒批件", name_en="Instant approvals awaiting review", unit="件",
                  value=m["instant"]["pending"], url=reverse("smart:approvals"), **common),
    ]


# --- 智能预审 ------------------------------------------------------------------------------------------------

def review_of(pr: Prereview) -> dict:
    """A kept pre-review as onestop shows it (``onestop.hooks``): each field read, with its problem."""
    problems = {p["field"]: p["message"] for p in pr.problems}
    fields = []
    for key, label in ocr.FIELD_LABELS.get(pr.kind, {}).items():
        value = pr.fields.get(key, "")
        if key == "seal":
            value = "未见" if "seal" in problems else "有"
        elif key == "id_number" and value:
            value = mask_id_number(value)
        fields.append({"key": key, "label": label, "value": value, "problem": problems.get(key, "")})
    return {"id": pr.pk, "kind": pr.kind, "kind_label": ocr.KINDS.get(pr.kind, pr.kind), "fields": fields,
            "problems": pr.problems, "unread": "", "engine": pr.engine, "ms": round(pr.ms)}


def reviews_of_stored(stored_ids: list[int]) -> dict[int, dict]:
    """The latest pre-review of each stored upload (one query)."""
    out: dict[int, dict] = {}
    for pr in Prereview.objects.filter(stored_id__in=stored_ids).order_by("-created_at", "-id"):
        out.setdefault(pr.stored_id, review_of(pr))
    return out
