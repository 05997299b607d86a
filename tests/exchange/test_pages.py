import pytest

from smartgov.core.permissions import Role
from smartgov.exchange import services
from smartgov.exchange.models import AgreementStatus
from tests import factories as f
from tests.exchange import factories as xf

pytestmark = pytest.mark.django_db


def test_every_page_renders_for_provider_consumer_and_supervisor():
    provider = f.department("人社局")
    res = xf.resource(provider, share_type="conditional", events=["person.deceased"])
    officer = xf.consumer_officer()
    ag = xf.agreement(res, officer)
    person = f.id_number()
    xf.certificate(person)
    admin = f.user(Role.DEPT_ADMIN, department=provider)
    services.approve_agreement(actor=admin, agreement=ag)
    services.call_resource(actor=officer, resource_code=res.code, params={"id_number": person})
    services.seal_all(actor=xf.SYSTEM)
    supervisor = f.user(Role.SUPERVISOR, department=provider)
    for user in (admin, officer, supervisor):
        c = f.staff_client(user)
        for url in ("/exchange/", f"/exchange/resources/{res.code}/", "/exchange/agreements/",
                    "/exchange/subscriptions/", "/exchange/stats/", "/exchange/quality/", "/exchange/catalogue.xlsx",
                    "/exchange/stats.xlsx"):
            expected = 403 if user.role == Role.OFFICER and "stats" in url else 200  # the log is for admins
            assert c.get(url).status_code == expected, (user.role, url)
    c = f.staff_client(admin)
    page = c.get("/exchange/calls/").content.decode()
    assert res.code in page and "导出" in page


def test_a_consumer_applies_and_the_provider_approves_fewer_fields_on_the_pages():
    provider = f.department()
    res = xf.resource(provider, share_type="conditional")
    officer = xf.consumer_officer()
    c = f.staff_client(officer)
    resp = c.post(f"/exchange/resources/{res.code}/apply/", {
        "fields": ["name", "result"], "purpose": "审批", "legal_basis": "条例", "valid_until": "2099-01-01",
        "rate_limit": "10"})
    assert resp.status_code == 302
    resp = c.post(f"/exchange/resources/{res.code}/apply/", {
        "fields": ["name", "result"], "purpose": "审批", "legal_basis": "条例", "valid_until": "2026-12-31",
        "rate_limit": "10"})
    ag = res.agreements.get()
    assert ag.status == AgreementStatus.PENDING
    pc = f.staff_client(f.user(Role.DEPT_ADMIN, department=provider))
    assert "审批" in pc.get("/exchange/agreements/").content.decode()
    pc.post(f"/exchange/agreements/{ag.pk}/approve/", {"fields": ["result"]})
    ag.refresh_from_db()
    assert ag.status == AgreementStatus.ACTIVE and ag.fields == ["result"]


def test_pages_of_another_departments_records_answer_not_found():
    res = xf.resource(share_type="conditional")
    ag = xf.agreement(res, xf.consumer_officer())
    stranger = f.staff_client(f.user(Role.DEPT_ADMIN, department=f.department()))
    assert stranger.post(f"/exchange/agreements/{ag.pk}/approve/", {}).status_code == 404
    ag.refresh_from_db()
    assert ag.status == AgreementStatus.PENDING
