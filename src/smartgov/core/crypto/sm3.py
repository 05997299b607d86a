"""SM3 hashing (GB/T 32905-2016) and HMAC-SM3 (RFC 2104 with SM3), through OpenSSL 3's SM3."""

import hashlib
import hmac as _hmac

_SM3 = hashlib.new("sm3")  # copying a primed object skips the per-call algorithm lookup (≈2× faster)

DIGEST_SIZE = 32


def sm3(data: bytes) -> bytes:
    """SM3 digest (32 bytes) of ``data``."""
    h = _SM3.copy()
    h.update(data)
    return h.digest()


def sm3_hex(data: bytes) -> str:
    h = _SM3.copy()
    h.update(data)
    return h.hexdigest()


def new_sm3():
    """A fresh incremental SM3 object (``update``/``digest``), for streaming input."""
    return _SM3.copy()


def hmac_sm3(key: bytes, data: bytes) -> bytes:
    """HMAC-SM3 of ``data`` under ``key`` (32 bytes)."""
    # hmac.digest() is OpenSSL's one-shot HMAC: about twice as fast as hmac.new(...).digest().
    return _hmac.digest(key, data, "sm3")
