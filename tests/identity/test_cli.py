import io

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from openpyxl import load_workbook

from smartgov.identity.models import Person
from tests import factories as f

from .helpers import csv_bytes, person_row, xlsx

pytestmark = pytest.mark.django_db


def test_import_valid_file_then_export_masked(tmp_path):
    dept = f.department()
    src = tmp_path / "people.xlsx"
    src.write_bytes(xlsx([person_row(i, phone="13812345678") for i in range(1, 4)]))
    out = io.StringIO()
    call_command("identity", "import", "persons", str(src), "--department", dept.code, stdout=out)
    assert "3 行已导入" in out.getvalue() and Person.objects.count() == 3
    dest = tmp_path / "out.csv"
    call_command("identity", "export", "persons", "--out", str(dest), stdout=io.StringIO())
    text = dest.read_text(encoding="utf-8-sig")
    assert "13812345678" not in text and "138****5678" in text
    assert all(p.id_number not in text for p in Person.objects.all())


def test_a_file_with_errors_exits_1_and_writes_the_report(tmp_path):
    dept = f.department()
    rows = [person_row(1), person_row(2)]
    rows[1][0] = ""
    src = tmp_path / "people.csv"
    src.write_bytes(csv_bytes(rows, encoding="gbk"))
    with pytest.raises(CommandError) as exc:
        call_command("identity", "import", "persons", str(src), "--department", dept.code, "--no-progress")
    assert exc.value.returncode == 1 and "未导入任何数据" in str(exc.value)
    report = tmp_path / "people-errors.xlsx"
    rows_in_report = list(load_workbook(report).active.iter_rows(values_only=True))
    assert (3, "姓名", "姓名不能为空", None) in rows_in_report or (3, "姓名", "姓名不能为空", "") in rows_in_report
    assert not Person.objects.exists()
    out = io.StringIO()
    call_command("identity", "import", "persons", str(src), "--department", dept.code, "--valid-only",
                 "--report", str(tmp_path / "r.xlsx"), stdout=out)
    assert Person.objects.count() == 1 and (tmp_path / "r.xlsx").exists()


def test_unknown_department_and_missing_file_exit_2(tmp_path):
    with pytest.raises(CommandError) as exc:
        call_command("identity", "import", "persons", str(tmp_path / "nope.xlsx"), "--department", "X")
    assert exc.value.returncode == 2
    src = tmp_path / "p.pdf"
    src.write_bytes(b"%PDF")
    dept = f.department()
    with pytest.raises(CommandError) as exc:
        call_command("identity", "import", "persons", str(src), "--department", dept.code)
    assert exc.value.returncode == 2 and "只支持" in str(exc.value)
