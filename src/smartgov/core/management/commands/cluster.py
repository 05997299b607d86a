"""``smartgov cluster up|down|status|check``: the platform as a cluster on this machine (core/cluster.py)."""

import json

from django.core.management.base import BaseCommand, CommandError

from smartgov.core.cluster import Cluster, ClusterError
from smartgov.core.cluster_check import run_check


class Command(BaseCommand):
    help = "在本机以集群方式运行（主库、备库、PgBouncer、HAProxy、两台应用服务器……） / run as a cluster"

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        up = sub.add_parser("up", help="启动 / start everything under var/cluster/")
        up.add_argument("--no-demo", action="store_true", help="不载入演示数据 / no demo data")
        down = sub.add_parser("down", help="停止本命令启动的全部进程 / stop exactly what up started")
        down.add_argument("--purge", action="store_true", help="并删除 var/cluster/ / and delete its data")
        sub.add_parser("status", help="各进程状态（JSON） / process status as JSON")
        sub.add_parser("check", help="端到端检查 / end-to-end check across the cluster")
        for p in sub.choices.values():
            p.add_argument("--base-port", type=int, default=25400, help="端口起点 / first port (default 25400)")

    def handle(self, *args, action, base_port, **options):
        cluster = Cluster(base_port, out=self.stdout)
        try:
            if action == "up":
                status = cluster.up(demo=not options["no_demo"])
                self.stdout.write(json.dumps(status, ensure_ascii=False, indent=1))
            elif action == "down":
                stopped = cluster.down(purge=options["purge"])
                self.stdout.write(f"已停止 / stopped: {', '.join(stopped) or '（无 none）'}")
            elif action == "status":
                self.stdout.write(json.dumps(cluster.status(), ensure_ascii=False, indent=1))
            else:
                report = run_check(cluster)
                self.stdout.write(json.dumps(report, ensure_ascii=False, indent=1))
                if not report["ok"]:
                    raise CommandError("集群端到端检查未通过 / the cluster check failed: "
                                       + "; ".join(report["failures"]))
        except ClusterError as exc:
            raise CommandError(str(exc)) from exc
