"""``smartgov exchange verify FILE`` — check an exported evidence file offline (signatures, digests, Merkle
inclusion in the signed batch); ``smartgov exchange seal`` — seal waiting calls into signed batches now;
``smartgov exchange deliver`` — the webhook delivery worker (run one or several: claims are leased, so a
killed worker's deliveries are picked up again); ``smartgov exchange export MESSAGE_ID`` — write one
call's evidence file."""

import signal
import time
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.db import close_old_connections

from smartgov.core.crypto.sm2 import SM2PublicKey
from smartgov.core.permissions import system_actor
from smartgov.exchange.evidence import EvidenceError, verify_evidence
from smartgov.exchange.models import Message
from smartgov.exchange.services import deliver_due, export_evidence, seal_all


class Command(BaseCommand):
    help = "数据共享交换：证据核验、批量时间戳、事件投递 / exchange: verify evidence, seal batches, deliver events"

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        v = sub.add_parser("verify", help="离线核验证据文件 / verify an evidence file offline")
        v.add_argument("file")
        v.add_argument("--trusted-key", default=None, help="平台公钥PEM文件（不给则使用证据中的公钥）")
        sub.add_parser("seal", help="立即签署批量时间戳 / seal waiting calls now")
        d = sub.add_parser("deliver", help="事件投递进程 / webhook delivery worker")
        d.add_argument("--once", action="store_true", help="deliver what is due, then exit")
        d.add_argument("--idle-sleep", type=float, default=0.5)
        d.add_argument("--batch", type=int, default=50)
        e = sub.add_parser("export", help="导出一次调用的证据文件 / export one call's evidence")
        e.add_argument("message_id")
        e.add_argument("--out", default=None)

    def handle(self, *args, action, **o):
        return getattr(self, action)(o)

    def verify(self, o):
        try:
            data = Path(o["file"]).read_bytes()
            trusted = SM2PublicKey.from_pem(Path(o["trusted_key"]).read_bytes()) if o["trusted_key"] else None
        except OSError as exc:
            raise CommandError(f"无法读取文件：{exc}", returncode=2) from exc
        try:
            msg = verify_evidence(data, trusted=trusted)
        except EvidenceError as exc:
            raise CommandError(f"证据核验失败（{exc.code}）：{exc} / evidence rejected", returncode=1) from exc
        self.stdout.write(self.style.SUCCESS(
            f"证据有效 / evidence verified: 消息 {msg['message_id']}，{msg['consumer']} 调用 {msg['provider']} 的"
            f" {msg['resource']}，时间 {msg['at']}，用途：{msg['purpose']}"))

    def seal(self, o):
        n = seal_all(actor=system_actor("exchange.seal"))
        self.stdout.write(f"已签署 {n} 个批量时间戳 / sealed {n} batches")

    def export(self, o):
        msg = Message.objects.select_related("batch").filter(message_id=o["message_id"]).first()
        if msg is None:
            raise CommandError("没有该消息 / no such message", returncode=2)
        data = export_evidence(actor=system_actor("exchange.export"), message=msg)
        out = Path(o["out"] or f"evidence-{msg.message_id}.json")
        out.write_bytes(data)
        self.stdout.write(str(out))

    def deliver(self, o):
        actor = system_actor("exchange.deliver")
        stop = []
        signal.signal(signal.SIGTERM, lambda *_: stop.append(True))
        self.stdout.write("ready")
        self.stdout.flush()
        while not stop:
            close_old_connections()
            done = deliver_due(actor=actor, limit=o["batch"])
            if any(done.values()):
                self.stdout.write(f"delivered={done['delivered']} retrying={done['retrying']} dead={done['dead']}")
                self.stdout.flush()
            elif o["once"]:
                return
            else:
                time.sleep(o["idle_sleep"])
