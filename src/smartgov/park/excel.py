"""Existing leases from an Excel workbook (存量租赁合同导入), in the layout of ``lease_template()``: one sheet
「租赁合同」, one lease a row. All or nothing: every row is checked through the same services a lease signed
in the page goes through (enterprise registered if it is not yet resident, units vacant, rent-free periods
within the term, every bill issued), and one bad row leaves nothing written — the answer names each bad row
with its problem in Chinese. Same library and style as the one-stop catalogue's import (openpyxl)."""

import io
import re
from datetime import date, datetime
from decimal import Decimal, InvalidOperation

from django.db import transaction
from openpyxl import Workbook, load_workbook
from openpyxl.styles import Font, PatternFill

from smartgov.core.errors import DomainError, InvalidInput
from smartgov.core.permissions import require

from . import services
from .models import Park, Unit

SHEET = "租赁合同"
COLUMNS = ["合同编号", "统一社会信用代码", "企业名称", "行业代码", "租赁单元", "起租日", "到期日", "月租金（元）", "押金（元）",
           "免租期", "递增比例（%）", "递增周期（月）"]
EXAMPLE = ["ZL-2026-001", "91330100MA2XXXXXXX", "示例科技有限公司", "I6510", "A-101、A-102", "2026-01-01", "2027-12-31",
           "12000", "24000", "2026-01-01~2026-03-31", "5", "12"]
MAX_BYTES = 5 * 1_048_576
MAX_ROWS = 2000
_LIST = re.compile(r"[、,，;；\s]+")
_RANGE = re.compile(r"\s*(?:~|～|至|--)\s*")


def lease_template() -> bytes:
    """The empty workbook to fill in: the header, and an example row the import skips when left unchanged."""
    wb = Workbook()
    ws = wb.active
    ws.title = SHEET
    ws.append(COLUMNS)
    for cell in ws[1]:
        cell.font = Font(bold=True, color="FFFFFF")
        cell.fill = PatternFill("solid", fgColor="B91C1C")
    ws.append(EXAMPLE)
    for n, width in enumerate([16, 22, 26, 10, 18, 12, 12, 12, 12, 26, 12, 12], start=1):
        ws.column_dimensions[chr(64 + n)].width = width
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def _text(v) -> str:
    return "" if v is None else str(v).strip()


def _date(v, name: str) -> date:
    if isinstance(v, datetime):
        return v.date()
    if isinstance(v, date):
        return v
    try:
        return date.fromisoformat(_text(v).replace("/", "-"))
    except ValueError:
        raise InvalidInput(f"{name}应为日期（如 2026-01-01）", code="invalid_date") from None


def _number(v, name: str, *, default="0") -> Decimal:
    text = _text(v) or default
    try:
        d = Decimal(text.replace(",", ""))
    except InvalidOperation:
        raise InvalidInput(f"{name}应为数字", code="invalid_number") from None
    if not d.is_finite():
        raise InvalidInput(f"{name}应为数字", code="invalid_number")
    return d


def _units(park: Park, text: str) -> list[Unit]:
    """``A-101、A-102``: building code, a hyphen, unit code (as the pages show a unit)."""
    names = [n for n in _LIST.split(text) if n]
    if not names:
        raise InvalidInput("请填写租赁单元（楼栋编码-单元号，多个用、分隔）", code="units_required")
    out = []
    for name in names:
        building, sep, code = name.partition("-")
        found = list(Unit.objects.filter(floor__building__park=park, floor__building__code=building, code=code)[:2]) \
            if sep else []
        if len(found) != 1:
            raise InvalidInput(f"没有单元 {name}" if not found else f"单元 {name} 不唯一", code="unit_not_found")
        out.append(found[0])
    return out


def _rent_free(text: str) -> list[list[str]]:
    out = []
    for part in (p for p in re.split(r"[;；\n]+", text) if p.strip()):
        bounds = _RANGE.split(part.strip())
        if len(bounds) != 2:
            raise InvalidInput("免租期应为“开始日~结束日”，多段用；分隔", code="invalid_rent_free")
        out.append([_date(bounds[0], "免租期").isoformat(), _date(bounds[1], "免租期").isoformat()])
    return out


def _rows(data: bytes) -> list[tuple[int, dict]]:
    if len(data) > MAX_BYTES:
        raise InvalidInput("文件超过 5 MB", code="file_too_large")
    try:
        wb = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception:
        raise InvalidInput("文件不是有效的 Excel 工作簿（.xlsx）", code="invalid_workbook") from None
    if SHEET not in wb.sheetnames:
        raise InvalidInput(f"缺少工作表“{SHEET}”", code="invalid_workbook")
    rows = wb[SHEET].iter_rows(values_only=True)
    header = [_text(c) for c in next(rows, ())]
    if header[:len(COLUMNS)] != COLUMNS:
        raise InvalidInput(f"表头应为：{'、'.join(COLUMNS)}", code="invalid_workbook")
    out = []
    for n, row in enumerate(rows, start=2):
        values = [_text(v) for v in row[:len(COLUMNS)]]
        if not any(values) or values == EXAMPLE:
            continue
        if len(out) >= MAX_ROWS:
            raise InvalidInput(f"一次最多导入 {MAX_ROWS} 份合同", code="too_many_rows")
        out.append((n, dict(zip(COLUMNS, list(row[:len(COLUMNS)]) + [None] * len(COLUMNS), strict=False))))
    if not out:
        raise InvalidInput("工作表中没有合同", code="empty_workbook")
    return out


@transaction.atomic
def import_leases(*, actor, park: Park, data: bytes) -> dict:
    """Sign every lease of the workbook in ``park`` (registering enterprises not yet resident), or none:
    an InvalidInput whose ``detail`` lists ``第N行（合同编号）：问题`` for every bad row."""
    require(actor, "park.lease", department=park.department)
    rows = _rows(data)
    errors: list[str] = []
    leases = enterprises = bills = 0
    for n, row in rows:
        code = _text(row["合同编号"])
        try:
            if not code:
                raise InvalidInput("请填写合同编号", code="code_required")
            uscc = _text(row["统一社会信用代码"]).upper()
            ent = park.enterprises.filter(uscc=uscc).first()
            if ent is None:
                if not _text(row["企业名称"]) or not _text(row["行业代码"]):
                    raise InvalidInput("企业未入驻本园区：请填写企业名称和行业代码以便登记入驻", code="enterprise_not_found")
                ent = services.register_enterprise(actor=actor, park=park, name=_text(row["企业名称"]), uscc=uscc,
                                                   industry=_text(row["行业代码"]))
                enterprises += 1
            every = _number(row["递增周期（月）"], "递增周期", default="12")
            if every != every.to_integral_value() or not 1 <= every <= 120:
                raise InvalidInput("递增周期应为 1～120 的整数（月）", code="invalid_escalation")
            lease = services.create_lease(
                actor=actor, park=park, enterprise=ent, code=code, units=_units(park, _text(row["租赁单元"])),
                start_date=_date(row["起租日"], "起租日"), end_date=_date(row["到期日"], "到期日"),
                monthly_rent=_number(row["月租金（元）"], "月租金", default=""), deposit=_number(row["押金（元）"], "押金"),
                rent_free=_rent_free(_text(row["免租期"])), escalation_pct=_number(row["递增比例（%）"], "递增比例"),
                escalation_every_months=int(every))
            leases += 1
            bills += lease.bills.count()
        except DomainError as exc:
            errors.append(f"第{n}行（{code or '无编号'}）：{exc.message}")
    if errors:
        raise InvalidInput("导入失败，未做任何修改", code="import_failed", detail=errors)
    return {"leases": leases, "enterprises": enterprises, "bills": bills}
