"""智能预审 on the one-stop application form: a blurred ID card photo with the wrong name is read as it is
chosen (htmx), the problem is shown beside that material before submission, the result is kept with the
stored file, the submitted case carries that file, and the officer sees the extracted fields beside the
image with the mismatch marked. One real OCR read (a few seconds on two shared cores)."""

import datetime
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from smartgov.core.permissions import Role, system_actor
from smartgov.onestop import hooks
from smartgov.onestop import services as onestop
from smartgov.onestop.models import Application
from smartgov.smart import ocr
from smartgov.smart.models import Prereview
from smartgov.smart.services import prereview_material
from tests import factories as f
from tests.smart import world as sw

pytestmark = pytest.mark.django_db
ID_ITEM = {"description": "测试事项", "legal_limit_days": 5, "promised_limit_days": 3, "visits": 0,
           "result": {"kind": "document", "name": "办理结果"},
           "materials": [{"key": "id_photo", "name": "居民身份证（人像面）"}, {"key": "photo", "name": "近期照片"}],
           "fields": [{"key": "applicant_name", "label": "申请人", "prefill": "person.name"}], "process": "fast"}


@pytest.fixture
def case_world(db):
    police, bureau = f.department("公安局"), f.department("民政局")
    person, user = sw.citizen("王小明", datetime.date(1946, 12, 5), 17, police)
    item = onestop.create_item(actor=system_actor("test"), department=bureau, basic_code="QT00101000",
                               name="测试证明", item_type="QT", content=ID_ITEM)
    photo = ocr.render_document("id_card", {"name": "王晓明", "sex": "男", "birth_date": "1946-12-05",
                                            "id_number": person.id_number}, rotate=2, blur=1.2, jpeg_quality=45)
    return {"person": person, "user": user, "item": item, "photo": photo, "bureau": bureau,
            "officer": f.user(Role.OFFICER, department=bureau)}


def test_smart_registers_the_material_reviewer_on_onestop_hooks():
    assert any(run is prereview_material for run, _read in hooks.MATERIAL_REVIEWERS)
    # the hook keeps the dependency one way: smart imports onestop, onestop imports nothing of smart
    onestop_src = Path(hooks.__file__).parent
    assert not [p.name for p in onestop_src.rglob("*.py") if "smartgov.smart" in p.read_text(encoding="utf-8")]


def test_wrong_name_on_a_blurred_id_card_is_flagged_on_the_form_and_marked_for_the_officer(case_world):
    w = case_world
    client = f.staff_client(w["user"])
    code = w["item"].implementation_code
    form = client.get(f"/onestop/items/{code}/apply/").content.decode()
    assert f'hx-post="/onestop/items/{code}/apply/materials/id_photo/"' in form

    resp = client.post(f"/onestop/items/{code}/apply/materials/id_photo/", {
        "field.applicant_name": "王小明", "materials.id_photo": SimpleUploadedFile("id.jpg", w["photo"], "image/jpeg")},
        HTTP_HX_REQUEST="true")
    body = resp.content.decode()
    assert resp.status_code == 200 and 'data-testid="prereview-problems-id_photo"' in body
    assert "身份证上的姓名“王晓明”与申请人“王小明”不一致" in body
    pr = Prereview.objects.get(user=w["user"])
    assert [p["field"] for p in pr.problems] == ["name"] and pr.stored is not None
    assert f'name="stored.id_photo" value="{pr.stored_id}"' in body
    assert not Application.objects.exists()  # all of this before submission

    # a refresh of the form (another answer) keeps the uploaded file and its problems
    again = client.post(f"/onestop/items/{code}/apply/", {"_refresh": "1", "field.applicant_name": "王小明",
                                                           "stored.id_photo": str(pr.stored_id)}).content.decode()
    assert "身份证上的姓名“王晓明”与申请人“王小明”不一致" in again

    # the applicant submits anyway: the case carries the pre-reviewed file, not a second copy
    resp = client.post(f"/onestop/items/{code}/apply/", {
        "field.applicant_name": "王小明", "stored.id_photo": str(pr.stored_id),
        "materials.photo": SimpleUploadedFile("p.jpg", w["photo"], "image/jpeg")})
    assert resp.status_code == 302
    app = Application.objects.get()
    assert app.materials.get(key="id_photo").stored_id == pr.stored_id
    assert Prereview.objects.count() == 1  # the photo is not an ID card: not read

    page = f.staff_client(w["officer"]).get(f"/onestop/work/{app.number}/").content.decode()
    assert 'data-testid="prereview-id_photo"' in page
    assert 'data-testid="mismatch-id_photo-name"' in page and "王晓明" in page
    assert 'data-testid="mismatch-id_photo-id_number"' not in page
    assert f'<img src="/onestop/materials/{pr.stored_id}/"' in page


def test_someone_elses_stored_file_is_not_taken_from_the_form(case_world):
    w = case_world
    other = f.user(Role.CITIZEN, name="别人")
    stored = onestop.store_material(actor=other, key="id_card", name="居民身份证",
                                    upload=SimpleUploadedFile("id.jpg", b"\xff\xd8 not really", "image/jpeg"))
    client = f.staff_client(w["user"])
    body = client.post(f"/onestop/items/{w['item'].implementation_code}/apply/", {
        "field.applicant_name": "王小明", "stored.id_photo": str(stored.pk)}).content.decode()
    assert not Application.objects.exists() and "请提供居民身份证（人像面）" in body


def test_a_broken_pdf_is_kept_and_the_applicant_told_it_is_checked_by_hand(case_world):
    w = case_world
    client = f.staff_client(w["user"])
    body = client.post(f"/onestop/items/{w['item'].implementation_code}/apply/materials/id_photo/", {
        "field.applicant_name": "王小明",
        "materials.id_photo": SimpleUploadedFile("id.pdf", b"%PDF-1.4 test", "application/pdf")}).content.decode()
    assert "无法读取PDF文件，提交后由工作人员人工核对" in body and 'name="stored.id_photo"' in body
    assert not Prereview.objects.exists()


def test_a_scanned_pdf_is_read_like_a_photo(case_world):
    """A scan saved as PDF (what a counter scanner or a phone's "scan document" gives): its first page is
    drawn by PDFium and read; the wrong name is flagged just as on the photo."""
    import io

    from PIL import Image

    w = case_world
    buf = io.BytesIO()
    Image.open(io.BytesIO(w["photo"])).save(buf, "PDF", resolution=150)
    client = f.staff_client(w["user"])
    code = w["item"].implementation_code
    body = client.post(f"/onestop/items/{code}/apply/materials/id_photo/", {
        "field.applicant_name": "王小明",
        "materials.id_photo": SimpleUploadedFile("id.pdf", buf.getvalue(), "application/pdf")},
        HTTP_HX_REQUEST="true").content.decode()
    assert "身份证上的姓名“王晓明”与申请人“王小明”不一致" in body
    pr = Prereview.objects.get(user=w["user"])
    assert [p["field"] for p in pr.problems] == ["name"] and pr.stored.content_type == "application/pdf"
