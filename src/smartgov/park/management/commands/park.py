"""``smartgov park simulate`` — publish realistic telemetry for a park of N buildings over MQTT (the
devices are provisioned first if missing); run ``smartgov iot ingest`` to store it.
``smartgov park import-leases --park CODE FILE.xlsx`` — existing leases from Excel, all or nothing
(``smartgov park import-leases --template FILE.xlsx`` writes the empty workbook)."""

import random
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import orjson
from django.core.management.base import BaseCommand, CommandError

from smartgov.core.errors import DomainError
from smartgov.core.permissions import system_actor
from smartgov.iot import mqtt
from smartgov.iot.readings import telemetry_topic
from smartgov.park import excel
from smartgov.park.models import Park


class Command(BaseCommand):
    help = "智慧园区：遥测模拟器 / park: telemetry simulator"

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        s = sub.add_parser("simulate", help="通过MQTT发布模拟园区遥测 / publish simulated park telemetry")
        s.add_argument("--department", default="SFC-YQ", help="department code of the park operator")
        s.add_argument("--park", default="demo-park", help="park code (made if missing)")
        s.add_argument("--buildings", type=int, default=3)
        s.add_argument("--floors", type=int, default=5)
        s.add_argument("--units", type=int, default=4, help="units per floor")
        s.add_argument("--rounds", type=int, default=60, help="reports per device")
        s.add_argument("--interval", type=float, default=60.0, help="seconds between a device's reports (data time)")
        s.add_argument("--realtime", action="store_true",
                       help="publish each round at its time (now, then every --interval s) instead of backfilling")
        s.add_argument("--hot", type=float, default=0.01, help="share of devices reading above alarm thresholds")
        s.add_argument("--url", default=None)
        s.add_argument("--prefix", default=mqtt.DEFAULT_PREFIX)
        s.add_argument("--seed", type=int, default=7)
        i = sub.add_parser("import-leases", help="从Excel导入存量租赁合同（全部或全不） / import existing leases")
        i.add_argument("file", help=".xlsx in the layout of --template")
        i.add_argument("--park", help="park code")
        i.add_argument("--template", action="store_true", help="write the empty workbook to FILE instead")

    def handle(self, *args, action, **o):
        if action == "import-leases":
            return self.import_leases(**o)
        from smartgov.accounts.models import Department
        from smartgov.park.simulate import ensure_park, messages

        try:
            mqtt.parse_broker_url(o["url"])
        except ValueError as exc:
            raise CommandError(str(exc), returncode=2) from exc
        if not mqtt.broker_reachable(o["url"]):
            raise CommandError(f"无法连接MQTT代理 {o['url'] or mqtt.broker_url()}（请先启动 Mosquitto）", returncode=2)
        dept = Department.objects.filter(code=o["department"]).first()
        if dept is None:
            raise CommandError(f"没有部门 {o['department']}（先运行 smartgov demo，或用 --department 指定）", returncode=2)
        if min(o["buildings"], o["floors"], o["units"], o["rounds"]) < 1 or o["interval"] <= 0:
            raise CommandError("楼栋、楼层、单元、轮数应为正整数，间隔应大于0", returncode=2)
        park, sims = ensure_park(department=dept, code=o["park"], name=f"{o['park']} 园区", buildings=o["buildings"],
                                 floors=o["floors"], units_per_floor=o["units"])
        rng = random.Random(o["seed"])
        hot = frozenset(s.code for s in sims if rng.random() < o["hot"])
        now = datetime.now(UTC)
        start = now if o["realtime"] else now - timedelta(seconds=o["interval"] * o["rounds"])
        sent = 0
        with mqtt.Publisher(url=o["url"]) as pub:
            pending = []
            for n, (code, ts, values) in enumerate(messages(sims, start=start, rounds=o["rounds"],
                                                            interval_s=o["interval"], seed=o["seed"], hot_codes=hot)):
                if o["realtime"]:
                    wait = (ts - datetime.now(UTC)).total_seconds()
                    if wait > 0:
                        time.sleep(wait)
                pending.append(pub.publish(telemetry_topic(o["prefix"], code),
                                           orjson.dumps({"ts": ts.timestamp(), "values": values})))
                sent += 1
                if len(pending) >= 500 or n % 500 == 0:  # keep within the broker's queue for the consumers
                    for info in pending:
                        info.wait_for_publish(30)
                    pending = []
            for info in pending:
                info.wait_for_publish(30)
        self.stdout.write(f"{park.name}：{len(sims)} 台设备，已发布 {sent} 条遥测（{len(hot)} 台超限）")

    def import_leases(self, *, file, park=None, template=False, **_):
        if template:
            Path(file).write_bytes(excel.lease_template())
            self.stdout.write(f"已写出模板 {file}")
            return
        target = Park.objects.select_related("department").filter(code=park or "").first()
        if target is None:
            raise CommandError(f"没有园区 {park}（用 --park 指定园区编码）", returncode=2)
        try:
            data = Path(file).read_bytes()
        except OSError as exc:
            raise CommandError(f"无法读取 {file}：{exc.strerror}", returncode=2) from exc
        try:
            done = excel.import_leases(actor=system_actor("park.import_leases"), park=target, data=data)
        except DomainError as exc:
            for line in exc.detail if isinstance(exc.detail, list) else []:
                self.stderr.write(line)
            raise CommandError(exc.message, returncode=1) from exc
        self.stdout.write(f"{target.name}：导入合同 {done['leases']} 份，新登记企业 {done['enterprises']} 家，"
                          f"生成账单 {done['bills']} 张")
