"""Per-scan analysis of a warehouse's temperature field (粮情分析), vectorised with numpy.

- layer and whole-bin max/min/mean over the valid points;
- faulty points: no reading, outside the physical range, a jump between consecutive scans, or stuck at
  exactly the same value for several scans while the rest of its layer moved;
- hot spots (发热点): a valid point above its layer mean by ``hot_margin_c`` (default 3 °C), or rising
  faster than ``rise_rate_c_per_day`` since the previous scan;
- the bin's temperature class (GB/T 29890-2013 储粮技术规范: 低温 mean ≤ 15 °C with local max ≤ 20 °C,
  准低温 mean ≤ 20 °C with local max ≤ 25 °C, otherwise 常温);
- the interval to the next inspection by grain safety (安全/半安全/危险水分粮) and the highest grain temperature,
  with the pest and moisture inspection intervals beside it (``inspection_plan``);
- the gases against storage and safety thresholds (``evaluate_gases``, ``fumigation_status``).
"""

import itertools
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
    # safe entry for people (人员进仓): O₂ not below 19.5 % (GB 8958-2006 缺氧危险作业安全规程); PH₃ not above
    # 0.2 mL/m³ (GBZ 2.1-2019 MAC 0.3 mg/m³ at 25 ℃); CO₂ not above 5000 mL/m³ (GBZ 2.1-2019 PC-TWA 9000 mg/m³)
    "o2_entry_min_pct": 19.5,
    "ph3_entry_max_ppm": 0.2,
    "co2_entry_max_ppm": 5000.0,
    # 气调储粮: O₂ ≤ 2 % 缺氧 (kills insects), 2–12 % 低氧 (suppresses them)
    "ca_kill_o2_pct": 2.0,
    "ca_low_o2_pct": 12.0,
    # 磷化氢熏蒸: the concentration to hold (mL/m³) and the days to hold it by grain temperature band
    # (key = lowest grain temperature of the band, ℃); below the lowest band fumigation is not advised
    "fumigation_min_ph3_ppm": 200.0,
    "fumigation_days": {"25": 14, "20": 21, "15": 28},
    # 检测周期 of safe grain whose highest temperature is above 15 ℃ (GB/T 29890-2013: 7 d; the 2002 试行规范: 10 d)
    "check_safe_warm_days": 7,
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
    # 降水通风: the air's EMC must be this many points (w.b.) below the grain's moisture; the air may be warmer than
    # the grain by at most this much (the grain's allowed temperature rise)
    "vent_dry_emc_margin": 1.0,
    "vent_dry_max_rise_c": 3.0,
    # 调质通风: grain this many points below its safe moisture is over-dry; only grain at or below this temperature
    "vent_condition_margin": 1.5,
    "vent_condition_max_grain_c": 20.0,
    # 排积热/防结露: bin space this much warmer than outside air; dew point within this margin of the grain surface
    "vent_heat_diff_c": 4.0,
    "vent_dew_margin_c": 1.0,
    # 通风结束条件 (LS/T 1202 practice): temperature gradient, top-to-bottom difference, moisture gradient
    "vent_end_gradient_c_per_m": 1.0,
    "vent_end_top_bottom_c": 3.0,
    "vent_end_top_bottom_silo_c": 10.0,
    "vent_end_moisture_gradient": 0.3,
    # 储粮生态区 (1–7, see ventilation.ECO_ZONES): the installation's zone, and depots in another zone by code
    "eco_zone": 4,
    "eco_zone_by_depot": {},
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


def _layer_means(g: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """Per-scan, per-layer mean over the masked points of ``g`` (B, layers, points per layer); NaN for a
    layer with none. A scan whose mask is all true takes the plain mean (the same sum as alone)."""
    nb, layers, per_layer = g.shape
    grid = mask.reshape(nb, layers, per_layer)
    plain = g.mean(axis=2, dtype=np.float64)
    whole = mask.all(axis=1)
    if whole.all():
        return plain
    with np.errstate(invalid="ignore", divide="ignore"):
        masked = np.where(grid, g, 0).sum(axis=2, dtype=np.float64) / grid.sum(axis=2)
    return np.where(whole[:, None], plain, masked)


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
    return analyse_stack(np.asarray(temps, dtype=np.float32)[None, :], layers=layers, prev=[prev],
                         prev_stuck=[prev_stuck], rate_ref=[rate_ref], rate_hours=[rate_hours], safety=[safety],
                         params=params)[0]


def _rows(arrays: list, n: int, fill: float) -> tuple[np.ndarray, np.ndarray]:
    """Per-scan optional arrays as one (B, n) float32 matrix and a mask of the rows that have one."""
    have = np.array([a is not None and a.size == n for a in arrays], dtype=bool)
    out = np.full((len(arrays), n), fill, dtype=np.float32)
    for b in np.flatnonzero(have):
        out[b] = arrays[b]
    return out, have


def analyse_stack(temps: np.ndarray, *, layers: int, prev: list, prev_stuck: list, rate_ref: list,
                  rate_hours: list, safety: list, params: dict | None = None) -> list[Analysis]:
    """Analyse B scans of the same grid at once: ``temps`` is (B, points) float32; the other arguments are
    per scan, as for ``analyse_scan``. Every step is one numpy operation over the whole stack (the ingest
    path analyses a batch's k-th scan of every warehouse together), and each scan's result is exactly what
    it gets alone."""
    p = params or DEFAULTS
    t = np.asarray(temps, dtype=np.float32)
    nb, n = t.shape
    per_layer = n // layers
    g = t.reshape(nb, layers, per_layer)
    # Comparisons with NaN are False, so "in range" also excludes missing readings.
    in_range = (t >= p["valid_min_c"]) & (t <= p["valid_max_c"])
    prev_m, has_prev = _rows(prev, n, np.nan)
    with np.errstate(invalid="ignore"):
        jump = in_range & has_prev[:, None] & (np.abs(t - prev_m) > p["jump_c"])
    ok = in_range & ~jump
    same = has_prev[:, None] & (t == prev_m)
    lmean = _layer_means(g, ok)
    layer_mean_all = np.repeat(lmean, per_layer, axis=1)
    # Stuck: the same reading ``stuck_scans`` times in a row while its layer's mean moved by at least
    # ``stuck_layer_change_c`` — deep grain changing less than the sensor's resolution is not a fault.
    counts = np.zeros((nb, n), dtype=np.uint16)
    refs = np.full((nb, n), np.nan, dtype=np.float32)
    for b in np.flatnonzero(same.any(axis=1)):
        counts[b], refs[b] = unpack_stuck(prev_stuck[b], n)
    stuck = np.where(same, np.minimum(counts.astype(np.uint32) + 1, 65535), 0).astype(np.uint16)
    stuck_ref = np.where(same, refs, layer_mean_all).astype(np.float32)
    with np.errstate(invalid="ignore"):
        stuck_flag = (ok & (stuck.astype(np.uint32) + 1 >= p["stuck_scans"])
                      & (np.abs(layer_mean_all - stuck_ref) >= p["stuck_layer_change_c"]))
    valid = ok & ~stuck_flag
    all_valid = valid.all(axis=1)
    vgrid = valid.reshape(nb, layers, per_layer)
    valid_counts = vgrid.sum(axis=2)
    lmax = np.where(vgrid, g, -np.inf).max(axis=2)
    lmin = np.where(vgrid, g, np.inf).min(axis=2)
    has_stuck = stuck_flag.any(axis=1)
    if has_stuck.any():
        lmean = np.where(has_stuck[:, None], _layer_means(g, valid), lmean)
    stats = np.round(np.stack([lmax, lmin, lmean], axis=2).astype(np.float64), 2).tolist()
    t_maxes, t_mins = lmax.max(axis=1), lmin.min(axis=1)
    t_means = t.mean(axis=1, dtype=np.float64)
    with np.errstate(invalid="ignore"):
        margin_hot = ((g - lmean[:, :, None]) >= p["hot_margin_c"]).reshape(nb, n) & valid
    ref_m, has_ref = _rows(rate_ref, n, np.nan)
    hours = np.array([h or 0.0 for h in rate_hours], dtype=np.float64)
    has_ref &= (hours > 0) & (hours >= p["rise_min_hours"])
    days = np.where(has_ref, hours, 24.0) / 24.0
    rate = (t - ref_m) / days.astype(np.float32)[:, None]
    with np.errstate(invalid="ignore"):
        rising = valid & has_ref[:, None] & (rate > p["rise_rate_c_per_day"]) & ~margin_hot
    finite = np.isfinite(t)
    why = np.where(~valid, 4, 0)  # precedence: missing > range > jump > stuck
    why[jump] = 3
    why[finite & ~in_range] = 2
    why[~finite] = 1
    names = {1: "missing", 2: "range", 3: "jump", 4: "stuck"}
    out = []
    for b in range(nb):
        tb = t[b]
        if all_valid[b]:
            t_max, t_min, t_mean = _r(t_maxes[b]), _r(t_mins[b]), _r(t_means[b])
        elif valid[b].any():
            t_max, t_min, t_mean = _r(t_maxes[b]), _r(t_mins[b]), _r(tb[valid[b]].mean(dtype=np.float64))
        else:
            t_max = t_min = t_mean = None
        layer_stats = [row if all_valid[b] or valid_counts[b, k] else [None, None, None]
                       for k, row in enumerate(stats[b])]
        hot = [{"i": int(i), "why": "margin", "value": _r(tb[i]), "ref": _r(lmean[b, i // per_layer])}
               for i in np.flatnonzero(margin_hot[b])[:MAX_LISTED]]
        hot += [{"i": int(i), "why": "rise", "value": _r(tb[i]), "ref": _r(ref_m[b, i]), "rate": _r(rate[b, i])}
                for i in np.flatnonzero(rising[b])[:MAX_LISTED]]
        faulty = [] if all_valid[b] else [{"i": int(i), "why": names[int(why[b, i])], "value": _r(tb[i])}
                                         for i in np.flatnonzero(why[b])[:MAX_LISTED]]
        out.append(Analysis(t_max=t_max, t_min=t_min, t_mean=t_mean, layer_stats=layer_stats, faulty=faulty, hot=hot,
                            stuck=stuck[b].astype("<u2").tobytes() + stuck_ref[b].astype("<f4").tobytes(),
                            temp_class=classify_temperature(t_mean, t_max, p),
                            next_check_days=inspection_interval_days(safety[b], t_max, bool(hot), p)))
    return out


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
    """粮温检测周期 by grain safety and the highest grain temperature (≤ 15 ℃ or above): safe grain 15 d / 7 d
    (``check_safe_warm_days``), semi-safe 10 d / 5 d, dangerous 5 d / every day; a bin with a hot spot every day."""
    if has_hot_spot:
        return 1
    cool = t_max is not None and t_max <= 15.0
    if safety == "dangerous":
        return 5 if cool else 1
    if safety == "semi_safe":
        return 10 if cool else 5
    return 15 if cool else int(p.get("check_safe_warm_days", 7))


def pest_interval_days(t_max) -> int | None:
    """害虫检查周期 by grain temperature: ≤ 15 ℃ set by the depot (None), 15–25 ℃ every 15 d, above 25 ℃ every 7 d."""
    if t_max is None or t_max <= 15.0:
        return None
    return 15 if t_max <= 25.0 else 7


MOISTURE_CHECK_DAYS = {"safe": 90, "semi_safe": 30, "dangerous": None}  # 水分: quarterly, monthly, any time


def inspection_plan(*, safety: str, t_max, has_hot_spot: bool, season_change: bool = False,
                    p=DEFAULTS) -> dict:
    """Every inspection interval for the warehouse page and API, with the reason of each."""
    temp_days = inspection_interval_days(safety, t_max, has_hot_spot, p)
    pest = pest_interval_days(t_max)
    moisture = MOISTURE_CHECK_DAYS.get(safety)
    band = "≤ 15℃" if t_max is not None and t_max <= 15.0 else "> 15℃"
    safety_label = {"safe": "安全水分粮", "semi_safe": "半安全水分粮", "dangerous": "危险水分粮"}.get(safety, safety)
    return {
        "temperature_days": temp_days,
        "temperature_reason": "有发热点，每天检测" if has_hot_spot else f"{safety_label}，最高粮温 {band}",
        "pest_days": pest,
        "pest_reason": ("粮温 ≤ 15℃，检查时间由库点自定" if pest is None
                        else f"最高粮温 {'15～25℃' if pest == 15 else '> 25℃'}"),
        "moisture_days": moisture,
        "moisture_reason": {"safe": "安全水分粮每季度至少一次", "semi_safe": "半安全水分粮每月至少一次",
                            "dangerous": "危险水分粮随时测定"}.get(safety, ""),
        "season_change": season_change,
        "season_reason": "季节交替，加强表层、周边、拐角的结露与霉变检查" if season_change else "",
    }


def ppm_from_mg_per_m3(mg: float, molar_mass: float, t_c: float = 25.0) -> float:
    """mg/m³ → mL/m³ (ppm by volume) at 101.325 kPa and ``t_c``."""
    return mg * 22.414 * (273.15 + t_c) / 273.15 / molar_mass


def evaluate_gases(*, o2=None, co2=None, ph3=None, p=DEFAULTS) -> list:
    """The gases of one scan against storage and safety thresholds: [{"gas", "level", "code", "text"}], level
    ``danger`` (people must not enter / act now), ``warn`` (watch) or ``info`` (a storage state)."""
    out = []
    if o2 is not None:
        if o2 < p["o2_entry_min_pct"]:
            out.append({"gas": "o2", "level": "danger", "code": "o2_low_entry",
                        "text": f"氧气 {o2:g}% 低于 {p['o2_entry_min_pct']:g}%（缺氧），人员不得进仓"})
        if o2 <= p["ca_kill_o2_pct"]:
            out.append({"gas": "o2", "level": "info", "code": "ca_kill",
                        "text": f"氧气 {o2:g}% ≤ {p['ca_kill_o2_pct']:g}%：缺氧储藏，可杀虫"})
        elif o2 <= p["ca_low_o2_pct"]:
            out.append({"gas": "o2", "level": "info", "code": "ca_low",
                        "text": f"氧气 {o2:g}% 在 {p['ca_kill_o2_pct']:g}～{p['ca_low_o2_pct']:g}%：低氧储藏，可抑虫"})
    if ph3 is not None and ph3 > p["ph3_entry_max_ppm"]:
        out.append({"gas": "ph3", "level": "danger", "code": "ph3_entry",
                    "text": f"磷化氢 {ph3:g} mL/m³ 超过进仓限值 {p['ph3_entry_max_ppm']:g} mL/m³，"
                            "人员不得进仓（须散气检测合格或佩戴空气呼吸器）"})
    if co2 is not None:
        if co2 > p["co2_entry_max_ppm"]:
            out.append({"gas": "co2", "level": "danger", "code": "co2_entry",
                        "text": f"二氧化碳 {co2:g} ppm 超过 {p['co2_entry_max_ppm']:g} ppm，人员不得进仓"})
        if co2 > p["co2_alert_ppm"]:
            out.append({"gas": "co2", "level": "warn", "code": "co2_biological",
                        "text": f"二氧化碳 {co2:g} ppm 超过 {p['co2_alert_ppm']:g} ppm，疑有虫霉活动"})
    return out


def fumigation_days_required(grain_c, p=DEFAULTS) -> int | None:
    """The days PH₃ must be held at the minimum concentration at this grain temperature (None: too cold)."""
    if grain_c is None:
        return None
    for low, days in sorted(((float(k), v) for k, v in p["fumigation_days"].items()), reverse=True):
        if grain_c >= low:
            return int(days)
    return None


def fumigation_status(readings: list, *, grain_c, p=DEFAULTS) -> dict | None:
    """磷化氢熏蒸 from the scans' PH₃ readings [(taken_at, ph3)], oldest first: the current fumigation starts after
    the last reading at or below the entry limit. Concentration × time (CT, mL·h/m³, trapezoids between scans),
    the hours held at or above ``fumigation_min_ph3_ppm`` and the hours that grain temperature needs."""
    readings = [(t, v) for t, v in readings if v is not None]
    if not readings or readings[-1][1] <= p["ph3_entry_max_ppm"]:
        return None
    start = 0
    for k, (_, v) in enumerate(readings):
        if v <= p["ph3_entry_max_ppm"]:
            start = k + 1
    run = readings[start:]
    ct = held = 0.0
    for (t0, c0), (t1, c1) in itertools.pairwise(run):
        hours = (t1 - t0).total_seconds() / 3600
        ct += (c0 + c1) / 2 * hours
        if c0 >= p["fumigation_min_ph3_ppm"] and c1 >= p["fumigation_min_ph3_ppm"]:
            held += hours
    days = fumigation_days_required(grain_c, p)
    need = days * 24 if days else None
    return {"since": run[0][0], "ph3_ppm": run[-1][1], "ct_ppm_h": round(ct, 1), "held_hours": round(held, 1),
            "min_ppm": p["fumigation_min_ph3_ppm"], "required_days": days, "required_hours": need,
            "required_ct_ppm_h": need * p["fumigation_min_ph3_ppm"] if need else None,
            "complete": bool(need) and held >= need,
            "text": (f"粮温 {grain_c:.1f}℃ 低于熏蒸适用温度，不宜熏蒸" if days is None else
                     f"磷化氢 {run[-1][1]:g} mL/m³；≥ {p['fumigation_min_ph3_ppm']:g} mL/m³ 已保持 {held:.0f} 小时，"
                     f"需 {need} 小时（{days} 天）；CT {ct:.0f} mL·h/m³")}
