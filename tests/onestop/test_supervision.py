"""The government-service bureau supervises every department's service measures in its region,
through a supervision scope beside the org tree (the regulator and tax are not below it)."""

import pytest

from smartgov.accounts.selectors import supervised_departments
from smartgov.accounts.services import grant_supervision
from smartgov.core.errors import InvalidInput
from smartgov.core.permissions import Role, system_actor
from tests import factories as f
from tests.onestop.conftest import world  # noqa: F401


def test_bureau_admin_sees_the_measures_of_departments_it_supervises(world):  # noqa: F811
    bureau = f.department("政务服务和数据管理局")
    admin = f.user(Role.DEPT_ADMIN, department=bureau)
    client = f.staff_client(admin)
    page = client.get("/onestop/dashboard/").content.decode()
    assert world["regulator"].name not in page and world["tax"].name not in page

    for dept in (world["regulator"], world["tax"]):
        grant_supervision(actor=system_actor("test"), supervisor=bureau, supervised=dept, domain="onestop.measures")
    resp = client.get("/onestop/dashboard/")
    page = resp.content.decode()
    assert world["regulator"].name in page and world["tax"].name in page
    assert resp.context["dept"] == bureau  # their own department stays the default
    tax_page = client.get("/onestop/dashboard/", {"department": world["tax"].code})
    assert tax_page.status_code == 200 and tax_page.context["m"]["items"] == 1  # the tax item, not 0
    assert set(supervised_departments(bureau, domain="onestop.measures")) == {world["regulator"], world["tax"]}
    assert not supervised_departments(bureau, domain="trace").exists()  # one domain, nothing else


def test_supervision_is_not_granted_over_a_department_already_below(db):
    parent = f.department("上级")
    child = f.department("下级", parent=parent)
    with pytest.raises(InvalidInput):
        grant_supervision(actor=system_actor("test"), supervisor=parent, supervised=child, domain="onestop.measures")
