"""数据共享交换 figures for the city overview: calls per day, today's refusals, providers failing — counted for
the consumer's and the provider's scope, in one query."""

import pytest

from smartgov.core.errors import Forbidden, NotFound
from smartgov.core.permissions import Role
from smartgov.exchange import selectors, services
from smartgov.exchange.providers import ProviderError
from tests import factories as f
from tests.exchange.test_calls import _fresh_timestamp_state, _setup, provider_server  # noqa: F401

pytestmark = pytest.mark.django_db


def _figures(actor, department):
    return f.indicator_values(selectors, actor, department, queries=1)


def test_calls_refusals_and_failing_providers_on_both_sides(provider_server):  # noqa: F811
    url = f"http://127.0.0.1:{provider_server.server_address[1]}/query"
    res, officer, _ag, person = _setup(served_by={"kind": "http", "url": url, "timeout_ms": 300})
    consumer_leader = f.user(Role.SUPERVISOR, department=officer.department)
    provider_leader = f.user(Role.SUPERVISOR, department=res.department)
    assert _figures(consumer_leader, officer.department) == {
        "exchange.calls_today": 0, "exchange.refused_today": 0, "exchange.providers_down": 0}

    services.call_resource(actor=officer, resource_code=res.code, params={"id_number": person})
    with pytest.raises(Forbidden):
        services.call_resource(actor=officer, resource_code=res.code, params={"id_number": person},
                               fields=["not_agreed"])
    provider_server.mode = "error"
    with pytest.raises(ProviderError):
        services.call_resource(actor=officer, resource_code=res.code, params={"id_number": person})

    consumer_side = _figures(consumer_leader, officer.department)
    provider_side = _figures(provider_leader, res.department)
    assert consumer_side["exchange.calls_today"] == provider_side["exchange.calls_today"] == 3
    assert consumer_side["exchange.refused_today"] == 1
    # the failing provider is the provider's department: counted in its scope, not in the consumer's
    assert provider_side["exchange.providers_down"] == 1 and consumer_side["exchange.providers_down"] == 0

    stranger = f.user(Role.SUPERVISOR, department=f.department("无关部门"))
    assert _figures(stranger, stranger.department)["exchange.calls_today"] == 0
    with pytest.raises(NotFound):
        selectors.indicators(actor=stranger, department=res.department)
