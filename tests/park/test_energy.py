"""Energy: 峰平谷 tariff bands (validated to cover the day exactly), statements split by band and priced
per band, and the anomalies (night base load, day-over-day jump) found over a meter's history."""

from datetime import date, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import orjson
import pytest
from django.conf import settings
from django.utils import timezone
from hypothesis import given
from hypothesis import strategies as st

from smartgov.core.errors import InvalidInput
from smartgov.iot import services as iot
from smartgov.iot.readings import DeviceDirectory, Reading
from smartgov.park import energy, services, tasks
from smartgov.park.models import EnergyAnomaly
from tests import factories
from tests.park import factories as pf

TZ = ZoneInfo(settings.TIME_ZONE)
SHANGHAI_LIKE = [  # 峰 8–11, 18–23; 平 11–18; 谷 23–8 (crosses midnight)
    {"kind": "peak", "start": "08:00", "end": "11:00", "price": "1.2"},
    {"kind": "flat", "start": "11:00", "end": "18:00", "price": "0.8"},
    {"kind": "peak", "start": "18:00", "end": "23:00", "price": "1.2"},
    {"kind": "valley", "start": "23:00", "end": "08:00", "price": "0.3"},
]


def _at(d: date, hh: int, mm: int = 0) -> datetime:
    return datetime.combine(d, time(hh, mm), TZ)


# ---------------------------------------------------------------- pure
def test_bands_must_cover_the_day_exactly_once():
    assert [b.kind for b in energy.clean_bands(SHANGHAI_LIKE)] == ["peak", "flat", "peak", "valley"]  # by start
    with pytest.raises(ValueError, match="重叠"):
        energy.clean_bands([*SHANGHAI_LIKE, {"kind": "flat", "start": "10:00", "end": "10:30", "price": "1"}])
    with pytest.raises(ValueError, match="未覆盖全天（23:00"):
        energy.clean_bands(SHANGHAI_LIKE[:3])
    with pytest.raises(ValueError, match="类型"):
        energy.clean_bands([{"kind": "night", "start": "00:00", "end": "00:00", "price": "1"}])
    with pytest.raises(ValueError, match="电价"):
        energy.clean_bands([{"kind": "flat", "start": "00:00", "end": "00:00", "price": "-1"}])
    assert len(energy.clean_bands([{"kind": "flat", "start": "00:00", "end": "00:00", "price": "1"}])) == 1


def test_an_interval_crossing_a_band_edge_is_split_by_time():
    bands = energy.clean_bands(SHANGHAI_LIKE)
    d = date(2026, 11, 2)
    split = energy.by_band([(_at(d, 7, 30), 100.0), (_at(d, 8, 30), 110.0)], bands, TZ)
    assert split["valley"] == pytest.approx(5) and split["peak"] == pytest.approx(5) and split["flat"] == 0
    # 22:00 → 01:00 next day: one hour of peak, two of valley across midnight
    split = energy.by_band([(_at(d, 22), 0.0), (_at(d + timedelta(days=1), 1), 30.0)], bands, TZ)
    assert split["peak"] == pytest.approx(10) and split["valley"] == pytest.approx(20)
    # a counter that falls (meter replaced) counts nothing for that interval only
    split = energy.by_band([(_at(d, 12), 50.0), (_at(d, 13), 60.0), (_at(d, 14), 2.0), (_at(d, 15), 7.0)], bands, TZ)
    assert split["flat"] == pytest.approx(15)


@given(st.lists(st.tuples(st.integers(1, 600), st.floats(0, 50)), min_size=1, max_size=40))
def test_band_split_adds_up_to_the_counter_rise(steps):
    bands = energy.clean_bands(SHANGHAI_LIKE)
    t, v = _at(date(2026, 11, 2), 0), 0.0
    series = [(t, v)]
    for minutes, rise in steps:
        t, v = t + timedelta(minutes=minutes), v + rise
        series.append((t, v))
    assert sum(energy.by_band(series, bands, TZ).values()) == pytest.approx(v, abs=1e-6)


def _flat_day(d: date, *, day_kw: float, night_kw: float) -> dict:
    return {_at(d, h): (night_kw if h < 6 else day_kw if 8 <= h < 18 else day_kw / 2) for h in range(24)}


def test_night_base_load_and_jumps_are_found_only_beyond_their_thresholds():
    d = date(2026, 11, 3)
    normal = {**_flat_day(d - timedelta(days=1), day_kw=10, night_kw=2), **_flat_day(d, day_kw=10, night_kw=2)}
    assert energy.anomalies(normal, d) == []
    night = {**_flat_day(d - timedelta(days=1), day_kw=10, night_kw=2), **_flat_day(d, day_kw=10, night_kw=6)}
    assert [a["kind"] for a in energy.anomalies(night, d)] == ["night_base_load"]
    jump = {**_flat_day(d - timedelta(days=1), day_kw=10, night_kw=2), **_flat_day(d, day_kw=20, night_kw=2)}
    found = energy.anomalies(jump, d)
    assert [a["kind"] for a in found] == ["jump"] and found[0]["reference"] == pytest.approx(2 * 6 + 10 * 10 + 5 * 8)
    tiny = {**_flat_day(d - timedelta(days=1), day_kw=0.01, night_kw=0), **_flat_day(d, day_kw=0.05, night_kw=0.04)}
    assert energy.anomalies(tiny, d) == []  # below MIN_KWH: noise, not a finding


# ---------------------------------------------------------------- through the services
pytestmark_db = pytest.mark.django_db


def _tenant_with_meter(code="em-1"):
    p = pf.park()
    u = pf.unit(pf.building(p))
    ent = pf.enterprise(p)
    pf.lease(p, ent, [u], start=date(2026, 1, 1), end=date(2026, 12, 31))
    services.provision_device(actor=pf.SYS, park=p, kind="meter", code=code, name="电表", unit=u)
    return p, ent


def _report(code, points):
    info = DeviceDirectory().by_code(code)
    iot.ingest_telemetry(actor=pf.SYS, source="test", readings=[
        Reading(device=info, ts=t, values={"totalActiveEnergyImport": v}) for t, v in points])


def _hourly_counter(code, start: datetime, hours: int, kw_of) -> None:
    total, points, t = 1000.0, [], start
    points.append((t, total))
    for _ in range(hours):
        total += kw_of(t)
        t += timedelta(hours=1)
        points.append((t, total))
    _report(code, points)


@pytestmark_db
def test_the_statement_splits_by_band_and_prices_each():
    p, ent = _tenant_with_meter()
    services.set_tariff(actor=pf.SYS, park=p, bands=SHANGHAI_LIKE)
    # 10 kW all of November 2 (local): 24 h = 3 peak + 7 flat + 5 peak + 9 valley hours
    _hourly_counter("em-1", _at(date(2026, 11, 2), 0), 24, lambda t: 10.0)
    statement = services.issue_energy_statement(actor=pf.SYS, enterprise=ent, month=date(2026, 11, 1))
    lines = {b["kind"]: b for b in statement.bands}
    assert lines["peak"]["kwh"] == pytest.approx(80) and lines["flat"]["kwh"] == pytest.approx(70)
    assert lines["valley"]["kwh"] == pytest.approx(90) and statement.kwh == Decimal("240.000")
    assert statement.amount == Decimal("80") * Decimal("1.2") + Decimal("70") * Decimal("0.8") + Decimal("90") * Decimal("0.3")
    assert statement.meters[0]["bands"] == {"peak": 80.0, "flat": 70.0, "valley": 90.0}
    client = factories.staff_client(pf.officer(p))
    page = client.get(f"/park/statements/{statement.pk}/").content.decode()
    assert 'data-testid="band-valley"' in page and "峰平谷分时计价" in page
    services.set_tariff(actor=pf.SYS, park=p, bands=[])  # back to the one flat price
    flat = services.issue_energy_statement(actor=pf.SYS, enterprise=ent, month=date(2026, 11, 1))
    assert flat.bands is None and flat.amount == Decimal("240") * p.electricity_price


@pytestmark_db
def test_the_tariff_is_set_through_the_api_and_the_dashboard_form_and_refused_when_it_leaves_a_gap():
    p = pf.park()
    client = factories.staff_client(pf.admin(p))
    put = client.put(f"/api/park/parks/{p.pk}/tariff", orjson.dumps(SHANGHAI_LIKE), content_type="application/json")
    assert put.status_code == 200 and len(put.json()) == 4
    bad = client.put(f"/api/park/parks/{p.pk}/tariff", orjson.dumps(SHANGHAI_LIKE[:2]), content_type="application/json")
    assert bad.status_code == 422 and bad.json()["code"] == "invalid_tariff"
    assert len(client.get(f"/api/park/parks/{p.pk}/tariff").json()) == 4  # nothing changed
    client.post(f"/park/{p.pk}/tariff/", {"bands": "峰 08:00 20:00 1.1\n谷 20:00-08:00 0.4"})
    assert [(b.kind, str(b.price)) for b in p.tariff_bands.order_by("start")] == [("peak", "1.1000"), ("valley", "0.4000")]
    officer = factories.staff_client(pf.officer(p))
    assert officer.put(f"/api/park/parks/{p.pk}/tariff", orjson.dumps([]), content_type="application/json"
                       ).status_code == 403


@pytestmark_db
def test_anomalies_are_found_over_the_meter_history_shown_and_replaced_on_a_rerun():
    p, ent = _tenant_with_meter()
    day = date(2026, 11, 3)
    # the day before: 10 kW by day, 1 kW at night; the day: a machine left on overnight (12 kW) and twice the load
    _hourly_counter("em-1", _at(day - timedelta(days=1), 0), 48,
                    lambda t: (1.0 if t.hour < 6 else 10.0) if t.date() < day else (12.0 if t.hour < 6 else 20.0))
    found = services.detect_energy_anomalies(actor=pf.SYS, park=p, day=day)
    assert sorted(a.kind for a in found) == ["jump", "night_base_load"]
    night = next(a for a in found if a.kind == "night_base_load")
    assert night.value == pytest.approx(12.0) and night.reference == pytest.approx(20.0)
    assert services.detect_energy_anomalies(actor=pf.SYS, park=p, day=day - timedelta(days=1)) == []
    services.detect_energy_anomalies(actor=pf.SYS, park=p, day=day)  # again: replaced, not doubled
    assert EnergyAnomaly.objects.filter(day=day).count() == 2
    client = factories.staff_client(pf.officer(p))
    listed = client.get(f"/api/park/parks/{p.pk}/energy-anomalies?days=36500").json()
    assert {a["kind"] for a in listed} == {"jump", "night_base_load"} and listed[0]["device"] == "em-1"
    ent_page = client.get(f"/park/enterprises/{ent.pk}/").content.decode()
    assert 'data-testid="anomaly"' not in ent_page  # the enterprise page shows the last 30 days only
    EnergyAnomaly.objects.update(day=timezone.localdate() - timedelta(days=1))
    dash = client.get(f"/park/{p.pk}/").content.decode()
    assert dash.count('data-testid="anomaly"') == 2 and "日用电量突增" in dash
    ent_page = client.get(f"/park/enterprises/{ent.pk}/").content.decode()
    assert ent_page.count('data-testid="anomaly"') == 2


@pytestmark_db
def test_the_periodic_task_checks_yesterday_in_every_park():
    p, _ = _tenant_with_meter()
    yesterday = timezone.localdate() - timedelta(days=1)
    _hourly_counter("em-1", _at(yesterday - timedelta(days=1), 0), 48,
                    lambda t: 5.0 if t.date() < yesterday else 5.0 if t.hour >= 6 else 9.0)
    assert tasks.detect_yesterdays_energy_anomalies.call() == 1
    assert EnergyAnomaly.objects.get(park=p).kind == "night_base_load"
    assert tasks.detect_yesterdays_energy_anomalies.call() == 1  # safe to run again


def test_a_bad_tariff_is_an_invalid_input_with_a_chinese_message(db):
    p = pf.park()
    with pytest.raises(InvalidInput) as exc:
        services.set_tariff(actor=pf.SYS, park=p, bands=[{"kind": "peak", "start": "8点", "end": "9点", "price": 1}])
    assert exc.value.code == "invalid_tariff" and "HH:MM" in exc.value.message
