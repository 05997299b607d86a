import io
import json

import pytest
from django.core.exceptions import ValidationError
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openpyxl import load_workbook

from smartgov.audit.models import AuditEntry
from smartgov.core.errors import InvalidInput
from smartgov.core.permissions import system_actor
from smartgov.identity import exports, imports, services
from smartgov.identity.bench import synthetic_csv, synthetic_xlsx
from smartgov.identity.models import Enterprise, Person
from tests import factories as f

from .helpers import PERSON_HEADER, csv_bytes, person, person_row, xlsx

pytestmark = pytest.mark.django_db


def run_import(rows, *, fmt="xlsx", valid_only=False, department=None, header=PERSON_HEADER):
    data = xlsx(rows, header) if fmt == "xlsx" else csv_bytes(rows, header)
    return services.import_persons(actor=system_actor("test"), data=data, file_name=f"people.{fmt}",
                                   department=department or f.department(), valid_only=valid_only)


def test_a_valid_file_imports_every_row_with_one_audit_entry():
    before = AuditEntry.objects.count()
    run = run_import([person_row(i, phone="13812345678" if i == 1 else "") for i in range(1, 6)])
    assert (run.total_rows, run.imported, run.rejected, run.errors) == (5, 5, 0, [])
    p = Person.objects.get(name="测试1")
    assert p.phone == "13812345678" and p.sex == "M" and p.department == run.department
    assert AuditEntry.objects.count() == before + 2  # the department, then the one import entry
    entry = AuditEntry.objects.order_by("seq").last()
    assert entry.action == "identity.import.persons" and json.loads(entry.changes)["imported"] == 5
    assert json.loads(entry.changes)["file_sm3"] == run.file_sm3 and len(run.file_sm3) == 64


def test_any_error_imports_nothing_and_reports_row_column_message():
    rows = [person_row(i) for i in range(1, 5)]
    rows[1][1] = rows[1][1][:-1] + ("0" if rows[1][1][-1] != "0" else "1")  # wrong check character, row 3
    rows[3][5] = "12345"  # bad phone, row 5
    run = run_import(rows)
    assert run.imported == 0 and run.rejected == 2 and not Person.objects.exists()
    assert [(r, c) for r, c, _m, _v in run.errors] == [(3, "公民身份号码"), (5, "手机号")]
    assert run.errors[0][2] == "身份证号码校验码不正确，请核对后重新输入。"
    assert "*" in run.errors[0][3]  # the value is shown masked


def test_valid_only_imports_the_valid_rows_and_reports_the_rest():
    rows = [person_row(i) for i in range(1, 5)]
    rows[2][0] = ""
    run = run_import(rows, valid_only=True)
    assert (run.imported, run.rejected) == (3, 1)
    assert run.errors == [[4, "姓名", "姓名不能为空", ""]]
    assert Person.objects.count() == 3


def test_duplicates_within_the_file_and_against_the_register():
    dept = f.department()
    existing = person(dept, seq=1)
    rows = [person_row(10), person_row(11), person_row(10), [*person_row(0)[:1], existing.id_number, *person_row(0)[2:]]]
    run = run_import(rows, valid_only=True, department=dept)
    messages = {r: m for r, _c, m, _v in run.errors}
    assert messages == {4: "与第2行的公民身份号码重复", 5: "该公民身份号码已在人口库登记"}
    assert run.imported == 2


def test_sex_and_birth_date_columns_are_checked_against_the_id_number():
    header = [*PERSON_HEADER, "性别", "出生日期"]
    rows = [[*person_row(1), "男", "1990-01-01"], [*person_row(2), "男", "1990/1/2"], [*person_row(3), "女", ""]]
    run = run_import(rows, header=header)
    assert [(r, c) for r, c, _m, _v in run.errors] == [(3, "性别"), (3, "出生日期"), (4, "性别")]  # seq 2 is 女
    assert run.errors[1][2] == "出生日期与身份证号码不符"


def test_gbk_csv_and_utf8_csv_with_bom_both_read():
    rows = [person_row(1, name="张三"), person_row(2, name="李四")]
    for encoding in ("gbk", "utf-8-sig", "utf-8"):
        Person.objects.all().delete()
        data = csv_bytes(rows, encoding=encoding)
        run = services.import_persons(actor=system_actor("test"), data=data, file_name="人口.csv", department=f.department())
        assert run.imported == 2, encoding
        assert set(Person.objects.values_list("name", flat=True)) == {"张三", "李四"}


def test_english_headers_blank_rows_and_unknown_columns():
    header = ["name", "id_number", "note"]
    run = run_import([["张三", f.id_number(seq=1), "x"], ["", "", ""], ["李四", f.id_number(seq=2), ""]], header=header)
    assert run.imported == 2 and run.ignored_columns == ["note"]


def test_an_id_number_excel_stored_as_a_number_is_explained():
    row = person_row(1)
    row[1] = float(row[1][:17] + "0")
    run = run_import([row])
    assert "Excel存成了数字" in run.errors[0][2]


@pytest.mark.parametrize(("name", "data", "code"), [
    ("a.pdf", b"%PDF", "unsupported_file_type"),
    ("a.csv", csv_bytes([], ["姓名", "住址"]), "missing_columns"),
    ("a.csv", csv_bytes([]), "no_rows"),
    ("a.xlsx", b"not a zip", "unreadable_file"),
])
def test_unreadable_files_are_refused_as_a_whole(name, data, code):
    with pytest.raises(InvalidInput) as exc:
        services.import_persons(actor=system_actor("test"), data=data, file_name=name, department=f.department())
    assert exc.value.code == code


def test_thousand_rows_xlsx_and_csv_with_an_error_report():
    dept = f.department()
    run = services.import_persons(actor=system_actor("test"), data=synthetic_xlsx(1000, region="330106", seed=1), file_name="k.xlsx",
                                  department=dept)
    assert run.imported == 1000
    run = services.import_persons(actor=system_actor("test"), data=synthetic_csv(1000, region="330106", seed=1), file_name="k.csv",
                                  department=dept)
    assert run.imported == 0 and run.rejected == 1000  # every row is already registered
    report = load_workbook(io.BytesIO(exports.error_report_xlsx(run)))
    rows = list(report.active.iter_rows(values_only=True))
    header_at = rows.index(tuple(exports.REPORT_HEADERS))
    assert rows[header_at + 1][:3] == (2, "公民身份号码", "该公民身份号码已在人口库登记")
    assert len(rows) - header_at - 1 == 1000


def test_fast_xlsx_reader_agrees_with_openpyxl():
    data = xlsx([person_row(1), [], ["李四", None, "CHN"], person_row(3, phone=13812345678)])
    def cells(rows):  # what the import sees: text, trailing blanks dropped
        out = []
        for n, row in rows:
            text = [imports._text(c) for c in row]
            while text and not text[-1]:
                text.pop()
            out.append((n, text))
        return out

    assert cells(imports._xlsx_rows(data)) == cells(imports._openpyxl_rows(data))


def test_enterprise_import_links_legal_representatives():
    dept = f.department()
    rep = person(dept, seq=3)
    header = ["名称", "统一社会信用代码", "法定代表人身份证号", "行政区划代码", "住所", "状态", "成立日期"]
    code = f.uscc()
    rows = [["示范科技", code, rep.id_number, "330106", "文三路1号", "存续", "2020-05-01"],
            ["无名公司", f.uscc(), f.id_number(seq=999), "", "", "", ""],
            ["重复", code, "", "", "", "注销", ""],
            ["坏码", "123", "", "", "", "歇业", "2099-01-01"]]
    run = services.import_enterprises(actor=system_actor("test"), data=xlsx(rows, header), file_name="e.xlsx", department=dept,
                                      valid_only=True)
    assert run.imported == 1
    e = Enterprise.objects.get()
    assert e.legal_representative == rep and str(e.established_on) == "2020-05-01"
    assert [(r, c) for r, c, _m, _v in run.errors] == [(3, "法定代表人身份证号"), (4, "统一社会信用代码"),
                                                       (5, "统一社会信用代码"), (5, "状态"), (5, "成立日期")]


# --- the import's checks and the model's own validation reach the same verdict --------------------------

_id_numbers = st.builds(lambda birth, seq: f.id_number(birth, seq), st.sampled_from(["19900101", "20000229", "19491231"]),
                        st.integers(0, 999))
_values = st.fixed_dictionaries({
    "name": st.one_of(st.just(""), st.text(alphabet="张王李三四 ", min_size=1, max_size=3), st.just("名" * 101)),
    "id_number": st.one_of(_id_numbers, _id_numbers.map(lambda s: s[:-1] + "5"), st.just("12345"),
                           _id_numbers.map(str.lower)),
    "nationality": st.sampled_from(["CHN", "chn", "US", "12A", ""]),
    "region_code": st.sampled_from(["", "330106", "33010", "abcdef"]),
    "phone": st.sampled_from(["", "13812345678", "+86 139-1234-5678", "12345678901", "1381234567"]),
})


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(values=_values)
def test_row_checks_agree_with_the_model(values):
    table = imports.Table(columns=list(values), ignored=[], rows=[(2, values)])
    checked = imports.check_persons(table)
    model = Person(name=values["name"].strip(), id_number=values["id_number"], nationality=(values["nationality"] or "CHN").upper(),
                   region_code=values["region_code"], phone=values["phone"] or None)
    try:
        model.full_clean(exclude=["id_number_bidx", "phone_bidx", "department", "user"], validate_unique=False,
                         validate_constraints=False)
        model_ok = True
    except ValidationError:
        model_ok = False
    assert (not checked.errors) == model_ok, (values, checked.errors)


def test_the_fast_insert_writes_every_column_of_person():
    from smartgov.identity.services import _PERSON_INSERT_FIELDS

    assert set(_PERSON_INSERT_FIELDS) == {f.name for f in Person._meta.concrete_fields if not f.primary_key}
