"""Enterprise services and a move-out in the system Chromium: the legal representative of a resident enterprise
reports a repair of its leased unit on 我的园区 and lands on the one-stop case page; the operator's admin sees it
on the park's 企业服务 list; the tenant asks for a renewal there and withdraws it; the operator then requests a move-out from the enterprise page and takes it through 现场验收,
押金结算 and 审批 — the lease ends only at the last step, with the deposit settlement shown. 我的园区 fits a
390 px phone."""

import os

import pytest
from django.test import Client

from smartgov.core.permissions import Role
from smartgov.identity.services import link_account, register_enterprise, register_person
from smartgov.park import services
from tests import chromium, factories
from tests.park import factories as pf

pytestmark = [
    chromium.needs_chromium,
    pytest.mark.django_db(transaction=True, available_apps=[
        "django.contrib.contenttypes", "django.contrib.auth", "django.contrib.sessions", "django.contrib.messages",
        "django.contrib.staticfiles", "smartgov.core", "smartgov.accounts", "smartgov.identity", "smartgov.licences",
        "smartgov.workflow", "smartgov.onestop", "smartgov.iot", "smartgov.park"]),
]


def _no_overflow(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= document.documentElement.clientWidth + 1")


def test_enterprise_reports_a_repair_and_the_operator_moves_a_tenant_out(live_server, settings, monkeypatch):
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")  # ORM reads between page actions
    p = pf.park()
    b = pf.building(p)
    unit = pf.unit(b, code="101")
    ent = pf.enterprise(p, name="光谷智能装备有限公司")
    lease = pf.lease(p, ent, [unit], deposit="20000")
    boss = factories.user(Role.CITIZEN)
    person = register_person(actor=pf.SYS, name="李总", id_number=factories.id_number("19800101"), phone="13900001111")
    link_account(person=person, user=boss)
    register_enterprise(actor=pf.SYS, name=ent.name, uscc=ent.uscc, legal_representative=person,
                        department=factories.department("市场监管局"))
    services.publish_service_items(actor=pf.SYS, park=p)
    boss_client = Client()
    boss_client.force_login(boss)
    with chromium.page_for(live_server, boss_client, settings) as (page, errors):
        page.goto(f"{live_server.url}/park/my/")
        page.select_option("[data-testid=repair-unit]", "A-101")
        page.fill("[data-testid=repair-description]", "会议室空调不制冷")
        page.fill("[data-testid=repair-phone]", "13900001111")
        page.click("[data-testid=repair-submit]")
        page.wait_for_url("**/onestop/cases/*/")
        number = page.url.rstrip("/").rsplit("/", 1)[1]
        page.goto(f"{live_server.url}/park/my/")
        assert number in page.inner_text("[data-testid=service-cases]")
        page.fill("[data-testid=my-renewal-date]", "2027-12-31")  # the tenant asks for its own renewal ...
        page.click("[data-testid=my-renewal-submit]")
        page.wait_for_selector("[data-testid=my-lease-change]")
        assert "办理中" in page.inner_text("[data-testid=my-lease-changes]")
        if os.environ.get("SMARTGOV_SCREENSHOTS"):
            page.screenshot(path=os.path.join(os.environ["SMARTGOV_SCREENSHOTS"], "park-my-1280.png"), full_page=True)
        page.fill("[data-testid=my-lease-change] input[name=reason]", "先不续了")  # ... and withdraws it
        page.click("[data-testid=my-lease-change] button")
        page.wait_for_selector("text=已撤销")
        page.set_viewport_size({"width": 390, "height": 844})
        page.reload()
        assert _no_overflow(page)
        if os.environ.get("SMARTGOV_SCREENSHOTS"):
            page.screenshot(path=os.path.join(os.environ["SMARTGOV_SCREENSHOTS"], "park-my-390.png"), full_page=True)
        assert errors == []
    admin_client = factories.staff_client(pf.admin(p))
    with chromium.page_for(live_server, admin_client, settings) as (page, errors):
        page.goto(f"{live_server.url}/park/{p.pk}/services/")
        assert "A-101" in page.inner_text("[data-testid=service-cases]")
        assert number in page.inner_text("[data-testid=service-cases]")
        page.goto(f"{live_server.url}/park/enterprises/{ent.pk}/")
        page.fill("[data-testid=move-out-date]", "2026-02-28")
        page.click("[data-testid=move-out-submit]")
        page.wait_for_url("**/park/lease-changes/*/")
        page.fill("[data-testid=act-inspection]", "墙面完好，钥匙已交回")
        page.fill("[data-testid=act-damages]", "300")
        page.click("[data-testid=act-approve]")
        page.wait_for_selector("[data-testid=act-deductions]")
        page.click("[data-testid=act-approve]")
        page.wait_for_selector("[data-testid=act-form]")  # 退租审批: the admin's own step
        lease.refresh_from_db()
        assert lease.status == "active"
        page.click("[data-testid=act-approve]")
        page.wait_for_selector("[data-testid=settlement]")
        # January and February unpaid (20,000) come off the 20,000 deposit; the damages are still due
        assert page.inner_text("[data-testid=refund]") == "0"
        assert page.inner_text("[data-testid=change-status]") == "已办结"
        lease.refresh_from_db()
        assert lease.status == "ended"
        assert _no_overflow(page)
        assert errors == []
