"""The applicant's material library (材料库): uploads kept for reuse, checked originals (trust B)."""

import hashlib
import secrets

from django.conf import settings
from django.core.files.base import ContentFile
from django.db import transaction

from smartgov.audit.services import record
from smartgov.core.errors import Forbidden, InvalidInput
from smartgov.core.permissions import has_perm, require

from ..models import ApplicationMaterial, StoredMaterial, TrustLevel
from .states import _now


@transaction.atomic
def store_material(*, actor, key: str, name: str, upload) -> StoredMaterial:
    """Keep an uploaded file in the applicant's material library (trust C until checked)."""
    require(actor, "onestop.apply")
    stored = _keep(owner=actor, key=key, name=name, upload=upload)
    record(actor=actor, action="onestop.material.store", target=stored, changes={"key": key, "size": stored.size})
    return stored


def keep_checked_original(*, actor, owner, key: str, name: str, upload) -> StoredMaterial:
    """窗口受理: the officer scans the original the applicant brought; the copy is trust level B at once
    (the original was checked by ``actor``) and goes into ``owner``'s library. Inside the caller's
    transaction and audit entry (the intake records what it scanned)."""
    stored = _keep(owner=owner, key=key, name=name, upload=upload, trust_level=TrustLevel.B)
    stored.checked_by, stored.checked_at = actor, _now()
    stored.save(update_fields=["checked_by", "checked_at"])
    stored.used = False  # a fresh scan, not reused from an earlier case (as ``_stored_for`` annotates)
    return stored


def _keep(*, owner, key: str, name: str, upload, trust_level: str = TrustLevel.C) -> StoredMaterial:
    """Validate an uploaded file (size, not empty, a PDF or image) and store it."""
    if (getattr(upload, "size", None) or 0) > settings.ONESTOP_MAX_UPLOAD_BYTES:  # before reading it into memory
        raise InvalidInput(f"“{name}”超过 {settings.ONESTOP_MAX_UPLOAD_BYTES // 1_048_576} MB", code="file_too_large")
    data = upload.read()
    if not data:
        raise InvalidInput(f"“{name}”是空文件", code="empty_file")
    if len(data) > settings.ONESTOP_MAX_UPLOAD_BYTES:
        raise InvalidInput(f"“{name}”超过 {settings.ONESTOP_MAX_UPLOAD_BYTES // 1_048_576} MB", code="file_too_large")
    kind = getattr(upload, "content_type", "") or "application/octet-stream"
    if kind not in settings.ONESTOP_UPLOAD_TYPES:
        raise InvalidInput(f"“{name}”的文件类型不受支持（请上传 PDF 或图片）", code="file_type")
    stored = StoredMaterial(owner_user=owner, key=key, name=name, sha256=hashlib.sha256(data).hexdigest(),
                            size=len(data), content_type=kind, trust_level=trust_level)
    stored.file.save(f"{secrets.token_hex(12)}", ContentFile(data), save=False)
    stored.save()
    return stored


@transaction.atomic
def check_material(*, actor, stored: StoredMaterial) -> StoredMaterial:
    """窗口核验: an officer has seen the original; the stored copy becomes trust level B."""
    if not has_perm(actor, "onestop.handle"):
        raise Forbidden("只有窗口工作人员可以核验原件", code="forbidden")
    stored.trust_level, stored.checked_by, stored.checked_at = TrustLevel.B, actor, _now()
    stored.save(update_fields=["trust_level", "checked_by", "checked_at"])
    ApplicationMaterial.objects.filter(stored=stored).update(trust_level=TrustLevel.B)
    record(actor=actor, action="onestop.material.check", target=stored)
    return stored
