"""Demo data for 追溯监管 (safe to run twice): a small vaccine chain under 示范省药品监督管理局 — two batches
of hepatitis B vaccine from the manufacturer through the provincial CDC and two county CDCs to four
vaccination sites, cold-chain readings with one excursion, a few vaccinations linked to the register and
one recall — all through the app's own services (capture, cold chain, vaccination, recall)."""

import datetime
import random

from django.conf import settings
from django.utils import timezone

from smartgov.accounts import services as accounts
from smartgov.accounts.models import Department, User
from smartgov.core.permissions import Role, system_actor
from smartgov.core.validators import id_number_check_char
from smartgov.identity.models import Person
from smartgov.identity.services import register_person

from . import services, sim
from .models import AefiReport, Batch, CodeState, LotRelease, Recall, Vaccination
from .selectors import effective_state

NURSE = "site_nurse"


def _id_number(seq: int) -> str:
    first17 = f"61010219{85 + seq % 10}0{1 + seq % 9}1{seq % 10}{100 + seq:03d}"[:17]
    return first17 + id_number_check_char(first17)


def load_demo(*, stdout) -> None:
    dept = Department.objects.filter(code="SF-SJJ").first()
    if dept is None:
        stdout.write("追溯监管演示数据跳过：没有示范省药品监督管理局（SF-SJJ）")
        return
    net = sim.build_network(dept, counties=2, sites_per_county=2)
    start = timezone.now() - datetime.timedelta(days=20)
    made = 0
    for seq, (lot, n) in enumerate((("202601A", 300), ("202602B", 200)), start=1):
        batch, issue = sim.make_batch(net, lot, (start - datetime.timedelta(days=10)).date(), doses=n)
        if CodeState.objects.filter(batch_id=batch.pk).exists():
            continue
        plan = sim.plan_batch(net, batch, issue, start=start + datetime.timedelta(hours=seq), seq=seq, administer=0)
        sim.capture_plan(plan)
        made += plan.epc_events
    _readings(net, start)
    _nmpa_master_data(net)
    _vaccinations(net, dept)
    _aefi()
    _recall(dept)
    stdout.write(f"追溯监管演示数据就绪：新上报 {made} 条EPC事件；"
                 f"{CodeState.objects.filter(batch_id__isnull=False).count()} 个剂次追溯码。")


def _readings(net, start) -> None:
    """Hourly fridge readings at the provincial CDC and every site; one site's fridge fails for 3 hours."""
    rnd = random.Random(42)
    for org_id, logger in net.fridges.items():
        if logger.readings.exists():
            continue
        rows = []
        t = start
        failing = org_id == net.sites[0].pk
        while t < timezone.now():
            c = round(rnd.uniform(3.0, 6.5), 1)
            if failing and timezone.now() - datetime.timedelta(hours=30) <= t < \
                    timezone.now() - datetime.timedelta(hours=27):
                c = round(rnd.uniform(9.5, 12.0), 1)  # the compressor stopped (停机超温)
            rows.append({"time": t, "celsius": c, "latitude": None, "longitude": None})
            t += datetime.timedelta(hours=1)
        services.record_readings(actor=system_actor("trace.demo"), logger=logger, rows=rows, source="demo")
    truck = net.trucks[0]
    if not truck.positions.exists():
        # the manufacturer's truck on its way to the provincial CDC (BeiDou positions every 20 minutes)
        t0 = start + datetime.timedelta(hours=19)
        (lat0, lng0), (lat1, lng1) = (34.34, 108.70), (34.27, 108.95)
        rows = [{"time": t0 + datetime.timedelta(minutes=20 * k), "celsius": round(rnd.uniform(3.5, 6.0), 1),
                 "latitude": lat0 + (lat1 - lat0) * k / 12, "longitude": lng0 + (lng1 - lng0) * k / 12}
                for k in range(13)]
        services.record_readings(actor=system_actor("trace.demo"), logger=truck, rows=rows, source="demo")


def _vaccinations(net, dept) -> None:
    if Vaccination.objects.exists():
        return
    nurse = User.objects.filter(username=NURSE).first() or accounts.create_user(
        actor=system_actor("trace.demo"), username=NURSE, password=settings.DEMO_PASSWORD,
        role=Role.OFFICER, name="刘护士", department=dept)
    names = ["王小明", "李娜", "张伟", "刘洋", "陈静", "杨帆", "赵磊", "黄敏"]
    for i, name in enumerate(names):
        number = _id_number(i)
        if not Person.objects.filter(name=name, department=dept).exists():
            register_person(actor=system_actor("trace.demo"), name=name, id_number=number, phone=f"1390000{7000 + i}", department=dept,
                            region_code="610102")
    # doses at sites that are not in question: half from each batch (the second one is recalled below)
    given = 0
    for lot in ("202601A", "202602B"):
        batch = Batch.objects.get(lot=lot)
        per_batch = 0
        for site in net.sites[1:]:
            for state in CodeState.objects.filter(batch_id=batch.pk, flags=0).order_by("epc"):
                if per_batch >= len(names) // 2 or per_batch >= (net.sites[1:].index(site) + 1) * 2:
                    break
                if _at(state) != site.location_uri:
                    continue
                services.administer_dose(actor=nurse, code=state.epc, id_number=_id_number(given), site=site,
                                         dose_number=1 + given % 3, route="intramuscular",
                                         body_site="left_deltoid" if given % 2 else "right_deltoid")
                given += 1
                per_batch += 1


def _nmpa_master_data(net) -> None:
    """批准文号, 包装比例 (10 支 a 盒, 20 盒 a 箱, as the simulator packs) and 批签发 of both batches."""
    actor = system_actor("trace.demo")
    product = net.product
    if not product.approval_number:
        services.set_approval_number(actor=actor, product=product, approval_number="国药准字S20260001")
    if not product.packaging_levels.exists():
        services.set_packaging(actor=actor, product=product, ratio="1:20:200", units=["支", "盒", "箱"])
    for n, batch in enumerate(Batch.objects.filter(product=product).order_by("lot"), start=1):
        if not LotRelease.objects.filter(batch=batch).exists():
            services.record_lot_release(actor=actor, batch=batch, certificate_number=f"SZ2026{n:04d}",
                                        agency="中国食品药品检定研究院",
                                        issued_on=batch.production_date + datetime.timedelta(days=1),
                                        conclusion="passed", quantity=batch.code_issues.first().count)


def _aefi() -> None:
    """One reported fever after a dose (待定 until classified)."""
    vac = Vaccination.objects.select_related("site").order_by("pk").first()
    nurse = User.objects.filter(username=NURSE).first()
    if vac is None or nurse is None or AefiReport.objects.exists():
        return
    services.report_aefi(actor=nurse, vaccination=vac, reporter=vac.site,
                         onset_at=timezone.now(), symptoms="接种后发热（腋温38.6℃），局部红肿直径2.0cm（演示）")


def _at(state) -> str | None:
    return effective_state(state)["biz_location"]


def _recall(dept) -> None:
    batch = Batch.objects.filter(lot="202602B").first()
    if batch is None or Recall.objects.filter(batch=batch).exists():
        return
    supervisor = User.objects.filter(username="drug_supervisor").first()
    if supervisor is None:
        return
    services.recall_batch(actor=supervisor, batch=batch, reason="抽检发现效价不合格（演示）")
