"""Energy writes: a park's 峰平谷 tariff, monthly statements split by band, and the anomaly check of a day."""

from datetime import date, datetime, time, timedelta
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from smartgov.audit.services import record
from smartgov.core.errors import InvalidInput
from smartgov.core.permissions import require
from smartgov.iot import selectors as iot_selectors

from .. import billing, energy, selectors
from ..models import EnergyAnomaly, EnergyStatement, Enterprise, Park, TariffBand

# 2022年度全国电网平均排放因子 0.5703 tCO₂/MWh (生态环境部、国家统计局公布), i.e. kgCO₂ per kWh
GRID_EMISSION_FACTOR = Decimal("0.5703")
ENERGY_KEY = energy.ENERGY_KEY
FEN = Decimal("0.01")


def _month_bounds(month: date) -> tuple[datetime, datetime]:
    tz = timezone.get_current_timezone()
    start = datetime.combine(month.replace(day=1), time.min, tz)
    nxt = billing.add_months(month.replace(day=1), 1)
    return start, datetime.combine(nxt, time.min, tz)


@transaction.atomic
def set_tariff(*, actor, park: Park, bands: list[dict]) -> list[TariffBand]:
    """峰平谷分时电价: replace the park's bands (they must cover the day exactly); an empty list goes back to
    the one flat ``electricity_price``. Statements issued later use the new bands."""
    require(actor, "park.manage", department=park.department)
    try:
        clean = energy.clean_bands(bands) if bands else []
    except ValueError as exc:
        raise InvalidInput(str(exc), code="invalid_tariff") from None
    old = [f"{b.kind} {b.start:%H:%M}-{b.end:%H:%M} {b.price}" for b in park.tariff_bands.all()]
    park.tariff_bands.all().delete()
    made = TariffBand.objects.bulk_create([TariffBand(park=park, kind=b.kind, start=b.start, end=b.end, price=b.price)
                                           for b in clean])
    record(actor=actor, action="park.tariff.set", target=park,
           changes={"old": old, "new": [f"{b.kind} {b.start:%H:%M}-{b.end:%H:%M} {b.price}" for b in clean]})
    return made


@transaction.atomic
def issue_energy_statement(*, actor, enterprise: Enterprise, month: date) -> EnergyStatement:
    """月度能耗账单: for every meter in the units the enterprise leased that month, the rise of its counter
    (each interval between readings counted once, spread over the time it spans — ``park/energy.py``), split
    into the park's 峰/平/谷 bands and priced at each band's price (or at the one flat price), with the carbon
    estimate. Issued again, it is recomputed (readings may have arrived late)."""
    require(actor, "park.lease", department=enterprise.park.department)
    park = enterprise.park
    month = month.replace(day=1)
    start, end = _month_bounds(month)
    bands = [energy.Band(b.kind, b.start, b.end, b.price) for b in park.tariff_bands.all()]
    tz = timezone.get_current_timezone()
    devices = list(selectors.enterprise_meters(enterprise, month))
    series = iot_selectors.counter_series([d.id for d in devices], ENERGY_KEY, start=start, end=end)
    meters, per_band = [], dict.fromkeys(energy.BAND_NAMES, 0.0)
    for device in devices:
        points = series[device.id]
        split = energy.by_band(points, bands, tz) if bands else {"flat": energy.by_band(
            points, [energy.Band("flat", time.min, time.min, park.electricity_price)], tz)["flat"]}
        kwh = sum(split.values())
        meters.append({"device": device.code, "from": points[0][1] if points else None,
                       "to": points[-1][1] if points else None, "kwh": round(kwh, 3),
                       "bands": {k: round(v, 3) for k, v in split.items()}})
        for k, v in split.items():
            per_band[k] += v
    kwh = Decimal(str(round(sum(m["kwh"] for m in meters), 3)))
    if bands:
        prices = {b.kind: b.price for b in bands}
        lines = [{"kind": k, "name": energy.BAND_NAMES[k], "kwh": round(per_band[k], 3), "price": str(prices[k]),
                  "amount": str((Decimal(str(round(per_band[k], 3))) * prices[k]).quantize(FEN))}
                 for k in energy.BAND_NAMES if k in prices]
        amount = sum((Decimal(x["amount"]) for x in lines), Decimal(0))
    else:
        lines, amount = None, (kwh * park.electricity_price).quantize(FEN)
    values = {"kwh": kwh, "amount": amount, "carbon_kg": (kwh * GRID_EMISSION_FACTOR).quantize(FEN),
              "meters": meters, "bands": lines}
    st, created = EnergyStatement.objects.update_or_create(enterprise=enterprise, month=month, defaults=values)
    record(actor=actor, action="park.energy.statement", target=st,
           changes={"month": month.isoformat(), "kwh": kwh, "amount": st.amount, "bands": lines,
                    "reissued": not created})
    return st


# A reading at most this long before the window opens still counts towards its first hour (meters report
# every minute or few; a longer gap loses only the part before the window).
OPENING_SLACK = timedelta(hours=2)


@transaction.atomic
def detect_energy_anomalies(*, actor, park: Park, day: date) -> list[EnergyAnomaly]:
    """能耗异常 of a local day for every meter of the park: night base load and the day-over-day jump
    (``park/energy.py``). Safe to run again: the day's findings are replaced by what holds now."""
    require(actor, "park.manage", department=park.department)
    tz = timezone.get_current_timezone()
    start = datetime.combine(day - timedelta(days=1), time.min, tz)
    end = datetime.combine(day + timedelta(days=1), time.min, tz)
    devices = list(selectors.park_devices(park).filter(kind="meter", active=True))
    series = iot_selectors.counter_series([d.id for d in devices], ENERGY_KEY, start=start - OPENING_SLACK, end=end,
                                          opening=False)
    EnergyAnomaly.objects.filter(park=park, day=day).delete()
    found = []
    for device in devices:
        hours = {h: v for h, v in energy.hourly(series[device.id], tz).items() if start <= h < end}
        for a in energy.anomalies(hours, day):
            found.append(EnergyAnomaly(park=park, device=device, day=day, kind=a["kind"], value=a["value"],
                                       reference=a["reference"]))
    EnergyAnomaly.objects.bulk_create(found)
    record(actor=actor, action="park.energy.anomalies", target=park,
           changes={"day": day.isoformat(), "meters": len(devices),
                    "found": [f"{a.device.code} {a.kind}" for a in found][:50], "count": len(found)})
    return found
