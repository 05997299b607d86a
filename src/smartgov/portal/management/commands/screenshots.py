"""`smartgov screenshots [--out docs/screenshots]`: the main pages at 1280 px and 390 px, as each role
sees them, from a fresh demo server (Playwright + the system Chromium). Regenerates the README's pictures."""

import tempfile
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from smartgov.portal.browsing import demo_server, launch, sign_in

# (file name, who, path): who is None for a visitor
PAGES = [
    ("home", None, "/"),
    ("hall", None, "/onestop/"),
    ("progress-lookup", None, "/onestop/progress/"),
    ("citizen-home", "zhangsan", "/my/"),
    ("citizen-cases", "zhangsan", "/onestop/mine/"),
    ("citizen-wallet", "zhangsan", "/licences/wallet/"),
    ("citizen-inbox", "zhangsan", "/inbox/"),
    ("workbench", "city_admin", "/workbench/"),
    ("measures", "city_admin", "/onestop/dashboard/"),
    ("officer-queue", "scjg_officer", "/onestop/work/"),
    ("trace-dashboard", "drug_supervisor", "/trace/"),
    ("recalls", "drug_supervisor", "/trace/recalls/"),
    ("grain", "grain_supervisor", "/grain/supervision/"),
    ("audit", "auditadmin", "/audit/"),
    ("park", "park_admin", "/park/"),
]
WIDTHS = {"desktop": (1280, 900), "phone": (390, 844)}


class Command(BaseCommand):
    help = "截取主要页面（1280 px 与 390 px）/ screenshots of the main pages at 1280 px and 390 px"

    def add_arguments(self, parser):
        parser.add_argument("--out", default="docs/screenshots")
        parser.add_argument("--lang", default="zh-hans", choices=["zh-hans", "en"])

    def handle(self, *args, out, lang, **options):
        try:
            from playwright.sync_api import sync_playwright  # noqa: PLC0415 — deferred: optional, the function copes without it (except ImportError)
        except ImportError as exc:
            raise CommandError("需要 Playwright（pip install -e '.[dev]'）") from exc

        out_dir = Path(out)
        out_dir.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory() as var, demo_server(Path(var)) as base, sync_playwright() as p:
            browser = launch(p)
            contexts = {}
            for name, who, path in PAGES:
                for label, (width, height) in WIDTHS.items():
                    key = (who, label)
                    if key not in contexts:
                        ctx = browser.new_context(viewport={"width": width, "height": height}, locale="zh-CN",
                                                  device_scale_factor=1)
                        page = ctx.new_page()
                        page.set_default_timeout(60000)
                        if lang == "en":
                            ctx.add_cookies([{"name": "django_language", "value": "en", "url": base}])
                        if who:
                            sign_in(page, base, who)
                        contexts[key] = page
                    page = contexts[key]
                    page.goto(base + path)
                    page.wait_for_load_state("networkidle")
                    target = out_dir / f"{name}-{label}.png"
                    page.screenshot(path=str(target), full_page=False)
                    self.stdout.write(str(target))
            browser.close()
