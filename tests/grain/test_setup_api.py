import pytest

from smartgov.accounts.models import Level
from smartgov.audit.models import AuditEntry
from smartgov.core.permissions import Role
from smartgov.grain.models import Depot, Lot, Warehouse
from tests import factories
from tests.grain import factories as gf

pytestmark = pytest.mark.django_db


def admin_of_bureau():
    bureau = gf.bureau()
    unit = factories.department("某粮库", parent=bureau, level=Level.COUNTY)
    return bureau, unit, factories.staff_client(factories.user(Role.DEPT_ADMIN, department=bureau))


def test_bureau_admin_sets_up_a_depot_a_warehouse_and_a_lot():
    _, unit, client = admin_of_bureau()
    resp = client.post("/api/grain/depots", {"department": unit.code, "code": "K9", "name": "九号库", "region": "south"},
                       content_type="application/json")
    assert resp.status_code == 201, resp.content
    depot = resp.json()["id"]
    resp = client.post("/api/grain/warehouses", {"depot": depot, "code": "P1", "capacity_t": "6000", "length_m": 48,
                                                 "width_m": 24, "grain_height_m": 6, "rows": 10, "cols": 5,
                                                 "layers": 4}, content_type="application/json")
    assert resp.status_code == 201, resp.content
    wh = resp.json()["id"]
    resp = client.post("/api/grain/lots", {"warehouse": wh, "variety": "corn", "grade": 2, "harvest_year": 2025,
                                           "owner": "local", "tonnes": "4200", "moisture": 13.8,
                                           "storage_start": "2025-11-01"}, content_type="application/json")
    assert resp.status_code == 201, resp.content
    assert Lot.objects.get().warehouse_id == wh
    actions = list(AuditEntry.objects.filter(action__startswith="grain.").order_by("seq").values_list("action", flat=True))
    assert actions[-3:] == ["grain.depot.create", "grain.warehouse.create", "grain.lot.store"]


def test_cable_spacing_beyond_gb_50320_is_refused():
    _, unit, client = admin_of_bureau()
    depot = client.post("/api/grain/depots", {"department": unit.code, "code": "K8", "name": "八号库"},
                        content_type="application/json").json()["id"]
    for grid, field in (({"rows": 8, "cols": 5, "layers": 4}, "rows"), ({"rows": 10, "cols": 5, "layers": 2}, "layers")):
        resp = client.post("/api/grain/warehouses", {"depot": depot, "code": f"P{field}", "capacity_t": "6000",
                                                     "length_m": 48, "width_m": 24, "grain_height_m": 6, **grid},
                           content_type="application/json")
        assert resp.status_code == 422 and field in resp.json()["detail"] and "GB 50320" in str(resp.json()["detail"])
    assert not Warehouse.objects.exists()


def test_depot_staff_cannot_set_up_depots_and_a_second_lot_is_refused():
    wh = gf.warehouse()
    keeper = factories.staff_client(gf.officer(wh.depot))
    resp = keeper.post("/api/grain/depots", {"department": wh.depot.department.code, "code": "X", "name": "X"},
                       content_type="application/json")
    assert resp.status_code == 403 and Depot.objects.count() == 1
    _, _, admin = admin_of_bureau()
    admin_client = factories.staff_client(factories.user(Role.DEPT_ADMIN, department=wh.depot.department.parent))
    resp = admin_client.post("/api/grain/lots", {"warehouse": wh.pk, "variety": "corn", "grade": 2,
                                                 "harvest_year": 2025, "owner": "local", "tonnes": "10",
                                                 "moisture": 13.0, "storage_start": "2025-11-01"},
                             content_type="application/json")
    assert resp.status_code == 409 and resp.json()["code"] == "warehouse_occupied"
    resp = admin.post("/api/grain/lots", {"warehouse": wh.pk, "variety": "corn", "grade": 2, "harvest_year": 2025,
                                          "owner": "local", "tonnes": "10", "moisture": 13.0,
                                          "storage_start": "2025-11-01"}, content_type="application/json")
    assert resp.status_code == 404  # another bureau's warehouse does not exist for this admin
