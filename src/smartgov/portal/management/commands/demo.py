"""``smartgov demo``: load the demonstration data of every app. Safe to run twice.

The portal only orchestrates: each app owns ``<app>/demo.py`` with ``load_demo(*, stdout)``, run in
INSTALLED_APPS order (accounts' departments and users, then the register, EIDs, licence types, …), and
a signed audit checkpoint closes the load. Every account gets ``settings.DEMO_PASSWORD``
(``SMARTGOV_DEMO_PASSWORD``, default shown in the README — a demo database only). Staff bind their
authenticator app at first sign-in.
"""

import importlib

from django.apps import apps
from django.core.management.base import BaseCommand
from django.db import transaction

from smartgov.audit.services import cut_checkpoint, verify_and_keep
from smartgov.core.permissions import system_actor


class Command(BaseCommand):
    help = "加载演示数据（可重复运行）/ load demo data (safe to run twice)"

    @transaction.atomic
    def handle(self, *args, **options):
        for config in apps.get_app_configs():
            if not config.name.startswith("smartgov.") or config.label == "portal":
                continue
            try:
                module = importlib.import_module(f"{config.name}.demo")
            except ModuleNotFoundError as exc:
                if exc.name != f"{config.name}.demo":
                    raise
                continue
            module.load_demo(stdout=self.stdout)
        cut_checkpoint()
        verify_and_keep(actor=system_actor("demo"), workers=1)  # the overview's 审计链状态 has a result to show
        self.stdout.write(self.style.SUCCESS(
            "演示数据就绪（已存在的保持不变）。账号见 README，密码为 SMARTGOV_DEMO_PASSWORD 或默认演示密码。"))
