"""Licences publish on the data exchange as they change: issue, revoke and cancel call the licences hook
inside their own transaction, and the exchange publishes licence.issued / revoked / cancelled on every
licence-library resource that declares the event (the outbox). A person's ID number, the subject, is
kept encrypted like every other ID number."""

import pytest

from smartgov.audit.models import AuditEntry
from smartgov.core.masking import mask_id_number
from smartgov.core.permissions import Role
from smartgov.exchange import services as exchange
from smartgov.exchange.models import Delivery, Event
from smartgov.licences import hooks
from smartgov.licences.models import Licence, LicenceStatus
from smartgov.licences.services import cancel_licence, revoke_licence
from tests import factories as f
from tests.cleartext import tables_holding
from tests.exchange import factories as xf

pytestmark = pytest.mark.django_db

EVENTS = ["licence.issued", "licence.revoked", "licence.cancelled"]
ITEMS = [{"key": "holder", "name": "持证主体", "personal": True}, {"key": "count", "name": "有效证照数", "type": "number"}]


def _directory(adapter, *, events=EVENTS, clear_fields=()):
    """A licence-library resource, a consumer subscribed to it by an in-platform handler, what it received."""
    provider = f.department("政务服务数据局")
    params = [{"key": "id_number", "name": "公民身份号码", "type": "id_number"}] if adapter == "licences.person" \
        else [{"key": "uscc", "name": "统一社会信用代码", "type": "uscc"}]
    res = exchange.publish_resource(
        actor=xf.SYSTEM, department=provider, code=f"BM-{provider.code}-00001", name="电子证照目录",
        share_type="unconditional", content={**xf.content(adapter=adapter, items=ITEMS, events=events), "params": params})
    consumer = f.department("民政局")
    xf.agreement(res, xf.consumer_officer(consumer), fields=["holder", "count"], clear_fields=clear_fields)
    seen = []
    exchange.register_handler(f"tests.licences.{adapter}", seen.append)
    exchange.subscribe(actor=xf.SYSTEM, consumer=consumer, resource=res, handler=f"tests.licences.{adapter}")
    return res, seen


def test_issuing_revoking_and_cancelling_publish_events_with_the_id_number_encrypted(world):
    res, seen = _directory("licences.person")
    a = world.issue_food()
    b = world.issue_food(data={"premises": "示范市东城区幸福路2号"})
    assert exchange_types(res) == ["licence.issued", "licence.issued"]
    revoke_licence(actor=world.officer, licence=a, reason="违法经营")
    cancel_licence(actor=world.officer, licence=b, reason="申请注销")
    assert exchange_types(res) == ["licence.issued", "licence.issued", "licence.revoked", "licence.cancelled"]
    idn = world.person.id_number
    events = list(Event.objects.filter(resource=res).order_by("pk"))
    assert {e.clear_subject for e in events} == {idn} and {e.subject for e in events} == {mask_id_number(idn)}
    assert [e.data for e in events] == [{"type_code": world.food.code, "identifier": lic.identifier}
                                        for lic in (a, b, a, b)]
    assert exchange.deliver_due(actor=xf.SYSTEM)["delivered"] == 4
    # the consumer's agreement does not grant the holder in clear: masked, with the blind index to match on
    assert {d["subject"] for d in seen} == {mask_id_number(idn)} and all(d["subject_masked"] for d in seen)
    assert len({d["subject_index"] for d in seen}) == 1
    assert tables_holding(idn) == [] and tables_holding(idn[:14]) == []


def exchange_types(res):
    return list(Event.objects.filter(resource=res).order_by("pk").values_list("event_type", flat=True))


def test_a_subscriber_granted_the_holder_in_clear_receives_the_id_number(world):
    _res, seen = _directory("licences.person", clear_fields=["holder"])
    world.issue_food()
    exchange.deliver_due(actor=xf.SYSTEM)
    assert seen[0]["subject"] == world.person.id_number and seen[0]["subject_masked"] is False


def test_an_enterprise_licence_is_published_with_the_uscc(world):
    res, _seen = _directory("licences.enterprise")
    person_res, _ = _directory("licences.person")
    lic = world.issue_business()
    (event,) = Event.objects.filter(resource=res)
    assert (event.event_type, event.subject, event.personal_subject) == ("licence.issued", world.enterprise.uscc, False)
    assert event.data["identifier"] == lic.identifier
    assert not Event.objects.filter(resource=person_res).exists()  # a person directory hears nothing of it


def test_only_declared_events_are_published(world):
    res, _seen = _directory("licences.person", events=["licence.revoked"])
    lic = world.issue_food()
    assert not Event.objects.filter(resource=res).exists()
    revoke_licence(actor=world.officer, licence=lic, reason="违法经营")
    assert exchange_types(res) == ["licence.revoked"]


def test_the_licence_and_its_event_commit_together_or_not_at_all(world, monkeypatch):
    res, _seen = _directory("licences.person")

    def broken(**_kw):
        raise RuntimeError("the exchange is down")

    monkeypatch.setattr(hooks, "CHANGED", [*hooks.CHANGED, broken])
    before = (Licence.objects.count(), Event.objects.count(), Delivery.objects.count(), AuditEntry.objects.count())
    with pytest.raises(RuntimeError):
        world.issue_food()
    assert (Licence.objects.count(), Event.objects.count(), Delivery.objects.count(),
            AuditEntry.objects.count()) == before
    monkeypatch.undo()
    lic = world.issue_food()
    assert Event.objects.filter(resource=res, data__identifier=lic.identifier).count() == 1


def test_bad_input_publishes_nothing(world):
    res, _seen = _directory("licences.person")
    client = f.staff_client(world.officer)
    resp = client.post("/api/licences/licences", {
        "type_code": world.food.code, "holder": {"kind": "person", "code": world.person.id_number},
        "data": {"nonsense": "x"}}, content_type="application/json")
    assert resp.status_code == 422 and resp.json()["code"] == "invalid_data"
    assert not Event.objects.filter(resource=res).exists()


def test_through_the_api_and_the_officer_page(world):
    res, _seen = _directory("licences.person")
    client = f.staff_client(world.officer)
    resp = client.post("/api/licences/licences", {
        "type_code": world.food.code, "holder": {"kind": "person", "code": world.person.id_number},
        "data": {"premises": "东城区幸福路1号"}}, content_type="application/json")
    assert resp.status_code == 201
    lic = Licence.objects.get(pk=resp.json()["id"])
    resp = client.post(f"/licences/{lic.pk}/end/", {"action": "revoke", "reason": "违法经营"})
    assert resp.status_code == 302
    lic.refresh_from_db()
    assert lic.status == LicenceStatus.REVOKED
    assert exchange_types(res) == ["licence.issued", "licence.revoked"]
    assert tables_holding(world.person.id_number) == []
    # another department's officer cannot revoke: nothing changes, nothing is published
    other = f.staff_client(f.user(Role.OFFICER, department=world.other))
    assert other.post(f"/api/licences/licences/{lic.pk}/cancel", {"reason": "越权"},
                      content_type="application/json").status_code == 404
    assert exchange_types(res) == ["licence.issued", "licence.revoked"]
