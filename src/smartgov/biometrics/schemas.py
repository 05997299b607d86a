import base64
import binascii
from datetime import datetime
from typing import Any

import numpy as np
from ninja import Schema
from pydantic import Field

from smartgov.core.errors import InvalidInput

from .modalities import Modality


class TemplateIn(Schema):
    person_id: int
    modality: Modality
    vector: list[Any] | str = Field(description="特征向量：数值列表，或 little-endian float32 的 base64")
    quality: float = Field(description="采集质量分 0–100")
    dedupe: bool = True
    override_reason: str = Field("", max_length=500, description="查重命中时放行的理由（留审计记录）")


class TemplateOut(Schema):
    """A template as the API shows it: never the vector."""
    id: int
    person_id: int
    modality: str
    dim: int
    quality: int
    enrolled_at: datetime
    enrolled_by_id: int | None


class IdentifyIn(Schema):
    modality: Modality
    vector: list[Any] | str
    threshold: float | None = Field(None, description="余弦相似度阈值（默认取模态的 1:N 阈值）")
    limit: int = 10


class CandidateOut(Schema):
    person_id: int
    template_id: int
    score: float


class IdentifyOut(Schema):
    modality: str
    threshold: float | None
    candidates: list[CandidateOut]


def decode_vector(value: list[Any] | str):
    """Base64 of little-endian float32 bytes as an array; a JSON list is passed on as it is."""
    if isinstance(value, str):
        try:
            raw = base64.b64decode(value, validate=True)
        except (binascii.Error, ValueError):
            raise InvalidInput("特征向量不是有效的 base64 编码", code="vector_bad_base64") from None
        if len(raw) % 4:
            raise InvalidInput("base64 特征向量的字节数应为 4 的倍数（float32）", code="vector_bad_base64")
        return np.frombuffer(raw, dtype="<f4").astype(np.float64)
    return value  # a list: services.parse_vector checks every element is a number
