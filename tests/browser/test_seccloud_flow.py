"""航天智慧安全云 in a real browser: a department admin registers a syslog source; a brute-force burst
sent over UDP to the real listener raises an alert and an incident; the analyst assigns and closes it;
the self-check report downloads."""

import asyncio
import socket
import threading
import time
from datetime import UTC, datetime

import pytest

from tests.browser.test_onestop_flow import (  # noqa: F401 (fixtures shared with the one-stop browser test)
    audit_triggers_restored,
    browser,
    flushable,
    page_as,
    pytestmark,
)


def _free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


@pytest.mark.django_db(transaction=True)
def test_syslog_source_brute_force_incident_closed_and_report(live_server, browser, tmp_path):  # noqa: F811
    from smartgov.core.permissions import Role
    from smartgov.seccloud.listener import serve
    from smartgov.seccloud.models import Alert, Incident, Source
    from tests import factories
    from tests.seccloud.factories import load_pack

    load_pack()
    dept = factories.department("网信办")
    admin = factories.user(Role.DEPT_ADMIN, department=dept)
    analyst = factories.user(Role.SECADMIN, username="analyst")
    for role in (Role.SYSADMIN, Role.AUDITADMIN):
        factories.user(role)

    page = page_as(browser, live_server, factories.staff_client(admin))
    page.goto(f"{live_server.url}/seccloud/sources/")
    page.fill("#name", "网信办主机")
    page.select_option("#kind", "syslog")
    page.fill("#address", "127.0.0.1")
    page.click("form.filters button[type=submit]")
    page.wait_for_selector("text=网信办主机")
    assert Source.objects.get(name="网信办主机").address == "127.0.0.1"

    port = _free_port()
    loop = asyncio.new_event_loop()
    stop = asyncio.Event()
    ready = threading.Event()
    thread = threading.Thread(target=lambda: loop.run_until_complete(
        serve("127.0.0.1", port, stop=stop, ready=ready.set)), daemon=True)
    thread.start()
    assert ready.wait(10)
    try:
        now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        for _ in range(12):
            udp.sendto(f"<38>1 {now} bastion sshd 1 - - Failed password for root from 198.51.100.23 port 4711 "
                       "ssh2".encode(), ("127.0.0.1", port))
        udp.close()
        deadline = time.time() + 20
        while not Alert.objects.filter(rule__title__startswith="SSH暴力破解").exists() and time.time() < deadline:
            time.sleep(0.1)
    finally:
        loop.call_soon_threadsafe(stop.set)
        thread.join(10)
    incident = Incident.objects.get()
    assert "198.51.100.23" in incident.title

    page = page_as(browser, live_server, factories.staff_client(analyst))
    page.goto(f"{live_server.url}/seccloud/incidents/")
    page.click(f"a[href='/seccloud/incidents/{incident.pk}/']")
    page.select_option("#assignee", str(analyst.pk))
    page.click("form:has(input[value=assign]) button")
    page.wait_for_selector("#incident-status:has-text('处置中')")
    page.select_option("#status", "closed")
    page.fill("#status-note", "来源地址已封禁，口令已更换")
    page.click("form:has(input[value=status]) button")
    page.wait_for_selector("#incident-status:has-text('已关闭')")
    incident.refresh_from_db()
    assert incident.status == "closed" and incident.assignee == analyst

    page.goto(f"{live_server.url}/seccloud/self-check/")
    page.click("#run-self-check")
    page.wait_for_selector("#self-check-score")
    with page.expect_download() as download:
        page.click("#self-check-pdf")
    path = tmp_path / "report.pdf"
    download.value.save_as(path)
    assert path.read_bytes().startswith(b"%PDF")
