"""``smartgov grain ingest`` — the MQTT ingest worker (run several: they share one MQTT 5 shared
subscription); ``smartgov grain simulate`` — publish simulated scans over MQTT."""

import sys
import time
from datetime import timedelta

import orjson
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone
from tqdm import tqdm

from smartgov.accounts.models import Department
from smartgov.core.errors import DomainError
from smartgov.core.permissions import system_actor
from smartgov.grain import mqtt, services
from smartgov.grain.models import Depot
from smartgov.grain.simulate import ensure_structure, generate, plan


class Command(BaseCommand):
    help = "智能粮库：MQTT入库进程与模拟器 / grain: MQTT ingest worker and simulator"

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        i = sub.add_parser("ingest", help="从MQTT接收粮情数据入库 / ingest scans from MQTT")
        i.add_argument("--url", default=None, help="mqtt://host:port (default SMARTGOV_MQTT_URL or 127.0.0.1:1883)")
        i.add_argument("--prefix", default=mqtt.DEFAULT_PREFIX)
        i.add_argument("--group", default=mqtt.DEFAULT_GROUP, help="shared-subscription group")
        i.add_argument("--client-id", default=None,
                       help="stable client id: a restarted worker resumes its session and gets what it missed")
        i.add_argument("--batch", type=int, default=500, help="most messages stored in one transaction")
        i.add_argument("--session-expiry", type=int, default=86400,
                       help="seconds the broker keeps the session (and queues messages) while the worker is down")
        i.add_argument("--idle-exit", type=float, default=None, help="exit after this many idle seconds")
        g = sub.add_parser("gateway", help="签发库点粮情测控系统的MQTT凭证（首次注册，再次则更换） / issue a depot "
                                           "gateway's MQTT credentials (registers it, or rotates its secret)")
        g.add_argument("depot", help="库点编码 / depot code")
        s = sub.add_parser("simulate", help="通过MQTT发布模拟粮情数据 / publish simulated scans over MQTT")
        s.add_argument("--depots", type=int, default=3)
        s.add_argument("--warehouses", type=int, default=4)
        s.add_argument("--days", type=int, default=30)
        s.add_argument("--per-day", type=int, default=1, help="scans a day per warehouse")
        s.add_argument("--bureau", default="SFC-LSJ", help="department code of the grain bureau")
        s.add_argument("--grid", default="6x5x4", help="rows x cols x layers of new warehouses")
        s.add_argument("--url", default=None)
        s.add_argument("--prefix", default=mqtt.DEFAULT_PREFIX)
        s.add_argument("--seed", type=int, default=7)

    def handle(self, *args, action, **o):
        if action == "gateway":
            return self.gateway(o)
        try:
            mqtt.parse_broker_url(o["url"])
        except ValueError as exc:
            raise CommandError(str(exc), returncode=2) from exc
        if not mqtt.broker_reachable(o["url"]):
            raise CommandError(f"无法连接MQTT代理 {o['url'] or mqtt.broker_url()}（请先启动 Mosquitto）"
                               f" / MQTT broker unreachable", returncode=2)
        if action == "ingest":
            return self.ingest(o)
        return self.simulate(o)

    def gateway(self, o):
        depot = Depot.objects.select_related("department").filter(code=o["depot"]).first()
        if depot is None:
            raise CommandError(f"没有库点 {o['depot']} / no such depot", returncode=2)
        try:
            device, secret = services.issue_gateway_secret(actor=system_actor("grain.command"), depot=depot)
        except DomainError as exc:
            raise CommandError(f"{exc.message} / {exc.code}", returncode=2) from exc
        self.stdout.write(f"MQTT用户名 / user: {device.code}\n密码 / password: {secret}\n"
                          f"可发布主题 / may publish: {mqtt.scan_topic(mqtt.DEFAULT_PREFIX, depot.code, '+')}\n"
                          "密码只显示这一次；运行 smartgov iot passwd 并让 Mosquitto 重新加载后生效。"
                          " / Shown once; takes effect after smartgov iot passwd and a broker reload.")

    def ingest(self, o):
        def report(line):
            self.stdout.write(line)
            self.stdout.flush()

        worker = mqtt.IngestWorker(url=o["url"], prefix=o["prefix"], group=o["group"], client_id=o["client_id"],
                                   batch_max=o["batch"], report=report, idle_exit=o["idle_exit"],
                                   session_expiry=o["session_expiry"])
        try:
            worker.run()
        except KeyboardInterrupt:
            pass
        except RuntimeError as exc:  # could not subscribe, or the database kept failing: nothing unstored was acked
            raise CommandError(f"入库进程停止：{exc} / ingest worker stopped", returncode=1) from exc
        self.stderr.write(f"已入库 {worker.stored} 次检测，重复 {worker.duplicates}，拒收 {worker.rejected}")

    def simulate(self, o):
        bureau = Department.objects.filter(code=o["bureau"]).first()
        if bureau is None:
            raise CommandError(f"没有部门 {o['bureau']}（先运行 smartgov demo，或用 --bureau 指定粮食局）", returncode=2)
        try:
            rows, cols, layers = (int(x) for x in o["grid"].lower().split("x"))
        except ValueError:
            raise CommandError("--grid 应为 行x列x层，例如 6x5x4", returncode=2) from None
        if min(o["depots"], o["warehouses"], o["days"], o["per_day"]) < 1:
            raise CommandError("--depots、--warehouses、--days、--per-day 应为正整数", returncode=2)
        whs = ensure_structure(bureau=bureau, depots=o["depots"], warehouses=o["warehouses"], rows=rows, cols=cols,
                               layers=layers)
        sims = plan([w.depot.code for w in whs[::o["warehouses"]]], o["warehouses"], rows=rows, cols=cols,
                    layers=layers, seed=o["seed"])
        for sim, wh in zip(sims, whs, strict=True):
            sim.rows, sim.cols, sim.layers = wh.rows, wh.cols, wh.layers
        today = timezone.localtime().replace(hour=8, minute=0, second=0, microsecond=0)
        if today > timezone.localtime():  # before 08:00: the last scan is yesterday's (no future scans)
            today -= timedelta(days=1)
        start = today - timedelta(days=o["days"] - 1)
        total = len(sims) * o["days"] * o["per_day"]

        sent = []
        with mqtt.Publisher(url=o["url"]) as pub, tqdm(total=total, unit="次", desc="发布粮情",
                                                       disable=not sys.stderr.isatty(), file=sys.stderr) as bar:
            for sim, _, payload in generate(sims, start=start, days=o["days"], per_day=o["per_day"],
                                            seed=o["seed"]):
                sent.append(pub.publish(mqtt.scan_topic(o["prefix"], sim.depot_code, sim.code),
                                        orjson.dumps(payload)))
                bar.update(1)
            deadline = time.monotonic() + 60
            for info in sent:
                info.wait_for_publish(max(deadline - time.monotonic(), 0.1))
        unacked = sum(not i.is_published() for i in sent)
        if unacked:
            raise CommandError(f"{unacked} 条消息未获代理确认 / not acknowledged by the broker", returncode=1)
        self.stdout.write(f"已发布 {total} 次检测（{len(sims)} 个仓房 × {o['days']} 天），代理已全部确认。"
                          f" 发热点注入在 {sims[0].depot_code}/{sims[0].code}，故障测温点在"
                          f" {sims[min(1, len(sims) - 1)].depot_code}/{sims[min(1, len(sims) - 1)].code}。")
