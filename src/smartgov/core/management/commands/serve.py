"""``smartgov serve``: serve the platform with gunicorn (static files through WhiteNoise)."""

import atexit
import os
import shutil
import subprocess
import sys

from django.apps import apps
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from prometheus_client import values


class Command(BaseCommand):
    help = "启动Web服务 / serve the platform (gunicorn)"

    def add_arguments(self, parser):
        parser.add_argument("--bind", default="127.0.0.1:8000")
        parser.add_argument("--workers", type=int, default=2)
        parser.add_argument("--threads", type=int, default=4)
        parser.add_argument("--live-bind", default="",
                            help="出入境大厅实时推送（ASGI/SSE）地址，默认端口+1；off 不启动 / hall live server")

    def handle(self, *args, bind, workers, threads, live_bind="", **options):
        if settings.SECRET_KEY_IS_EPHEMERAL:
            raise CommandError("未配置 SECRET_KEY：请设置 SECRET_KEY（或 SECRET_KEY_FILE），开发机可先运行 `smartgov setup`。")
        from gunicorn.app.wsgiapp import run  # noqa: PLC0415 — deferred: heavy, only for smartgov serve

        self.stdout.write(f"SmartGov 正在 http://{bind}/ 提供服务（Ctrl+C 停止）")
        self._metrics_dir(bind)
        self._start_hall_live(bind, live_bind)
        sys.argv = ["gunicorn", "smartgov.config.wsgi:application", "--bind", bind, "--workers", str(workers),
                    "--threads", str(threads), "--graceful-timeout", "20"]  # access lines: core.middleware (one a request)
        run()

    def _metrics_dir(self, bind: str) -> None:
        """Each gunicorn worker counts its own requests; prometheus_client's multiprocess mode adds them up
        from files in a directory that must be empty when the server starts (core/metrics.py)."""
        path = settings.VAR_DIR / "metrics" / bind.replace(":", "_")
        shutil.rmtree(path, ignore_errors=True)
        path.mkdir(parents=True)
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = str(path)  # read by prometheus_client in the workers
        settings.METRICS_MULTIPROC_DIR = str(path)
        # the system checks imported prometheus_client before this: choose its value class again, so the
        # labelled series the workers create count in files
        values.ValueClass = values.get_value_class()

    def _start_hall_live(self, bind: str, live_bind: str) -> None:
        """The hall's live pages (SSE) need an ASGI server; beside gunicorn (WSGI) it runs as a child process
        on the next port, and the pages are told its address (docs/hall.md)."""
        if live_bind == "off" or not apps.is_installed("smartgov.hall") or settings.HALL_LIVE_URL:
            return
        host, _, port = bind.rpartition(":")
        live_bind = live_bind or f"{host}:{int(port) + 1}"
        settings.HALL_LIVE_URL = f"http://{live_bind}"  # the forked workers inherit it
        # niced, so it never slows gunicorn's own start (it is idle but for the pages it streams to)
        live = subprocess.Popen([sys.executable, "-m", "smartgov", "hall", "live", "--bind", live_bind,
                                 "--parent", str(os.getpid())], preexec_fn=lambda: os.nice(5))
        atexit.register(live.terminate)
