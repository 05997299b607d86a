"""Exports of the register (导出) and the import error report (错误报告), as .xlsx or .csv.

Exports always mask ID numbers and phones (110105********1234, 138****5678): an export leaves the
platform, and a file cannot be audited once it has. Whoever needs a clear value reveals it in the
register, one person at a time, and that is audited.
"""

import csv
import io

from openpyxl import Workbook
from openpyxl.styles import Font

from smartgov.core.masking import mask_id_number, mask_phone

from .imports import ENTERPRISE_COLUMNS, PERSON_COLUMNS

PERSON_HEADERS = ["姓名", "公民身份号码（脱敏）", "性别", "出生日期", "国籍", "行政区划代码", "住址", "手机号（脱敏）",
                  "登记机关", "登记时间"]
ENTERPRISE_HEADERS = ["名称", "统一社会信用代码", "法定代表人", "法定代表人身份证号（脱敏）", "行政区划代码", "住所", "状态",
                      "成立日期", "登记机关"]
REPORT_HEADERS = ["行号", "列", "错误说明", "填写的值"]


def person_rows(queryset):
    for p in queryset.iterator(chunk_size=2000):
        yield [p.name, mask_id_number(p.id_number), p.get_sex_display(), p.birth_date.isoformat(), p.nationality,
               p.region_code, p.address, mask_phone(p.phone) if p.phone else "",
               p.department.name if p.department else "", p.created_at.strftime("%Y-%m-%d %H:%M")]


def enterprise_rows(queryset):
    for e in queryset.iterator(chunk_size=2000):
        rep = e.legal_representative
        yield [e.name, e.uscc, rep.name if rep else "", mask_id_number(rep.id_number) if rep else "", e.region_code,
               e.address, e.get_status_display(), e.established_on.isoformat() if e.established_on else "",
               e.department.name if e.department else ""]


def to_xlsx(headers: list[str], rows, *, title: str) -> bytes:
    """Write-only openpyxl: rows are streamed, not held as cell objects."""
    wb = Workbook(write_only=True)
    ws = wb.create_sheet(title)
    ws.append(headers)
    for row in rows:
        ws.append(row)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def to_csv(headers: list[str], rows) -> bytes:
    """UTF-8 with a BOM, so that Excel in Chinese opens it without garbling."""
    buf = io.StringIO()
    writer = csv.writer(buf)
    writer.writerow(headers)
    writer.writerows(rows)
    return ("\ufeff" + buf.getvalue()).encode("utf-8")


def error_report_xlsx(run) -> bytes:
    """The row-by-row error report of an import: row number, column, message, the value as written
    (ID numbers and phones masked)."""
    wb = Workbook()
    ws = wb.active
    ws.title = "错误报告"
    ws.append([f"导入文件：{run.file_name}"])
    outcome = (f"共 {run.total_rows} 行，已导入 {run.imported} 行，{run.rejected} 行有错误"
               + ("（未导入任何数据：文件有错误时默认全部不导入）" if run.rejected and not run.imported else ""))
    ws.append([outcome])
    if run.errors_truncated:
        ws.append([f"错误过多，仅列出前 {len(run.errors)} 条"])
    ws.append([])
    ws.append(REPORT_HEADERS)
    bold = Font(bold=True)
    for cell in ws[ws.max_row]:
        cell.font = bold
    for row in run.errors:
        ws.append(row)
    for letter, width in zip("ABCD", (8, 18, 60, 24), strict=True):
        ws.column_dimensions[letter].width = width
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def template_xlsx(kind: str) -> bytes:
    """An empty import template with the Chinese headers, the ID number columns formatted as text."""
    columns = PERSON_COLUMNS if kind == "persons" else ENTERPRISE_COLUMNS
    wb = Workbook()
    ws = wb.active
    ws.title = "人口" if kind == "persons" else "法人"
    labels = [label for key, (label, _) in columns.items() if key not in ("sex", "birth_date")]
    ws.append(labels)
    for i, label in enumerate(labels, start=1):
        letter = ws.cell(row=1, column=i).column_letter
        ws.column_dimensions[letter].width = 22
        if "身份证" in label or "身份号码" in label or "手机" in label or "代码" in label:
            for r in range(2, 1002):
                ws.cell(row=r, column=i).number_format = "@"
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()
