"""The demo data loads twice without change; the simulator's telemetry is realistic and rule-ready."""

import io
from datetime import UTC, datetime

import pytest

from smartgov.iot.models import AlarmRule, Device
from smartgov.park import demo
from smartgov.park.models import Bill, Lease, Park
from smartgov.park.simulate import SimDevice, load_factor, messages

pytestmark = pytest.mark.django_db


def test_demo_loads_twice_without_duplicates():
    demo.load_demo(stdout=io.StringIO())
    counts = (Park.objects.count(), Device.objects.count(), Lease.objects.count(), Bill.objects.count(),
              AlarmRule.objects.count())
    demo.load_demo(stdout=io.StringIO())
    assert counts == (Park.objects.count(), Device.objects.count(), Lease.objects.count(), Bill.objects.count(),
                      AlarmRule.objects.count())
    assert counts[1] == 2 * 3 * 4 * 2 and counts[2] == 3 and counts[4] == 3


def test_simulated_meters_count_up_and_follow_the_working_day():
    sims = [SimDevice("m1", "meter", base_kw=10, energy=100.0), SimDevice("e1", "env")]
    out = list(messages(sims, start=datetime(2026, 12, 1, 0, 0, tzinfo=UTC), rounds=24 * 4, interval_s=900))
    meter = [v for code, _, v in out if code == "m1"]
    energy = [v["totalActiveEnergyImport"] for v in meter]
    assert energy == sorted(energy) and energy[-1] > 100
    assert load_factor(datetime(2026, 12, 1, 3, tzinfo=UTC)) < load_factor(datetime(2026, 12, 1, 11, tzinfo=UTC))
    env = [v for code, _, v in out if code == "e1"]
    assert all(0 <= v["relativeHumidity"] <= 100 and v["co2"] > 300 for v in env)
    hot = list(messages([SimDevice("m2", "meter", base_kw=5)], start=datetime(2026, 12, 1, tzinfo=UTC), rounds=3,
                        interval_s=60, hot_codes=frozenset({"m2"})))
    assert all(v["activePower"] > 900 for _, _, v in hot)


def test_demo_opens_the_enterprise_services_and_a_renewal_case_once():
    from smartgov.core.permissions import Role, system_actor
    from smartgov.identity.services import link_account, register_person
    from smartgov.onestop.models import Application
    from smartgov.park.models import LeaseChange
    from tests import factories

    citizen = factories.user(Role.CITIZEN, username="zhangsan")
    link_account(person=register_person(actor=system_actor("test"), name="张三", id_number=factories.id_number(),
                                        phone="13800000001"), user=citizen)
    demo.load_demo(stdout=io.StringIO())
    demo.load_demo(stdout=io.StringIO())
    assert sorted(Application.objects.values_list("item__basic_code", "state")) == [
        ("GG09101000", "submitted"), ("JF09102000", "submitted")]
    assert LeaseChange.objects.count() == 1 and LeaseChange.objects.get().kind == "renewal"
    citizen.refresh_from_db()
    from smartgov.park import selectors

    [ent] = selectors.resident_enterprises_for(citizen)
    assert ent.name == "云栖智造科技有限公司"
