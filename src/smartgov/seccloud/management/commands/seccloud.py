"""``smartgov seccloud <load-rules|listen|sign-head|import-audit|expire|verify>``."""

import os
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from smartgov.core.errors import DomainError
from smartgov.core.permissions import system_actor
from smartgov.seccloud import services
from smartgov.seccloud.listener import serve_processes
from smartgov.seccloud.verifier import main


class Command(BaseCommand):
    help = "航天智慧安全云：载入规则包、启动Syslog监听、签名树头、导入审计日志、过期清理、离线校验"

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="op", required=True)
        sub.add_parser("load-rules", help="载入内置Sigma规则包")
        listen = sub.add_parser("listen", help="Syslog UDP/TCP 监听")
        listen.add_argument("--bind", default=settings.SECCLOUD_SYSLOG_BIND)
        listen.add_argument("--workers", type=int, default=os.cpu_count() or 1,
                            help="监听进程数（默认每核一个）/ listener processes, one per core by default")
        sub.add_parser("sign-head", help="签名当前树头")
        sub.add_parser("import-audit", help="导入平台审计日志")
        sub.add_parser("expire", help="删除超过保留期的事件")
        verify = sub.add_parser("verify", help="离线校验证明（同 python -m smartgov.seccloud.verifier）")
        verify.add_argument("args", nargs="*")

    def handle(self, *args, op, **opts):
        try:
            if op == "load-rules":
                text = (Path(__file__).resolve().parents[2] / "rules" / "pack.yml").read_text()
                saved = services.upload_rules(actor=system_actor("seccloud.load_rules"), yaml_text=text, builtin=True)
                self.stdout.write(f"已载入 {len(saved)} 条规则")
            elif op == "listen":
                host, _, port = opts["bind"].rpartition(":")
                self.stdout.write(f"Syslog 监听 {host}:{port} (UDP/TCP, {opts['workers']} 个进程)")
                self.stdout.flush()
                serve_processes(host.strip("[]"), int(port), workers=opts["workers"],
                                tls_cert=settings.SECCLOUD_SYSLOG_TLS_CERT or None)
            elif op == "sign-head":
                self.stdout.write(str(services.sign_tree_head(actor=system_actor("seccloud.sth"))))
            elif op == "import-audit":
                self.stdout.write(str(services.import_audit_trail(actor=system_actor("seccloud.audit_import"))))
            elif op == "expire":
                self.stdout.write(str(services.expire_events(actor=system_actor("seccloud.retention"))))
            elif op == "verify":
                code = main(opts["args"])
                if code:
                    raise CommandError("证明无效")
        except DomainError as exc:
            raise CommandError(exc.message) from exc
