"""A grain-condition simulator: depots and warehouses with a plausible temperature field over time.

Outside air follows the season (annual sine, coldest in mid-January) with day-to-day weather (an AR(1)
walk); the grain answers slowly — the top layer and the cables by the walls follow the air with a lag
of weeks, the core by months (a first-order response per point). Injected faults: one hot spot (a point
warming by 1.5 °C a day: insects or moisture migration) and one faulty sensor (reading 85 °C, the
DS18B20's power-on value). Used by ``smartgov grain simulate`` (over MQTT), the demo (straight through
the service) and the benchmark.
"""

import math
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

import numpy as np

from smartgov.accounts.models import Department, Level
from smartgov.accounts.services import create_department
from smartgov.core.permissions import system_actor

from . import services
from .models import Depot, Lot, Warehouse


@dataclass
class SimWarehouse:
    depot_code: str
    code: str
    rows: int
    cols: int
    layers: int
    seed: int
    hot_spot: int | None = None  # point index
    hot_from_day: int = 0
    faulty: int | None = None
    state: np.ndarray | None = field(default=None, repr=False)
    response: np.ndarray | None = field(default=None, repr=False)

    @property
    def points(self) -> int:
        return self.rows * self.cols * self.layers

    def init(self, start_air_c: float) -> None:
        rng = np.random.default_rng(self.seed)
        k, r, c = np.meshgrid(np.arange(self.layers), np.arange(self.rows), np.arange(self.cols), indexing="ij")
        edge = (r == 0) | (r == self.rows - 1) | (c == 0) | (c == self.cols - 1)
        # daily response: the top layer ~1/20 per day, cables by the walls ~1/70, the core ~1/120
        resp = np.where(k == 0, 0.05, 0.008) + np.where(edge, 0.006, 0.0)
        self.response = resp.ravel().astype(np.float32)
        # grain went in at harvest a few degrees warmer than the air, the core warmer still
        core = (k > 0) & ~edge
        self.state = (start_air_c + 3.0 + np.where(core, 1.5, 0.0) + rng.normal(0, 0.4, k.shape)).ravel().astype(
            np.float32)


def outside_air(day: float, rng: np.random.Generator, weather: list) -> tuple[float, float]:
    """Air temperature (°C) and relative humidity (%) on a day of the year (fractional)."""
    seasonal = 15.0 - 14.0 * math.cos(2 * math.pi * (day - 15) / 365.0)
    weather[0] = 0.7 * weather[0] + rng.normal(0, 1.8)
    temp = seasonal + weather[0]
    rh = float(np.clip(65 - 1.2 * weather[0] + rng.normal(0, 8), 25, 99))
    return round(temp, 1), round(rh, 1)


def plan(depot_codes: list[str], warehouses: int, *, rows=6, cols=5, layers=4, seed=7) -> list[SimWarehouse]:
    """The warehouses to simulate; the first gets a hot spot, the second (or the first) a faulty sensor."""
    out = []
    n = 0
    for d in depot_codes:
        for w in range(warehouses):
            out.append(SimWarehouse(d, f"P{w + 1:02d}", rows, cols, layers, seed=seed * 1000 + n))
            n += 1
    if out:
        hot = out[0]
        hot.hot_spot = (1 * hot.rows + hot.rows // 2) * hot.cols + hot.cols // 2  # layer 2, centre cable
    if out:
        bad = out[1] if len(out) > 1 else out[0]
        bad.faulty = bad.rows * bad.cols + 1  # layer 2, row 1, col 2
    return out


def generate(whs: list[SimWarehouse], *, start: datetime, days: int, per_day: int = 1, seed: int = 7,
             hot_from_day: int | None = None):
    """Yield (warehouse, taken_at, payload dict) in time order, ``per_day`` scans a day per warehouse."""
    rng = np.random.default_rng(seed)
    weather = [0.0]
    doy = start.timetuple().tm_yday
    air0, _ = outside_air(doy, rng, weather)
    for wh in whs:
        wh.init(air0)
        wh.hot_from_day = max(days - 6, 0) if hot_from_day is None else hot_from_day
    step = 1.0 / per_day
    for n in range(days * per_day):
        day = n * step
        air, rh = outside_air(doy + day, rng, weather)
        taken_at = start + timedelta(days=day)
        for wh in whs:
            wh.state += wh.response * step * (air - wh.state)
            t = wh.state + rng.normal(0, 0.05, wh.points).astype(np.float32)
            if wh.hot_spot is not None and day >= wh.hot_from_day:
                warm = min((day - wh.hot_from_day + step) * 1.5, 12.0)
                t[wh.hot_spot] += warm
            t = np.round(t, 1)
            temps = t.tolist()
            if wh.faulty is not None:
                temps[wh.faulty] = 85.0
            grain_top = float(np.mean(t[: wh.rows * wh.cols]))
            payload = {"taken_at": taken_at.isoformat(), "temps": temps,
                       "air_temp": round((grain_top + air) / 2, 1), "air_rh": round(min(rh + 5, 95), 1),
                       "out_temp": air, "out_rh": rh, "co2": round(float(rng.normal(600, 60)), 0),
                       "o2": 20.8, "moisture": None}
            yield wh, taken_at, payload


VARIETIES = ["wheat", "corn", "paddy", "soybean"]


def ensure_structure(*, bureau, depots: int, warehouses: int, rows=6, cols=5, layers=4, prefix="SIM",
                     label="模拟") -> list:
    """Depots ``<prefix>-K01``… under ``bureau`` with warehouses P01… and a lot in each (made through the
    services; existing ones are kept). Returns the Warehouse objects in plan order."""
    out = []
    for d in range(depots):
        code = f"{prefix}-K{d + 1:02d}"
        depot = Depot.objects.filter(code=code).first()
        if depot is None:
            dept = Department.objects.filter(code=code).first() or create_department(
                actor=system_actor("grain.simulate"), name=f"{bureau.name.replace('粮食和物资储备局', '')}{label}第{d + 1}粮库", code=code,
                level=Level.COUNTY, parent=bureau)
            depot = services.create_depot(actor=system_actor("grain.simulate"), department=dept, code=code, name=dept.name,
                                          region="south" if d % 2 else "north")
        for w in range(warehouses):
            wcode = f"P{w + 1:02d}"
            wh = Warehouse.objects.filter(depot=depot, code=wcode).first()
            if wh is None:
                wh = services.create_warehouse(actor=system_actor("grain.simulate"), depot=depot, code=wcode, kind="flat", capacity_t=6000,
                                               length_m=rows * 4.8, width_m=cols * 4.8, grain_height_m=layers * 1.5,
                                               rows=rows, cols=cols, layers=layers)
            if not Lot.objects.filter(warehouse=wh, active=True).exists():
                variety = VARIETIES[(d + w) % len(VARIETIES)]
                services.store_lot(actor=system_actor("grain.simulate"), warehouse=wh, variety=variety, grade=1 + (w % 3),
                                   harvest_year=2024 + (w % 2), owner=["central", "local", "commercial"][w % 3],
                                   tonnes=3000 + 250 * w, moisture={"wheat": 12.2, "corn": 13.6, "paddy": 13.3,
                                                                    "soybean": 12.0}[variety],
                                   storage_start=date(2024 + (w % 2), 10, 15))
            out.append(wh)
    return out
