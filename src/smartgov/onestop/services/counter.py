"""窗口受理 (counter intake): an officer at the window files a case for a walk-in applicant, who shows
their ID card and brings the originals. The applicant is found in the register by ID number and name;
the officer scans the originals, which count as checked (trust level B); the case then runs like any
other. If the applicant has a platform account the case appears under 我的办件; if not, the officer
is recorded as the filing account (窗口代办) and the applicant follows the case by 办件查询 with the
查询码 on the 受理通知书."""

from django.db import transaction

from smartgov.audit.services import record
from smartgov.core.errors import Conflict, InvalidInput, NotFound
from smartgov.core.permissions import covers_department, require
from smartgov.identity.models import Person
from smartgov.identity.selectors import person_by_id_number

from .. import selectors
from ..models import Application, ApplicationMaterial, Channel, ServiceItem, StoredMaterial
from .applying import _apply_one, _fetch_shared, _field_errors
from .library import keep_checked_original


def walk_in_applicant(*, id_number: str, name: str) -> Person:
    """The register's record for the ID card the officer holds: number and name must both agree."""
    try:
        person = person_by_id_number(Person.objects.select_related("user"), (id_number or "").strip()).first()
    except Exception:
        person = None
    if person is None or person.name.strip() != (name or "").strip():
        raise InvalidInput("人口库中没有与该姓名和身份证号码相符的登记，请核对证件", code="applicant_not_found",
                           detail={"applicant": "姓名或身份证号码与人口库登记不符"})
    return person


def _counter_item(actor, item: ServiceItem) -> None:
    require(actor, "onestop.handle")
    if not covers_department(actor, item.department, include_descendants=False):
        raise NotFound("没有这个事项", code="item_not_found")  # another department's item: as if missing
    if not item.active:
        raise Conflict("该事项已停止办理", code="item_inactive")


@transaction.atomic
def scan_original(*, actor, item: ServiceItem, id_number: str, name: str, key: str, upload) -> StoredMaterial:
    """窗口受理, before the intake is filed: the officer scans one original the walk-in applicant brought, as
    the intake form's file is chosen (so the 智能预审 reads it at once). Kept at trust level B in the
    applicant's library (the officer's when the applicant has no account: 代办); the intake names it
    (``intake_at_counter(stored=)``), so the case carries this very file."""
    _counter_item(actor, item)
    person = walk_in_applicant(id_number=id_number, name=name)
    material = next((m for m in selectors.current_version(item).parsed.materials if m.key == key), None)
    if material is None:
        raise NotFound("没有这份材料", code="material_not_found")
    stored = keep_checked_original(actor=actor, owner=person.user if person.user_id else actor, key=key,
                                   name=material.name, upload=upload)
    record(actor=actor, action="onestop.material.scan", target=stored,
           changes={"item": item.implementation_code, "key": key, "size": stored.size, "person": person.pk})
    return stored


def _scanned(applicant, stored_ids: dict[str, int]) -> dict[str, StoredMaterial]:
    """Originals scanned earlier for this intake: the applicant's library files an officer checked."""
    ids = {k: int(v) for k, v in stored_ids.items() if str(v).isdigit()}
    found = StoredMaterial.objects.filter(owner_user=applicant, checked_by__isnull=False, pk__in=ids.values()).in_bulk()
    missing = sorted(k for k, v in stored_ids.items() if ids.get(k) not in found)
    if missing:
        raise InvalidInput("引用的扫描件不存在或不属于该申请人", code="material_not_found", detail=missing)
    used = set(ApplicationMaterial.objects.filter(stored_id__in=ids.values()).values_list("stored_id", flat=True))
    out = {}
    for key, pk in ids.items():
        out[key] = found[pk]
        out[key].used = pk in used
    return out


def intake_at_counter(*, actor, item: ServiceItem, id_number: str, name: str, answers: dict, form_data: dict,
                      uploads: dict, consent_exchange: bool = False, agent_name: str = "",
                      agent_id_number: str = "", stored: dict[str, int] | None = None) -> Application:
    """File a case at the window for a walk-in applicant (窗口受理/代办). ``uploads``: {material key: file}
    scanned from the originals; ``stored``: {material key: library file} scanned (and pre-reviewed) while
    the form was filled (``scan_original``) — a new upload of the same material wins. Nothing is written
    if anything is wrong."""
    _counter_item(actor, item)
    person = walk_in_applicant(id_number=id_number, name=name)
    account = person.user if person.user_id else None
    version = selectors.current_version(item)
    content = version.parsed
    names = {m.key: m.name for m in content.materials_for(answers)}
    stored = {k: v for k, v in (stored or {}).items() if k not in uploads}
    unknown = sorted((set(uploads) | set(stored)) - set(names))
    if unknown:
        raise InvalidInput("上传的材料不属于本事项", code="unknown_material", detail=unknown)
    applicant = account or actor  # no account: the officer files it on the applicant's behalf (代办)
    scanned = _scanned(applicant, stored)
    plan = selectors.reuse_plan(account, content, answers, person=person, skip=set(uploads) | set(scanned))
    fetch_errors = {}
    if not _field_errors(content, answers, form_data):
        fetch_errors = _fetch_shared(item, person, plan, consent_exchange)
    with transaction.atomic():
        provided = {key: keep_checked_original(actor=actor, owner=applicant, key=key, name=names[key], upload=f)
                    for key, f in uploads.items()}
        provided.update(scanned)
        app = _apply_one(actor=actor, item=item, version=version, answers=answers, form_data=form_data,
                         provided=provided, plan=plan, channel=Channel.WINDOW, enterprise=None,
                         agent_name=agent_name or ("" if account else f"窗口代办：{actor.name or actor.username}"),
                         agent_id_number=agent_id_number, draft=False, fetch_errors=fetch_errors,
                         applicant=applicant, person=person)
        record(actor=actor, action="onestop.application.counter_intake", target=app,
               changes={"person": person.pk, "account": account.pk if account else None,
                        "checked_originals": sorted(provided), "scanned_before": sorted(scanned)})
    return app
