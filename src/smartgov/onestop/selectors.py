"""Reads of the one-stop service: current item versions, the material-reuse plan, bundle plans,
case lists in a user's scope, and the measures (coverage, completeness, effectiveness)."""

from dataclasses import dataclass

from django.db.models import Avg, Count, Q, QuerySet

from smartgov.core.permissions import has_perm, scope

from .catalogue import ItemContent
from .models import (
    REUSED_SOURCES,
    Application,
    ApplicationMaterial,
    Bundle,
    Evaluation,
    ItemVersion,
    MaterialSource,
    Rectification,
    ServiceItem,
    State,
    StoredMaterial,
    TrustLevel,
)

_PARSED: dict[int, tuple[dict, ItemContent]] = {}  # version pk → (content, parsed): parsing is the cost


ITEM_CACHE_SECONDS = 10  # a catalogue change (new version, switched off) reaches every server within this
_ITEMS: dict[str, tuple[float, ServiceItem]] = {}


def item_by_code(code: str, *, fresh: bool = False) -> ServiceItem | None:
    """An item by implementation code with its department and current version (parsed). Submissions ask
    for the same few items thousands of times a minute, so each process keeps them for a few seconds;
    callers must treat the returned item as read-only."""
    import time

    from django.db.models import F

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
    from django.db.models import F

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
# record). Other government documents without an e-licence type (契税完税凭证, 无犯罪记录证明 …) are
# still asked for until the data-sharing app can fetch them from their departments.
REGISTER_MATERIALS = {"id_card": "人口库（本人身份信息）"}


@dataclass(frozen=True)
class Reuse:
    source: str
    trust_level: str
    label: str
    stored: StoredMaterial | None = None
    licence: object | None = None


def reuse_plan(user, content: ItemContent, answers: dict, *, enterprise=None, skip=()) -> dict:
    """What the platform can attach for each material instead of asking for it (材料复用): a valid
    licence the applicant (or their enterprise) holds, register data, or a file from their library."""
    from smartgov.licences.models import Licence, LicenceStatus

    person = getattr(user, "person", None)
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
    for m in materials:
        if m.licence_type and m.licence_type in held:
            lic = held[m.licence_type]
            plan[m.key] = Reuse(MaterialSource.LICENCE, TrustLevel.A, f"电子证照 {lic.identifier}", licence=lic)
        elif m.key in REGISTER_MATERIALS and person is not None:
            plan[m.key] = Reuse(MaterialSource.REGISTER, TrustLevel.A, REGISTER_MATERIALS[m.key])
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
            "fees": fees}


# --------------------------------------------------------------------------- form values


def seal_form(values: dict, sealed: dict[str, str]) -> dict:
    """The form as stored: ID-number and phone fields encrypted at rest (SM4-GCM tokens of
    ``core.crypto.keys``, the purpose being the field type)."""
    from smartgov.core.crypto import keys

    return {k: (keys.encrypt_field(v, purpose=sealed[k]) if k in sealed and v else v) for k, v in values.items()}


def form_values(app, *, reveal: bool = False) -> dict:
    """A case's form: sealed fields decrypted (``reveal``, for the services) or masked (for display)."""
    from smartgov.core.crypto import keys
    from smartgov.core.masking import mask_id_number, mask_phone

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
    from smartgov.workflow.selectors import colour

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


def case_queue(user) -> QuerySet[Application]:
    """The officer's queue: open cases of their department, most urgent first."""
    open_states = [State.SUBMITTED, State.PREREVIEW, State.ACCEPTED, State.REVIEW, State.APPROVED, State.ISSUED,
                   State.DELIVERED, State.REJECTED, State.NOT_ACCEPTED, State.SUPPLEMENT]
    from django.db.models import F

    # cases not yet accepted have no deadline: after the running clocks, oldest first
    return cases_for(user).filter(state__in=open_states).order_by(F("due_on").asc(nulls_last=True),
                                                                   "submitted_at", "id")


# --------------------------------------------------------------------------- measures


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
    from django.utils import timezone

    from smartgov.core.workdays import calendar

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
