"""Out-of-scope reads answer like missing ones: EPCIS queries and the dashboard show only the viewer's
organisations; the three administrators (who hold no trace permission) read no events."""

import datetime

import pytest

from smartgov.accounts.models import Level
from smartgov.core.permissions import ADMIN_TRIAD, Role, system_actor
from smartgov.trace import services
from tests import factories

pytestmark = pytest.mark.django_db


def _other_regulator():
    dept = factories.department("外省药品监督管理局", level=Level.PROVINCE)
    sup = factories.user(Role.SUPERVISOR, department=dept)
    maker = services.create_organisation(actor=sup, name="外省生物制品有限公司", kind="manufacturer", department=dept,
                                         location_uri="urn:epc:id:sgln:6909999.00001.0",
                                         party_uri="urn:epc:id:pgln:6909999.00001")
    product = services.create_product(actor=sup, department=dept, name="外省疫苗", holder="外省生物制品有限公司",
                                      nmpa_code="8619999", gtin="06909999000012", dosage_form="注射剂",
                                      specification="0.5ml/支", manufacturer=maker)
    batch = services.create_batch(actor=sup, product=product, lot="OUT-1",
                                  production_date=datetime.date(2026, 1, 5), expiry_date=datetime.date(2028, 1, 4))
    return dept, sup, maker, batch


@pytest.mark.parametrize("role", sorted(ADMIN_TRIAD))
def test_the_three_administrators_read_no_epcis_events(chain, role):
    services.capture_events(actor=system_actor("test"), organisation=chain["maker"], events=[{
        "type": "ObjectEvent", "eventTime": "2026-03-01T08:00:00.000+08:00", "eventTimeZoneOffset": "+08:00",
        "epcList": ["urn:epc:id:sgtin:6901234.000001.1"], "action": "OBSERVE", "bizStep": "inspecting"}])
    client = factories.staff_client(factories.user(role))
    resp = client.get("/api/trace/epcis/events")
    assert resp.status_code == 403
    assert b"6901234.000001.1" not in resp.content and b"inspecting" not in resp.content


def test_dashboard_lists_only_recalls_in_the_viewers_scope(chain, supervisor):
    _, other_sup, _, other_batch = _other_regulator()
    foreign = services.recall_batch(actor=other_sup, batch=other_batch, reason="外省召回")
    own = services.recall_batch(actor=supervisor, batch=chain["batch"], reason="本省召回")
    client = factories.staff_client(supervisor)
    html = client.get("/trace/").content.decode()
    assert f"/trace/recalls/{own.pk}/" in html
    assert f"/trace/recalls/{foreign.pk}/" not in html and "OUT-1" not in html
    assert client.get(f"/trace/recalls/{foreign.pk}/").status_code == 404
