"""网络身份 figures for the city overview: EIDs issued and valid (by the scope's issuing authorities) and identity
verifications with today's failures (by the scope's relying applications), in two queries."""

import pytest

from smartgov.core.errors import NotFound
from smartgov.core.permissions import Role, system_actor
from smartgov.eid import selectors, services
from tests import factories as f

from .conftest import make_person

pytestmark = pytest.mark.django_db


def _figures(actor, department):
    return f.indicator_values(selectors, actor, department, queries=2)


def test_eids_issued_and_verifications_in_the_scope_only(client, issuer):
    leader = f.user(Role.SUPERVISOR, department=issuer)
    assert _figures(leader, issuer) == {"eid.issued_today": 0, "eid.valid": 0, "eid.verifications_today": 0,
                                        "eid.failed_verifications_today": 0}
    people = [make_person("张三", "19900101"), make_person("李四", "19851212", phone="13800002222")]
    for person in people:
        services.issue_eid(actor=system_actor("test"), person=person, issuer=issuer)
    services.issue_eid(actor=system_actor("test"), person=people[0], issuer=issuer)  # 换发: the old one superseded

    _, key = services.register_partner(actor=system_actor("test"), code="bank", name="示范银行", department=issuer)
    for name in ("李四", "王五"):  # the second does not match the register
        client.post("/api/idauth/verify", {"id_type": "id_number", "id_value": people[1].id_number, "purpose": "开户",
                                           "demographics": {"name": name}},
                    content_type="application/json", HTTP_X_PARTNER_KEY=key)

    got = _figures(leader, issuer)
    assert got == {"eid.issued_today": 3, "eid.valid": 2, "eid.verifications_today": 2,
                   "eid.failed_verifications_today": 1}
    elsewhere = f.department("别的局")
    stranger = f.user(Role.SUPERVISOR, department=elsewhere)
    assert _figures(stranger, elsewhere)["eid.issued_today"] == 0
    with pytest.raises(NotFound):
        selectors.indicators(actor=stranger, department=issuer)
