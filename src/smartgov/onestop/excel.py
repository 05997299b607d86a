"""The catalogue as an Excel workbook (事项目录导入导出): one sheet of items with their elements, one of
materials, one of form fields, one of situations and one of fees — the layout departments already
keep their 实施清单 in. Import publishes a new version of every item whose content changed (or
creates it), all or nothing; every problem is reported with its sheet and row."""

import io
from collections import defaultdict
from decimal import Decimal

from django.db import transaction
from openpyxl import Workbook, load_workbook
from openpyxl.styles import Font, PatternFill

from smartgov.accounts.models import Department
from smartgov.core.errors import InvalidInput

from . import selectors, services
from .models import ServiceItem

ITEM_COLUMNS = ["实施编码", "基本编码", "业务办理项", "事项名称", "事项类型", "实施机构代码", "法定时限", "承诺时限",
                "到现场次数", "网办深度", "可网办", "设定依据", "受理条件", "办理地点", "办理时间", "结果类型",
                "结果名称", "结果证照类型", "设立登记", "流程", "说明", "常用说法"]
MATERIAL_COLUMNS = ["实施编码", "材料代码", "材料名称", "必需", "形式", "来源", "证照类型", "份数", "空白表格", "示例样表",
                    "备注", "适用条件"]
FIELD_COLUMNS = ["实施编码", "字段代码", "字段名称", "类型", "必填", "选项", "预填", "适用条件"]
SITUATION_COLUMNS = ["实施编码", "情形代码", "问题", "选项", "可多选", "适用条件"]
FEE_COLUMNS = ["实施编码", "收费项目", "金额（元）", "收费依据", "适用条件"]
YES = {"是", "Y", "y", "TRUE", "True", "true", "1", True}


def _cond(c) -> str:
    """A condition in one cell: ``situation=a|b; situation2=c`` (AND); prefix ``any:`` for OR."""
    if not c:
        return ""
    parts = [f"{cl['situation']}={'|'.join(cl['in'])}" for cl in (c.get("all") or [])]
    any_parts = [f"{cl['situation']}={'|'.join(cl['in'])}" for cl in (c.get("any") or [])]
    return "; ".join(parts) + (("; " if parts else "") + "any:" + "; any:".join(any_parts) if any_parts else "")


def _parse_cond(text) -> dict | None:
    text = (text or "").strip()
    if not text:
        return None
    out = {"all": [], "any": []}
    for part in filter(None, (p.strip() for p in text.split(";"))):
        target = "all"
        if part.startswith("any:"):
            target, part = "any", part[4:].strip()
        key, _, values = part.partition("=")
        out[target].append({"situation": key.strip(), "in": [v.strip() for v in values.split("|") if v.strip()]})
    return out


def export_catalogue(items) -> bytes:
    wb = Workbook()
    sheets = {"事项": (wb.active, ITEM_COLUMNS), "材料": (wb.create_sheet(), MATERIAL_COLUMNS),
              "表单字段": (wb.create_sheet(), FIELD_COLUMNS), "情形": (wb.create_sheet(), SITUATION_COLUMNS),
              "收费": (wb.create_sheet(), FEE_COLUMNS)}
    for title, (ws, cols) in sheets.items():
        ws.title = title
        ws.append(cols)
        for cell in ws[1]:
            cell.font = Font(bold=True, color="FFFFFF")
            cell.fill = PatternFill("solid", fgColor="B91C1C")
    for item in selectors.with_current_versions(items.select_related("department")):
        c = selectors.current_version(item).content
        code = item.implementation_code
        r = c["result"]
        sheets["事项"][0].append([
            code, item.basic_code, code[-2:], item.name, item.item_type, item.department.code,
            c["legal_limit_days"], c["promised_limit_days"], c["visits"], c["online_depth"],
            "是" if c["online"] else "否", c["legal_basis"], c["acceptance_conditions"], c["where"], c["hours"],
            r["kind"], r["name"], r.get("licence_type") or "", "是" if r.get("registers_enterprise") else "否",
            c["process"], c["description"], "、".join(c["synonyms"])])
        for m in c["materials"]:
            sheets["材料"][0].append([code, m["key"], m["name"], "是" if m["required"] else "否", m["form"], m["source"],
                                     m.get("licence_type") or "", m["copies"], m["blank_form"], m["sample"], m["note"],
                                     _cond(m.get("condition"))])
        for f in c["fields"]:
            sheets["表单字段"][0].append([code, f["key"], f["label"], f["type"], "是" if f["required"] else "否",
                                       "|".join(f["choices"]), f.get("prefill") or "", _cond(f.get("condition"))])
        for s in c["situations"]:
            sheets["情形"][0].append([code, s["key"], s["question"],
                                     "|".join(f"{o['value']}:{o['label']}" for o in s["options"]),
                                     "是" if s["multiple"] else "否", _cond(s.get("condition"))])
        for fee in c["fees"]:
            sheets["收费"][0].append([code, fee["name"], str(fee["amount"]), fee["basis"], _cond(fee.get("condition"))])
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def _rows(wb, title, columns, errors):
    if title not in wb.sheetnames:
        errors.append(f"缺少工作表“{title}”")
        return []
    ws = wb[title]
    header = [str(c.value or "").strip() for c in ws[1]]
    if header[:len(columns)] != columns:
        errors.append(f"工作表“{title}”的表头应为：{'、'.join(columns)}")
        return []
    out = []
    for n, row in enumerate(ws.iter_rows(min_row=2, values_only=True), start=2):
        if not any(v not in (None, "") for v in row):
            continue
        out.append((n, dict(zip(columns, ["" if v is None else v for v in row], strict=False))))
    return out


@transaction.atomic
def import_catalogue(*, actor, data: bytes) -> dict:
    """Create or publish new versions of the items in the workbook (only the actor's department's
    items); nothing is changed if any row is wrong."""
    try:
        wb = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception:
        raise InvalidInput("文件不是有效的 Excel 工作簿（.xlsx）", code="invalid_workbook") from None
    errors: list[str] = []
    items = _rows(wb, "事项", ITEM_COLUMNS, errors)
    parts = {name: defaultdict(list) for name in ("材料", "表单字段", "情形", "收费")}
    for name, cols in (("材料", MATERIAL_COLUMNS), ("表单字段", FIELD_COLUMNS), ("情形", SITUATION_COLUMNS),
                       ("收费", FEE_COLUMNS)):
        for n, row in _rows(wb, name, cols, errors):
            parts[name][str(row["实施编码"]).strip()].append((n, row))
    if errors:
        raise InvalidInput("；".join(errors), code="invalid_workbook", detail=errors)
    created = published = unchanged = 0
    depts = {d.code: d for d in Department.objects.all()}
    for n, row in items:
        code = str(row["实施编码"]).strip()
        try:
            content = {
                "description": str(row["说明"]), "synonyms": [s for s in str(row["常用说法"]).split("、") if s],
                "legal_basis": str(row["设定依据"]), "acceptance_conditions": str(row["受理条件"]),
                "legal_limit_days": int(row["法定时限"]), "promised_limit_days": int(row["承诺时限"]),
                "visits": int(row["到现场次数"]), "online_depth": int(row["网办深度"]), "online": row["可网办"] in YES,
                "where": str(row["办理地点"]), "hours": str(row["办理时间"]), "process": str(row["流程"] or "standard"),
                "result": {"kind": str(row["结果类型"]), "name": str(row["结果名称"]),
                           "licence_type": str(row["结果证照类型"]) or None,
                           "registers_enterprise": row["设立登记"] in YES},
                "materials": [{"key": str(m["材料代码"]), "name": str(m["材料名称"]), "required": m["必需"] in YES,
                               "form": str(m["形式"] or "electronic"), "source": str(m["来源"] or "applicant"),
                               "licence_type": str(m["证照类型"]) or None, "copies": int(m["份数"] or 1),
                               "blank_form": str(m["空白表格"]), "sample": str(m["示例样表"]), "note": str(m["备注"]),
                               "condition": _parse_cond(m["适用条件"])} for _, m in parts["材料"][code]],
                "fields": [{"key": str(f["字段代码"]), "label": str(f["字段名称"]), "type": str(f["类型"] or "text"),
                            "required": f["必填"] in YES, "choices": [c for c in str(f["选项"]).split("|") if c],
                            "prefill": str(f["预填"]) or None, "condition": _parse_cond(f["适用条件"])}
                           for _, f in parts["表单字段"][code]],
                "situations": [{"key": str(s["情形代码"]), "question": str(s["问题"]), "multiple": s["可多选"] in YES,
                                "options": [dict(zip(("value", "label"), o.split(":", 1), strict=False))
                                            for o in str(s["选项"]).split("|") if ":" in o],
                                "condition": _parse_cond(s["适用条件"])} for _, s in parts["情形"][code]],
                "fees": [{"name": str(f["收费项目"]), "amount": str(Decimal(str(f["金额（元）"] or 0))),
                          "basis": str(f["收费依据"]), "condition": _parse_cond(f["适用条件"])}
                         for _, f in parts["收费"][code]],
            }
            item = ServiceItem.objects.filter(implementation_code=code).first()
            if item is None:
                dept = depts.get(str(row["实施机构代码"]).strip())
                if dept is None:
                    raise InvalidInput(f"没有部门 {row['实施机构代码']}", code="unknown_department")
                services.create_item(actor=actor, department=dept, basic_code=str(row["基本编码"]).strip(),
                                     business_item=str(row["业务办理项"]).strip().zfill(2), name=str(row["事项名称"]),
                                     item_type=str(row["事项类型"]).strip(), content=content)
                created += 1
            elif services.parse_content(content).model_dump(mode="json", by_alias=True) == \
                    selectors.current_version(item).content and item.name == str(row["事项名称"]):
                unchanged += 1
            else:
                services.publish_item_version(actor=actor, item=item, content=content, name=str(row["事项名称"]))
                published += 1
        except InvalidInput as exc:
            errors.append(f"事项第{n}行（{code}）：{exc.message}" + (f" {exc.detail}" if exc.detail else ""))
        except (TypeError, ValueError) as exc:
            errors.append(f"事项第{n}行（{code}）：数值格式不正确（{exc}）")
    if errors:
        raise InvalidInput("导入失败，未做任何修改", code="import_failed", detail=errors)
    return {"created": created, "published": published, "unchanged": unchanged}
