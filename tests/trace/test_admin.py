"""The traceability back office: master data added through the services (audited), scoped, never edited."""

import pytest
from django.conf import settings
from django.utils import translation

from smartgov.audit.models import AuditEntry
from smartgov.core.permissions import Role
from smartgov.trace.models import Batch, LotRelease, Organisation, Product
from tests import factories as f

pytestmark = pytest.mark.django_db


def test_regulator_adds_an_organisation_a_product_and_a_batch_in_the_back_office():
    dept = f.department("药监局")
    client = f.staff_client(f.user(Role.SUPERVISOR, department=dept))
    resp = client.post("/admin/trace/organisation/add/", {
        "name": "示范生物制品有限公司", "kind": "manufacturer", "department": dept.pk,
        "location_uri": "https://id.gs1.org/414/6901234000004", "party_uri": "https://id.gs1.org/417/6901234000004"})
    assert resp.status_code == 302, resp.content.decode()[:1500]
    org = Organisation.objects.get()
    resp = client.post("/admin/trace/product/add/", {
        "name": "乙肝疫苗", "holder": "示范生物制品有限公司", "nmpa_code": "8612345", "manufacturer": org.pk,
        "is_vaccine": "on", "storage_min": "2", "storage_max": "8"})
    assert resp.status_code == 302, resp.content.decode()[:1500]
    product = Product.objects.get()
    resp = client.post("/admin/trace/batch/add/", {"product": product.pk, "lot": "202611A",
                                                   "production_date": "2026-11-01", "expiry_date": "2028-10-31"})
    assert resp.status_code == 302 and Batch.objects.get().lot == "202611A"
    assert AuditEntry.objects.filter(action__in=["trace.organisation.create", "trace.product.create",
                                                 "trace.batch.create"]).count() == 3
    bad = client.post("/admin/trace/batch/add/", {"product": product.pk, "lot": "B2",
                                                  "production_date": "2026-11-01", "expiry_date": "2026-10-01"})
    assert bad.status_code == 302 and Batch.objects.count() == 1  # refused by the service, nothing stored
    assert client.get(f"/admin/trace/product/{product.pk}/change/").status_code == 200  # read-only view
    assert client.post(f"/admin/trace/product/{product.pk}/change/", {"name": "x"}).status_code == 403


def test_officers_see_the_lists_but_cannot_add_and_other_departments_see_nothing():
    dept = f.department("药监局")
    Organisation.objects.create(name="县疾控", kind="county_cdc", department=dept, location_uri="urn:a", party_uri="urn:b")
    officer = f.staff_client(f.user(Role.OFFICER, department=dept))
    assert officer.get("/admin/trace/organisation/").status_code == 200
    assert officer.get("/admin/trace/organisation/add/").status_code == 403
    stranger = f.staff_client(f.user(Role.SUPERVISOR, department=f.department("别处")))
    assert "县疾控" not in stranger.get("/admin/trace/organisation/").content.decode()


def test_lot_release_is_recorded_in_the_back_office_through_the_service_and_labels_have_english(supervisor, chain):
    client = f.staff_client(supervisor)
    batch = chain["batch"]
    resp = client.post("/admin/trace/lotrelease/add/", {
        "batch": batch.pk, "certificate_number": "SZ20260009", "agency": "中国食品药品检定研究院",
        "issued_on": "2026-02-20", "conclusion": "passed", "quantity": "1000"})
    assert resp.status_code == 302, resp.content.decode()[:1500]
    release = LotRelease.objects.get()
    assert AuditEntry.objects.filter(action="trace.lot_release.record").count() == 1
    bad = client.post("/admin/trace/lotrelease/add/", {
        "batch": batch.pk, "certificate_number": "SZ20260010", "agency": "中检院", "issued_on": "2025-01-01",
        "conclusion": "passed"})  # before production: refused by the service
    assert bad.status_code == 302 and LotRelease.objects.count() == 1
    page = client.get("/admin/trace/lotrelease/").content.decode()
    assert "SZ20260009" in page and "予以批签发" in page and "批签发" in page
    with translation.override("en"):
        assert str(LotRelease._meta.verbose_name) == "Lot release"
        assert str(LotRelease._meta.get_field("certificate_number").verbose_name) == "Lot release certificate number"
        assert str(release) == "Lot release SZ20260009 (released)"
        assert str(f"{batch.recalls.model._meta.verbose_name}") == "Recall"
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    english = client.get("/admin/trace/lotrelease/").content.decode()
    assert "Lot release certificate number" in english and "released" in english
