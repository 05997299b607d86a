"""Demo leaders for the overview: one over the province's government-service tree (the city's
departments, its districts and the grain bureau), one over a district; and the demo region codes of the
departments the region map is drawn for (the demo GeoJSON has 东城区 330102 and 西城区 330103). Safe to run twice."""

from django.conf import settings

from smartgov.accounts.models import Department, User
from smartgov.accounts.services import create_user, update_department
from smartgov.core.permissions import system_actor

LEADERS = [  # (username, name, role, department code)
    ("province_leader", "刘振华", "supervisor", "SF-ZWJ"),
    ("dc_leader", "吴晓东", "dept_admin", "DC-SPJ"),
]

REGION_CODES = {"SF-ZWJ": "330000", "SFC-ZWJ": "330100", "DC-SPJ": "330102", "XC-SPJ": "330103"}


def load_demo(*, stdout) -> None:
    password = settings.DEMO_PASSWORD
    actor = system_actor("demo")
    made = 0
    for username, name, role, code in LEADERS:
        dept = Department.objects.filter(code=code).first()
        if dept is None or User.objects.filter(username=username).exists():
            continue
        create_user(actor=actor, username=username, password=password, role=role, name=name, department=dept)
        made += 1

    coded = 0
    for code, region in REGION_CODES.items():
        dept = Department.objects.filter(code=code, region_code="").first()
        if dept is not None:
            update_department(actor=actor, department=dept, changes={"region_code": region})
            coded += 1
    stdout.write(f"城市运行总览：新建 {made} 个领导账号，设置 {coded} 个部门的行政区划代码。")
