import datetime

import pytest
from django.utils import timezone

from smartgov.audit.models import AuditEntry
from smartgov.core.errors import Conflict, Forbidden, InvalidInput, NotFound
from smartgov.core.permissions import Role
from smartgov.exchange import services
from smartgov.exchange.models import AgreementStatus, Resource
from tests import factories as f
from tests.exchange import factories as xf

pytestmark = pytest.mark.django_db


def test_publishing_again_makes_a_new_version_and_unchanged_content_does_not():
    dept = f.department("公安局")
    res = xf.resource(dept)
    assert res.current_version == 1
    again = services.publish_resource(actor=xf.SYSTEM, department=dept, code=res.code, name=res.name,
                                      share_type=res.share_type, content=xf.content())
    assert again.current_version == 1
    changed = xf.content()
    changed["summary"] = "新的摘要"
    again = services.publish_resource(actor=xf.SYSTEM, department=dept, code=res.code, name=res.name,
                                      share_type=res.share_type, content=changed)
    assert again.current_version == 2
    assert list(res.versions.order_by("version").values_list("version", flat=True)) == [1, 2]


def test_bad_resource_metadata_is_refused_and_writes_nothing():
    dept = f.department()
    before = Resource.objects.count()
    bad = xf.content()
    bad["items"] = [{"key": "Bad Key", "name": "x"}]
    with pytest.raises(InvalidInput):
        services.publish_resource(actor=xf.SYSTEM, department=dept, code=f"BM-{dept.code}-00001", name="x",
                                  share_type="unconditional", content=bad)
    with pytest.raises(InvalidInput) as exc:
        services.publish_resource(actor=xf.SYSTEM, department=dept, code=f"BM-{dept.code}-00002", name="x",
                                  share_type="conditional", content=xf.content(share_condition=""))
    assert exc.value.code == "share_condition_required"
    with pytest.raises(InvalidInput) as exc:
        services.publish_resource(actor=xf.SYSTEM, department=dept, code=f"BM-{dept.code}-00003", name="x",
                                  share_type="unconditional", content=xf.content(adapter="no.such"))
    assert exc.value.code == "unknown_adapter"
    assert Resource.objects.count() == before


def test_another_departments_admin_cannot_publish_for_a_provider():
    dept = f.department()
    admin = f.user(Role.DEPT_ADMIN, department=f.department())
    with pytest.raises(Forbidden):
        services.publish_resource(actor=admin, department=dept, code=f"BM-{dept.code}-00001", name="x",
                                  share_type="unconditional", content=xf.content())


def test_unconditional_resources_are_granted_at_once():
    res = xf.resource(share_type="unconditional")
    ag = xf.agreement(res, xf.consumer_officer(), clear_fields=["name"])
    assert ag.status == AgreementStatus.ACTIVE
    assert ag.fields == ["name", "id_number", "result", "issued_on"] and ag.clear_fields == ["name"]
    assert AuditEntry.objects.filter(action="exchange.agreement.apply", target_id=str(ag.pk)).exists()


def test_conditional_resources_wait_and_the_provider_may_grant_fewer_fields():
    provider = f.department("人社局")
    res = xf.resource(provider, share_type="conditional")
    ag = xf.agreement(res, xf.consumer_officer(), clear_fields=["name", "id_number"])
    assert ag.status == AgreementStatus.PENDING
    from smartgov.core.workdays import calendar

    assert ag.decide_by == calendar().add_workdays(timezone.localdate(), 10)  # 10 working days to decide
    admin = f.user(Role.DEPT_ADMIN, department=provider)
    with pytest.raises(InvalidInput):  # cannot grant more than asked
        services.approve_agreement(actor=admin, agreement=ag, fields=["name", "phone"])
    ag = services.approve_agreement(actor=admin, agreement=ag, fields=["name", "result"], clear_fields=["name"])
    assert ag.status == AgreementStatus.ACTIVE and ag.fields == ["name", "result"] and ag.clear_fields == ["name"]
    with pytest.raises(Conflict):
        services.refuse_agreement(actor=admin, agreement=ag, reason="晚了")


def test_only_the_providers_admin_decides_and_a_refusal_needs_a_reason():
    provider = f.department()
    res = xf.resource(provider, share_type="conditional")
    ag = xf.agreement(res, xf.consumer_officer())
    stranger = f.user(Role.DEPT_ADMIN, department=f.department())
    with pytest.raises(NotFound):
        services.approve_agreement(actor=stranger, agreement=ag)
    admin = f.user(Role.DEPT_ADMIN, department=provider)
    with pytest.raises(InvalidInput):
        services.refuse_agreement(actor=admin, agreement=ag, reason=" ")
    ag = services.refuse_agreement(actor=admin, agreement=ag, reason="用途与资源无关")
    assert ag.status == AgreementStatus.REFUSED and ag.reason == "用途与资源无关"


def test_not_shared_resources_cannot_be_requested():
    res = xf.resource(share_type="none")
    with pytest.raises(Conflict) as exc:
        xf.agreement(res, xf.consumer_officer())
    assert exc.value.code == "share_not_allowed"


def test_requests_name_existing_fields_a_purpose_and_a_future_end():
    res = xf.resource()
    officer = xf.consumer_officer()
    with pytest.raises(InvalidInput):
        xf.agreement(res, officer, fields=["salary"])
    with pytest.raises(InvalidInput):
        xf.agreement(res, officer, clear_fields=["result"])  # not a personal field
    with pytest.raises(InvalidInput):
        services.apply_for_resource(actor=officer, resource=res, purpose="", legal_basis="x", fields=["name"],
                                    valid_until=timezone.localdate() + datetime.timedelta(days=1))
    with pytest.raises(InvalidInput):
        services.apply_for_resource(actor=officer, resource=res, purpose="x", legal_basis="x", fields=["name"],
                                    valid_until=timezone.localdate() - datetime.timedelta(days=1))
    xf.agreement(res, officer)
    with pytest.raises(Conflict):
        xf.agreement(res, officer)


def test_either_side_may_revoke():
    provider = f.department()
    res = xf.resource(provider)
    consumer_dept = f.department()
    ag = xf.agreement(res, xf.consumer_officer(consumer_dept))
    consumer_admin = f.user(Role.DEPT_ADMIN, department=consumer_dept)
    ag = services.revoke_agreement(actor=consumer_admin, agreement=ag, reason="不再需要")
    assert ag.status == AgreementStatus.REVOKED and ag.revoked_at is not None
    with pytest.raises(Conflict):
        services.revoke_agreement(actor=f.user(Role.DEPT_ADMIN, department=provider), agreement=ag, reason="x")
