"""Demo data for 智能粮库 (``smartgov demo`` calls ``load_demo``; safe to run twice, no broker needed):
two depots under the city grain bureau, three warehouses each, 20 days of daily scans from the
simulator with one hot spot and one faulty sensor (through ``services.ingest_scans``), alerts,
a movement, two stock checks and a year of prices; a grain supervisor and a depot keeper."""

from datetime import timedelta
from decimal import Decimal

import numpy as np
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from smartgov.accounts.models import Department, User
from smartgov.accounts.services import create_user
from smartgov.core.permissions import Role, system_actor

from . import services
from .models import Movement, Price, Source, StockCheck
from .readings import WarehouseDirectory, scan_from_dict
from .simulate import ensure_structure, generate, plan

DAYS = 20


def _readings(whs, sims):
    directory = WarehouseDirectory(actor=system_actor("grain.demo"))
    today = timezone.localtime().replace(hour=8, minute=0, second=0, microsecond=0)
    if today > timezone.localtime():  # before 08:00: the last scan is yesterday's (no future scans)
        today -= timedelta(days=1)
    start = today - timedelta(days=DAYS - 1)
    by_day: dict = {}
    for sim, taken_at, payload in generate(sims, start=start, days=DAYS, seed=11, hot_from_day=DAYS - 6):
        info = directory.by_code(sim.depot_code, sim.code)
        by_day.setdefault(taken_at, []).append(scan_from_dict(payload, info))
    return by_day


@transaction.atomic
def load_demo(*, stdout) -> None:
    bureau = Department.objects.filter(code="SFC-LSJ").first()
    if bureau is None:
        stdout.write("智能粮库演示数据跳过：没有示范市粮食和物资储备局（SFC-LSJ）")
        return
    whs = ensure_structure(bureau=bureau, depots=2, warehouses=3, rows=6, cols=5, layers=4, prefix="SFC-LSJ",
                           label="")
    depots = {w.depot.code: w.depot for w in whs}

    password = settings.DEMO_PASSWORD
    existing = set(User.objects.values_list("username", flat=True))
    for username, name, role, dept in (("grain_supervisor", "钱粮安", Role.SUPERVISOR, bureau),
                                       ("depot_keeper", "孙保管", Role.OFFICER, depots["SFC-LSJ-K01"].department)):
        if username not in existing:
            create_user(actor=system_actor("grain.demo"), username=username, password=password, role=role, name=name, department=dept)

    sims = plan(list(depots), 3, rows=6, cols=5, layers=4, seed=11)
    stored = 0
    for _, scans in sorted(_readings(whs, sims).items()):
        stored += services.ingest_scans(actor=system_actor("grain.demo"), actor_label="demo", scans=scans, source=Source.HTTP).stored

    keeper = User.objects.get(username="depot_keeper")
    first = whs[0]
    if not Movement.objects.filter(warehouse=first).exists():
        services.record_movement(actor=keeper, warehouse=first, kind="intake", vehicle="浙A12345", gross_kg=48200,
                                 tare_kg=15600, moisture=13.2, impurity=1.4, grade=2)
    if not StockCheck.objects.exists():
        services.check_stock(actor=keeper, warehouse=whs[1], volume_m3=4330, bulk_density_kg_m3=740)
        services.check_stock(actor=keeper, warehouse=whs[2], volume_m3=5000, bulk_density_kg_m3=780)

    if not Price.objects.exists():
        rng = np.random.default_rng(3)
        base = {"wheat": 2480, "corn": 2260, "paddy": 2700, "soybean": 4650}
        rows = []
        today = timezone.localdate()
        for variety, price in base.items():
            for region, bias in (("华北", 0), ("长江中下游", 60)):
                p = price + bias
                for week in range(52, -1, -1):
                    p = p + rng.normal(0, 12)
                    rows.append((variety, region, today - timedelta(weeks=week), Decimal(str(round(p, 2)))))
        supervisor = User.objects.get(username="grain_supervisor")
        services.import_prices(actor=supervisor, rows=rows)
    stdout.write(f"智能粮库演示数据就绪：{len(depots)} 个库点、{len(whs)} 个仓房，新入库 {stored} 次粮情检测"
                 f"（发热点在 SFC-LSJ-K01/P01，故障测温点在 SFC-LSJ-K01/P02）。")
