"""Every write to the register (人口库/法人库). Keyword-only, ``actor=``, atomic, audited.

``actor=system_actor(...)`` is the platform itself (the CLI, data loads): ``require()`` lets it pass, the audit
entry says ``system:<job>``. Departments: a record belongs to its registering office (登记机关), by default
the actor's department.
"""

from __future__ import annotations

from datetime import date

from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from smartgov.audit.services import record
from smartgov.core.crypto.sm3 import sm3
from smartgov.core.errors import Conflict, InvalidInput, NotFound, validated
from smartgov.core.fields import blind_lookup
from smartgov.core.masking import mask_phone
from smartgov.core.permissions import covers_department, require, scope, user_of
from smartgov.core.validators import parse_id_number, parse_uscc

from . import imports
from .models import Enterprise, EnterpriseStatus, ImportKind, ImportRun, Person

PERSON_EXCLUDE = ["id_number_bidx", "phone_bidx", "department", "user"]
ENTERPRISE_EXCLUDE = ["department", "legal_representative"]
PERSON_EDITABLE = {"name", "nationality", "region_code", "address", "phone"}
ENTERPRISE_EDITABLE = {"name", "region_code", "address", "status", "established_on",
                       "legal_representative_id_number"}
# 存续 → 注销 or 吊销; a revoked licence (吊销) is still deregistered (注销) later; 注销 is final.
STATUS_CHANGES = {
    EnterpriseStatus.ACTIVE: {EnterpriseStatus.CANCELLED, EnterpriseStatus.REVOKED},
    EnterpriseStatus.REVOKED: {EnterpriseStatus.CANCELLED},
    EnterpriseStatus.CANCELLED: set(),
}


def _validated(instance, exclude):
    validated(instance, exclude, validate_unique=False, validate_constraints=False)


def _registering_office(actor, department):
    return department if department is not None else actor.department


def _person_taken() -> Conflict:
    return Conflict("该公民身份号码已在人口库登记", code="person_exists")


def _enterprise_taken() -> Conflict:
    return Conflict("该统一社会信用代码已在法人库登记", code="enterprise_exists")


# --------------------------------------------------------------------------- persons


@transaction.atomic
def register_person(*, actor, name: str, id_number: str, nationality: str = "CHN", region_code: str = "",
                    address: str = "", phone: str | None = None, department=None, sex: str = "",
                    birth_date: date | None = None) -> Person:
    """Register a natural person (自然人登记). Sex and birth date come from the ID number; if given they
    must agree with it."""
    department = _registering_office(actor, department)
    require(actor, "identity.manage_register", department=department)
    person = Person(name=(name or "").strip(), id_number=id_number, nationality=(nationality or "CHN").strip().upper(),
                    region_code=(region_code or "").strip(), address=(address or "").strip(),
                    phone=(phone or "").strip() or None, department=department, sex=sex or "", birth_date=birth_date)
    _validated(person, PERSON_EXCLUDE)
    if Person.objects.filter(**blind_lookup(Person, "id_number", person.id_number)).exists():
        raise _person_taken()
    try:
        with transaction.atomic():
            person.save()
    except IntegrityError as exc:  # registered at the same moment by someone else
        raise _person_taken() from exc
    record(actor=actor, action="identity.person.register", target=person,
           changes={"id_number": person.id_number, "phone": person.phone,
                    "department": department.pk if department else None})
    return person


@transaction.atomic
def update_person(*, actor, person: Person, changes: dict) -> Person:
    """Correct a person's name, nationality, address or phone. The ID number is the record's identity and
    is not changed here (a wrong one is a new registration)."""
    require(actor, "identity.manage_register", department=person.department, hide=True)
    if set(changes) - PERSON_EDITABLE:
        raise InvalidInput("该字段不可在此修改", code="field_not_editable", detail=sorted(set(changes) - PERSON_EDITABLE))
    before = {k: getattr(person, k) for k in changes}
    for key, value in changes.items():
        value = (value or "").strip() if isinstance(value, str) or value is None else value
        setattr(person, key, (value or None) if key == "phone" else value.upper() if key == "nationality" else value)
    _validated(person, PERSON_EXCLUDE)
    person.save()
    diff = {k: [before[k], getattr(person, k)] for k in changes if before[k] != getattr(person, k)}
    if "phone" in diff:  # record() masks personal strings, not lists: mask both sides here
        diff["phone"] = [mask_phone(v) if v else None for v in diff["phone"]]
    record(actor=actor, action="identity.person.update", target=person, changes=diff)
    return person


def find_person_by_id_number(*, actor, id_number: str) -> Person:
    """Look a person up by ID number (按身份证号查询). Every lookup is audited, found or not; a person
    outside the actor's departments is "not found" (404)."""
    require(actor, "identity.view_register")
    try:
        normalized = parse_id_number(id_number).normalized
    except ValidationError as exc:
        raise InvalidInput(exc.messages[0], code="invalid_id_number") from exc
    person = (Person.objects.select_related("department")
              .filter(**blind_lookup(Person, "id_number", normalized)).first())
    visible = person is not None and covers_department(actor, person.department)
    with transaction.atomic():  # the trail keeps misses too, so commit before answering 404
        record(actor=actor, action="identity.person.lookup",
               target=person if visible else ("identity.person", ""),
               changes={"id_number": normalized, "found": visible})
    if not visible:
        raise NotFound("人口库中没有该公民身份号码的登记（或不在您的可见范围内）", code="person_not_found")
    return person


@transaction.atomic
def reveal_person(*, actor, person: Person) -> dict[str, str | None]:
    """Clear ID number and phone for a role that may see them (查看完整个人信息); every reveal is audited."""
    require(actor, "identity.view_personal_data", department=person.department, hide=True)
    record(actor=actor, action="identity.person.reveal", target=person, changes={"fields": ["id_number", "phone"]})
    return {"id_number": person.id_number, "phone": person.phone}


# --------------------------------------------------------------------------- enterprises


def _visible_persons(actor):
    """The part of the person register ``actor`` may find people in (None: the installation, all of it).
    A person outside it is answered exactly like one not registered (no probing by ID number)."""
    return scope(actor, Person.objects.all())


def _legal_representative(actor, id_number: str | None) -> Person | None:
    if not id_number:
        return None
    try:
        normalized = parse_id_number(id_number).normalized
    except ValidationError as exc:
        raise InvalidInput(detail={"legal_representative_id_number": exc.messages}) from exc
    person = _visible_persons(actor).filter(**blind_lookup(Person, "id_number", normalized)).first()
    if person is None:
        raise InvalidInput("法定代表人未在人口库登记，请先登记该自然人", code="legal_representative_not_registered")
    return person


def _normalized_uscc(value: str) -> str:
    try:
        return parse_uscc(value).normalized
    except ValidationError:
        return (value or "").strip()  # full_clean reports it against the field


@transaction.atomic
def register_enterprise(*, actor, name: str, uscc: str, legal_representative_id_number: str | None = None,
                        region_code: str = "", address: str = "", status: str = EnterpriseStatus.ACTIVE,
                        established_on: date | None = None, department=None,
                        legal_representative: Person | None = None) -> Enterprise:
    """Register a legal person (法人登记). The legal representative is found in the person register by ID
    number (blind index) and must already be there, within the actor's scope — or is given as the Person a
    caller already holds (the applicant of the case that registers the company)."""
    department = _registering_office(actor, department)
    require(actor, "identity.manage_register", department=department)
    enterprise = Enterprise(name=(name or "").strip(), uscc=_normalized_uscc(uscc),
                            legal_representative=legal_representative
                            or _legal_representative(actor, legal_representative_id_number),
                            region_code=(region_code or "").strip(), address=(address or "").strip(), status=status,
                            established_on=established_on, department=department)
    _validated(enterprise, ENTERPRISE_EXCLUDE)
    if Enterprise.objects.filter(uscc=enterprise.uscc).exists():
        raise _enterprise_taken()
    try:
        with transaction.atomic():
            enterprise.save()
    except IntegrityError as exc:
        raise _enterprise_taken() from exc
    record(actor=actor, action="identity.enterprise.register", target=enterprise,
           changes={"uscc": enterprise.uscc, "legal_representative": enterprise.legal_representative_id,
                    "status": enterprise.status, "department": department.pk if department else None})
    return enterprise


@transaction.atomic
def update_enterprise(*, actor, enterprise: Enterprise, changes: dict) -> Enterprise:
    """Change an enterprise's details or status (存续 → 注销/吊销, 吊销 → 注销). The USCC never changes."""
    require(actor, "identity.manage_register", department=enterprise.department, hide=True)
    if set(changes) - ENTERPRISE_EDITABLE:
        raise InvalidInput("该字段不可在此修改", code="field_not_editable",
                           detail=sorted(set(changes) - ENTERPRISE_EDITABLE))
    changes = dict(changes)
    before = {"status": enterprise.status, "legal_representative": enterprise.legal_representative_id,
              **{k: getattr(enterprise, k) for k in changes if k != "legal_representative_id_number"}}
    new_status = changes.get("status", enterprise.status)
    if new_status != enterprise.status and new_status not in STATUS_CHANGES.get(enterprise.status, set()):
        raise InvalidInput(f"企业状态不能从“{enterprise.get_status_display()}”改为"
                           f"“{dict(EnterpriseStatus.choices).get(new_status, new_status)}”",
                           code="invalid_status_change", detail={"from": enterprise.status, "to": new_status})
    if "legal_representative_id_number" in changes:
        enterprise.legal_representative = _legal_representative(actor, changes.pop("legal_representative_id_number"))
    for key, value in changes.items():
        setattr(enterprise, key, value.strip() if isinstance(value, str) else value)
    _validated(enterprise, ENTERPRISE_EXCLUDE)
    enterprise.save()
    after = {"legal_representative": enterprise.legal_representative_id,
             **{k: getattr(enterprise, k) for k in before if k != "legal_representative"}}
    diff = {k: [_plain(before[k]), _plain(after[k])] for k in before if before[k] != after[k]}
    action = "identity.enterprise.status" if set(diff) == {"status"} else "identity.enterprise.update"
    record(actor=actor, action=action, target=enterprise, changes=diff)
    return enterprise


def _plain(value):
    return value.isoformat() if isinstance(value, date) else value


# --------------------------------------------------------------------------- imports


def _import_start(actor, department, perm="identity.import_register"):
    department = _registering_office(actor, department)
    require(actor, perm, department=department)
    if department is None:
        raise InvalidInput("请指定登记机关（导入的记录归属的部门）", code="department_required")
    return department


def _save_run(*, actor, kind, file_name, data, department, valid_only, checked, imported) -> ImportRun:
    errors = [e.as_list() for e in checked.errors]
    run = ImportRun.objects.create(
        kind=kind, file_name=file_name[:255], file_sm3=sm3(data).hex(), valid_only=valid_only,
        total_rows=checked.total_rows, imported=imported, rejected=checked.rejected_rows,
        errors=errors[:ImportRun.MAX_STORED_ERRORS], errors_truncated=len(errors) > ImportRun.MAX_STORED_ERRORS,
        department=department, actor=user_of(actor))
    run.error_count = len(errors)
    run.ignored_columns = checked.ignored_columns
    record(actor=actor, action=f"identity.import.{kind}", target=run,
           changes={"file": file_name, "file_sm3": run.file_sm3, "rows": checked.total_rows, "imported": imported,
                    "rejected": run.rejected, "errors": len(errors), "valid_only": valid_only,
                    "department": department.pk})
    return run


def import_persons(*, actor, data: bytes, file_name: str, department=None, valid_only: bool = False,
                   progress: imports.Progress | None = None) -> ImportRun:
    """Import persons from an .xlsx/.csv file (人口批量导入), with a row-by-row error report.

    All or nothing by default: any error and no row is written. ``valid_only=True`` ("只导入有效行")
    writes the valid rows and reports the rest. Reading, checking and encrypting happen before the
    transaction (so the write lock is held only for the inserts); one audit entry per import.
    """
    progress = progress or imports._no_progress
    department = _import_start(actor, department)
    table = imports.read_table(data, file_name, imports.PERSON_COLUMNS, imports.PERSON_REQUIRED, progress=progress)
    checked = imports.check_persons(table, progress=progress)
    if valid_only or not checked.errors:
        imports.encrypt_persons(checked.valid, progress=progress)
    return _write_persons(actor=actor, data=data, file_name=file_name, department=department,
                          valid_only=valid_only, checked=checked, progress=progress)


@transaction.atomic
def _write_persons(*, actor, data, file_name, department, valid_only, checked, progress) -> ImportRun:
    imports.find_registered_persons(checked)  # inside the transaction: nobody registers them meanwhile
    checked.sort_errors(imports.PERSON_ORDER)
    rows = checked.valid if (valid_only or not checked.errors) else []
    try:
        with transaction.atomic():
            _insert_persons(rows, department_id=department.pk, progress=progress)
    except IntegrityError as exc:  # PostgreSQL: someone registered one of them after our check
        raise Conflict("导入期间有相同的公民身份号码被登记，请重新导入", code="import_conflict") from exc
    return _save_run(actor=actor, kind=ImportKind.PERSONS, file_name=file_name, data=data, department=department,
                     valid_only=valid_only, checked=checked, imported=len(rows))


_PERSON_INSERT_FIELDS = ("created_at", "updated_at", "name", "id_number", "id_number_bidx", "sex", "birth_date",
                         "nationality", "region_code", "address", "phone", "phone_bidx", "department", "user")


def _insert_persons(rows: list[imports.PersonRow], *, department_id: int, progress, batch: int = 5_000) -> None:
    """Straight to the table (the values are already checked, encrypted and indexed; going through the
    ORM would encrypt and index every value again): COPY on PostgreSQL, ``executemany`` on SQLite."""
    if not rows:
        return
    meta, ops, qn = Person._meta, connection.ops, connection.ops.quote_name
    columns = ", ".join(qn(meta.get_field(f).column) for f in _PERSON_INSERT_FIELDS)
    now = ops.adapt_datetimefield_value(timezone.now())
    adapt_date = ops.adapt_datefield_value

    def values(chunk):
        return [(now, now, r.name, r.id_cipher, r.id_bidx, r.sex, adapt_date(r.birth_date), r.nationality,
                 r.region_code, r.address, r.phone_cipher, r.phone_bidx, department_id, None) for r in chunk]

    with connection.cursor() as cur:
        if connection.vendor == "postgresql":
            with cur.cursor.copy(f"COPY {qn(meta.db_table)} ({columns}) FROM STDIN") as copy:
                for i in range(0, len(rows), batch):
                    chunk = rows[i:i + batch]
                    for row in values(chunk):
                        copy.write_row(row)
                    progress("写入", len(chunk), len(rows))
            return
        marks = ", ".join(["%s"] * len(_PERSON_INSERT_FIELDS))
        sql = f"INSERT INTO {qn(meta.db_table)} ({columns}) VALUES ({marks})"  # noqa: S608 (names from the model)
        for i in range(0, len(rows), batch):
            chunk = rows[i:i + batch]
            cur.executemany(sql, values(chunk))
            progress("写入", len(chunk), len(rows))


def import_enterprises(*, actor, data: bytes, file_name: str, department=None, valid_only: bool = False,
                       progress: imports.Progress | None = None) -> ImportRun:
    """Import enterprises (法人批量导入); the same rules as :func:`import_persons`. Legal representatives
    must already be in the person register."""
    progress = progress or imports._no_progress
    department = _import_start(actor, department)
    table = imports.read_table(data, file_name, imports.ENTERPRISE_COLUMNS, imports.ENTERPRISE_REQUIRED,
                               progress=progress)
    checked = imports.check_enterprises(table, progress=progress)
    return _write_enterprises(actor=actor, data=data, file_name=file_name, department=department,
                              valid_only=valid_only, checked=checked, progress=progress)


@transaction.atomic
def _write_enterprises(*, actor, data, file_name, department, valid_only, checked, progress) -> ImportRun:
    imports.resolve_enterprises(checked, persons=_visible_persons(actor))
    checked.sort_errors(imports.ENTERPRISE_ORDER)
    rows = checked.valid if (valid_only or not checked.errors) else []
    try:
        with transaction.atomic():
            Enterprise.objects.bulk_create(
                [Enterprise(name=r.name, uscc=r.uscc, legal_representative_id=r.legal_representative_id,
                            region_code=r.region_code, address=r.address, status=r.status,
                            established_on=r.established_on, department=department) for r in rows],
                batch_size=2_000)
    except IntegrityError as exc:
        raise Conflict("导入期间有相同的统一社会信用代码被登记，请重新导入", code="import_conflict") from exc
    progress("写入", len(rows), len(rows))
    return _save_run(actor=actor, kind=ImportKind.ENTERPRISES, file_name=file_name, data=data,
                     department=department, valid_only=valid_only, checked=checked, imported=len(rows))


@transaction.atomic
def record_export(*, actor, kind: str, fmt: str, count: int) -> None:
    """One audit entry per export (导出留痕); exported ID numbers and phones are always masked."""
    require(actor, "identity.export_register")
    record(actor=actor, action=f"identity.export.{kind}", target=(f"identity.{kind}", "*"),
           changes={"format": fmt, "rows": count, "masked": True})



@transaction.atomic
def link_account(*, person: Person, user) -> Person:
    """Bind a citizen's platform account to their register record (实名绑定)."""
    if person.user_id and person.user_id != user.pk:
        raise Conflict("该登记信息已绑定其他账号", code="person_already_linked")
    person.user = user
    person.save(update_fields=["user"])
    record(actor=user, action="identity.person.link_account", target=person, changes={"user": user.pk})
    return person
