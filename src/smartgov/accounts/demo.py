"""Demo departments (a province, a city, two districts, a street) and accounts, including the three
administrators of 三员分立. Every account gets ``settings.DEMO_PASSWORD``. Safe to run twice."""

from django.conf import settings

from smartgov.core.permissions import Role, system_actor
from smartgov.core.validators import id_number_check_char, org_code_check_char, uscc_check_char

from . import services
from .models import Department, Level, User

ACTOR = system_actor("accounts.demo")


def _uscc(org_code8: str) -> str:
    """A well-formed 统一社会信用代码 for a 机关 (registration authority 1, category 1)."""
    body = "11" + "330100" + org_code8 + org_code_check_char(org_code8)
    return body + uscc_check_char(body)


def _id_number(first17: str) -> str:
    return first17 + id_number_check_char(first17)


# (code, name, level, parent code, 8-char organisation code body)
DEPARTMENTS = [
    ("SF-ZWJ", "示范省政务服务和数据管理局", Level.PROVINCE, None, "00250001"),
    ("SF-SJJ", "示范省药品监督管理局", Level.PROVINCE, None, "00250002"),
    ("SFC-ZWJ", "示范市政务服务和数据管理局", Level.CITY, "SF-ZWJ", "00250011"),
    ("SFC-GAJ", "示范市公安局", Level.CITY, "SF-ZWJ", "00250012"),
    ("SFC-CRJ", "示范市公安局出入境管理支队", Level.CITY, "SFC-GAJ", "00250013"),
    ("SFC-SJJ", "示范市市场监督管理局", Level.CITY, "SF-SJJ", "00250014"),
    ("SFC-LSJ", "示范市粮食和物资储备局", Level.CITY, "SF-ZWJ", "00250015"),
    ("DC-SPJ", "示范市东城区行政审批局", Level.COUNTY, "SFC-ZWJ", "00250021"),
    ("XC-SPJ", "示范市西城区行政审批局", Level.COUNTY, "SFC-ZWJ", "00250022"),
    ("DC-JD1", "东城区东华街道便民服务中心", Level.TOWNSHIP, "DC-SPJ", "00250031"),
]

# (username, name, role, department code, ID number first 17, phone)
USERS = [
    ("sysadmin", "系统管理员", Role.SYSADMIN, None, None, None),
    ("secadmin", "安全管理员", Role.SECADMIN, None, None, None),
    ("auditadmin", "审计管理员", Role.AUDITADMIN, None, None, None),
    ("city_admin", "王建国", Role.DEPT_ADMIN, "SFC-ZWJ", "33010219800101123", "13900001111"),
    ("dc_officer", "李晓梅", Role.OFFICER, "DC-SPJ", "33010219900315234", "13900002222"),
    ("xc_officer", "赵志强", Role.OFFICER, "XC-SPJ", "33010619880808456", "13900003333"),
    ("crj_officer", "陈静", Role.OFFICER, "SFC-CRJ", "33010519920612345", "13900004444"),
    ("drug_supervisor", "孙立新", Role.SUPERVISOR, "SF-SJJ", "33010819750920567", "13900005555"),
    ("scjg_officer", "周敏", Role.OFFICER, "SFC-SJJ", "33010319870211246", "13900006666"),
    ("zhangsan", "张三", Role.CITIZEN, None, "33010619850704321", "13812345678"),
]


def load_demo(*, stdout) -> None:
    made_depts = made_users = 0
    by_code = {d.code: d for d in Department.objects.all()}
    for code, name, level, parent, org in DEPARTMENTS:
        if code not in by_code:
            by_code[code] = services.create_department(actor=ACTOR, name=name, code=code, level=level,
                                                       parent=by_code.get(parent), uscc=_uscc(org))
            made_depts += 1
    existing = set(User.objects.values_list("username", flat=True))
    for username, name, role, dept, id17, phone in USERS:
        if username in existing:
            continue
        services.create_user(actor=ACTOR, username=username, password=settings.DEMO_PASSWORD, role=role, name=name,
                             department=by_code.get(dept) if dept else None,
                             id_number=_id_number(id17) if id17 else None, phone=phone)
        made_users += 1
    stdout.write(f"部门与账号：新建 {made_depts} 个部门、{made_users} 个账号。")
