"""Grain test data, made through the real services."""

from datetime import UTC, date, datetime, timedelta

import numpy as np

from smartgov.accounts.models import Level
from smartgov.core.permissions import Role, system_actor
from smartgov.grain import services
from tests import factories

T0 = datetime(2026, 11, 1, 0, 0, tzinfo=UTC)


def bureau():
    return factories.department("粮食和物资储备局")


def depot(bureau_dept=None, *, code=None, region="north"):
    bureau_dept = bureau_dept or bureau()
    dept = factories.department("直属库", parent=bureau_dept, level=Level.COUNTY)
    return services.create_depot(actor=system_actor("test"), department=dept, code=code or f"K{dept.pk}", name=f"第{dept.pk}库",
                                 region=region)


def warehouse(depot_obj=None, *, rows=3, cols=4, layers=2, code="P1", variety="wheat", moisture=12.0):
    depot_obj = depot_obj or depot()
    wh = services.create_warehouse(actor=system_actor("test"), depot=depot_obj, code=code, kind="flat", capacity_t=5000,
                                   length_m=rows * 4.5, width_m=cols * 4.5, grain_height_m=layers * 1.8,
                                   rows=rows, cols=cols, layers=layers)
    if variety:
        services.store_lot(actor=system_actor("test"), warehouse=wh, variety=variety, grade=2, harvest_year=2025, owner="central",
                           tonnes=3000, moisture=moisture, storage_start=date(2025, 10, 1))
    return wh


def officer(depot_obj):
    return factories.user(Role.OFFICER, department=depot_obj.department)


def supervisor(bureau_dept):
    return factories.user(Role.SUPERVISOR, department=bureau_dept)


def temps(wh, base=12.0, **points):
    """A uniform field with some points set: temps(wh, 15.0, p3=20.0)."""
    t = np.full(wh.points, base, dtype=np.float32)
    for key, value in points.items():
        t[int(key[1:])] = np.nan if value is None else value
    return t


def scan_json(wh, t, taken_at=T0, **extra):
    return {"warehouse": wh.pk, "taken_at": taken_at.isoformat(),
            "temps": [None if not np.isfinite(v) else float(v) for v in t], **extra}


def days(n):
    return timedelta(days=n)
