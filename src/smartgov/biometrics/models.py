"""Enrolled biometric templates (生物特征模板). The row id is the template's id in the faiss index."""

import numpy as np
from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models

from smartgov.core.models import TimeStampedModel

from .modalities import Modality


class BiometricTemplate(TimeStampedModel):
    """One capture device template: a unit-length float32 vector (raw bytes), for one person and modality.

    Deleting a template is soft: the row stays for the audit trail, ``deleted_at`` is set and the
    vector is wiped (个人信息最小化). ``updated_at`` lets other app servers catch their indexes up.
    """

    id = models.BigAutoField(primary_key=True)
    person = models.ForeignKey("identity.Person", verbose_name="自然人", on_delete=models.PROTECT,
                               related_name="biometric_templates")
    modality = models.CharField("模态", max_length=16, choices=Modality.choices)
    vector = models.BinaryField("特征向量（float32）")
    dim = models.PositiveIntegerField("维度")
    quality = models.PositiveSmallIntegerField("质量分", validators=[MinValueValidator(0), MaxValueValidator(100)])
    enrolled_at = models.DateTimeField("采集时间", auto_now_add=True)
    enrolled_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name="采集人", null=True, blank=True,
                                    on_delete=models.PROTECT, related_name="+")
    duplicate_override = models.TextField("查重放行理由", blank=True)
    deleted_at = models.DateTimeField("删除时间", null=True, blank=True)
    deleted_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name="删除人", null=True, blank=True,
                                   on_delete=models.PROTECT, related_name="+")

    class Meta:
        verbose_name = "生物特征模板"
        verbose_name_plural = "生物特征模板"
        indexes = [
            models.Index(fields=["modality", "updated_at"], name="biometrics_tpl_mod_updated"),
            models.Index(fields=["person", "modality"], name="biometrics_tpl_person_mod"),
        ]
        constraints = [
            models.CheckConstraint(condition=models.Q(quality__lte=100), name="biometrics_tpl_quality_max"),
        ]

    def __str__(self):
        return f"{self.get_modality_display()}模板 #{self.pk}"

    @property
    def is_live(self) -> bool:
        return self.deleted_at is None

    def as_array(self) -> np.ndarray:
        return np.frombuffer(bytes(self.vector), dtype=np.float32, count=self.dim)
