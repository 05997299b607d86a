import datetime
import io

import pytest
from django.core.management import call_command
from openpyxl import load_workbook

from smartgov.audit.models import AuditEntry
from smartgov.core.errors import InvalidInput
from smartgov.core.permissions import Role, system_actor
from smartgov.core.tasks import PERIODIC
from smartgov.onestop.models import Notification
from smartgov.overview import reports, services, tasks
from smartgov.overview.models import Report
from tests import factories

from .test_overview import city, hot_spot  # noqa: F401

pytestmark = pytest.mark.django_db
SYSTEM = system_actor("overview.report")
MONDAY = datetime.date(2026, 12, 7)


def test_period_bounds_are_the_last_complete_week_and_month():
    assert reports.period_bounds("week", MONDAY) == (datetime.date(2026, 11, 30), datetime.date(2026, 12, 6))
    assert reports.period_bounds("week", datetime.date(2026, 12, 6)) == (datetime.date(2026, 11, 23),
                                                                           datetime.date(2026, 11, 29))
    assert reports.period_bounds("month", MONDAY) == (datetime.date(2026, 11, 1), datetime.date(2026, 11, 30))
    assert reports.period_bounds("month", datetime.date(2027, 1, 1)) == (datetime.date(2026, 12, 1),
                                                                           datetime.date(2026, 12, 31))


def test_a_report_is_generated_kept_sent_and_audited_once(city):  # noqa: F811
    city, a, b = city
    hot_spot(a)
    hot_spot(b)
    leader_a = factories.user(Role.SUPERVISOR, department=a)
    factories.user(Role.OFFICER, department=a)  # not a leader: no report mail

    report, created = services.generate_report(actor=SYSTEM, department=a, period="week", today=MONDAY)
    assert created and report.period_start == datetime.date(2026, 11, 30) and report.period_end == MONDAY.replace(day=6)
    pdf = bytes(report.pdf)
    assert pdf.startswith(b"%PDF") and b"NotoSansSC" in pdf  # the embedded CJK font
    wb = load_workbook(io.BytesIO(bytes(report.xlsx)))
    assert wb.sheetnames == ["指标", "趋势", "重点问题"]
    figures = {row[6]: row[2] for row in wb["指标"].iter_rows(min_row=5, values_only=True)}
    assert figures["grain.hot_spot_warehouses"] == 1  # county a only, not b's
    assert len(wb["趋势"]._charts) == 1 and wb["趋势"].max_row == 8  # header + 7 days
    issues = list(wb["重点问题"].iter_rows(min_row=2, values_only=True))
    assert len(issues) == 1 and issues[0][:2] == ("红", "发热点")  # a's hot spot, not b's

    notes = Notification.objects.filter(title__contains="运行周报")
    assert [n.user_id for n in notes] == [leader_a.pk] and "/overview/reports/" in notes[0].body
    assert AuditEntry.objects.filter(action="overview.generate_report", target_id=str(report.pk)).count() == 1

    again, created = services.generate_report(actor=SYSTEM, department=a, period="week", today=MONDAY)
    assert (again.pk, created) == (report.pk, False)
    assert Notification.objects.filter(title__contains="运行周报").count() == 1
    with pytest.raises(InvalidInput):
        services.generate_report(actor=SYSTEM, department=a, period="year", today=MONDAY)


def test_a_leader_cannot_generate_a_report():  # only the platform's job and the command do
    from smartgov.core.errors import Forbidden

    leader = factories.user(Role.DEPT_ADMIN)
    with pytest.raises(Forbidden):
        services.generate_report(actor=leader, department=leader.department, period="week", today=MONDAY)


def test_the_scheduled_job_reports_every_department_with_a_leader(city, settings):  # noqa: F811
    city, _a, b = city
    factories.user(Role.DEPT_ADMIN, department=city)
    factories.user(Role.SUPERVISOR, department=b)
    assert any(t is tasks.generate_reports for t, _ in PERIODIC)
    made = tasks.generate_reports.call()
    assert made == {"week": 2, "month": 2}
    assert set(Report.objects.values_list("department_id", "period")) == {
        (city.pk, "week"), (city.pk, "month"), (b.pk, "week"), (b.pk, "month")}
    assert tasks.generate_reports.call() == {"week": 0, "month": 0}  # safe to run again


def test_the_command_writes_the_files(city, tmp_path, capsys):  # noqa: F811
    city, a, _b = city
    call_command("overview", "report", "--period", "month", "--dept", a.code, "--date", "2026-12-07",
                 "--out", str(tmp_path), "--no-send")
    assert '"created": true' in capsys.readouterr().out
    assert (tmp_path / f"{a.code}-month-20261101.pdf").read_bytes().startswith(b"%PDF")
    assert (tmp_path / f"{a.code}-month-20261101.xlsx").read_bytes().startswith(b"PK")


def test_a_county_leader_never_gets_another_countys_report(city):  # noqa: F811
    city, a, b = city
    ra, _ = services.generate_report(actor=SYSTEM, department=a, period="week", today=MONDAY, send=False)
    rb, _ = services.generate_report(actor=SYSTEM, department=b, period="week", today=MONDAY, send=False)
    rc, _ = services.generate_report(actor=SYSTEM, department=city, period="week", today=MONDAY, send=False)
    leader_a = factories.staff_client(factories.user(Role.SUPERVISOR, department=a))
    page = leader_a.get("/overview/reports/")
    assert page.status_code == 200
    assert f'data-report="{ra.pk}"' in page.content.decode() and f'data-report="{rb.pk}"' not in page.content.decode()
    assert f'data-report="{rc.pk}"' not in page.content.decode()
    got = leader_a.get(f"/overview/reports/{ra.pk}.pdf")
    assert got.status_code == 200 and got["Content-Type"] == "application/pdf" and got.content.startswith(b"%PDF")
    assert leader_a.get(f"/overview/reports/{ra.pk}.xlsx").content.startswith(b"PK")
    for other in (rb, rc):
        assert leader_a.get(f"/overview/reports/{other.pk}.pdf").status_code == 404
        assert leader_a.get(f"/overview/reports/{other.pk}.xlsx").status_code == 404
    assert leader_a.get(f"/overview/reports/?dept={b.pk}").status_code == 404

    mayor = factories.staff_client(factories.user(Role.DEPT_ADMIN, department=city))
    assert mayor.get(f"/overview/reports/{rb.pk}.pdf").status_code == 200
    listed = mayor.get(f"/overview/reports/?dept={b.pk}").content.decode()
    assert f'data-report="{rb.pk}"' in listed and f'data-report="{ra.pk}"' not in listed
    officer = factories.staff_client(factories.user(Role.OFFICER, department=a))
    assert officer.get(f"/overview/reports/{ra.pk}.pdf").status_code == 403
    assert AuditEntry.objects.filter(action="overview.download_report").count() == 3
