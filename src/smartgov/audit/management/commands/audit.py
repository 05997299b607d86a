"""``smartgov audit verify`` — re-compute the hash chain and signed checkpoints (the result is kept: the city
overview's 审计链状态 shows the latest);
``smartgov audit checkpoint`` — sign a checkpoint at the current head now."""

import sys

import orjson
from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from smartgov.audit import selectors, services
from smartgov.core.permissions import system_actor


class Command(BaseCommand):
    help = "审计链校验与检查点 / verify the audit trail, cut a signed checkpoint"

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        v = sub.add_parser("verify", help="重新计算哈希链与签名检查点 / verify chain and checkpoints")
        v.add_argument("--json", action="store_true", help="print one JSON object")
        v.add_argument("--no-progress", action="store_true")
        sub.add_parser("checkpoint", help="立即签发检查点 / sign a checkpoint at the current head")

    def handle(self, *args, action, **options):
        if action == "checkpoint":
            cp = services.cut_checkpoint()
            self.stdout.write(f"已签发检查点：{cp.tree_size} 条，根 {cp.root}" if cp else "没有新的审计记录，无需签发")
            return
        total = selectors.entry_count()
        show = not options["json"] and not options["no_progress"] and sys.stderr.isatty()
        with tqdm(total=total, unit="条", desc="校验审计链", disable=not show, file=sys.stderr) as bar:
            result = services.verify_and_keep(actor=system_actor("audit verify"), workers=None, progress=bar.update)
        if options["json"]:
            self.stdout.write(orjson.dumps(result.__dict__).decode())
        elif result.ok:
            self.stdout.write(self.style.SUCCESS(
                f"审计链完好：{result.entries} 条记录，{result.checkpoints} 个签名检查点，用时 {result.seconds:.2f} 秒"
                f" / audit trail intact"))
        if not options["json"]:
            self.stdout.write(f"未被签名检查点覆盖：{result.uncovered_entries} 条，跨 {result.uncovered_seconds:.1f} 秒"
                              f" / not yet covered by a signature: {result.uncovered_entries} entries,"
                              f" {result.uncovered_seconds:.1f} s"
                              + (f"；外部发布的检查点 {result.published} 个 / published {result.published}"
                                 if result.published else ""))
        if not result.ok:
            for p in result.problems:
                self.stderr.write(p)
            raise CommandError(f"审计链校验失败，第一个问题在第 {result.first_bad_seq} 条"
                               f" / audit trail verification failed at entry #{result.first_bad_seq}",
                               returncode=1)
