"""The park through its API and pages: space, enterprise, lease, a meter provisioned and reporting, an
alarm rule (JSON import/export), the live alarm panel and the monthly energy statement."""

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import orjson
import pytest
from django.conf import settings

from smartgov.core.permissions import system_actor
from smartgov.iot import services as iot
from smartgov.iot.readings import DeviceDirectory, Reading
from smartgov.park import services
from tests import factories
from tests.park import factories as pf

pytestmark = pytest.mark.django_db
SYS = system_actor("tests")


def _post(client, url, body):
    return client.post(url, orjson.dumps(body), content_type="application/json")


def _meter_readings(code, points):
    info = DeviceDirectory().by_code(code)
    return [Reading(device=info, ts=ts, values=values) for ts, values in points]


def test_operator_sets_up_a_tenant_and_a_meter_through_the_api_and_the_statement_follows():
    p = pf.park()
    client = factories.staff_client(pf.admin(p))
    assert _post(client, f"/api/park/parks/{p.pk}/buildings", {"code": "A", "name": "A栋", "floors": 2}
                 ).status_code == 201
    unit = _post(client, f"/api/park/parks/{p.pk}/units", {"building": "A", "floor": 1, "code": "101", "area": "300",
                                                          "geometry": [[0, 0], [10, 0], [10, 10], [0, 10]]})
    assert unit.status_code == 201, unit.json()
    ent = _post(client, f"/api/park/parks/{p.pk}/enterprises", {"name": "云智软件有限公司", "uscc": factories.uscc(),
                                                                "industry": "I6510", "employees": 30})
    assert ent.status_code == 201, ent.json()
    lease = _post(client, f"/api/park/parks/{p.pk}/leases", {
        "enterprise": ent.json()["id"], "code": "ZL-2026-001", "units": [unit.json()["id"]],
        "start_date": "2026-10-01", "end_date": "2027-09-30", "monthly_rent": "12000",
        "rent_free": [["2026-10-01", "2026-10-31"]], "escalation_pct": "5"})
    assert lease.status_code == 201, lease.json()
    bills = lease.json()["bills"]
    assert len(bills) == 12 and bills[0]["amount"] == "0.00" and bills[1]["amount"] == "12000.00"
    dev = _post(client, f"/api/park/parks/{p.pk}/devices", {"kind": "meter", "code": "em-a101", "name": "A101电表",
                                                           "unit": unit.json()["id"]})
    assert dev.status_code == 201 and len(dev.json()["secret"]) > 20
    assert dev.json()["topic"] == "smartgov/iot/em-a101/telemetry"
    # November: the counter goes 1000 → 1850 kWh (a reading in late October is the opening value)
    tz = ZoneInfo(settings.TIME_ZONE)  # months are the installation's local months
    oct31 = datetime(2026, 10, 31, 23, 0, tzinfo=tz)
    iot.ingest_telemetry(actor=SYS, source="test", readings=_meter_readings("em-a101", [
        (oct31, {"totalActiveEnergyImport": 1000.0}),
        (oct31 + timedelta(days=10), {"totalActiveEnergyImport": 1400.0}),
        (oct31 + timedelta(days=29, hours=22), {"totalActiveEnergyImport": 1850.0}),
        (oct31 + timedelta(days=31), {"totalActiveEnergyImport": 1900.0})]))
    st = client.post(f"/api/park/enterprises/{ent.json()['id']}/statements?month=2026-11-01")
    assert st.status_code == 201, st.json()
    assert Decimal(st.json()["kwh"]) == Decimal("850.000") and Decimal(st.json()["amount"]) == Decimal("680.00")
    assert Decimal(st.json()["carbon_kg"]) == (Decimal("850") * services.GRID_EMISSION_FACTOR).quantize(Decimal("0.01"))
    page = client.get(f"/park/statements/{st.json()['id']}/")
    assert page.status_code == 200 and "850" in page.content.decode()


def test_rules_round_trip_through_the_api_and_an_alarm_shows_on_the_live_panel():
    p = pf.park()
    u = pf.unit(pf.building(p))
    device, _ = services.provision_device(actor=SYS, park=p, kind="meter", code="em-1", name="电表1", unit=u)
    admin = factories.staff_client(pf.admin(p))
    rules = [{"name": "功率过高", "conditions": [{"key": "activePower", "cmp": ">", "value": 80, "for_seconds": 300}],
              "device_kind": "meter"},
             {"name": "电表离线", "kind": "no_data", "no_data_minutes": 15}]
    assert _post(admin, f"/api/park/parks/{p.pk}/rules", rules).json() == {"imported": 2}
    exported = admin.get(f"/api/park/parks/{p.pk}/rules").json()
    assert [r["name"] for r in exported] == ["功率过高", "电表离线"] and exported[0]["conditions"][0]["for_seconds"] == 300
    bad = _post(admin, f"/api/park/parks/{p.pk}/rules", [{"name": "x", "conditions": [{"key": "a", "cmp": "?",
                                                                                       "value": 1}]}])
    assert bad.status_code == 422 and bad.json()["code"] == "invalid_rules"
    t0 = datetime.now(UTC) - timedelta(minutes=10)
    iot.ingest_telemetry(actor=SYS, source="test", readings=_meter_readings("em-1", [
        (t0 + timedelta(minutes=m), {"activePower": 95.0}) for m in range(0, 6)]))
    officer = factories.staff_client(pf.officer(p))
    panel = officer.get(f"/park/{p.pk}/alarms/").content.decode()
    assert "功率过高" in panel and 'data-testid="alarm"' in panel
    alarms = officer.get(f"/api/park/parks/{p.pk}/alarms").json()
    assert len(alarms) == 1 and alarms[0]["device"] == "em-1"
    ack = officer.post(f"/api/park/parks/{p.pk}/alarms/{alarms[0]['id']}/acknowledge")
    assert ack.status_code == 200 and ack.json()["status"] == "acknowledged"
    hist = officer.get(f"/api/park/parks/{p.pk}/devices/{device.pk}/history?key=activePower&points=3"
                       f"&start={(t0 - timedelta(minutes=1)).isoformat().replace('+', '%2B')}")
    assert hist.status_code == 200 and sum(pt["n"] for pt in hist.json()) == 6


def test_the_dashboard_shows_the_park_at_a_fixed_number_of_queries(django_assert_max_num_queries):
    p = pf.park()
    b = pf.building(p)
    for n in range(6):
        u = pf.unit(b, code=f"10{n}")
        ent = pf.enterprise(p, name=f"企业{n}", industry=["C3911", "I6510", "M7320"][n % 3])
        pf.lease(p, ent, [u], code=f"L{n}")
        services.report_output(actor=SYS, enterprise=ent, year=2025, output="1200", tax="80")
    client = factories.staff_client(pf.officer(p))
    with django_assert_max_num_queries(40):
        page = client.get(f"/park/{p.pk}/")
    body = page.content.decode()
    assert page.status_code == 200 and "park-charts" in body and "<polygon" in body
    assert 'hx-trigger="load, every 2s"' in body


def test_a_park_outside_the_users_scope_is_not_found():
    p, other = pf.park(), pf.park()
    client = factories.staff_client(pf.officer(other))
    assert client.get(f"/api/park/parks/{p.pk}/alarms").status_code == 404
    assert client.get(f"/park/{p.pk}/").status_code == 404


def test_forms_register_an_enterprise_and_a_lease():
    p = pf.park()
    u = pf.unit(pf.building(p))
    client = factories.staff_client(pf.admin(p))
    resp = client.post(f"/park/{p.pk}/enterprises/", {"name": "表单企业", "uscc": factories.uscc(),
                                                      "industry": "C39", "employees": "5"})
    assert resp.status_code == 302
    ent = p.enterprises.get(name="表单企业")
    resp = client.post(f"/park/enterprises/{ent.pk}/leases/", {
        "code": "F-1", "units": [str(u.pk)], "start_date": "2026-01-01", "end_date": "2026-06-30",
        "monthly_rent": "5000", "free_start": "2026-01-01", "free_end": "2026-01-15"})
    assert resp.status_code == 302
    lease = ent.leases.get()
    assert lease.bills.count() == 6 and lease.bills.order_by("period_start").first().amount == Decimal("2580.65")
    assert date(2026, 1, 1) == lease.start_date
