"""IoT test data through the real services."""

from datetime import UTC, datetime, timedelta

from smartgov.core.permissions import Role, system_actor
from smartgov.iot import services
from smartgov.iot.readings import DeviceDirectory, Reading
from tests import factories

T0 = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)
SYS = system_actor("tests")


def department():
    return factories.department("园区管委会")


def device(dept=None, *, code="M1", kind="meter", app="park", tags=None):
    dept = dept or department()
    d, secret = services.provision_device(actor=SYS, department=dept, app=app, code=code, name=f"设备{code}",
                                          kind=kind, tags=tags or {})
    d.secret = secret
    return d


def admin(dept):
    return factories.user(Role.DEPT_ADMIN, department=dept)


def reading(dev, seconds: float, **values) -> Reading:
    info = DeviceDirectory().by_code(dev.code)
    return Reading(device=info, ts=T0 + timedelta(seconds=seconds), values=values)


def ingest(*readings):
    return services.ingest_telemetry(actor=SYS, readings=list(readings), source="test")


def rule(dept, name="功率过高", *, conditions=None, match="and", **extra):
    data = {"name": name, "conditions": conditions or [{"key": "activePower", "cmp": ">", "value": 50,
                                                        "for_seconds": 300}], "match": match, **extra}
    return services.save_rule(actor=SYS, department=dept, app="park", data=data, device=extra.pop("device", None))
