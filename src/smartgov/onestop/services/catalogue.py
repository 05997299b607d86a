"""The catalogue (事项目录): service items, their versioned content (要素), and 一件事 bundles."""

from django.db import transaction
from pydantic import ValidationError as PydanticError

from smartgov.audit.services import record
from smartgov.core.errors import Conflict, InvalidInput
from smartgov.core.permissions import require, user_of
from smartgov.licences.models import LicenceType

from .. import selectors
from ..catalogue import BASIC_CODE, ItemContent
from ..models import Bundle, BundleItem, ItemType, ItemVersion, ServiceItem


def parse_content(content: dict) -> ItemContent:
    try:
        return ItemContent.model_validate(content)
    except PydanticError as exc:
        raise InvalidInput("事项要素不完整或格式不正确", code="invalid_item_content",
                           detail=exc.errors(include_url=False, include_context=False)) from None


def implementation_code(department, basic_code: str, business_item: str = "01") -> str:
    """实施编码 = implementing department's USCC (18) + basic code (10) + business item (2)."""
    if not department.uscc:
        raise InvalidInput(f"{department.name}没有统一社会信用代码，不能编制实施编码", code="department_uscc_missing")
    if not BASIC_CODE.match(basic_code or ""):
        raise InvalidInput("基本编码应为2位事项类型字母加8位数字", code="invalid_basic_code")
    if not (business_item.isdigit() and len(business_item) == 2):
        raise InvalidInput("业务办理项编码应为2位数字", code="invalid_business_item")
    return f"{department.uscc}{basic_code}{business_item}"


def _check_result_type(department, content: ItemContent) -> None:
    if content.result.kind != "licence":
        return
    lt = LicenceType.objects.filter(code=content.result.licence_type).first()
    if lt is None:
        raise InvalidInput(f"结果证照类型 {content.result.licence_type} 不存在", code="unknown_licence_type")
    if lt.department_id != department.pk:
        raise InvalidInput("结果证照须由事项的实施机构签发", code="licence_type_department")
    missing = {f["key"] for f in lt.field_template if f.get("required")} - {f.key for f in content.fields}
    if missing:
        raise InvalidInput(f"表单缺少证照照面字段：{'、'.join(sorted(missing))}", code="licence_fields_missing")


@transaction.atomic
def create_item(*, actor, department, basic_code: str, name: str, item_type: str, content: dict,
                business_item: str = "01") -> ServiceItem:
    """Add an item to the department's implementation list with its first version."""
    require(actor, "onestop.manage_catalogue", department=department, include_descendants=False)
    if item_type not in ItemType.values or not basic_code.startswith(item_type):
        raise InvalidInput("事项类型与基本编码不符", code="invalid_item_type")
    parsed = parse_content(content)
    _check_result_type(department, parsed)
    code = implementation_code(department, basic_code, business_item)
    if ServiceItem.objects.filter(implementation_code=code).exists():
        raise Conflict("该实施编码已存在", code="item_exists")
    item = ServiceItem.objects.create(basic_code=basic_code, implementation_code=code, name=name.strip(),
                                      item_type=item_type, department=department, current_version=1)
    ItemVersion.objects.create(item=item, version=1, content=parsed.model_dump(mode="json", by_alias=True),
                               created_by=user_of(actor))
    record(actor=actor, action="onestop.item.create", target=item, changes={"code": code, "name": item.name})
    return item


@transaction.atomic
def publish_item_version(*, actor, item: ServiceItem, content: dict, name: str | None = None,
                         active: bool | None = None) -> ItemVersion:
    """Publish new content for an item (版本化): applications already made keep their version."""
    item = ServiceItem.objects.select_for_update().select_related("department").get(pk=item.pk)
    require(actor, "onestop.manage_catalogue", department=item.department, include_descendants=False)
    parsed = parse_content(content)
    _check_result_type(item.department, parsed)
    version = ItemVersion.objects.create(item=item, version=item.current_version + 1, created_by=user_of(actor),
                                         content=parsed.model_dump(mode="json", by_alias=True))
    item.current_version = version.version
    if name:
        item.name = name.strip()
    if active is not None:
        item.active = active
    item.save(update_fields=["current_version", "name", "active", "updated_at"])
    transaction.on_commit(lambda: selectors.forget_item(item.implementation_code))
    record(actor=actor, action="onestop.item.publish", target=item, changes={"version": version.version})
    return version


@transaction.atomic
def create_bundle(*, actor, code: str, name: str, items: list[ServiceItem], description: str = "",
                  synonyms: list[str] | None = None) -> Bundle:
    require(actor, "onestop.manage_catalogue")
    if len(items) < 2:
        raise InvalidInput("一件事至少包含两个事项", code="bundle_too_small")
    if Bundle.objects.filter(code=code).exists():
        raise Conflict("该一件事代码已存在", code="bundle_exists")
    bundle = Bundle.objects.create(code=code, name=name, description=description, synonyms=synonyms or [])
    BundleItem.objects.bulk_create([BundleItem(bundle=bundle, item=item, order=i) for i, item in enumerate(items)])
    record(actor=actor, action="onestop.bundle.create", target=bundle, changes={"items": [i.pk for i in items]})
    return bundle
