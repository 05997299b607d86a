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


SERVER_VAR = {}  # the running server's var directory (its SQLite file), for tests that look inside


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    var = tmp_path_factory.mktemp("var")
    SERVER_VAR["path"] = var
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
    for _ in range(600):  # a loaded machine can take a minute to import everything
        try:
            urllib.request.urlopen(base + "/", timeout=1)  # noqa: S310 (our own loopback server)
            break
        except OSError:
            time.sleep(0.1)
    yield base
    proc.terminate()
    proc.wait(60)


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
    assert page.locator("[data-testid=todo] tbody tr").count() > 0  # demo cases below the city bureau
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


def test_citizen_registers_gets_an_eid_and_an_officer_issues_a_licence_anyone_verifies(server, page, tmp_path):
    """The identity issue's walk-through, as people do it in the browser."""
    import re

    from smartgov.core.validators import id_number_check_char

    # a new citizen registers, applies for an EID, sees its QR and downloads the PDF card
    first17 = f"33010619{91 + int(time.time()) % 8}0615{int(time.time()) % 1000:03d}"
    page.goto(server + "/eid/register/")
    page.fill("input[name=name]", "林小雨")
    page.fill("input[name=id_number]", first17 + id_number_check_char(first17))
    page.fill("input[name=phone]", "13700001234")
    page.fill("input[name=password]", "Citizen-Pass-2026")
    page.fill("input[name=password2]", "Citizen-Pass-2026")
    page.click("button[type=submit]")
    assert page.url.endswith("/eid/")
    page.click("[data-testid=apply]")
    assert page.locator("[data-testid=my-eid] svg").count() == 1
    eid = page.inner_text("[data-testid=eid]")
    assert re.fullmatch(r"E[0-9A-Z]{17}", eid)
    with page.expect_download() as download:
        page.click("[data-testid=card-pdf]")
    path = tmp_path / "card.pdf"
    download.value.save_as(path)
    assert path.read_bytes().startswith(b"%PDF")
    page.screenshot(path=str(tmp_path / "my-eid.png"), full_page=True)
    page.context.clear_cookies()

    # an officer of the market regulator issues a business licence to an enterprise of the register
    sign_in_staff(page, server, "scjg_officer")
    page.goto(server + "/licences/issue/")
    with page.expect_navigation():  # choosing the type reloads the form with its fields
        page.select_option("select[name=type]", label="营业执照（YYZZ · 法人）")
    uscc = _demo_uscc("MA2D0001")
    page.fill("input[name=holder_code]", uscc)
    page.fill("input[name=f_company_type]", "有限责任公司")
    page.fill("input[name=f_registered_capital]", "100万元")
    page.fill("input[name=f_business_scope]", "软件开发；信息技术服务")
    page.click("[data-testid=issue-form] button[type=submit]")
    assert "/licences/" in page.url and page.locator("[data-testid=identifier]").count() == 1
    payload = page.inner_text(".payload").strip()
    page.context.clear_cookies()

    # anyone verifies it at /verify by pasting the payload; one changed character is rejected with the reason
    page.goto(server + "/verify/")
    page.fill("[data-testid=payload-input]", payload)
    page.click("form button[type=submit]")
    assert page.locator("[data-testid=verify-ok]").is_visible()
    i = len(payload) // 2
    tampered = payload[:i] + ("A" if payload[i] != "A" else "B") + payload[i + 1:]
    page.goto(server + "/verify/")
    page.fill("[data-testid=payload-input]", tampered)
    page.click("form button[type=submit]")
    assert page.locator("[data-testid=verify-bad]").is_visible()
    assert page.inner_text("[data-testid=verify-reason]").strip()
    page.screenshot(path=str(tmp_path / "verify-bad.png"), full_page=True)


def _demo_uscc(org: str) -> str:
    from smartgov.core.validators import org_code_check_char, uscc_check_char

    body = "91330100" + org + org_code_check_char(org)
    return body + uscc_check_char(body)


def test_regulator_traces_a_dose_to_its_vaccinee_and_recalls_its_batch(server, page, tmp_path):
    """Issue 5 in the browser, on the demo chain: a dose found by its code shows its life from
    commissioning to the vaccinee with the cold-chain readings; recalling its batch lists who got it."""
    import sqlite3

    db = sqlite3.connect(SERVER_VAR["path"] / "smartgov.sqlite3")
    epc, batch_id, vaccinee = db.execute(
        "SELECT v.epc, v.batch_id, p.name FROM trace_vaccination v JOIN identity_person p ON p.id = v.person_id"
        " ORDER BY v.id LIMIT 1").fetchone()
    db.close()
    code = epc.rsplit(":", 1)[-1] if epc.startswith("urn:") else epc
    sign_in_staff(page, server, "drug_supervisor")
    page.goto(server + "/trace/")
    page.fill("[data-testid=code-search]", code)
    page.press("[data-testid=code-search]", "Enter")
    page.wait_for_selector("[data-testid=timeline]")
    timeline = page.inner_text("[data-testid=timeline]")
    assert "赋码激活" in timeline and "发货" in timeline and "接种/发放" in timeline  # CBV steps, labelled
    assert page.inner_text("[data-testid=vaccination]")  # the vaccinee (masked) and the health worker
    assert "readings" in page.content() and "[]" not in page.content().split("const readings = ", 1)[1][:4]
    page.screenshot(path=str(tmp_path / "trace.png"), full_page=True)
    page.goto(server + "/trace/recalls/")
    page.select_option("[data-testid=recall-form] select[name=batch]", str(batch_id))
    page.fill("[data-testid=recall-form] input[name=reason]", "效价检测不合格")
    page.click("[data-testid=recall-form] button")
    page.wait_for_selector("[data-testid=vaccinees]")
    assert vaccinee in page.inner_text("[data-testid=vaccinees]")
    page.screenshot(path=str(tmp_path / "recall.png"), full_page=True)
