"""Writes to the resource catalogue: publish a resource or a new version of it, switch it off, import
a workbook. Keyword-only, ``actor=``, atomic, audited."""

from django.db import transaction
from pydantic import ValidationError as PydanticError

from smartgov.accounts.models import Department
from smartgov.audit.services import record
from smartgov.core.errors import Conflict, InvalidInput
from smartgov.core.permissions import require

from ..catalogue import CODE, ResourceContent
from ..excel import read_workbook
from ..models import Resource, ResourceVersion, ShareType
from ..providers import discover


def parse_content(content: dict) -> ResourceContent:
    try:
        return ResourceContent.model_validate(content)
    except PydanticError as exc:
        raise InvalidInput("资源元数据不符合目录要求", code="invalid_resource",
                           detail=[{"loc": ".".join(str(x) for x in e["loc"]), "msg": e["msg"]}
                                   for e in exc.errors()]) from exc


def _check(code: str, name: str, share_type: str, content: ResourceContent) -> None:
    if not CODE.match(code or ""):
        raise InvalidInput("资源代码格式应为 分类-部门编码-5位顺序号，如 JC-SFC-GAJ-00001", code="invalid_resource_code")
    if not (name or "").strip() or len(name) > 200:
        raise InvalidInput("请填写资源名称（不超过200字）", code="invalid_resource_name")
    if share_type not in ShareType.values:
        raise InvalidInput("共享类型应为无条件共享、有条件共享或不予共享", code="invalid_share_type")
    if share_type == ShareType.CONDITIONAL and not content.share_condition.strip():
        raise InvalidInput("有条件共享的资源须写明共享条件", code="share_condition_required")
    if content.served_by.kind == "internal":
        if content.served_by.adapter not in discover():
            raise InvalidInput(f"内部提供方 {content.served_by.adapter} 不存在", code="unknown_adapter")


@transaction.atomic
def publish_resource(*, actor, department, code: str, name: str, share_type: str, content: dict) -> Resource:
    """Publish a resource of ``department`` (编目), or a new version of one it already publishes. Its
    code and provider never change; agreements keep the fields they were granted."""
    require(actor, "exchange.manage_resource", department=department)
    parsed = parse_content(content)
    code = (code or "").strip().upper()
    _check(code, name, share_type, parsed)
    resource = Resource.objects.select_for_update().filter(code=code).first()
    if resource is not None and resource.department_id != department.pk:
        raise Conflict("该资源代码已被其他部门使用", code="resource_code_taken")
    stored = parsed.model_dump(mode="json")
    if resource is None:
        resource = Resource.objects.create(code=code, name=name.strip(), department=department,
                                           share_type=share_type, current_version=1)
        version = 1
    else:
        latest = resource.versions.get(version=resource.current_version)
        if latest.content == stored and resource.name == name.strip() and resource.share_type == share_type:
            return resource  # nothing changed: no new version
        version = resource.current_version + 1
        resource.name, resource.share_type, resource.current_version = name.strip(), share_type, version
        resource.save(update_fields=["name", "share_type", "current_version", "updated_at"])
    ResourceVersion.objects.create(resource=resource, version=version, content=stored,
                                   created_by=actor.get_username())
    record(actor=actor, action="exchange.resource.publish", target=resource,
           changes={"code": code, "version": version, "share_type": share_type, "department": department.pk})
    return resource


@transaction.atomic
def set_resource_active(*, actor, resource: Resource, active: bool) -> Resource:
    """停用/启用: a switched-off resource answers no calls and takes no new requests."""
    require(actor, "exchange.manage_resource", department=resource.department, hide=True)
    if resource.active != active:
        resource.active = active
        resource.save(update_fields=["active", "updated_at"])
        record(actor=actor, action="exchange.resource.active", target=resource, changes={"active": active})
    return resource


def import_resources(*, actor, data: bytes) -> dict:
    """Import a catalogue workbook (the export's layout). All rows or nothing: any bad row and no row is
    written, and the errors name the rows."""
    rows, errors = read_workbook(data)
    if errors:
        raise InvalidInput("导入文件有错误，未导入任何资源", code="import_errors", detail=errors)

    departments = {d.code: d for d in Department.objects.filter(code__in={r["department"] for r in rows})}
    with transaction.atomic():
        for row in rows:
            n = row["row"]
            dept = departments.get(row["department"])
            if dept is None:
                errors.append({"row": n, "error": f"部门编码 {row['department']} 不存在"})
                continue
            try:
                publish_resource(actor=actor, department=dept, code=row["code"], name=row["name"],
                                 share_type=row["share_type"], content=row["content"])
            except (InvalidInput, Conflict) as exc:
                errors.append({"row": n, "error": exc.message, "detail": exc.detail})
        if errors:
            transaction.set_rollback(True)
            raise InvalidInput("导入文件有错误，未导入任何资源", code="import_errors", detail=errors)
    return {"imported": len(rows)}
