"""The pages: public /verify, the citizen's wallet, the officer's issue, detail and revoke pages."""

import pytest
from django.test import Client

from smartgov.core.permissions import Role
from smartgov.licences import selectors, services
from smartgov.licences.models import Licence
from tests import factories as f

pytestmark = pytest.mark.django_db


def test_verify_page_shows_a_green_card_for_a_valid_licence(world):
    licence = world.issue_business()
    resp = Client().get("/verify/", {"p": selectors.payload_for(licence)})
    html = resp.content.decode()
    assert resp.status_code == 200 and 'data-testid="verify-ok"' in html
    assert world.enterprise.name in html and licence.identifier in html and "经营范围" in html


def test_verify_page_shows_the_reason_for_a_revoked_licence(world):
    licence = world.issue_food()
    services.revoke_licence(actor=world.officer, licence=licence, reason="以欺骗手段取得许可")
    resp = Client().post("/verify/", {"p": selectors.payload_for(licence)})
    html = resp.content.decode()
    assert 'data-testid="verify-bad"' in html and "以欺骗手段取得许可" in html and "revoked" in html
    assert world.person.id_number not in html


def test_verify_page_shows_fields_whose_key_is_a_dict_method_name(world):
    from smartgov.licences.models import LicenceType

    odd = services.create_licence_type(actor=world.admin, name="测试证", code="ITEMS1", department=world.dept,
                                       holder_kind="person", field_template=[{"key": "items", "label": "经营项目"}])
    assert isinstance(odd, LicenceType)
    licence = services.issue_licence(actor=world.officer, licence_type=odd, holder_person=world.person,
                                     data={"items": "热食类食品制售"})
    html = Client().get("/verify/", {"p": selectors.payload_for(licence)}).content.decode()
    assert "经营项目" in html and "热食类食品制售" in html


def test_verify_page_without_a_payload_shows_the_form():
    html = Client().get("/verify/").content.decode()
    assert 'data-testid="payload-input"' in html and "verify-bad" not in html


def test_wallet_shows_the_citizens_licences_with_qr_and_pdf(world):
    citizen = f.user(Role.CITIZEN)
    world.person.user = citizen
    world.person.save(update_fields=["user"])
    licence = world.issue_food()
    client = Client()
    client.force_login(citizen)
    html = client.get("/licences/wallet/").content.decode()
    assert html.count('data-testid="wallet-licence"') == 1 and "<svg" in html
    assert licence.identifier in html and world.person.id_number not in html
    pdf = client.get(f"/licences/{licence.pk}/pdf/")
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    assert client.get(f"/licences/{licence.pk}/").status_code == 200


def test_wallet_of_someone_not_in_the_register_is_empty_and_sign_in_is_required():
    client = Client()
    assert client.get("/licences/wallet/").status_code == 302
    client.force_login(f.user(Role.CITIZEN))
    assert 'data-testid="wallet-empty"' in client.get("/licences/wallet/").content.decode()


def test_officer_issues_revokes_on_the_pages(world):
    client = f.staff_client(world.officer)
    assert world.food.name in client.get("/licences/issue/").content.decode()
    page = client.get("/licences/issue/", {"type": world.food.pk}).content.decode()
    assert "经营场所" in page
    resp = client.post("/licences/issue/", {"type": world.food.pk, "holder_code": world.person.id_number,
                                            "trust_level": "A", "f_premises": "西城区1号"})
    assert resp.status_code == 302, resp.content.decode()
    licence = Licence.objects.get()
    detail = client.get(resp["Location"]).content.decode()
    assert licence.identifier in detail and 'data-testid="end-form"' in detail
    assert world.person.id_number not in detail
    resp = client.post(f"/licences/{licence.pk}/end/", {"action": "cancel", "reason": "申请人注销"})
    assert resp.status_code == 302
    licence.refresh_from_db()
    assert licence.status == "cancelled"
    assert licence.identifier in client.get("/licences/").content.decode()


def test_issue_page_shows_service_errors_in_the_form(world):
    client = f.staff_client(world.officer)
    resp = client.post("/licences/issue/", {"type": world.food.pk, "holder_code": f.id_number(),
                                            "trust_level": "A", "f_premises": "x"})
    assert resp.status_code == 200 and "未找到该持证主体" in resp.content.decode()
    assert not Licence.objects.exists()


def test_other_departments_officer_gets_404_on_the_detail_page(world):
    licence = world.issue_food()
    client = f.staff_client(world.stranger)
    assert client.get(f"/licences/{licence.pk}/").status_code == 404
    assert client.post(f"/licences/{licence.pk}/end/", {"action": "revoke", "reason": "x"}).status_code == 404
    assert licence.identifier not in client.get("/licences/").content.decode()
