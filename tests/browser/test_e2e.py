"""End to end as a person uses it: the real server (`smartgov setup`, `demo`, `serve`) on a fresh
on-disk database, driven by Playwright in the system Chromium."""

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request

import pyotp
import pytest

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
playwright = pytest.importorskip("playwright.sync_api", reason="playwright is a dev dependency")
pytestmark = [
    pytest.mark.skipif(not os.path.exists(CHROMIUM) and os.environ.get("CI") != "true",
                       reason="system Chromium not installed (apt-get install chromium)"),
    # the server under test always uses its own SQLite file, so one run of these is enough
    pytest.mark.skipif(bool(os.environ.get("DATABASE_URL")), reason="runs in the SQLite pass"),
]
PASSWORD = "e2e-Password-2026"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    var = tmp_path_factory.mktemp("var")
    # a machine as `make run` finds it: no database URL, no keys (setup writes development ones)
    env = {k: v for k, v in os.environ.items()
           if k not in ("DATABASE_URL", "SMARTGOV_MASTER_KEYS", "SMARTGOV_MASTER_KEYS_FILE", "SECRET_KEY")}
    env.update(SMARTGOV_VAR_DIR=str(var), SMARTGOV_DEMO_PASSWORD=PASSWORD)
    run = [sys.executable, "-m", "smartgov"]
    subprocess.run([*run, "setup"], env=env, check=True, capture_output=True)
    subprocess.run([*run, "demo"], env=env, check=True, capture_output=True)
    port = _free_port()
    proc = subprocess.Popen([*run, "serve", "--bind", f"127.0.0.1:{port}", "--workers", "1"], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    for _ in range(100):
        try:
            urllib.request.urlopen(base + "/", timeout=1)  # noqa: S310 (our own loopback server)
            break
        except OSError:
            time.sleep(0.1)
    yield base
    proc.terminate()
    proc.wait(10)


@pytest.fixture
def page(server):
    with playwright.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=[
            "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"])
        pg = browser.new_page(viewport={"width": 1280, "height": 900}, locale="en-US")
        yield pg
        browser.close()


def sign_in_staff(page, base, username):
    page.goto(base + "/accounts/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    assert page.url.endswith("/accounts/login/enrol/")
    secret = page.inner_text("[data-testid=totp-secret]").strip()
    page.fill("input[name=code]", pyotp.TOTP(secret).now())
    page.click("button[type=submit]")


def test_officer_signs_in_with_two_factors_and_sees_the_workbench(server, page, tmp_path):
    page.goto(server + "/")
    assert page.locator("html").get_attribute("lang") == "zh-CN"  # Chinese first, whatever the browser says
    assert page.locator("[data-testid=services] .card").count() == 9
    sign_in_staff(page, server, "city_admin")
    assert page.url.endswith("/workbench/")
    assert "示范市政务服务和数据管理局" in page.inner_text("main")
    assert page.locator("[data-testid=todo-empty]").is_visible()
    page.goto(server + "/audit/")
    assert "403" in page.inner_text("main")
    page.click("button[value=en]")
    assert page.locator("html").get_attribute("lang") == "en"
    page.screenshot(path=str(tmp_path / "workbench.png"), full_page=True)


def test_audit_admin_reads_the_trail_with_the_logins_in_it(server, page):
    sign_in_staff(page, server, "auditadmin")
    page.goto(server + "/audit/?action=accounts.login")
    rows = page.locator("[data-testid=audit-table] tbody tr")
    assert rows.count() >= 1
    assert "accounts.login.succeeded" in page.inner_text("[data-testid=audit-table]")
