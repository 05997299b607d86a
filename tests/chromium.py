"""Playwright on the system Chromium, shared by the park and grain browser tests:
``pytestmark = [chromium.needs_chromium, ...]`` and ``with chromium.page_for(live_server, client, settings) as (page, errors):`` — a headless page at 1280 × 900
carrying the test client's session cookie, its uncaught script errors collected in ``errors``, the browser
closed afterwards. Without Playwright the test is skipped; without Chromium too, except on CI (where a missing
browser is a failure)."""

import os
import shutil
from contextlib import contextmanager

import pytest

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
needs_chromium = pytest.mark.skipif(not os.path.exists(CHROMIUM) and os.environ.get("CI") != "true",
                                    reason="system Chromium not installed (apt-get install chromium)")


@contextmanager
def page_for(live_server, client, settings, *, width: int = 1280, height: int = 900):
    """A page signed in as ``client``'s user; static files served plainly (no manifest in tests)."""
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is a dev dependency")
    settings.STORAGES = {**settings.STORAGES,
                         "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}}
    cookie = client.cookies[settings.SESSION_COOKIE_NAME]
    with sync_api.sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            context = browser.new_context(viewport={"width": width, "height": height})
            context.add_cookies([{"name": cookie.key, "value": cookie.value, "url": live_server.url}])
            page = context.new_page()
            errors: list[str] = []
            page.on("pageerror", lambda exc: errors.append(str(exc)))
            yield page, errors
        finally:
            browser.close()
