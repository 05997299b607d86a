"""``smartgov serve``: serve the platform with gunicorn (static files through WhiteNoise)."""

import sys

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError


class Command(BaseCommand):
    help = "启动Web服务 / serve the platform (gunicorn)"

    def add_arguments(self, parser):
        parser.add_argument("--bind", default="127.0.0.1:8000")
        parser.add_argument("--workers", type=int, default=2)
        parser.add_argument("--threads", type=int, default=4)

    def handle(self, *args, bind, workers, threads, **options):
        if settings.SECRET_KEY_IS_EPHEMERAL:
            raise CommandError("未配置 SECRET_KEY：请设置 SECRET_KEY（或 SECRET_KEY_FILE），开发机可先运行 `smartgov setup`。")
        from gunicorn.app.wsgiapp import run

        self.stdout.write(f"SmartGov 正在 http://{bind}/ 提供服务（Ctrl+C 停止）")
        sys.argv = ["gunicorn", "smartgov.config.wsgi:application", "--bind", bind, "--workers", str(workers),
                    "--threads", str(threads), "--access-logfile", "-", "--graceful-timeout", "20"]
        run()
