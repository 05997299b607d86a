"""SM4 block KAT and SM4-GCM (smartgov.core.crypto.sm4)."""

from __future__ import annotations

import os

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from smartgov.core.crypto import kat
from smartgov.core.crypto.sm4 import (
    NONCE_SIZE,
    TAG_SIZE,
    SM4DecryptionError,
    _seal,
    sm4_gcm_decrypt,
    sm4_gcm_encrypt,
)

fast = settings(database=None, max_examples=50, deadline=None)
KEY = bytes.fromhex("00112233445566778899aabbccddeeff")


def test_gbt_32907_example_1_single_block():
    assert kat.sm4_block_encrypt(kat.SM4_KEY, kat.SM4_KEY).hex() == "681edf34d206965e86b3e94f536e4246"


def test_gbt_32907_example_2_million_iterations():
    # About half a second; the only slow test in the crypto suite, kept because it is the standard's.
    _, passed, detail = kat.sm4_a2()
    assert passed, detail
    assert "595298c7c6fd271f0402f804c33d3f66" in detail


def test_rfc_8998_sm4_gcm_vector():
    sealed = _seal(kat.GCM_KEY, kat.GCM_NONCE, kat.GCM_PLAINTEXT, kat.GCM_AAD)
    assert sealed.hex() == kat.GCM_CIPHERTEXT_TAG
    blob = kat.GCM_NONCE + sealed
    assert sm4_gcm_decrypt(kat.GCM_KEY, blob, aad=kat.GCM_AAD) == kat.GCM_PLAINTEXT


def test_layout_and_random_nonce():
    a = sm4_gcm_encrypt(KEY, b"110101199003077777")
    b = sm4_gcm_encrypt(KEY, b"110101199003077777")
    assert len(a) == NONCE_SIZE + 18 + TAG_SIZE
    assert a[:NONCE_SIZE] != b[:NONCE_SIZE]
    assert a != b


@fast
@given(plaintext=st.binary(max_size=300), aad=st.binary(max_size=50))
def test_round_trip(plaintext, aad):
    assert sm4_gcm_decrypt(KEY, sm4_gcm_encrypt(KEY, plaintext, aad=aad), aad=aad) == plaintext


@pytest.mark.parametrize("where", [0, NONCE_SIZE, NONCE_SIZE + 5, -1])
def test_any_flipped_bit_is_rejected(where):
    blob = bytearray(sm4_gcm_encrypt(KEY, b"13800138000", aad=b"phone"))
    blob[where] ^= 0x80  # nonce, first ciphertext byte, middle, tag
    with pytest.raises(SM4DecryptionError, match="authentication failed"):
        sm4_gcm_decrypt(KEY, bytes(blob), aad=b"phone")


def test_wrong_aad_or_key_is_rejected():
    blob = sm4_gcm_encrypt(KEY, b"secret", aad=b"id_number")
    with pytest.raises(SM4DecryptionError):
        sm4_gcm_decrypt(KEY, blob, aad=b"phone")
    with pytest.raises(SM4DecryptionError):
        sm4_gcm_decrypt(KEY, blob)
    with pytest.raises(SM4DecryptionError):
        sm4_gcm_decrypt(os.urandom(16), blob, aad=b"id_number")


def test_truncated_blob_and_bad_key_size():
    with pytest.raises(SM4DecryptionError, match="too short"):
        sm4_gcm_decrypt(KEY, b"\0" * (NONCE_SIZE + TAG_SIZE - 1))
    blob = sm4_gcm_encrypt(KEY, b"abc")
    with pytest.raises(SM4DecryptionError):
        sm4_gcm_decrypt(KEY, blob[:-1])
    with pytest.raises(ValueError, match="16 bytes"):
        sm4_gcm_encrypt(b"short", b"x")
    with pytest.raises(ValueError, match="16 bytes"):
        sm4_gcm_decrypt(KEY * 2, blob)


def test_empty_plaintext_is_authenticated():
    blob = sm4_gcm_encrypt(KEY, b"", aad=b"a")
    assert len(blob) == NONCE_SIZE + TAG_SIZE
    assert sm4_gcm_decrypt(KEY, blob, aad=b"a") == b""
    with pytest.raises(SM4DecryptionError):
        sm4_gcm_decrypt(KEY, blob, aad=b"b")
