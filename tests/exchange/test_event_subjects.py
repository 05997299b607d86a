"""Event subjects that are 公民身份号码 are personal data: kept SM4-encrypted with the register's blind
index, shown and delivered masked unless the receiving department's agreement grants them in clear."""

import importlib

import pytest
from django.apps import apps
from django.db import connection

from smartgov.audit.models import AuditEntry
from smartgov.core.crypto import keys
from smartgov.core.errors import InvalidInput
from smartgov.core.masking import mask_id_number
from smartgov.core.permissions import Role
from smartgov.exchange import services
from smartgov.exchange.models import Delivery, Event
from tests import factories as f
from tests.cleartext import tables_holding
from tests.exchange import factories as xf

pytestmark = pytest.mark.django_db


def _subscribed(*, clear_fields=(), handler="exchange.audit", url="", parent=None):
    provider = f.department("公安局")
    res = xf.resource(provider, events=["person.deceased"])
    consumer = f.department("民政局", parent=parent)
    xf.agreement(res, xf.consumer_officer(consumer), clear_fields=clear_fields)
    admin = f.user(Role.DEPT_ADMIN, department=consumer)
    sub, _secret = services.subscribe(actor=admin, resource=res, handler="" if url else handler, url=url)
    return res, sub, admin


def test_an_id_number_subject_is_stored_encrypted_with_the_registers_blind_index():
    res, _sub, _ = _subscribed(handler="exchange.audit")
    idn = f.id_number("19400101")
    ev = services.publish_event(actor=xf.SYSTEM, resource=res, event_type="person.deceased", subject=idn.lower())
    with connection.cursor() as cur:
        cur.execute("SELECT subject, subject_id_number, subject_id_number_bidx FROM exchange_event WHERE id = %s",
                    [ev.pk])
        subject, stored, bidx = cur.fetchone()
    assert subject == mask_id_number(idn) and stored.startswith("v") and idn not in stored
    assert bidx == keys.blind_index(idn, purpose="id_number")  # the same index as the register's
    again = Event.objects.get(pk=ev.pk)
    assert again.clear_subject == idn and again.personal_subject
    entry = AuditEntry.objects.get(action="exchange.event.publish", target_id=str(ev.pk))
    assert idn not in entry.changes and mask_id_number(idn) in entry.changes
    services.deliver_due(actor=xf.SYSTEM)  # the audit handler records receipt, masked too
    assert tables_holding(idn) == [] and tables_holding(idn[:14]) == []


def test_other_subjects_stay_as_they_are():
    res, _sub, _ = _subscribed()
    ev = services.publish_event(actor=xf.SYSTEM, resource=res, event_type="person.deceased", subject="e-001")
    ev.refresh_from_db()
    assert (ev.subject, ev.subject_id_number, ev.subject_id_number_bidx, ev.personal_subject) == \
        ("e-001", None, "", False)


@pytest.mark.parametrize(("clear_fields", "in_clear"), [((), False), (("id_number",), True), (("name",), False)])
def test_a_subscriber_gets_the_subject_in_clear_only_when_its_agreement_grants_the_id_number(clear_fields, in_clear):
    seen = []
    services.register_handler("tests.subjects", seen.append)
    res, _sub, _ = _subscribed(clear_fields=clear_fields, handler="tests.subjects")
    idn = f.id_number("19410202")
    services.publish_event(actor=xf.SYSTEM, resource=res, event_type="person.deceased", subject=idn)
    assert services.deliver_due(actor=xf.SYSTEM)["delivered"] == 1
    (doc,) = seen
    assert doc["subject"] == (idn if in_clear else mask_id_number(idn))
    assert doc["subject_masked"] is not in_clear
    # in-platform subscribers can always match the person through the register's blind index
    assert doc["subject_index"] == keys.blind_index(idn, purpose="id_number")


def test_an_id_number_shaped_subject_that_fails_its_check_is_refused_and_nothing_is_written():
    res, _sub, _ = _subscribed()
    good = f.id_number("19420303")
    bad = good[:-1] + ("0" if good[-1] != "0" else "1")
    before = (Event.objects.count(), AuditEntry.objects.count())
    with pytest.raises(InvalidInput) as exc:
        services.publish_event(actor=xf.SYSTEM, resource=res, event_type="person.deceased", subject=bad)
    assert exc.value.code == "invalid_subject_id_number"
    assert (Event.objects.count(), AuditEntry.objects.count()) == before


def test_the_api_refuses_a_bad_id_number_subject_with_a_stable_code():
    provider = f.department("公安局")
    res = xf.resource(provider, events=["person.deceased"])
    admin = f.user(Role.DEPT_ADMIN, department=provider)
    client = f.staff_client(admin)
    good = f.id_number("19430404")
    bad = good[:-1] + ("0" if good[-1] != "0" else "1")
    before = Event.objects.count()
    resp = client.post(f"/api/exchange/events/{res.code}", {"event_type": "person.deceased", "subject": bad},
                       content_type="application/json")
    assert resp.status_code == 422 and resp.json()["code"] == "invalid_subject_id_number"
    assert "身份号码" in resp.json()["message"] and Event.objects.count() == before
    resp = client.post(f"/api/exchange/events/{res.code}", {"event_type": "person.deceased", "subject": good},
                       content_type="application/json")
    assert resp.status_code == 201
    assert Event.objects.get(event_id=resp.json()["event_id"]).clear_subject == good
    assert tables_holding(good) == []


@pytest.mark.parametrize("entitled", [False, True])
def test_dead_letters_show_the_subject_masked_unless_the_department_may_see_it(settings, entitled):
    settings.EXCHANGE_WEBHOOK_MAX_ATTEMPTS = 1
    city = f.department("市政府")
    res, sub, admin = _subscribed(clear_fields=("id_number",) if entitled else (), url="http://127.0.0.1:9/hook",
                                  parent=city)
    idn = f.id_number("19440505")
    services.publish_event(actor=xf.SYSTEM, resource=res, event_type="person.deceased", subject=idn)
    assert services.deliver_due(actor=xf.SYSTEM)["dead"] == 1
    page = f.staff_client(admin).get("/exchange/subscriptions/").content.decode()
    assert mask_id_number(idn) in page or idn in page
    assert (idn in page) is entitled
    # a supervisor above the consumer sees it masked even so
    sup = f.user(Role.SUPERVISOR, department=city)
    sup_page = f.staff_client(sup).get("/exchange/subscriptions/").content.decode()
    assert mask_id_number(idn) in sup_page and idn not in sup_page
    assert Delivery.objects.filter(subscription=sub).count() == 1


def test_the_migration_encrypts_subjects_published_before_it_and_is_safe_to_run_twice():
    res, _sub, _ = _subscribed()
    idn = f.id_number("19450606")
    ev = services.publish_event(actor=xf.SYSTEM, resource=res, event_type="person.deceased", subject="x")
    other = services.publish_event(actor=xf.SYSTEM, resource=res, event_type="person.deceased",
                                   subject="123456789012345678")  # 18 digits that are not an ID number
    # as an old server wrote it: the ID number in clear, nothing encrypted
    Event.objects.filter(pk=ev.pk).update(subject=idn, subject_id_number=None, subject_id_number_bidx="")
    Event.objects.filter(pk=other.pk).update(subject="123456789012345678")
    assert tables_holding(idn) == ["exchange_event.subject"]
    backfill = importlib.import_module("smartgov.exchange.migrations.0004_encrypt_event_subjects")
    for _ in range(2):
        backfill.encrypt_id_number_subjects(apps, None)
        ev.refresh_from_db()
        assert (ev.subject, ev.clear_subject) == (mask_id_number(idn), idn)
        assert ev.subject_id_number_bidx == keys.blind_index(idn, purpose="id_number")
    assert tables_holding(idn) == []
    assert Event.objects.get(pk=other.pk).subject == "123456789012345678"


def test_a_residence_permit_number_is_personal_too():
    from smartgov.core.validators import id_number_check_char

    res, _sub, _ = _subscribed()
    first17 = "830000199001011234"[:17]
    permit = first17 + id_number_check_char(first17)
    ev = services.publish_event(actor=xf.SYSTEM, resource=res, event_type="person.deceased", subject=permit)
    ev.refresh_from_db()
    assert ev.personal_subject and ev.clear_subject == permit and ev.subject == mask_id_number(permit)
    assert tables_holding(permit) == []
