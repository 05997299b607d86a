"""SM2 (GB/T 32918-2016) keys, signatures and public-key encryption through OpenSSL 3's libcrypto.

Python's ``cryptography`` has no SM2, and pure-Python implementations take milliseconds per
signature, so this module binds the system ``libcrypto.so.3`` (the same library Python's own
``ssl``/``hashlib`` modules link) with :mod:`ctypes` and drives its EVP API exactly as the
EVP_PKEY-SM2(7) manual describes.  See docs/adr/0002-sm2-through-openssl-libcrypto.md.

Design rules:

- every OpenSSL object created in a call is freed in that call's ``finally`` block; the only
  long-lived objects are the ``EVP_PKEY`` behind a key (freed when the Python object dies) and one
  pre-fetched, immutable ``EVP_MD`` for SM3;
- no context is shared between calls, so keys can be used from many threads at once (OpenSSL 3
  allows concurrent read-only use of an ``EVP_PKEY``; ctypes releases the GIL during each call);
- OpenSSL failures raise :class:`SM2Error` with OpenSSL's own error strings;
  :meth:`SM2PublicKey.verify` returns ``False`` for any bad or malformed signature instead.

Formats are the ones the ``openssl`` command line uses: PKCS#8 ``PRIVATE KEY`` and
SubjectPublicKeyInfo ``PUBLIC KEY`` PEM, DER ``SEQUENCE {r, s}`` signatures, and the ASN.1
``SEQUENCE {x, y, hash, ciphertext}`` ciphertext (GM/T 0009 C1C3C2 order).
"""

from __future__ import annotations

import base64
import ctypes
import ctypes.util
from ctypes import POINTER, byref, c_char_p, c_int, c_long, c_size_t, c_ulong, c_void_p
from typing import Final

from .sm3 import sm3

__all__ = [
    "DEFAULT_UID",
    "SM2DecryptionError",
    "SM2Error",
    "SM2PrivateKey",
    "SM2PublicKey",
    "openssl_version",
]

#: Default distinguishing identifier (GB/T 35276-2017 clause 10 / GM/T 0009: "1234567812345678").
DEFAULT_UID: Final = b"1234567812345678"

# GB/T 32918.5-2017 recommended curve: the order n, and the fixed-size encodings OpenSSL uses.
CURVE_ORDER: Final = int("FFFFFFFEFFFFFFFFFFFFFFFFFFFFFFFF7203DF6B21C6052B53BBF40939D54123", 16)
_SCALAR_SIZE: Final = 32
_POINT_SIZE: Final = 65  # 0x04 || x || y (GB/T 32918.1 clause 4.2.9, uncompressed form)
# DER of AlgorithmIdentifier {id-ecPublicKey, sm2p256v1 (1.2.156.10197.1.301)} as in SPKI and PKCS#8.
_SM2_ALGID: Final = bytes.fromhex("301306072a8648ce3d020106082a811ccf5501822d")
# ENTL is two bytes holding the bit length of the ID (GB/T 32918.2 clause 5.5); OpenSSL refuses
# id_len >= 65535 / 8, so the longest usable ID is 8190 bytes.
MAX_UID_LEN: Final = 0xFFFF // 8 - 1


class SM2Error(Exception):
    """An SM2 operation failed inside OpenSSL (bad key, unsupported input, library problem)."""


class SM2DecryptionError(SM2Error):
    """The ciphertext is malformed, was tampered with, or was encrypted for another key."""


# --------------------------------------------------------------------------- libcrypto binding


def _load_libcrypto() -> ctypes.CDLL:
    candidates = ["libcrypto.so.3"]
    found = ctypes.util.find_library("crypto")
    if found and found not in candidates:
        candidates.append(found)
    errors = []
    for name in candidates:
        try:
            lib = ctypes.CDLL(name)
        except OSError as exc:
            errors.append(f"{name}: {exc}")
            continue
        lib.OpenSSL_version_num.restype = c_ulong
        lib.OpenSSL_version_num.argtypes = []
        if lib.OpenSSL_version_num() >= 0x30000000:
            return lib
        errors.append(f"{name}: OpenSSL {lib.OpenSSL_version_num():#x} is older than 3.0")
    raise ImportError(
        "SM2 needs OpenSSL 3's libcrypto (libcrypto.so.3, package libssl3 on Debian/Ubuntu); "
        + "; ".join(errors or ["not found"])
    )


_lib = _load_libcrypto()


def _fn(name: str, restype, *argtypes):
    f = getattr(_lib, name)
    f.restype = restype
    f.argtypes = list(argtypes)
    return f


_P = c_void_p
_PP = POINTER(c_void_p)

_OpenSSL_version = _fn("OpenSSL_version", c_char_p, c_int)
_ERR_get_error = _fn("ERR_get_error", c_ulong)
_ERR_error_string_n = _fn("ERR_error_string_n", None, c_ulong, c_char_p, c_size_t)
_ERR_clear_error = _fn("ERR_clear_error", None)

_BIO_new = _fn("BIO_new", _P, _P)
_BIO_s_mem = _fn("BIO_s_mem", _P)
_BIO_new_mem_buf = _fn("BIO_new_mem_buf", _P, c_char_p, c_int)
_BIO_ctrl = _fn("BIO_ctrl", c_long, _P, c_int, c_long, _P)
_BIO_free = _fn("BIO_free", c_int, _P)
_BIO_CTRL_INFO = 3  # BIO_get_mem_data(b, pp) is the macro BIO_ctrl(b, BIO_CTRL_INFO, 0, pp)

_EVP_PKEY_free = _fn("EVP_PKEY_free", None, _P)
_EVP_PKEY_is_a = _fn("EVP_PKEY_is_a", c_int, _P, c_char_p)
_EVP_PKEY_get_size = _fn("EVP_PKEY_get_size", c_int, _P)
_EVP_PKEY_get_bn_param = _fn("EVP_PKEY_get_bn_param", c_int, _P, c_char_p, _PP)
_EVP_PKEY_get_octet_string_param = _fn(
    "EVP_PKEY_get_octet_string_param", c_int, _P, c_char_p, c_char_p, c_size_t, POINTER(c_size_t)
)
_EVP_PKEY_CTX_new_from_name = _fn("EVP_PKEY_CTX_new_from_name", _P, _P, c_char_p, c_char_p)
_EVP_PKEY_CTX_new_from_pkey = _fn("EVP_PKEY_CTX_new_from_pkey", _P, _P, _P, c_char_p)
_EVP_PKEY_CTX_free = _fn("EVP_PKEY_CTX_free", None, _P)
_EVP_PKEY_CTX_set1_id = _fn("EVP_PKEY_CTX_set1_id", c_int, _P, c_char_p, c_int)
_EVP_PKEY_keygen_init = _fn("EVP_PKEY_keygen_init", c_int, _P)
_EVP_PKEY_generate = _fn("EVP_PKEY_generate", c_int, _P, _PP)
_EVP_PKEY_encrypt_init = _fn("EVP_PKEY_encrypt_init", c_int, _P)
_EVP_PKEY_encrypt = _fn("EVP_PKEY_encrypt", c_int, _P, c_char_p, POINTER(c_size_t), c_char_p, c_size_t)
_EVP_PKEY_decrypt_init = _fn("EVP_PKEY_decrypt_init", c_int, _P)
_EVP_PKEY_decrypt = _fn("EVP_PKEY_decrypt", c_int, _P, c_char_p, POINTER(c_size_t), c_char_p, c_size_t)

_EVP_MD_fetch = _fn("EVP_MD_fetch", _P, _P, c_char_p, c_char_p)
_EVP_MD_CTX_new = _fn("EVP_MD_CTX_new", _P)
_EVP_MD_CTX_free = _fn("EVP_MD_CTX_free", None, _P)
_EVP_MD_CTX_set_pkey_ctx = _fn("EVP_MD_CTX_set_pkey_ctx", None, _P, _P)
_EVP_DigestSignInit = _fn("EVP_DigestSignInit", c_int, _P, _PP, _P, _P, _P)
_EVP_DigestSign = _fn("EVP_DigestSign", c_int, _P, c_char_p, POINTER(c_size_t), c_char_p, c_size_t)
_EVP_DigestVerifyInit = _fn("EVP_DigestVerifyInit", c_int, _P, _PP, _P, _P, _P)
_EVP_DigestVerify = _fn("EVP_DigestVerify", c_int, _P, c_char_p, c_size_t, c_char_p, c_size_t)

_PEM_read_bio_PrivateKey = _fn("PEM_read_bio_PrivateKey", _P, _P, _P, _P, c_char_p)
_PEM_read_bio_PUBKEY = _fn("PEM_read_bio_PUBKEY", _P, _P, _P, _P, _P)
_PEM_write_bio_PrivateKey = _fn("PEM_write_bio_PrivateKey", c_int, _P, _P, _P, _P, c_int, _P, _P)
_PEM_write_bio_PUBKEY = _fn("PEM_write_bio_PUBKEY", c_int, _P, _P)
_i2d_PUBKEY = _fn("i2d_PUBKEY", c_int, _P, POINTER(ctypes.c_char_p))
_d2i_PUBKEY = _fn("d2i_PUBKEY", _P, _P, POINTER(ctypes.c_char_p), c_long)
_BN_bn2binpad = _fn("BN_bn2binpad", c_int, _P, c_char_p, c_int)
_BN_clear_free = _fn("BN_clear_free", None, _P)

# Fetched once: an EVP_MD is immutable and reference-counted, so sharing it across threads is safe,
# and it spares the implicit fetch EVP_DigestSignInit would otherwise do on every call.
_SM3_MD = _EVP_MD_fetch(None, b"SM3", None)
if not _SM3_MD:  # pragma: no cover - only on a libcrypto built without SM3
    raise ImportError("this libcrypto has no SM3 (built with no-sm3?)")


def openssl_version() -> str:
    """Version string of the libcrypto in use, e.g. ``"OpenSSL 3.0.19 27 Jan 2026"``."""
    return _OpenSSL_version(0).decode()


def _openssl_errors() -> str:
    """Drain this thread's OpenSSL error queue into one readable string."""
    messages = []
    buf = ctypes.create_string_buffer(256)
    while code := _ERR_get_error():
        _ERR_error_string_n(code, buf, len(buf))
        messages.append(buf.value.decode("ascii", "replace"))
    return "; ".join(messages) or "no detail from OpenSSL"


def _fail(what: str, exc_type: type[SM2Error] = SM2Error) -> SM2Error:
    return exc_type(f"{what} failed: {_openssl_errors()}")


class _PKey:
    """Owns one ``EVP_PKEY*``; frees it when garbage-collected."""

    __slots__ = ("ptr",)

    def __init__(self, ptr: int) -> None:
        self.ptr = ptr

    # Default argument keeps the function reachable during interpreter shutdown.
    def __del__(self, _free=_EVP_PKEY_free) -> None:
        ptr, self.ptr = self.ptr, None
        if ptr:
            _free(ptr)


def _bio_from(data: bytes) -> int:
    bio = _BIO_new_mem_buf(data, len(data))
    if not bio:
        raise _fail("BIO_new_mem_buf")
    return bio


def _bio_write(writer, pkey: _PKey, what: str) -> bytes:
    bio = _BIO_new(_BIO_s_mem())
    if not bio:
        raise _fail("BIO_new")
    try:
        if writer(bio, pkey.ptr) != 1:
            raise _fail(what)
        data = c_void_p()
        length = _BIO_ctrl(bio, _BIO_CTRL_INFO, 0, byref(data))
        return ctypes.string_at(data, length)
    finally:
        _BIO_free(bio)


def _require_sm2(ptr: int, what: str) -> _PKey:
    key = _PKey(ptr)  # owns ptr from here on, even if we reject it
    if _EVP_PKEY_is_a(ptr, b"SM2") != 1:
        raise SM2Error(f"{what}: not an SM2 key (the curve must be SM2, OID 1.2.156.10197.1.301)")
    return key


def _check_uid(uid: bytes) -> bytes:
    if not isinstance(uid, bytes | bytearray):
        raise TypeError("uid must be bytes")
    if len(uid) > MAX_UID_LEN:
        raise ValueError(f"uid is {len(uid)} bytes; SM2 allows at most {MAX_UID_LEN} (ENTL is 16 bits)")
    return bytes(uid)


def _digest_ctx(pkey: _PKey, uid: bytes, init, what: str) -> tuple[int, int]:
    """An ``EVP_MD_CTX`` ready to sign/verify with SM3 and ZA over ``uid``; caller frees both."""
    mctx = _EVP_MD_CTX_new()
    pctx = _EVP_PKEY_CTX_new_from_pkey(None, pkey.ptr, None)
    try:
        if not mctx or not pctx:
            raise _fail(f"{what}: context allocation")
        # GB/T 32918.2 clause 5.5 / 6.1 A1-A2: OpenSSL prefixes ZA = SM3(ENTL||ID||a||b||xG||yG||xA||yA)
        # to the message when the ID is set on the key context (EVP_PKEY-SM2(7)).
        if _EVP_PKEY_CTX_set1_id(pctx, uid, len(uid)) <= 0:
            raise _fail(f"{what}: EVP_PKEY_CTX_set1_id")
        _EVP_MD_CTX_set_pkey_ctx(mctx, pctx)  # mctx does not take ownership of pctx
        if init(mctx, None, _SM3_MD, None, pkey.ptr) != 1:
            raise _fail(f"{what}: init")
    except BaseException:
        _EVP_MD_CTX_free(mctx)
        _EVP_PKEY_CTX_free(pctx)
        raise
    return mctx, pctx


def _pkey_crypt(pkey: _PKey, data: bytes, init, op, what: str, exc_type: type[SM2Error]) -> bytes:
    ctx = _EVP_PKEY_CTX_new_from_pkey(None, pkey.ptr, None)
    if not ctx:
        raise _fail(f"{what}: context allocation")
    try:
        if init(ctx) != 1:
            raise _fail(f"{what}: init")
        outlen = c_size_t(0)
        if op(ctx, None, byref(outlen), data, len(data)) != 1:  # asks for the output size
            raise _fail(what, exc_type)
        out = ctypes.create_string_buffer(outlen.value)
        if op(ctx, out, byref(outlen), data, len(data)) != 1:
            raise _fail(what, exc_type)
        return out.raw[: outlen.value]
    finally:
        _EVP_PKEY_CTX_free(ctx)


def _spki_der(pkey: _PKey) -> bytes:
    size = _i2d_PUBKEY(pkey.ptr, None)
    if size <= 0:
        raise _fail("i2d_PUBKEY")
    buf = ctypes.create_string_buffer(size)
    cursor = ctypes.c_char_p(ctypes.addressof(buf))  # i2d advances the cursor, not buf
    if _i2d_PUBKEY(pkey.ptr, byref(cursor)) != size:
        raise _fail("i2d_PUBKEY")
    return buf.raw


def _der_len(n: int) -> bytes:
    return bytes([n]) if n < 0x80 else bytes([0x81, n]) if n < 0x100 else bytes([0x82, n >> 8, n & 0xFF])


def _der(tag: int, body: bytes) -> bytes:
    return bytes([tag]) + _der_len(len(body)) + body


def _pem(label: str, der: bytes) -> bytes:
    b64 = base64.b64encode(der).decode()
    lines = [b64[i : i + 64] for i in range(0, len(b64), 64)]
    return f"-----BEGIN {label}-----\n" + "\n".join(lines) + f"\n-----END {label}-----\n"


# --------------------------------------------------------------------------- public API


class SM2PublicKey:
    """An SM2 public key: signature verification, encryption and a stable key identifier."""

    __slots__ = ("_der", "_key")

    def __init__(self, _key: _PKey) -> None:  # use the from_* constructors
        self._key = _key
        self._der: bytes | None = None  # cached: OpenSSL 3.0's encoder takes ~100 µs per call

    @classmethod
    def from_pem(cls, pem: bytes) -> SM2PublicKey:
        """Load a SubjectPublicKeyInfo ``-----BEGIN PUBLIC KEY-----`` PEM (``openssl pkey -pubout``)."""
        data = bytes(pem)  # the BIO reads this buffer in place: keep it referenced until freed
        bio = _bio_from(data)
        try:
            ptr = _PEM_read_bio_PUBKEY(bio, None, None, None)
        finally:
            _BIO_free(bio)
        if not ptr:
            raise _fail("reading SM2 public key PEM")
        return cls(_require_sm2(ptr, "public key PEM"))

    @classmethod
    def from_der(cls, der: bytes) -> SM2PublicKey:
        """Load a DER SubjectPublicKeyInfo."""
        der = bytes(der)
        cursor = ctypes.c_char_p(der)  # d2i advances the cursor; der stays referenced meanwhile
        ptr = _d2i_PUBKEY(None, byref(cursor), len(der))
        if not ptr:
            raise _fail("reading SM2 public key DER")
        return cls(_require_sm2(ptr, "public key DER"))

    @classmethod
    def from_point(cls, point: bytes) -> SM2PublicKey:
        """From the 65-byte uncompressed point ``04||x||y``; OpenSSL rejects points off the curve."""
        if len(point) != _POINT_SIZE or point[0] != 4:
            raise ValueError("an SM2 public point is 65 bytes: 0x04 || x (32) || y (32)")
        return cls.from_der(_der(0x30, _SM2_ALGID + _der(0x03, b"\x00" + point)))

    def to_pem(self) -> bytes:
        return _bio_write(_PEM_write_bio_PUBKEY, self._key, "writing SM2 public key PEM")

    def to_der(self) -> bytes:
        """DER SubjectPublicKeyInfo."""
        if self._der is None:  # keys are immutable, so a benign race at worst computes it twice
            self._der = _spki_der(self._key)
        return self._der

    def public_point(self) -> bytes:
        """The 65-byte uncompressed point ``04||x||y``."""
        out = ctypes.create_string_buffer(_POINT_SIZE)
        outlen = c_size_t(0)
        if _EVP_PKEY_get_octet_string_param(self._key.ptr, b"encoded-pub-key", out, len(out), outlen) != 1:
            raise _fail("reading the public point")
        return out.raw[: outlen.value]

    def key_id(self) -> str:
        """Hex of the first 16 bytes of SM3(DER SubjectPublicKeyInfo): short, stable, for logs and audit.

        The same public key always gives the same id, whatever PEM/DER wrapping it arrived in.
        """
        return sm3(self.to_der())[:16].hex()

    def verify(self, signature: bytes, data: bytes, *, uid: bytes = DEFAULT_UID) -> bool:
        """True only if ``signature`` (DER) is a valid SM2 signature of ``data`` with ``uid``.

        Any bad, truncated or non-DER signature gives False; OpenSSL re-encodes the parsed (r, s)
        and rejects encodings that differ, so only canonical DER verifies.
        """
        uid = _check_uid(uid)
        mctx, pctx = _digest_ctx(self._key, uid, _EVP_DigestVerifyInit, "SM2 verify")
        try:
            ok = _EVP_DigestVerify(mctx, bytes(signature), len(signature), bytes(data), len(data)) == 1
        finally:
            _EVP_MD_CTX_free(mctx)
            _EVP_PKEY_CTX_free(pctx)
        if not ok:
            _ERR_clear_error()  # a bad signature leaves parse errors queued; they are not failures
        return ok

    def encrypt(self, plaintext: bytes) -> bytes:
        """SM2 public-key encryption (GB/T 32918.4 clause 6.1) with SM3; ASN.1 C1C3C2 output."""
        if not plaintext:
            raise ValueError("SM2 cannot encrypt an empty message (GB/T 32918.4 requires klen > 0)")
        return _pkey_crypt(
            self._key, bytes(plaintext), _EVP_PKEY_encrypt_init, _EVP_PKEY_encrypt, "SM2 encrypt", SM2Error
        )

    def __eq__(self, other: object) -> bool:
        return isinstance(other, SM2PublicKey) and self.to_der() == other.to_der()

    def __hash__(self) -> int:
        return hash(self.to_der())

    def __repr__(self) -> str:
        return f"<SM2PublicKey {self.key_id()}>"


class SM2PrivateKey:
    """An SM2 private key (with its public key): signing and decryption."""

    __slots__ = ("_key", "_pub")

    def __init__(self, _key: _PKey) -> None:  # use generate() or the from_* constructors
        self._key = _key
        self._pub: SM2PublicKey | None = None

    @classmethod
    def generate(cls) -> SM2PrivateKey:
        """A fresh key pair from OpenSSL's CSPRNG (GB/T 32918.1 clause 6.1: d in [1, n-2])."""
        ctx = _EVP_PKEY_CTX_new_from_name(None, b"SM2", None)
        if not ctx:
            raise _fail("EVP_PKEY_CTX_new_from_name(SM2)")
        ptr = c_void_p()
        try:
            if _EVP_PKEY_keygen_init(ctx) != 1 or _EVP_PKEY_generate(ctx, byref(ptr)) != 1:
                raise _fail("SM2 key generation")
        finally:
            _EVP_PKEY_CTX_free(ctx)
        return cls(_PKey(ptr.value))

    @classmethod
    def from_pem(cls, pem: bytes, *, password: bytes | None = None) -> SM2PrivateKey:
        """Load a PKCS#8 ``PRIVATE KEY`` PEM (as ``openssl genpkey -algorithm SM2`` writes it).

        An encrypted PEM needs ``password``; OpenSSL is never allowed to prompt on a terminal.
        """
        if password is not None and b"\0" in password:
            raise ValueError("password must not contain NUL bytes")
        data = bytes(pem)  # the BIO reads this buffer in place: keep it referenced until freed
        bio = _bio_from(data)
        try:
            # cb=NULL with u set makes OpenSSL use u as the passphrase instead of prompting a tty.
            ptr = _PEM_read_bio_PrivateKey(bio, None, None, password or b"")
        finally:
            _BIO_free(bio)
        if not ptr:
            raise _fail("reading SM2 private key PEM")
        return cls(_require_sm2(ptr, "private key PEM"))

    @classmethod
    def from_private_scalar(cls, d: bytes | int) -> SM2PrivateKey:
        """From the raw private key ``d`` (32 bytes big-endian or int); OpenSSL derives P = [d]G.

        Meant for known-answer tests and key import; generate() is the way to make new keys.
        """
        value = int.from_bytes(d, "big") if isinstance(d, bytes | bytearray) else int(d)
        if not 1 <= value <= CURVE_ORDER - 2:  # GB/T 32918.1 clause 6.1
            raise ValueError("SM2 private key must be in [1, n-2]")
        # PKCS#8 PrivateKeyInfo wrapping a SEC1 ECPrivateKey.  Without the optional publicKey
        # field OpenSSL's decoder computes P = [d]G; the key is then re-encoded with P included so
        # that to_pem() writes the same layout as `openssl genpkey -algorithm SM2`.
        d_octets = _der(0x04, value.to_bytes(_SCALAR_SIZE, "big"))
        bare = cls._from_pkcs8(_der(0x30, b"\x02\x01\x01" + d_octets))
        point = bare.public_key().public_point()
        return cls._from_pkcs8(_der(0x30, b"\x02\x01\x01" + d_octets + _der(0xA1, _der(0x03, b"\x00" + point))))

    @classmethod
    def _from_pkcs8(cls, ec_private_key: bytes) -> SM2PrivateKey:
        pkcs8 = _der(0x30, b"\x02\x01\x00" + _SM2_ALGID + _der(0x04, ec_private_key))
        return cls.from_pem(_pem("PRIVATE KEY", pkcs8).encode())

    def to_pem(self) -> bytes:
        """Unencrypted PKCS#8 PEM; store it with file mode 0600 (``smartgov crypto keygen`` does)."""
        return _bio_write(
            lambda bio, pkey: _PEM_write_bio_PrivateKey(bio, pkey, None, None, 0, None, None),
            self._key,
            "writing SM2 private key PEM",
        )

    def private_scalar(self) -> bytes:
        """The raw private key d, 32 bytes big-endian (for known-answer tests; handle with care)."""
        bn = c_void_p()
        if _EVP_PKEY_get_bn_param(self._key.ptr, b"priv", byref(bn)) != 1:
            raise _fail("reading the private scalar")
        try:
            out = ctypes.create_string_buffer(_SCALAR_SIZE)
            if _BN_bn2binpad(bn, out, _SCALAR_SIZE) != _SCALAR_SIZE:
                raise _fail("BN_bn2binpad")
            return out.raw
        finally:
            _BN_clear_free(bn)

    def public_key(self) -> SM2PublicKey:
        # Built from the DER SPKI so that the public object holds no private material; cached
        # because OpenSSL 3.0's encoder and decoder take a few hundred microseconds.
        if self._pub is None:
            self._pub = SM2PublicKey.from_der(_spki_der(self._key))
        return self._pub

    def sign(self, data: bytes, *, uid: bytes = DEFAULT_UID) -> bytes:
        """DER SM2 signature (GB/T 32918.2 clause 6.1) of SM3(ZA || data), ZA computed from ``uid``."""
        uid = _check_uid(uid)
        mctx, pctx = _digest_ctx(self._key, uid, _EVP_DigestSignInit, "SM2 sign")
        try:
            siglen = c_size_t(_EVP_PKEY_get_size(self._key.ptr))  # 72: the largest DER (r, s)
            sig = ctypes.create_string_buffer(siglen.value)
            if _EVP_DigestSign(mctx, sig, byref(siglen), bytes(data), len(data)) != 1:
                raise _fail("SM2 sign")
            return sig.raw[: siglen.value]
        finally:
            _EVP_MD_CTX_free(mctx)
            _EVP_PKEY_CTX_free(pctx)

    def decrypt(self, ciphertext: bytes) -> bytes:
        """Decrypt an ASN.1 SM2 ciphertext (GB/T 32918.4 clause 7.1); SM2DecryptionError if invalid."""
        return _pkey_crypt(
            self._key,
            bytes(ciphertext),
            _EVP_PKEY_decrypt_init,
            _EVP_PKEY_decrypt,
            "SM2 decrypt",
            SM2DecryptionError,
        )

    def __repr__(self) -> str:
        return f"<SM2PrivateKey for {self.public_key().key_id()}>"
