"""The faiss index: kinds, deletes, persistence, restart and catch-up from the database."""

import numpy as np
import pytest

from smartgov.biometrics import index as biometric_index
from smartgov.biometrics import services
from smartgov.biometrics.index import BiometricIndex, normalise
from smartgov.biometrics.models import BiometricTemplate

from .conftest import DIM, noisy_copy, person, random_vector


def clustered(rng, n: int, dim: int = DIM) -> np.ndarray:
    centres = normalise(rng.standard_normal((8, dim)))
    return normalise(0.5 * centres[rng.integers(0, 8, n)] + rng.standard_normal((n, dim)) / np.sqrt(dim))


@pytest.mark.parametrize("kind", ["flat", "ivf"])
def test_index_kinds_find_the_true_match_and_remove_by_id(kind, rng, tmp_path):
    base = clustered(rng, 3000)
    ids = np.arange(10, 3010)
    index = BiometricIndex("face", DIM)
    index.build(ids, base, kind=kind)
    assert index.kind == kind and len(index) == 3000
    probes = normalise(base[:50] + 0.2 * rng.standard_normal((50, DIM)) / np.sqrt(DIM))
    _, found = index.search(probes, 5)
    assert (found[:, 0] == ids[:50]).mean() >= 0.95
    assert index.remove([10, 11, 999_999]) == 2
    _, found = index.search(probes[:2], 5)
    assert 10 not in found and 11 not in found
    # saved and loaded: same kind, same answers, and deletes still work after loading
    index.save(tmp_path)
    loaded = BiometricIndex.load(tmp_path, "face", DIM)
    assert loaded.kind == kind and loaded.ids() == index.ids()
    np.testing.assert_array_equal(loaded.search(probes, 5)[1], index.search(probes, 5)[1])
    assert loaded.remove([12]) == 1 and 12 not in loaded
    assert BiometricIndex.load(tmp_path, "face", DIM + 1) is None  # another dimension: rebuild instead


def test_adding_is_idempotent_and_an_empty_index_answers_nothing(rng):
    index = BiometricIndex("iris", DIM)
    assert index.search(normalise(rng.standard_normal(DIM)), 3)[1].tolist() == [[-1, -1, -1]]
    v = normalise(rng.standard_normal((1, DIM)))
    assert index.add([5], v) == 1 and index.add([5], v) == 0 and len(index) == 1


@pytest.mark.django_db
def test_restart_loads_the_saved_index_and_replays_only_later_changes(
        officer, rng, django_capture_on_commit_callbacks, small_index, monkeypatch):
    def enrol(who, vector):
        with django_capture_on_commit_callbacks(execute=True):
            return services.enrol_template(actor=officer, person=who, modality="face", vector=vector, quality=90)

    people = [person() for _ in range(4)]
    vectors = [random_vector(rng) for _ in people]
    templates = [enrol(p, v) for p, v in zip(people[:3], vectors[:3], strict=True)]
    probes = [noisy_copy(rng, v) for v in vectors]

    def answers():
        return [services.identify(actor=officer, modality="face", vector=p, threshold=0.5) for p in probes]

    before = answers()
    meta = biometric_index.checkpoint_index("face")
    assert meta["count"] == 3 and meta["max_template_id"] == templates[-1].pk
    assert (small_index / "face.faiss").exists() and (small_index / "face.json").exists()

    # restart: the in-memory index is dropped; it comes back from disk, not from a rebuild
    biometric_index.reset()
    monkeypatch.setattr(biometric_index, "_build_from_database", lambda *a, **k: pytest.fail("rebuilt"))
    assert answers() == before
    assert biometric_index.get_index("face").ids() == {t.pk for t in templates}

    # changes after the save (another server: this process is not told) are replayed from the database
    with django_capture_on_commit_callbacks(execute=False):
        late = services.enrol_template(actor=officer, person=people[3], modality="face", vector=vectors[3],
                                       quality=90)
        services.delete_template(actor=officer, template=templates[0])
    biometric_index.reset()
    index = biometric_index.get_index("face")
    assert index.ids() == {templates[1].pk, templates[2].pk, late.pk}
    after = answers()
    assert after[0] == [] and [c.person_id for c in after[3]] == [people[3].pk]
    assert after[1:3] == before[1:3]


@pytest.mark.django_db
def test_rebuild_index_from_the_database(officer, rng, django_capture_on_commit_callbacks, small_index):
    with django_capture_on_commit_callbacks(execute=True):
        for _ in range(5):
            services.enrol_template(actor=officer, person=person(), modality="fingerprint",
                                    vector=random_vector(rng), quality=80)
    live = set(BiometricTemplate.objects.values_list("id", flat=True))
    result = services.rebuild_index(modality="fingerprint")
    assert result["count"] == 5 and result["kind"] == "flat" and (small_index / "fingerprint.faiss").exists()
    assert biometric_index.get_index("fingerprint").ids() == live


@pytest.mark.django_db
def test_command_checkpoints_every_modality(small_index):
    from io import StringIO

    from django.core.management import call_command

    out = StringIO()
    call_command("biometrics", "checkpoint", stdout=out)
    assert len(out.getvalue().splitlines()) == 3
    assert {p.name for p in small_index.iterdir()} >= {"face.faiss", "iris.json", "fingerprint.faiss"}


@pytest.mark.django_db
def test_periodic_job_checkpoints_and_queues_its_next_run(small_index):
    from smartgov.biometrics.tasks import checkpoint_biometric_indexes

    assert checkpoint_biometric_indexes.call() == {"face": 0, "fingerprint": 0, "iris": 0}
    assert (small_index / "face.json").exists()
