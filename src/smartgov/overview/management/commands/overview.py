"""``smartgov overview report [--period week|month] [--dept CODE] [--date YYYY-MM-DD] [--out DIR]`` — generate
(and keep, and send) the 运行报告 of the last complete period now, as the worker's scheduled job does; with
``--out`` also write the PDF and the Excel file there."""

import datetime
import json
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from smartgov.accounts.models import Department
from smartgov.core.permissions import system_actor
from smartgov.overview import services


class Command(BaseCommand):
    help = "城市运行总览：生成运行报告 / overview: generate the weekly/monthly reports"

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        r = sub.add_parser("report", help="生成上一完整周期的运行报告 / generate the reports of the last period")
        r.add_argument("--period", choices=["week", "month"], action="append",
                       help="周期（可重复；默认 SMARTGOV_OVERVIEW_REPORT_PERIODS）")
        r.add_argument("--dept", help="只为这个部门编码生成（默认：每个有领导的部门）")
        r.add_argument("--date", help="以这一天为“今天”（YYYY-MM-DD）：报告其前一个完整周期")
        r.add_argument("--out", help="同时把 PDF 和 Excel 写到这个目录")
        r.add_argument("--no-send", action="store_true", help="不发送通知")

    def handle(self, *args, action, **o):
        return getattr(self, action)(o)

    def report(self, o):
        periods = o["period"] or list(settings.OVERVIEW_REPORT_PERIODS) or ["week"]
        try:
            today = datetime.date.fromisoformat(o["date"]) if o["date"] else None
        except ValueError as exc:
            raise CommandError(f"日期格式应为 YYYY-MM-DD：{o['date']}", returncode=2) from exc
        if o["dept"]:
            dept = Department.objects.filter(code=o["dept"]).first()
            if dept is None:
                raise CommandError(f"没有部门 {o['dept']}", returncode=1)
            departments = [dept]
        else:
            departments = list(services.report_departments())
        actor = system_actor("overview.report")
        out = Path(o["out"]) if o["out"] else None
        if out:
            out.mkdir(parents=True, exist_ok=True)
        for dept in departments:
            for period in periods:
                report, created = services.generate_report(actor=actor, department=dept, period=period, today=today,
                                                           send=not o["no_send"])
                files = []
                if out:
                    for ext, body in (("pdf", report.pdf), ("xlsx", report.xlsx)):
                        path = out / f"{dept.code}-{period}-{report.period_start:%Y%m%d}.{ext}"
                        path.write_bytes(bytes(body))
                        files.append(str(path))
                self.stdout.write(json.dumps({"department": dept.code, "period": period, "id": report.pk,
                                              "start": report.period_start.isoformat(),
                                              "end": report.period_end.isoformat(), "created": created,
                                              "files": files}, ensure_ascii=False))
