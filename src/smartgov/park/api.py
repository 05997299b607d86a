"""智慧园区 API: space, enterprises, leases and bills, devices (provisioned on the shared IoT layer),
telemetry history, alarm rules (JSON import/export), alarms, energy statements, visitors (pre-registration,
the pass token, gate check-in/out, the day's log)."""

from datetime import date, datetime, timedelta

from django.http import HttpResponse
from django.utils import timezone
from ninja import Body, File, Router, Status
from ninja.files import UploadedFile
from ninja.pagination import paginate

from smartgov.core.errors import InvalidInput, NotFound
from smartgov.core.pagination import PageNumber
from smartgov.core.permissions import require
from smartgov.iot import selectors as iot_selectors
from smartgov.iot import services as iot_services
from smartgov.iot.models import Alarm, Device
from smartgov.iot.readings import telemetry_topic

from . import excel, selectors, services
from . import schemas as s
from .models import Building, Lease, Unit

router = Router(tags=["智慧园区 park"])
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@router.get("/parks", response=list[s.ParkOut], summary="园区列表")
def list_parks(request):
    return list(selectors.parks_for(request.user))


@router.post("/parks/{park_id}/buildings", response={201: s.BuildingOut}, summary="新建楼栋（含楼层）")
def create_building(request, park_id: int, payload: s.BuildingIn):
    park = selectors.get_park_for(request.user, park_id)
    return Status(201, services.create_building(actor=request.user, park=park, code=payload.code, name=payload.name,
                                                floors=payload.floors))


@router.post("/parks/{park_id}/units", response={201: s.UnitOut}, summary="新建房源单元")
def create_unit(request, park_id: int, payload: s.UnitIn):
    park = selectors.get_park_for(request.user, park_id)
    building = Building.objects.filter(park=park, code=payload.building).first()
    floor = building.floors.filter(number=payload.floor).first() if building else None
    if floor is None:
        raise NotFound("没有这个楼层", code="floor_not_found")
    return Status(201, services.create_unit(actor=request.user, floor=floor, code=payload.code, area=payload.area,
                                            use=payload.use, geometry=payload.geometry))


@router.get("/parks/{park_id}/enterprises", response=list[s.EnterpriseOut], summary="入驻企业")
@paginate(PageNumber)
def list_enterprises(request, park_id: int):
    park = selectors.get_park_for(request.user, park_id)
    return park.enterprises.all()


@router.post("/parks/{park_id}/enterprises", response={201: s.EnterpriseOut}, summary="企业入驻登记")
def register_enterprise(request, park_id: int, payload: s.EnterpriseIn):
    park = selectors.get_park_for(request.user, park_id)
    return Status(201, services.register_enterprise(actor=request.user, park=park, **payload.dict()))


@router.post("/parks/{park_id}/leases", response={201: s.LeaseOut}, summary="签订租赁合同（生成全部账单）")
def create_lease(request, park_id: int, payload: s.LeaseIn):
    park = selectors.get_park_for(request.user, park_id)
    ent = park.enterprises.filter(pk=payload.enterprise).first()
    if ent is None:
        raise NotFound("没有这家企业", code="enterprise_not_found")
    units = list(Unit.objects.filter(pk__in=payload.units, floor__building__park=park))
    if len(units) != len(set(payload.units)):
        raise InvalidInput("单元不属于本园区", code="unit_out_of_park")
    lease = services.create_lease(actor=request.user, park=park, enterprise=ent, code=payload.code, units=units,
                                  start_date=payload.start_date, end_date=payload.end_date,
                                  monthly_rent=payload.monthly_rent, deposit=payload.deposit,
                                  rent_free=payload.rent_free, escalation_pct=payload.escalation_pct,
                                  escalation_every_months=payload.escalation_every_months)
    return Status(201, Lease.objects.prefetch_related("bills").get(pk=lease.pk))


@router.post("/parks/{park_id}/leases/import", response={201: s.LeaseImportOut},
             summary="从Excel导入存量租赁合同（全部成功或全部不导入，逐行报错）")
def import_leases(request, park_id: int, file: File[UploadedFile]):
    park = selectors.get_park_for(request.user, park_id)
    if file.size > excel.MAX_BYTES:
        raise InvalidInput("文件超过 5 MB", code="file_too_large")
    return Status(201, excel.import_leases(actor=request.user, park=park, data=file.read()))


@router.get("/lease-template.xlsx", summary="租赁合同导入模板（Excel）")
def lease_template(request):
    resp = HttpResponse(excel.lease_template(), content_type=XLSX)
    resp["Content-Disposition"] = 'attachment; filename="park-leases.xlsx"'
    return resp


@router.get("/parks/{park_id}/leases", response=list[s.LeaseOut], summary="租赁合同与账单")
@paginate(PageNumber)
def list_leases(request, park_id: int):
    park = selectors.get_park_for(request.user, park_id)
    return selectors.active_leases(park).prefetch_related("bills")


@router.post("/bills/{bill_id}/payments", response=s.BillOut, summary="缴费登记")
def pay_bill(request, bill_id: int, payload: s.PaymentIn):
    bill = selectors.bills_for(request.user).filter(pk=bill_id).first()
    if bill is None:
        raise NotFound("没有这张账单", code="bill_not_found")
    return services.record_payment(actor=request.user, bill=bill, amount=payload.amount)


@router.get("/parks/{park_id}/arrears", response=list[s.BillOut], summary="欠费账单")
def arrears(request, park_id: int):
    park = selectors.get_park_for(request.user, park_id)
    return list(selectors.arrears(park, today=timezone.localdate()))


def _device_for(request, device_id: int, park) -> Device:
    device = selectors.park_devices(park).filter(pk=device_id).first()
    if device is None:
        raise NotFound("没有这个设备", code="device_not_found")
    return device


@router.post("/parks/{park_id}/devices", response={201: s.DeviceCreated}, summary="设备接入（返回一次性密码）")
def provision_device(request, park_id: int, payload: s.DeviceIn):
    park = selectors.get_park_for(request.user, park_id)
    building = Building.objects.filter(park=park, pk=payload.building).first() if payload.building else None
    unit = Unit.objects.filter(floor__building__park=park, pk=payload.unit).first() if payload.unit else None
    if (payload.building and building is None) or (payload.unit and unit is None):
        raise NotFound("没有这个楼栋或单元", code="location_not_found")
    device, secret = services.provision_device(actor=request.user, park=park, kind=payload.kind, code=payload.code,
                                               name=payload.name, building=building, unit=unit)
    device.secret, device.topic = secret, telemetry_topic("smartgov", device.code)
    return Status(201, device)


@router.get("/parks/{park_id}/devices", response=list[s.DeviceOut], summary="设备与最新状态")
@paginate(PageNumber)
def list_devices(request, park_id: int):
    return selectors.park_devices(selectors.get_park_for(request.user, park_id))


@router.get("/parks/{park_id}/devices/{device_id}/history", response=list[s.HistoryPoint],
            summary="遥测历史（降采样）")
def device_history(request, park_id: int, device_id: int, key: str, start: datetime | None = None,
                   end: datetime | None = None, points: int = 200):
    park = selectors.get_park_for(request.user, park_id)
    device = _device_for(request, device_id, park)
    end = end or timezone.now()
    start = start or end - timedelta(days=1)
    return iot_selectors.history(device, key, start=start, end=end, buckets=points)


@router.get("/parks/{park_id}/alarms", response=list[s.AlarmOut], summary="未消除的告警")
def list_alarms(request, park_id: int):
    park = selectors.get_park_for(request.user, park_id)
    return [a for a in iot_selectors.open_alarms(app="park", department_path=park.department.path, limit=500)
            if a.device.tags.get("park") == str(park.id)]


@router.post("/parks/{park_id}/alarms/{alarm_id}/acknowledge", response=s.AlarmOut, summary="确认告警")
def acknowledge_alarm(request, park_id: int, alarm_id: int):
    park = selectors.get_park_for(request.user, park_id)
    alarm = Alarm.objects.select_related("rule", "device", "department").filter(
        pk=alarm_id, app="park", department__path__startswith=park.department.path).first()
    if alarm is None:
        raise NotFound("没有这条告警", code="alarm_not_found")
    return iot_services.acknowledge_alarm(actor=request.user, alarm=alarm)


@router.get("/parks/{park_id}/rules", summary="导出告警规则（JSON）")
def export_rules(request, park_id: int):
    park = selectors.get_park_for(request.user, park_id)
    require(request.user, "iot.manage_rules", department=park.department)
    return iot_services.export_rules(park.department.iot_rules.filter(app="park"))


@router.post("/parks/{park_id}/rules", response={201: dict}, summary="导入告警规则（JSON数组，全部或全不）")
def import_rules(request, park_id: int, payload: list[dict] = Body(...)):  # noqa: B008
    park = selectors.get_park_for(request.user, park_id)
    made = services.import_rules(actor=request.user, park=park, data=payload)
    return Status(201, {"imported": len(made)})


@router.get("/parks/{park_id}/tariff", response=list[s.TariffBandOut], summary="峰平谷分时电价")
def get_tariff(request, park_id: int):
    return list(selectors.tariff(selectors.get_park_for(request.user, park_id)))


@router.put("/parks/{park_id}/tariff", response=list[s.TariffBandOut], summary="设置峰平谷分时电价（覆盖全天；空数组恢复单一电价）")
def set_tariff(request, park_id: int, payload: list[s.TariffBandIn]):
    park = selectors.get_park_for(request.user, park_id)
    return services.set_tariff(actor=request.user, park=park, bands=[b.dict() for b in payload])


@router.get("/parks/{park_id}/energy-anomalies", response=list[s.AnomalyOut], summary="能耗异常（最近若干天）")
def list_anomalies(request, park_id: int, days: int = 7):
    park = selectors.get_park_for(request.user, park_id)
    since = timezone.localdate() - timedelta(days=max(1, min(days, 366)))
    return list(selectors.recent_anomalies(park, since=since))


@router.post("/parks/{park_id}/energy-anomalies", response=list[s.AnomalyOut], summary="检查某日能耗异常（重跑覆盖）")
def detect_anomalies(request, park_id: int, day: date):
    park = selectors.get_park_for(request.user, park_id)
    return services.detect_energy_anomalies(actor=request.user, park=park, day=day)


@router.post("/enterprises/{enterprise_id}/statements", response={201: s.StatementOut}, summary="出具月度能耗账单")
def issue_statement(request, enterprise_id: int, month: date):
    ent = selectors.get_enterprise_for(request.user, enterprise_id)
    return Status(201, services.issue_energy_statement(actor=request.user, enterprise=ent, month=month))


@router.post("/parks/{park_id}/visits", response={201: s.VisitCreated}, summary="访客预约登记（返回通行码）")
def register_visit(request, park_id: int, payload: s.VisitIn):
    park = selectors.get_park_for(request.user, park_id)
    ent = park.enterprises.filter(pk=payload.enterprise).first()
    if ent is None:
        raise NotFound("没有这家企业", code="enterprise_not_found")
    return Status(201, services.register_visit(actor=request.user, enterprise=ent, name=payload.name,
                                               phone=payload.phone, id_number=payload.id_number,
                                               purpose=payload.purpose, valid_from=payload.valid_from,
                                               valid_until=payload.valid_until))


@router.get("/parks/{park_id}/visits", response=list[s.VisitOut], summary="访客记录（某日，个人信息脱敏）")
@paginate(PageNumber)
def list_visits(request, park_id: int, day: date | None = None):
    park = selectors.get_park_for(request.user, park_id)
    return selectors.visit_log(request.user, park, day or timezone.localdate())


@router.get("/parks/{park_id}/visitors-today", response=s.VisitorsToday, summary="今日访客")
def visitors_today(request, park_id: int):
    park = selectors.get_park_for(request.user, park_id)
    return selectors.visitors_today(park, timezone.localdate())


@router.post("/visits/check-in", response=s.VisitOut, summary="闸机入园（核验通行码）")
def check_in(request, payload: s.GateIn):
    return services.check_in(actor=request.user, token=payload.token, gate=payload.gate)


@router.post("/visits/check-out", response=s.VisitOut, summary="闸机离园")
def check_out(request, payload: s.GateIn):
    return services.check_out(actor=request.user, token=payload.token, gate=payload.gate)


@router.post("/visits/{visit_id}/cancel", response=s.VisitOut, summary="取消访客预约")
def cancel_visit(request, visit_id: int):
    return services.cancel_visit(actor=request.user, visit=selectors.get_visit_for(request.user, visit_id))


# ---------------------------------------------------------------- 续租 / 退租 as workflow cases
@router.post("/leases/{lease_id}/renewal", response={201: s.LeaseChangeDetailOut},
             summary="续租申请（审核、审批通过后合同才延期）")
def request_renewal(request, lease_id: int, payload: s.RenewalIn):
    lease = selectors.get_lease_for(request.user, lease_id)
    change = services.request_renewal(actor=request.user, lease=lease, end_date=payload.end_date,
                                      reason=payload.reason, monthly_rent=payload.monthly_rent,
                                      escalation_pct=payload.escalation_pct)
    return Status(201, selectors.get_lease_change_for(request.user, change.pk))


@router.post("/leases/{lease_id}/move-out", response={201: s.LeaseChangeDetailOut},
             summary="退租申请（现场验收、押金结算、审批通过后才退租）")
def request_move_out(request, lease_id: int, payload: s.MoveOutIn):
    lease = selectors.get_lease_for(request.user, lease_id)
    change = services.request_move_out(actor=request.user, lease=lease, move_out_on=payload.move_out_on,
                                       reason=payload.reason)
    return Status(201, selectors.get_lease_change_for(request.user, change.pk))


@router.get("/parks/{park_id}/lease-changes", response=list[s.LeaseChangeOut], summary="续租、退租办件")
@paginate(PageNumber)
def list_lease_changes(request, park_id: int):
    park = selectors.get_park_for(request.user, park_id)
    return selectors.lease_changes_for(request.user, park)


@router.get("/lease-changes/{change_id}", response=s.LeaseChangeDetailOut, summary="续租、退租办件详情（含流程环节）")
def get_lease_change(request, change_id: int):
    return selectors.get_lease_change_for(request.user, change_id)


@router.post("/lease-changes/{change_id}/act", response=s.LeaseChangeDetailOut,
             summary="办理当前环节（同意/不同意；现场验收填写验收意见与损坏赔偿，押金结算填写其他扣款）")
def act_on_lease_change(request, change_id: int, payload: s.LeaseChangeActIn):
    change = selectors.get_lease_change_for(request.user, change_id)
    services.act_on_lease_change(actor=request.user, change=change, outcome=payload.outcome, opinion=payload.opinion,
                                 inspection=payload.inspection, damages=payload.damages,
                                 deductions=payload.deductions)
    return selectors.get_lease_change_for(request.user, change_id)


@router.post("/lease-changes/{change_id}/cancel", response=s.LeaseChangeDetailOut, summary="撤销续租、退租申请")
def cancel_lease_change(request, change_id: int, payload: s.CancelIn):
    change = selectors.get_lease_change_for(request.user, change_id)
    services.cancel_lease_change(actor=request.user, change=change, reason=payload.reason)
    return selectors.get_lease_change_for(request.user, change_id)


# ---------------------------------------------------------------- 企业服务 (one-stop cases of the operator's items)
@router.post("/parks/{park_id}/service-items", response={201: list[dict]},
             summary="开通企业服务事项（报修、政策申报、投诉：运营单位的一网通办事项）")
def publish_service_items(request, park_id: int):
    park = selectors.get_park_for(request.user, park_id)
    items = services.publish_service_items(actor=request.user, park=park)
    return Status(201, [{"code": i.implementation_code, "name": i.name, "active": i.active} for i in items])


@router.get("/parks/{park_id}/service-cases", response=list[s.ServiceCaseOut],
            summary="本园区企业服务办件（报修、政策申报、投诉，含时限与好差评）")
@paginate(PageNumber)
def list_service_cases(request, park_id: int):
    park = selectors.get_park_for(request.user, park_id)
    return selectors.service_cases(request.user, park)


@router.post("/enterprise-services", response={201: s.ServiceCaseOut},
             summary="入驻企业提出报修、政策申报或投诉（法定代表人以企业名义）")
def raise_service(request, payload: s.ServiceRaiseIn):
    ent = selectors.get_resident_enterprise_for(request.user, payload.enterprise)
    app = services.raise_service(actor=request.user, enterprise=ent, kind=payload.kind, form=payload.form)
    return Status(201, selectors.my_service_cases(request.user).get(pk=app.pk))


@router.get("/my/service-cases", response=list[s.ServiceCaseOut], summary="我的企业服务办件")
@paginate(PageNumber)
def my_service_cases(request):
    return selectors.my_service_cases(request.user)


# ---------------------------------------------------------------- the tenant's own 续租 / 退租 (我的园区)
@router.get("/my/leases", response=list[s.LeaseOut], summary="我的在租合同（以法定代表人身份）")
def my_leases(request):
    return selectors.my_leases(request.user)


@router.post("/my/leases/{lease_id}/renewal", response={201: s.LeaseChangeOut}, summary="企业申请续租")
def request_my_renewal(request, lease_id: int, payload: s.RenewalIn):
    lease = selectors.get_my_lease(request.user, lease_id)
    change = services.request_renewal(actor=request.user, lease=lease, end_date=payload.end_date, reason=payload.reason,
                                      monthly_rent=payload.monthly_rent, escalation_pct=payload.escalation_pct)
    return Status(201, selectors.my_lease_changes(request.user).get(pk=change.pk))


@router.post("/my/leases/{lease_id}/move-out", response={201: s.LeaseChangeOut}, summary="企业申请退租")
def request_my_move_out(request, lease_id: int, payload: s.MoveOutIn):
    lease = selectors.get_my_lease(request.user, lease_id)
    change = services.request_move_out(actor=request.user, lease=lease, move_out_on=payload.move_out_on,
                                       reason=payload.reason)
    return Status(201, selectors.my_lease_changes(request.user).get(pk=change.pk))


@router.get("/my/lease-changes", response=list[s.LeaseChangeOut], summary="我的续租、退租申请")
@paginate(PageNumber)
def my_lease_changes(request):
    return selectors.my_lease_changes(request.user)


@router.post("/my/visits", response={201: s.VisitCreated}, summary="入驻企业预约访客（返回通行码）")
def my_register_visit(request, payload: s.VisitIn):
    ent = selectors.get_resident_enterprise_for(request.user, payload.enterprise)
    return Status(201, services.register_visit(actor=request.user, enterprise=ent, name=payload.name,
                                               phone=payload.phone, id_number=payload.id_number,
                                               purpose=payload.purpose, valid_from=payload.valid_from,
                                               valid_until=payload.valid_until))


@router.get("/my/visits", response=list[s.VisitOut], summary="我的访客（个人信息脱敏）")
@paginate(PageNumber)
def my_visits(request):
    return selectors.my_visits(request.user)
