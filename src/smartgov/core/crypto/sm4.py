"""SM4-GCM authenticated encryption (SM4: GB/T 32907-2016; GCM: NIST SP 800-38D, as in RFC 8998).

Blob layout: ``nonce (12) || ciphertext || tag (16)``.  The nonce is random for every message;
with 96-bit random nonces one key must not seal more than 2**32 messages (SP 800-38D clause 8.3),
which the versioned master keys in :mod:`.keys` make easy to respect by rotating.
"""

from __future__ import annotations

import os
from typing import Final

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

__all__ = ["KEY_SIZE", "NONCE_SIZE", "TAG_SIZE", "SM4DecryptionError", "sm4_gcm_decrypt", "sm4_gcm_encrypt"]

KEY_SIZE: Final = 16  # SM4 has a 128-bit key and block (GB/T 32907 clause 5)
NONCE_SIZE: Final = 12  # the 96-bit IV GCM is specified for (SP 800-38D clause 5.2.1.1)
TAG_SIZE: Final = 16  # full-length tag; shorter tags weaken the forgery bound


class SM4DecryptionError(Exception):
    """The blob is truncated, was tampered with, or belongs to another key or AAD."""


def _check_key(key: bytes) -> None:
    if len(key) != KEY_SIZE:
        raise ValueError(f"SM4 key must be {KEY_SIZE} bytes, got {len(key)}")


def _seal(key: bytes, nonce: bytes, plaintext: bytes, aad: bytes) -> bytes:
    """ciphertext || tag under an explicit nonce; only known-answer tests call this directly."""
    enc = Cipher(algorithms.SM4(key), modes.GCM(nonce)).encryptor()
    if aad:
        enc.authenticate_additional_data(aad)
    ct = enc.update(plaintext) + enc.finalize()
    return ct + enc.tag


def sm4_gcm_encrypt(key: bytes, plaintext: bytes, *, aad: bytes = b"") -> bytes:
    """Encrypt and authenticate ``plaintext`` (and ``aad``, which is not encrypted)."""
    _check_key(key)
    nonce = os.urandom(NONCE_SIZE)
    return nonce + _seal(key, nonce, plaintext, aad)


def sm4_gcm_decrypt(key: bytes, blob: bytes, *, aad: bytes = b"") -> bytes:
    """Check and decrypt a blob from :func:`sm4_gcm_encrypt`; raises SM4DecryptionError if it fails."""
    _check_key(key)
    if len(blob) < NONCE_SIZE + TAG_SIZE:
        raise SM4DecryptionError(f"SM4-GCM blob too short ({len(blob)} bytes, minimum {NONCE_SIZE + TAG_SIZE})")
    nonce, body, tag = blob[:NONCE_SIZE], blob[NONCE_SIZE:-TAG_SIZE], blob[-TAG_SIZE:]
    dec = Cipher(algorithms.SM4(key), modes.GCM(nonce, tag)).decryptor()
    if aad:
        dec.authenticate_additional_data(aad)
    try:
        return dec.update(body) + dec.finalize()
    except InvalidTag:
        raise SM4DecryptionError(
            "SM4-GCM authentication failed: the data was altered, or the key or associated data differ"
        ) from None
