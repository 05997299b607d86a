"""``smartgov hall simulate`` — play a hall day through the real services; ``smartgov hall live`` — the
ASGI server for the live pages (SSE); ``smartgov hall daily`` — the day's jobs (no-shows, overdue lockers)."""

import json
import os
import threading
import time

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from smartgov.accounts.models import Department
from smartgov.core.errors import DomainError
from smartgov.core.permissions import system_actor
from smartgov.hall import services
from smartgov.hall.models import Hall
from smartgov.hall.simulate import ensure_sim_hall, simulate_day


class Command(BaseCommand):
    help = "出入境智慧大厅：模拟、实时推送服务、日常任务 / exit-entry hall: simulator, live server, daily jobs"

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        s = sub.add_parser("simulate", help="模拟一天的大厅业务 / simulate a hall day")
        s.add_argument("--visitors", type=int, default=1000)
        s.add_argument("--hall", default=None, help="hall code (default: a simulation hall sized for --visitors)")
        s.add_argument("--department", default="SFC-CRJ", help="department of the simulation hall")
        s.add_argument("--seed", type=int, default=1)
        s.add_argument("--json", action="store_true")
        live = sub.add_parser("live", help="实时推送服务（ASGI，SSE） / the live pages' ASGI server")
        live.add_argument("--bind", default="127.0.0.1:8001")
        live.add_argument("--parent", type=int, default=None, help="exit when this process ends (used by serve)")
        d = sub.add_parser("daily", help="爽约标记与逾期取证退回 / mark no-shows, return overdue lockers")
        d.add_argument("--hall", default=None)

    def handle(self, *args, action, **o):
        if action == "live":
            return self.live(o["bind"], o["parent"])
        if action == "daily":
            return self.daily(o["hall"])
        return self.simulate(o)

    def simulate(self, o):
        if o["visitors"] < 1:
            raise CommandError("--visitors 须为正整数")
        if o["hall"]:
            hall = Hall.objects.filter(code=o["hall"]).first()
            if hall is None:
                raise CommandError(f"没有编码为 {o['hall']} 的大厅")
        else:
            dept = Department.objects.filter(code=o["department"]).first()
            if dept is None:
                raise CommandError(f"没有编码为 {o['department']} 的部门（先运行 smartgov demo）")
            hall = ensure_sim_hall(department=dept, visitors=o["visitors"])
        try:
            result = simulate_day(hall=hall, visitors=o["visitors"], seed=o["seed"])
        except DomainError as exc:
            raise CommandError(exc.message) from exc
        self.stdout.write(json.dumps(result, ensure_ascii=False) if o["json"] else
                          "；".join(f"{k} {v}" for k, v in result.items()))

    def live(self, bind: str, parent: int | None):
        import uvicorn  # noqa: PLC0415 — deferred: heavy, only for smartgov hall live

        if parent:  # started by `smartgov serve`: end with it, however it ends
            def watch():
                while os.getppid() == parent:
                    time.sleep(1)
                os._exit(0)

            threading.Thread(target=watch, daemon=True).start()

        host, _, port = bind.rpartition(":")
        self.stdout.write(f"大厅实时推送服务 http://{bind}/hall/live/ （Ctrl+C 停止）")
        uvicorn.run("smartgov.config.asgi:application", host=host or "127.0.0.1", port=int(port),
                    log_level="warning", lifespan="off")

    def daily(self, code):
        actor = system_actor("hall.daily")
        halls = Hall.objects.filter(code=code) if code else Hall.objects.all()
        for hall in halls:
            shows = services.mark_no_shows(actor=actor, hall=hall, at=timezone.now())
            back = services.return_overdue(actor=actor, hall=hall, at=timezone.now())
            self.stdout.write(f"{hall.name}：爽约 {shows}，逾期退回 {back}")
