"""The modality registry (模态): one index per modality, each with its own vector length and thresholds.

The dimension is the capture device's template length; it lives here and nowhere else. Scores are
cosine similarities (vectors are L2-normalised at enrolment), so thresholds are in [-1, 1].
"""

from dataclasses import dataclass

from django.db import models

from smartgov.core.errors import InvalidInput


class Modality(models.TextChoices):
    FACE = "face", "人脸"
    FINGERPRINT = "fingerprint", "指纹"
    IRIS = "iris", "虹膜"


@dataclass(frozen=True)
class ModalitySpec:
    code: str
    dim: int = 512
    identify_threshold: float = 0.60  # 1:N default: candidates at or above this are returned
    verify_threshold: float = 0.70  # 1:1 default: a claimed identity matches at or above this
    duplicate_threshold: float = 0.85  # enrolment refuses another person's template at or above this


MODALITIES: dict[str, ModalitySpec] = {
    Modality.FACE: ModalitySpec(Modality.FACE),
    Modality.FINGERPRINT: ModalitySpec(Modality.FINGERPRINT),
    Modality.IRIS: ModalitySpec(Modality.IRIS),
}


def spec(modality: str) -> ModalitySpec:
    try:
        return MODALITIES[modality]
    except KeyError:
        raise InvalidInput("不支持的生物特征模态", code="unknown_modality",
                           detail={"modality": modality, "allowed": sorted(MODALITIES)}) from None
