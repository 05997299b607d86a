"""智能预审 with the real offline engine on rendered documents: the fields are read, a wrong name and a
missing seal are caught, the page tells the applicant at once. (A few pages only: each read takes
about a second on two shared cores.)"""

import datetime

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from smartgov.core.permissions import Role
from smartgov.smart import ocr
from smartgov.smart.models import Prereview
from tests import factories as f

ID = {"name": "王晓明", "sex": "男", "birth_date": "1946-12-05", "id_number": "330106194612053217"}
TODAY = datetime.date(2026, 12, 5)


def test_font_for_synthetic_documents_is_installed():
    # the Makefile installs fonts-wqy-microhei; without it the OCR tests and benchmark cannot run
    from pathlib import Path

    from django.conf import settings

    assert Path(settings.SMART_OCR_FONT).exists(), "run `make install` (it installs fonts-wqy-microhei)"


def test_blurred_rotated_id_card_is_read_and_checked():
    data = ocr.render_document("id_card", ID, rotate=2.5, blur=1.2, jpeg_quality=45)
    result = ocr.read_document(data, kind="id_card")
    assert result.fields["id_number"] == ID["id_number"] and result.fields["name"] == ID["name"]
    assert result.fields["birth_date"] == ID["birth_date"]
    assert ocr.check("id_card", result, {"name": "王晓明", "id_number": ID["id_number"]}, today=TODAY) == []
    problems = ocr.check("id_card", result, {"name": "王小明", "id_number": "330106194612053225"}, today=TODAY)
    assert {p["field"] for p in problems} == {"name", "id_number"}
    assert "王晓明" in next(p["message"] for p in problems if p["field"] == "name")


def test_business_licence_fields_seal_and_expiry():
    data = {"uscc": "91330100MA2B3C4D5X", "name": "示范市好味餐饮有限公司", "legal_representative": "张三",
            "established_on_cn": "2020年05月18日", "term_cn": "2020年05月18日至2025年05月17日", "seal": False}
    result = ocr.read_document(ocr.render_document("business_licence", data, rotate=-1.5, blur=0.8, jpeg_quality=60),
                               kind="business_licence")
    assert result.fields["name"] == data["name"] and result.fields["legal_representative"] == "张三"
    assert result.fields["valid_until"] == "2025-05-17" and result.seal is False
    fields = {p["field"] for p in ocr.check("business_licence", result, {"name": data["name"]}, today=TODAY)}
    assert {"seal", "valid_until"} <= fields


def test_check_rules_without_ocr():
    r = ocr.OcrResult(fields={"name": "", "id_number": "330106194612053219"}, lines=[], ms=0)
    msgs = {p["field"]: p["message"] for p in ocr.check("id_card", r, {}, today=TODAY)}
    assert "校验不通过" in msgs["id_number"] and "没有识别出姓名" in msgs["name"]


@pytest.mark.django_db
def test_prereview_page_flags_the_wrong_name_before_submission():
    citizen = f.user(Role.CITIZEN, name="王小明")
    client = f.staff_client(citizen)
    photo = SimpleUploadedFile("id.jpg", ocr.render_document("id_card", ID, blur=1.0, jpeg_quality=50), "image/jpeg")
    body = client.post("/smart/prereview/", {"kind": "id_card", "name": "王小明", "id_number": ID["id_number"],
                                             "file": photo}).content.decode()
    assert "身份证上的姓名“王晓明”与申请人“王小明”不一致" in body
    pr = Prereview.objects.get(user=citizen)
    assert [p["field"] for p in pr.problems] == ["name"]
    bad = client.post("/api/smart/prereview", {"kind": "id_card", "file": SimpleUploadedFile("x.jpg", b"not an image")})
    assert bad.status_code == 422 and bad.json()["code"] == "unreadable_document"
    assert Prereview.objects.count() == 1
