"""Park test data through the real services."""

from datetime import date
from decimal import Decimal

from smartgov.core.permissions import Role, system_actor
from smartgov.park import services
from tests import factories

SYS = system_actor("tests")


def park(dept=None, *, code=None):
    dept = dept or factories.department("园区管委会")
    return services.create_park(actor=SYS, department=dept, code=code or f"P{dept.pk}", name=f"第{dept.pk}园区",
                                electricity_price=Decimal("0.80"))


def building(p=None, *, code="A", floors=3):
    p = p or park()
    return services.create_building(actor=SYS, park=p, code=code, name=f"{code}栋", floors=floors)


def unit(b=None, *, code="101", floor=1, area="200"):
    b = b or building()
    fl = b.floors.get(number=floor)
    return services.create_unit(actor=SYS, floor=fl, code=code, area=area,
                                geometry=[[0, 0], [20, 0], [20, 10], [0, 10]])


def enterprise(p, *, name="智造科技有限公司", industry="C3911"):
    return services.register_enterprise(actor=SYS, park=p, name=name, uscc=factories.uscc(), industry=industry,
                                        employees=50)


def lease(p, ent, units, *, code="L-1", start=date(2026, 1, 1), end=date(2026, 12, 31), rent="10000", **kw):
    return services.create_lease(actor=SYS, park=p, enterprise=ent, code=code, units=units, start_date=start,
                                 end_date=end, monthly_rent=rent, **kw)


def officer(p):
    return factories.user(Role.OFFICER, department=p.department)


def admin(p):
    return factories.user(Role.DEPT_ADMIN, department=p.department)
