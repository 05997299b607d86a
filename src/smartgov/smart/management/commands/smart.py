"""``smartgov smart screen`` — find new qualifiers of every published 免申即享 entitlement and recheck due
grants (the scheduled job; also runs periodically on the worker); ``smartgov smart explain GRANT_ID`` —
print the decisions behind a grant; ``smartgov smart ocr FILE`` — read an ID card or licence image offline."""

import json
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from smartgov.core.permissions import system_actor
from smartgov.smart import ocr
from smartgov.smart.models import Grant
from smartgov.smart.selectors import decisions_of
from smartgov.smart.services import screen


class Command(BaseCommand):
    help = "用数赋智：免申即享筛查、决定说明、离线识别 / smart: screen qualifiers, explain, OCR"

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        s = sub.add_parser("screen", help="筛查新的符合条件人员并复核到期待遇 / find new qualifiers")
        s.add_argument("--limit", type=int, default=10_000, help="每个事项最多决定的人数")
        e = sub.add_parser("explain", help="说明一项待遇的认定依据 / explain a grant")
        e.add_argument("grant_id", type=int)
        o = sub.add_parser("ocr", help="离线识别证件图片 / OCR an image")
        o.add_argument("file")
        o.add_argument("--kind", default="id_card", choices=["id_card", "business_licence"])

    def handle(self, *args, action, **o):
        return getattr(self, action)(o)

    def screen(self, o):
        counts = screen(actor=system_actor("smart.screen"), limit=o["limit"])
        self.stdout.write(json.dumps(counts, ensure_ascii=False))

    def explain(self, o):
        grant = Grant.objects.select_related("entitlement").filter(pk=o["grant_id"]).first()
        if grant is None:
            raise CommandError("没有这项待遇", returncode=1)
        for d in decisions_of(grant):
            self.stdout.write(json.dumps({"at": d.at.isoformat(), "kind": d.kind, "rule": d.rule_code,
                                          "version": d.rule_version, "qualified": d.qualified, "failed": d.failed,
                                          "facts": d.facts, "messages": d.messages}, ensure_ascii=False))

    def ocr(self, o):
        try:
            data = Path(o["file"]).read_bytes()
        except OSError as exc:
            raise CommandError(f"无法读取文件：{exc}", returncode=2) from exc
        result = ocr.read_document(data, kind=o["kind"])
        self.stdout.write(json.dumps({"fields": result.fields, "ms": round(result.ms, 1), "engine": result.engine},
                                     ensure_ascii=False))
