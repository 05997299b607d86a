"""A simulated park (园区模拟): N buildings of floors and units, each unit with a three-phase energy meter
and an environment sensor, and their telemetry as it would arrive. Used by ``smartgov park simulate``,
the demo and the benchmark.

Meters report FIWARE ThreePhaseAcMeasurement-style fields: ``activePower`` (kW), ``totalActiveEnergyImport``
(kWh, cumulative), ``voltage`` (V); sensors ``temperature`` (°C), ``relativeHumidity`` (%), ``pm25`` (µg/m³),
``co2`` (ppm), ``noiseLevel`` (dB). Loads follow a working day: low at night (base load), high from 9 to 18."""

import math
import random
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from smartgov.core.permissions import system_actor
from smartgov.iot.models import Device
from smartgov.iot.services import provision_devices

from . import services
from .models import Floor, Park, Unit

ACTOR = system_actor("park.simulate")


@dataclass
class SimDevice:
    code: str
    kind: str
    base_kw: float = 0.0
    energy: float = 0.0


def ensure_park(*, department, code: str, name: str, buildings: int, floors: int = 5, units_per_floor: int = 4,
                devices_per_unit: int = 2) -> tuple[Park, list[SimDevice]]:
    """The park and its devices, made once (safe to run again): returns the simulated devices."""
    park = Park.objects.filter(code=code).first() or services.create_park(actor=ACTOR, department=department,
                                                                           code=code, name=name)
    have = {b.code for b in park.buildings.all()}
    for b in range(1, buildings + 1):
        bcode = f"B{b:02d}"
        if bcode in have:
            continue
        building = services.create_building(actor=ACTOR, park=park, code=bcode, name=f"{b}号楼", floors=floors)
        for fl in Floor.objects.filter(building=building):
            for u in range(units_per_floor):
                w = fl.plan_width / units_per_floor  # units side by side along the floor
                services.create_unit(actor=ACTOR, floor=fl, code=f"{fl.number}{u + 1:02d}", area=Decimal(180 + 40 * u),
                                     use="office", geometry=[[u * w + 0.5, 2], [(u + 1) * w - 0.5, 2],
                                                             [(u + 1) * w - 0.5, 22], [u * w + 0.5, 22]])
    existing = set(Device.objects.filter(app="park", tags__park=str(park.id)).values_list("code", flat=True))
    specs = []
    for unit in Unit.objects.filter(floor__building__park=park).select_related("floor__building"):
        base = f"{park.code}-{unit.floor.building.code}-{unit.code}".lower()
        tags = {"park": str(park.id), "building": str(unit.floor.building_id), "unit": str(unit.id)}
        kinds = ["meter", "env"] + ["meter"] * max(0, devices_per_unit - 2)
        for k, kind in enumerate(kinds[:devices_per_unit]):
            code = f"{base}-{'em' if kind == 'meter' else 'env'}{k}"
            if code not in existing:
                specs.append({"code": code, "name": f"{unit} {'电表' if kind == 'meter' else '环境'}{k}", "kind": kind,
                              "tags": tags})
    for i in range(0, len(specs), 5000):
        provision_devices(actor=ACTOR, department=park.department, app="park", specs=specs[i:i + 5000])
    rng = random.Random(park.pk)
    sims = [SimDevice(code, kind, base_kw=rng.uniform(2, 30), energy=rng.uniform(1000, 50000))
            for code, kind in Device.objects.filter(app="park", tags__park=str(park.id)).order_by("code")
            .values_list("code", "kind")]
    return park, sims


def load_factor(t: datetime) -> float:
    """Working-day load shape: 0.25 at night, 1.0 in office hours, ramps between."""
    h = t.hour + t.minute / 60
    if 9 <= h < 18:
        return 1.0
    if 7 <= h < 9:
        return 0.25 + 0.75 * (h - 7) / 2
    if 18 <= h < 21:
        return 1.0 - 0.75 * (h - 18) / 3
    return 0.25


def reading(sim: SimDevice, t: datetime, rng: random.Random, *, interval_s: float, hot: bool = False) -> dict:
    if sim.kind == "meter":
        kw = sim.base_kw * load_factor(t) * rng.uniform(0.85, 1.15)
        if hot:
            kw = 950.0 + rng.uniform(0, 40)
        sim.energy += kw * interval_s / 3600
        return {"activePower": round(kw, 3), "totalActiveEnergyImport": round(sim.energy, 3),
                "voltage": round(rng.gauss(230, 2), 1)}
    day = math.sin((t.hour - 6) / 24 * 2 * math.pi)
    return {"temperature": round(24 + 3 * day + rng.gauss(0, 0.3) + (15 if hot else 0), 2),
            "relativeHumidity": round(50 - 8 * day + rng.gauss(0, 1), 1), "pm25": round(abs(rng.gauss(35, 10)), 1),
            "co2": round(450 + 400 * load_factor(t) + rng.gauss(0, 30)), "noiseLevel": round(rng.gauss(45, 4), 1)}


def messages(sims: list[SimDevice], *, start: datetime, rounds: int, interval_s: float, seed: int = 7,
             hot_codes: frozenset = frozenset()):
    """(device code, ts, values) for ``rounds`` reports of every device, ``interval_s`` apart, in time
    order; devices in ``hot_codes`` read above the alarm thresholds."""
    rng = random.Random(seed)
    for r in range(rounds):
        t = start + timedelta(seconds=r * interval_s)
        for sim in sims:
            ts = t + timedelta(milliseconds=rng.randrange(0, int(interval_s * 900)))
            yield sim.code, ts, reading(sim, ts, rng, interval_s=interval_s, hot=sim.code in hot_codes)
