"""数据共享交换 in a real browser: a citizen applies for an item that needs 无犯罪记录证明 and 社保缴费证明,
consents on the form and submits without uploading them; the officer sees both documents with their
provenance; the message log holds both calls; the exported evidence verifies offline with
``smartgov exchange verify`` and is rejected after one byte is changed."""

import os
import subprocess
import sys

import pytest
from django.test import Client

from tests.browser.test_onestop_flow import (  # noqa: F401 (the browser fixtures, shared)
    CHROMIUM,
    audit_triggers_restored,
    browser,
    flushable,
    page_as,
)

playwright = pytest.importorskip("playwright.sync_api", reason="playwright is a dev dependency")
pytestmark = [
    pytest.mark.skipif(not os.path.exists(CHROMIUM) and os.environ.get("CI") != "true",
                       reason="system Chromium not installed (apt-get install chromium)"),
    pytest.mark.skipif(bool(os.environ.get("DATABASE_URL")), reason="runs in the SQLite pass"),
]


def _verify(path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "smartgov", "exchange", "verify", str(path)], capture_output=True,
                          text=True, env={**os.environ, "PYTHONUNBUFFERED": "1"}, timeout=120)


def test_citizen_consents_and_the_officer_sees_documents_fetched_through_the_exchange(
        db, live_server, browser, tmp_path):  # noqa: F811
    from smartgov.core.permissions import Role
    from smartgov.exchange.models import Message, Outcome
    from smartgov.exchange.services import export_evidence, seal_all
    from smartgov.onestop.models import Application
    from tests import factories as f
    from tests.exchange import factories as xf
    from tests.exchange import reuse_world

    w = reuse_world.make()
    citizen = Client()
    citizen.force_login(w["citizen"])
    page = page_as(browser, live_server, citizen)
    page.goto(f"{live_server.url}/onestop/items/{w['item'].implementation_code}/apply/")
    for key in ("no_crime_proof", "social_insurance_proof"):
        assert "免交" in page.locator(f"[data-testid=material-{key}]").inner_text()
    page.check("#consent-exchange")
    page.click("[data-testid=submit]")
    page.wait_for_url("**/onestop/cases/**")
    app = Application.objects.get(applicant_user=w["citizen"])
    assert page.url.rstrip("/").endswith(app.number)

    officer = f.staff_client(w["officer"])
    opage = page_as(browser, live_server, officer)
    opage.goto(f"{live_server.url}/onestop/work/{app.number}/")
    for key, res in (("no_crime_proof", w["crime"]), ("social_insurance_proof", w["social"])):
        text = opage.locator(f"[data-testid=shared-{key}]").inner_text()
        assert res.department.name in text and "赵小红" in text and "免提交" in text

    calls = list(Message.objects.filter(consumer=w["bureau"], outcome=Outcome.OK).order_by("pk"))
    assert [m.resource_id for m in calls] == [w["crime"].pk, w["social"].pk]
    seal_all(actor=xf.SYSTEM)
    calls[0].refresh_from_db()
    data = export_evidence(actor=f.user(Role.AUDITADMIN), message=calls[0])
    good = tmp_path / "evidence.json"
    good.write_bytes(data)
    ok = _verify(good)
    assert ok.returncode == 0, ok.stderr
    i = data.index(b'"purpose"') + 12  # one byte of the purpose
    bad = tmp_path / "tampered.json"
    bad.write_bytes(data[:i] + bytes([data[i] ^ 1]) + data[i + 1:])
    rejected = _verify(bad)
    assert rejected.returncode != 0 and "证据核验失败" in rejected.stderr
