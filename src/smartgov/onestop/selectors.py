"""Reads of the one-stop service: current item versions, the material-reuse plan, bundle plans,
case lists in a user's scope, and the measures (coverage, completeness, effectiveness)."""

import hmac
import time
from dataclasses import dataclass
from decimal import Decimal

from django.core.cache import cache
from django.db.models import Avg, Count, F, Prefetch, Q, QuerySet
from django.urls import reverse
from django.utils import timezone

from smartgov.accounts.models import Department
from smartgov.accounts.selectors import supervised_departments
from smartgov.core.crypto import keys
from smartgov.core.errors import Forbidden
from smartgov.core.indicators import alert, check_scope, daily_counts, day_starts, indicator, series_of
from smartgov.core.masking import mask_id_number, mask_phone
from smartgov.core.permissions import has_perm, scope
from smartgov.core.workdays import calendar
from smartgov.exchange.selectors import resource_labels
from smartgov.identity.models import Enterprise
from smartgov.licences.models import Licence, LicenceStatus
from smartgov.workflow.selectors import actionable_task, colour

from .catalogue import ItemContent
from .models import (
    OPEN_STATES,
    REUSED_SOURCES,
    Application,
    ApplicationMaterial,
    Bundle,
    CaseStep,
    Evaluation,
    ItemVersion,
    MaterialSource,
    Notice,
    Notification,
    Rectification,
    ServiceItem,
    State,
    StoredMaterial,
    TrustLevel,
)
from .progress import applicant_next_step, holders

MEASURES_DOMAIN = "onestop.measures"  # the supervision scope that lets a department read others' measures
_PARSED: dict[int, tuple[dict, ItemContent]] = {}  # version pk → (content, parsed): parsing is the cost


ITEM_CACHE_SECONDS = 10  # a catalogue change (new version, switched off) reaches every server within this
_ITEMS: dict[str, tuple[float, ServiceItem]] = {}


def item_by_code(code: str, *, fresh: bool = False) -> ServiceItem | None:
    """An item by implementation code with its department and current version (parsed). Submissions ask
    for the same few items thousands of times a minute, so each process keeps them for a few seconds;
    callers must treat the returned item as read-only."""
    code = code.strip()
    now = time.monotonic()
    hit = None if fresh else _ITEMS.get(code)
    if hit is not None and now - hit[0] < ITEM_CACHE_SECONDS:
        return hit[1]
    version = (ItemVersion.objects.select_related("item__department")
               .filter(item__implementation_code=code, version=F("item__current_version")).first())
    if version is None:
        return None
    item = version.item
    item._current = _with_parsed(version, item)
    if len(_ITEMS) > 4096:
        _ITEMS.clear()
    _ITEMS[code] = (now, item)
    return item


def department_item(department, basic_code: str) -> ServiceItem | None:
    """The department's item of this basic code (its first business item), active or not."""
    return (ServiceItem.objects.select_related("department").filter(department=department, basic_code=basic_code)
            .order_by("implementation_code").first())


def active_item(code: str) -> ServiceItem | None:
    """An item that is open for applications, by implementation code, with its department."""
    return ServiceItem.objects.select_related("department").filter(implementation_code=code.strip(),
                                                                   active=True).first()


def counter_items(user) -> QuerySet[ServiceItem]:
    """窗口受理: the active items of the officer's own department (the ones their window takes in)."""
    return ServiceItem.objects.filter(active=True, department_id=user.department_id).order_by("name")


def active_bundle(code: str) -> Bundle | None:
    return Bundle.objects.filter(code=code.strip().upper(), active=True).first()


def active_bundles() -> list[Bundle]:
    """The 一件事 bundles on offer, each with its items and their departments."""
    return list(Bundle.objects.filter(active=True).prefetch_related("members__item__department").order_by("code"))


def forget_item(code: str | None = None) -> None:
    """Drop this process's cached item (all of them with no code): called when the catalogue changes."""
    if code is None:
        _ITEMS.clear()
    else:
        _ITEMS.pop(code, None)


def current_version(item: ServiceItem) -> ItemVersion:
    """The item's current version, its content parsed once per process (checked against the row, so a
    reused primary key after a rollback can never serve stale content)."""
    cached = getattr(item, "_current", None)
    if cached is not None and cached.version == item.current_version:
        return cached
    return _with_parsed(ItemVersion.objects.get(item_id=item.pk, version=item.current_version), item)


def with_current_versions(items) -> list[ServiceItem]:
    """The items, each with its current version attached (``current_version(item)`` then costs nothing):
    one query for all the versions, not one per item."""
    items = list(items)
    by_pk = {i.pk: i for i in items}
    for version in ItemVersion.objects.filter(item_id__in=by_pk, version=F("item__current_version")):
        item = by_pk[version.item_id]
        item._current = _with_parsed(version, item)
    return items


def _with_parsed(version: ItemVersion, item: ServiceItem) -> ItemVersion:
    version.item = item
    hit = _PARSED.get(version.pk)
    if hit is not None and hit[0] == version.content:
        version._parsed = hit[1]
    else:
        if len(_PARSED) > 4096:
            _PARSED.clear()
        _PARSED[version.pk] = (version.content, version.parsed)
    return version


# Government-held materials the platform itself can vouch for from the register (the applicant's own
# record). Other government documents without an e-licence type (无犯罪记录证明, 社保缴费证明 …) name an
# exchange resource in the catalogue and are fetched through the exchange with the applicant's consent.
REGISTER_MATERIALS = {"id_card": "人口库（本人身份信息）"}


@dataclass(frozen=True)
class Reuse:
    source: str
    trust_level: str
    label: str
    stored: StoredMaterial | None = None
    licence: object | None = None
    resource: str = ""  # an exchange resource to fetch at submission, with the applicant's consent
    shared: str | None = None  # the fetched document with its provenance (JSON)


def reuse_plan(user, content: ItemContent, answers: dict, *, enterprise=None, skip=(), person=None) -> dict:
    """What the platform can attach for each material instead of asking for it (材料复用): a valid
    licence the applicant (or their enterprise) holds, register data, or a file from their library.
    ``person``: the applicant when it is not ``user``'s own record (窗口受理; ``user`` is then their
    account or None)."""
    person = person if person is not None else getattr(user, "person", None)
    materials = content.materials_for(answers)
    plan: dict[str, Reuse] = {}
    wanted_types = {m.licence_type for m in materials if m.licence_type}
    held = {}
    if wanted_types and (person or enterprise):
        holder = Q(holder_enterprise=enterprise) if enterprise else Q(pk__in=[])
        if person:
            holder |= Q(holder_person=person)
        for licence in (Licence.objects.filter(holder, status=LicenceStatus.VALID,
                                               licence_type__code__in=wanted_types)
                        .select_related("licence_type").order_by("issued_on")):
            held[licence.licence_type.code] = licence
    keys = [m.key for m in materials if m.source == "applicant" and m.key not in skip]
    library = {}
    if keys and getattr(user, "pk", None):
        for stored in StoredMaterial.objects.filter(owner_user=user, key__in=keys).order_by("trust_level", "-id"):
            library.setdefault(stored.key, stored)  # trust B before C, newest first
    exchange_labels = {}
    if person is not None and enterprise is None and any(m.resource for m in materials):
        labels = resource_labels({m.resource for m in materials if m.resource})
        exchange_labels = {m.key: f"经您授权，通过政务数据共享交换向{labels[m.resource][1]}调取（{labels[m.resource][0]}）"
                           for m in materials if m.resource in labels}
    for m in materials:
        if m.licence_type and m.licence_type in held:
            lic = held[m.licence_type]
            plan[m.key] = Reuse(MaterialSource.LICENCE, TrustLevel.A, f"电子证照 {lic.identifier}", licence=lic)
        elif m.key in REGISTER_MATERIALS and person is not None:
            plan[m.key] = Reuse(MaterialSource.REGISTER, TrustLevel.A, REGISTER_MATERIALS[m.key])
        elif m.resource and m.key in exchange_labels and person is not None and enterprise is None:
            plan[m.key] = Reuse(MaterialSource.EXCHANGE, TrustLevel.A, exchange_labels[m.key], resource=m.resource)
        elif m.key in library:
            stored = library[m.key]
            plan[m.key] = Reuse(MaterialSource.LIBRARY, stored.trust_level,
                                f"材料库（{stored.created_at:%Y-%m-%d} 上传）", stored=stored)
    return plan


def prefill(user, content: ItemContent, answers: dict, *, enterprise=None) -> dict[str, str]:
    """Form values copied from the register (the applicant checks them rather than typing them)."""
    person = getattr(user, "person", None)
    values = {}
    sources = {"person.name": lambda: person.name, "person.id_number": lambda: person.id_number,
               "person.phone": lambda: person.phone, "person.address": lambda: person.address,
               "enterprise.name": lambda: enterprise.name, "enterprise.uscc": lambda: enterprise.uscc,
               "enterprise.address": lambda: enterprise.address}
    for field in content.fields_for(answers):
        if field.prefill and (enterprise if field.prefill.startswith("enterprise.") else person) is not None:
            values[field.key] = sources[field.prefill]() or ""
    return values


@dataclass(frozen=True)
class BundleEntry:
    item: ServiceItem
    version: ItemVersion


def bundle_plan(bundle: Bundle) -> list[BundleEntry]:
    items = with_current_versions(m.item for m in bundle.members.select_related("item__department").order_by("order"))
    return [BundleEntry(item, current_version(item)) for item in items]


def pending_bundle_fields(entries: list[BundleEntry], answers: dict) -> set[str]:
    """Fields a later item of a 一件事 gets from the company an earlier item registers (its 统一社会信用代码):
    nobody can type them yet; ``services.issue_result`` fills them in once the company exists."""
    registers, pending, needed = False, set(), set()
    for e in entries:
        content = e.version.parsed
        for f in content.fields_for(answers):
            (pending if registers and f.prefill == "enterprise.uscc" else needed).add(f.key)
        registers = registers or (content.result.kind == "licence" and content.result.registers_enterprise)
    return pending - needed


def merged_bundle_content(entries: list[BundleEntry], answers: dict):
    """The one guided form of a 一件事: situations, fields and materials asked once across its items, and
    which materials an earlier item's licence result provides."""
    situations, fields, materials, produced, fees = {}, {}, {}, {}, []
    for e in entries:
        c = e.version.parsed
        for s in c.situations:
            situations.setdefault(s.key, s)
        for f in c.fields_for(answers):
            fields.setdefault(f.key, f)
        for m in c.materials_for(answers):
            if m.licence_type in produced:
                materials.setdefault(m.key, (m, produced[m.licence_type]))
            else:
                materials.setdefault(m.key, (m, None))
        if c.result.kind == "licence":
            produced[c.result.licence_type] = e.item
        fees.extend((e.item.name, f) for f in c.fees if c.applies(f, answers))
    visible = [s for s in situations.values() if s.condition is None or s.condition.holds(answers)]
    return {"situations": visible, "fields": list(fields.values()), "materials": list(materials.values()),
            "fees": fees, "fee_total": bundle_fee_total(entries, answers)}


def bundle_fee_total(entries: list[BundleEntry], answers: dict) -> Decimal:
    """What a 一件事 costs for these answers: the sum of its items' fees (the form shows it, the
    submission stores it)."""
    return sum((e.version.parsed.fee_total(answers) for e in entries), Decimal("0"))


def represented_enterprise(user, enterprise_uscc: str | None) -> Enterprise | None:
    """The enterprise an applicant applies for: one whose legal representative they are (else Forbidden)."""
    if not enterprise_uscc:
        return None
    enterprise = Enterprise.objects.filter(uscc=enterprise_uscc.strip().upper()).select_related(
        "legal_representative").first()
    person = getattr(user, "person", None)
    if enterprise is None or person is None or enterprise.legal_representative_id != person.pk:
        raise Forbidden("只能以您担任法定代表人的企业名义申请", code="not_legal_representative")
    return enterprise


def represented_enterprises(user) -> list[Enterprise]:
    """The register's enterprises ``user`` may apply for (those whose legal representative they are)."""
    person_id = getattr(getattr(user, "person", None), "pk", None)
    if person_id is None:
        return []
    return list(Enterprise.objects.filter(legal_representative_id=person_id).order_by("name"))


# --------------------------------------------------------------------------- form values


def seal_form(values: dict, sealed: dict[str, str]) -> dict:
    """The form as stored: ID-number and phone fields encrypted at rest (SM4-GCM tokens of
    ``core.crypto.keys``, the purpose being the field type)."""
    return {k: (keys.encrypt_field(v, purpose=sealed[k]) if k in sealed and v else v) for k, v in values.items()}


def form_values(app, *, reveal: bool = False) -> dict:
    """A case's form: sealed fields decrypted (``reveal``, for the services) or masked (for display)."""
    sealed = app.item_version.parsed.sealed_keys()
    out = {}
    for k, v in app.form_data.items():
        if k in sealed and v:
            clear = keys.decrypt_field(v, purpose=sealed[k])
            v = clear if reveal else (mask_id_number if sealed[k] == "id_number" else mask_phone)(clear)
        out[k] = v
    return out


# --------------------------------------------------------------------------- cases


CASE_RELATED = ("item", "department", "instance")


def sla_colour(app: Application) -> str | None:
    """The case's deadline card (workflow colours), or None before the statutory clock starts (受理)."""
    return colour(app.instance) if app.instance_id else None


def cases_for(user) -> QuerySet[Application]:
    """Cases the user may see: applicants their own; staff their department (supervisors and admins
    the departments below too)."""
    base = Application.objects.select_related(*CASE_RELATED)
    if has_perm(user, "onestop.view_case"):
        return scope(user, base, field="department")
    if has_perm(user, "onestop.apply"):
        return base.filter(applicant_user=user)
    return base.none()


def _with_case_detail(qs: QuerySet[Application]) -> QuerySet[Application]:
    """What the case page shows: timeline, materials (with what they reuse) and notices, in order."""
    return (qs.select_related("item_version", "result_licence", "submission__bundle", "applicant_user")
            .prefetch_related(Prefetch("steps", CaseStep.objects.order_by("id")),
                              Prefetch("materials", ApplicationMaterial.objects.select_related(
                                  "stored", "licence", "awaits__item").order_by("id")),
                              Prefetch("notices", Notice.objects.order_by("issued_at"))))


def case_for_applicant(user, number: str) -> Application | None:
    """The applicant's own case by number, ready for the case page (None if not theirs or missing)."""
    return _with_case_detail(Application.objects.select_related(*CASE_RELATED).filter(
        applicant_user_id=user.pk, number=number.strip())).first()


def case_for_officer(user, number: str) -> Application | None:
    """A case in the officer's department scope by number, ready for the case page (None otherwise)."""
    return _with_case_detail(cases_for(user).filter(number=number.strip())).first()


def case_visible_to(user, app: Application) -> bool:
    """The applicant, or staff whose department scope covers the case."""
    if app.applicant_user_id == user.pk:
        return True
    return has_perm(user, "onestop.view_case") and cases_for(user).filter(pk=app.pk).exists()


def item_cases(user, *, basic_codes, department=None, form_equals: dict | None = None) -> QuerySet[Application]:
    """Cases of the items with these basic codes that ``user`` may see (``cases_for``), newest first, with
    their evaluations — for an app that files its own services as catalogue items (the park's 报修、政策申报、
    投诉). ``department``: the implementing department only; ``form_equals``: form values the case must
    have (e.g. ``{"park": "demo-park"}``; plain fields only, never sealed ones)."""
    qs = cases_for(user).filter(item__basic_code__in=list(basic_codes)).exclude(state=State.DRAFT)
    if department is not None:
        qs = qs.filter(department=department)
    for key, value in (form_equals or {}).items():
        qs = qs.filter(**{f"form_data__{key}": value})
    return qs.prefetch_related("evaluations").order_by("-submitted_at", "-id")


def applicant_cases(user, *, limit: int = 300) -> list[Application]:
    """我的办件: the applicant's cases, newest first."""
    return list(Application.objects.filter(applicant_user_id=user.pk)
                .select_related(*CASE_RELATED, "submission__bundle").order_by("-created_at")[:limit])


def is_actionable(user, app: Application) -> bool:
    """True if the case has an open workflow step that ``user`` may complete now."""
    return app.instance is not None and actionable_task(user, app.instance) is not None


def stored_material_for(user, stored_id: int) -> StoredMaterial | None:
    """A stored material's file: its owner's, or one attached to a case in the staff member's scope."""
    stored = StoredMaterial.objects.filter(pk=stored_id).first()
    if stored is None:
        return None
    if stored.owner_user_id == user.pk or (has_perm(user, "onestop.view_case")
                                           and cases_for(user).filter(materials__stored=stored).exists()):
        return stored
    return None


def own_stored_materials(user, ids) -> dict[int, StoredMaterial]:
    """The applicant's own library files among ``ids`` (others' are left out), by pk."""
    clean = {int(i) for i in ids if str(i).isdigit()}
    return StoredMaterial.objects.filter(owner_user=user, pk__in=clean).in_bulk() if clean else {}


def notice_by_number(number: str) -> Notice | None:
    """A notice by number, for anyone checking its signature (the page shows only masked personal data)."""
    return Notice.objects.select_related("application").filter(number=number.strip()).first()


def notice_for(user, number: str) -> Notice | None:
    """A notice whose case ``user`` may see (None otherwise)."""
    notice = notice_by_number(number)
    return notice if notice is not None and case_visible_to(user, notice.application) else None


def notifications_for(user) -> QuerySet[Notification]:
    """站内信: the user's messages, newest first."""
    return Notification.objects.filter(user_id=user.pk).select_related("application").order_by("-created_at")


def case_queue(user) -> QuerySet[Application]:
    """The officer's queue: open cases of their department, most urgent first."""
    # cases not yet accepted have no deadline: after the running clocks, oldest first (index onestop_app_open)
    return cases_for(user).filter(state__in=OPEN_STATES).order_by(F("due_on").asc(nulls_last=True),
                                                                   "submitted_at", "id")


def rectifications_for(user) -> QuerySet[Rectification]:
    """差评整改 tickets of the departments in the user's scope, open and most urgent first."""
    return scope(user, Rectification.objects.select_related(
        "department", "evaluation__application", "evaluation__item"), field="department").order_by("status", "due_on")


# --------------------------------------------------------------------------- measures


def stat_departments(user) -> list[Department]:
    """The departments whose measures the user may see: their own (and those below, for supervisors and
    department admins), and those their department supervises through a supervision scope."""
    own = scope(user, Department.objects.all(), field=None)
    if user.role not in ("dept_admin", "supervisor") or user.department is None:
        return list(own.order_by("path"))

    # beside the org tree: the departments whose service measures this one supervises (监督指导)
    depts = list((own | supervised_departments(user.department, domain=MEASURES_DOMAIN)).order_by("path"))
    return sorted(depts, key=lambda d: d.pk != user.department_id)  # their own first: the page's default


def state_counts(department) -> dict[str, int]:
    """Submitted cases of the department's subtree by state."""
    return dict(Application.objects.filter(department__path__startswith=department.path).exclude(state=State.DRAFT)
                .values_list("state").annotate(n=Count("id")))


def measures(user=None, department=None) -> dict:
    """Coverage, completeness and effectiveness for the platform or one department's scope."""
    items = ServiceItem.objects.filter(active=True)
    apps = Application.objects.exclude(state=State.DRAFT)
    evals = Evaluation.objects.all()
    tickets = Rectification.objects.all()
    if department is not None:
        items = items.filter(department__path__startswith=department.path)
        apps = apps.filter(department__path__startswith=department.path)
        evals = evals.filter(department__path__startswith=department.path)
        tickets = tickets.filter(department__path__startswith=department.path)
    contents = [current_version(i).parsed for i in with_current_versions(items)]
    n = len(contents) or 1
    complete = sum(1 for c in contents if c.legal_basis and c.acceptance_conditions and c.where and c.hours
                   and c.materials and c.fields)
    closed = apps.filter(state=State.CLOSED)
    a = apps.aggregate(total=Count("id"), online=Count("id", filter=Q(channel__in=["online", "mobile"])),
                       closed=Count("id", filter=Q(state=State.CLOSED)),
                       on_time=Count("id", filter=Q(on_time=True)))
    mats = ApplicationMaterial.objects.filter(application__in=apps).aggregate(
        total=Count("id"), reused=Count("id", filter=Q(source__in=REUSED_SOURCES)))
    online_apps = apps.filter(channel__in=["online", "mobile"]).values_list("item_version__content__visits",
                                                                           flat=True)
    visits_saved = sum(max(0, 2 - int(v or 0)) for v in online_apps.iterator())
    durations = [_workdays(c.accepted_at, c.closed_at) for c in closed.exclude(accepted_at=None).only(
        "accepted_at", "closed_at")[:5000]]
    e = evals.aggregate(total=Count("id"), good=Count("id", filter=Q(grade__gte=4)),
                        bad=Count("id", filter=Q(grade__lte=2)), avg=Avg("grade"))
    t = tickets.aggregate(total=Count("id"), open=Count("id", filter=Q(status="open")),
                          closed=Count("id", filter=Q(status="closed")))
    return {
        "items": len(contents),
        "online_share": sum(c.online for c in contents) / n,
        "full_online_share": sum(c.online_depth == 4 for c in contents) / n,
        "zero_or_one_visit_share": sum(c.visits <= 1 for c in contents) / n,
        "zero_visit_share": sum(c.visits == 0 for c in contents) / n,
        "completeness": complete / n,
        "applications": a["total"],
        "online_rate": a["online"] / a["total"] if a["total"] else None,
        "closed": a["closed"],
        "on_time_rate": a["on_time"] / a["closed"] if a["closed"] else None,
        "avg_workdays": sum(durations) / len(durations) if durations else None,
        "materials": mats["total"],
        "materials_reused": mats["reused"],
        "visits_saved": visits_saved,
        "evaluations": e["total"],
        "satisfaction": e["good"] / e["total"] if e["total"] else None,
        "negative": e["bad"],
        "avg_grade": e["avg"],
        "tickets": t["total"], "tickets_open": t["open"], "tickets_closed": t["closed"],
    }


def _workdays(a, b) -> int:
    return calendar().workdays_between(timezone.localtime(a).date(), timezone.localtime(b).date())


def rates_by(field: str, department=None) -> list[dict]:
    """Satisfaction by department or item (好差评 rates)."""
    evals = Evaluation.objects.all()
    if department is not None:
        evals = evals.filter(department__path__startswith=department.path)
    name = {"department": "department__name", "item": "item__name"}[field]
    return list(evals.values(name).annotate(total=Count("id"), good=Count("id", filter=Q(grade__gte=4)),
                                            bad=Count("id", filter=Q(grade__lte=2)), avg=Avg("grade"))
                .order_by("-total")[:50])


# ------------------------------------------------------------------------------ city overview (docs/overview.md)


def indicators(*, actor, department) -> list[dict]:
    """一网通办 figures of ``department`` and below, in four queries whatever the number of cases."""
    check_scope(actor, department)
    bounds = day_starts()
    today = timezone.localdate()
    apps = Application.objects.filter(department__path__startswith=department.path).exclude(state=State.DRAFT)
    a = apps.aggregate(**daily_counts("submitted_at", "in", bounds), **daily_counts("closed_at", "out", bounds),
                       total=Count("id"), closed=Count("id", filter=Q(state=State.CLOSED)),
                       on_time=Count("id", filter=Q(on_time=True)),
                       bundled=Count("id", filter=Q(submission__bundle__isnull=False)),
                       red=Count("id", filter=Q(instance__status="running", instance__due_on__lt=today)))
    m = ApplicationMaterial.objects.filter(application__department__path__startswith=department.path).aggregate(
        total=Count("id"), reused=Count("id", filter=Q(source__in=REUSED_SOURCES)))
    e = Evaluation.objects.filter(department__path__startswith=department.path).aggregate(
        total=Count("id"), good=Count("id", filter=Q(grade__gte=4)))
    open_tickets = Rectification.objects.filter(department__path__startswith=department.path,
                                                status="open").count()
    url = reverse("onestop:dashboard")
    share = lambda n, d: round(100 * n / d, 1) if d else None  # noqa: E731
    common = {"app": "onestop", "department": department}
    return [
        indicator(key="received_today", name="今日收件", name_en="Cases received today", unit="件", url=url,
                  **series_of(a, "in", bounds), **common),
        indicator(key="closed_today", name="今日办结", name_en="Cases closed today", unit="件", url=url,
                  **series_of(a, "out", bounds), **common),
        indicator(key="on_time_rate", name="按时办结率", name_en="On-time rate", unit="%", url=url,
                  value=share(a["on_time"], a["closed"]), **common),
        indicator(key="bundle_share", name="一件事占比", name_en="Life-event share", unit="%", url=url,
                  value=share(a["bundled"], a["total"]), **common),
        indicator(key="reuse_rate", name="材料复用率", name_en="Material reuse rate", unit="%", url=url,
                  value=share(m["reused"], m["total"]), **common),
        indicator(key="satisfaction", name="好差评满意率", name_en="Satisfaction", unit="%", url=url,
                  value=share(e["good"], e["total"]), **common),
        indicator(key="red_cards", name="红牌超期", name_en="Red cards (overdue)", unit="件",
                  url=reverse("onestop:work"), value=a["red"], **common),
        indicator(key="open_rectifications", name="待整改差评", name_en="Open rectifications", unit="件",
                  url=reverse("onestop:rectifications"), value=open_tickets, **common),
    ]


def alerts(*, actor, department, limit: int = 20) -> list[dict]:
    """Red cards (红牌: a running case past its statutory deadline) of ``department`` and below, one query."""
    check_scope(actor, department)
    rows = (Application.objects.filter(department__path__startswith=department.path, instance__status="running",
                                       instance__due_on__lt=timezone.localdate())
            .select_related("department", "instance").order_by("instance__due_on", "id")[:limit])
    return [alert(app="onestop", key=f"red:{app.pk}", kind="红牌超期", kind_en="Red card",
                  title=f"{app.number} · 届满 {app.instance.due_on}",
                  at=app.state_since, url=reverse("onestop:work_by_id", args=[app.pk]),
                  department_name=app.department.name) for app in rows]
def applicant_home_cases(user, *, limit: int = 8) -> list[Application]:
    """The applicant's newest cases, each with ``next_step``/``next_kind`` (what they do next) and
    ``holders`` (which department and step has it): the citizen's home."""
    apps = list(Application.objects.filter(applicant_user=user)
                .select_related("item", "department", "instance").order_by("-created_at")[:limit])
    evaluated = set(Evaluation.objects.filter(application__in=apps).values_list("application_id", flat=True))
    for app in apps:
        app.next_step, app.next_kind = applicant_next_step(app, evaluated=app.pk in evaluated)
        app.holders = holders(app)
    apps.sort(key=lambda a: (a.next_kind != "act",))  # what needs the applicant first, newest first within
    return apps


# --------------------------------------------------------------------------- public progress lookup

LOOKUP_MAX_FAILURES = 5        # wrong second factors per case number…
LOOKUP_WINDOW_SECONDS = 900    # …within this window before the number is refused for the rest of it


def public_progress(number: str, last_six: str) -> dict | None:
    """办件查询 without signing in: case number plus a second factor — the last six characters of the
    applicant's ID number (or of the enterprise's 统一社会信用代码), or the 8-character 查询码 printed on
    the 受理通知书. Status, department, step and deadline only — no names, no personal data. None when
    the pair does not match (or the number does not exist: both look alike), and after
    LOOKUP_MAX_FAILURES wrong tries the number is refused for LOOKUP_WINDOW_SECONDS."""
    number, last_six = (number or "").strip().upper(), (last_six or "").strip().upper()
    key = f"onestop:lookup-failures:{number}"
    second = last_six.replace("-", "").replace(" ", "")
    if not number or len(second) not in (6, 8) or cache.get(key, 0) >= LOOKUP_MAX_FAILURES:
        return None
    app = (Application.objects.select_related("item", "department", "instance", "applicant_person",
                                              "applicant_enterprise").filter(number=number).first())
    expected = ""
    if app is not None and len(second) == 8:
        expected = app.query_code
    elif app is not None:
        if app.applicant_enterprise_id:
            expected = app.applicant_enterprise.uscc[-6:]
        elif app.applicant_person_id:
            expected = (app.applicant_person.id_number or "")[-6:].upper()
    if not expected or not hmac.compare_digest(expected.encode(), second.encode()):
        cache.add(key, 0, LOOKUP_WINDOW_SECONDS)
        try:
            cache.incr(key)
        except ValueError:
            cache.set(key, 1, LOOKUP_WINDOW_SECONDS)
        return None
    return {"number": app.number, "item": app.item.name, "department": app.department.name,
            "state": app.state, "state_label": app.get_state_display(), "submitted_at": app.submitted_at,
            "accepted_at": app.accepted_at, "due_on": app.due_on, "closed_at": app.closed_at,
            "holders": [{"department": h.department, "step": h.step} for h in holders(app)]}
