"""Enrolment, 1:N identification, 1:1 verification, de-duplication and deletion, through the services."""

import numpy as np
import orjson
import pytest
from django.db import transaction

from smartgov.audit.models import AuditEntry
from smartgov.biometrics import index as biometric_index
from smartgov.biometrics import services
from smartgov.biometrics.models import BiometricTemplate
from smartgov.core.errors import Conflict, Forbidden, InvalidInput
from smartgov.core.permissions import Role
from tests import factories as f

from .conftest import noisy_copy, person, random_vector

pytestmark = pytest.mark.django_db


def enrol(actor, who, vector, capture, **kw):
    with capture(execute=True):
        return services.enrol_template(actor=actor, person=who, modality="face", vector=vector,
                                       quality=kw.pop("quality", 90), **kw)


def test_enrolled_person_is_identified_from_a_noisy_copy_but_not_from_a_stranger(
        officer, rng, django_capture_on_commit_callbacks):
    alice, bob = person("李四"), person("王五")
    va = random_vector(rng)
    enrol(officer, alice, va, django_capture_on_commit_callbacks)
    enrol(officer, bob, random_vector(rng), django_capture_on_commit_callbacks)
    found = services.identify(actor=officer, modality="face", vector=noisy_copy(rng, va), threshold=0.8)
    assert [c.person_id for c in found] == [alice.pk]
    assert found[0].score > 0.9
    assert services.identify(actor=officer, modality="face", vector=random_vector(rng), threshold=0.8) == []
    assert AuditEntry.objects.filter(action="biometrics.identify").count() == 2


def test_enrolment_stores_a_unit_vector_and_audits_without_it(officer, rng, django_capture_on_commit_callbacks):
    t = enrol(officer, person(), [3.0] * 32, django_capture_on_commit_callbacks)
    t.refresh_from_db()
    assert np.isclose(np.linalg.norm(t.as_array()), 1.0)
    assert t.enrolled_by == officer and t.dim == 32 and len(bytes(t.vector)) == 32 * 4
    entry = AuditEntry.objects.get(action="biometrics.template.enrol")
    assert "vector" not in orjson.loads(entry.changes) and entry.target_id == str(t.pk)


def test_verify_one_to_one_against_the_persons_own_templates(officer, rng, django_capture_on_commit_callbacks):
    alice, bob = person(), person()
    va = random_vector(rng)
    t = enrol(officer, alice, va, django_capture_on_commit_callbacks)
    match = services.verify_one_to_one(person=alice, modality="face", vector=noisy_copy(rng, va))
    assert match.match and match.score > 0.9 and match.template_id == t.pk
    assert not services.verify_one_to_one(person=alice, modality="face", vector=random_vector(rng)).match
    assert services.verify_one_to_one(person=bob, modality="face", vector=va) == (False, None, None)


def test_dedupe_refuses_another_person_with_the_same_template(officer, rng, django_capture_on_commit_callbacks):
    alice, mallory = person("李四"), person("赵六")
    va = random_vector(rng)
    first = enrol(officer, alice, va, django_capture_on_commit_callbacks)
    with pytest.raises(Conflict) as exc:
        enrol(officer, mallory, noisy_copy(rng, va, 0.1), django_capture_on_commit_callbacks)
    assert exc.value.code == "duplicate_biometric" and exc.value.status == 409
    (candidate,) = exc.value.detail["candidates"]
    assert candidate["person_id"] == alice.pk and candidate["template_id"] == first.pk
    assert alice.id_number not in str(exc.value.detail)
    assert BiometricTemplate.objects.count() == 1
    # the same person enrolling a second capture is not a duplicate
    enrol(officer, alice, noisy_copy(rng, va, 0.1), django_capture_on_commit_callbacks)


def test_officer_may_override_a_duplicate_with_a_reason_which_is_audited(
        officer, rng, django_capture_on_commit_callbacks):
    alice, twin = person("李四"), person("李五")
    va = random_vector(rng)
    enrol(officer, alice, va, django_capture_on_commit_callbacks)
    t = enrol(officer, twin, noisy_copy(rng, va, 0.1), django_capture_on_commit_callbacks,
              override_reason="同卵双胞胎，已人工核验户籍资料")
    assert t.duplicate_override.startswith("同卵双胞胎")
    changes = orjson.loads(AuditEntry.objects.get(action="biometrics.template.duplicate_override").changes)
    assert changes["reason"].startswith("同卵双胞胎") and changes["candidates"][0]["person_id"] == alice.pk
    # both are now candidates for that face
    found = services.identify(actor=officer, modality="face", vector=va, threshold=0.8)
    assert {c.person_id for c in found} == {alice.pk, twin.pk}


def test_low_quality_capture_is_refused(officer, rng, settings):
    settings.BIOMETRIC_MIN_QUALITY = 70
    with pytest.raises(InvalidInput) as exc:
        services.enrol_template(actor=officer, person=person(), modality="face", vector=random_vector(rng),
                                quality=69)
    assert exc.value.code == "quality_too_low" and "70" in exc.value.message
    assert not BiometricTemplate.objects.exists()


def test_deleted_template_leaves_the_results(officer, rng, django_capture_on_commit_callbacks):
    alice = person()
    va = random_vector(rng)
    t = enrol(officer, alice, va, django_capture_on_commit_callbacks)
    with django_capture_on_commit_callbacks(execute=True):
        services.delete_template(actor=officer, template=t)
    assert t.pk not in biometric_index.get_index("face")
    assert services.identify(actor=officer, modality="face", vector=va, threshold=0.5) == []
    t.refresh_from_db()
    assert t.deleted_at is not None and bytes(t.vector) == b"" and t.deleted_by == officer
    assert AuditEntry.objects.filter(action="biometrics.template.delete", target_id=str(t.pk)).exists()


def test_rolled_back_enrolment_never_reaches_the_index(officer, rng, django_capture_on_commit_callbacks):
    va = random_vector(rng)
    with django_capture_on_commit_callbacks(execute=True) as callbacks, pytest.raises(RuntimeError):
        with transaction.atomic():
            services.enrol_template(actor=officer, person=person(), modality="face", vector=va, quality=90)
            raise RuntimeError("the surrounding case failed")
    assert callbacks == []
    assert not BiometricTemplate.objects.exists()
    assert len(biometric_index.get_index("face")) == 0
    assert services.identify(actor=officer, modality="face", vector=va, threshold=0.5) == []


def test_a_citizen_cannot_identify_and_an_officer_can(officer, rng):
    citizen = f.user(Role.CITIZEN)
    with pytest.raises(Forbidden):
        services.identify(actor=citizen, modality="face", vector=random_vector(rng))
    with pytest.raises(Forbidden):
        services.enrol_template(actor=citizen, person=person(), modality="face", vector=random_vector(rng),
                                quality=90)
    with pytest.raises(Forbidden):
        services.identify(actor=f.user(Role.SYSADMIN), modality="face", vector=random_vector(rng))
    assert services.identify(actor=officer, modality="face", vector=random_vector(rng)) == []


def test_other_servers_changes_are_caught_up_before_a_search(officer, rng, django_capture_on_commit_callbacks,
                                                             monkeypatch):
    """Another app server enrolled a template: this process's index learns it from the database."""
    alice = person()
    va = random_vector(rng)
    index = biometric_index.get_index("face")
    with django_capture_on_commit_callbacks(execute=False):  # "another server": this index is not told
        services.enrol_template(actor=officer, person=alice, modality="face", vector=va, quality=90)
    assert len(index) == 0
    monkeypatch.setattr(biometric_index, "CATCH_UP_SECONDS", 0)
    found = services.identify(actor=officer, modality="face", vector=va, threshold=0.9)
    assert [c.person_id for c in found] == [alice.pk] and len(index) == 1
