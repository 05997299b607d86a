"""Per-scan analysis of a warehouse's temperature field (粮情分析), vectorised with numpy.

- layer and whole-bin max/min/mean over the valid points;
- faulty points: no reading, outside the physical range, a jump between consecutive scans, or stuck at
  exactly the same value for several scans while the rest of its layer moved;
- hot spots (发热点): a valid point above its layer mean by ``hot_margin_c`` (default 3 °C), or rising
  faster than ``rise_rate_c_per_day`` since the previous scan;
- the bin's temperature class (GB/T 29890-2013 储粮技术规范: 低温 mean ≤ 15 °C with local max ≤ 20 °C,
  准低温 mean ≤ 20 °C with local max ≤ 25 °C, otherwise 常温);
- the interval to the next inspection by grain safety (安全/半安全/危险水分粮) and temperature.
"""

from dataclasses import dataclass, field

import numpy as np

DEFAULTS: dict = {
    "hot_margin_c": 3.0,  # a point this much above its layer mean is a hot spot
    "rise_rate_c_per_day": 1.0,  # ... or rising faster than this
    "rise_min_hours": 20.0,  # the rate is measured against a scan at least this much older
    "valid_min_c": -40.0,  # outside this range the sensor is faulty (DS18B20 reports 85 / -127 on faults)
    "valid_max_c": 60.0,
    "jump_c": 8.0,  # a change this large between consecutive scans is a faulty sensor, not grain
    "stuck_scans": 5,  # the same value this many scans in a row ...
    "stuck_layer_change_c": 1.0,  # ... while its layer's mean moved this much: a stuck sensor
    "high_temp_c": 30.0,  # any valid point above this raises a high-temperature alert
    "co2_alert_ppm": 2000.0,  # CO₂ above this suggests insects or mould (生物活动)
    "low_mean_c": 15.0, "low_max_c": 20.0,
    "quasi_low_mean_c": 20.0, "quasi_low_max_c": 25.0,
    # 安全水分 by variety (%, wet basis); up to +2 points is semi-safe, above that dangerous
    "safe_moisture": {"wheat": 12.5, "corn": 14.0, "paddy": 13.5, "soybean": 12.5},
    "semi_safe_margin": 2.0,
    # ventilation (see ventilation.py)
    "vent_start_diff_c": 8.0,
    "vent_continue_diff_c": 4.0,
    "vent_fog_rh": 95.0,
    "vent_min_air_c": -10.0,
}


MAX_LISTED = 500  # points listed per finding (the count of a whole failed cable grid stays bounded)


def parameters(overrides: dict | None = None) -> dict:
    values = dict(DEFAULTS)
    if overrides:
        values.update(overrides)
    return values


@dataclass
class Analysis:
    t_max: float | None
    t_min: float | None
    t_mean: float | None
    layer_stats: list  # [[max, min, mean] | [None, None, None]] per layer, top first
    faulty: list = field(default_factory=list)  # [{"i", "why", "value"}]
    hot: list = field(default_factory=list)  # [{"i", "why", "value", "ref"}]
    stuck: bytes = b""  # per point: uint16 run length of unchanged readings, then float32 layer mean at its start
    temp_class: str = "normal"
    next_check_days: int = 15


def _r(v) -> float | None:
    return None if v is None or not np.isfinite(v) else round(float(v), 2)


def _masked_layer_mean(g: np.ndarray, mask_grid: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """Per-layer mean over the masked points (NaN for a layer with none)."""
    if mask.all():
        return g.mean(axis=1, dtype=np.float64)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(mask_grid, g, 0).sum(axis=1, dtype=np.float64) / mask_grid.sum(axis=1)


def unpack_stuck(blob, n: int) -> tuple[np.ndarray, np.ndarray]:
    if blob is None or len(blob) != 6 * n:
        return np.zeros(n, dtype=np.uint16), np.full(n, np.nan, dtype=np.float32)
    blob = bytes(blob)
    return np.frombuffer(blob[:2 * n], dtype="<u2"), np.frombuffer(blob[2 * n:], dtype="<f4")


def analyse_scan(temps: np.ndarray, *, layers: int, prev: np.ndarray | None = None,
                 prev_stuck: bytes | None = None, rate_ref: np.ndarray | None = None,
                 rate_hours: float | None = None, safety: str = "safe", params: dict | None = None) -> Analysis:
    """Analyse one scan. ``temps`` is float32 in point-index order (layer-major); NaN = no reading.

    ``prev`` is the scan just before (for jumps and stuck sensors); ``rate_ref`` an earlier scan taken
    ``rate_hours`` before, at least ``rise_min_hours`` (for the warming rate: over days, not hours)."""
    p = params or DEFAULTS
    t = np.asarray(temps, dtype=np.float32)
    n = t.size
    per_layer = n // layers
    g = t.reshape(layers, per_layer)
    # Comparisons with NaN are False, so "in range" also excludes missing readings.
    ok = (t >= p["valid_min_c"]) & (t <= p["valid_max_c"])
    has_prev = prev is not None and prev.size == n
    jump = None
    if has_prev:
        jump = ok & (np.abs(t - prev) > p["jump_c"])
        if jump.any():
            ok = ok & ~jump
        same = t == prev
    lmean = _masked_layer_mean(g, ok.reshape(layers, per_layer), ok)
    layer_mean_all = np.repeat(lmean, per_layer)
    stuck_flag = None
    if has_prev and same.any():
        # Stuck: the same reading ``stuck_scans`` times in a row while its layer's mean moved by at least
        # ``stuck_layer_change_c`` — deep grain changing less than the sensor's resolution is not a fault.
        counts, refs = unpack_stuck(prev_stuck, n)
        stuck = np.where(same, np.minimum(counts.astype(np.uint32) + 1, 65535), 0).astype(np.uint16)
        stuck_ref = np.where(same, refs, layer_mean_all).astype(np.float32)
        candidates = ok & (stuck.astype(np.uint32) + 1 >= p["stuck_scans"])
        if candidates.any():
            with np.errstate(invalid="ignore"):
                stuck_flag = candidates & (np.abs(layer_mean_all - stuck_ref) >= p["stuck_layer_change_c"])
            if not stuck_flag.any():
                stuck_flag = None
    else:
        stuck = np.zeros(n, dtype=np.uint16)
        stuck_ref = layer_mean_all.astype(np.float32)
    valid = ok if stuck_flag is None else ok & ~stuck_flag
    all_valid = bool(valid.all())
    if all_valid:
        lmax, lmin = g.max(axis=1), g.min(axis=1)
        counts = None
    else:
        vgrid = valid.reshape(layers, per_layer)
        counts = vgrid.sum(axis=1)
        lmax = np.where(vgrid, g, -np.inf).max(axis=1)
        lmin = np.where(vgrid, g, np.inf).min(axis=1)
        if stuck_flag is not None:
            lmean = _masked_layer_mean(g, vgrid, valid)
    stats = np.round(np.column_stack([lmax, lmin, lmean]).astype(np.float64), 2).tolist()
    layer_stats = [row if counts is None or counts[k] else [None, None, None] for k, row in enumerate(stats)]
    if all_valid:
        t_max, t_min, t_mean = _r(lmax.max()), _r(lmin.min()), _r(t.mean(dtype=np.float64))
    elif valid.any():
        vt = t[valid]
        t_max, t_min, t_mean = _r(vt.max()), _r(vt.min()), _r(vt.mean(dtype=np.float64))
    else:
        t_max = t_min = t_mean = None

    hot = []
    with np.errstate(invalid="ignore"):
        margin_hot = ((g - lmean[:, None]) >= p["hot_margin_c"]).ravel() & valid
    if margin_hot.any():
        for i in np.flatnonzero(margin_hot)[:MAX_LISTED]:
            hot.append({"i": int(i), "why": "margin", "value": _r(t[i]), "ref": _r(lmean[i // per_layer])})
    if rate_ref is not None and rate_ref.size == n and rate_hours and rate_hours >= p["rise_min_hours"]:
        rate = (t - rate_ref) / (rate_hours / 24.0)
        rising = valid & (rate > p["rise_rate_c_per_day"]) & ~margin_hot
        if rising.any():
            for i in np.flatnonzero(rising)[:MAX_LISTED]:
                hot.append({"i": int(i), "why": "rise", "value": _r(t[i]), "ref": _r(rate_ref[i]),
                            "rate": _r(rate[i])})
    faulty = []
    if not all_valid:
        why = np.zeros(n, dtype=np.int8)  # precedence: missing > range > jump > stuck
        why[~valid] = 4
        if jump is not None:
            why[jump] = 3
        finite = np.isfinite(t)
        why[finite & ~((t >= p["valid_min_c"]) & (t <= p["valid_max_c"]))] = 2
        why[~finite] = 1
        names = {1: "missing", 2: "range", 3: "jump", 4: "stuck"}
        faulty = [{"i": int(i), "why": names[int(why[i])], "value": _r(t[i])}
                  for i in np.flatnonzero(why)[:MAX_LISTED]]

    temp_class = classify_temperature(t_mean, t_max, p)
    return Analysis(t_max=t_max, t_min=t_min, t_mean=t_mean, layer_stats=layer_stats, faulty=faulty, hot=hot,
                    stuck=stuck.astype("<u2").tobytes() + stuck_ref.astype("<f4").tobytes(), temp_class=temp_class,
                    next_check_days=inspection_interval_days(safety, t_max, bool(hot), p))


def classify_temperature(t_mean, t_max, p=DEFAULTS) -> str:
    """GB/T 29890-2013: 低温储藏 (mean ≤ 15, local max ≤ 20), 准低温 (mean ≤ 20, local max ≤ 25), 常温."""
    if t_mean is None:
        return "normal"
    if t_mean <= p["low_mean_c"] and t_max <= p["low_max_c"]:
        return "low"
    if t_mean <= p["quasi_low_mean_c"] and t_max <= p["quasi_low_max_c"]:
        return "quasi_low"
    return "normal"


def grain_safety(variety: str | None, moisture: float | None, p=DEFAULTS) -> str:
    """安全/半安全/危险水分粮 from the lot's moisture against the variety's safe moisture."""
    if not variety or moisture is None:
        return "safe"
    safe = p["safe_moisture"].get(variety)
    if safe is None or moisture <= safe:
        return "safe"
    return "semi_safe" if moisture <= safe + p["semi_safe_margin"] else "dangerous"


def inspection_interval_days(safety: str, t_max, has_hot_spot: bool, p=DEFAULTS) -> int:
    """检测周期 (GB/T 29890 practice): safe grain at ≤ 15 °C every 15 days, safe grain above 15 °C and
    semi-safe grain at ≤ 15 °C every 10 days, semi-safe grain above 15 °C every 5 days, dangerous grain
    and any bin with a hot spot every day."""
    if safety == "dangerous" or has_hot_spot:
        return 1
    cool = t_max is not None and t_max <= p["low_mean_c"]
    if safety == "semi_safe":
        return 10 if cool else 5
    return 15 if cool else 10
