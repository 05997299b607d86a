"""What the warehouse page and the API show of a warehouse: its temperature field and ventilation advice."""

from dataclasses import asdict

import numpy as np
import orjson
from django.utils import timezone

from smartgov.core.errors import Conflict, InvalidInput

from . import selectors, services
from .models import Scan, Warehouse
from .ventilation import ventilation_advice

TREND_SCANS = 90


def _clean(values):
    return [None if not np.isfinite(v) else round(float(v), 2) for v in values]


def field_payload(wh: Warehouse, scan: Scan | None = None) -> dict:
    """The latest scan as layers of rows × cols (None where a point has no valid reading), with the hot
    spots and faulty points marked, the layer statistics, and the trend of recent scans."""
    scan = scan or selectors.latest_scan(wh.pk)
    trend = list(Scan.objects.filter(warehouse=wh).order_by("-taken_at").values_list(
        "taken_at", "t_max", "t_mean", "t_min", "air_temp", "out_temp")[:TREND_SCANS])[::-1]
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
    return out


def ventilation_for(wh: Warehouse, *, air_c=None, air_rh=None, raining=False, ventilating=False) -> dict:
    """Advice for the warehouse from its latest scan; the outside air defaults to that scan's reading."""
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
    advice = ventilation_advice(variety=lot.variety, grain_mean_c=scan.t_mean, grain_moisture_wb=moisture,
                                air_c=air_c, air_rh_pct=air_rh, raining=raining, ventilating=ventilating,
                                params=services.current_parameters())
    data = asdict(advice)
    data["label"] = advice.label
    data["checks"] = [{"passed": ok, "text": text} for ok, text in advice.checks]
    data["scan_taken_at"] = f"{timezone.localtime(scan.taken_at):%Y-%m-%d %H:%M}"
    data["variety"] = lot.get_variety_display()
    return data
