"""``smartgov demo``: load demonstration departments and accounts. Safe to run twice.

Every account gets the password in ``SMARTGOV_DEMO_PASSWORD`` (default shown in the README — a demo
database only). Staff bind their authenticator app at first sign-in.
"""

import importlib
import os

from django.apps import apps
from django.core.management.base import BaseCommand
from django.db import transaction

from smartgov.accounts import services
from smartgov.accounts.models import Department, Level, User
from smartgov.audit.services import cut_checkpoint
from smartgov.core.permissions import Role
from smartgov.core.validators import id_number_check_char, org_code_check_char, uscc_check_char

DEFAULT_PASSWORD = "demo-SmartGov-2026"  # noqa: S105 — documented demo credential, demo data only


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


class Command(BaseCommand):
    help = "加载演示数据（可重复运行）/ load demo data (safe to run twice)"

    @transaction.atomic
    def handle(self, *args, **options):
        password = os.environ.get("SMARTGOV_DEMO_PASSWORD", DEFAULT_PASSWORD)
        made_depts = made_users = 0
        by_code = {d.code: d for d in Department.objects.all()}
        for code, name, level, parent, org in DEPARTMENTS:
            if code not in by_code:
                by_code[code] = services.create_department(actor=None, name=name, code=code, level=level,
                                                           parent=by_code.get(parent), uscc=_uscc(org))
                made_depts += 1
        existing = set(User.objects.values_list("username", flat=True))
        for username, name, role, dept, id17, phone in USERS:
            if username in existing:
                continue
            services.create_user(actor=None, username=username, password=password, role=role, name=name,
                                 department=by_code.get(dept) if dept else None,
                                 id_number=_id_number(id17) if id17 else None, phone=phone)
            made_users += 1
        made_eids = self._citizens(by_code)
        self._enterprises_and_licence_types(by_code)
        self._app_demos()
        cut_checkpoint()
        self.stdout.write(self.style.SUCCESS(
            f"演示数据就绪：新建 {made_depts} 个部门、{made_users} 个账号、{made_eids} 个EID（已存在的保持不变）。"
            f" 账号见 README，密码为 SMARTGOV_DEMO_PASSWORD 或默认演示密码。"))

    def _app_demos(self) -> None:
        """Each app may ship ``<app>/demo.py`` with ``load_demo(*, stdout)`` (safe to run twice); they run
        in INSTALLED_APPS order, after the departments, users and register above exist."""
        for config in apps.get_app_configs():
            if not config.name.startswith("smartgov.") or config.label == "portal":
                continue
            try:
                module = importlib.import_module(f"{config.name}.demo")
            except ModuleNotFoundError as exc:
                if exc.name != f"{config.name}.demo":
                    raise
                continue
            module.load_demo(stdout=self.stdout)

    def _citizens(self, by_code) -> int:
        """Citizen accounts get their register record and an EID from the demo EID authority."""
        from smartgov.eid.models import CredentialStatus
        from smartgov.eid.services import issue_eid
        from smartgov.identity.models import Person
        from smartgov.identity.services import link_account, register_person

        made = 0
        for user in User.objects.filter(role=Role.CITIZEN, person__isnull=True):
            person = register_person(actor=None, name=user.name, id_number=user.id_number, phone=user.phone,
                                     department=by_code.get("SFC-GAJ"), address="示范市东城区东华路1号",
                                     region_code="330102")
            link_account(person=person, user=user)
        for person in Person.objects.filter(user__role=Role.CITIZEN).exclude(
                eid_credentials__status=CredentialStatus.VALID):
            issue_eid(actor=None, person=person, issuer=by_code["SFC-GAJ"])
            made += 1
        return made

    def _enterprises_and_licence_types(self, by_code) -> None:
        """Two enterprises in the register and the licence types the market regulator issues."""
        from smartgov.identity.models import Enterprise
        from smartgov.identity.services import register_enterprise
        from smartgov.licences.models import HolderKind, LicenceType
        from smartgov.licences.services import create_licence_type

        regulator = by_code["SFC-SJJ"]
        legal_rep = _id_number("33010619850704321")
        for name, org in (("示范市东华科技有限公司", "MA2D0001"), ("示范市西湖食品有限公司", "MA2D0002")):
            body = "91330100" + org + org_code_check_char(org)
            uscc = body + uscc_check_char(body)
            if not Enterprise.objects.filter(uscc=uscc).exists():
                register_enterprise(actor=None, name=name, uscc=uscc, legal_representative_id_number=legal_rep,
                                    region_code="330102", address="示范市东城区科创路8号", department=regulator)
        types = [
            ("营业执照", "YYZZ", HolderKind.ENTERPRISE, None, [
                {"key": "company_type", "label": "类型", "required": True},
                {"key": "registered_capital", "label": "注册资本", "required": True},
                {"key": "business_scope", "label": "经营范围", "required": True}]),
            ("食品经营许可证", "SPJY", HolderKind.ENTERPRISE, 5, [
                {"key": "business_items", "label": "经营项目", "required": True},
                {"key": "premises", "label": "经营场所", "required": True}]),
        ]
        for name, code, kind, years, template in types:
            if not LicenceType.objects.filter(code=code, department=regulator).exists():
                create_licence_type(actor=None, name=name, code=code, department=regulator, holder_kind=kind,
                                    validity_years=years, field_template=template)
