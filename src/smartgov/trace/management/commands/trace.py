"""``smartgov trace simulate --doses N`` — a realistic vaccine chain captured through the capture service
(with a truck and fridge readings, one excursion and one recall), with a progress bar;
``smartgov trace capture FILE --organisation ID`` — capture an EPCISDocument file."""

import datetime
import random
import sys
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone
from tqdm import tqdm

from smartgov.accounts.models import Department, User
from smartgov.core.errors import DomainError
from smartgov.core.permissions import system_actor

from ... import services, sim
from ...models import Organisation


class Command(BaseCommand):
    help = "药品（疫苗）追溯：模拟链路与EPCIS上报 / simulate a chain, capture an EPCIS file"

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        sim = sub.add_parser("simulate", help="模拟生产→省疾控→县疾控→接种单位→受种者 / simulate a chain")
        sim.add_argument("--doses", type=int, default=10_000)
        sim.add_argument("--department", default="SF-SJJ", help="监管部门编码 / supervising department code")
        sim.add_argument("--administer", type=float, default=0.01, help="已接种比例 / share of doses given")
        sim.add_argument("--recall-by", default="drug_supervisor", help="发起召回的监管人员用户名")
        sim.add_argument("--no-progress", action="store_true")
        cap = sub.add_parser("capture", help="上报EPCIS文档 / capture an EPCISDocument file")
        cap.add_argument("file")
        cap.add_argument("--organisation", type=int, required=True, help="上报单位ID")
        cap.add_argument("--behaviour", default="rollback", choices=["rollback", "proceed"])

    def handle(self, *args, action, **options):
        try:
            if action == "simulate":
                self._simulate(**options)
            else:
                self._capture(**options)
        except DomainError as exc:
            detail = f"（{exc.detail}）" if exc.detail else ""
            raise CommandError(f"{exc.message}{detail}", returncode=2) from exc

    def _simulate(self, *, doses, department, administer, recall_by, no_progress, **_):
        if not 1 <= doses <= 20_000_000:
            raise CommandError("--doses 应在1至20,000,000之间", returncode=2)
        if not 0 <= administer <= 1:
            raise CommandError("--administer 应在0至1之间", returncode=2)
        dept = Department.objects.filter(code=department).first()
        if dept is None:
            raise CommandError(f"没有编码为 {department} 的部门（先运行 smartgov demo，或用 --department 指定）", returncode=2)
        net = sim.build_network(dept, counties=6, sites_per_county=4)
        batch_size = 100_000 if doses >= 1_000_000 else max(doses // 10, 10)
        start = timezone.now() - datetime.timedelta(days=30)
        existing = net.product.batches.count()
        bar = tqdm(total=None, desc="上报EPC事件", unit="条", file=sys.stderr, disable=no_progress or not sys.stderr.isatty())
        made, seq, batches, captured, stocked = 0, existing, [], 0, []
        while made < doses:
            n = min(batch_size, doses - made)
            batch, issue = sim.make_batch(net, f"SIM{timezone.now():%y%m%d}{seq:04d}", start.date(), doses=n)
            plan = sim.plan_batch(net, batch, issue, start=start + datetime.timedelta(hours=seq), seq=seq + 1,
                                  administer=administer)
            bar.total = (bar.total or 0) + plan.epc_events
            captured += sim.capture_plan(plan, progress=bar.update)
            batches.append(batch)
            stocked = plan.stocked_sites or stocked
            made += n
            seq += 1
        bar.close()
        # one fridge fails for three hours (停机超温): the excursion rules raise alerts
        site = random.Random(seq).choice(stocked or net.sites)
        now = timezone.now()
        rows = [{"time": now - datetime.timedelta(minutes=30 * (12 - k)), "celsius": 10.8 if 3 <= k <= 8 else 4.6,
                 "latitude": None, "longitude": None} for k in range(12)]
        outcome = services.record_readings(actor=system_actor("trace.command"), logger=net.fridges[site.pk], rows=rows, source="simulate")
        recalled = ""
        regulator = User.objects.filter(username=recall_by).first()
        if regulator is not None:
            recall = services.recall_batch(actor=regulator, batch=batches[0], reason="模拟：抽检不合格")
            recalled = f"；召回批次 {batches[0].lot}（{recall.codes_total} 剂，已接种 {recall.codes_administered}）"
        else:
            recalled = f"；未召回（没有用户 {recall_by}）"
        self.stdout.write(self.style.SUCCESS(
            f"模拟完成：{doses} 剂、{len(batches)} 个批次，上报 {captured} 条EPC事件；"
            f"{site.name} 冷库超温告警 {len(outcome['alerts'])} 条{recalled}。"))

    def _capture(self, *, file, organisation, behaviour, **_):
        path = Path(file)
        if not path.is_file():
            raise CommandError(f"找不到文件：{file}", returncode=2)
        org = Organisation.objects.filter(pk=organisation).first()
        if org is None:
            raise CommandError(f"没有ID为 {organisation} 的追溯参与单位", returncode=2)

        def chunks():
            with path.open("rb") as fh:
                while block := fh.read(1 << 20):
                    yield block

        job = services.capture_epcis_document(actor=system_actor("trace.command"), organisation=org, chunks=chunks(), behaviour=behaviour)
        self.stdout.write(self.style.SUCCESS(
            f"上报完成（#{job.pk}）：收到 {job.events_received} 个事件，保存 {job.events_stored}，重复 {job.events_duplicate}，"
            f"错误 {len(job.errors)}。"))
