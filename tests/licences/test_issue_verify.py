"""Issuing through the service, and verifying QR payloads: valid, tampered, revoked, cancelled, expired."""

import datetime

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from smartgov.accounts.selectors import public_key
from smartgov.accounts.services import rotate_department_key
from smartgov.audit.models import AuditEntry
from smartgov.core.errors import Conflict, Forbidden, InvalidInput
from smartgov.core.permissions import Role, system_actor
from smartgov.licences import payload, selectors, services
from smartgov.licences.identifiers import is_valid_identifier
from smartgov.licences.models import Licence, LicenceStatus
from smartgov.licences.selectors import REASONS, verify_payload
from tests import factories as f

pytestmark = pytest.mark.django_db
B64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"


def test_issued_licence_verifies_and_signs_no_clear_id_number(world, today):
    licence = world.issue_food()
    assert is_valid_identifier(licence.identifier)
    assert licence.identifier.split(".")[5:8] == [world.food.code, world.dept.uscc, "0000001"]
    assert licence.valid_until == licence.valid_from.replace(year=licence.valid_from.year + 5) - datetime.timedelta(1)
    claims = orjson.loads(licence.signed_content)
    assert claims["holder"] == {"kind": "person", "name": "张三", "id": claims["holder"]["id"]}
    assert world.person.id_number not in licence.signed_content
    assert claims["holder"]["id"].startswith(world.person.id_number[:6]) and "*" in claims["holder"]["id"]
    assert public_key(licence.key_id).verify(bytes.fromhex(licence.signature), licence.signed_content.encode())
    outcome = verify_payload(selectors.payload_for(licence))
    assert outcome.ok and outcome.reason_code == "valid" and outcome.licence == licence
    assert AuditEntry.objects.filter(action="licences.licence.issue", target_id=str(licence.pk)).exists()


def test_serials_count_per_type_and_issuer(world):
    a, b = world.issue_food(), world.issue_food()
    c = world.issue_business()
    assert (a.serial, b.serial, c.serial) == (1, 2, 1)


def test_canonical_json_is_sorted_and_compact(world):
    licence = world.issue_business()
    assert licence.signed_content == orjson.dumps(orjson.loads(licence.signed_content),
                                                  option=orjson.OPT_SORT_KEYS).decode()
    assert ", " not in licence.signed_content and '": ' not in licence.signed_content


def test_payload_with_any_one_character_changed_is_rejected_with_a_reason(world):
    text = selectors.payload_for(world.issue_food())
    assert verify_payload(text).ok
    for i, char in enumerate(text):
        pool = B64 if char in B64 else "A."
        replacement = pool[(pool.index(char) + 1) % len(pool)] if char in pool else "A"
        outcome = verify_payload(text[:i] + replacement + text[i + 1:])
        assert not outcome.ok, (i, char, replacement)
        assert outcome.reason_code in REASONS and outcome.reason_message_zh


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.data())
def test_payload_with_a_random_substitution_is_rejected(world, data):
    text = _cached_payload(world)
    i = data.draw(st.integers(0, len(text) - 1))
    replacement = data.draw(st.characters(codec="utf-8").filter(lambda c, i=i: c != text[i]))
    outcome = verify_payload(text[:i] + replacement + text[i + 1:])
    assert not outcome.ok and outcome.reason_code in REASONS


_payloads: dict[int, str] = {}


def _cached_payload(world) -> str:
    if id(world) not in _payloads:
        _payloads[id(world)] = selectors.payload_for(world.issue_food())
    return _payloads[id(world)]


@pytest.mark.parametrize(("mangle", "code"), [
    (lambda p: "", "malformed_payload"),
    (lambda p: "hello world", "malformed_payload"),
    (lambda p: p.replace("SGL1", "SGL2", 1), "malformed_payload"),
    (lambda p: p + ".extra", "malformed_payload"),
    (lambda p: p.rsplit(".", 1)[0] + "." + "0" * 32, "unknown_key"),
    (lambda p: p + "=", "malformed_payload"),
])
def test_malformed_payloads_have_stable_codes(world, mangle, code):
    text = selectors.payload_for(world.issue_food())
    assert verify_payload(mangle(text)).reason_code == code


def test_signature_by_another_department_key_is_refused(world):
    licence = world.issue_food()
    from smartgov.accounts.services import signing_key_for

    key_id, private = signing_key_for(world.other)
    content = licence.signed_content.encode()
    forged = payload.encode(content, private.sign(content), key_id)
    assert verify_payload(forged).reason_code == "key_mismatch"


def test_well_signed_but_unregistered_licence_is_unknown(world):
    licence = world.issue_food()
    text = selectors.payload_for(licence)
    other = "Z" if licence.identifier[-1] != "Z" else "Y"  # (the check character is "Z" one time in 36)
    Licence.objects.filter(pk=licence.pk).update(identifier=licence.identifier[:-1] + other)  # a DBA's slip
    outcome = verify_payload(text)
    assert outcome.reason_code == "unknown_licence" and "证照库" in outcome.reason_message_zh


def test_revoked_and_cancelled_licences_fail_with_their_reason(world):
    a, b = world.issue_food(), world.issue_food()
    services.revoke_licence(actor=world.officer, licence=a, reason="以欺骗手段取得许可")
    services.cancel_licence(actor=world.officer, licence=b, reason="经营者申请注销")
    out_a, out_b = verify_payload(selectors.payload_for(a)), verify_payload(selectors.payload_for(b))
    assert out_a.reason_code == "revoked" and "吊销" in out_a.reason_message_zh
    assert "以欺骗手段取得许可" in out_a.reason_message_zh
    assert out_b.reason_code == "cancelled" and "经营者申请注销" in out_b.reason_message_zh
    actions = set(AuditEntry.objects.filter(action__startswith="licences.licence.").values_list("action", flat=True))
    assert {"licences.licence.revoke", "licences.licence.cancel"} <= actions
    with pytest.raises(Conflict) as exc:
        services.cancel_licence(actor=world.officer, licence=a, reason="再注销一次")
    assert exc.value.code == "licence_not_valid"


def test_revoking_needs_a_reason_and_writes_nothing_without_one(world):
    licence = world.issue_food()
    before = AuditEntry.objects.count()
    with pytest.raises(InvalidInput) as exc:
        services.revoke_licence(actor=world.officer, licence=licence, reason="   ")
    assert exc.value.code == "reason_required"
    licence.refresh_from_db()
    assert licence.status == LicenceStatus.VALID and AuditEntry.objects.count() == before


def test_expired_and_not_yet_valid(world, today):
    licence = world.issue_food()
    past = licence.valid_until + datetime.timedelta(days=1)
    outcome = verify_payload(selectors.payload_for(licence), today=past)
    assert outcome.reason_code == "expired" and licence.valid_until.isoformat() in outcome.reason_message_zh
    future = world.issue_food(valid_from=today + datetime.timedelta(days=10))
    outcome = verify_payload(selectors.payload_for(future))
    assert outcome.reason_code == "not_yet_valid"
    assert services.mark_expired_licences(actor=system_actor("test"), today=past) == 1  # the one valid from today; the other is later
    licence.refresh_from_db()
    assert licence.status == LicenceStatus.EXPIRED
    assert verify_payload(selectors.payload_for(licence)).reason_code == "expired"


def test_licences_signed_with_a_retired_key_still_verify(world):
    licence = world.issue_food()
    rotate_department_key(actor=f.user(Role.SYSADMIN), department=world.dept)
    assert verify_payload(selectors.payload_for(licence)).ok
    assert world.issue_food().key_id != licence.key_id


def test_verifying_a_scanned_url_works_too(world):
    licence = world.issue_food()
    assert verify_payload(selectors.verify_url(licence)).ok


def test_officer_of_another_department_cannot_issue(world):
    with pytest.raises(Forbidden):
        services.issue_licence(actor=world.stranger, licence_type=world.food, holder_person=world.person,
                               data={"premises": "x"})
    citizen = f.user(Role.CITIZEN)
    with pytest.raises(Forbidden):
        services.issue_licence(actor=citizen, licence_type=world.food, holder_person=world.person,
                               data={"premises": "x"})
    assert not Licence.objects.exists()


@pytest.mark.parametrize(("data", "code"), [
    ({}, "invalid_data"),
    ({"premises": "x", "colour": "red"}, "invalid_data"),
    ({"premises": "x" * 501}, "invalid_data"),
    ({"premises": ["a"]}, "invalid_data"),
])
def test_data_must_match_the_template(world, data, code):
    with pytest.raises(InvalidInput) as exc:
        world.issue_food(data=data)
    assert exc.value.code == code
    assert not Licence.objects.exists()


def test_clear_id_number_in_a_field_is_refused(world):
    with pytest.raises(InvalidInput) as exc:
        world.issue_food(data={"premises": f"负责人身份证{f.id_number()}"})
    assert exc.value.code == "invalid_data"


def test_holder_must_match_the_type(world):
    with pytest.raises(InvalidInput) as exc:
        services.issue_licence(actor=world.officer, licence_type=world.food, holder_enterprise=world.enterprise,
                               data={"premises": "x"})
    assert exc.value.code == "holder_kind_mismatch"
    with pytest.raises(InvalidInput) as exc:
        services.issue_licence(actor=world.officer, licence_type=world.food, data={"premises": "x"})
    assert exc.value.code == "holder_required"


def test_inactive_type_issues_nothing(world):
    services.update_licence_type(actor=world.admin, licence_type=world.food, changes={"active": False})
    with pytest.raises(Conflict) as exc:
        world.issue_food()
    assert exc.value.code == "type_inactive"


def test_database_refuses_a_licence_with_two_holders(world):
    from django.db import IntegrityError, transaction

    licence = world.issue_food()
    with pytest.raises(IntegrityError), transaction.atomic():
        Licence.objects.filter(pk=licence.pk).update(holder_enterprise=world.enterprise)


def test_type_template_is_validated(world):
    with pytest.raises(InvalidInput):
        services.create_licence_type(actor=world.admin, name="坏模板", code="BAD1", department=world.dept,
                                     holder_kind="person", field_template=[{"key": "1x", "label": ""}])
    with pytest.raises(Forbidden):
        services.create_licence_type(actor=world.stranger, name="越权", code="BAD2", department=world.dept,
                                     holder_kind="person")
