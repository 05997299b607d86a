"""Key management (密钥管理): per-department SM4 data keys in envelope encryption.

A data key is 16 random bytes, generated here and stored only *wrapped*: SM4-GCM under a wrapping key
derived (HKDF-SM3) from the platform master key (``SMARTGOV_MASTER_KEYS``), with the department and
version bound as AAD. Rotating a department's key makes a new version for new data and keeps the old
one for reading; rotating the master key (add version N+1) is followed by ``rewrap_all``, which re-wraps
every data key under the new master version without touching the data. Every use is recorded in
``KeyUsage`` (who, operation, purpose) and the audit trail records versions only — no key material.

Ciphertexts: ``k{version}:{base64url(nonce‖ct‖tag)}``, AAD = department code + purpose + version.
"""

import base64
import secrets

from django.db import transaction
from django.utils import timezone

from smartgov.accounts.models import Department
from smartgov.audit.services import record
from smartgov.core.crypto import keys
from smartgov.core.crypto.sm4 import SM4DecryptionError, sm4_gcm_decrypt, sm4_gcm_encrypt
from smartgov.core.errors import InvalidInput, NotFound
from smartgov.core.permissions import require

from .models import DataKey, KeyUsage

DATA_KEY_BYTES = 16


def _wrap_aad(department_id: int, version: int) -> bytes:
    return f"dept:{department_id}:v{version}".encode()


def _data_aad(department, purpose: str, version: int) -> bytes:
    return f"seccloud-data\x00{department.code}\x00{purpose}\x00v{version}".encode()


def _actor_name(actor) -> str:
    return actor.get_username() if hasattr(actor, "get_username") else str(actor)


@transaction.atomic
def create_data_key(*, actor, department) -> DataKey:
    """The department's first data key, or its next version (rotation): the old one is retired but
    kept for decrypting what it encrypted."""
    require(actor, "seccloud.manage_keys")

    Department.objects.select_for_update().filter(pk=department.pk).first()  # one rotation at a time
    current = DataKey.objects.filter(department=department).order_by("-version").first()
    version = current.version + 1 if current else 1
    DataKey.objects.filter(department=department, active=True).update(active=False, retired_at=timezone.now())
    master_version, wrapped = keys.get_keyring().wrap_key(secrets.token_bytes(DATA_KEY_BYTES),
                                                          aad=_wrap_aad(department.pk, version))
    key = DataKey.objects.create(department=department, version=version, wrapped=wrapped,
                                 master_version=master_version)
    KeyUsage.objects.create(key=key, actor=_actor_name(actor), operation="create" if version == 1 else "rotate")
    record(actor=actor, action="seccloud.key.create" if version == 1 else "seccloud.key.rotate", target=key,
           changes={"department": department.pk, "version": version, "master_version": master_version})
    return key


rotate_data_key = create_data_key


def _unwrap(key: DataKey) -> bytes:
    return keys.get_keyring().unwrap_key(key.master_version, bytes(key.wrapped),
                                         aad=_wrap_aad(key.department_id, key.version))


@transaction.atomic
def rewrap_all(*, actor) -> int:
    """After a master key rotation: re-wrap every data key under the current master version."""
    require(actor, "seccloud.manage_keys")
    ring = keys.get_keyring()
    n = 0
    for key in DataKey.objects.select_for_update().exclude(master_version=ring.current_version):
        plain = _unwrap(key)
        key.master_version, key.wrapped = ring.wrap_key(plain, aad=_wrap_aad(key.department_id, key.version))
        key.save(update_fields=["master_version", "wrapped"])
        KeyUsage.objects.create(key=key, actor=_actor_name(actor), operation="rewrap")
        n += 1
    if n:
        record(actor=actor, action="seccloud.key.rewrap", changes={"keys": n, "master_version": ring.current_version})
    return n


@transaction.atomic
def encrypt(*, actor, department, plaintext: bytes, purpose: str) -> str:
    """Encrypt with the department's active data key (created on first use)."""
    require(actor, "seccloud.manage_keys", department=department)
    key = DataKey.objects.filter(department=department, active=True).first() or \
        create_data_key(actor=actor, department=department)
    blob = sm4_gcm_encrypt(_unwrap(key), plaintext, aad=_data_aad(department, purpose, key.version))
    KeyUsage.objects.create(key=key, actor=_actor_name(actor), operation="encrypt", purpose=purpose[:64])
    return f"k{key.version}:" + base64.urlsafe_b64encode(blob).rstrip(b"=").decode()


@transaction.atomic
def decrypt(*, actor, department, token: str, purpose: str) -> bytes:
    require(actor, "seccloud.manage_keys", department=department)
    try:
        head, body = token.split(":", 1)
        version = int(head[1:]) if head[:1] == "k" else -1
        blob = base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))
    except ValueError as exc:
        raise InvalidInput("密文格式无效", code="bad_ciphertext") from exc
    key = DataKey.objects.filter(department=department, version=version).first()
    if key is None:
        raise NotFound("数据密钥不存在", code="data_key_not_found")
    try:
        plain = sm4_gcm_decrypt(_unwrap(key), blob, aad=_data_aad(department, purpose, version))
    except SM4DecryptionError as exc:
        raise InvalidInput("密文校验失败（被篡改或用途不符）", code="decryption_failed") from exc
    KeyUsage.objects.create(key=key, actor=_actor_name(actor), operation="decrypt", purpose=purpose[:64])
    return plain
