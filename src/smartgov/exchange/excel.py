"""The catalogue as an Excel workbook (信息资源目录导入导出): a sheet of resources (one row each, with
their core metadata) and a sheet of data items (信息项, one row each). Import reads the same layout;
``services.import_resources`` publishes all rows or none."""

import io

from openpyxl import Workbook, load_workbook
from openpyxl.styles import Font, PatternFill

from .catalogue import CATEGORIES, FORMATS, ITEM_TYPES, OPEN_TYPES, PARAM_TYPES, UPDATE_CYCLES
from .models import ShareType

RESOURCE_COLUMNS = ["资源代码", "资源名称", "提供方部门编码", "共享类型", "共享条件", "资源分类", "摘要", "开放属性", "更新周期",
                    "依据", "资源格式", "提供方式", "内部提供方/接口地址", "超时毫秒", "查询参数", "事件类型"]
ITEM_COLUMNS = ["资源代码", "信息项代码", "信息项名称", "数据类型", "长度", "个人信息", "敏感信息", "校验"]
YES = {"是", "Y", "y", "TRUE", "True", "true", "1", True}


def _label_to_key(mapping: dict, value, *, default: str) -> str:
    value = str(value or "").strip()
    if not value:
        return default
    if value in mapping:
        return value
    for key, label in mapping.items():
        if value == (label[0] if isinstance(label, tuple) else label):
            return key
    return value  # left as given: the content check names it


def _params_text(params: list[dict]) -> str:
    return "; ".join(f"{p['key']}:{p['name']}:{p['type']}" + ("" if p.get("required", True) else ":可选")
                     for p in params)


def _parse_params(text) -> list[dict]:
    out = []
    for part in filter(None, (p.strip() for p in str(text or "").split(";"))):
        bits = [b.strip() for b in part.split(":")]
        out.append({"key": bits[0], "name": bits[1] if len(bits) > 1 else bits[0],
                    "type": _label_to_key(PARAM_TYPES, bits[2] if len(bits) > 2 else "text", default="text"),
                    "required": not (len(bits) > 3 and bits[3] == "可选")})
    return out


def _header(ws, columns):
    ws.append(columns)
    for cell in ws[1]:
        cell.font = Font(bold=True)
        cell.fill = PatternFill("solid", fgColor="DCE6F1")


def export_workbook(resources) -> bytes:
    """``resources``: Resource rows with ``department`` and their current version's ``parsed`` content
    as ``(resource, content)`` pairs."""
    wb = Workbook()
    ws = wb.active
    ws.title = "信息资源"
    _header(ws, RESOURCE_COLUMNS)
    items = wb.create_sheet("信息项")
    _header(items, ITEM_COLUMNS)
    for resource, c in resources:
        served = c.served_by
        ws.append([resource.code, resource.name, resource.department.code, ShareType(resource.share_type).label,
                   c.share_condition, CATEGORIES[c.category], c.summary, OPEN_TYPES[c.open_type],
                   UPDATE_CYCLES[c.update_cycle][0], c.legal_basis, FORMATS[c.format],
                   "内部" if served.kind == "internal" else "接口",
                   served.adapter if served.kind == "internal" else served.url,
                   0 if served.kind == "internal" else served.timeout_ms,
                   _params_text([p.model_dump() for p in c.params]), "; ".join(c.events)])
        for i in c.items:
            items.append([resource.code, i.key, i.name, ITEM_TYPES[i.type], i.length, "是" if i.personal else "否",
                          "是" if i.sensitive else "否", i.check])
    for sheet in (ws, items):
        for col in sheet.columns:
            sheet.column_dimensions[col[0].column_letter].width = 18
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def _rows(ws, columns):
    header = [str(c.value or "").strip() for c in ws[1]]
    missing = [c for c in columns if c not in header]
    if missing:
        raise ValueError(f"工作表“{ws.title}”缺少列：{'、'.join(missing)}")
    idx = {c: header.index(c) for c in columns}
    for n, row in enumerate(ws.iter_rows(min_row=2, values_only=True), start=2):
        if all(v is None or str(v).strip() == "" for v in row):
            continue
        yield n, {c: row[idx[c]] if idx[c] < len(row) else None for c in columns}


def read_workbook(data: bytes) -> tuple[list[dict], list[dict]]:
    """Rows as ``{"code", "name", "department", "share_type", "content"}`` and a list of errors."""
    errors: list[dict] = []
    try:
        wb = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
        res_ws, item_ws = wb["信息资源"], wb["信息项"]
    except KeyError:
        return [], [{"row": 0, "error": "工作簿应有“信息资源”和“信息项”两个工作表"}]
    except Exception:  # openpyxl raises many kinds for a file that is not a workbook
        return [], [{"row": 0, "error": "文件不是有效的Excel工作簿（.xlsx）"}]
    try:
        item_rows = list(_rows(item_ws, ITEM_COLUMNS))
        res_rows = list(_rows(res_ws, RESOURCE_COLUMNS))
    except ValueError as exc:
        return [], [{"row": 1, "error": str(exc)}]
    items: dict[str, list[dict]] = {}
    for _n, r in item_rows:
        try:
            length = int(r["长度"] or 0)
        except (TypeError, ValueError):
            length = -1
        items.setdefault(str(r["资源代码"] or "").strip().upper(), []).append({
            "key": str(r["信息项代码"] or "").strip(), "name": str(r["信息项名称"] or "").strip(),
            "type": _label_to_key(ITEM_TYPES, r["数据类型"], default="string"), "length": length,
            "personal": r["个人信息"] in YES, "sensitive": r["敏感信息"] in YES, "check": str(r["校验"] or "").strip()})
    rows = []
    for n, r in res_rows:
        code = str(r["资源代码"] or "").strip().upper()
        kind = "http" if str(r["提供方式"] or "").strip() in ("接口", "http") else "internal"
        target = str(r["内部提供方/接口地址"] or "").strip()
        try:
            timeout = int(r["超时毫秒"] or 0)
        except (TypeError, ValueError):
            errors.append({"row": n, "error": "超时毫秒应为整数"})
            continue
        served = {"kind": "internal", "adapter": target} if kind == "internal" else \
            {"kind": "http", "url": target, "timeout_ms": timeout}
        share = _label_to_key({k: v for k, v in ShareType.choices}, r["共享类型"], default="")
        rows.append({"row": n, "code": code, "name": str(r["资源名称"] or "").strip(),
                     "department": str(r["提供方部门编码"] or "").strip(), "share_type": share,
                     "content": {"summary": str(r["摘要"] or "").strip(),
                                 "category": _label_to_key(CATEGORIES, r["资源分类"], default="BM"),
                                 "items": items.get(code, []), "params": _parse_params(r["查询参数"]),
                                 "share_condition": str(r["共享条件"] or "").strip(),
                                 "open_type": _label_to_key(OPEN_TYPES, r["开放属性"], default="closed"),
                                 "update_cycle": _label_to_key(UPDATE_CYCLES, r["更新周期"], default="realtime"),
                                 "legal_basis": str(r["依据"] or "").strip(),
                                 "format": _label_to_key(FORMATS, r["资源格式"], default="api"),
                                 "served_by": served,
                                 "events": [e.strip() for e in str(r["事件类型"] or "").split(";") if e.strip()]}})
    if not rows and not errors:
        errors.append({"row": 2, "error": "没有资源行"})
    return rows, errors
