"""Reads of biometric templates: the 1:N candidate search and the 1:N / 1:1 comparisons (比对) with
their input checks. Searching writes nothing; the audited 1:N identification is ``services.identify``."""

import math
from typing import NamedTuple

import numpy as np

from smartgov.core.errors import InvalidInput

from . import index as biometric_index
from .modalities import spec
from .models import BiometricTemplate


class Candidate(NamedTuple):
    person_id: int
    template_id: int
    score: float


class Verification(NamedTuple):
    match: bool
    score: float | None  # None: the person has no template of this modality
    template_id: int | None


def parse_vector(vector, modality: str) -> np.ndarray:
    """The template as a unit-length float32 vector, or InvalidInput (422) with a stable code."""
    dim = spec(modality).dim
    if isinstance(vector, list | tuple) and not all(isinstance(x, int | float) and not isinstance(x, bool)
                                                      for x in vector):
        raise InvalidInput("特征向量必须全部为数值", code="vector_not_numeric")
    try:
        arr = np.asarray(vector, dtype=np.float64)
    except (TypeError, ValueError):
        raise InvalidInput("特征向量必须全部为数值", code="vector_not_numeric") from None
    if arr.ndim != 1 or arr.shape[0] != dim:
        raise InvalidInput(f"特征向量维度应为 {dim}", code="vector_wrong_dimension",
                           detail={"expected": dim, "got": int(arr.size)})
    if not np.isfinite(arr).all():
        raise InvalidInput("特征向量含有非有限数值（NaN 或无穷大）", code="vector_not_finite")
    if np.abs(arr).max() > np.finfo(np.float32).max:  # finite as float64, infinite once stored as float32
        raise InvalidInput("特征向量数值超出单精度浮点范围", code="vector_not_finite")
    norm = float(np.linalg.norm(arr))
    if norm == 0.0 or not math.isfinite(norm):
        raise InvalidInput("特征向量不能为零向量", code="vector_zero")
    return biometric_index.normalise(arr)[0]


def search_candidates(modality: str, unit: np.ndarray, *, threshold: float, limit: int,
            exclude_person_id: int | None = None) -> list[Candidate]:
    """Best template per person at or above ``threshold``, highest first (live rows only)."""
    index = biometric_index.catch_up(modality)
    scores, ids = index.search(unit.reshape(1, -1), max(limit * 4, limit + 8))
    hits = {int(i): float(s) for s, i in zip(scores[0], ids[0], strict=True) if i >= 0 and s >= threshold}
    if not hits:
        return []
    # the database has the last word: a template deleted on another server may not have left this index yet
    owners = dict(BiometricTemplate.objects.filter(pk__in=hits, deleted_at__isnull=True)
                  .values_list("id", "person_id"))
    best: dict[int, Candidate] = {}
    for tid, score in hits.items():
        person_id = owners.get(tid)
        if person_id is None or person_id == exclude_person_id:
            continue
        if person_id not in best or score > best[person_id].score:
            best[person_id] = Candidate(person_id, tid, round(score, 6))
    return sorted(best.values(), key=lambda c: -c.score)[:limit]


def verify_one_to_one(*, person, modality: str, vector, threshold: float | None = None) -> Verification:
    """1:1 核验 against ``person``'s own live templates (no index involved). For the identity
    verification service, which checks its caller's permission and writes its own audit entry."""
    modality_spec = spec(modality)
    unit = parse_vector(vector, modality)
    threshold = modality_spec.verify_threshold if threshold is None else float(threshold)
    rows = list(BiometricTemplate.objects.filter(person=person, modality=modality, deleted_at__isnull=True)
                .values_list("id", "vector"))
    if not rows:
        return Verification(False, None, None)
    matrix = np.vstack([np.frombuffer(bytes(blob), dtype=np.float32, count=modality_spec.dim) for _, blob in rows])
    scores = matrix @ unit.astype(np.float32)
    best = int(np.argmax(scores))
    score = round(float(scores[best]), 6)
    return Verification(score >= threshold, score, rows[best][0])
