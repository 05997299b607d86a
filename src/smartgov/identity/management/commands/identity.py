"""``smartgov identity import persons|enterprises FILE`` — import a register file with a progress bar;
``smartgov identity export persons|enterprises --out FILE.xlsx|.csv`` — export (always masked)."""

import sys
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from smartgov.accounts.models import Department
from smartgov.core.errors import DomainError
from smartgov.core.permissions import system_actor
from smartgov.identity import exports, services
from smartgov.identity.models import Enterprise, Person


class _Bars:
    """One tqdm bar per import step (读取, 校验, 加密, 写入), on stderr."""

    def __init__(self, enabled: bool):
        self.enabled, self.bar, self.step = enabled, None, None

    def __call__(self, step: str, advance: int, total: int) -> None:
        if not self.enabled:
            return
        if step != self.step:
            self.close()
            self.step = step
            self.bar = tqdm(total=total or None, desc=step, unit="行", file=sys.stderr, leave=True)
        if total and self.bar.total != total:
            self.bar.total = total
        self.bar.update(advance)

    def close(self):
        if self.bar is not None:
            self.bar.close()
            self.bar = None


class Command(BaseCommand):
    help = "人口与法人库：导入与导出 / import and export the person and enterprise register"

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        imp = sub.add_parser("import", help="从 .xlsx/.csv 导入 / import a file")
        imp.add_argument("kind", choices=["persons", "enterprises"])
        imp.add_argument("file")
        imp.add_argument("--department", required=True, metavar="CODE",
                         help="登记机关的部门编码（导入的记录归属于它）/ the registering department's code")
        imp.add_argument("--valid-only", action="store_true",
                         help="只导入有效行（默认：文件有任何错误则全部不导入）/ import the valid rows")
        imp.add_argument("--report", metavar="OUT.xlsx", help="错误报告写到哪里（默认：文件旁 *-errors.xlsx）")
        imp.add_argument("--no-progress", action="store_true")
        exp = sub.add_parser("export", help="导出（身份证号、手机号脱敏）/ export, masked")
        exp.add_argument("kind", choices=["persons", "enterprises"])
        exp.add_argument("--out", required=True, metavar="FILE.xlsx|FILE.csv")

    def handle(self, *args, action, **options):
        try:
            if action == "import":
                self._import(**options)
            else:
                self._export(**options)
        except DomainError as exc:
            raise CommandError(exc.message, returncode=2) from exc

    def _import(self, *, kind, file, department, valid_only, report, no_progress, **_):
        path = Path(file)
        if not path.is_file():
            raise CommandError(f"找不到文件：{file}", returncode=2)
        dept = Department.objects.filter(code=department).first()
        if dept is None:
            raise CommandError(f"没有编码为 {department} 的部门", returncode=2)
        bars = _Bars(enabled=not no_progress and sys.stderr.isatty())
        importer = services.import_persons if kind == "persons" else services.import_enterprises
        try:
            run = importer(actor=system_actor("identity.command"), data=path.read_bytes(), file_name=path.name, department=dept,
                           valid_only=valid_only, progress=bars)
        finally:
            bars.close()
        if not run.errors:
            self.stdout.write(self.style.SUCCESS(f"导入完成：{run.imported} 行已导入 / imported {run.imported} rows"))
            return
        out = Path(report) if report else path.with_name(f"{path.stem}-errors.xlsx")
        out.write_bytes(exports.error_report_xlsx(run))
        if run.imported:
            self.stdout.write(self.style.WARNING(
                f"已导入 {run.imported} 行有效数据；{run.rejected} 行有错误未导入，错误报告：{out}"))
            return
        raise CommandError(f"文件中有 {run.rejected} 行有错误，未导入任何数据。错误报告已写到 {out}；"
                           "修正后重新导入，或加 --valid-only 只导入有效行。", returncode=1)

    def _export(self, *, kind, out, **_):
        path = Path(out)
        fmt = path.suffix.lower().lstrip(".")
        if fmt not in ("xlsx", "csv"):
            raise CommandError("导出文件名须以 .xlsx 或 .csv 结尾", returncode=2)
        if kind == "persons":
            qs = Person.objects.select_related("department").order_by("id")
            headers, rows = exports.PERSON_HEADERS, exports.person_rows(qs)
        else:
            qs = Enterprise.objects.select_related("department", "legal_representative").order_by("id")
            headers, rows = exports.ENTERPRISE_HEADERS, exports.enterprise_rows(qs)
        rows = list(rows)
        path.write_bytes(exports.to_xlsx(headers, rows, title=kind) if fmt == "xlsx" else exports.to_csv(headers, rows))
        services.record_export(actor=system_actor("identity.command"), kind=kind, fmt=fmt, count=len(rows))
        self.stdout.write(f"已导出 {len(rows)} 条到 {path}（身份证号、手机号已脱敏）")
