"""1:N identification costs the same number of queries however many candidates it returns (no N+1)."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from smartgov.biometrics import services

from .conftest import noisy_copy, person, random_vector

pytestmark = pytest.mark.django_db


def _identify_queries(officer, vector) -> tuple[int, int]:
    with CaptureQueriesContext(connection) as queries:
        found = services.identify(actor=officer, modality="face", vector=vector, threshold=0.5, limit=20)
    return len(found), len(queries)


def test_identify_queries_do_not_grow_with_the_candidates(officer, rng, django_capture_on_commit_callbacks):
    base = random_vector(rng)
    for _ in range(2):
        with django_capture_on_commit_callbacks(execute=True):
            services.enrol_template(actor=officer, person=person(), modality="face", vector=noisy_copy(rng, base),
                                    quality=90, dedupe=False)
    found_few, few = _identify_queries(officer, base)
    for _ in range(8):
        with django_capture_on_commit_callbacks(execute=True):
            services.enrol_template(actor=officer, person=person(), modality="face", vector=noisy_copy(rng, base),
                                    quality=90, dedupe=False)
    found_many, many = _identify_queries(officer, base)
    assert (found_few, found_many) == (2, 10)
    assert many == few
