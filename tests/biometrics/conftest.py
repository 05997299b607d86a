import dataclasses

import numpy as np
import pytest

from smartgov.biometrics import index as biometric_index
from smartgov.biometrics.modalities import MODALITIES
from smartgov.core.permissions import Role
from smartgov.identity.models import Person
from tests import factories as f

DIM = 32


@pytest.fixture(autouse=True)
def small_index(tmp_path, monkeypatch, settings):
    """Short vectors and a temporary index directory; no index survives from one test to the next."""
    for code, spec in list(MODALITIES.items()):
        monkeypatch.setitem(MODALITIES, code, dataclasses.replace(spec, dim=DIM))
    settings.BIOMETRIC_INDEX_DIR = str(tmp_path / "biometrics")  # SMARTGOV_BIOMETRIC_INDEX_DIR
    biometric_index.reset()
    yield tmp_path / "biometrics"
    biometric_index.reset()


@pytest.fixture
def rng():
    return np.random.default_rng(7)


@pytest.fixture
def officer(db):
    return f.user(Role.OFFICER)


def random_vector(rng, dim: int = DIM) -> list[float]:
    return rng.standard_normal(dim).tolist()


def noisy_copy(rng, vector, noise: float = 0.3) -> list[float]:
    """The same person captured again: cosine ≈ 1/√(1+noise²) with the original."""
    v = np.asarray(vector) / np.linalg.norm(vector)
    return (v + noise * rng.standard_normal(len(v)) / np.sqrt(len(v))).tolist()


def person(name: str = "张三") -> Person:
    p = Person(name=name, id_number=f.id_number())
    p.full_clean(exclude=["id_number_bidx", "phone_bidx"])
    p.save()
    return p
