"""企业服务 (报修、政策申报、投诉) as one-stop catalogue items of the park operator's department.

They are ordinary items (``onestop``): an enterprise's legal representative applies for them in the
enterprise's name, the operator's officers take them through the one-stop queue on the shared workflow
(deadline in working days, 黄牌/红牌, notifications), and the enterprise evaluates the closed case (好差评).
This module holds what the park adds: the items' content, and ``validate_application`` — registered with
``onestop.hooks.on_validate`` — which checks that the park exists under the item's department, that the
applying enterprise is resident there and, for a repair, that the unit is one it leases. It only reads."""

from .models import LeaseStatus, Park, Unit

PARK_FIELD = {"key": "park", "label": "园区编码", "type": "text"}
PHONE = {"key": "contact_phone", "label": "联系电话", "type": "phone"}

# kind → (basic code, item type, name, content); basic codes of the 091xx range, which the national list leaves free
SERVICES: dict[str, tuple[str, str, str, dict]] = {
    "repair": ("GG09101000", "GG", "园区企业物业报修", {
        "description": "入驻企业在租单元的水电、空调、门窗、网络、消防设施等报修", "synonyms": ["报修", "维修", "坏了"],
        "acceptance_conditions": "报修单元为本企业在租单元", "legal_limit_days": 3, "promised_limit_days": 2,
        "visits": 0, "online_depth": 4, "process": "fast",
        "result": {"kind": "document", "name": "报修处理结果"},
        "fields": [PARK_FIELD,
                   {"key": "unit", "label": "报修单元（楼栋-单元，如 A-101）", "type": "text"},
                   {"key": "category", "label": "报修类别", "type": "choice",
                    "choices": ["水电", "空调暖通", "门窗", "网络通信", "消防设施", "其他"]},
                   {"key": "description", "label": "故障描述", "type": "textarea"}, PHONE]}),
    "policy": ("JF09102000", "JF", "园区企业政策申报（租金补贴等）", {
        "description": "入驻企业申报园区扶持政策：租金补贴、研发投入补助、人才安居补贴等", "synonyms": ["租金补贴", "政策申报", "补贴"],
        "acceptance_conditions": "申报企业为园区入驻企业", "legal_limit_days": 20, "promised_limit_days": 15,
        "visits": 0, "online_depth": 4, "process": "standard",
        "result": {"kind": "document", "name": "政策兑现核定结果"},
        "materials": [{"key": "supporting", "name": "申报佐证材料", "required": False}],
        "fields": [PARK_FIELD,
                   {"key": "policy", "label": "申报政策", "type": "choice",
                    "choices": ["租金补贴", "研发投入补助", "人才安居补贴", "其他扶持政策"]},
                   {"key": "period", "label": "申报期间（如 2026年度）", "type": "text"},
                   {"key": "amount", "label": "申报金额（元）", "type": "number"},
                   {"key": "description", "label": "申报说明", "type": "textarea", "required": False}]}),
    "complaint": ("GG09103000", "GG", "园区企业投诉", {
        "description": "入驻企业对园区物业、服务、管理的投诉与建议", "synonyms": ["投诉", "意见", "建议"],
        "legal_limit_days": 10, "promised_limit_days": 5, "visits": 0, "online_depth": 4, "process": "fast",
        "result": {"kind": "document", "name": "投诉处理意见"},
        "fields": [PARK_FIELD,
                   {"key": "subject", "label": "投诉事项", "type": "text"},
                   {"key": "content", "label": "投诉内容", "type": "textarea"},
                   {**PHONE, "required": False}]}),
}
KIND_OF_CODE = {code: kind for kind, (code, *_rest) in SERVICES.items()}
BASIC_CODES = tuple(KIND_OF_CODE)
KIND_LABELS = {"repair": "报修", "policy": "政策申报", "complaint": "投诉"}


def field_choices(kind: str, key: str) -> list[str]:
    return next(f.get("choices", []) for f in SERVICES[kind][3]["fields"] if f["key"] == key)


def unit_label(unit: Unit) -> str:
    return f"{unit.floor.building.code}-{unit.code}"


def leased_units(enterprise) -> list[Unit]:
    """The units the resident enterprise leases now (active leases), in order."""
    return list(Unit.objects.filter(leases__enterprise=enterprise, leases__status=LeaseStatus.ACTIVE)
                .select_related("floor__building").distinct().order_by("floor__building__code", "code"))


def validate_application(*, item, form: dict, enterprise, actor) -> dict[str, str]:
    """The park's checks of an application to one of its service items (``onestop.hooks.on_validate``)."""
    kind = KIND_OF_CODE.get(item.basic_code)
    if kind is None or not Park.objects.filter(department_id=item.department_id).exists():
        return {}  # not a park service item
    park = Park.objects.filter(code=str(form.get("park") or "").strip(), department_id=item.department_id).first()
    if park is None:
        return {"park": "园区编码不存在或不属于该事项的实施机构"}
    if enterprise is None:
        return {"enterprise": "请以入驻企业名义申请（您须是该企业的法定代表人）"}
    resident = park.enterprises.filter(uscc=enterprise.uscc).first()
    if resident is None:
        return {"enterprise": f"该企业不是{park.name}的入驻企业"}
    if kind == "repair":
        wanted = str(form.get("unit") or "").strip().upper()
        if wanted and wanted not in {unit_label(u).upper() for u in leased_units(resident)}:
            return {"unit": "该单元不是贵企业在租的单元"}
    return {}


def summary(form: dict) -> str:
    """One line of a case's form for lists: what is broken, which policy, what about (plain fields only)."""
    parts = [form.get(k, "") for k in ("category", "policy", "period", "subject")]
    text = " · ".join(str(p) for p in parts if p)
    detail = str(form.get("description") or form.get("content") or "")
    return f"{text}：{detail[:40]}" if text and detail else text or detail[:40]
