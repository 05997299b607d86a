"""Demo licence types the market regulator (示范市市场监督管理局) issues. Safe to run twice."""

from smartgov.accounts.models import Department
from smartgov.core.permissions import system_actor

from .models import HolderKind, LicenceType
from .services import create_licence_type

TYPES = [
    ("营业执照", "YYZZ", HolderKind.ENTERPRISE, None, [
        {"key": "company_type", "label": "类型", "required": True},
        {"key": "registered_capital", "label": "注册资本", "required": True},
        {"key": "business_scope", "label": "经营范围", "required": True}]),
    ("食品经营许可证", "SPJY", HolderKind.ENTERPRISE, 5, [
        {"key": "business_items", "label": "经营项目", "required": True},
        {"key": "premises", "label": "经营场所", "required": True}]),
]


def load_demo(*, stdout) -> None:
    regulator = Department.objects.get(code="SFC-SJJ")
    made = 0
    for name, code, kind, years, template in TYPES:
        if not LicenceType.objects.filter(code=code, department=regulator).exists():
            create_licence_type(actor=system_actor("licences.demo"), name=name, code=code, department=regulator,
                                holder_kind=kind, validity_years=years, field_template=template)
            made += 1
    stdout.write(f"证照类型：新建 {made} 个。")
