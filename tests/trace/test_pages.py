import datetime

import pytest
from django.test import Client
from django.utils import timezone

from smartgov.core.permissions import Role
from smartgov.identity.services import register_person
from smartgov.trace import codes, selectors, services, sim
from smartgov.trace.models import CodeState
from tests import factories


@pytest.fixture
def world(regulator_dept, supervisor):
    net = sim.build_network(regulator_dept, counties=1, sites_per_county=2)
    start = timezone.now() - datetime.timedelta(days=5)
    batch, issue = sim.make_batch(net, "P1", start.date(), doses=100)
    plan = sim.plan_batch(net, batch, issue, start=start, seq=1, administer=0)
    sim.capture_plan(plan)
    nurse = factories.user(Role.OFFICER, department=regulator_dept)
    person = register_person(actor=None, name="王小明", id_number=factories.id_number("20190101", 7),
                             phone="13800007777", department=regulator_dept)
    for dose in plan.doses:
        eff = selectors.effective_state(CodeState.objects.get(epc=dose))
        site = next((s for s in net.sites if s.location_uri == eff["biz_location"]), None)
        if site:
            services.administer_dose(actor=nurse, code=dose, id_number=person.id_number, site=site)
            break
    return {"net": net, "batch": batch, "plan": plan, "dose": dose}


def test_dashboard_shows_the_regulator_the_chain_in_chinese(world, supervisor):
    resp = factories.staff_client(supervisor).get("/trace/")
    assert resp.status_code == 200
    html = resp.content.decode()
    assert "追溯监管驾驶舱" in html and "echarts.min.js" in html and "接种单位" in html


def test_dashboard_without_data_says_so(supervisor):
    html = factories.staff_client(supervisor).get("/trace/").content.decode()
    assert "还没有追溯数据" in html


def test_code_page_shows_the_timeline_to_the_vaccinee(world, supervisor):
    code = codes.display(world["dose"])
    html = factories.staff_client(supervisor).get("/trace/code/", {"q": code}).content.decode()
    assert "commissioning" in html and "dispensing" in html and "随容器" in html
    assert "王**" in html  # the vaccinee, masked
    assert "13800007777" not in html


def test_code_page_for_an_unknown_code_explains(world, supervisor):
    html = factories.staff_client(supervisor).get("/trace/code/", {"q": "86123450000099990000"}).content.decode()
    assert "没有该追溯码的记录" in html


def test_recall_from_the_page_lists_the_vaccinee_with_contact(world, supervisor):
    client = factories.staff_client(supervisor)
    resp = client.post("/trace/recalls/start/", {"batch": world["batch"].pk, "reason": "效价不合格", "level": "一级"})
    assert resp.status_code == 302
    html = client.get(resp["Location"]).content.decode()
    assert "王小明" in html and "13800007777" in html and "未接种剂次所在位置" in html


def test_pages_need_sign_in_and_the_permission(world):
    assert Client().get("/trace/").status_code == 302
    citizen = factories.user(Role.CITIZEN)
    client = Client()
    client.force_login(citizen)
    assert client.get("/trace/").status_code == 403


def test_public_lookup_page_needs_no_sign_in_and_shows_no_personal_data(world):
    html = Client().get("/trace/lookup/", {"q": codes.display(world["dose"])}).content.decode()
    assert "正品" in html and "P1" in html
    assert "王" not in html and "接种单位" not in html


def test_alert_is_acknowledged_then_released_from_the_dashboard(world, supervisor):
    from smartgov.trace import coldchain
    from smartgov.trace.models import FLAG_IN_QUESTION, Alert

    site = world["net"].sites[0]
    now = timezone.now()
    rows = [{"time": now - datetime.timedelta(minutes=30 * (8 - k)), "celsius": 12.0 if k in (3, 4) else 5.0,
             "latitude": None, "longitude": None} for k in range(8)]
    coldchain.record_readings(actor=None, logger=world["net"].fridges[site.pk], rows=rows, source="test")
    alert = Alert.objects.get(kind="instant")
    assert alert.doses_in_question > 0
    client = factories.staff_client(supervisor)
    assert "处置说明" in client.get("/trace/").content.decode()
    client.post(f"/trace/alerts/{alert.pk}/acknowledge/", {"comment": "冰箱门未关，已处理"})
    html = client.get("/trace/").content.decode()
    assert "已确认、待评估放行" in html
    client.post(f"/trace/alerts/{alert.pk}/release/", {"comment": "评估合格"})
    alert.refresh_from_db()
    assert alert.released_at is not None
    assert not CodeState.objects.filter(flags__gte=FLAG_IN_QUESTION).extra(where=["(flags & 2) = 2"]).exists()
