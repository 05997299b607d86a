import orjson
import pytest

from smartgov.core.permissions import Role
from smartgov.eid import services
from smartgov.eid.models import VerificationRecord
from tests import factories as f
from tests.biometrics.conftest import small_index  # noqa: F401  (fixture)

from .conftest import last_code, make_person

pytestmark = pytest.mark.django_db


@pytest.fixture
def partner():
    p, key = services.register_partner(actor=f.user(Role.SYSADMIN), code="bank", name="示范银行",
                                       allowed_attributes=["name", "birth_date"])
    return p, key


def call(client, key, path, body):
    return client.post(f"/api/idauth/{path}", body, content_type="application/json", HTTP_X_PARTNER_KEY=key)


def test_demographic_otp_and_token_never_an_id_number(client, partner, otp_capture):
    _, key = partner
    person = make_person("李四", "19851212")
    txn = call(client, key, "otp", {"id_type": "id_number", "id_value": person.id_number, "purpose": "开户"}).json()
    assert txn["sent"] and otp_capture
    resp = call(client, key, "verify", {
        "id_type": "id_number", "id_value": person.id_number, "purpose": "开户",
        "demographics": {"name": "李四", "birth_date": "1985-12-12"},
        "otp": {"transaction_id": txn["transaction_id"], "code": last_code(person)},
        "kyc_attributes": ["name", "address"]})
    body = resp.json()
    assert resp.status_code == 200 and body["result"] is True, body
    assert body["factors"] == {"demographic": True, "otp": True}
    assert body["partner_token"] and body["kyc"] == {}  # no consent yet: nothing shared
    assert person.id_number not in resp.content.decode() and person.id_number[:14] not in resp.content.decode()
    # same person, another partner: another token
    _, key2 = services.register_partner(actor=f.user(Role.SYSADMIN), code="hospital", name="示范医院")
    other = call(client, key2, "verify", {"id_type": "id_number", "id_value": person.id_number, "purpose": "挂号",
                                         "demographics": {"name": "李四"}}).json()
    assert other["result"] and other["partner_token"] != body["partner_token"]
    assert VerificationRecord.objects.filter(person=person).count() == 2


def test_ekyc_returns_only_consented_and_allowed_attributes(client, partner):
    p, key = partner
    person = make_person("王五")
    services.grant_consent(person=person, partner=p, attributes=["name", "address", "phone"])
    body = call(client, key, "verify", {"id_type": "id_number", "id_value": person.id_number, "purpose": "开户",
                                       "demographics": {"name": "王五"},
                                       "kyc_attributes": ["name", "phone", "birth_date"]}).json()
    assert body["kyc"] == {"name": "王五"}  # phone not allowed for this partner, birth_date not consented


def test_wrong_name_otp_reuse_and_unknown_people_fail_and_are_recorded(client, partner):
    p, key = partner
    person = make_person("赵六")
    wrong = call(client, key, "verify", {"id_type": "id_number", "id_value": person.id_number, "purpose": "x",
                                        "demographics": {"name": "赵七"}}).json()
    assert wrong["result"] is False and wrong["reason"] == "demographic_mismatch" and wrong["partner_token"] is None
    txn = call(client, key, "otp", {"id_type": "id_number", "id_value": person.id_number, "purpose": "x"}).json()
    code = last_code(person)
    first = call(client, key, "verify", {"id_type": "id_number", "id_value": person.id_number, "purpose": "x",
                                        "otp": {"transaction_id": txn["transaction_id"], "code": code}}).json()
    again = call(client, key, "verify", {"id_type": "id_number", "id_value": person.id_number, "purpose": "x",
                                        "otp": {"transaction_id": txn["transaction_id"], "code": code}}).json()
    assert first["result"] is True and again["result"] is False  # a code works once
    nobody = call(client, key, "verify", {"id_type": "id_number", "id_value": f.id_number(), "purpose": "x",
                                         "demographics": {"name": "谁"}}).json()
    assert nobody["result"] is False and nobody["reason"] == "identity_not_found"
    assert VerificationRecord.objects.filter(partner=p).count() == 4


def test_vid_stands_in_for_the_id_number_until_revoked(client, partner):
    _, key = partner
    person = make_person("钱七")
    vid = services.create_vid(person=person, hours=1)
    ok = call(client, key, "verify", {"id_type": "vid", "id_value": vid.vid, "purpose": "x",
                                     "demographics": {"name": "钱七"}}).json()
    assert ok["result"] is True
    services.revoke_vid(person=person, vid=vid)
    gone = call(client, key, "verify", {"id_type": "vid", "id_value": vid.vid, "purpose": "x",
                                       "demographics": {"name": "钱七"}}).json()
    assert gone["result"] is False and gone["reason"] == "identity_not_found"


def test_partner_key_is_required_and_bad_input_is_refused(client, partner):
    _, key = partner
    person = make_person()
    assert call(client, "sgp_nope_nope", "verify", {}).status_code == 401
    resp = call(client, key, "verify", {"id_type": "passport", "id_value": "x", "purpose": "x"})
    assert resp.status_code == 422 and resp.json()["code"] == "invalid_input"
    none = call(client, key, "verify", {"id_type": "id_number", "id_value": person.id_number, "purpose": "x"})
    assert none.status_code == 422 and none.json()["code"] == "no_factor"
    assert VerificationRecord.objects.count() == 0
    assert orjson.loads(none.content)["message"]


def test_all_three_factors_demographic_otp_and_biometric(client, partner, otp_capture, small_index, rng):  # noqa: F811
    """The identity issue's partner walk-through: name + one-time code + a face template, one call."""
    from smartgov.biometrics.services import enrol_template
    from tests.biometrics.conftest import noisy_copy, random_vector

    _, key = partner
    person = make_person("冯十一", "19790102")
    enrolled = random_vector(rng)
    enrol_template(actor=f.user(Role.OFFICER), person=person, modality="face", vector=enrolled, quality=90)
    txn = call(client, key, "otp", {"id_type": "id_number", "id_value": person.id_number, "purpose": "开户"}).json()
    body = {"id_type": "id_number", "id_value": person.id_number, "purpose": "开户",
            "demographics": {"name": "冯十一", "birth_date": "1979-01-02"},
            "otp": {"transaction_id": txn["transaction_id"], "code": last_code(person)},
            "biometric": {"modality": "face", "vector": noisy_copy(rng, enrolled)}}
    resp = call(client, key, "verify", body)
    assert resp.json()["factors"] == {"demographic": True, "otp": True, "biometric": True}
    assert resp.json()["result"] is True and person.id_number not in resp.content.decode()
    impostor = dict(body, otp=None, biometric={"modality": "face", "vector": random_vector(rng)})
    assert call(client, key, "verify", impostor).json()["reason"] == "biometric_mismatch"


def test_no_partner_response_ever_contains_an_id_number(client, partner, otp_capture):
    """Every partner call — success, mismatch, unknown person, bad input, VID and EID forms, e-KYC with
    full consent — is scanned for the ID number and its 14-digit prefix (region + birth date)."""
    p, key = partner
    person = make_person("韩十三", "19700707")
    services.grant_consent(person=person, partner=p, attributes=sorted(services.KYC_ATTRIBUTES))
    vid = services.create_vid(person=person, hours=1)
    idn = person.id_number
    txn = call(client, key, "otp", {"id_type": "id_number", "id_value": idn, "purpose": "x"}).json()
    bodies = [
        {"id_type": "id_number", "id_value": idn, "purpose": "x", "demographics": {"name": "韩十三"},
         "kyc_attributes": sorted(services.KYC_ATTRIBUTES)},
        {"id_type": "id_number", "id_value": idn, "purpose": "x", "demographics": {"name": "别人"}},
        {"id_type": "id_number", "id_value": idn, "purpose": "x",
         "otp": {"transaction_id": txn["transaction_id"], "code": last_code(person)}},
        {"id_type": "vid", "id_value": vid.vid, "purpose": "x", "demographics": {"name": "韩十三"}},
        {"id_type": "eid", "id_value": "E00000000000000000", "purpose": "x", "demographics": {"name": "韩十三"}},
        {"id_type": "id_number", "id_value": idn, "purpose": "x"},  # no factor: 422
        {"id_type": "id_number", "id_value": idn, "purpose": ""},  # invalid: 422
        {"id_type": "id_number", "id_value": idn[:-1] + "0", "purpose": "x", "demographics": {"name": "x"}},
    ]
    texts = [call(client, key, "verify", b).content.decode() for b in bodies]
    texts.append(call(client, key, "otp", {"id_type": "id_number", "id_value": idn, "purpose": "x"}).content.decode())
    for text in texts:
        assert idn not in text and idn[:14] not in text, text
