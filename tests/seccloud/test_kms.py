"""KMS: envelope-encrypted department data keys, rotation, re-wrap after a master key rotation,
usage records, published SM2 public keys, and no key material in any log line or audit entry."""

import logging
import secrets

import pytest

from smartgov.audit.models import AuditEntry
from smartgov.core.crypto import keys
from smartgov.core.errors import Forbidden, InvalidInput
from smartgov.core.permissions import Role
from smartgov.seccloud import kms
from smartgov.seccloud.models import DataKey, KeyUsage
from tests import factories

from .factories import ADMIN


@pytest.fixture
def master_keys(monkeypatch):
    one, two = secrets.token_hex(32), secrets.token_hex(32)
    monkeypatch.setenv("SMARTGOV_MASTER_KEYS", f"1:{one}")
    keys.reset_key_cache()
    yield lambda: (monkeypatch.setenv("SMARTGOV_MASTER_KEYS", f"1:{one},2:{two}"), keys.reset_key_cache())
    keys.reset_key_cache()


@pytest.mark.django_db
def test_rotation_keeps_old_ciphertexts_readable_and_records_usage(master_keys):
    dept = factories.department()
    token1 = kms.encrypt(actor=ADMIN, department=dept, plaintext=b"secret-1", purpose="case")
    assert token1.startswith("k1:")
    kms.rotate_data_key(actor=ADMIN, department=dept)
    token2 = kms.encrypt(actor=ADMIN, department=dept, plaintext=b"secret-2", purpose="case")
    assert token2.startswith("k2:")
    assert kms.decrypt(actor=ADMIN, department=dept, token=token1, purpose="case") == b"secret-1"
    assert kms.decrypt(actor=ADMIN, department=dept, token=token2, purpose="case") == b"secret-2"
    assert list(DataKey.objects.filter(department=dept).values_list("version", "active")) == [(2, True), (1, False)]
    ops = sorted(KeyUsage.objects.values_list("operation", flat=True))
    assert ops == ["create", "decrypt", "decrypt", "encrypt", "encrypt", "rotate"]


@pytest.mark.django_db
def test_master_key_rotation_rewraps_every_data_key(master_keys):
    dept = factories.department()
    token = kms.encrypt(actor=ADMIN, department=dept, plaintext=b"x", purpose="p")
    before = bytes(DataKey.objects.get().wrapped)
    master_keys()  # add master key version 2
    assert kms.rewrap_all(actor=ADMIN) == 1
    key = DataKey.objects.get()
    assert key.master_version == 2 and bytes(key.wrapped) != before
    assert kms.decrypt(actor=ADMIN, department=dept, token=token, purpose="p") == b"x"
    assert kms.rewrap_all(actor=ADMIN) == 0


@pytest.mark.django_db
def test_wrong_purpose_department_or_tampered_ciphertext_fails(master_keys):
    a, b = factories.department(), factories.department()
    token = kms.encrypt(actor=ADMIN, department=a, plaintext=b"x", purpose="p")
    with pytest.raises(InvalidInput):
        kms.decrypt(actor=ADMIN, department=a, token=token, purpose="other")
    kms.encrypt(actor=ADMIN, department=b, plaintext=b"y", purpose="p")
    with pytest.raises(InvalidInput):
        kms.decrypt(actor=ADMIN, department=b, token=token, purpose="p")
    tampered = token[:-2] + ("A" if token[-2] != "A" else "B") + token[-1]
    with pytest.raises(InvalidInput):
        kms.decrypt(actor=ADMIN, department=a, token=tampered, purpose="p")


@pytest.mark.django_db
def test_only_the_security_admin_manages_keys(master_keys):
    dept = factories.department()
    with pytest.raises(Forbidden):
        kms.create_data_key(actor=factories.user(Role.SYSADMIN), department=dept)
    kms.create_data_key(actor=factories.user(Role.SECADMIN), department=dept)


@pytest.mark.django_db
def test_no_key_material_in_logs_or_audit(master_keys, caplog):
    caplog.set_level(logging.DEBUG)
    dept = factories.department()
    kms.encrypt(actor=ADMIN, department=dept, plaintext=b"x", purpose="p")
    kms.rotate_data_key(actor=ADMIN, department=dept)
    master_keys()
    kms.rewrap_all(actor=ADMIN)
    secrets_hex = set()
    for key in DataKey.objects.all():
        plain = kms._unwrap(key)
        secrets_hex |= {plain.hex(), bytes(key.wrapped).hex()}
    import base64

    text = caplog.text + "".join(AuditEntry.objects.values_list("changes", flat=True))
    for s in secrets_hex:
        assert s not in text and base64.b64encode(bytes.fromhex(s)).decode() not in text


@pytest.mark.django_db
def test_department_public_keys_are_published():
    from django.test import Client

    from smartgov.accounts.services import signing_key_for

    dept = factories.department()
    key_id, _ = signing_key_for(dept)
    body = Client().get("/api/seccloud/keys/public").json()
    entry = next(k for k in body if k["key_id"] == key_id)
    assert entry["public_pem"].startswith("-----BEGIN PUBLIC KEY-----") and "PRIVATE" not in str(body)
