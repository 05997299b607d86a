"""Enrolment, 1:N identification, 1:1 verification and deletion of biometric templates (生物特征比对).

Feature extraction is the capture device's job; a template arrives as a fixed-length float vector.
Every write is keyword-only with ``actor=``, atomic and audited; the vector itself never enters the
audit trail. The index follows the database after commit, so a rolled-back enrolment never reaches it.
"""

import math

import numpy as np
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from smartgov.audit.services import record
from smartgov.core.errors import Conflict, InvalidInput, NotFound
from smartgov.core.permissions import require, user_of

from . import index as biometric_index
from .modalities import spec
from .models import BiometricTemplate
from .selectors import Candidate, Verification, parse_vector, verify_one_to_one  # noqa: F401 (public names)
from .selectors import search_candidates as _search


def min_quality() -> int:
    """Lowest quality score (0–100) accepted at enrolment: settings.BIOMETRIC_MIN_QUALITY
    (SMARTGOV_BIOMETRIC_MIN_QUALITY, default 60)."""
    return int(settings.BIOMETRIC_MIN_QUALITY)


def check_quality(quality) -> int:
    if isinstance(quality, bool) or not isinstance(quality, int | float) or not math.isfinite(quality) \
            or not 0 <= quality <= 100:
        raise InvalidInput("质量分应为 0–100 之间的数值", code="quality_out_of_range", detail={"quality": quality})
    floor = min_quality()
    if quality < floor:
        raise InvalidInput(f"采集质量分 {quality:g} 低于入库门槛 {floor}，请重新采集", code="quality_too_low",
                           detail={"quality": quality, "minimum": floor})
    return round(quality)


@transaction.atomic
def enrol_template(*, actor, person, modality: str, vector, quality, dedupe: bool = True,
                   override_reason: str = "") -> BiometricTemplate:
    """采集入库. With ``dedupe`` (the default) the template is first identified against everyone enrolled;
    another person at or above the modality's duplicate threshold is refused (409 duplicate_biometric)
    unless ``override_reason`` says why the officer lets it through (audited)."""
    require(actor, "biometrics.enrol")
    modality_spec = spec(modality)
    unit = parse_vector(vector, modality)
    quality = check_quality(quality)
    override_reason = (override_reason or "").strip()
    if not dedupe:
        require(actor, "biometrics.override_duplicate")
    duplicates = []
    if dedupe:
        duplicates = _search(modality, unit, threshold=modality_spec.duplicate_threshold, limit=5,
                             exclude_person_id=person.pk)
        if duplicates and not override_reason:
            # person and template ids only: never another person's name or ID number
            raise Conflict("该生物特征与已登记的其他人员高度相似，疑似重复登记", code="duplicate_biometric",
                           detail={"candidates": [c._asdict() for c in duplicates],
                                   "threshold": modality_spec.duplicate_threshold})
        if duplicates:
            require(actor, "biometrics.override_duplicate")
    template = BiometricTemplate.objects.create(
        person=person, modality=modality, vector=unit.astype(np.float32).tobytes(), dim=modality_spec.dim,
        quality=quality, enrolled_by=user_of(actor),
        duplicate_override=override_reason if duplicates else "")
    record(actor=actor, action="biometrics.template.enrol", target=template,
           changes={"person": person.pk, "modality": modality, "quality": quality, "dedupe": dedupe})
    if duplicates:
        record(actor=actor, action="biometrics.template.duplicate_override", target=template,
               changes={"person": person.pk, "reason": override_reason,
                        "candidates": [c._asdict() for c in duplicates]})
    tid = template.pk
    transaction.on_commit(lambda: biometric_index.get_index(modality).add([tid], unit.reshape(1, -1)))
    return template


@transaction.atomic
def identify(*, actor, modality: str, vector, threshold: float | None = None, limit: int = 10) -> list[Candidate]:
    """1:N 比对: persons whose best template scores at or above ``threshold`` (cosine), best first.
    Audited: a 1:N search is a look-up of personal data."""
    require(actor, "biometrics.identify")
    modality_spec = spec(modality)
    unit = parse_vector(vector, modality)
    threshold = modality_spec.identify_threshold if threshold is None else float(threshold)
    if not -1.0 <= threshold <= 1.0:
        raise InvalidInput("比对阈值应在 -1 到 1 之间", code="threshold_out_of_range")
    if not 1 <= limit <= 100:
        raise InvalidInput("候选数量应在 1 到 100 之间", code="limit_out_of_range")
    candidates = _search(modality, unit, threshold=threshold, limit=limit)
    record(actor=actor, action="biometrics.identify", target=("biometrics.modality", modality),
           changes={"threshold": threshold, "limit": limit, "candidates": [c.person_id for c in candidates]})
    return candidates


@transaction.atomic
def delete_template(*, actor, template: BiometricTemplate) -> BiometricTemplate:
    """Soft delete: the row stays (audit), the vector is wiped, and the index drops it after commit."""
    require(actor, "biometrics.delete")
    template = BiometricTemplate.objects.select_for_update().get(pk=template.pk)
    if template.deleted_at is not None:
        raise NotFound("该模板已删除", code="template_deleted")
    template.deleted_at, template.deleted_by, template.vector = timezone.now(), actor, b""
    template.save(update_fields=["deleted_at", "deleted_by", "vector", "updated_at"])
    record(actor=actor, action="biometrics.template.delete", target=template,
           changes={"person": template.person_id, "modality": template.modality})
    tid, modality = template.pk, template.modality
    transaction.on_commit(lambda: biometric_index.get_index(modality).remove([tid]))
    return template


def rebuild_index(*, modality: str) -> dict:
    """Rebuild a modality's index from the database and save it (operations; see index.rebuild_index)."""
    spec(modality)
    return biometric_index.rebuild_index(modality)
