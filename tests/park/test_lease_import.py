"""Existing leases from Excel: every row through the lease services, all or nothing, each bad row named
with its problem in Chinese; through the page, the API and the command."""

import io
from datetime import date, datetime
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from openpyxl import Workbook, load_workbook

from smartgov.core.errors import InvalidInput
from smartgov.park import excel
from smartgov.park.models import Bill, Enterprise, Lease, UnitStatus
from tests import factories
from tests.park import factories as pf

pytestmark = pytest.mark.django_db


def _workbook(rows, *, header=excel.COLUMNS, sheet=excel.SHEET) -> bytes:
    wb = Workbook()
    ws = wb.active
    ws.title = sheet
    ws.append(header)
    for r in rows:
        ws.append(r)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def _park_with_units():
    p = pf.park()
    b = pf.building(p, code="A")
    units = [pf.unit(b, code=c) for c in ("101", "102", "103")]
    return p, units


def _row(code, uscc, units, *, start=date(2026, 1, 1), end="2026-12-31", rent="10000", free="", esc="", every=""):
    return [code, uscc, "导入科技有限公司", "I6510", units, start, end, rent, "20000", free, esc, every]


def test_a_workbook_of_good_rows_signs_every_lease_with_its_bills_and_registers_new_tenants():
    p, _units = _park_with_units()
    resident = pf.enterprise(p, name="已入驻企业")
    new_uscc = factories.uscc()
    data = _workbook([
        _row("CL-1", resident.uscc, "A-101", free="2026-01-01~2026-02-28", esc="5", every="6"),
        _row("CL-2", new_uscc, "A-102、A-103", start=datetime(2026, 3, 1), end="2027/02/28", rent="8,000"),
    ])
    done = excel.import_leases(actor=pf.SYS, park=p, data=data)
    assert done == {"leases": 2, "enterprises": 1, "bills": 24}
    first = Lease.objects.get(code="CL-1")
    assert first.enterprise == resident and first.rent_free == [["2026-01-01", "2026-02-28"]]
    assert first.escalation_every_months == 6 and first.escalation_pct == Decimal("5")
    bills = list(first.bills.order_by("period_start"))
    assert bills[0].amount == 0 and bills[2].amount == Decimal("10000") and bills[6].amount == Decimal("10500")
    second = Lease.objects.get(code="CL-2")
    assert second.enterprise.uscc == new_uscc and second.monthly_rent == Decimal("8000")
    assert second.start_date == date(2026, 3, 1) and second.end_date == date(2027, 2, 28)
    assert {u.status for u in p.buildings.get().floors.get(number=1).units.all()} == {UnitStatus.LEASED}


def test_one_bad_row_writes_nothing_and_every_bad_row_is_named():
    p, _units = _park_with_units()
    ent = pf.enterprise(p)
    data = _workbook([
        _row("OK-1", ent.uscc, "A-101"),
        _row("BAD-UNIT", ent.uscc, "A-999"),
        _row("BAD-DATE", ent.uscc, "A-102", end="明年"),
        _row("TAKEN", ent.uscc, "A-101"),  # the unit the first row leased
        _row("BAD-USCC", "123", "A-103"),
        _row("", ent.uscc, "A-103"),
        _row("BAD-FREE", ent.uscc, "A-103", free="2025-01-01~2025-02-01"),
        _row("BAD-RENT", ent.uscc, "A-103", rent="一万"),
    ])
    with pytest.raises(InvalidInput) as exc:
        excel.import_leases(actor=pf.SYS, park=p, data=data)
    assert exc.value.code == "import_failed" and exc.value.message == "导入失败，未做任何修改"
    errors = exc.value.detail
    assert errors == [
        "第3行（BAD-UNIT）：没有单元 A-999",
        "第4行（BAD-DATE）：到期日应为日期（如 2026-01-01）",
        "第5行（TAKEN）：单元已出租或预留",
        "第6行（BAD-USCC）：统一社会信用代码无效",
        "第7行（无编号）：请填写合同编号",
        "第8行（BAD-FREE）：免租期应在租期之内且结束不早于开始",
        "第9行（BAD-RENT）：月租金应为数字",
    ]
    assert not Lease.objects.exists() and not Bill.objects.exists()
    assert Enterprise.objects.filter(park=p).count() == 1
    assert {u.status for u in p.buildings.get().floors.get(number=1).units.all()} == {UnitStatus.VACANT}


@pytest.mark.parametrize(("data", "code"), [
    (b"not a workbook", "invalid_workbook"),
    (_workbook([], sheet="Sheet"), "invalid_workbook"),
    (_workbook([["x"]], header=["编号"]), "invalid_workbook"),
    (_workbook([]), "empty_workbook"),
    (_workbook([excel.EXAMPLE]), "empty_workbook"),  # the template's example row is skipped
])
def test_a_workbook_in_the_wrong_shape_is_refused_as_a_whole(data, code):
    p, _ = _park_with_units()
    with pytest.raises(InvalidInput) as exc:
        excel.import_leases(actor=pf.SYS, park=p, data=data)
    assert exc.value.code == code


def test_the_template_is_the_layout_the_import_reads():
    ws = load_workbook(io.BytesIO(excel.lease_template()))[excel.SHEET]
    assert [c.value for c in ws[1]] == excel.COLUMNS


def test_the_page_imports_or_lists_the_bad_rows_and_the_api_answers_the_same():
    p, _units = _park_with_units()
    ent = pf.enterprise(p)
    client = factories.staff_client(pf.admin(p))
    bad = _workbook([_row("P-1", ent.uscc, "A-101"), _row("P-2", ent.uscc, "B-1")])
    page = client.post(f"/park/{p.pk}/leases/import/", {"file": SimpleUploadedFile("l.xlsx", bad)})
    assert page.status_code == 422 and "第3行（P-2）：没有单元 B-1" in page.content.decode()
    assert not Lease.objects.exists()
    api = client.post(f"/api/park/parks/{p.pk}/leases/import", {"file": SimpleUploadedFile("l.xlsx", bad)})
    assert api.status_code == 422 and api.json()["detail"] == ["第3行（P-2）：没有单元 B-1"]
    good = _workbook([_row("P-1", ent.uscc, "A-101")])
    assert client.post(f"/park/{p.pk}/leases/import/", {"file": SimpleUploadedFile("l.xlsx", good)}).status_code == 302
    api = client.post(f"/api/park/parks/{p.pk}/leases/import",
                      {"file": SimpleUploadedFile("l.xlsx", _workbook([_row("P-3", ent.uscc, "A-102")]))})
    assert api.status_code == 201 and api.json() == {"leases": 1, "enterprises": 0, "bills": 12}
    template = client.get("/park/lease-template.xlsx")
    assert template.status_code == 200 and template.content[:2] == b"PK"
    stranger = factories.staff_client(pf.admin(pf.park()))
    assert stranger.post(f"/api/park/parks/{p.pk}/leases/import",
                         {"file": SimpleUploadedFile("l.xlsx", good)}).status_code == 404


def test_the_command_imports_and_exits_non_zero_listing_the_bad_rows(tmp_path, capsys):
    p, _units = _park_with_units()
    ent = pf.enterprise(p)
    template = tmp_path / "t.xlsx"
    call_command("park", "import-leases", str(template), "--template")
    assert load_workbook(template)[excel.SHEET].max_row == 2
    bad = tmp_path / "bad.xlsx"
    bad.write_bytes(_workbook([_row("C-1", ent.uscc, "A-9")]))
    with pytest.raises(CommandError) as exc:
        call_command("park", "import-leases", str(bad), "--park", p.code)
    assert exc.value.returncode == 1 and "第2行（C-1）：没有单元 A-9" in capsys.readouterr().err
    good = tmp_path / "good.xlsx"
    good.write_bytes(_workbook([_row("C-1", ent.uscc, "A-101")]))
    call_command("park", "import-leases", str(good), "--park", p.code)
    assert "导入合同 1 份" in capsys.readouterr().out and Lease.objects.get().code == "C-1"
