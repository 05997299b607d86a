"""材料复用 through the exchange: one-stop fetches other departments' documents with consent."""

import pytest

from smartgov.core.errors import InvalidInput
from smartgov.exchange.models import Message, Outcome
from smartgov.onestop import selectors as onestop_selectors
from smartgov.onestop import services as onestop
from smartgov.onestop.models import REUSED_SOURCES, MaterialSource
from tests.exchange import reuse_world

pytestmark = pytest.mark.django_db


def test_with_consent_both_documents_are_fetched_attached_with_provenance_and_logged():
    w = reuse_world.make()
    app = onestop.apply(actor=w["citizen"], item=w["item"], answers={}, form_data={"applicant_name": "赵小红"},
                        consent_exchange=True)
    mats = {m.key: m for m in app.materials.all()}
    for key, res in (("no_crime_proof", w["crime"]), ("social_insurance_proof", w["social"])):
        m = mats[key]
        assert m.source == MaterialSource.EXCHANGE and m.source in REUSED_SOURCES and m.trust_level == "A"
        doc = m.shared_document
        assert doc["resource"] == res.code and doc["provider"] == res.department.name
        assert doc["data"]["name"] == "赵小红"  # agreed in clear
        assert doc["data"]["id_number"] != w["id_number"]  # not agreed in clear: masked
        msg = Message.objects.get(message_id=doc["message_id"])
        assert msg.consumer == w["bureau"] and msg.outcome == Outcome.OK and msg.caller == "system:onestop.reuse"
    assert mats["social_insurance_proof"].shared_document["data"]["result"].startswith("正常参保")


def test_without_consent_nothing_is_fetched_and_the_documents_must_be_uploaded():
    w = reuse_world.make()
    before = Message.objects.count()
    with pytest.raises(InvalidInput) as exc:
        onestop.apply(actor=w["citizen"], item=w["item"], answers={}, form_data={"applicant_name": "赵小红"})
    assert "未授权调取" in exc.value.detail["materials.no_crime_proof"]
    assert Message.objects.count() == before


def test_when_the_provider_is_down_the_applicant_can_upload_instead(tmp_path):
    w = reuse_world.make(served_by={"kind": "http", "url": "http://127.0.0.1:9/down", "timeout_ms": 200})
    with pytest.raises(InvalidInput) as exc:
        onestop.apply(actor=w["citizen"], item=w["item"], answers={}, form_data={"applicant_name": "赵小红"},
                      consent_exchange=True)
    assert "请上传" in exc.value.detail["materials.social_insurance_proof"]
    # the failed call is in the message log even though the application was not made
    assert Message.objects.filter(resource=w["social"], outcome=Outcome.PROVIDER_ERROR).count() == 1
    from django.core.files.uploadedfile import SimpleUploadedFile

    stored = onestop.store_material(actor=w["citizen"], key="social_insurance_proof", name="社保缴费证明",
                                    upload=SimpleUploadedFile("s.pdf", b"%PDF-1.4 x", "application/pdf"))
    app = onestop.apply(actor=w["citizen"], item=w["item"], answers={}, form_data={"applicant_name": "赵小红"},
                        consent_exchange=True, materials={"social_insurance_proof": stored.pk})
    mats = {m.key: m.source for m in app.materials.all()}
    assert mats == {"no_crime_proof": MaterialSource.EXCHANGE, "social_insurance_proof": MaterialSource.UPLOAD}


def test_the_form_offers_the_fetch_and_reuse_measures_count_it():
    w = reuse_world.make()
    content = onestop_selectors.current_version(w["item"]).parsed
    plan = onestop_selectors.reuse_plan(w["citizen"], content, {})
    assert plan["no_crime_proof"].source == MaterialSource.EXCHANGE and "调取" in plan["no_crime_proof"].label
    onestop.apply(actor=w["citizen"], item=w["item"], answers={}, form_data={"applicant_name": "赵小红"},
                  consent_exchange=True)
    from smartgov.onestop.models import ApplicationMaterial

    assert ApplicationMaterial.objects.filter(source__in=REUSED_SOURCES, application__item=w["item"]).count() == 2
