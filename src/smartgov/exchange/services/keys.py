"""Consumer keys: a department's system calls the exchange with ``X-Exchange-Key: sgx_<prefix>_<secret>``.
Only the SM3 digest of the key is stored; the key is shown once."""

import secrets

from django.db import transaction

from smartgov.audit.services import record
from smartgov.core.crypto.sm3 import sm3_hex
from smartgov.core.errors import InvalidInput
from smartgov.core.permissions import is_system, require

from ..models import ConsumerKey


def _digest(key: str) -> str:
    return sm3_hex(key.encode())


@transaction.atomic
def issue_key(*, actor, label: str, department=None) -> tuple[ConsumerKey, str]:
    department = department if is_system(actor) else getattr(actor, "department", None)
    if department is None:
        raise InvalidInput("密钥须属于一个部门", code="department_required")
    require(actor, "exchange.manage_key", department=department, include_descendants=False)
    label = (label or "").strip()
    if not label or len(label) > 100:
        raise InvalidInput("请填写密钥说明（不超过100字）", code="label_required")
    prefix = secrets.token_hex(6)
    key = f"sgx_{prefix}_{secrets.token_urlsafe(24)}"
    ck = ConsumerKey.objects.create(department=department, prefix=prefix, key_hash=_digest(key), label=label,
                                    created_by=actor.get_username())
    record(actor=actor, action="exchange.key.issue", target=ck, changes={"department": department.pk, "label": label})
    return ck, key


@transaction.atomic
def revoke_key(*, actor, key: ConsumerKey) -> ConsumerKey:
    require(actor, "exchange.manage_key", department=key.department, include_descendants=False, hide=True)
    key.active = False
    key.save(update_fields=["active"])
    record(actor=actor, action="exchange.key.revoke", target=key)
    return key


def authenticate_key(raw: str) -> ConsumerKey | None:
    parts = (raw or "").split("_", 2)
    if len(parts) != 3 or parts[0] != "sgx":
        return None
    ck = ConsumerKey.objects.select_related("department").filter(prefix=parts[1], active=True).first()
    if ck is None or not secrets.compare_digest(ck.key_hash, _digest(raw)):
        return None
    return ck
