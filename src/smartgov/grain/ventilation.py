"""Equilibrium moisture content (平衡水分) and ventilation advice (机械通风建议).

Sorption equations of ASAE D245.6 (ASABE Standard D245.6 OCT2007, "Moisture Relationships of
Plant-Based Agricultural Products"), M in % **dry basis** (干基), RH a fraction, T in °C:

- modified Henderson (MHE):   RH = 1 − exp[−A (T + C) M^B]        ⇒ M = [ln(1 − RH) / (−A (T + C))]^(1/B)
- modified Chung-Pfost (MCPE): RH = exp[−A / (T + C) · exp(−B M)]  ⇒ M = −(1/B) ln[−(T + C) ln(RH) / A]

The MCPE is also printed as M = E − F ln[−(T + C) ln RH] (M a decimal d.b.; Brooker, Bakker-Arkema &
Hall 1992, table 3.5): A = exp(E/F), B = 1/(100 F). Coefficients by product (D245.6 table; the pooled
adsorption/desorption fits of Pfost et al. 1976 that the standard keeps):

| app variety | D245.6 product   | MHE A, B, C                    | MCPE A, B, C                |
|-------------|------------------|--------------------------------|-----------------------------|
| corn 玉米   | corn, yellow dent | 8.6541e-5, 1.8634, 49.810      | 312.30, 0.16958, 30.205     |
| paddy 稻谷  | rice, rough       | 1.9187e-5, 2.4451, 51.161      | 594.61, 0.21732, 35.703     |
| wheat 小麦  | wheat, hard red   | 2.3007e-5, 2.2857, 55.815      | 610.34, 0.15526, 93.213     |
| soybean 大豆| soybean           | 30.5327e-5, 1.2164, 134.136    | 328.30, 0.13917, 100.288    |

Checked against printed values in ``tests/grain/test_ventilation.py`` (sources named there). Grain moisture
in China is stated on the wet basis (湿基, GB/T 5497); ``wet_to_dry``/``dry_to_wet`` convert:
M_db = 100 M_wb / (100 − M_wb), M_wb = 100 M_db / (100 + M_db).

Ventilation purposes and their rules (LS/T 1202-2002 储粮机械通风技术规程 and 储粮机械通风 practice) are in
``ventilation_plan`` below; every threshold is an editable parameter (``analysis.DEFAULTS``).
"""

import itertools
import math
from dataclasses import dataclass, field

from django.utils.translation import gettext_noop

from .analysis import DEFAULTS

# (A, B, C) in the D245.6 form of each equation; see the table above.
HENDERSON = {
    "corn": (8.6541e-5, 1.8634, 49.810),
    "paddy": (1.9187e-5, 2.4451, 51.161),
    "wheat": (2.3007e-5, 2.2857, 55.815),
    "soybean": (30.5327e-5, 1.2164, 134.136),
}
CHUNG_PFOST = {
    "corn": (312.30, 0.16958, 30.205),
    "paddy": (594.61, 0.21732, 35.703),
    "wheat": (610.34, 0.15526, 93.213),
    "soybean": (328.30, 0.13917, 100.288),
}
# The equation our decisions use per product (the other is shown beside it): MCPE for the starchy cereals
# corn and wheat (Chen & Morey 1989 found it fits them best), MHE for rough rice and soybean — the pairing
# under which issue 13 quotes D245.6 (corn MCPE, rough rice MHE). Not a D245.6 prescription.
PREFERRED = {"corn": "chung_pfost", "paddy": "henderson", "wheat": "chung_pfost", "soybean": "henderson"}


def henderson_emc(variety: str, t_c: float, rh: float) -> float:
    """Equilibrium moisture (% d.b.) by the modified Henderson equation; ``rh`` a fraction in (0, 1)."""
    a, b, c = HENDERSON[variety]
    return (math.log(1.0 - rh) / (-a * (t_c + c))) ** (1.0 / b)


def henderson_erh(variety: str, t_c: float, m_db: float) -> float:
    """Equilibrium relative humidity (fraction) of grain at ``m_db`` % d.b. and ``t_c`` °C (MHE)."""
    a, b, c = HENDERSON[variety]
    return 1.0 - math.exp(-a * (t_c + c) * m_db ** b)


def chung_pfost_emc(variety: str, t_c: float, rh: float) -> float:
    """Equilibrium moisture (% d.b.) by the modified Chung-Pfost equation."""
    a, b, c = CHUNG_PFOST[variety]
    return -(1.0 / b) * math.log(-(t_c + c) * math.log(rh) / a)


def chung_pfost_erh(variety: str, t_c: float, m_db: float) -> float:
    """Equilibrium relative humidity (fraction) by the modified Chung-Pfost equation."""
    a, b, c = CHUNG_PFOST[variety]
    return math.exp(-a / (t_c + c) * math.exp(-b * m_db))


def emc(variety: str, t_c: float, rh: float, equation: str | None = None) -> float:
    """EMC (% d.b.) by the product's preferred equation (or the one named)."""
    eq = equation or PREFERRED[variety]
    return henderson_emc(variety, t_c, rh) if eq == "henderson" else chung_pfost_emc(variety, t_c, rh)


def erh(variety: str, t_c: float, m_db: float, equation: str | None = None) -> float:
    eq = equation or PREFERRED[variety]
    return henderson_erh(variety, t_c, m_db) if eq == "henderson" else chung_pfost_erh(variety, t_c, m_db)


def wet_to_dry(m_wb: float) -> float:
    return 100.0 * m_wb / (100.0 - m_wb)


def dry_to_wet(m_db: float) -> float:
    return 100.0 * m_db / (100.0 + m_db)


def saturation_vapour_pressure_hpa(t_c: float) -> float:
    """Magnus form with the Alduchov & Eskridge (1996) constants."""
    return 6.1094 * math.exp(17.625 * t_c / (t_c + 243.04))


def dew_point_c(t_c: float, rh: float) -> float:
    g = math.log(rh) + 17.625 * t_c / (t_c + 243.04)
    return 243.04 * g / (17.625 - g)


PURPOSES = {  # purpose → (Chinese name, English name)
    "cooling": ("降温通风", "cooling ventilation"),
    "drying": ("降水通风", "drying ventilation"),
    "conditioning": ("调质通风", "conditioning ventilation"),
    "surface": ("排积热/防结露通风", "surface-heat and anti-condensation ventilation"),
}
_ACTIONS = {"start": "建议开始{}", "continue": "可继续{}", "stop": "应停止{}", "not_advised": "不宜{}",
            "not_needed": "无需{}"}

# 储粮生态区: the seven ecological grain-storage zones of China (中国储粮生态区域划分, as listed in GB/T 29890-2013
# annex A). ``cool_months`` (the season of cooling ventilation) and ``change_months`` (seasons changing: watch the
# grain surface for condensation) are our editable defaults, not printed figures.
ECO_ZONES = {
    1: {"name": "高寒干燥储粮区", "en": "cold-highland dry zone", "provinces": "青海、西藏",
        "cool_months": [10, 11, 12, 1, 2, 3], "change_months": [4, 5, 9, 10]},
    2: {"name": "低温干燥储粮区", "en": "low-temperature dry zone", "provinces": "内蒙古、甘肃、宁夏、新疆",
        "cool_months": [11, 12, 1, 2], "change_months": [3, 4, 9, 10]},
    3: {"name": "低温高湿储粮区", "en": "low-temperature humid zone", "provinces": "黑龙江、吉林、辽宁",
        "cool_months": [11, 12, 1, 2], "change_months": [3, 4, 9, 10]},
    4: {"name": "中温干燥储粮区", "en": "moderate-temperature dry zone",
        "provinces": "北京、天津、河北、山西、山东、河南北部、陕西北部", "cool_months": [11, 12, 1, 2],
        "change_months": [3, 4, 10, 11]},
    5: {"name": "中温高湿储粮区", "en": "moderate-temperature humid zone",
        "provinces": "上海、江苏、浙江、安徽、江西、湖北、湖南、重庆、四川东部、河南南部、陕西南部",
        "cool_months": [12, 1, 2], "change_months": [3, 4, 10, 11]},
    6: {"name": "中温低湿储粮区", "en": "moderate-temperature low-humidity zone",
        "provinces": "云南、贵州、四川西南部", "cool_months": [11, 12, 1, 2], "change_months": [3, 4, 10, 11]},
    7: {"name": "高温高湿储粮区", "en": "high-temperature humid zone", "provinces": "福建、广东、广西、海南、台湾",
        "cool_months": [12, 1, 2], "change_months": [3, 4, 11, 12]},
}


def zone_for(params: dict, depot_code: str | None = None) -> int:
    """The depot's 储粮生态区: ``eco_zone_by_depot`` names depots, ``eco_zone`` is the installation's default."""
    by_depot = params.get("eco_zone_by_depot") or {}
    zone = by_depot.get(depot_code, params.get("eco_zone", 4)) if depot_code else params.get("eco_zone", 4)
    return int(zone) if int(zone) in ECO_ZONES else 4


@dataclass
class Advice:
    action: str  # "start" | "continue" | "stop" | "not_advised" | "not_needed"
    allowed: bool
    checks: list = field(default_factory=list)  # [(passed, sentence)]
    numbers: dict = field(default_factory=dict)
    purpose: str = "cooling"

    @property
    def label(self) -> str:
        return _ACTIONS[self.action].format(PURPOSES[self.purpose][0])


def _decide(purpose, needed, checks, numbers, ventilating) -> Advice:
    """needed: (bool, sentence) — whether the grain needs this purpose at all; checks: the weather/air conditions."""
    if needed is not None:
        checks = [needed, *checks]
        if not needed[0]:
            return Advice(action="stop" if ventilating else "not_needed", allowed=False, checks=checks,
                          numbers=numbers, purpose=purpose)
    allowed = all(ok for ok, _ in checks)
    action = ("continue" if ventilating else "start") if allowed else ("stop" if ventilating else "not_advised")
    return Advice(action=action, allowed=allowed, checks=checks, numbers=numbers, purpose=purpose)


def _weather_checks(p, raining, air_rh_pct, air_c):
    return [
        (not raining, "无降雨" if not raining else "正在降雨（雪），不得通风"),
        (air_rh_pct < p["vent_fog_rh"], f"大气相对湿度 {air_rh_pct:.0f}%"
                                        f"{'，无雾' if air_rh_pct < p['vent_fog_rh'] else '，雾天不得通风'}"),
        (air_c >= p["vent_min_air_c"], f"气温 {air_c:.1f}℃ {'不低于' if air_c >= p['vent_min_air_c'] else '低于'}"
                                       f" {p['vent_min_air_c']:g}℃"),
    ]


def _moisture_state(variety, grain_c, m_wb, air_c, rh):
    """Both equations' EMC at the air and ERH of the grain; the decision equation's values; vapour pressures."""
    equations = {}
    if variety in HENDERSON:
        equations["henderson"] = (henderson_emc(variety, air_c, rh), henderson_erh(variety, grain_c, wet_to_dry(m_wb)))
    if variety in CHUNG_PFOST:
        equations["chung_pfost"] = (chung_pfost_emc(variety, air_c, rh),
                                    chung_pfost_erh(variety, grain_c, wet_to_dry(m_wb)))
    return equations


def ventilation_advice(*, variety: str, grain_mean_c: float, grain_moisture_wb: float, air_c: float,
                       air_rh_pct: float, raining: bool = False, ventilating: bool = False,
                       params: dict | None = None, extra_checks=()) -> Advice:
    """降温通风: whether cooling ventilation may start (or continue), with every number behind the answer."""
    p = params or DEFAULTS
    rh = min(max(air_rh_pct / 100.0, 1e-4), 0.9999)
    m_db = wet_to_dry(grain_moisture_wb)
    diff = grain_mean_c - air_c
    threshold = p["vent_continue_diff_c"] if ventilating else p["vent_start_diff_c"]
    equations = _moisture_state(variety, grain_mean_c, grain_moisture_wb, air_c, rh)
    # the grain's equilibrium vapour pressure: the lower estimate of the equations (the cautious one)
    grain_erh = min(e for _, e in equations.values()) if equations else None
    p_air = rh * saturation_vapour_pressure_hpa(air_c)
    p_grain = grain_erh * saturation_vapour_pressure_hpa(grain_mean_c) if grain_erh is not None else None
    numbers = {
        "grain_mean_c": round(grain_mean_c, 2), "air_c": round(air_c, 2), "air_rh_pct": round(air_rh_pct, 1),
        "temperature_difference_c": round(diff, 2), "required_difference_c": threshold,
        "grain_moisture_wb": round(grain_moisture_wb, 2), "grain_moisture_db": round(m_db, 2),
        "air_dew_point_c": round(dew_point_c(air_c, rh), 2),
        "air_vapour_pressure_hpa": round(p_air, 3),
        "grain_equilibrium_rh_pct": round(grain_erh * 100, 1) if grain_erh is not None else None,
        "grain_vapour_pressure_hpa": round(p_grain, 3) if p_grain is not None else None,
    }
    for name, (emc_db, e) in equations.items():
        numbers[f"{name}_emc_at_air_wb"] = round(dry_to_wet(emc_db), 2)
        numbers[f"{name}_emc_at_air_db"] = round(emc_db, 2)
        numbers[f"{name}_grain_erh_pct"] = round(e * 100, 1)
    checks = [
        (diff >= threshold, f"粮温与气温差 {diff:.1f}℃ {'≥' if diff >= threshold else '<'} {threshold:g}℃"
                            f"（{'继续' if ventilating else '开始'}降温通风条件）"),
        *_weather_checks(p, raining, air_rh_pct, air_c),
        *extra_checks,
    ]
    if p_grain is None:
        checks.append((False, "该品种没有平衡水分方程参数，无法判断是否增湿"))
    else:
        dry = p_air < p_grain
        checks.append((dry, f"大气水汽压 {p_air:.2f} hPa {'<' if dry else '≥'} 粮堆平衡水汽压 {p_grain:.2f} hPa"
                            f"（{'不会' if dry else '会'}使粮食增湿）"))
    checks.extend(extra_checks)
    return _decide("cooling", None, checks, numbers, ventilating)


def _emc_numbers(variety, air_c, rh, grain_c, m_wb):
    eq = PREFERRED[variety]
    emc_wb = dry_to_wet(emc(variety, air_c, rh, eq))
    p_air = rh * saturation_vapour_pressure_hpa(air_c)
    p_grain = erh(variety, grain_c, wet_to_dry(m_wb), eq) * saturation_vapour_pressure_hpa(grain_c)
    name = "修正Henderson" if eq == "henderson" else "修正Chung-Pfost"
    return eq, name, emc_wb, p_air, p_grain


def drying_advice(*, variety, grain_mean_c, grain_moisture_wb, air_c, air_rh_pct, raining=False,
                  ventilating=False, params=None, extra_checks=()) -> Advice:
    """降水通风: the air's EMC (preferred equation) below the grain's moisture by ``vent_dry_emc_margin``, the grain
    above its safe moisture, and the air no warmer than the grain by more than the allowed rise."""
    p = params or DEFAULTS
    rh = min(max(air_rh_pct / 100.0, 1e-4), 0.9999)
    target = p["safe_moisture"].get(variety)
    eq, name, emc_wb, p_air, p_grain = _emc_numbers(variety, air_c, rh, grain_mean_c, grain_moisture_wb)
    rise = air_c - grain_mean_c
    margin = p["vent_dry_emc_margin"]
    numbers = {"equation": eq, "air_emc_wb": round(emc_wb, 2), "air_emc_db": round(wet_to_dry(emc_wb), 2),
               "grain_moisture_wb": round(grain_moisture_wb, 2), "target_moisture_wb": target,
               "temperature_rise_c": round(rise, 2), "allowed_rise_c": p["vent_dry_max_rise_c"],
               "air_vapour_pressure_hpa": round(p_air, 3), "grain_vapour_pressure_hpa": round(p_grain, 3)}
    needed = (target is not None and grain_moisture_wb > target,
              f"粮食水分 {grain_moisture_wb:.1f}% {'高于' if target is not None and grain_moisture_wb > target else '不高于'}"
              f"安全水分 {target if target is not None else '—'}%（湿基）"
              + ("，需要降水" if target is not None and grain_moisture_wb > target else "，无需降水"))
    checks = [
        (emc_wb <= grain_moisture_wb - margin, f"大气平衡水分 {emc_wb:.1f}%（{name}，湿基）"
         f"{'≤' if emc_wb <= grain_moisture_wb - margin else '>'} 粮食水分 {grain_moisture_wb:.1f}% − {margin:g}"
         f"（{'能' if emc_wb <= grain_moisture_wb - margin else '不能'}带走水分）"),
        (p_air < p_grain, f"大气水汽压 {p_air:.2f} hPa {'<' if p_air < p_grain else '≥'} 粮堆平衡水汽压 {p_grain:.2f} hPa"),
        (rise <= p["vent_dry_max_rise_c"], f"气温比粮温{'高' if rise > 0 else '低'} {abs(rise):.1f}℃"
         f"（允许粮温升高不超过 {p['vent_dry_max_rise_c']:g}℃）"),
        *_weather_checks(p, raining, air_rh_pct, air_c),
        *extra_checks,
    ]
    return _decide("drying", needed, checks, numbers, ventilating)


def conditioning_advice(*, variety, grain_mean_c, grain_moisture_wb, air_c, air_rh_pct, raining=False,
                        ventilating=False, params=None, extra_checks=()) -> Advice:
    """调质通风: over-dry grain (``vent_condition_margin`` points below its safe moisture) given moist air whose EMC is
    above the grain's moisture but not above the safe moisture, with cool grain (no mould risk)."""
    p = params or DEFAULTS
    rh = min(max(air_rh_pct / 100.0, 1e-4), 0.9999)
    target = p["safe_moisture"].get(variety)
    eq, name, emc_wb, p_air, p_grain = _emc_numbers(variety, air_c, rh, grain_mean_c, grain_moisture_wb)
    over_dry = target is not None and grain_moisture_wb < target - p["vent_condition_margin"]
    numbers = {"equation": eq, "air_emc_wb": round(emc_wb, 2), "grain_moisture_wb": round(grain_moisture_wb, 2),
               "target_moisture_wb": target, "air_vapour_pressure_hpa": round(p_air, 3),
               "grain_vapour_pressure_hpa": round(p_grain, 3)}
    needed = (over_dry, f"粮食水分 {grain_moisture_wb:.1f}% "
                        f"{'低于' if over_dry else '不低于'}安全水分 {target if target is not None else '—'}% − "
                        f"{p['vent_condition_margin']:g}（{'过干，可调质增湿' if over_dry else '无需调质'}）")
    wets = emc_wb > grain_moisture_wb
    checks = [
        (wets, f"大气平衡水分 {emc_wb:.1f}%（{name}）{'>' if wets else '≤'} 粮食水分 {grain_moisture_wb:.1f}%"
               f"（{'能' if wets else '不能'}增湿）"),
        (target is not None and emc_wb <= target, f"大气平衡水分 {emc_wb:.1f}% {'不超过' if target is not None and emc_wb <= target else '超过'}"
                                                  f"安全水分 {target}%（不致过湿）"),
        (grain_mean_c <= p["vent_condition_max_grain_c"], f"平均粮温 {grain_mean_c:.1f}℃ "
         f"{'≤' if grain_mean_c <= p['vent_condition_max_grain_c'] else '>'} {p['vent_condition_max_grain_c']:g}℃（增湿不致霉变）"),
        *_weather_checks(p, raining, air_rh_pct, air_c),
        *extra_checks,
    ]
    return _decide("conditioning", needed, checks, numbers, ventilating)


def surface_advice(*, top_c: float | None, bin_air_c: float | None, bin_air_rh: float | None, air_c: float,
                   air_rh_pct: float, raining=False, ventilating=False, season_change=False,
                   params=None, extra_checks=()) -> Advice:
    """排积热/防结露: the bin space (仓温 from the scan) much warmer than the outside air, or the bin air's dew point
    near the grain surface (the top layer) — ventilate the space above the grain with outside air whose dew point is
    below the grain surface, so it neither heats nor wets it."""
    p = params or DEFAULTS
    rh = min(max(air_rh_pct / 100.0, 1e-4), 0.9999)
    out_dew = dew_point_c(air_c, rh)
    numbers = {"bin_air_c": bin_air_c, "bin_air_rh_pct": bin_air_rh, "top_layer_c": top_c, "air_c": round(air_c, 2),
               "air_dew_point_c": round(out_dew, 2), "season_change": season_change}
    if top_c is None or bin_air_c is None:
        return Advice(action="not_needed", allowed=False, numbers=numbers, purpose="surface",
                      checks=[(False, "缺少仓温或表层粮温，无法判断积热与结露")])
    heat = bin_air_c - air_c
    bin_dew = dew_point_c(bin_air_c, min(max((bin_air_rh or 0) / 100.0, 1e-4), 0.9999)) if bin_air_rh else None
    numbers.update({"bin_minus_air_c": round(heat, 2), "bin_dew_point_c": round(bin_dew, 2) if bin_dew is not None else None,
                    "top_minus_air_c": round(top_c - air_c, 2)})
    hot_space = heat >= p["vent_heat_diff_c"]
    condensing = bin_dew is not None and bin_dew >= top_c - p["vent_dew_margin_c"]
    migration = season_change and top_c - air_c >= p["vent_start_diff_c"]
    reasons = []
    if hot_space:
        reasons.append(f"仓温 {bin_air_c:.1f}℃ 比气温高 {heat:.1f}℃（≥ {p['vent_heat_diff_c']:g}℃，有积热）")
    if condensing:
        reasons.append(f"仓内露点 {bin_dew:.1f}℃ 接近表层粮温 {top_c:.1f}℃（有结露危险）")
    if migration:
        reasons.append(f"季节交替，表层粮温比气温高 {top_c - air_c:.1f}℃（防止水分向表层转移结露）")
    needed = (bool(reasons), "；".join(reasons) if reasons else
              f"仓温 {bin_air_c:.1f}℃、表层粮温 {top_c:.1f}℃，无积热、无结露危险")
    checks = [
        (air_c < bin_air_c, f"气温 {air_c:.1f}℃ {'低于' if air_c < bin_air_c else '不低于'}仓温 {bin_air_c:.1f}℃"),
        (out_dew < top_c - p["vent_dew_margin_c"], f"大气露点 {out_dew:.1f}℃ {'低于' if out_dew < top_c - p['vent_dew_margin_c'] else '不低于'}"
                                                   f"表层粮温 {top_c:.1f}℃ − {p['vent_dew_margin_c']:g}（{'不会' if out_dew < top_c - p['vent_dew_margin_c'] else '会'}在粮面结露）"),
        *_weather_checks(p, raining, air_rh_pct, air_c),
        *extra_checks,
    ]
    return _decide("surface", needed, checks, numbers, ventilating)


def end_conditions(*, layer_means: list, grain_height_m: float, silo: bool, moisture_top: float | None = None,
                   moisture_bottom: float | None = None, params=None) -> list:
    """通风结束条件 from the temperature field: the largest temperature gradient between adjacent layers (per metre of
    grain), the top-to-bottom difference (房式仓 ≤ 3 ℃, 筒式仓 ≤ 10 ℃), and — given top and bottom moisture samples —
    the moisture gradient. Returns [(passed | None, sentence)]; None where it cannot be judged."""
    p = params or DEFAULTS
    means = [m for m in layer_means if m is not None]
    out = []
    layers = len(layer_means)
    spacing = grain_height_m / layers if layers else 0.0
    if len(means) >= 2 and spacing > 0:
        steps = [abs(a - b) / spacing for a, b in itertools.pairwise(layer_means)
                 if a is not None and b is not None]
        gradient = max(steps) if steps else 0.0
        ok = gradient <= p["vent_end_gradient_c_per_m"]
        out.append((ok, f"粮温梯度 {gradient:.2f}℃/m {'≤' if ok else '>'} {p['vent_end_gradient_c_per_m']:g}℃/m"))
        diff = abs(means[0] - means[-1])
        limit = p["vent_end_top_bottom_silo_c"] if silo else p["vent_end_top_bottom_c"]
        ok = diff <= limit
        out.append((ok, f"上层与底层粮温差 {diff:.1f}℃ {'≤' if ok else '>'} {limit:g}℃（{'筒式仓' if silo else '房式仓'}）"))
    else:
        out.append((None, "测温层数不足，无法计算粮温梯度"))
    if moisture_top is not None and moisture_bottom is not None and grain_height_m > spacing:
        height = grain_height_m - spacing  # between the top and the bottom layer
        mg = abs(moisture_top - moisture_bottom) / height
        ok = mg <= p["vent_end_moisture_gradient"]
        out.append((ok, f"水分梯度 {mg:.2f}%/m {'≤' if ok else '>'} {p['vent_end_moisture_gradient']:g}%/m"))
    else:
        out.append((None, "未提供上层与底层水分，无法判断水分梯度（≤ "
                          f"{p['vent_end_moisture_gradient']:g}%/m）"))
    return out


PRIORITY = ("drying", "cooling", "surface", "conditioning")


def gas_checks(*, o2=None, fumigation: dict | None = None, params=None) -> list:
    """Conditions the bin's atmosphere puts on any ventilation: not while a phosphine fumigation is holding its
    concentration (ventilate to 散气 once it has held long enough), not while a controlled atmosphere (低氧/缺氧) is
    being kept."""
    p = params or DEFAULTS
    out = []
    if fumigation is not None:
        done = fumigation["complete"] or fumigation["required_days"] is None
        out.append((done, f"磷化氢 {fumigation['ph3_ppm']:g} mL/m³："
                          + ("熏蒸已达密闭时间（或不宜熏蒸），可通风散气" if done else "正在熏蒸，未达密闭时间前不得通风")))
    if o2 is not None and o2 <= p["ca_low_o2_pct"]:
        out.append((False, f"氧气 {o2:g}%：正在气调储粮，通风将破坏气调"))
    return out


def ventilation_plan(*, variety: str, grain_mean_c: float, grain_moisture_wb: float, air_c: float,
                     air_rh_pct: float, raining: bool = False, ventilating: str = "", top_c=None, bin_air_c=None,
                     bin_air_rh=None, month: int | None = None, zone: int = 4, params: dict | None = None,
                     gas_checks=()) -> dict:
    """Every purpose judged at once; ``ventilating`` names the purpose running now ('' for none). The recommended
    purpose is the first allowed one in the order drying, cooling, surface, conditioning."""
    p = params or DEFAULTS
    z = ECO_ZONES[zone]
    season_change = month in z["change_months"] if month else False
    common = {"variety": variety, "grain_mean_c": grain_mean_c, "grain_moisture_wb": grain_moisture_wb,
              "air_c": air_c, "air_rh_pct": air_rh_pct, "raining": raining, "params": p,
              "extra_checks": tuple(gas_checks)}
    purposes = {
        "drying": drying_advice(**common, ventilating=ventilating == "drying"),
        "cooling": ventilation_advice(**common, ventilating=ventilating == "cooling"),
        "surface": surface_advice(top_c=top_c, bin_air_c=bin_air_c, bin_air_rh=bin_air_rh, air_c=air_c,
                                  air_rh_pct=air_rh_pct, raining=raining, ventilating=ventilating == "surface",
                                  season_change=season_change, params=p, extra_checks=tuple(gas_checks)),
        "conditioning": conditioning_advice(**common, ventilating=ventilating == "conditioning"),
    }
    best = next((purposes[k] for k in PRIORITY if purposes[k].allowed), None)
    running = purposes.get(ventilating)
    return {"purposes": purposes, "recommended": best, "running": running,
            "label": best.label if best else (running.label if running else "不宜通风"),
            "zone": {"number": zone, **z, "season_change": season_change, "cooling_season": month in z["cool_months"]
                     if month else None}}

# Labels shown through {% translate variable %}: listed literally so that makemessages finds them.
TRANSLATABLE = (
    gettext_noop("降温通风"),
    gettext_noop("降水通风"),
    gettext_noop("调质通风"),
    gettext_noop("排积热/防结露通风"),
    gettext_noop("建议开始降温通风"),
    gettext_noop("可继续降温通风"),
    gettext_noop("应停止降温通风"),
    gettext_noop("不宜降温通风"),
    gettext_noop("无需降温通风"),
    gettext_noop("建议开始降水通风"),
    gettext_noop("可继续降水通风"),
    gettext_noop("应停止降水通风"),
    gettext_noop("不宜降水通风"),
    gettext_noop("无需降水通风"),
    gettext_noop("建议开始调质通风"),
    gettext_noop("可继续调质通风"),
    gettext_noop("应停止调质通风"),
    gettext_noop("不宜调质通风"),
    gettext_noop("无需调质通风"),
    gettext_noop("建议开始排积热/防结露通风"),
    gettext_noop("可继续排积热/防结露通风"),
    gettext_noop("应停止排积热/防结露通风"),
    gettext_noop("不宜排积热/防结露通风"),
    gettext_noop("无需排积热/防结露通风"),
    gettext_noop("不宜通风"),
    gettext_noop("高寒干燥储粮区"),
    gettext_noop("低温干燥储粮区"),
    gettext_noop("低温高湿储粮区"),
    gettext_noop("中温干燥储粮区"),
    gettext_noop("中温高湿储粮区"),
    gettext_noop("中温低湿储粮区"),
    gettext_noop("高温高湿储粮区"),
)
