"""秒批: rules met → approved and the licence issued within the submitting request, by the platform
on the workflow engine; a rule not met → the normal workflow with the rule named; 事后抽查 sampling
and revocation; the rule test panel; versions tied to the item's."""

import pytest

from smartgov.core.errors import Conflict, InvalidInput, NotFound
from smartgov.core.permissions import system_actor
from smartgov.licences.models import LicenceStatus
from smartgov.onestop import services as onestop
from smartgov.onestop.models import Application, State
from smartgov.smart import selectors, services
from smartgov.smart.models import InstantApproval, ReviewStatus
from smartgov.workflow.models import InstanceStatus
from tests.smart import world as sw

pytestmark = pytest.mark.django_db


@pytest.fixture
def w(db):
    return sw.make()


def submit(w, user, django_capture_on_commit_callbacks, **kw):
    with django_capture_on_commit_callbacks(execute=True):
        app = sw.apply(w, user, **kw)
    return Application.objects.select_related("result_licence", "instance").get(pk=app.pk)


def test_all_rules_met_is_approved_and_licence_issued_at_once(w, django_capture_on_commit_callbacks):
    sw.publish_instant(w)
    app = submit(w, w["driver_user"], django_capture_on_commit_callbacks)
    assert app.state == State.ISSUED
    assert app.result_licence.holder_person_id == w["driver"].pk and app.result_licence.data["licence_class"] == "C1"
    assert app.instance.status == InstanceStatus.COMPLETED  # the ordinary workflow ran, acted on by the platform
    a = InstantApproval.objects.get(application=app)
    assert a.approved and a.seconds is not None and a.seconds < 2
    assert a.decision.rule_version == 1 and len(a.decision.messages) == 2
    assert all(m.get("message_id") for m in a.decision.messages)
    assert list(app.steps.values_list("actor_name", flat=True)).count("smart.instant") == 4


def test_a_rule_not_met_falls_back_to_the_workflow_with_the_rule_named(w, django_capture_on_commit_callbacks):
    sw.publish_instant(w)
    app = submit(w, w["driver_user"], django_capture_on_commit_callbacks, licence_class="B1")
    assert app.state == State.SUBMITTED and app.result_licence is None
    a = InstantApproval.objects.get(application=app)
    assert not a.approved and a.failed_rule == "准驾车型为C1或C2"
    old = submit(w, w["old_driver_user"], django_capture_on_commit_callbacks)
    assert old.state == State.SUBMITTED
    assert InstantApproval.objects.get(application=old).failed_rule == "年龄未满70周岁"
    # the officer then handles it the ordinary way
    onestop.start_prereview(actor=w["bureau_officer"], application=old)
    onestop.accept(actor=w["bureau_officer"], application=old)


def test_missing_exchange_data_never_approves(w, django_capture_on_commit_callbacks):
    from smartgov.exchange import services as exchange

    sw.publish_instant(w)
    ag = w["licence_res"].agreements.get(consumer=w["bureau"])
    exchange.revoke_agreement(actor=sw.SYSTEM, agreement=ag, reason="测试")
    app = submit(w, w["driver_user"], django_capture_on_commit_callbacks)
    a = InstantApproval.objects.get(application=app)
    assert app.state == State.SUBMITTED and a.failed_rule == "持有有效驾驶证（缺少数据）"


def test_item_without_rules_is_left_alone(w, django_capture_on_commit_callbacks):
    app = submit(w, w["driver_user"], django_capture_on_commit_callbacks)
    assert app.state == State.SUBMITTED and not InstantApproval.objects.exists()


def test_rules_published_for_an_older_item_version_do_not_approve(w, django_capture_on_commit_callbacks):
    sw.publish_instant(w)
    content = onestop.parse_content(w["item"].versions.get(version=1).content).model_dump(mode="json")
    content["description"] = "新版本"
    onestop.publish_item_version(actor=system_actor("test"), item=w["item"], content=content)
    w["item"].refresh_from_db()
    app = submit(w, w["driver_user"], django_capture_on_commit_callbacks)
    assert app.state == State.SUBMITTED
    assert "新版本" in InstantApproval.objects.get(application=app).failed_rule


def test_sampled_approval_is_revoked_with_reasons(w, django_capture_on_commit_callbacks):
    sw.publish_instant(w, sample_rate=1.0)
    app = submit(w, w["driver_user"], django_capture_on_commit_callbacks)
    a = InstantApproval.objects.get(application=app)
    assert a.sampled and a.review_status == ReviewStatus.PENDING
    assert [x.pk for x in selectors.approvals_for(w["bureau_officer"], pending=True)] == [a.pk]
    with pytest.raises(InvalidInput):
        services.review_sample(actor=w["bureau_officer"], approval=a, revoke=True, reason="  ")
    a.refresh_from_db()
    app.result_licence.refresh_from_db()
    assert a.review_status == ReviewStatus.PENDING and app.result_licence.status == LicenceStatus.VALID
    services.review_sample(actor=w["bureau_officer"], approval=a, revoke=True, reason="体检证明系伪造")
    a.refresh_from_db()
    app.result_licence.refresh_from_db()
    assert a.review_status == ReviewStatus.REVOKED and a.reviewer == w["bureau_officer"]
    assert app.result_licence.status == LicenceStatus.REVOKED
    with pytest.raises(Conflict):
        services.review_sample(actor=w["bureau_officer"], approval=a, revoke=False)
    m = selectors.measures(w["bureau"])
    assert (m["instant"]["approved"], m["instant"]["revoked"], m["revocation_rate"]) == (1, 1, 100.0)


def test_sampling_follows_the_configured_share(w, django_capture_on_commit_callbacks):
    sw.publish_instant(w, sample_rate=0.0)
    submit(w, w["driver_user"], django_capture_on_commit_callbacks)
    assert not InstantApproval.objects.get().sampled


def test_other_departments_cannot_see_or_review(w, django_capture_on_commit_callbacks):
    sw.publish_instant(w, sample_rate=1.0)
    app = submit(w, w["driver_user"], django_capture_on_commit_callbacks)
    a = InstantApproval.objects.get(application=app)
    with pytest.raises(NotFound):
        selectors.approval_for(w["street_admin"], a.pk)
    with pytest.raises(NotFound):
        services.review_sample(actor=w["street_admin"], approval=a, revoke=True, reason="x")
    with pytest.raises(NotFound):
        services.publish_instant_rules(actor=w["street_admin"], item=w["item"], definition=sw.instant_definition())


def test_trial_run_uses_past_cases_without_new_calls(w, django_capture_on_commit_callbacks):
    from smartgov.exchange.models import Message

    sw.publish_instant(w)
    submit(w, w["driver_user"], django_capture_on_commit_callbacks)
    submit(w, w["driver_user"], django_capture_on_commit_callbacks, licence_class="B1")
    calls = Message.objects.count()
    draft = sw.instant_definition()
    draft["sources"] = {}
    draft["rules"] = [{"name": "仅限C1", "condition": {"fact": "form.licence_class", "op": "eq", "value": "C1"}}]
    result = selectors.trial_run(w["bureau_admin"], w["item"], draft)
    assert (result["cases"], result["would_approve"]) == (2, 1)
    assert Message.objects.count() == calls
    with pytest.raises(InvalidInput):
        draft["rules"][0]["condition"]["fact"] = "form.nope"
        selectors.trial_run(w["bureau_admin"], w["item"], draft)
