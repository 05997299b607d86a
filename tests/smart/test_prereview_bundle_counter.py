"""智能预审 on the 一件事 (bundle) form and on the window's intake form (窗口受理), through the same hook and
partial as a single item's form: the file is read as it is chosen, the problem is shown beside that
material before submission, and the case carries the very file that was pre-reviewed. Two real OCR
reads (a few seconds each on two shared cores); the refusals read nothing."""

import datetime

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from smartgov.audit.models import AuditEntry
from smartgov.core.permissions import Role, system_actor
from smartgov.identity.services import register_person
from smartgov.onestop import services as onestop
from smartgov.onestop.models import Application, StoredMaterial, Submission, TrustLevel
from smartgov.smart import ocr
from smartgov.smart.models import Prereview
from tests import factories as f
from tests.smart import world as sw
from tests.smart.test_prereview_apply import ID_ITEM

pytestmark = pytest.mark.django_db
SYSTEM = system_actor("test")
WRONG_NAME = "身份证上的姓名“王晓明”与申请人“王小明”不一致"
OTHER_ITEM = {**ID_ITEM, "description": "另一事项",
              "materials": [{"key": "id_photo", "name": "居民身份证（人像面）"}, {"key": "lease", "name": "租赁合同"}]}


@pytest.fixture
def pr_world(db):
    police, bureau, other = f.department("公安局"), f.department("民政局"), f.department("人社局")
    person, user = sw.citizen("王小明", datetime.date(1946, 12, 5), 17, police)
    first = onestop.create_item(actor=SYSTEM, department=bureau, basic_code="QT00101000", name="测试证明",
                                item_type="QT", content=ID_ITEM)
    second = onestop.create_item(actor=SYSTEM, department=other, basic_code="QT00102000", name="另一证明",
                                 item_type="QT", content=OTHER_ITEM)
    bundle = onestop.create_bundle(actor=SYSTEM, code="TPRB", name="测试一件事", items=[first, second])
    photo = ocr.render_document("id_card", {"name": "王晓明", "sex": "男", "birth_date": "1946-12-05",
                                            "id_number": person.id_number}, rotate=2, blur=1.2, jpeg_quality=45)
    return {"person": person, "user": user, "item": first, "bundle": bundle, "photo": photo, "bureau": bureau,
            "officer": f.user(Role.OFFICER, department=bureau)}


def _jpeg(w, name="id.jpg"):
    return SimpleUploadedFile(name, w["photo"], "image/jpeg")


def _pdf(name="scan.pdf"):
    return SimpleUploadedFile(name, b"%PDF-1.4 scanned", "application/pdf")


# --- 一件事 ---------------------------------------------------------------------------------------------------

def test_the_bundle_form_pre_reviews_an_id_card_and_submits_that_very_file(pr_world):
    w = pr_world
    client = f.staff_client(w["user"])
    form = client.get("/onestop/bundles/TPRB/").content.decode()
    assert 'hx-post="/onestop/bundles/TPRB/materials/id_photo/"' in form
    assert 'hx-post="/onestop/bundles/TPRB/materials/lease/"' in form

    resp = client.post("/onestop/bundles/TPRB/materials/id_photo/", {
        "field.applicant_name": "王小明", "materials.id_photo": _jpeg(w)}, HTTP_HX_REQUEST="true")
    body = resp.content.decode()
    assert resp.status_code == 200 and 'data-testid="prereview-problems-id_photo"' in body and WRONG_NAME in body
    pr = Prereview.objects.get(user=w["user"])
    assert [p["field"] for p in pr.problems] == ["name"] and pr.stored.owner_user == w["user"]
    assert f'name="stored.id_photo" value="{pr.stored_id}"' in body
    assert 'hx-post="/onestop/bundles/TPRB/materials/id_photo/"' in body  # a clearer photo goes the same way
    assert not Submission.objects.exists() and not Application.objects.exists()

    # a refresh of the form keeps the file and its problems
    again = client.post("/onestop/bundles/TPRB/", {"_refresh": "1", "field.applicant_name": "王小明",
                                                   "stored.id_photo": str(pr.stored_id)}).content.decode()
    assert WRONG_NAME in again and f'value="{pr.stored_id}"' in again

    resp = client.post("/onestop/bundles/TPRB/", {
        "field.applicant_name": "王小明", "stored.id_photo": str(pr.stored_id),
        "materials.photo": _pdf("p.pdf"), "materials.lease": _pdf("l.pdf")})
    assert resp.status_code == 302, resp.content.decode()[:2000]
    apps = list(Submission.objects.get().applications.all())
    assert len(apps) == 2 and {a.materials.get(key="id_photo").stored_id for a in apps} == {pr.stored_id}
    assert Prereview.objects.count() == 1  # the same file for both cases, read once

    (ours,) = [a for a in apps if a.department_id == w["bureau"].pk]
    page = f.staff_client(w["officer"]).get(f"/onestop/work/{ours.number}/").content.decode()
    assert 'data-testid="mismatch-id_photo-name"' in page and "王晓明" in page


def test_the_bundle_pre_review_refuses_bad_files_and_unknown_materials_and_keeps_nothing(pr_world):
    w = pr_world
    client = f.staff_client(w["user"])
    before = (StoredMaterial.objects.count(), AuditEntry.objects.count())
    resp = client.post("/onestop/bundles/TPRB/materials/id_photo/", {
        "materials.id_photo": SimpleUploadedFile("x.txt", b"hello", "text/plain")})
    assert resp.status_code == 422 and 'data-code="file_type"' in resp.content.decode()
    assert "文件类型不受支持" in resp.content.decode()
    htmx = client.post("/onestop/bundles/TPRB/materials/id_photo/", {
        "materials.id_photo": SimpleUploadedFile("x.txt", b"hello", "text/plain")}, HTTP_HX_REQUEST="true")
    assert htmx.status_code == 200 and 'data-code="file_type"' in htmx.content.decode()  # htmx swaps only 2xx
    assert client.post("/onestop/bundles/TPRB/materials/nope/", {
        "materials.nope": _pdf()}).status_code == 404
    assert client.post("/onestop/bundles/NOPE/materials/id_photo/", {"materials.id_photo": _pdf()}).status_code == 404
    assert (StoredMaterial.objects.count(), AuditEntry.objects.count()) == before


def test_the_bundle_form_does_not_take_someone_elses_file(pr_world):
    w = pr_world
    other = f.user(Role.CITIZEN, name="别人")
    stored = onestop.store_material(actor=other, key="id_photo", name="居民身份证", upload=_pdf())
    resp = f.staff_client(w["user"]).post("/onestop/bundles/TPRB/", {
        "field.applicant_name": "王小明", "stored.id_photo": str(stored.pk),
        "materials.photo": _pdf("p.pdf"), "materials.lease": _pdf("l.pdf")})
    assert resp.status_code == 422 and not Submission.objects.exists()


# --- 窗口受理 ---------------------------------------------------------------------------------------------------

def _counter(w, person, name, **extra):
    return {"item": w["item"].implementation_code, "id_number": person.id_number, "name": name,
            "field.applicant_name": "王小明", **extra}


def test_the_window_officer_sees_the_pre_review_of_a_scanned_id_card_before_filing(pr_world):
    w = pr_world
    walk_in = register_person(actor=SYSTEM, name="王小明", id_number=f.id_number("19461205"))
    client = f.staff_client(w["officer"])
    code = w["item"].implementation_code
    # before the applicant is found there is nothing to check the scan against: no pre-review URL yet
    assert "/onestop/work/counter/materials/" not in client.get("/onestop/work/counter/", {"item": code}).content.decode()
    form = client.get("/onestop/work/counter/", {"item": code, "id_number": walk_in.id_number,
                                                 "name": "王小明"}).content.decode()
    assert 'hx-post="/onestop/work/counter/materials/id_photo/"' in form

    resp = client.post("/onestop/work/counter/materials/id_photo/",
                       _counter(w, walk_in, "王小明", **{"materials.id_photo": _jpeg(w)}), HTTP_HX_REQUEST="true")
    body = resp.content.decode()
    assert resp.status_code == 200 and WRONG_NAME in body and 'data-testid="prereview-problems-id_photo"' in body
    pr = Prereview.objects.get(user=w["officer"])
    scan = pr.stored
    # a scan of the original: trust B, checked by the officer, kept in the filing account's library (代办)
    assert (scan.owner_user, scan.trust_level, scan.checked_by) == (w["officer"], TrustLevel.B, w["officer"])
    assert AuditEntry.objects.filter(action="onestop.material.scan", target_id=str(scan.pk)).exists()
    assert f'name="stored.id_photo" value="{scan.pk}"' in body and not Application.objects.exists()

    resp = client.post("/onestop/work/counter/", _counter(w, walk_in, "王小明", **{
        "stored.id_photo": str(scan.pk), "materials.photo": _pdf("p.pdf")}))
    assert resp.status_code == 302, resp.content.decode()[:2000]
    app = Application.objects.get()
    assert app.materials.get(key="id_photo").stored_id == scan.pk and app.applicant_person == walk_in
    assert Prereview.objects.count() == 1
    page = client.get(f"/onestop/work/{app.number}/").content.decode()
    assert 'data-testid="mismatch-id_photo-name"' in page and "王晓明" in page


def test_a_walk_in_with_an_account_gets_the_scan_in_their_own_library(pr_world):
    w = pr_world
    client = f.staff_client(w["officer"])
    resp = client.post("/onestop/work/counter/materials/id_photo/",
                       _counter(w, w["person"], "王小明", **{"materials.id_photo": _pdf()}), HTTP_HX_REQUEST="true")
    body = resp.content.decode()
    assert resp.status_code == 200 and "无法读取PDF文件" in body
    scan = StoredMaterial.objects.get()
    assert scan.owner_user == w["user"] and scan.trust_level == TrustLevel.B
    resp = client.post("/onestop/work/counter/", _counter(w, w["person"], "王小明", **{
        "stored.id_photo": str(scan.pk), "materials.photo": _pdf("p.pdf")}))
    assert resp.status_code == 302
    assert Application.objects.get().materials.get(key="id_photo").stored_id == scan.pk
    assert not Prereview.objects.exists()  # a PDF is not read


def test_the_window_pre_review_refuses_bad_input_and_keeps_nothing(pr_world):
    w = pr_world
    walk_in = register_person(actor=SYSTEM, name="王小明", id_number=f.id_number("19461205"))
    client = f.staff_client(w["officer"])
    before = (StoredMaterial.objects.count(), AuditEntry.objects.filter(action__startswith="onestop.").count())
    # the ID card does not match the register: nothing is scanned
    resp = client.post("/onestop/work/counter/materials/id_photo/",
                       _counter(w, walk_in, "王大明", **{"materials.id_photo": _pdf()}))
    assert resp.status_code == 422 and 'data-code="applicant_not_found"' in resp.content.decode()
    assert "人口库中没有与该姓名和身份证号码相符的登记" in resp.content.decode()
    resp = client.post("/onestop/work/counter/materials/id_photo/", _counter(w, walk_in, "王小明", **{
        "materials.id_photo": SimpleUploadedFile("x.txt", b"hello", "text/plain")}))
    assert resp.status_code == 422 and 'data-code="file_type"' in resp.content.decode()
    assert client.post("/onestop/work/counter/materials/nope/", _counter(w, walk_in, "王小明", **{
        "materials.nope": _pdf()})).status_code == 404
    # another department's officer: as if the item did not exist
    stranger = f.staff_client(f.user(Role.OFFICER, department=f.department("税务局")))
    assert stranger.post("/onestop/work/counter/materials/id_photo/", _counter(w, walk_in, "王小明", **{
        "materials.id_photo": _pdf()})).status_code == 404
    # a citizen cannot use the window
    assert f.staff_client(w["user"]).post("/onestop/work/counter/materials/id_photo/", _counter(
        w, walk_in, "王小明", **{"materials.id_photo": _pdf()})).status_code == 403
    assert (StoredMaterial.objects.count(), AuditEntry.objects.filter(action__startswith="onestop.").count()) == before


def test_the_intake_does_not_take_a_file_the_window_did_not_scan_for_this_applicant(pr_world):
    w = pr_world
    walk_in = register_person(actor=SYSTEM, name="王小明", id_number=f.id_number("19461205"))
    officer = w["officer"]
    # the officer's own unscanned upload, and a citizen's file: neither is a checked scan for this intake
    citizen_file = onestop.store_material(actor=w["user"], key="id_photo", name="居民身份证", upload=_pdf())
    before = (Application.objects.count(), AuditEntry.objects.count())
    with pytest.raises(Exception) as exc:
        onestop.intake_at_counter(actor=officer, item=w["item"], id_number=walk_in.id_number, name="王小明",
                                  answers={}, form_data={"applicant_name": "王小明"}, uploads={"photo": _pdf("p.pdf")},
                                  stored={"id_photo": citizen_file.pk})
    assert getattr(exc.value, "code", "") == "material_not_found"
    assert (Application.objects.count(), AuditEntry.objects.count()) == before
