import datetime

import orjson
import pytest
from django.test import Client
from django.utils import timezone

from smartgov.core.permissions import Role, system_actor
from smartgov.identity.services import register_person
from smartgov.trace import codes, selectors, services, sim
from smartgov.trace.models import CodeState, Vaccination
from tests import factories


@pytest.fixture
def world(regulator_dept, supervisor):
    net = sim.build_network(regulator_dept, counties=1, sites_per_county=2)
    start = timezone.now() - datetime.timedelta(days=5)
    batch, issue = sim.make_batch(net, "P1", start.date(), doses=100)
    plan = sim.plan_batch(net, batch, issue, start=start, seq=1, administer=0)
    sim.capture_plan(plan)
    nurse = factories.user(Role.OFFICER, department=regulator_dept)
    person = register_person(actor=system_actor("test"), name="王小明", id_number=factories.id_number("20190101", 7),
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
    charts = orjson.loads(html.split('id="trace-charts" type="application/json">', 1)[1].split("</script>", 1)[0])
    assert "追溯监管驾驶舱" in html and "echarts.min.js" in html and "接种单位" in [s["name"] for s in charts["stages"]]


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
    from smartgov.trace.models import FLAG_IN_QUESTION, Alert

    site = world["net"].sites[0]
    now = timezone.now()
    rows = [{"time": now - datetime.timedelta(minutes=30 * (8 - k)), "celsius": 12.0 if k in (3, 4) else 5.0,
             "latitude": None, "longitude": None} for k in range(8)]
    services.record_readings(actor=system_actor("test"), logger=world["net"].fridges[site.pk], rows=rows, source="test")
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


XSS = "urn:x:</script><script>alert(document.domain)</script>"


def _capture_hostile_location(world):
    """An EPCIS event whose bizLocation closes the page's script and opens another (stored XSS)."""
    dose = next(d for d in world["plan"].doses if d != world["dose"])
    container = CodeState.objects.get(epc=dose).container
    services.capture_events(actor=system_actor("test"), organisation=world["net"].maker, events=[{
        "type": "AggregationEvent", "eventTime": timezone.now().astimezone(sim.CN).isoformat(timespec="milliseconds"),
        "eventTimeZoneOffset": sim.TZ, "parentID": container, "childEPCs": [dose], "action": "DELETE",
        "bizStep": "unpacking", "readPoint": {"id": XSS}, "bizLocation": {"id": XSS}}])
    return dose


def _inline_scripts(html: str) -> list[str]:
    import re

    return [m.group(0) for m in re.finditer(r"<script\b[^>]*>", html) if "src=" not in m.group(0)
            and 'type="application/json"' not in m.group(0)]


def test_chart_data_from_events_cannot_run_script_on_the_regulators_pages(world, supervisor):
    dose = _capture_hostile_location(world)
    client = factories.staff_client(supervisor)
    recall = services.recall_batch(actor=supervisor, batch=world["batch"], reason="效价不合格")
    pages = [client.get(f"/trace/recalls/{recall.pk}/"), client.get("/trace/"),
             client.get("/trace/code/", {"q": codes.display(dose)})]
    for resp in pages:
        html = resp.content.decode()
        assert resp.status_code == 200
        assert "<script>alert" not in html and "</script><script>" not in html
        policy = resp["Content-Security-Policy"]
        assert "'unsafe-inline'" not in policy.split("script-src", 1)[1].split(";", 1)[0]
        nonce = policy.split("'nonce-", 1)[1].split("'", 1)[0]
        assert all(f'nonce="{nonce}"' in tag for tag in _inline_scripts(html)), _inline_scripts(html)
        assert "camera=()" in resp["Permissions-Policy"]
    assert "\\u003C/script\\u003E" in pages[0].content.decode()  # the name still reaches the chart, escaped


def test_vaccination_desk_records_dose_route_and_site_and_the_code_page_shows_them(world, supervisor, regulator_dept):
    nurse = factories.user(Role.OFFICER, department=regulator_dept)
    client = factories.staff_client(nurse)
    form = client.get("/trace/vaccinate/").content.decode()
    assert 'name="route"' in form and "肌内注射" in form and "左上臂外侧三角肌" in form
    site_dose = None
    for dose in world["plan"].doses:
        eff = selectors.effective_state(CodeState.objects.get(epc=dose))
        site = next((s for s in world["net"].sites if s.location_uri == eff["biz_location"]), None)
        if site and dose != world["dose"]:
            site_dose = (dose, site)
            break
    dose, site = site_dose
    person = register_person(actor=system_actor("test"), name="李娜", id_number=factories.id_number("20190202", 8),
                             phone="13800008888", department=regulator_dept)
    post = {"site": site.pk, "code": codes.display(dose), "id_number": person.id_number, "dose_number": "2",
            "route": "oral", "body_site": "left_deltoid"}
    client.post("/trace/vaccinate/", post)  # 口服 in the arm: refused, nothing recorded
    assert not Vaccination.objects.filter(epc=dose).exists()
    resp = client.post("/trace/vaccinate/", {**post, "route": "intramuscular"})
    assert resp.status_code == 302
    vac = Vaccination.objects.get(epc=dose)
    assert (vac.dose_number, vac.route, vac.body_site) == (2, "intramuscular", "left_deltoid")
    services.record_lot_release(actor=supervisor, batch=world["batch"], certificate_number="SZ20269999",
                                agency="中国食品药品检定研究院", issued_on=world["batch"].production_date,
                                conclusion="passed")
    html = factories.staff_client(supervisor).get("/trace/code/", {"q": codes.display(dose)}).content.decode()
    assert "第 2 剂" in html and "肌内注射" in html and "SZ20269999" in html and "予以批签发" in html
    public = Client().get("/trace/lookup/", {"q": codes.display(dose)}).content.decode()
    assert "SZ20269999" in public and "李娜" not in public


def test_chart_legends_sit_below_the_plot_with_the_axis_labels_contained(world, supervisor):
    """Issue 12.13: the legends of 召回进度 and 冷链温度 overlapped the axis labels. They are below the
    plot now, and the plot keeps room for its labels (ECharts ``containLabel``)."""
    client = factories.staff_client(supervisor)
    dashboard = client.get("/trace/").content.decode()
    recalls = dashboard.split("chart('chart-recalls'", 1)[1].split("chart(", 1)[0]
    assert "legend: {bottom: 0" in recalls and "containLabel: true" in recalls
    code = client.get("/trace/code/", {"q": codes.display(world["dose"])}).content.decode()
    temp = code.split("getElementById('chart-temp')", 1)[1].split("getElementById('chart-map')", 1)[0]
    assert "legend: {type: 'scroll', bottom: 0}" in temp and "containLabel: true" in temp
