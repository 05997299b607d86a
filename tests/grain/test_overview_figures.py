"""账实相符 on the city overview (issue 18): the share of a scope's warehouses whose latest stock check found the
measured stock within ± 3 % of the book, from checks made through the real service."""

from datetime import date

import pytest

from smartgov.accounts.models import Level
from smartgov.core.errors import NotFound
from smartgov.core.permissions import Role
from smartgov.grain import selectors, services
from tests import factories
from tests.grain import factories as gf

pytestmark = pytest.mark.django_db

WITHIN, OUTSIDE = 4000, 4200  # m³ at 740 kg/m³ against 3000 t on the book: −1.3 % and +3.6 %


def _check(wh, volume, on):
    return services.check_stock(actor=gf.officer(wh.depot), warehouse=wh, volume_m3=volume, bulk_density_kg_m3=740,
                                checked_on=on)


def _figure(actor, dept, key="grain.stock_agreement"):
    return next(i for i in selectors.indicators(actor=actor, department=dept) if i["key"] == key)


def test_the_rate_counts_each_warehouses_latest_check_once():
    city = factories.department("示范市", level=Level.CITY)
    depot_a, depot_b = gf.depot(city), gf.depot(city)
    w1, w2, _never = (gf.warehouse(depot_a, code=c) for c in ("P1", "P2", "P3"))
    wb = gf.warehouse(depot_b, code="P1")
    _check(w1, WITHIN, date(2026, 11, 1))
    _check(w1, OUTSIDE, date(2026, 11, 20))  # the latest check of w1 disagrees
    _check(w2, WITHIN, date(2026, 11, 20))
    _check(w2, OUTSIDE, date(2026, 10, 1))  # entered late for an earlier date: not the latest
    _check(wb, OUTSIDE, date(2026, 11, 5))

    mayor = factories.user(Role.DEPT_ADMIN, department=city)
    tile = _figure(mayor, city)
    assert tile["value"] == 33.3 and tile["unit"] == "%" and tile["url"] == "/grain/"
    assert [(r["name"], r["value"]) for r in tile["breakdown"]] == [("相符", 1), ("不符", 2)]
    leader_a = factories.user(Role.SUPERVISOR, department=depot_a.department)
    assert _figure(leader_a, depot_a.department)["value"] == 50.0
    assert _figure(mayor, depot_b.department)["value"] == 0.0
    with pytest.raises(NotFound):
        selectors.indicators(actor=leader_a, department=depot_b.department)


def test_no_check_yet_is_no_rate_rather_than_zero():
    city = factories.department("示范市", level=Level.CITY)
    gf.warehouse(gf.depot(city))
    tile = _figure(factories.user(Role.DEPT_ADMIN, department=city), city)
    assert tile["value"] is None and [r["value"] for r in tile["breakdown"]] == [0, 0]


def test_stock_by_variety_and_hot_spot_warehouses_are_published_too():
    city = factories.department("示范市", level=Level.CITY)
    depot = gf.depot(city)
    gf.warehouse(depot, code="P1", variety="wheat")
    gf.warehouse(depot, code="P2", variety="corn")
    stock = _figure(factories.user(Role.DEPT_ADMIN, department=city), city, "grain.stock_tonnes")
    assert stock["value"] == 6000.0 and {r["name"] for r in stock["breakdown"]} == {"小麦", "玉米"}
    assert _figure(factories.user(Role.DEPT_ADMIN, department=city), city, "grain.hot_spot_warehouses")["value"] == 0
