"""A demo platform in a real browser, for the screenshots command and the browser tests: start the
server the way `make run` does (setup, demo, serve in demo mode on a scratch SQLite file and a free
port), and sign in as a demo role the way a person does. Needs Playwright (a dev dependency) and a
Chromium (the system one at /usr/bin/chromium)."""

import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from contextlib import contextmanager
from pathlib import Path

import pyotp

from smartgov.core.processes import child_env

DEMO_PASSWORD = "browse-Password-2026"  # noqa: S105 (the scratch demo database of one run)
CITIZEN_ID_NUMBER = "330106198507043218"  # zhangsan 张三 (README)
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
STAFF_ROLES = ("city_admin", "dc_officer", "scjg_officer", "drug_supervisor", "grain_supervisor", "auditadmin",
               "sysadmin", "secadmin")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def demo_server(var: Path):
    """Yield the base URL of a demo server on its own SQLite file under ``var``; stopped on exit."""
    env = child_env(dict(SMARTGOV_VAR_DIR=str(var), SMARTGOV_DEMO_PASSWORD=DEMO_PASSWORD, SMARTGOV_DEMO_MODE="true"),
                    drop=("DATABASE_URL", "SMARTGOV_MASTER_KEYS", "SMARTGOV_MASTER_KEYS_FILE", "SECRET_KEY"))
    run = [sys.executable, "-m", "smartgov"]
    subprocess.run([*run, "setup"], env=env, check=True, capture_output=True)
    subprocess.run([*run, "demo"], env=env, check=True, capture_output=True)
    port = _free_port()
    proc = subprocess.Popen([*run, "serve", "--bind", f"127.0.0.1:{port}", "--workers", "2"], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(600):  # a loaded machine can take a while to import everything
            try:
                urllib.request.urlopen(base + "/api/health", timeout=2)  # noqa: S310 (our own loopback server)
                break
            except OSError:
                time.sleep(0.2)
        yield base
    finally:
        proc.terminate()
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            proc.kill()


def launch(playwright):
    return playwright.chromium.launch(executable_path=CHROMIUM, args=[
        "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"])


TOTP_SECRETS: dict[str, str] = {}  # username → secret bound at the first sign-in (per server run)


def sign_in(page, base: str, username: str) -> None:
    """Sign in as a demo account: citizens at /eid/login/ (ID number, password, the demo-mode code shown
    on the page); staff at /accounts/login/ with TOTP (binding the authenticator the first time)."""
    if username == "zhangsan":
        page.goto(base + "/eid/login/")
        page.fill("input[name=identifier]", CITIZEN_ID_NUMBER)
        page.fill("input[name=password]", DEMO_PASSWORD)
        page.click("form button[type=submit]")
        page.wait_for_url("**/eid/login/code/")
        code = page.inner_text("[data-testid=demo-code] strong").strip()
        page.fill("input[name=code]", code)
        page.click("form button[type=submit]")
        page.wait_for_load_state()
        return
    page.goto(base + "/accounts/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", DEMO_PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_load_state()
    if page.url.endswith("/accounts/login/enrol/"):
        TOTP_SECRETS[username] = re.sub(r"\s", "", page.inner_text("[data-testid=totp-secret]"))
    totp = pyotp.TOTP(TOTP_SECRETS[username])
    code = totp.now()
    if TOTP_SECRETS.get(f"{username}:last") == code:  # a code counts once: wait for the next one
        time.sleep(totp.interval - time.time() % totp.interval + 0.5)
        code = totp.now()
    TOTP_SECRETS[f"{username}:last"] = code
    page.fill("input[name=code]", code)
    page.click("button[type=submit]")
    page.wait_for_load_state()
