"""Pages: the supervisor's view of all depots, a depot overview, the warehouse page (temperature field
heatmaps per layer, cross-section, trends, alerts, ventilation advice), and prices.
Views validate and call one service; permissions through the selectors (scope) and require()."""

from datetime import timedelta

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from smartgov.core.errors import DomainError, InvalidInput, NotFound
from smartgov.core.permissions import has_perm, require

from . import selectors, services
from .api import parse_price_csv
from .models import AlertStatus, Price, StockCheck, Variety
from .ventilation import PURPOSES
from .views_data import field_payload, ventilation_for


def _warehouse_rows(warehouses):
    """Each warehouse with its latest scan, active lot, rotation status and open alerts (fixed queries)."""
    warehouses = list(warehouses)
    ids = [w.pk for w in warehouses]
    latest = selectors.latest_scans(ids)
    lots = selectors.active_lots(ids)
    open_alerts: dict[int, list] = {}
    for alert in selectors.Alert.objects.filter(warehouse_id__in=ids).exclude(status=AlertStatus.RESOLVED):
        open_alerts.setdefault(alert.warehouse_id, []).append(alert)
    rows = []
    for w in warehouses:
        scan, lot = latest.get(w.pk), lots.get(w.pk)
        rows.append({
            "warehouse": w, "scan": scan, "lot": lot, "alerts": open_alerts.get(w.pk, []),
            "due": scan.taken_at + timedelta(days=scan.next_check_days) if scan else None,
            "rotation": selectors.rotation_status(lot, w.depot.region) if lot else None,
            "fill_pct": round(float(lot.tonnes) / float(w.capacity_t) * 100) if lot and w.capacity_t else 0,
        })
    return rows


@login_required
def supervision(request):
    """粮食监管: every depot in the user's scope with alerts, stock by variety and owner, book against
    actual, and rotation due."""
    depots = list(selectors.depots_for(request.user))
    warehouses = selectors.warehouses_for(request.user)
    rows = _warehouse_rows(warehouses)
    by_depot = {d.pk: {"depot": d, "warehouses": 0, "tonnes": 0.0, "alerts": 0, "t_max": None} for d in depots}
    for r in rows:
        entry = by_depot.get(r["warehouse"].depot_id)
        if entry is None:
            continue
        entry["warehouses"] += 1
        entry["tonnes"] += float(r["lot"].tonnes) if r["lot"] else 0.0
        entry["alerts"] += len(r["alerts"])
        if r["scan"] and r["scan"].t_max is not None:
            entry["t_max"] = max(entry["t_max"] or -99, r["scan"].t_max)
    alerts = list(selectors.alerts_for(request.user, open_only=True)[:50])
    stock = selectors.stock_by_variety_owner(request.user)
    checks = list(selectors.scope(request.user, StockCheck.objects.select_related("warehouse", "warehouse__depot"),
                                  field="warehouse__depot__department")[:20])
    rotation = sorted((r for r in rows if r["rotation"] and r["rotation"]["state"] != "ok"),
                      key=lambda r: r["rotation"]["deadline"])
    values = selectors.stock_value(stock)
    return render(request, "grain/supervision.html", {
        "depots": list(by_depot.values()), "alerts": alerts, "stock": stock, "checks": checks, "rotation": rotation,
        "totals": {"depots": len(depots), "warehouses": len(rows), "alerts": sum(len(r["alerts"]) for r in rows),
                   "tonnes": sum(float(r["lot"].tonnes) for r in rows if r["lot"]),
                   "value": values["total"]},
        "stock_chart": selectors.stock_chart(stock),
    })


@login_required
def depot(request, depot_id: int):
    d = selectors.get_depot_for(request.user, depot_id)
    rows = _warehouse_rows(selectors.warehouses_for(request.user).filter(depot=d))
    return render(request, "grain/depot.html", {"depot": d, "rows": rows, "now": timezone.now()})


@login_required
def warehouse(request, warehouse_id: int):
    wh = selectors.get_warehouse_for(request.user, warehouse_id)
    field = field_payload(wh)
    advice, advice_error = None, None
    form = {key: request.GET.get(key, "").strip() for key in ("air_c", "air_rh", "purpose", "moisture_top",
                                                                "moisture_bottom")}
    form["raining"] = request.GET.get("raining") == "1"

    def number(key):
        return float(form[key]) if form[key] else None

    try:
        advice = ventilation_for(wh, air_c=number("air_c"), air_rh=number("air_rh"), raining=form["raining"],
                                 purpose=form["purpose"], moisture_top=number("moisture_top"),
                                 moisture_bottom=number("moisture_bottom"))
    except DomainError as exc:
        advice_error = exc.message
    except ValueError:
        advice_error = _("大气温湿度应为数值")
    lot = selectors.active_lots([wh.pk]).get(wh.pk)
    return render(request, "grain/warehouse.html", {
        "wh": wh, "field": field, "lot": lot, "advice": advice, "advice_error": advice_error, "form": form,
        "purposes": [(k, name) for k, (name, _) in PURPOSES.items()],
        "alerts": list(wh.alerts.select_related("handled_by").order_by("-last_at")[:20]),
        "can_handle": has_perm(request.user, "grain.handle_alert"),
        "rotation": selectors.rotation_status(lot, wh.depot.region) if lot else None,
        "movements": list(wh.movements.order_by("-at")[:10]), "checks": list(wh.stock_checks.all()[:5]),
    })


@login_required
@require_POST
def handle_alert(request, alert_id: int):
    alert = selectors.alerts_for(request.user).filter(pk=alert_id).first()
    if alert is None:
        raise NotFound("没有这条预警", code="alert_not_found")
    try:
        services.handle_alert(actor=request.user, alert=alert, status=request.POST.get("status", ""),
                              note=request.POST.get("note", ""))
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("预警状态已更新"))
    return redirect("grain:warehouse", alert.warehouse_id)


PARAMETER_LABELS = {
    "hot_margin_c": "发热点：高于本层平均（℃）", "rise_rate_c_per_day": "升温过快（℃/天）",
    "rise_min_hours": "升温速率的最短间隔（小时）", "valid_min_c": "有效读数下限（℃）", "valid_max_c": "有效读数上限（℃）",
    "jump_c": "跳变（℃/次）", "stuck_scans": "读数不变次数", "stuck_layer_change_c": "同期本层均温变化（℃）",
    "high_temp_c": "粮温过高（℃）", "co2_alert_ppm": "二氧化碳预警（ppm）", "low_mean_c": "低温：平均≤（℃）",
    "low_max_c": "低温：最高≤（℃）", "quasi_low_mean_c": "准低温：平均≤（℃）", "quasi_low_max_c": "准低温：最高≤（℃）",
    "semi_safe_margin": "半安全水分：高出安全水分（百分点）", "vent_start_diff_c": "开始通风温差（℃）",
    "vent_continue_diff_c": "继续通风温差（℃）", "vent_fog_rh": "雾：相对湿度≥（%）", "vent_min_air_c": "通风最低气温（℃）",
    "vent_dry_emc_margin": "降水通风：大气平衡水分低于粮食水分（百分点）",
    "vent_dry_max_rise_c": "降水通风：允许粮温升高（℃）",
    "vent_condition_margin": "调质通风：低于安全水分（百分点）", "vent_condition_max_grain_c": "调质通风：粮温≤（℃）",
    "vent_heat_diff_c": "排积热：仓温高于气温（℃）", "vent_dew_margin_c": "防结露：露点低于粮面（℃）",
    "vent_end_gradient_c_per_m": "结束：粮温梯度≤（℃/m）", "vent_end_top_bottom_c": "结束：房式仓上下层温差≤（℃）",
    "vent_end_top_bottom_silo_c": "结束：筒式仓上下层温差≤（℃）", "vent_end_moisture_gradient": "结束：水分梯度≤（%/m）",
    "eco_zone": "储粮生态区（1～7）",
    "o2_entry_min_pct": "进仓：氧气≥（%）", "ph3_entry_max_ppm": "进仓：磷化氢≤（mL/m³）",
    "co2_entry_max_ppm": "进仓：二氧化碳≤（ppm）", "ca_kill_o2_pct": "缺氧储藏：氧气≤（%）",
    "ca_low_o2_pct": "低氧储藏：氧气≤（%）", "fumigation_min_ph3_ppm": "熏蒸：磷化氢保持≥（mL/m³）",
    "check_safe_warm_days": "安全水分粮、粮温>15℃的检测周期（天）",
}


@login_required
def parameters(request):
    """粮情分析与通风参数: everyone in grain sees them; supervisors and admins change them."""
    require(request.user, "grain.view")
    can_edit = has_perm(request.user, "grain.set_parameters")
    if request.method == "POST":
        changes, errors = {}, []
        current = services.current_parameters()
        for key in PARAMETER_LABELS:
            raw = request.POST.get(key, "").strip()
            if raw == "":
                continue
            try:
                value = float(raw)
            except ValueError:
                errors.append(PARAMETER_LABELS[key])
                continue
            if key in ("stuck_scans", "eco_zone", "check_safe_warm_days"):
                value = int(value)
            if value != current[key]:
                changes[key] = value
        if errors:
            messages.error(request, _("以下参数应为数值：") + "、".join(errors))
        elif changes:
            try:
                services.set_parameters(actor=request.user, changes=changes)
            except DomainError as exc:
                messages.error(request, exc.message)
            else:
                messages.success(request, _("参数已保存"))
        return redirect("grain:parameters")
    values = services.current_parameters()
    return render(request, "grain/parameters.html", {
        "rows": [(k, label, values[k]) for k, label in PARAMETER_LABELS.items()], "can_edit": can_edit,
        "safe_moisture": [(Variety(v).label, m) for v, m in values["safe_moisture"].items()],
    })


@login_required
@require_POST
def import_prices(request):
    """Upload a price CSV (品种,地区,日期,元/吨) from the prices page."""
    upload = request.FILES.get("file")
    try:
        if upload is None:
            raise InvalidInput("请选择CSV文件", code="file_required")
        raw = upload.read(5_000_000)
        try:
            text = raw.decode("utf-8-sig")
        except UnicodeDecodeError:
            text = raw.decode("gbk", errors="replace")

        require(request.user, "grain.import_prices")
        count = services.import_prices(actor=request.user, rows=parse_price_csv(text))
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("已导入 %(n)s 条价格") % {"n": count})
    return redirect("grain:prices")


@login_required
def prices(request):
    """粮食价格: trends by variety and region, and the value of the grain in store at the latest prices."""
    if not has_perm(request.user, "grain.view"):
        raise PermissionDenied
    series: dict[str, dict] = {}
    for p in Price.objects.order_by("on"):
        key = f"{p.get_variety_display()}·{p.region}"
        s = series.setdefault(key, {"name": key, "data": []})
        s["data"].append([p.on.isoformat(), float(p.yuan_per_t)])
    stock = selectors.stock_by_variety_owner(request.user)
    return render(request, "grain/prices.html", {
        "series": list(series.values()), "values": selectors.stock_value(stock), "varieties": Variety.choices,
        "can_import": has_perm(request.user, "grain.import_prices"),
    })
