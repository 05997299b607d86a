import io

import pytest
from openpyxl import load_workbook

from smartgov.core.errors import InvalidInput
from smartgov.onestop import excel, selectors
from smartgov.onestop.models import ItemVersion, ServiceItem
from tests import factories as f

pytestmark = pytest.mark.django_db


def test_export_then_import_changes_nothing_and_an_edited_cell_publishes_a_version(world):
    chief = f.user(f.Role.DEPT_ADMIN, department=world["regulator"])
    data = excel.export_catalogue(ServiceItem.objects.all())
    wb = load_workbook(io.BytesIO(data))
    assert wb.sheetnames == ["事项", "材料", "表单字段", "情形", "收费"]
    mine = ServiceItem.objects.filter(department=world["regulator"])
    data = excel.export_catalogue(mine)
    assert excel.import_catalogue(actor=chief, data=data) == {"created": 0, "published": 0, "unchanged": 1}
    wb = load_workbook(io.BytesIO(data))
    wb["事项"]["H2"] = 2  # 承诺时限
    wb["材料"].append([world["company"].implementation_code, "seal_sample", "印章印模", "否", "electronic",
                       "applicant", "", 1, "", "", "", "premises_owned=no"])
    buf = io.BytesIO()
    wb.save(buf)
    assert excel.import_catalogue(actor=chief, data=buf.getvalue())["published"] == 1
    content = selectors.current_version(ServiceItem.objects.get(pk=world["company"].pk)).parsed
    assert content.promised_limit_days == 2
    seal = next(m for m in content.materials if m.key == "seal_sample")
    assert not seal.required and seal.condition.holds({"premises_owned": "no"})


def test_a_bad_row_rejects_the_whole_workbook(world):
    chief = f.user(f.Role.DEPT_ADMIN, department=world["regulator"])
    wb = load_workbook(io.BytesIO(excel.export_catalogue(ServiceItem.objects.filter(department=world["regulator"]))))
    wb["事项"]["G2"] = 1  # legal limit below the promised one
    wb["事项"].append(["x", "XK09999000", "01", "新事项", "XK", world["regulator"].code, "abc"])
    buf = io.BytesIO()
    wb.save(buf)
    versions = ItemVersion.objects.count()
    with pytest.raises(InvalidInput) as exc:
        excel.import_catalogue(actor=chief, data=buf.getvalue())
    assert exc.value.code == "import_failed" and len(exc.value.detail) == 2
    assert ItemVersion.objects.count() == versions and ServiceItem.objects.count() == 2
    with pytest.raises(InvalidInput):
        excel.import_catalogue(actor=chief, data=b"not a workbook")


def test_department_admin_edits_an_item_in_the_back_office_as_a_new_version(world, chief_client):
    import json

    item = world["company"]
    resp = chief_client.get("/admin/onestop/serviceitem/")
    assert resp.status_code == 200 and item.name in resp.content.decode()
    assert chief_client.get("/admin/onestop/serviceitem/export/").status_code == 200
    content = selectors.current_version(item).content | {"promised_limit_days": 1}
    resp = chief_client.post(f"/admin/onestop/serviceitem/{item.pk}/change/", {
        "name": item.name, "active": "on", "content": json.dumps(content),
        "versions-TOTAL_FORMS": "1", "versions-INITIAL_FORMS": "1", "versions-MIN_NUM_FORMS": "0",
        "versions-MAX_NUM_FORMS": "1000", "versions-0-id": ItemVersion.objects.get(item=item).pk,
        "versions-0-item": item.pk})
    assert resp.status_code == 302, resp.content.decode()[:2000]
    item.refresh_from_db()
    assert item.current_version == 2
    assert selectors.current_version(item).parsed.promised_limit_days == 1
    officer = f.staff_client(world["officer"])
    assert officer.get(f"/admin/onestop/serviceitem/{item.pk}/change/").status_code == 200  # to read only
    resp = officer.post(f"/admin/onestop/serviceitem/{item.pk}/change/", {"name": "x", "content": "{}"})
    assert resp.status_code == 403
    item.refresh_from_db()
    assert item.current_version == 2
