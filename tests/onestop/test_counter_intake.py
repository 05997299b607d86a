"""窗口受理: an officer files a case for a walk-in applicant found in the register; the scanned originals
count as checked (trust B); a citizen with an account sees it under 我的办件, one without follows it
by 查询码; a wrong ID card, another department's item or a bad file leaves nothing behind."""

import pytest
from django.core.cache import cache
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from smartgov.audit.models import AuditEntry
from smartgov.core.permissions import system_actor
from smartgov.identity.services import register_person
from smartgov.onestop.models import Application, Channel, Notification, StoredMaterial, TrustLevel
from tests import factories as f
from tests.onestop.conftest import COMPANY_FORM

pytestmark = pytest.mark.django_db


def pdf():
    return SimpleUploadedFile("scan.pdf", b"%PDF-1.4 scanned original", "application/pdf")


def intake_post(world, *, id_number, name, **over):
    data = {"item": world["company"].implementation_code, "id_number": id_number, "name": name,
            "answers.premises_owned": "yes", **{f"field.{k}": v for k, v in COMPANY_FORM.items()},
            "materials.articles": pdf()}
    data.update(over)
    return data


def test_walk_in_without_an_account_is_filed_by_the_officer_and_followed_by_query_code(world, officer_client):
    walk_in = register_person(actor=system_actor("test"), name="李四", id_number=f.id_number("19700202"))
    pick = officer_client.get("/onestop/work/counter/")
    assert pick.status_code == 200 and world["company"].name in pick.content.decode()
    assert world["tax_item"].name not in pick.content.decode()  # another department's item
    form = officer_client.get("/onestop/work/counter/", {"item": world["company"].implementation_code})
    assert form.status_code == 200 and 'data-testid="counter-form"' in form.content.decode()

    resp = officer_client.post("/onestop/work/counter/", intake_post(world, id_number=walk_in.id_number, name="李四"))
    assert resp.status_code == 302, resp.content.decode()[:3000]
    app = Application.objects.get()
    assert resp["Location"] == f"/onestop/work/{app.number}/"
    assert app.channel == Channel.WINDOW and app.visits == 1 and app.state == "submitted"
    assert app.applicant_person == walk_in and app.applicant_name == "李四"
    assert app.applicant_user == world["officer"] and app.agent_name.startswith("窗口代办")
    scan = app.materials.get(key="articles")
    assert scan.trust_level == TrustLevel.B and scan.stored.checked_by == world["officer"]
    assert AuditEntry.objects.filter(action="onestop.application.counter_intake", target_id=str(app.pk)).exists()

    cache.clear()
    looked = Client().post("/onestop/progress/", {"number": app.number, "last_six": app.query_code})
    assert looked.status_code == 200 and 'data-testid="lookup-result"' in looked.content.decode()
    page = officer_client.get(f"/onestop/work/{app.number}/").content.decode()
    assert "李四" in page and app.query_code[:4] in page
    cache.clear()


def test_walk_in_with_an_account_finds_the_case_under_my_cases(world, officer_client, citizen_client):
    citizen = world["citizen"]
    resp = officer_client.post("/onestop/work/counter/",
                               intake_post(world, id_number=citizen.person.id_number, name="王小明"))
    assert resp.status_code == 302, resp.content.decode()[:3000]
    app = Application.objects.get()
    assert app.applicant_user == citizen and app.agent_name == "" and app.channel == Channel.WINDOW
    assert app.number in citizen_client.get("/onestop/mine/").content.decode()
    assert StoredMaterial.objects.get().owner_user == citizen  # the scan is in the applicant's library
    assert Notification.objects.filter(user=citizen, application=app).exists()  # told in the one inbox


@pytest.mark.parametrize("who", [("王小二", "19880101"), ("王小明", "19990909")])
def test_an_id_card_that_does_not_match_the_register_changes_nothing(world, officer_client, who):
    name, birth = who
    id_number = world["citizen"].person.id_number if name == "王小二" else f.id_number(birth)
    entries, files = AuditEntry.objects.count(), StoredMaterial.objects.count()
    resp = officer_client.post("/onestop/work/counter/", intake_post(world, id_number=id_number, name=name))
    assert resp.status_code == 422 and "人口库中没有与该姓名和身份证号码相符的登记" in resp.content.decode()
    assert Application.objects.count() == 0 and StoredMaterial.objects.count() == files
    assert AuditEntry.objects.count() == entries


def test_a_bad_scan_or_missing_material_changes_nothing(world, officer_client):
    walk_in = register_person(actor=system_actor("test"), name="李四", id_number=f.id_number("19700202"))
    entries = AuditEntry.objects.count()
    exe = SimpleUploadedFile("x.exe", b"MZ...", "application/x-msdownload")
    for over in ({"materials.articles": exe}, {"materials.articles": ""}):
        resp = officer_client.post("/onestop/work/counter/",
                                   intake_post(world, id_number=walk_in.id_number, name="李四", **over))
        assert resp.status_code == 422
    assert Application.objects.count() == 0 and StoredMaterial.objects.count() == 0
    assert AuditEntry.objects.count() == entries


def test_only_officers_of_the_items_department_take_it_in(world, citizen_client):
    walk_in = register_person(actor=system_actor("test"), name="李四", id_number=f.id_number("19700202"))
    tax = f.staff_client(world["tax_officer"])
    resp = tax.post("/onestop/work/counter/", intake_post(world, id_number=walk_in.id_number, name="李四"))
    assert resp.status_code == 404  # another department's item answers like a missing one
    assert citizen_client.get("/onestop/work/counter/").status_code == 403
    assert Application.objects.count() == 0
