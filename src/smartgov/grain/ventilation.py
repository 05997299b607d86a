"""Equilibrium moisture content (平衡水分) and cooling-ventilation advice (降温通风建议).

Sorption equations of ASAE D245.6 (ASABE Standard D245.6, "Moisture Relationships of Plant-Based
Agricultural Products", 2007), with M in % dry basis, RH as a fraction and T in °C:

- modified Henderson (MHE):   RH = 1 − exp[−A (T + C) M^B]     ⇒ M = [ln(1 − RH) / (−A (T + C))]^(1/B)
- modified Chung-Pfost (MCPE): RH = exp[−A / (T + C) · exp(−B M)] ⇒ M = −(1/B) ln[−(T + C) ln(RH) / A]

Coefficients below are the D245 table values for the listed products (desorption/adsorption pooled),
as reproduced in Brooker, Bakker-Arkema & Hall, *Drying and Storage of Grains and Oilseeds* (1992),
table 3.x; soybean is given for the Henderson form only.

Ventilation rules follow LS/T 1202-2002 储粮机械通风技术规程 practice (parameters editable):
start cooling when mean grain temperature − air temperature ≥ 8 °C, continue while ≥ 4 °C; never in
rain or fog; and only with air that will not wet the grain — the air's water-vapour pressure must be
below the grain's equilibrium vapour pressure (大气绝对湿度 < 粮食平衡绝对湿度).
"""

import math
from dataclasses import dataclass, field

HENDERSON = {  # A, B, C
    "corn": (8.6541e-5, 1.8634, 49.810),
    "wheat": (2.3007e-5, 2.2857, 55.815),
    "paddy": (4.1276e-5, 2.1191, 49.828),
    "soybean": (30.5327e-5, 1.2164, 134.136),
}
CHUNG_PFOST = {  # A, B, C
    "corn": (312.40, 0.18661, 35.703),
    "wheat": (610.34, 0.15526, 93.213),
    "paddy": (594.61, 0.21732, 35.703),
}


def henderson_emc(variety: str, t_c: float, rh: float) -> float:
    """Equilibrium moisture (% d.b.) by the modified Henderson equation; ``rh`` a fraction in (0, 1)."""
    a, b, c = HENDERSON[variety]
    return (math.log(1.0 - rh) / (-a * (t_c + c))) ** (1.0 / b)


def henderson_erh(variety: str, t_c: float, m_db: float) -> float:
    a, b, c = HENDERSON[variety]
    return 1.0 - math.exp(-a * (t_c + c) * m_db ** b)


def chung_pfost_emc(variety: str, t_c: float, rh: float) -> float:
    """Equilibrium moisture (% d.b.) by the modified Chung-Pfost equation."""
    a, b, c = CHUNG_PFOST[variety]
    return -(1.0 / b) * math.log(-(t_c + c) * math.log(rh) / a)


def chung_pfost_erh(variety: str, t_c: float, m_db: float) -> float:
    a, b, c = CHUNG_PFOST[variety]
    return math.exp(-a / (t_c + c) * math.exp(-b * m_db))


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


@dataclass
class Advice:
    action: str  # "start" | "continue" | "stop" | "not_advised"
    allowed: bool
    checks: list = field(default_factory=list)  # [(passed, sentence)]
    numbers: dict = field(default_factory=dict)

    @property
    def label(self) -> str:
        return {"start": "建议开始降温通风", "continue": "可继续通风", "stop": "应停止通风",
                "not_advised": "不宜通风"}[self.action]


def ventilation_advice(*, variety: str, grain_mean_c: float, grain_moisture_wb: float, air_c: float,
                       air_rh_pct: float, raining: bool = False, ventilating: bool = False,
                       params: dict | None = None) -> Advice:
    """Whether cooling ventilation may start (or continue), with every number behind the answer."""
    from .analysis import DEFAULTS

    p = params or DEFAULTS
    rh = min(max(air_rh_pct / 100.0, 1e-4), 0.9999)
    m_db = wet_to_dry(grain_moisture_wb)
    diff = grain_mean_c - air_c
    threshold = p["vent_continue_diff_c"] if ventilating else p["vent_start_diff_c"]
    equations = {}
    if variety in HENDERSON:
        equations["henderson"] = (henderson_emc(variety, air_c, rh), henderson_erh(variety, grain_mean_c, m_db))
    if variety in CHUNG_PFOST:
        equations["chung_pfost"] = (chung_pfost_emc(variety, air_c, rh),
                                    chung_pfost_erh(variety, grain_mean_c, m_db))
    # the grain's equilibrium vapour pressure: the lower estimate of the equations (the cautious one)
    grain_erh = min(erh for _, erh in equations.values()) if equations else None
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
    for name, (emc_db, erh) in equations.items():
        numbers[f"{name}_emc_at_air_wb"] = round(dry_to_wet(emc_db), 2)
        numbers[f"{name}_grain_erh_pct"] = round(erh * 100, 1)
    checks = [
        (diff >= threshold, f"粮温与气温差 {diff:.1f}℃ {'≥' if diff >= threshold else '<'} {threshold:g}℃"
                            f"（{'继续' if ventilating else '开始'}通风条件）"),
        (not raining, "无降雨" if not raining else "正在降雨，不得通风"),
        (air_rh_pct < p["vent_fog_rh"], f"大气相对湿度 {air_rh_pct:.0f}%"
                                        f"{'，无雾' if air_rh_pct < p['vent_fog_rh'] else '，雾天不得通风'}"),
        (air_c >= p["vent_min_air_c"], f"气温 {air_c:.1f}℃ 不低于 {p['vent_min_air_c']:g}℃"),
    ]
    if p_grain is None:
        checks.append((False, "该品种没有平衡水分方程参数，无法判断是否增湿"))
    else:
        dry = p_air < p_grain
        checks.append((dry, f"大气水汽压 {p_air:.2f} hPa {'<' if dry else '≥'} 粮堆平衡水汽压 {p_grain:.2f} hPa"
                            f"（{'不会' if dry else '会'}使粮食增湿）"))
    allowed = all(ok for ok, _ in checks)
    action = ("continue" if ventilating else "start") if allowed else ("stop" if ventilating else "not_advised")
    return Advice(action=action, allowed=allowed, checks=checks, numbers=numbers)
