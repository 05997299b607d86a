"""Demo data of the park: 示范市高新区管委会 with a park of two buildings, a meter and an environment sensor
per unit, three resident enterprises with leases (one with a rent-free quarter and 5 % escalation) and
yearly reports, the alarm rules, and users park_admin / park_officer; the 企业服务 items (报修、政策申报、投诉) of the
管委会 with the demo citizen (zhangsan) as legal representative of the first tenant, who has raised a repair and
a rent-subsidy application, and a renewal of the second tenant's lease waiting for approval. Safe to run twice."""

from datetime import date

from django.conf import settings

from smartgov.accounts.models import Department, Level, User
from smartgov.accounts.services import create_department, create_user
from smartgov.core.permissions import Role, system_actor
from smartgov.core.validators import org_code_check_char, uscc_check_char
from smartgov.identity.models import Enterprise as Registered
from smartgov.identity.services import register_enterprise

from . import selectors, services
from .models import Lease, Unit
from .service_items import leased_units, unit_label
from .simulate import ensure_park

ACTOR = system_actor("demo")
DEPARTMENT = ("SFC-YQ", "示范市高新技术产业园区管委会")
TENANTS = [("云栖智造科技有限公司", "C3911", 120, "00260001"), ("数链信息技术有限公司", "I6510", 45, "00260002"),
           ("绿源检测技术服务有限公司", "M7450", 30, "00260003")]
# 峰平谷 bands of the kind a provincial grid publishes for general industry and commerce (demo prices)
TARIFF = [{"kind": "valley", "start": "00:00", "end": "08:00", "price": "0.3128"},
          {"kind": "peak", "start": "08:00", "end": "11:00", "price": "1.2035"},
          {"kind": "flat", "start": "11:00", "end": "18:00", "price": "0.7469"},
          {"kind": "peak", "start": "18:00", "end": "23:00", "price": "1.2035"},
          {"kind": "valley", "start": "23:00", "end": "00:00", "price": "0.3128"}]
RULES = [
    {"name": "电表功率过高", "device_kind": "meter", "severity": "major", "escalate_after_minutes": 15,
     "conditions": [{"key": "activePower", "cmp": ">", "value": 900, "for_seconds": 300}]},
    {"name": "室内高温或空气差", "device_kind": "env", "match": "or", "severity": "minor",
     "conditions": [{"key": "temperature", "cmp": ">", "value": 35, "for_seconds": 600},
                    {"key": "pm25", "cmp": ">", "value": 150, "for_seconds": 600}]},
    {"name": "设备离线", "kind": "no_data", "no_data_minutes": 30, "severity": "warning"},
]


def _uscc(org8: str) -> str:
    body = "91330100" + org8 + org_code_check_char(org8)
    return body + uscc_check_char(body)


def _dept_uscc() -> str:
    body = "11330100" + "00269000" + org_code_check_char("00269000")  # 11: a state organ
    return body + uscc_check_char(body)


def _enterprise_services(park, tenants, stdout) -> str:
    """The 企业服务 items, zhangsan as the first tenant's legal representative in the register, a repair and a
    policy application of that tenant, and a renewal case of the second tenant's lease."""
    if not park.department.uscc:
        return "（运营单位没有统一社会信用代码，未开通企业服务事项）"
    services.publish_service_items(actor=ACTOR, park=park)
    citizen = User.objects.filter(username="zhangsan").select_related("person").first()
    first = tenants[0]
    if citizen is not None and getattr(citizen, "person", None) is not None:
        if not Registered.objects.filter(uscc=first.uscc).exists():
            register_enterprise(actor=ACTOR, name=first.name, uscc=first.uscc, legal_representative=citizen.person,
                                region_code="330100", address="示范市高新区科技园路1号",
                                department=Department.objects.filter(code="SFC-SJJ").first() or park.department)
        if not selectors.service_cases(ACTOR, park).exists():
            unit = unit_label(leased_units(first)[0])
            services.raise_service(actor=citizen, enterprise=first, kind="repair", form={
                "unit": unit, "category": "空调暖通", "description": "会议室空调不制冷", "contact_phone": "13800000001"})
            services.raise_service(actor=citizen, enterprise=first, kind="policy", form={
                "policy": "租金补贴", "period": "2026年度", "amount": "108000", "description": "高新技术企业租金补贴"})
    lease = tenants[1].leases.filter(status="active").first()
    if lease is not None and not lease.changes.exists():
        services.request_renewal(actor=ACTOR, lease=lease, end_date=date(2030, 12, 31), reason="企业扩产，续租两年")
    return "，企业服务事项 3 项（zhangsan 为云栖智造法定代表人：/park/my/）"


def load_demo(*, stdout) -> None:
    dept = Department.objects.filter(code=DEPARTMENT[0]).first()
    if dept is None:
        parent = Department.objects.filter(code="SFC-ZWJ").first()
        dept = create_department(actor=ACTOR, name=DEPARTMENT[1], code=DEPARTMENT[0], level=Level.CITY, parent=parent,
                                 uscc=_dept_uscc())
    park, sims = ensure_park(department=dept, code="demo-park", name="示范高新园", buildings=2, floors=3,
                             units_per_floor=4)
    existing = set(User.objects.values_list("username", flat=True))
    for username, name, role in (("park_admin", "吴园区", Role.DEPT_ADMIN), ("park_officer", "郑招商", Role.OFFICER)):
        if username not in existing:
            create_user(actor=ACTOR, username=username, password=settings.DEMO_PASSWORD, role=role, name=name,
                        department=dept)
    tenants = []
    units = list(Unit.objects.filter(floor__building__park=park).order_by("floor__building__code", "floor__number",
                                                                          "code"))
    for n, (name, industry, staff, org8) in enumerate(TENANTS):
        ent = park.enterprises.filter(uscc=_uscc(org8)).first() or services.register_enterprise(
            actor=ACTOR, park=park, name=name, uscc=_uscc(org8), industry=industry, employees=staff)
        for year, output, tax in ((2023, 800, 52), (2024, 950, 61), (2025, 1100, 73)):
            services.report_output(actor=ACTOR, enterprise=ent, year=year, output=output * (n + 1), tax=tax * (n + 1))
        tenants.append(ent)
        code = f"YQ-2026-{n + 1:03d}"
        if not Lease.objects.filter(park=park, code=code).exists():
            free = [["2026-01-01", "2026-03-31"]] if n == 0 else []
            services.create_lease(actor=ACTOR, park=park, enterprise=ent, code=code, units=units[n * 2:n * 2 + 2],
                                  start_date=date(2026, 1, 1), end_date=date(2028, 12, 31),
                                  monthly_rent=18000 + 6000 * n, deposit=36000, rent_free=free,
                                  escalation_pct=5 if n == 0 else 3)
    services.import_rules(actor=ACTOR, park=park, data=RULES)
    services.set_tariff(actor=ACTOR, park=park, bands=TARIFF)
    services_note = _enterprise_services(park, tenants, stdout)
    stdout.write(f"智慧园区演示数据：{park.name}，{len(sims)} 台设备，{len(TENANTS)} 家企业{services_note}"
                 "（smartgov park simulate --park demo-park 发布遥测，smartgov iot ingest 入库）")
