"""免申即享 end to end on the real services: screen → decision on exchange data → offer → confirm or
decline; events end or recheck; every decision names its rule version, data and exchange messages."""

import datetime

import pytest

from smartgov.audit.models import AuditEntry as Entry
from smartgov.core.errors import Conflict, InvalidInput, NotFound
from smartgov.core.masking import mask_id_number
from smartgov.exchange import services as exchange
from smartgov.exchange.models import Event as XEvent
from smartgov.exchange.models import Message
from smartgov.licences.models import HolderKind, LicenceType
from smartgov.licences.services import create_licence_type, issue_licence
from smartgov.onestop import services as onestop
from smartgov.onestop.models import Application, Channel, Notification, State
from smartgov.smart import services
from smartgov.smart.models import Decision, Grant, GrantStatus
from tests import factories as f
from tests.cleartext import tables_holding
from tests.smart import world as sw

pytestmark = pytest.mark.django_db


@pytest.fixture
def w(db):
    return sw.make()


def test_screen_offers_the_qualifiers_only_with_their_tier(w):
    counts = services.screen(actor=sw.SYSTEM)
    grants = {g.person_id: g for g in Grant.objects.all()}
    assert set(grants) == {w["elder"].pk, w["nonagenarian"].pk}
    assert (grants[w["elder"].pk].tier, float(grants[w["elder"].pk].amount)) == ("80至89周岁", 100)
    assert (grants[w["nonagenarian"].pk].tier, float(grants[w["nonagenarian"].pk].amount)) == ("90周岁以上", 200)
    assert all(g.status == GrantStatus.OFFERED and g.version == 1 for g in grants.values())
    assert counts["offered"] == 2 and counts["candidates"] == 2
    # a second run offers nothing new
    assert services.screen(actor=sw.SYSTEM)["offered"] == 0
    assert Grant.objects.count() == 2


def test_decision_records_rule_version_data_and_the_exchange_messages(w):
    services.screen(actor=sw.SYSTEM)
    grant = Grant.objects.get(person=w["elder"])
    d = Decision.objects.get(subject=f"grant:{grant.pk}")
    assert (d.rule_code, d.rule_version, d.qualified) == ("TGLJT", 1, True)
    assert d.facts["person.birth_date"] == w["elder"].birth_date.isoformat()
    [call] = d.messages
    msg = Message.objects.get(message_id=call["message_id"])
    assert (msg.consumer_id, msg.provider_id, msg.outcome) == (w["street"].pk, w["police"].pk, "ok")
    note = Notification.objects.get(user=w["elder_user"])
    assert "高龄津贴" in note.title and "年满80周岁" in note.body
    assert Entry.objects.filter(action="smart.grant.offer", target_id=str(grant.pk)).exists()


def test_without_an_agreement_nobody_qualifies_and_the_refusal_is_named(w):
    ag = w["person_res"].agreements.get(consumer=w["street"])
    exchange.revoke_agreement(actor=sw.SYSTEM, agreement=ag, reason="测试撤销")
    services.screen(actor=sw.SYSTEM)
    assert not Grant.objects.exists()
    d = Decision.objects.filter(rule_code="TGLJT").first()
    assert d.qualified is False and "缺少数据" in d.failed
    assert d.messages[0]["error"] == "agreement_revoked"


def test_citizen_confirms_with_bank_account_or_declines(w):
    services.screen(actor=sw.SYSTEM)
    grant = Grant.objects.get(person=w["elder"])
    with pytest.raises(InvalidInput):
        services.respond_to_grant(actor=w["elder_user"], grant=grant, accept=True, bank_name="", bank_account="12")
    grant.refresh_from_db()
    assert grant.status == GrantStatus.OFFERED and not grant.bank_account
    with pytest.raises(NotFound):  # someone else's offer answers as missing
        services.respond_to_grant(actor=w["young_user"], grant=grant, accept=False)
    services.respond_to_grant(actor=w["elder_user"], grant=grant, accept=True, bank_name="示范银行",
                              bank_account="6222 0000 1111 2222")
    grant.refresh_from_db()
    assert (grant.status, grant.bank_account) == (GrantStatus.ACTIVE, "6222000011112222")
    entry = Entry.objects.get(action="smart.grant.confirm")
    assert "6222000011112222" not in str(entry.changes)  # the audit trail masks the account
    other = Grant.objects.get(person=w["nonagenarian"])
    services.respond_to_grant(actor=w["nonagenarian_user"], grant=other, accept=False)
    other.refresh_from_db()
    assert other.status == GrantStatus.DECLINED


def test_death_event_ends_the_grant_at_once(w):
    services.screen(actor=sw.SYSTEM)
    grant = Grant.objects.get(person=w["elder"])
    event = exchange.publish_event(actor=sw.SYSTEM, resource=w["person_res"], event_type="person.deceased",
                                   subject=w["elder"].id_number)
    exchange.deliver_due(actor=sw.SYSTEM)
    grant.refresh_from_db()
    assert grant.status == GrantStatus.ENDED and "去世" in grant.end_reason and event.event_id in grant.end_reason
    assert Grant.objects.get(person=w["nonagenarian"]).status == GrantStatus.OFFERED


def test_moving_away_is_rechecked_on_fresh_data_and_ends_the_grant(w):
    from smartgov.identity.services import update_person

    services.screen(actor=sw.SYSTEM)
    grant = Grant.objects.get(person=w["elder"])
    update_person(actor=sw.SYSTEM, person=w["elder"], changes={"region_code": "320102"})
    services.handle_exchange_event({"type": "person.moved", "subject": w["elder"].id_number, "event_id": "e1"})
    grant.refresh_from_db()
    assert grant.status == GrantStatus.ENDED and "户籍在本市" in grant.end_reason
    assert Decision.objects.filter(subject=f"grant:{grant.pk}", kind="recheck", qualified=False).exists()


def test_periodic_recheck_moves_a_person_up_a_tier(w):
    services.screen(actor=sw.SYSTEM)
    grant = Grant.objects.get(person=w["elder"])
    later = w["today"] + datetime.timedelta(days=366 * 10)
    services.screen(actor=sw.SYSTEM, today=later)
    grant.refresh_from_db()
    assert (grant.status, grant.tier, float(grant.amount)) == (GrantStatus.OFFERED, "90周岁以上", 200)
    assert grant.next_check_on == later + datetime.timedelta(days=30)


def test_new_rule_version_is_used_and_recorded(w):
    defn = sw.elder_definition(amount=150)
    defn["sources"]["person"]["resource"] = w["person_res"].code
    defn["condition"]["all"][0]["value"] = 90
    ent = services.publish_entitlement(actor=w["street_admin"], department=w["street"], code="TGLJT", name="高龄津贴",
                                       definition=defn)
    assert ent.current_version == 2
    services.screen(actor=sw.SYSTEM)
    assert list(Grant.objects.values_list("person_id", "version")) == [(w["nonagenarian"].pk, 2)]


def test_publishing_a_bad_rule_changes_nothing(w):
    defn = sw.elder_definition()
    defn["condition"] = {"fact": "tax.grade", "op": "eq", "value": "A"}
    with pytest.raises(InvalidInput):
        services.publish_entitlement(actor=w["street_admin"], department=w["street"], code="TGLJT", name="高龄津贴",
                                     definition=defn)
    w["entitlement"].refresh_from_db()
    assert w["entitlement"].current_version == 1 and w["entitlement"].versions.count() == 1


def test_cli_screen_and_explain(w):
    import io
    import json

    from django.core.management import call_command

    out = io.StringIO()
    call_command("smart", "screen", stdout=out)
    assert json.loads(out.getvalue())["offered"] == 2
    grant = Grant.objects.get(person=w["elder"])
    out = io.StringIO()
    call_command("smart", "explain", str(grant.pk), stdout=out)
    line = json.loads(out.getvalue().splitlines()[0])
    assert (line["rule"], line["version"], line["qualified"]) == ("TGLJT", 1, True)


def _disability_entitlement(w):
    create_licence_type(actor=sw.SYSTEM, name="残疾人证", code="TCJRZ", department=w["street"],
                        holder_kind=HolderKind.PERSON, field_template=[{"key": "level", "label": "等级", "required": True}])
    defn = {"benefit": "残疾人两项补贴", "unit": "元/月", "amount": 120, "recheck_days": 90, "item": sw.ELDER_ITEM,
            "sources": {"disability": {"resource": w["licence_res"].code, "fields": ["count"],
                                       "params": {"id_number": "subject.id_number", "type_code": "TCJRZ"}}},
            "condition": {"fact": "disability.count", "op": "ge", "value": 1, "label": "持有有效的残疾人证"},
            "screen": {"licence": "TCJRZ"}, "decide_on": {"licence.issued": {"type_code": "TCJRZ"}}}
    exchange.subscribe(actor=sw.SYSTEM, consumer=w["street"], resource=w["licence_res"], handler="smart.entitlements")
    return services.publish_entitlement(actor=w["street_admin"], department=w["street"], code="TCJLXBT",
                                        name="残疾人两项补贴", definition=defn)


def test_a_new_fact_on_the_exchange_decides_for_that_person_at_once(w):
    """Issuing a licence publishes licence.issued on the licence directory (in the same transaction); the
    entitlement whose decide_on names that type decides for the holder as the event is delivered."""
    ent = _disability_entitlement(w)
    # another kind of licence issued: published, but not this entitlement's fact — nothing is decided
    issue_licence(actor=sw.SYSTEM, licence_type=w["jsz"], holder_person=w["young"], data={"licence_class": "C1"})
    exchange.deliver_due(actor=sw.SYSTEM)
    assert not Decision.objects.filter(rule_code="TCJLXBT").exists()
    issue_licence(actor=sw.SYSTEM, licence_type=LicenceType.objects.get(code="TCJRZ"), holder_person=w["young"],
                  data={"level": "二级"})
    event = XEvent.objects.get(event_type="licence.issued", data__type_code="TCJRZ")
    idn = w["young"].id_number
    assert (event.resource_id, event.clear_subject, event.subject) == (w["licence_res"].pk, idn, mask_id_number(idn))
    assert tables_holding(idn) == []  # the holder's ID number is encrypted in the event too
    assert not Grant.objects.filter(entitlement=ent).exists()  # decided when delivered, not before
    assert exchange.deliver_due(actor=sw.SYSTEM)["delivered"] == 1
    grant = Grant.objects.get(entitlement=ent)
    assert (grant.person_id, grant.status) == (w["young"].pk, GrantStatus.OFFERED)
    d = Decision.objects.get(subject=f"grant:{grant.pk}")
    assert d.actor == "system:smart.events" and d.facts["disability.count"] == 1
    assert "残疾人两项补贴" in Notification.objects.filter(user=w["young_user"]).first().title
    # delivered again (at least once): no second grant and no second decision
    sub = w["licence_res"].subscriptions.get(consumer=w["street"], handler="smart.entitlements")
    exchange.replay_from(actor=sw.SYSTEM, subscription=sub, offset=event.pk)
    assert exchange.deliver_due(actor=sw.SYSTEM)["delivered"] == 1
    assert Grant.objects.filter(entitlement=ent).count() == 1
    assert Decision.objects.filter(rule_code="TCJLXBT").count() == 1


def test_decide_on_must_map_event_types_to_data(w):
    with pytest.raises(InvalidInput):
        services.publish_entitlement(actor=w["street_admin"], department=w["street"], code="TBAD", name="坏规则",
                                     definition={**sw.elder_definition(), "decide_on": ["licence.issued"]})


def test_a_grant_is_a_one_stop_case_already_decided_in_both_lists(w):
    services.screen(actor=sw.SYSTEM)
    grant = Grant.objects.select_related("application").get(person=w["elder"])
    app = grant.application
    assert (app.state, app.channel, app.item_id) == (State.APPROVED, Channel.UNASKED, w["benefit_item"].pk)
    assert app.applicant_user_id == w["elder_user"].pk and "年满80周岁" in app.decision_reason
    assert [s.step for s in app.steps.all()] == ["免申即享认定"]
    assert Notification.objects.get(user=w["elder_user"]).application_id == app.pk  # the notice links the case
    assert Entry.objects.filter(action="onestop.application.proactive", target_id=str(app.pk)).exists()
    # the citizen's 我的办件 and the officer's queue list it; the officer has nothing to do on it
    assert app.number in f.staff_client(w["elder_user"]).get("/onestop/mine/").content.decode()
    officer = f.staff_client(w["street_officer"])
    assert app.number in officer.get("/onestop/work/").content.decode()
    assert 'data-testid="no-actions"' in officer.get(f"/onestop/work/{app.number}/").content.decode()
    with pytest.raises(Conflict):
        onestop.issue_result(actor=w["street_officer"], application=app)
    # the grant pages link the case
    assert f"/onestop/cases/{app.number}/" in f.staff_client(w["elder_user"]).get(
        f"/smart/mine/{grant.pk}/").content.decode()
    assert f"/onestop/work/{app.number}/" in f.staff_client(w["street_admin"]).get(
        f"/smart/grants/{grant.pk}/").content.decode()


def test_confirming_closes_the_case_and_declining_withdraws_it(w):
    services.screen(actor=sw.SYSTEM)
    grant = Grant.objects.get(person=w["elder"])
    services.respond_to_grant(actor=w["elder_user"], grant=grant, accept=True, bank_name="示范银行",
                              bank_account="6222000011112222")
    app = Application.objects.get(pk=grant.application_id)
    assert app.state == State.CLOSED and app.closed_at is not None
    assert app.steps.order_by("-pk").first().step == "确认领取"
    other = Grant.objects.get(person=w["nonagenarian"])
    services.respond_to_grant(actor=w["nonagenarian_user"], grant=other, accept=False)
    assert Application.objects.get(pk=other.application_id).state == State.WITHDRAWN
    with pytest.raises(Conflict):  # the case followed the answer; it cannot be answered twice
        onestop.conclude_decided_case(actor=w["nonagenarian_user"], application=other.application, outcome="confirm")


def test_an_offer_ended_before_the_answer_closes_its_case(w):
    services.screen(actor=sw.SYSTEM)
    grant = Grant.objects.get(person=w["elder"])
    exchange.publish_event(actor=sw.SYSTEM, resource=w["person_res"], event_type="person.deceased",
                           subject=w["elder"].id_number)
    exchange.deliver_due(actor=sw.SYSTEM)
    app = Application.objects.get(pk=grant.application_id)
    assert app.state == State.CLOSED and "去世" in app.steps.order_by("-pk").first().opinion


def test_an_entitlement_names_an_item_of_its_own_department(w):
    defn = {**sw.elder_definition(), "item": "JF09999000"}
    defn["sources"]["person"]["resource"] = w["person_res"].code
    with pytest.raises(InvalidInput) as exc:
        services.publish_entitlement(actor=w["street_admin"], department=w["street"], code="TGLJT2", name="高龄津贴",
                                     definition=defn)
    assert exc.value.detail == {"path": "item"}
    with pytest.raises(InvalidInput):
        services.publish_entitlement(actor=w["street_admin"], department=w["street"], code="TGLJT2", name="高龄津贴",
                                     definition={k: v for k, v in defn.items() if k != "item"})


def test_a_rule_version_from_before_items_still_grants_without_a_case(w):
    version = w["entitlement"].versions.get(version=1)
    version.definition = {k: v for k, v in version.definition.items() if k != "item"}
    version.save(update_fields=["definition"])  # as stored before entitlements named their item
    services.screen(actor=sw.SYSTEM)
    grant = Grant.objects.get(person=w["elder"])
    assert grant.status == GrantStatus.OFFERED and grant.application_id is None
    services.respond_to_grant(actor=w["elder_user"], grant=grant, accept=False)
    assert not Application.objects.exists()
