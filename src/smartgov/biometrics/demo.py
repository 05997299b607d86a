"""Demo face templates: each demo citizen with a register record gets one synthetic face template (a fixed
pseudo-random unit vector seeded by the person's id — no real biometric data), so the hall's kiosk and
the EID verification can be tried with the same vector. Safe to run twice."""

import numpy as np

from smartgov.core.permissions import Role, system_actor
from smartgov.identity.models import Person

from .modalities import spec
from .models import BiometricTemplate
from .services import enrol_template


def demo_face_vector(person_id: int) -> list[float]:
    """The demo template of ``person_id`` (what a test device would send for that person)."""
    v = np.random.default_rng(20_260_000 + person_id).standard_normal(spec("face").dim)
    return (v / np.linalg.norm(v)).tolist()


def load_demo(*, stdout) -> None:
    made = 0
    for person in Person.objects.filter(user__role=Role.CITIZEN):
        if BiometricTemplate.objects.filter(person=person, modality="face", deleted_at__isnull=True).exists():
            continue
        enrol_template(actor=system_actor("biometrics.demo"), person=person, modality="face",
                       vector=demo_face_vector(person.pk), quality=90)
        made += 1
    stdout.write(f"生物特征：新采集 {made} 个演示人脸模板（合成数据）。")
