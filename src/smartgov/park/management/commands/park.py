"""``smartgov park simulate`` — publish realistic telemetry for a park of N buildings over MQTT (the
devices are provisioned first if missing); run ``smartgov iot ingest`` to store it.
``smartgov park import-leases --park CODE FILE.xlsx`` — existing leases from Excel, all or nothing
(``smartgov park import-leases --template FILE.xlsx`` writes the empty workbook).
``smartgov park renew --park CODE --lease CODE --until DATE [--rent R] [--escalation PCT]`` / ``smartgov park move-out --park CODE --lease CODE
--on DATE`` — open a renewal or move-out case on the workflow (the operator's officers and admin approve it);
``smartgov park lease-changes --park CODE`` lists them. ``smartgov park service-items --park CODE`` opens the
企业服务 items (报修、政策申报、投诉) for the park's operator; ``smartgov park service-cases --park CODE`` lists
the park's 企业服务 cases."""

import random
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import orjson
from django.core.management.base import BaseCommand, CommandError

from smartgov.accounts.models import Department
from smartgov.core.errors import DomainError
from smartgov.core.permissions import system_actor
from smartgov.iot import mqtt
from smartgov.iot.readings import telemetry_topic
from smartgov.park import excel, selectors, services
from smartgov.park.models import Park
from smartgov.park.service_items import KIND_LABELS, KIND_OF_CODE, summary
from smartgov.park.simulate import ensure_park, messages


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
        r = sub.add_parser("renew", help="续租申请（进入审批流程） / open a lease renewal case")
        r.add_argument("--park", required=True)
        r.add_argument("--lease", required=True, help="lease code (合同编号)")
        r.add_argument("--until", required=True, help="new end date YYYY-MM-DD")
        r.add_argument("--rent", default=None, help="new monthly rent from the first period after the current end")
        r.add_argument("--escalation", default=None, help="new escalation %% from then on")
        r.add_argument("--reason", default="")
        m = sub.add_parser("move-out", help="退租申请（验收、押金结算、审批） / open a move-out case")
        m.add_argument("--park", required=True)
        m.add_argument("--lease", required=True, help="lease code (合同编号)")
        m.add_argument("--on", required=True, dest="day", help="move-out day YYYY-MM-DD")
        m.add_argument("--reason", default="")
        lc = sub.add_parser("lease-changes", help="续租退租办件 / list renewal and move-out cases")
        lc.add_argument("--park", required=True)
        si = sub.add_parser("service-items", help="开通企业服务事项 / open the enterprise service items")
        si.add_argument("--park", required=True)
        sc = sub.add_parser("service-cases", help="企业服务办件 / list the park's enterprise service cases")
        sc.add_argument("--park", required=True)

    def handle(self, *args, action, **o):
        if action == "import-leases":
            return self.import_leases(**o)
        if action in ("renew", "move-out", "lease-changes", "service-items", "service-cases"):
            try:
                park = self._park(o.pop("park"))
                return getattr(self, action.replace("-", "_"))(park, **o)
            except DomainError as exc:
                raise CommandError(f"{exc.message}（{exc.code}）", returncode=1) from exc

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

    # ------------------------------------------------------------ cases: 续租/退租, 企业服务
    ACTOR = "park.cli"

    def _park(self, code: str) -> Park:
        park = Park.objects.select_related("department").filter(code=code or "").first()
        if park is None:
            raise CommandError(f"没有园区 {code}", returncode=2)
        return park

    def _lease(self, park: Park, code: str):
        lease = park.leases.select_related("enterprise", "park__department").filter(code=code).first()
        if lease is None:
            raise CommandError(f"{park.name}没有合同 {code}", returncode=2)
        return lease

    @staticmethod
    def _day(raw: str):
        try:
            return date.fromisoformat(raw)
        except ValueError:
            raise CommandError(f"日期应为 YYYY-MM-DD：{raw}", returncode=2) from None

    def renew(self, park, *, lease, until, reason, rent=None, escalation=None, **_):
        change = services.request_renewal(actor=system_actor(self.ACTOR), lease=self._lease(park, lease),
                                          end_date=self._day(until), reason=reason, monthly_rent=rent,
                                          escalation_pct=escalation)
        self.stdout.write(f"续租申请 #{change.pk} 已进入审批（办结时限 {change.instance.due_on}）")

    def move_out(self, park, *, lease, day, reason, **_):
        change = services.request_move_out(actor=system_actor(self.ACTOR), lease=self._lease(park, lease),
                                           move_out_on=self._day(day), reason=reason)
        self.stdout.write(f"退租申请 #{change.pk} 已进入现场验收（办结时限 {change.instance.due_on}）")

    def lease_changes(self, park, **_):
        for c in selectors.lease_changes_for(system_actor(self.ACTOR), park):
            day = c.new_end_date or c.move_out_on
            self.stdout.write(f"#{c.pk}\t{c.lease.code}\t{c.lease.enterprise.name}\t{c.get_kind_display()}\t{day}\t"
                              f"{c.get_status_display()}\t{c.instance.due_on}")

    def service_items(self, park, **_):
        for item in services.publish_service_items(actor=system_actor(self.ACTOR), park=park):
            self.stdout.write(f"{item.implementation_code}\t{item.name}")

    def service_cases(self, park, **_):
        for app in selectors.service_cases(system_actor(self.ACTOR), park):
            self.stdout.write(f"{app.number}\t{KIND_LABELS[KIND_OF_CODE[app.item.basic_code]]}\t{app.applicant_name}\t"
                              f"{app.get_state_display()}\t{app.due_on or ''}\t{summary(app.form_data)}")
