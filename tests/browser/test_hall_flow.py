"""出入境智慧大厅 in a real browser: a citizen books a passport appointment on the portal and gets the QR
code; at the hall the kiosk takes the QR code (a scanner types it), signs the citizen in with their EID QR
code, reads the passport's MRZ, checks the photo, shows the fee and files the one-stop case; the window
officer calls the ticket and the hall display (SSE from an ASGI server) shows and announces it; the case
is approved and issued into a locker; the citizen collects it at the kiosk with the pickup code.

The pages run on pytest-django's live server; the live pages' stream on uvicorn (ASGI) in a thread of
the same process, as ``smartgov hall live`` serves them in production."""

import threading
import time

import pytest
from django.test import Client

from tests.browser.test_onestop_flow import (  # noqa: F401 (fixtures)
    CHROMIUM,
    audit_triggers_restored,
    browser,
    flushable,
    page_as,
    pytestmark,
)
from tests.hall.conftest import hall_world, passport_world  # noqa: F401 (fixtures)


@pytest.fixture
def asgi_server(live_server):
    import uvicorn
    from django.core.asgi import get_asgi_application

    from smartgov.core.benchhttp import free_port

    port = free_port()
    server = uvicorn.Server(uvicorn.Config(get_asgi_application(), host="127.0.0.1", port=port, log_level="warning",
                                          lifespan="off"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    for _ in range(100):
        if server.started:
            break
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(10)


def test_book_arrive_kiosk_call_issue_and_collect(passport_world, live_server, browser, asgi_server, settings,  # noqa: F811
                                                  tmp_path):
    import datetime

    from django.utils import timezone

    from smartgov.eid.models import OutboxMessage
    from smartgov.hall import services
    from smartgov.hall.models import Hall
    from smartgov.onestop.models import Application
    from tests import factories as f
    from tests.hall.conftest import SETUP
    from tests.hall.photos import portrait
    from tests.hall.test_kiosk_and_lockers import approve, mrz_for

    w = passport_world
    settings.HALL_LIVE_URL = asgi_server
    # a hall open round the clock every day (周末办证), so the test runs at any hour
    Hall.objects.filter(pk=w["hall"].pk).update(open_non_workdays=True, opens=datetime.time(0, 0),
                                                 closes=datetime.time(23, 59), break_start=None, break_end=None,
                                                 slot_minutes=10, lead_minutes=0, early_minutes=24 * 60)
    hall = Hall.objects.get(pk=w["hall"].pk)
    today = timezone.localdate()
    for window, officer in zip(hall.windows.order_by("number"), w["officers"], strict=True):
        services.assign_duty(actor=SETUP, window=window, officer=officer, day=today)
    base = live_server.url

    # 1. the citizen books on the portal and gets the QR code
    citizen = Client()
    citizen.force_login(w["citizen"])
    page = page_as(browser, live_server, citizen)
    page.goto(f"{base}/hall/book/?hall={hall.code}&service=A")
    page.locator("#slots button").first.click()
    page.wait_for_url("**/hall/appointments/**")
    assert page.locator(".qr svg").count() == 1
    token = page.inner_text("#appt-token").strip()

    # the hall display, open on the wall before anything happens
    wall = browser.new_context(viewport={"width": 1280, "height": 800}).new_page()
    wall.set_default_timeout(8000)
    wall.goto(f"{base}/hall/{hall.code}/display/")
    wall.wait_for_selector("#live-status:has-text('实时更新中')")

    # 2. at the kiosk: the appointment QR code → ticket; EID sign-in; MRZ; form, photo, fee; file
    kiosk_client = f.staff_client(w["officers"][1])
    kiosk = page_as(browser, live_server, kiosk_client)
    kiosk.goto(f"{base}/hall/{hall.code}/kiosk/")
    kiosk.fill("#k-appointment", token)
    kiosk.click("#k-take")
    assert kiosk.inner_text("#k-ticket") == "A001"
    kiosk.fill("#k-eid", w["eid"])
    kiosk.click("#k-sign-in")
    assert kiosk.inner_text("#k-person") == w["citizen"].person.name
    kiosk.fill("#k-mrz", mrz_for(w["citizen"].person))
    kiosk.click("#k-read")
    assert "E12345678" in kiosk.inner_text("#k-document")
    assert kiosk.input_value("#f-name_pinyin") == "WANG XIAOMING"
    assert kiosk.inner_text("#k-fee") == "120.00"
    photo = tmp_path / "photo.jpg"
    photo.write_bytes(portrait(background=(90, 90, 90)))  # a grey background: refused, named
    kiosk.set_input_files("#k-photo", str(photo))
    kiosk.click("#k-apply")
    assert "background" in kiosk.inner_text(".messages")
    photo.write_bytes(portrait())
    kiosk.set_input_files("#k-photo", str(photo))
    kiosk.click("#k-apply")
    number = kiosk.inner_text("#k-application").split(" ")[0]
    app = Application.objects.get(number=number)
    assert app.channel == "kiosk" and str(app.fee_total) == "120.00"
    receipt = kiosk.request.get(f"{base}/hall/t/{app_ticket_token(app)}/receipt.pdf")
    assert receipt.ok and receipt.body().startswith(b"%PDF")

    # 3. the window officer calls; the display shows it, pushed, with the announcement text
    officer = page_as(browser, live_server, f.staff_client(w["officers"][0]))
    officer.goto(f"{base}/hall/{hall.code}/windows/1/")
    officer.click("#call-next")
    assert officer.inner_text("#current") == "A001"
    wall.wait_for_selector("#windows tr[data-window='1'] >> text=A001")
    wall.wait_for_selector("#calls >> text=请A001号到1号窗口办理")
    wall.screenshot(path=str(tmp_path / "display.png"))

    # 4. the case is approved (the workflow's steps), issued into a locker from the window console
    approve(app, w)
    officer.reload()
    officer.click("#to-locker")
    assert "L001" in officer.inner_text(".messages")
    code = OutboxMessage.objects.filter(person=w["citizen"].person).latest("id").body.split("取件码 ")[1][:6]

    # 5. self-service collection with the pickup code and the EID
    kiosk.fill("#p-code", code)
    kiosk.fill("#p-eid", w["eid"])
    kiosk.click("#p-open")
    assert "L001" in kiosk.inner_text(".messages")
    app.refresh_from_db()
    assert app.state == "delivered" and app.delivery_method == "pickup"


def app_ticket_token(app) -> str:
    from smartgov.hall.models import Ticket

    return Ticket.objects.get(application=app).token
