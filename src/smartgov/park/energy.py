"""Energy arithmetic, pure (no reads, no writes): time-of-use bands (峰平谷分时电价), a cumulative meter's
energy spread over time, and the two anomalies the dashboard shows.

A meter reports a cumulative counter (``totalActiveEnergyImport``, kWh). Between two consecutive readings
the rise is spread evenly over the time between them (linear interpolation), so a half-hour gap that
crosses 08:00 puts the right share before and after; a fall (a replaced meter) counts nothing for that
interval. Bands and hours are the installation's local wall-clock time."""

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from itertools import pairwise

ENERGY_KEY = "totalActiveEnergyImport"  # FIWARE ThreePhaseAcMeasurement, kWh, cumulative
PEAK, FLAT, VALLEY = "peak", "flat", "valley"
BAND_NAMES = {PEAK: "峰", FLAT: "平", VALLEY: "谷"}
DAY_MINUTES = 24 * 60

# Anomalies. Night base load: the mean power from 00:00 to 06:00 above this share of the mean power from
# 08:00 to 18:00 (a tenant's equipment left running overnight). Jump: a day's energy more than this much
# above the day before. Both ignore days below MIN_KWH (a nearly idle unit is noise, not a finding).
NIGHT_HOURS, DAY_HOURS = (0, 6), (8, 18)
NIGHT_SHARE = 0.5
JUMP_RATIO = 0.5
MIN_KWH = 1.0


@dataclass(frozen=True)
class Band:
    kind: str
    start: time
    end: time  # exclusive; end <= start runs past midnight (23:00–07:00)
    price: Decimal


def _minute(t: time) -> int:
    return t.hour * 60 + t.minute


def clean_bands(raw) -> list[Band]:
    """Bands from ``[{"kind": "peak", "start": "08:00", "end": "11:00", "price": "1.2"}, ...]``: every minute
    of the day in exactly one band, whole minutes, prices ≥ 0. Raises ValueError with a Chinese message."""
    if not isinstance(raw, list | tuple) or not raw:
        raise ValueError("分时电价应为时段数组")
    bands, cover = [], [0] * DAY_MINUTES
    for n, item in enumerate(raw, 1):
        try:
            kind = str(item["kind"])
            start = item["start"] if isinstance(item["start"], time) else time.fromisoformat(str(item["start"]))
            end = item["end"] if isinstance(item["end"], time) else time.fromisoformat(str(item["end"]))
            price = Decimal(str(item["price"]))
        except (KeyError, TypeError, ValueError, ArithmeticError):
            raise ValueError(f"第 {n} 个时段应有 kind、start（HH:MM）、end（HH:MM）和 price") from None
        if kind not in BAND_NAMES:
            raise ValueError(f"第 {n} 个时段的类型应为 peak（峰）、flat（平）或 valley（谷）")
        if start.second or end.second or start.microsecond or end.microsecond:
            raise ValueError(f"第 {n} 个时段应为整分钟")
        if not price.is_finite() or price < 0 or price > 100:
            raise ValueError(f"第 {n} 个时段的电价应为 0～100 元/kWh")
        a, b = _minute(start), _minute(end)
        length = (b - a) % DAY_MINUTES or DAY_MINUTES
        for m in range(a, a + length):
            cover[m % DAY_MINUTES] += 1
        bands.append(Band(kind, start, end, price.quantize(Decimal("0.0001"))))
    if any(c > 1 for c in cover):
        raise ValueError("分时时段相互重叠")
    if any(c == 0 for c in cover):
        gap = next((m for m in range(DAY_MINUTES) if cover[m] == 0 and cover[m - 1] != 0), 0)  # where one begins
        raise ValueError(f"分时时段未覆盖全天（{gap // 60:02d}:{gap % 60:02d} 起无时段）")
    return sorted(bands, key=lambda b: _minute(b.start))


def _spread(series, key_of, next_boundary) -> dict:
    """Each interval's rise, split over the keys of the time it spans, in proportion to time."""
    out = defaultdict(float)
    for (t0, v0), (t1, v1) in pairwise(series):
        rise, span = v1 - v0, (t1 - t0).total_seconds()
        if rise <= 0 or span <= 0:
            continue
        t = t0
        while t < t1:
            nxt = min(next_boundary(t), t1)
            out[key_of(t)] += rise * (nxt - t).total_seconds() / span
            t = nxt
    return dict(out)


def _local(series, tz):
    return [(t.astimezone(tz), float(v)) for t, v in series]


def by_band(series, bands: list[Band], tz) -> dict[str, float]:
    """kWh per band kind from ``series`` of (time, counter) in time order."""
    table = [None] * DAY_MINUTES
    for b in bands:
        a = _minute(b.start)
        for m in range(a, a + ((_minute(b.end) - a) % DAY_MINUTES or DAY_MINUTES)):
            table[m % DAY_MINUTES] = b.kind
    changes = sorted({_minute(b.start) for b in bands})

    def key_of(t):
        return table[t.hour * 60 + t.minute]

    def next_boundary(t):
        midnight = datetime.combine(t.date(), time.min, t.tzinfo)
        seconds = (t - midnight).total_seconds()
        nxt = next((c for c in changes if c * 60 > seconds), changes[0] + DAY_MINUTES)
        return midnight + timedelta(minutes=nxt)

    split = _spread(_local(series, tz), key_of, next_boundary)
    return {kind: split.get(kind, 0.0) for kind in BAND_NAMES if any(b.kind == kind for b in bands)}


def hourly(series, tz) -> dict[datetime, float]:
    """kWh per local hour (keyed by the hour's start) from ``series`` of (time, counter) in time order."""
    def key_of(t):
        return t.replace(minute=0, second=0, microsecond=0)

    return _spread(_local(series, tz), key_of, lambda t: key_of(t) + timedelta(hours=1))


def anomalies(hours: dict[datetime, float], day: date) -> list[dict]:
    """The anomalies of ``day`` from a meter's hourly energy (which must cover the day and the one before):
    ``{"kind": "night_base_load" | "jump", "value": ..., "reference": ...}``."""
    def total(d, lo=0, hi=24):
        return sum(v for h, v in hours.items() if h.date() == d and lo <= h.hour < hi)

    found = []
    night, daytime = total(day, *NIGHT_HOURS), total(day, *DAY_HOURS)
    night_kw = night / (NIGHT_HOURS[1] - NIGHT_HOURS[0])
    day_kw = daytime / (DAY_HOURS[1] - DAY_HOURS[0])
    if night >= MIN_KWH and night_kw > NIGHT_SHARE * day_kw:
        found.append({"kind": "night_base_load", "value": round(night_kw, 3), "reference": round(day_kw, 3)})
    today, before = total(day), total(day - timedelta(days=1))
    if before >= MIN_KWH and today > before * (1 + JUMP_RATIO):
        found.append({"kind": "jump", "value": round(today, 3), "reference": round(before, 3)})
    return found
