"""``smartgov iot ingest`` — the telemetry ingest worker (run several: one MQTT 5 shared subscription);
``smartgov iot passwd`` — write Mosquitto's password and ACL files from the device table;
``smartgov iot silent`` — the no-data check once (cron; the task worker also runs it every minute)."""

from django.core.management.base import BaseCommand, CommandError

from smartgov.core.errors import InvalidInput
from smartgov.core.permissions import system_actor
from smartgov.iot import mqtt
from smartgov.iot.broker import acl_text, password_lines
from smartgov.iot.credentials import hash_secret
from smartgov.iot.ingest import TelemetryWorker
from smartgov.iot.selectors import broker_accounts, broker_devices
from smartgov.iot.services import check_silent_devices, expire_telemetry


class Command(BaseCommand):
    help = "物联网接入：遥测入库进程、代理凭证文件、无数据检查 / IoT: ingest worker, broker credentials, no-data check"

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        i = sub.add_parser("ingest", help="从MQTT接收遥测数据入库 / ingest telemetry from MQTT")
        i.add_argument("--url", default=None, help="mqtt://host:port (default SMARTGOV_MQTT_URL)")
        i.add_argument("--prefix", default=mqtt.DEFAULT_PREFIX)
        i.add_argument("--group", default="iot-ingest", help="shared-subscription group")
        i.add_argument("--client-id", default=None,
                       help="stable client id: a restarted worker resumes its session and gets what it missed")
        i.add_argument("--batch", type=int, default=1000, help="most messages stored in one transaction")
        i.add_argument("--session-expiry", type=int, default=86400)
        i.add_argument("--idle-exit", type=float, default=None, help="exit after this many idle seconds")
        p = sub.add_parser("passwd", help="写出Mosquitto密码文件与ACL / write Mosquitto password and ACL files")
        p.add_argument("--password-file", required=True)
        p.add_argument("--acl-file", required=True)
        p.add_argument("--prefix", default=mqtt.DEFAULT_PREFIX)
        p.add_argument("--worker", action="append", default=[],
                       help="user:password of an ingest worker (may read every device's topic); repeatable")
        sub.add_parser("silent", help="检查无数据设备 / raise no-data alarms once")
        sub.add_parser("expire", help="删除超过保留期的遥测数据 / delete telemetry past its retention, once")

    def handle(self, *args, action, **o):
        if action == "passwd":
            return self.passwd(o)
        if action == "silent":
            n = check_silent_devices(actor=system_actor("iot.no_data"))
            self.stdout.write(f"无数据告警 {n} 条")
            return
        if action == "expire":
            try:
                done = expire_telemetry(actor=system_actor("iot.retention"))
            except InvalidInput as exc:
                raise CommandError(str(exc), returncode=2) from exc
            self.stdout.write(f"删除 {done['cutoff']} 之前的遥测数据 {done['deleted']} 条，"
                              f"整月分区 {len(done['partitions_dropped'])} 个")
            return
        try:
            mqtt.parse_broker_url(o["url"])
        except ValueError as exc:
            raise CommandError(str(exc), returncode=2) from exc
        if not mqtt.broker_reachable(o["url"]):
            raise CommandError(f"无法连接MQTT代理 {o['url'] or mqtt.broker_url()}（请先启动 Mosquitto）", returncode=2)

        def report(line):
            self.stdout.write(line)
            self.stdout.flush()

        worker = TelemetryWorker(url=o["url"], prefix=o["prefix"], group=o["group"], client_id=o["client_id"],
                                 batch_max=o["batch"], report=report, idle_exit=o["idle_exit"],
                                 session_expiry=o["session_expiry"])
        try:
            worker.run()
        except KeyboardInterrupt:
            pass
        except RuntimeError as exc:
            raise CommandError(f"入库进程停止：{exc} / ingest worker stopped", returncode=1) from exc
        self.stderr.write(f"已入库 {worker.stored} 条，重复 {worker.duplicates}，拒收 {worker.rejected}，"
                          f"告警 {worker.alarms_raised}")

    def passwd(self, o):
        workers = []
        for item in o["worker"]:
            user, sep, password = item.partition(":")
            if not sep or not user or not password:
                raise CommandError("--worker 应为 用户名:密码", returncode=2)
            workers.append((user, hash_secret(password)))
        accounts = broker_accounts()
        try:
            acl = acl_text(prefix=o["prefix"], workers=[u for u, _ in workers], devices=broker_devices())
        except ValueError as exc:
            raise CommandError(str(exc), returncode=2) from exc
        with open(o["password_file"], "w") as fh:
            fh.write(password_lines(workers, accounts))
        with open(o["acl_file"], "w") as fh:
            fh.write(acl)
        self.stdout.write(f"{len(accounts)} 台设备、{len(workers)} 个入库账号已写出（请让 Mosquitto 重新加载：kill -HUP）")
