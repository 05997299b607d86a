"""The biometrics API: enrol, identify, delete; validation (422, nothing written) and permissions."""

import base64

import numpy as np
import pytest

from smartgov.audit.models import AuditEntry
from smartgov.biometrics.models import BiometricTemplate
from smartgov.core.permissions import Role
from tests import factories as f

from .conftest import DIM, noisy_copy, person, random_vector

pytestmark = [pytest.mark.django_db, pytest.mark.urls("tests.biometrics.urls")]
API = "/test-api/biometrics"


@pytest.fixture
def client(officer):
    return f.staff_client(officer)


def b64(vector) -> str:
    return base64.b64encode(np.asarray(vector, dtype="<f4").tobytes()).decode()


def test_enrol_identify_and_delete(client, rng, django_capture_on_commit_callbacks):
    alice = person()
    va = random_vector(rng)
    with django_capture_on_commit_callbacks(execute=True):
        resp = client.post(f"{API}/templates", {"person_id": alice.pk, "modality": "face", "vector": va,
                                                "quality": 88.0}, content_type="application/json")
    assert resp.status_code == 201, resp.content
    body = resp.json()
    assert body["person_id"] == alice.pk and body["dim"] == DIM and body["quality"] == 88 and "vector" not in body

    resp = client.post(f"{API}/identify", {"modality": "face", "vector": b64(noisy_copy(rng, va))},
                       content_type="application/json")
    assert resp.status_code == 200, resp.content
    (candidate,) = resp.json()["candidates"]
    assert candidate["person_id"] == alice.pk and candidate["template_id"] == body["id"]
    assert resp.json()["threshold"] == 0.6

    with django_capture_on_commit_callbacks(execute=True):
        assert client.delete(f"{API}/templates/{body['id']}").status_code == 204
    resp = client.post(f"{API}/identify", {"modality": "face", "vector": va}, content_type="application/json")
    assert resp.json()["candidates"] == []
    assert client.delete(f"{API}/templates/{body['id']}").json()["code"] == "not_found"


def test_duplicate_enrolment_answers_409_with_candidate_ids_only(client, rng, django_capture_on_commit_callbacks):
    alice, other = person("李四"), person("赵六")
    va = random_vector(rng)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(f"{API}/templates", {"person_id": alice.pk, "modality": "iris", "vector": va, "quality": 90},
                    content_type="application/json")
    with django_capture_on_commit_callbacks(execute=True):
        resp = client.post(f"{API}/templates", {"person_id": other.pk, "modality": "iris", "vector": va,
                                                "quality": 90}, content_type="application/json")
    assert resp.status_code == 409
    body = resp.json()
    assert body["code"] == "duplicate_biometric" and body["message"]
    assert body["detail"]["candidates"][0]["person_id"] == alice.pk
    assert alice.id_number not in resp.content.decode() and "李四" not in resp.content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        resp = client.post(f"{API}/templates", {"person_id": other.pk, "modality": "iris", "vector": va,
                                                "quality": 90, "override_reason": "双胞胎，人工核验"},
                           content_type="application/json")
    assert resp.status_code == 201


@pytest.mark.parametrize(("change", "code"), [
    ({"vector": [0.1] * (DIM - 1)}, "vector_wrong_dimension"),
    ({"vector": [0.1] * (DIM + 1)}, "vector_wrong_dimension"),
    ({"vector": [0.1] * (DIM - 1) + ["x"]}, "vector_not_numeric"),
    ({"vector": [0.1] * (DIM - 1) + [True]}, "vector_not_numeric"),
    ({"vector": [0.1] * (DIM - 1) + [None]}, "vector_not_numeric"),
    ({"vector": [[0.1] * DIM]}, "vector_not_numeric"),
    ({"vector": [0.1] * (DIM - 1) + [1e39]}, "vector_not_finite"),  # a float64, but infinite as float32
    ({"vector": b64([0.1] * (DIM - 1) + [float("nan")])}, "vector_not_finite"),
    ({"vector": b64([0.1] * (DIM - 1) + [float("inf")])}, "vector_not_finite"),
    ({"vector": b64([0.1] * (DIM - 2))}, "vector_wrong_dimension"),
    ({"vector": "not base64!"}, "vector_bad_base64"),
    ({"vector": [0.0] * DIM}, "vector_zero"),
    ({"quality": 101}, "quality_out_of_range"),
    ({"quality": -1}, "quality_out_of_range"),
    ({"quality": 20}, "quality_too_low"),
    ({"modality": "voice"}, "invalid_input"),
])
def test_bad_templates_are_refused_with_422_and_nothing_written(client, rng, change, code):
    before = AuditEntry.objects.count()
    payload = {"person_id": person().pk, "modality": "face", "vector": random_vector(rng), "quality": 90, **change}
    resp = client.post(f"{API}/templates", payload, content_type="application/json")
    assert resp.status_code == 422, resp.content
    assert resp.json()["code"] == code and resp.json()["message"]
    assert not BiometricTemplate.objects.exists() and AuditEntry.objects.count() == before


def test_identify_validates_the_probe_too(client):
    resp = client.post(f"{API}/identify", {"modality": "face", "vector": [1.0] * 3}, content_type="application/json")
    assert resp.status_code == 422 and resp.json()["code"] == "vector_wrong_dimension"


def test_a_citizen_cannot_identify_or_enrol_and_an_officer_can(client, rng):
    citizen = f.staff_client(f.user(Role.CITIZEN))
    probe = {"modality": "face", "vector": random_vector(rng)}
    resp = citizen.post(f"{API}/identify", probe, content_type="application/json")
    assert resp.status_code == 403 and resp.json()["code"] == "forbidden"
    resp = citizen.post(f"{API}/templates", {**probe, "person_id": 999_999, "quality": 90},
                        content_type="application/json")
    assert resp.status_code == 403  # not 404: no probing which persons exist
    assert client.post(f"{API}/identify", probe, content_type="application/json").status_code == 200
    from django.test import Client

    assert Client().post(f"{API}/identify", probe, content_type="application/json").status_code == 401
