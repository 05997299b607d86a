"""What the warehouse page and the API show of a warehouse: its temperature field and ventilation advice."""

from dataclasses import asdict

import numpy as np
import orjson
from django.utils import timezone

from smartgov.core.errors import Conflict, InvalidInput

from . import selectors, services
from .analysis import evaluate_gases, fumigation_status, grain_safety, inspection_plan
from .models import Scan, Warehouse, WarehouseKind
from .ventilation import ECO_ZONES, PURPOSES, end_conditions, gas_checks, ventilation_plan, zone_for

TREND_SCANS = 90


def _clean(values):
    return [None if not np.isfinite(v) else round(float(v), 2) for v in values]


def field_payload(wh: Warehouse, scan: Scan | None = None) -> dict:
    """The latest scan as layers of rows × cols (None where a point has no valid reading), with the hot
    spots and faulty points marked, the layer statistics, and the trend of recent scans."""
    scan = scan or selectors.latest_scan(wh.pk)
    trend = list(Scan.objects.filter(warehouse=wh).order_by("-taken_at").values_list(
        "taken_at", "t_max", "t_mean", "t_min", "air_temp", "out_temp", "ph3")[:TREND_SCANS])[::-1]
    out = {"warehouse": {"id": wh.pk, "code": wh.code, "name": wh.name, "depot": wh.depot.name,
                         "rows": wh.rows, "cols": wh.cols, "layers": wh.layers, "kind": wh.get_kind_display(),
                         "length_m": wh.length_m, "width_m": wh.width_m, "grain_height_m": wh.grain_height_m,
                         # each point's x, y, z in metres (z from the floor), in point-index order
                         "positions": np.round(wh.positions(), 2).tolist()},
           "scan": None,
           "trend": {"t": [timezone.localtime(t).isoformat() for t, *_ in trend], "max": [r[1] for r in trend],
                     "mean": [r[2] for r in trend], "min": [r[3] for r in trend], "air": [r[4] for r in trend],
                     "out": [r[5] for r in trend]}}
    if scan is None:
        return out
    temps = scan.temperature_array()
    hot = orjson.loads(scan.hot)
    faulty = orjson.loads(scan.faulty)
    per_layer = wh.rows * wh.cols
    shown = temps.astype(np.float64).copy()
    for f in faulty:
        shown[f["i"]] = np.nan
    layers = [np.array(_clean(shown[k * per_layer:(k + 1) * per_layer]), dtype=object).reshape(wh.rows, wh.cols)
              .tolist() for k in range(wh.layers)]

    def where(i):
        layer, rest = divmod(i, per_layer)
        row, col = divmod(rest, wh.cols)
        return {"layer": layer, "row": row, "col": col}

    out["scan"] = {
        "id": scan.pk, "taken_at": timezone.localtime(scan.taken_at).isoformat(),
        "taken_at_display": f"{timezone.localtime(scan.taken_at):%Y-%m-%d %H:%M}", "t_max": scan.t_max, "t_min": scan.t_min,
        "t_mean": scan.t_mean, "air_temp": scan.air_temp, "air_rh": scan.air_rh, "out_temp": scan.out_temp,
        "out_rh": scan.out_rh, "o2": scan.o2, "co2": scan.co2, "ph3": scan.ph3, "moisture": scan.moisture,
        "temp_class": scan.temp_class, "temp_class_label": scan.get_temp_class_display(),
        "next_check_days": scan.next_check_days, "layer_stats": orjson.loads(scan.layer_stats),
        "layers": layers,
        "hot": [{**h, **where(h["i"])} for h in hot],
        "faulty": [{**f, **where(f["i"])} for f in faulty],
    }
    out["scan"].update(gases_and_inspection(wh, scan, hot=bool(hot), ph3_history=[(r[0], r[6]) for r in trend]))
    return out


def gases_and_inspection(wh: Warehouse, scan: Scan, *, hot: bool, ph3_history: list) -> dict:
    """The scan's gases judged (entry safety, controlled atmosphere, fumigation CT) and the inspection intervals
    (grain temperature, pests, moisture; the zone's season-change months)."""
    params = services.current_parameters()
    lot = selectors.active_lots([wh.pk]).get(wh.pk)
    moisture = scan.moisture if scan.moisture is not None else (lot.moisture if lot else None)
    safety = grain_safety(lot.variety if lot else None, moisture, params)
    zone = zone_for(params, wh.depot.code)
    month = timezone.localtime(scan.taken_at).month
    fumigation = fumigation_status(ph3_history, grain_c=scan.t_mean, p=params)
    if fumigation:
        fumigation["since"] = f"{timezone.localtime(fumigation['since']):%Y-%m-%d %H:%M}"
    gases = evaluate_gases(o2=scan.o2, co2=scan.co2, ph3=scan.ph3, p=params)
    return {
        "gases": gases,
        "entry_safe": None if scan.o2 is None and scan.ph3 is None and scan.co2 is None else not any(
            g["level"] == "danger" for g in gases),
        "entry_limits": {"o2_min_pct": params["o2_entry_min_pct"], "ph3_max_ppm": params["ph3_entry_max_ppm"],
                         "co2_max_ppm": params["co2_entry_max_ppm"]},
        "fumigation": fumigation,
        "inspection": inspection_plan(safety=safety, t_max=scan.t_max, has_hot_spot=hot,
                                      season_change=month in ECO_ZONES[zone]["change_months"], p=params),
    }


def _advice_dict(advice) -> dict:
    data = asdict(advice)
    data["label"] = advice.label
    data["name"] = PURPOSES[advice.purpose][0]
    data["checks"] = [{"passed": ok, "text": text} for ok, text in advice.checks]
    return data


def ventilation_for(wh: Warehouse, *, air_c=None, air_rh=None, raining=False, ventilating=False, purpose="",
                    moisture_top=None, moisture_bottom=None) -> dict:
    """Advice for the warehouse from its latest scan, every ventilation purpose judged (降温、降水、调质、排积热/防结露)
    with the end conditions; the outside air defaults to that scan's reading. The top-level ``action``/``checks``/
    ``numbers`` are those of the recommended purpose (or the one running, or cooling)."""
    if purpose and purpose not in PURPOSES:
        raise InvalidInput("未知的通风目的", code="invalid_purpose", detail={"purpose": purpose,
                                                                       "allowed": list(PURPOSES)})
    running = purpose or ("cooling" if ventilating else "")
    for name, value in (("moisture_top", moisture_top), ("moisture_bottom", moisture_bottom)):
        if value is not None and not 3 <= value <= 40:
            raise InvalidInput("分层水分超出范围（3～40%）", code="invalid_moisture", detail={name: value})
    scan = selectors.latest_scan(wh.pk)
    if scan is None or scan.t_mean is None:
        raise Conflict("该仓房还没有粮情检测数据", code="no_scan")
    lot = selectors.active_lots([wh.pk]).get(wh.pk)
    if lot is None:
        raise Conflict("该仓房没有在储粮食", code="no_active_lot")
    air_c = scan.out_temp if air_c is None else air_c
    air_rh = scan.out_rh if air_rh is None else air_rh
    if air_c is None or air_rh is None:
        raise InvalidInput("缺少大气温湿度，请提供 air_c 和 air_rh", code="air_required")
    if not (-50 <= air_c <= 60 and 0 < air_rh <= 100):
        raise InvalidInput("大气温湿度超出范围", code="invalid_air")
    moisture = scan.moisture if scan.moisture is not None else lot.moisture
    params = services.current_parameters()
    layer_means = [row[2] for row in orjson.loads(scan.layer_stats)]
    zone = zone_for(params, wh.depot.code)
    fumigation = None
    if scan.ph3 is not None and scan.ph3 > params["ph3_entry_max_ppm"]:
        history = list(Scan.objects.filter(warehouse=wh).order_by("-taken_at").values_list(
            "taken_at", "ph3")[:TREND_SCANS])[::-1]
        fumigation = fumigation_status(history, grain_c=scan.t_mean, p=params)
    plan = ventilation_plan(gas_checks=gas_checks(o2=scan.o2, fumigation=fumigation, params=params),
                            variety=lot.variety, grain_mean_c=scan.t_mean, grain_moisture_wb=moisture,
                            air_c=air_c, air_rh_pct=air_rh, raining=raining, ventilating=running,
                            top_c=layer_means[0] if layer_means else None, bin_air_c=scan.air_temp,
                            bin_air_rh=scan.air_rh, month=timezone.localtime(scan.taken_at).month, zone=zone,
                            params=params)
    main = plan["recommended"] or plan["running"] or plan["purposes"]["cooling"]
    data = _advice_dict(main)
    data["label"] = plan["label"]
    data["purposes"] = [_advice_dict(a) for a in plan["purposes"].values()]
    data["cooling"] = _advice_dict(plan["purposes"]["cooling"])
    data["ends"] = [{"passed": ok, "text": text} for ok, text in end_conditions(
        layer_means=layer_means, grain_height_m=wh.grain_height_m,
        silo=wh.kind != WarehouseKind.FLAT, moisture_top=moisture_top, moisture_bottom=moisture_bottom,
        params=params)]
    data["zone"] = plan["zone"]
    data["bin_air"] = {"air_temp": scan.air_temp, "air_rh": scan.air_rh,
                       "top_layer_c": layer_means[0] if layer_means else None}
    data["scan_taken_at"] = f"{timezone.localtime(scan.taken_at):%Y-%m-%d %H:%M}"
    data["variety"] = lot.get_variety_display()
    return data
