"""Demo data of the exit-entry hall (called by ``smartgov demo`` after the one-stop catalogue; safe to run
twice): 示范市出入境智慧大厅 of the 出入境 department with passport, HK/Macao and Taiwan permit services
filed as the catalogue's items, six windows with officers on duty for the coming working days, 24
lockers, and a booking of the demo citizen."""

import datetime

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from smartgov.accounts.models import Department, User
from smartgov.accounts.services import create_user
from smartgov.core.errors import Conflict
from smartgov.core.permissions import Role, system_actor
from smartgov.core.workdays import calendar
from smartgov.onestop.models import ServiceItem

from . import services
from .models import Duty, Hall

CODE = "CRJ-SFC"
SERVICES = [("A", "普通护照", "XK00301000", 6.0), ("B", "往来港澳通行证及签注", "XK00302000", 4.0),
            ("C", "往来台湾通行证及签注", "XK00303000", 4.0)]
WINDOWS = 6


def _officers(dept) -> list:
    password = settings.DEMO_PASSWORD
    out = []
    for i in range(1, WINDOWS + 1):
        user = User.objects.filter(username=f"crj_window{i}").first() or create_user(
            actor=system_actor("hall.demo"), username=f"crj_window{i}", password=password, role=Role.OFFICER, name=f"出入境{i}号窗口",
            department=dept)
        out.append(user)
    return out


def load_demo(*, stdout) -> None:
    actor = system_actor("demo")
    dept = Department.objects.filter(code="SFC-CRJ").first()
    if dept is None:
        stdout.write("出入境大厅：缺少出入境部门（SFC-CRJ），跳过。")
        return
    with transaction.atomic():
        hall = Hall.objects.filter(code=CODE).first()
        if hall is None:
            hall = services.create_hall(actor=actor, department=dept, code=CODE, name="示范市出入境智慧大厅",
                                        address="示范市新区市民大道100号市民中心一楼")
            made = []
            for code, name, item_code, minutes in SERVICES:
                item = ServiceItem.objects.filter(department=dept, basic_code=item_code).first()
                made.append(services.add_service(actor=actor, hall=hall, code=code, name=name, item=item,
                                                 mean_service_minutes=minutes, slot_capacity=6))
            for n in range(1, WINDOWS + 1):
                services.add_window(actor=actor, hall=hall, number=n,
                                    services=made if n > 2 else [made[0]] if n == 1 else made[1:])
            services.add_lockers(actor=actor, hall=hall, count=24)
        officers = _officers(dept)
        day = timezone.localdate()
        days = []
        for _ in range(6):
            day = day if calendar().is_workday(day) else calendar().next_workday(day)
            days.append(day)
            day += datetime.timedelta(days=1)
        windows = list(hall.windows.order_by("number"))
        for d in days:
            for window, officer in zip(windows, officers, strict=True):
                if not Duty.objects.filter(window=window, day=d).exists():
                    services.assign_duty(actor=actor, window=window, officer=officer, day=d)
        citizen = User.objects.filter(username="zhangsan").select_related("person").first()
        booked = 0
        if citizen is not None and getattr(citizen, "person", None):
            slot = datetime.datetime.combine(days[1], datetime.time(10), tzinfo=timezone.get_current_timezone())
            try:
                services.book_appointment(actor=citizen, service=hall.services.get(code="A"), starts_at=slot)
                booked = 1
            except Conflict:
                pass
    stdout.write(f"出入境大厅：{hall.name}，{hall.windows.count()} 个窗口，{len(days)} 个工作日排班，"
                 f"{hall.lockers.count()} 个取证柜格，{booked} 个演示预约。")
