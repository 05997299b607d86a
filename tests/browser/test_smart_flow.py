"""用数赋智 in a real browser: a person who turns 80 gets a 高龄津贴 notice and confirms it; a 秒批 item's
application is approved and its licence issued within seconds; a blurred ID card with the wrong name is
flagged before submission."""

import os
import time

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


def _citizen_page(browser, live_server, user):  # noqa: F811
    client = Client()
    client.force_login(user)
    return page_as(browser, live_server, client)


def test_turning_80_brings_a_notice_and_the_citizen_confirms(db, live_server, browser):  # noqa: F811
    from smartgov.smart import services
    from smartgov.smart.models import Grant, GrantStatus
    from tests.smart import world as sw

    w = sw.make()
    services.screen(actor=sw.SYSTEM)
    page = _citizen_page(browser, live_server, w["elder_user"])
    page.goto(f"{live_server.url}/inbox/")
    assert "您符合高龄津贴条件，无需申请" in page.content()
    page.goto(f"{live_server.url}/smart/mine/")
    page.click("text=查看并确认")
    assert "年满80周岁" in page.locator("[data-testid=decision]").first.inner_text()
    page.fill("input[name=bank_name]", "示范银行")
    page.fill("input[name=bank_account]", "6222000011112222")
    page.click("button[value=accept]")
    page.wait_for_selector("[data-testid=grant-status]:has-text('享受中')")
    grant = Grant.objects.select_related("application").get(person=w["elder"])
    assert grant.status == GrantStatus.ACTIVE and grant.application.state == "closed"  # its one-stop case too
    page.click("[data-testid=grant-case]")  # the grant links its case in 我的办件
    page.wait_for_url(f"**/onestop/cases/{grant.application.number}/")
    assert "年满80周岁" in page.locator("[data-testid=decision-reason]").inner_text()


def test_instant_item_is_approved_and_licence_issued_within_seconds(db, live_server, browser):  # noqa: F811
    from smartgov.onestop.models import Application, State
    from tests.smart import world as sw

    w = sw.make()
    sw.publish_instant(w)
    page = _citizen_page(browser, live_server, w["driver_user"])
    page.goto(f"{live_server.url}/onestop/items/{w['item'].implementation_code}/apply/")
    page.select_option("#f-licence_class", "C1")
    t0 = time.monotonic()
    page.click("[data-testid=submit]")
    page.wait_for_url("**/onestop/cases/**")
    page.wait_for_selector("[data-testid=result]")
    elapsed = time.monotonic() - t0
    app = Application.objects.get(applicant_user=w["driver_user"])
    assert app.state == State.ISSUED and app.result_licence.identifier in page.content()
    assert elapsed < 10  # the browser round trip on a shared machine; the approval itself is logged in ms


def test_blurred_id_card_with_the_wrong_name_is_flagged_before_submission(db, live_server, browser, tmp_path):  # noqa: F811
    from smartgov.core.permissions import Role
    from smartgov.smart import ocr
    from tests import factories as f

    citizen = f.user(Role.CITIZEN, name="王小明")
    photo = tmp_path / "id.jpg"
    photo.write_bytes(ocr.render_document("id_card", {"name": "王晓明", "sex": "男", "birth_date": "1946-12-05",
                                                      "id_number": "330106194612053217"}, rotate=2, blur=1.3,
                                          jpeg_quality=45))
    page = _citizen_page(browser, live_server, citizen)
    page.set_default_timeout(60_000)  # the OCR takes a few seconds on two shared cores
    page.goto(f"{live_server.url}/smart/prereview/")
    page.fill("input[name=name]", "王小明")
    page.fill("input[name=id_number]", "330106194612053217")
    page.set_input_files("input[name=file]", str(photo))
    page.click("[data-testid=prereview-form] button[type=submit]")
    problems = page.locator("[data-testid=problems]").inner_text()
    assert "身份证上的姓名“王晓明”与申请人“王小明”不一致" in problems


def test_apply_form_flags_a_blurred_id_card_with_the_wrong_name_as_it_is_chosen(db, live_server, browser, tmp_path):  # noqa: F811
    import datetime

    from smartgov.core.permissions import system_actor
    from smartgov.onestop import services as onestop
    from smartgov.onestop.models import Application
    from smartgov.smart import ocr
    from tests import factories as f
    from tests.smart import world as sw
    from tests.smart.test_prereview_apply import ID_ITEM

    person, user = sw.citizen("王小明", datetime.date(1946, 12, 5), 17, f.department("公安局"))
    item = onestop.create_item(actor=system_actor("test"), department=f.department("民政局"), basic_code="QT00101000",
                               name="测试证明", item_type="QT", content=ID_ITEM)
    photo = tmp_path / "id.jpg"
    photo.write_bytes(ocr.render_document("id_card", {"name": "王晓明", "sex": "男", "birth_date": "1946-12-05",
                                                      "id_number": person.id_number}, rotate=2, blur=1.3,
                                          jpeg_quality=45))
    page = _citizen_page(browser, live_server, user)
    page.set_default_timeout(60_000)  # the OCR takes a few seconds on two shared cores
    page.goto(f"{live_server.url}/onestop/items/{item.implementation_code}/apply/")
    page.set_input_files("#m-id_photo", str(photo))  # nothing submitted: the htmx upload reads it at once
    problems = page.locator("[data-testid=prereview-problems-id_photo]").inner_text()
    assert "身份证上的姓名“王晓明”与申请人“王小明”不一致" in problems
    assert page.locator("input[name='stored.id_photo']").count() == 1
    assert not Application.objects.exists()
