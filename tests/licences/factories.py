"""Licence test data, made through the real services (register rows directly, after full_clean)."""

from smartgov.accounts.models import Department
from smartgov.core.permissions import Role
from smartgov.identity.models import Enterprise, Person
from smartgov.licences import services
from tests import factories as f


def person(name="张三", *, birth="19900101", user=None) -> Person:
    p = Person(name=name, id_number=f.id_number(birth), user=user)
    p.full_clean(exclude=["id_number_bidx", "phone_bidx"])
    p.save()
    return p


def enterprise(name="示范科技有限公司") -> Enterprise:
    e = Enterprise(name=name, uscc=f.uscc())
    e.full_clean()
    e.save()
    return e


class World:
    """Two departments, each with an admin and an officer, a person and an enterprise, and two types."""

    def __init__(self):
        self.dept: Department = f.department("市场监管局")
        self.other: Department = f.department("卫健委")
        self.admin = f.user(Role.DEPT_ADMIN, department=self.dept)
        self.officer = f.user(Role.OFFICER, department=self.dept)
        self.stranger = f.user(Role.OFFICER, department=self.other)
        self.person = person()
        self.enterprise = enterprise()
        self.business = services.create_licence_type(
            actor=self.admin, name="营业执照", code=f"YYZZ{self.dept.pk}", department=self.dept,
            holder_kind="enterprise", validity_years=None,
            field_template=[{"key": "scope", "label": "经营范围", "required": True},
                            {"key": "legal_rep", "label": "法定代表人", "required": False}])
        self.food = services.create_licence_type(
            actor=self.admin, name="食品经营许可证", code=f"SPJY{self.dept.pk}", department=self.dept,
            holder_kind="person", validity_years=5,
            field_template=[{"key": "premises", "label": "经营场所", "required": True}])

    def issue_food(self, **kw):
        kw.setdefault("data", {"premises": "示范市东城区幸福路1号"})
        return services.issue_licence(actor=self.officer, licence_type=self.food, holder_person=self.person, **kw)

    def issue_business(self, **kw):
        kw.setdefault("data", {"scope": "软件开发；信息技术咨询"})
        return services.issue_licence(actor=self.officer, licence_type=self.business,
                                      holder_enterprise=self.enterprise, **kw)
