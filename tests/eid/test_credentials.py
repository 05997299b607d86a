import datetime

import pytest

from smartgov.audit.models import AuditEntry
from smartgov.core.permissions import Role, system_actor
from smartgov.eid import credentials, services
from smartgov.eid.models import CredentialStatus
from tests import factories as f

from .conftest import make_person

pytestmark = pytest.mark.django_db


def test_eid_is_random_with_a_check_character_and_not_the_id_number(issuer):
    person = make_person()
    cred = services.issue_eid(actor=system_actor("test"), person=person, issuer=issuer)
    assert credentials.is_valid_eid(cred.eid) and cred.eid[1:7] != person.id_number[:6]
    assert services.issue_eid(actor=system_actor("test"), person=person, issuer=issuer).eid != cred.eid
    cred.refresh_from_db()
    assert cred.status == CredentialStatus.SUPERSEDED  # re-issue supersedes the old one


def test_payload_verifies_offline_and_every_single_character_change_is_rejected(issuer):
    cred = services.issue_eid(actor=system_actor("test"), person=make_person(), issuer=issuer)
    payload = services.qr_payload(cred)
    ok = services.verify_eid_payload(payload)
    assert ok.ok and ok.claims["eid"] == cred.eid and ok.claims["name"] == "张三"
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_."
    for i in range(0, len(payload), 3):
        other = next(c for c in alphabet if c != payload[i])
        outcome = services.verify_eid_payload(payload[:i] + other + payload[i + 1:])
        assert not outcome.ok and outcome.code in credentials.REASONS and outcome.message, i


def test_revoked_and_expired_credentials_fail_with_their_reason(issuer):
    cred = services.issue_eid(actor=system_actor("test"), person=make_person(), issuer=issuer)
    payload = services.qr_payload(cred)
    later = cred.valid_until + datetime.timedelta(days=1)
    assert services.verify_eid_payload(payload, today=later).code == "expired"
    officer = f.user(Role.OFFICER, department=issuer)
    services.revoke_eid(actor=officer, credential=cred, reason="证件遗失")
    outcome = services.verify_eid_payload(payload)
    assert outcome.code == "revoked" and "吊销" in outcome.message
    assert AuditEntry.objects.filter(action="eid.credential.revoke").count() == 1


def test_officer_of_another_department_cannot_revoke(issuer):
    from smartgov.core.errors import DomainError

    cred = services.issue_eid(actor=system_actor("test"), person=make_person(), issuer=issuer)
    with pytest.raises(DomainError):
        services.revoke_eid(actor=f.user(Role.OFFICER), credential=cred, reason="x")


def test_public_check_api_and_revocation_list(issuer, client):
    cred = services.issue_eid(actor=system_actor("test"), person=make_person(), issuer=issuer)
    payload = services.qr_payload(cred)
    body = client.post("/api/eid/verify-payload", {"payload": payload}, content_type="application/json").json()
    assert body["ok"] is True and body["code"] == "valid"
    bad = client.post("/api/eid/verify-payload", {"payload": payload[:-3] + "AAA"},
                      content_type="application/json").json()
    assert bad["ok"] is False and bad["message"]
    crl = client.get("/api/eid/revocations").json()
    assert cred.key_id in crl["keys"] and crl["revoked"] == []


def test_cli_registers_a_partner_and_checks_payloads(issuer, capsys):
    from django.core.management import call_command
    from django.core.management.base import CommandError

    call_command("eid", "partner", "add", "--code", "clinic", "--name", "诊所", "--attributes", "name")
    key = capsys.readouterr().out.strip().splitlines()[-1]
    assert services.authenticate_partner(key).code == "clinic"
    cred = services.issue_eid(actor=system_actor("test"), person=make_person(), issuer=issuer)
    call_command("eid", "check", services.qr_payload(cred))
    assert "EID有效" in capsys.readouterr().out
    with pytest.raises(CommandError) as exc:
        call_command("eid", "check", services.qr_payload(cred)[:-2] + "xx")
    assert exc.value.returncode == 1


def test_officers_of_the_eid_authority_issue_and_revoke_through_the_api(issuer):
    person = make_person("蒋十二")
    officer = f.staff_client(f.user(Role.OFFICER, department=issuer))
    resp = officer.post(f"/api/eid/persons/{person.pk}/credentials")
    assert resp.status_code == 201 and resp.json()["status"] == "valid"
    eid = resp.json()["eid"]
    assert officer.post(f"/api/eid/credentials/{eid}/revoke", {"reason": ""},
                        content_type="application/json").status_code == 422
    revoked = officer.post(f"/api/eid/credentials/{eid}/revoke", {"reason": "本人申请"},
                           content_type="application/json")
    assert revoked.json()["status"] == "revoked" and revoked.json()["revoke_reason"] == "本人申请"
    stranger = f.staff_client(f.user(Role.OFFICER))
    assert stranger.post(f"/api/eid/persons/{person.pk}/credentials").status_code == 403
    assert officer.post("/api/eid/credentials/E000/revoke", {"reason": "x"},
                        content_type="application/json").status_code == 404


def test_a_changed_unused_bit_in_the_last_character_of_the_signature_is_rejected(issuer):
    cred = services.issue_eid(actor=system_actor("test"), person=make_person(), issuer=issuer)
    payload = services.qr_payload(cred)
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    last = payload[-1]
    # every other spelling of the last character (the ones decoding to the same bytes included)
    for other in (c for c in alphabet if c != last):
        assert not services.verify_eid_payload(payload[:-1] + other).ok, other
