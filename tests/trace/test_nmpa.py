"""NMPA vaccine data (NMPAB/T 1004-2019 data sets; exchange beside EPCIS): 批准文号, 批签发, package levels
and ratios, vaccination records with 剂次/接种途径/接种部位/接种单位, the AEFI link and the export.

Expected values come from texts outside this code: the 批准文号 format of 《药品注册管理办法》(2020) art. 123
(国药准字 + H/Z/S [+ C/J] + four-digit year + four-digit serial), and the coding platform's own example of a
package ratio ("申请的包装比例是1:5:10，对应的码展示等级就是1、2、3，代表大码、中码、小码").
"""

import datetime

import orjson
import pytest
from django.utils import timezone

from smartgov.audit.models import AuditEntry
from smartgov.core.errors import Conflict, InvalidInput, NotFound
from smartgov.core.permissions import Role
from smartgov.trace import codes, nmpa, selectors, services
from smartgov.trace.models import AefiReport, Event, LotRelease, PackagingLevel, Product, Vaccination
from tests import factories

from .test_chain import _dose_at_site, _person, captured, net, nurse  # noqa: F401 (fixtures)


@pytest.mark.parametrize(("text", "kind", "origin", "year"), [
    ("国药准字S20190001", "生物制品", "境内生产", "2019"),
    ("国药准字H20203045", "化学药", "境内生产", "2020"),
    ("国药准字Z20080123", "中药", "境内生产", "2008"),
    ("国药准字SJ20190012", "生物制品", "境外生产", "2019"),
    ("国药准字SC20210002", "生物制品", "中国香港、澳门和台湾地区生产", "2021"),
])
def test_approval_numbers_in_the_registration_format(text, kind, origin, year):
    parts = nmpa.parse_approval_number(text)
    assert (parts["kind"], parts["origin"], parts["year"]) == (kind, origin, year)


@pytest.mark.parametrize("text", ["国药准字S2019001", "国药准字X20190001", "国药准字S201900011", "S20190001",
                                  "国药准字SK20190001", "国药准字 S20190001"])
def test_malformed_approval_numbers_are_not_parsed(text):
    assert nmpa.parse_approval_number(text) is None


def test_a_vaccine_product_needs_a_biological_approval_number(supervisor, regulator_dept):
    make = dict(actor=supervisor, department=regulator_dept, name="狂犬病疫苗", holder="示范", nmpa_code="8612399")
    for bad in ("国药准字H20190001", "国药准字S2019"):
        with pytest.raises(InvalidInput) as exc:
            services.create_product(**make, approval_number=bad)
        assert exc.value.code == "invalid_approval_number"
    assert not Product.objects.filter(name="狂犬病疫苗").exists()
    product = services.create_product(**make, approval_number="国药准字S20190001")
    assert product.approval_number == "国药准字S20190001"


def test_package_ratio_as_the_coding_platform_writes_it():
    # "1:5:10 … 1、2、3 代表大码、中码、小码": one big package, five middle ones, ten smallest in all
    assert nmpa.parse_packaging_ratio("1:5:10") == [1, 2, 5]
    assert nmpa.packaging_ratio([1, 2, 5]) == "1:5:10"
    assert nmpa.parse_packaging_ratio("1:10") == [1, 10]
    for bad in ("1:3:10", "2:10", "1", "1:a", "1:0:10"):
        with pytest.raises(ValueError):
            nmpa.parse_packaging_ratio(bad)


def test_packaging_levels_through_the_api_and_refusals_change_nothing(chain, supervisor):
    client = factories.staff_client(supervisor)
    url = f"/api/trace/products/{chain['product'].pk}/packaging"
    resp = client.post(url, {"ratio": "1:20:200", "units": ["支", "盒", "箱"]}, content_type="application/json")
    assert resp.status_code == 200, resp.content
    assert resp.json() == {"ratio": "1:20:200", "levels": [{"level": 1, "unit": "支", "contains": 1},
                                                           {"level": 2, "unit": "盒", "contains": 10},
                                                           {"level": 3, "unit": "箱", "contains": 20}]}
    for body in ({"ratio": "1:3:10", "units": ["支", "盒", "箱"]}, {"ratio": "1:10", "units": ["支", "盒", "箱"]}):
        assert client.post(url, body, content_type="application/json").status_code == 422
    assert list(PackagingLevel.objects.values_list("unit", "contains")) == [("支", 1), ("盒", 10), ("箱", 20)]
    officer = factories.user(Role.OFFICER, department=supervisor.department)
    client = factories.staff_client(officer)
    assert client.post(url, {"ratio": "1:10", "units": ["支", "盒"]}, content_type="application/json").status_code == 403
    assert PackagingLevel.objects.count() == 3


def _release(supervisor, batch, number="SZ20260001", conclusion="passed"):
    return services.record_lot_release(actor=supervisor, batch=batch, certificate_number=number,
                                       agency="中国食品药品检定研究院", issued_on=batch.production_date
                                       + datetime.timedelta(days=40), conclusion=conclusion, quantity=400)


def test_lot_release_shows_in_the_public_lookup_and_a_refused_batch_is_not_given(captured, supervisor, nurse):  # noqa: F811
    batch = captured["batch"]
    epc, site = _dose_at_site(captured)
    assert selectors.public_lookup(epc)["batch"]["lot_release"] is None
    _release(supervisor, batch)
    lookup = selectors.public_lookup(epc)["batch"]["lot_release"]
    assert lookup["certificate_number"] == "SZ20260001" and lookup["conclusion_label"] == "予以批签发"
    with pytest.raises(Conflict):  # one certificate, one record
        _release(supervisor, batch)
    with pytest.raises(InvalidInput):
        services.record_lot_release(actor=supervisor, batch=batch, certificate_number="X1", agency="中检院",
                                    issued_on=batch.production_date - datetime.timedelta(days=1), conclusion="passed")
    assert LotRelease.objects.count() == 1
    _release(supervisor, batch, "SZ20260002", "refused")
    events = Event.objects.count()
    with pytest.raises(Conflict) as exc:
        services.administer_dose(actor=nurse, code=epc, id_number=_person(nurse).id_number, site=site)
    assert exc.value.code == "lot_release_refused"
    assert Event.objects.count() == events and not Vaccination.objects.exists()


def _vaccinate(client, epc, person, site, **extra):
    return client.post("/api/trace/vaccinations", {"code": codes.display(epc), "id_number": person.id_number,
                                                   "site_id": site.pk, **extra}, content_type="application/json")


def test_vaccination_record_holds_dose_number_route_and_site(captured, nurse):  # noqa: F811
    epc, site = _dose_at_site(captured)
    person = _person(nurse)
    client = factories.staff_client(nurse)
    for bad in ({"route": "intravenous"}, {"body_site": "ear"}, {"dose_number": 0},
                {"route": "oral", "body_site": "left_deltoid"}):  # 口服 is not given in the arm
        assert _vaccinate(client, epc, person, site, **bad).status_code == 422, bad
    assert not Vaccination.objects.exists()
    resp = _vaccinate(client, epc, person, site, dose_number=2, route="intramuscular", body_site="right_deltoid")
    assert resp.status_code == 201, resp.content
    body = resp.json()
    assert (body["dose_number"], body["route_label"], body["body_site_label"]) == (2, "肌内注射", "右上臂外侧三角肌")
    vac = Vaccination.objects.get()
    assert (vac.dose_number, vac.route, vac.body_site, vac.site) == (2, "intramuscular", "right_deltoid", site)


def test_aefi_reports_link_to_the_dose_and_its_batch(captured, nurse, supervisor):  # noqa: F811
    epc, site = _dose_at_site(captured)
    vac = services.administer_dose(actor=nurse, code=epc, id_number=_person(nurse).id_number, site=site,
                                   when=timezone.now() - datetime.timedelta(days=1), dose_number=1,
                                   route="intramuscular", body_site="left_deltoid")
    client = factories.staff_client(nurse)
    url = f"/api/trace/vaccinations/{vac.pk}/aefi"
    before = vac.administered_at - datetime.timedelta(hours=1)
    bad = client.post(url, {"reporter_id": site.pk, "onset_at": before.isoformat(), "symptoms": "发热"},
                      content_type="application/json")
    assert bad.status_code == 422 and not AefiReport.objects.exists()
    onset = vac.administered_at + datetime.timedelta(hours=6)
    resp = client.post(url, {"reporter_id": site.pk, "onset_at": onset.isoformat(), "symptoms": "发热 38.7℃",
                             "severe": False}, content_type="application/json")
    assert resp.status_code == 201, resp.content
    number = resp.json()["report_number"]
    assert number.startswith("AEFI-") and resp.json()["classification"] == "pending"
    assert AuditEntry.objects.filter(action="trace.aefi.report").count() == 1
    # the trace of the dose and the batch's list lead to the case
    assert selectors.trace_for(supervisor, epc)["vaccination"]["aefi"] == [number]
    cases = selectors.aefi_reports(supervisor, batch=captured["batch"])
    assert [c["reportNumber"] for c in cases] == [number] and cases[0]["classificationLabel"] == "待定（调查诊断中）"
    # the expert group's conclusion is recorded by a supervisor, not by the nurse
    report = AefiReport.objects.get()
    assert client.post(f"/api/trace/aefi/{report.pk}/classify", {"classification": "common_reaction"},
                       content_type="application/json").status_code == 403
    client = factories.staff_client(supervisor)
    assert client.post(f"/api/trace/aefi/{report.pk}/classify", {"classification": "unknown"},
                       content_type="application/json").status_code == 422
    resp = client.post(f"/api/trace/aefi/{report.pk}/classify", {"classification": "common_reaction"},
                       content_type="application/json")
    assert resp.status_code == 200 and AefiReport.objects.get().classification == "common_reaction"


def test_aefi_for_a_vaccination_out_of_scope_is_404(captured, nurse):  # noqa: F811
    epc, site = _dose_at_site(captured)
    vac = services.administer_dose(actor=nurse, code=epc, id_number=_person(nurse).id_number, site=site)
    stranger = factories.user(Role.OFFICER, department=factories.department("别的市场监管局"))
    client = factories.staff_client(stranger)
    resp = client.post(f"/api/trace/vaccinations/{vac.pk}/aefi", {"reporter_id": site.pk, "onset_at":
                       timezone.now().isoformat(), "symptoms": "皮疹"}, content_type="application/json")
    assert resp.status_code == 404 and not AefiReport.objects.exists()
    with pytest.raises(NotFound):
        services.report_aefi(actor=stranger, vaccination=vac, reporter=site, onset_at=timezone.now(), symptoms="皮疹")


def test_exchange_export_has_every_data_set_and_no_personal_data(captured, nurse, supervisor,  # noqa: F811
                                                                 django_assert_max_num_queries):
    batch = captured["batch"]
    product = batch.product
    Product.objects.filter(pk=product.pk).update(approval_number="国药准字S20190001")
    services.set_packaging(actor=supervisor, product=product, ratio="1:10", units=["支", "盒"])
    _release(supervisor, batch)
    epc, site = _dose_at_site(captured)
    person = _person(nurse)
    vac = services.administer_dose(actor=nurse, code=epc, id_number=person.id_number, site=site, dose_number=1,
                                   route="intramuscular", body_site="left_deltoid")
    report = services.report_aefi(actor=nurse, vaccination=vac, reporter=site, onset_at=timezone.now(),
                                  symptoms="局部红肿", report_number="610100-2026-0001")
    client = factories.staff_client(supervisor)
    with django_assert_max_num_queries(20):  # not one query per code
        resp = client.get(f"/api/trace/batches/{batch.pk}/nmpa-export")
    assert resp.status_code == 200
    doc = orjson.loads(resp.content)
    assert doc["product"]["approvalNumber"] == "国药准字S20190001" and doc["product"]["packagingRatio"] == "1:10"
    assert doc["batch"]["lotNumber"] == batch.lot
    assert doc["lotRelease"][0]["certificateNumber"] == "SZ20260001"
    assert len(doc["codes"]) == len(captured["plan"].doses)
    given = next(c for c in doc["codes"] if c["code"] == codes.display(epc))
    assert given["status"] == "administered" and given["location"] == site.location_uri
    boxed = next(c for c in doc["codes"] if c["code"] != codes.display(epc))
    assert boxed["parentCode"] and boxed["status"] == "available"  # where its box is, as every page says
    assert doc["vaccinations"] == [{"code": codes.display(epc), "administeredAt": vac.administered_at.isoformat(),
                                    "vaccinationUnit": site.name, "vaccinationUnitCode": site.uscc,
                                    "doseNumber": 1, "route": "intramuscular", "bodySite": "left_deltoid",
                                    "aefiReports": [report.report_number]}]
    text = resp.content.decode()
    assert person.name not in text and person.id_number not in text and person.phone not in text
    # out of scope: as if the batch did not exist
    client = factories.staff_client(factories.user(Role.SUPERVISOR, department=factories.department("别的药监局")))
    assert client.get(f"/api/trace/batches/{batch.pk}/nmpa-export").status_code == 404
