import pytest
from django.test import Client

from smartgov.core.permissions import Role, system_actor
from smartgov.eid.models import EidCredential
from tests import factories as f

from .conftest import last_code, make_person

pytestmark = pytest.mark.django_db


PASSWORD = "citizen-pass-2026"


def register(client, name="孙八", birth="19920304", phone="13900009999", password=PASSWORD):
    idn = f.id_number(birth)
    resp = client.post("/eid/register/", {"name": name, "id_number": idn, "phone": phone,
                                          "password": password, "password2": password})
    return idn, resp


def test_a_new_citizen_registers_gets_an_eid_sees_its_qr_and_downloads_the_card(issuer):
    client = Client()
    idn, resp = register(client)
    assert resp.status_code == 302 and resp["Location"] == "/eid/"
    page = client.get("/eid/").content.decode()
    assert "申领EID" in page
    assert client.post("/eid/apply/").status_code == 302
    page = client.get("/eid/").content.decode()
    cred = EidCredential.objects.get()
    assert cred.eid in page and "<svg" in page and "SGE1." in page
    pdf = client.get("/eid/card.pdf")
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    assert idn not in page  # the citizen's own page shows the EID, not the ID number


def test_registration_refuses_bad_or_taken_id_numbers_and_writes_nothing(issuer):
    from smartgov.accounts.models import User
    from smartgov.identity.models import Person

    client = Client()
    resp = client.post("/eid/register/", {"name": "甲", "id_number": "110105194912310021", "phone": "13900009999",
                                          "password": "citizen-pass-2026", "password2": "citizen-pass-2026"})
    assert resp.status_code == 422 and (User.objects.count(), Person.objects.count()) == (0, 0)
    existing = make_person("乙")
    resp = client.post("/eid/register/", {"name": "丙", "id_number": existing.id_number, "phone": "13900009999",
                                          "password": "citizen-pass-2026", "password2": "citizen-pass-2026"})
    assert resp.status_code == 422 and "不符" in resp.content.decode()


def test_citizen_signs_in_with_id_number_or_eid_password_and_one_time_code(issuer):
    from smartgov.eid import services

    idn, _ = register(Client(), name="周九", birth="19800808")
    client = Client()
    resp = client.post("/eid/login/", {"identifier": idn, "password": "citizen-pass-2026"})
    assert resp.status_code == 302 and resp["Location"] == "/eid/login/code/"
    assert client.get("/api/eid/me").status_code == 401  # not yet
    from smartgov.identity.models import Person

    person = Person.objects.get(name="周九")
    assert client.post("/eid/login/code/", {"code": "000000"}).status_code == 401
    client.post("/eid/login/", {"identifier": idn, "password": "citizen-pass-2026"})
    assert client.post("/eid/login/code/", {"code": last_code(person)}).status_code == 302
    assert client.get("/api/eid/me").json()["eid"] is None
    cred = services.issue_eid(actor=system_actor("test"), person=person, issuer=issuer)
    by_eid = Client()
    by_eid.post("/eid/login/", {"identifier": cred.eid, "password": "citizen-pass-2026"})
    by_eid.post("/eid/login/code/", {"code": last_code(person)})
    assert by_eid.get("/api/eid/me").json()["eid"] == cred.eid
    assert Client().post("/eid/login/", {"identifier": idn, "password": "wrong-one"}).status_code == 401


def test_anyone_checks_an_eid_on_the_page(issuer):
    from smartgov.eid import services

    cred = services.issue_eid(actor=system_actor("test"), person=make_person("吴十"), issuer=issuer)
    payload = services.qr_payload(cred)
    ok = Client().get("/eid/check/", {"p": payload}).content.decode()
    assert "EID有效" in ok and "吴十" in ok
    bad = Client().post("/eid/check/", {"payload": payload.replace(payload[30], "Z" if payload[30] != "Z" else "Y", 1)})
    assert "无效" in bad.content.decode()


def test_kiosk_login_by_eid_qr_and_one_time_code(issuer):
    from smartgov.eid import services
    from smartgov.identity.models import Person

    register(Client(), name="郑一", birth="19750505")
    person = Person.objects.get(name="郑一")
    cred = services.issue_eid(actor=system_actor("test"), person=person, issuer=issuer)
    kiosk = Client()
    resp = kiosk.post("/eid/kiosk/", {"payload": services.qr_payload(cred), "method": "code"})
    assert resp.status_code == 302
    kiosk.post("/eid/login/code/", {"code": last_code(person)})
    assert kiosk.get("/api/eid/me").json()["eid"] == cred.eid
    services.revoke_eid(actor=f.user(Role.OFFICER, department=issuer), credential=cred, reason="遗失")
    refused = Client().post("/eid/kiosk/", {"payload": services.qr_payload(cred)})
    assert refused.status_code == 401 and "吊销" in refused.content.decode()


def test_citizen_lists_creates_and_revokes_vids_through_the_api(issuer):
    client = Client()
    register(client, name="秦十四", birth="19830303")
    made = client.post("/api/eid/me/vids?hours=2")
    assert made.status_code == 201 and made.json()["usable"] is True
    vid = made.json()["vid"]
    assert [v["vid"] for v in client.get("/api/eid/me/vids").json()] == [vid]
    assert client.delete(f"/api/eid/me/vids/{vid}").json()["usable"] is False
    assert client.delete("/api/eid/me/vids/0000000000000000").status_code == 404
    assert Client().get("/api/eid/me/vids").status_code == 401


def test_kiosk_login_by_eid_qr_and_a_signed_challenge_approved_on_the_phone(issuer):
    from smartgov.eid import services
    from smartgov.eid.models import KioskChallenge
    from smartgov.identity.models import Person

    phone = Client()
    register(phone, name="尤十五", birth="19770707")
    person = Person.objects.get(name="尤十五")
    cred = services.issue_eid(actor=system_actor("test"), person=person, issuer=issuer)
    kiosk = Client()
    assert kiosk.post("/eid/kiosk/", {"payload": services.qr_payload(cred)})["Location"] == "/eid/kiosk/wait/"
    code = kiosk.get("/eid/kiosk/wait/").context["code"]
    challenge = KioskChallenge.objects.get(code=code)
    assert services.challenge_is_genuine(challenge)  # signed by the EID authority
    assert kiosk.get("/eid/kiosk/wait/?check=1").json() == {"approved": False}
    assert code in phone.get("/eid/").content.decode()  # the citizen sees the request on their phone
    other = Client()
    register(other, name="许十六", birth="19780808")
    assert other.post(f"/eid/kiosk/{code}/approve/").status_code == 404  # only the EID's holder answers
    assert phone.post(f"/eid/kiosk/{code}/approve/").status_code == 302
    assert kiosk.get("/eid/kiosk/wait/?check=1").json()["approved"] is True
    assert kiosk.get("/api/eid/me").json()["eid"] == cred.eid
    assert Client().get("/eid/kiosk/wait/?check=1").status_code == 302  # no challenge in that session
    KioskChallenge.objects.filter(pk=challenge.pk).update(signature="00")
    assert services.consume_kiosk_challenge(code=code) is None  # used once; and a forged one never counts
