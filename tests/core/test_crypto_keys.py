"""Versioned master keys, field encryption and blind indexes (smartgov.core.crypto.keys)."""

from __future__ import annotations

import os
import stat

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.core.exceptions import ImproperlyConfigured
from hypothesis import given, settings
from hypothesis import strategies as st

from smartgov.core.crypto import keys
from smartgov.core.crypto.keys import FieldDecryptionError, KeyConfigurationError, KeyRing
from smartgov.core.crypto.sm4 import sm4_gcm_decrypt

fast = settings(database=None, max_examples=50, deadline=None)
K1, K2, K3 = (bytes([i]) * 32 for i in (1, 2, 3))
ENV_VARS = (keys.ENV_MASTER_KEYS, keys.ENV_MASTER_KEYS_FILE, keys.ENV_BLIND_INDEX_KEY, keys.ENV_BLIND_INDEX_KEY_FILE)


@pytest.fixture
def env(monkeypatch):
    """A clean key environment; the cache is reset before and after so other tests see theirs."""
    for var in ENV_VARS:
        monkeypatch.delenv(var, raising=False)
    keys.reset_key_cache()
    yield monkeypatch
    keys.reset_key_cache()


def entry(version: int, key: bytes) -> str:
    return f"{version}:{key.hex()}"


# ------------------------------------------------------------------ derivation


def test_hkdf_sm3_is_rfc_5869():
    for length in (16, 32, 50):
        expected = HKDF(hashes.SM3(), length, b"salt", b"info").derive(b"input key")
        assert keys.hkdf_sm3(b"input key", info=b"info", length=length, salt=b"salt") == expected
    with pytest.raises(ValueError):
        keys.hkdf_sm3(b"k", info=b"", length=0)


def test_field_and_blind_index_keys_are_separate():
    ring = KeyRing({1: K1})
    field_key = ring._field_keys[1]
    assert len(field_key) == 16
    ring.blind_index("x", purpose="id_number")
    blind_key = ring._blind_keys["id_number"]
    assert len(blind_key) == 32
    assert not blind_key.startswith(field_key)
    assert field_key != K1[:16] and blind_key != K1  # never the master key itself


# ------------------------------------------------------------------ parsing


def test_parse_master_keys_commas_lines_and_comments():
    text = f"# keys\n{entry(1, K1)}, {entry(3, K3)}\n\n  {entry(2, K2)}  # newest is 3\n"
    assert keys.parse_master_keys(text) == {1: K1, 2: K2, 3: K3}
    assert keys.parse_master_keys(f"1:{K1.hex().upper()}") == {1: K1}


@pytest.mark.parametrize(
    "text",
    ["", "# only a comment", "1:abcd", f"0:{K1.hex()}", f"x:{K1.hex()}", K1.hex(), f"1:{K1.hex()}00", f"-1:{K1.hex()}"],
)
def test_parse_rejects_malformed_entries_without_echoing_them(text):
    with pytest.raises(KeyConfigurationError) as err:
        keys.parse_master_keys(text)
    assert K1.hex() not in str(err.value)


def test_parse_rejects_duplicate_versions():
    with pytest.raises(KeyConfigurationError, match="appears twice"):
        keys.parse_master_keys(f"{entry(1, K1)},{entry(1, K2)}")


# ------------------------------------------------------------------ environment


def test_missing_configuration_tells_the_operator_what_to_set(env):
    with pytest.raises(ImproperlyConfigured) as err:
        keys.encrypt_field("x", purpose="id_number")
    message = str(err.value)
    assert keys.ENV_MASTER_KEYS in message and keys.ENV_MASTER_KEYS_FILE in message
    assert "openssl rand -hex 32" in message
    assert keys.keys_configured() is False


def test_inline_environment(env):
    env.setenv(keys.ENV_MASTER_KEYS, f"{entry(1, K1)},{entry(2, K2)}")
    assert keys.keys_configured()
    token = keys.encrypt_field("13800138000", purpose="phone")
    assert token.startswith("v2:")
    assert keys.decrypt_field(token, purpose="phone") == "13800138000"
    assert keys.get_keyring() is keys.get_keyring()  # cached


def test_key_file(env, tmp_path):
    path = tmp_path / "master.keys"
    path.write_text(f"{entry(1, K1)}\n{entry(2, K2)}\n")
    path.chmod(0o600)
    env.setenv(keys.ENV_MASTER_KEYS_FILE, str(path))
    assert keys.get_keyring().versions == [1, 2]


def test_unreadable_key_file(env, tmp_path):
    env.setenv(keys.ENV_MASTER_KEYS_FILE, str(tmp_path / "missing"))
    with pytest.raises(KeyConfigurationError, match="cannot be read"):
        keys.get_keyring()


def test_both_sources_is_an_error(env, tmp_path):
    env.setenv(keys.ENV_MASTER_KEYS, entry(1, K1))
    env.setenv(keys.ENV_MASTER_KEYS_FILE, str(tmp_path / "f"))
    with pytest.raises(KeyConfigurationError, match="only one"):
        keys.get_keyring()


def test_reset_key_cache_rereads_the_environment(env):
    env.setenv(keys.ENV_MASTER_KEYS, entry(1, K1))
    assert keys.get_keyring().current_version == 1
    env.setenv(keys.ENV_MASTER_KEYS, f"{entry(1, K1)},{entry(2, K2)}")
    assert keys.get_keyring().current_version == 1  # still cached
    keys.reset_key_cache()
    assert keys.get_keyring().current_version == 2


def test_ensure_dev_keyfile(env, tmp_path):
    path = tmp_path / "var" / "keys" / "master-keys"
    assert keys.ensure_dev_keyfile(path) is True
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    content = path.read_text()
    assert keys.ensure_dev_keyfile(path) is False
    assert path.read_text() == content  # never overwritten
    env.setenv(keys.ENV_MASTER_KEYS_FILE, str(path))
    ring = keys.get_keyring()
    assert ring.versions == [1]
    assert ring.decrypt_field(ring.encrypt_field("x", purpose="p"), purpose="p") == "x"
    other = tmp_path / "other"
    keys.ensure_dev_keyfile(other)
    assert other.read_text() != content  # random, not a built-in default


# ------------------------------------------------------------------ field encryption


def test_token_format_and_blob():
    ring = KeyRing({1: K1, 2: K2})
    token = ring.encrypt_field("110101199003077777", purpose="id_number")
    version, _, b64 = token.partition(":")
    assert version == "v2"
    assert "=" not in b64 and "+" not in b64 and "/" not in b64
    assert keys.token_version(token) == 2
    blob = keys._b64decode(b64)
    assert len(blob) == 12 + 18 + 16
    aad = b"smartgov-field\x00id_number\x00v2"
    assert sm4_gcm_decrypt(ring._field_keys[2], blob, aad=aad) == b"110101199003077777"


@fast
@given(text=st.text(max_size=200))
def test_round_trip_any_text(text):
    ring = KeyRing({7: K1})
    assert ring.decrypt_field(ring.encrypt_field(text, purpose="x"), purpose="x") == text


def test_purpose_is_bound():
    ring = KeyRing({1: K1})
    token = ring.encrypt_field("110101199003077777", purpose="id_number")
    with pytest.raises(FieldDecryptionError, match="authentication failed"):
        ring.decrypt_field(token, purpose="phone")


def test_version_label_is_bound():
    # The same master key under both versions gives the same subkey: only the version bound in the
    # AAD stops a token from being relabelled.
    ring = KeyRing({1: K1, 2: K1})
    token = ring.encrypt_field("x", purpose="p")
    with pytest.raises(FieldDecryptionError):
        ring.decrypt_field("v1:" + token.split(":", 1)[1], purpose="p")


def test_rotation_old_tokens_stay_readable():
    old = KeyRing({1: K1})
    token = old.encrypt_field("13800138000", purpose="phone")
    new = KeyRing({1: K1, 2: K2})
    assert new.decrypt_field(token, purpose="phone") == "13800138000"
    assert new.needs_reencrypt(token) is True
    fresh = new.encrypt_field("13800138000", purpose="phone")
    assert new.needs_reencrypt(fresh) is False
    assert old.needs_reencrypt(token) is False


def test_removed_version_is_a_clear_error():
    token = KeyRing({1: K1}).encrypt_field("x", purpose="p")
    with pytest.raises(FieldDecryptionError, match="version 1, which is not configured"):
        KeyRing({2: K2}).decrypt_field(token, purpose="p")


def test_wrong_key_same_version_fails():
    token = KeyRing({1: K1}).encrypt_field("x", purpose="p")
    with pytest.raises(FieldDecryptionError):
        KeyRing({1: K2}).decrypt_field(token, purpose="p")


@pytest.mark.parametrize("token", ["", "x", "v0:AAAA", "1:AAAA", "v1:", "v1:AA=A", "v1:A", "v1:not base64!", None])
def test_malformed_tokens(token):
    ring = KeyRing({1: K1})
    with pytest.raises(FieldDecryptionError):
        ring.decrypt_field(token, purpose="p")  # type: ignore[arg-type]


def test_tampered_token():
    ring = KeyRing({1: K1})
    token = ring.encrypt_field("110101199003077777", purpose="id_number")
    blob = bytearray(keys._b64decode(token[3:]))
    blob[15] ^= 1
    with pytest.raises(FieldDecryptionError):
        ring.decrypt_field("v1:" + keys._b64encode(bytes(blob)), purpose="id_number")


@pytest.mark.parametrize("purpose", ["", "has space", "中文", "x" * 101, "a\x00b"])
def test_invalid_purpose(purpose):
    with pytest.raises(ValueError):
        KeyRing({1: K1}).encrypt_field("x", purpose=purpose)


def test_keyring_validates_keys():
    with pytest.raises(KeyConfigurationError):
        KeyRing({})
    with pytest.raises(KeyConfigurationError):
        KeyRing({1: b"short"})
    with pytest.raises(KeyConfigurationError):
        KeyRing({1: K1}, blind_index_key=b"short")


# ------------------------------------------------------------------ blind index


def test_blind_index_shape_and_purpose_separation():
    ring = KeyRing({1: K1})
    a = ring.blind_index("110101199003077777", purpose="id_number")
    assert len(a) == 64 and int(a, 16) >= 0
    assert a == ring.blind_index("110101199003077777", purpose="id_number")
    assert a != ring.blind_index("110101199003077777", purpose="phone")
    assert a != ring.blind_index("110101199003077778", purpose="id_number")


def test_blind_index_survives_rotation():
    before = KeyRing({1: K1}).blind_index("13800138000", purpose="phone")
    assert KeyRing({1: K1, 2: K2}).blind_index("13800138000", purpose="phone") == before
    assert KeyRing({1: K1, 2: K2, 3: K3}).blind_index("13800138000", purpose="phone") == before
    assert KeyRing({2: K2}).blind_index("13800138000", purpose="phone") != before


def test_dedicated_blind_index_key_and_retiring_the_oldest_master_key(env):
    with_v1 = KeyRing({1: K1, 2: K2}).blind_index("x", purpose="p")
    # Documented migration: put the old master key's hex in SMARTGOV_BLIND_INDEX_KEY, then drop v1.
    env.setenv(keys.ENV_MASTER_KEYS, entry(2, K2))
    env.setenv(keys.ENV_BLIND_INDEX_KEY, K1.hex())
    assert keys.blind_index("x", purpose="p") == with_v1
    keys.reset_key_cache()
    env.setenv(keys.ENV_BLIND_INDEX_KEY, K3.hex())
    assert keys.blind_index("x", purpose="p") != with_v1


def test_blind_index_key_file_and_errors(env, tmp_path):
    env.setenv(keys.ENV_MASTER_KEYS, entry(1, K1))
    path = tmp_path / "bidx"
    path.write_text(f"# blind index root\n{K3.hex()}\n")
    env.setenv(keys.ENV_BLIND_INDEX_KEY_FILE, str(path))
    assert keys.blind_index("x", purpose="p") == KeyRing({1: K1}, blind_index_key=K3).blind_index("x", purpose="p")
    keys.reset_key_cache()
    env.setenv(keys.ENV_BLIND_INDEX_KEY, K3.hex())
    with pytest.raises(KeyConfigurationError, match="only one"):
        keys.get_keyring()
    keys.reset_key_cache()
    env.delenv(keys.ENV_BLIND_INDEX_KEY_FILE)
    env.setenv(keys.ENV_BLIND_INDEX_KEY, "abcd")
    with pytest.raises(KeyConfigurationError, match="64 hex"):
        keys.get_keyring()


def test_module_functions_delegate_to_the_cached_ring(env):
    env.setenv(keys.ENV_MASTER_KEYS, f"{entry(1, K1)},{entry(2, K2)}")
    old_token = KeyRing({1: K1}).encrypt_field("v", purpose="p")
    assert keys.needs_reencrypt(old_token) is True
    assert keys.decrypt_field(old_token, purpose="p") == "v"
    assert keys.needs_reencrypt(keys.encrypt_field("v", purpose="p")) is False
    assert os.environ[keys.ENV_MASTER_KEYS]  # fixture restores it afterwards
