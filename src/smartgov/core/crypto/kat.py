"""Known-answer tests for SM2, SM3 and SM4, run by ``smartgov crypto selftest`` and the test suite.

Sources of the vectors:

- SM3: GB/T 32905-2016 Appendix A, examples 1 and 2.
- SM4: GB/T 32907-2016 Appendix A, examples 1 (one block) and 2 (1,000,000 chained encryptions).
- SM4-GCM: RFC 8998 Appendix A.1.
- SM2: the recommended-curve examples of GM/T 0003.5-2012 / GB/T 32918.5-2017 (private key
  3945208F…, message "message digest", ID "1234567812345678"; encryption of "encryption
  standard").  OpenSSL cannot be given the random k of the example, so the checks are: the
  public key OpenSSL derives from d, ZA and e recomputed here from the curve parameters, the
  published (r, s) verifying, and the published ciphertext decrypting.  Every SM2 value was also
  checked independently with the ``openssl`` 3.0.19 command line (``pkeyutl -verify`` and
  ``pkeyutl -decrypt``) when this file was written.
- HMAC-SM3 has no published vector; its expected value was computed with
  ``openssl mac -digest SM3 -macopt hexkey:000102…1f HMAC`` over "abc", and the tests also check
  it against the RFC 2104 construction built from :func:`sm3`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Final

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from . import keys
from .sm2 import SM2DecryptionError, SM2PrivateKey, SM2PublicKey
from .sm3 import hmac_sm3, sm3
from .sm4 import SM4DecryptionError, _seal, sm4_gcm_decrypt, sm4_gcm_encrypt

Result = tuple[str, bool, str]

# --- SM3, GB/T 32905-2016 Appendix A
SM3_A1_MSG: Final = b"abc"
SM3_A1_DIGEST: Final = "66c7f0f462eeedd9d1f2d46bdc10e4e24167c4875cf2f7a2297da02b8f4ba8e0"
SM3_A2_MSG: Final = b"abcd" * 16
SM3_A2_DIGEST: Final = "debe9ff92275b8a138604889c18e5a4d6fdb70e5387e5765293dcba39c0c5732"

HMAC_SM3_KEY: Final = bytes(range(32))
HMAC_SM3_MSG: Final = b"abc"
HMAC_SM3_MAC: Final = "a8f95cf26f204957e7ca73c9602a25dda35f168b28103b51dfc968c810416b63"

# --- SM4, GB/T 32907-2016 Appendix A (key = plaintext in both examples)
SM4_KEY: Final = bytes.fromhex("0123456789abcdeffedcba9876543210")
SM4_A1_CIPHERTEXT: Final = "681edf34d206965e86b3e94f536e4246"
SM4_A2_ITERATIONS: Final = 1_000_000
SM4_A2_CIPHERTEXT: Final = "595298c7c6fd271f0402f804c33d3f66"

# --- SM4-GCM, RFC 8998 Appendix A.1
GCM_KEY: Final = SM4_KEY
GCM_NONCE: Final = bytes.fromhex("00001234567800000000abcd")
GCM_AAD: Final = bytes.fromhex("feedfacedeadbeeffeedfacedeadbeefabaddad2")
GCM_PLAINTEXT: Final = bytes.fromhex(
    "aaaaaaaaaaaaaaaabbbbbbbbbbbbbbbbccccccccccccccccdddddddddddddddd"
    "eeeeeeeeeeeeeeeeffffffffffffffffeeeeeeeeeeeeeeeeaaaaaaaaaaaaaaaa"
)
GCM_CIPHERTEXT_TAG: Final = (
    "17f399f08c67d5ee19d0dc9969c4bb7d5fd46fd3756489069157b282bb200735"
    "d82710ca5c22f0ccfa7cbf93d496ac15a56834cbcf98c397b4024a2691233b8d"
    "83de3541e4c2b58177e065a9bf7b62ec"
)

# --- SM2 recommended curve (GB/T 32918.5-2017 clause 3): y^2 = x^3 + ax + b over F_p, base point G
SM2_P: Final = int("FFFFFFFEFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF00000000FFFFFFFFFFFFFFFF", 16)
SM2_A: Final = int("FFFFFFFEFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF00000000FFFFFFFFFFFFFFFC", 16)
SM2_B: Final = int("28E9FA9E9D9F5E344D5A9E4BCF6509A7F39789F515AB8F92DDBCBD414D940E93", 16)
SM2_N: Final = int("FFFFFFFEFFFFFFFFFFFFFFFFFFFFFFFF7203DF6B21C6052B53BBF40939D54123", 16)
SM2_GX: Final = int("32C4AE2C1F1981195F9904466A39C9948FE30BBFF2660BE1715A4589334C74C7", 16)
SM2_GY: Final = int("BC3736A2F4F6779C59BDCEE36B692153D0A9877CC62A474002DF32E52139F0A0", 16)

# --- SM2 examples on that curve
SM2_D: Final = bytes.fromhex("3945208F7B2144B13F36E38AC6D39F95889393692860B51A42FB81EF4DF7C5B8")
SM2_PUBLIC_POINT: Final = (
    "04"
    "09f9df311e5421a150dd7d161e4bc5c672179fad1833fc076bb08ff356f35020"
    "ccea490ce26775a52dc6ea718cc1aa600aed05fbf35e084a6632f6072da9ad13"
)
SM2_UID: Final = b"1234567812345678"
SM2_MSG: Final = b"message digest"
SM2_ZA: Final = "b2e14c5c79c6df5b85f4fe7ed8db7a262b9da7e07ccb0ea9f4747b8ccda8a4f3"
SM2_E: Final = "f0b43e94ba45accaace692ed534382eb17e6ab5a19ce7b31f4486fdfc0d28640"
SM2_R: Final = "f5a03b0648d2c4630eeac513e1bb81a15944da3827d5b74143ac7eaceee720b3"
SM2_S: Final = "b1b6aa29df212fd8763182bc0d421ca1bb9038fd1f7f42d4840b69c485bbc1aa"
SM2_ENC_PLAINTEXT: Final = b"encryption standard"
# C1 || C3 || C2 as printed in the standard (C1 = 04 || x1 || y1, C3 = SM3 hash, C2 = masked message).
SM2_ENC_C1C3C2: Final = (
    "04"
    "04ebfc718e8d1798620432268e77feb6415e2ede0e073c0f4f640ecd2e149a73"
    "e858f9d81e5430a57b36daab8f950a3c64e6ee6a63094d99283aff767e124df0"
    "59983c18f809e262923c53aec295d30383b54e39d609d160afcb1908d0bd8766"
    "21886ca989ca9c7d58087307ca93092d651efa"
)


# --------------------------------------------------------------------------- helpers


def _der_len(n: int) -> bytes:
    return bytes([n]) if n < 0x80 else bytes([0x81, n])


def _der_integer(value: bytes) -> bytes:
    body = value.lstrip(b"\x00") or b"\x00"
    if body[0] & 0x80:  # keep it positive (X.690 clause 8.3)
        body = b"\x00" + body
    return b"\x02" + _der_len(len(body)) + body


def _der_seq(*items: bytes) -> bytes:
    body = b"".join(items)
    return b"\x30" + _der_len(len(body)) + body


def signature_der(r_hex: str, s_hex: str) -> bytes:
    """DER ``SEQUENCE {r INTEGER, s INTEGER}`` (GB/T 35276-2017 clause 7.3 SM2Signature)."""
    return _der_seq(_der_integer(bytes.fromhex(r_hex)), _der_integer(bytes.fromhex(s_hex)))


def ciphertext_der_from_c1c3c2(raw: bytes) -> bytes:
    """Raw ``04||x||y||C3||C2`` to the ASN.1 form OpenSSL uses (GB/T 35276-2017 clause 7.2)."""
    x, y, c3, c2 = raw[1:33], raw[33:65], raw[65:97], raw[97:]
    return _der_seq(
        _der_integer(x), _der_integer(y), b"\x04" + _der_len(len(c3)) + c3, b"\x04" + _der_len(len(c2)) + c2
    )


def sm2_za(uid: bytes, public_point: bytes) -> bytes:
    """ZA = SM3(ENTL || ID || a || b || xG || yG || xA || yA), GB/T 32918.2-2016 clause 5.5."""
    entl = (len(uid) * 8).to_bytes(2, "big")
    params = b"".join(v.to_bytes(32, "big") for v in (SM2_A, SM2_B, SM2_GX, SM2_GY))
    return sm3(entl + uid + params + public_point[1:65])


def sm4_block_encrypt(key: bytes, block: bytes, iterations: int = 1) -> bytes:
    """SM4 of one 16-byte block (ECB), optionally chained ``iterations`` times (GB/T 32907 A.2)."""
    # ECB of single blocks is exactly what the standard's examples specify; it is never used for data.
    update = Cipher(algorithms.SM4(key), modes.ECB()).encryptor().update  # noqa: S305
    for _ in range(iterations):
        block = update(block)
    return block


def _compare(name: str, expected: str, actual: str) -> Result:
    return (name, expected == actual, f"expected={expected} actual={actual}")


def _guard(name: str, check: Callable[[], Result]) -> Result:
    try:
        return check()
    except Exception as exc:  # a self-test reports failures, it does not crash on them
        return (name, False, f"error: {type(exc).__name__}: {exc}")


# --------------------------------------------------------------------------- checks


def _sm3_a1() -> Result:
    return _compare("SM3 GB/T 32905-2016 A.1 ('abc')", SM3_A1_DIGEST, sm3(SM3_A1_MSG).hex())


def _sm3_a2() -> Result:
    return _compare("SM3 GB/T 32905-2016 A.2 ('abcd'x16)", SM3_A2_DIGEST, sm3(SM3_A2_MSG).hex())


def _hmac_sm3() -> Result:
    return _compare("HMAC-SM3 (value from `openssl mac`)", HMAC_SM3_MAC, hmac_sm3(HMAC_SM3_KEY, HMAC_SM3_MSG).hex())


def _sm4_a1() -> Result:
    return _compare("SM4 GB/T 32907-2016 A.1 (one block)", SM4_A1_CIPHERTEXT, sm4_block_encrypt(SM4_KEY, SM4_KEY).hex())


def sm4_a2() -> Result:
    """The 1,000,000-iteration example (about half a second)."""
    actual = sm4_block_encrypt(SM4_KEY, SM4_KEY, SM4_A2_ITERATIONS).hex()
    return _compare("SM4 GB/T 32907-2016 A.2 (1,000,000 iterations)", SM4_A2_CIPHERTEXT, actual)


def _gcm_kat() -> Result:
    name = "SM4-GCM RFC 8998 A.1"
    sealed = _seal(GCM_KEY, GCM_NONCE, GCM_PLAINTEXT, GCM_AAD).hex()
    if sealed != GCM_CIPHERTEXT_TAG:
        return _compare(name, GCM_CIPHERTEXT_TAG, sealed)
    opened = sm4_gcm_decrypt(GCM_KEY, GCM_NONCE + bytes.fromhex(GCM_CIPHERTEXT_TAG), aad=GCM_AAD)
    return (name, opened == GCM_PLAINTEXT, f"expected={GCM_CIPHERTEXT_TAG} actual={sealed}; decrypts back")


def _gcm_tamper() -> Result:
    name = "SM4-GCM rejects a flipped bit"
    blob = bytearray(sm4_gcm_encrypt(GCM_KEY, b"110101199003077777", aad=b"id_number"))
    blob[len(blob) // 2] ^= 0x01
    try:
        sm4_gcm_decrypt(GCM_KEY, bytes(blob), aad=b"id_number")
    except SM4DecryptionError:
        return (name, True, "expected=rejected actual=rejected")
    return (name, False, "expected=rejected actual=accepted")


def _sm2_public_point() -> Result:
    point = SM2PrivateKey.from_private_scalar(SM2_D).public_key().public_point()
    return _compare("SM2 GB/T 32918.5 example: P = [d]G", SM2_PUBLIC_POINT, point.hex())


def _sm2_za() -> Result:
    za = sm2_za(SM2_UID, bytes.fromhex(SM2_PUBLIC_POINT))
    return _compare("SM2 ZA, GB/T 32918.2 clause 5.5 (ID 1234567812345678)", SM2_ZA, za.hex())


def _sm2_e() -> Result:
    e = sm3(sm2_za(SM2_UID, bytes.fromhex(SM2_PUBLIC_POINT)) + SM2_MSG)
    return _compare("SM2 e = SM3(ZA || M)", SM2_E, e.hex())


def _sm2_published_signature() -> Result:
    pub = SM2PublicKey.from_point(bytes.fromhex(SM2_PUBLIC_POINT))
    ok = pub.verify(signature_der(SM2_R, SM2_S), SM2_MSG, uid=SM2_UID)
    return ("SM2 published signature (r, s) verifies", ok, f"expected=valid actual={_v(ok)}")


def _sm2_published_signature_negative() -> Result:
    pub = SM2PublicKey.from_point(bytes.fromhex(SM2_PUBLIC_POINT))
    sig = signature_der(SM2_R, SM2_S)
    wrong = pub.verify(sig, SM2_MSG, uid=b"ALICE123@YAHOO.COM") or pub.verify(sig, SM2_MSG + b".", uid=SM2_UID)
    return (
        "SM2 published signature fails for another ID or message",
        not wrong,
        f"expected=invalid actual={_v(wrong)}",
    )


def _sm2_published_ciphertext() -> Result:
    key = SM2PrivateKey.from_private_scalar(SM2_D)
    plain = key.decrypt(ciphertext_der_from_c1c3c2(bytes.fromhex(SM2_ENC_C1C3C2)))
    return _compare("SM2 GB/T 32918.5 example: decrypt published C1C3C2", SM2_ENC_PLAINTEXT.hex(), plain.hex())


def _sm2_sign_round_trip() -> Result:
    key = SM2PrivateKey.generate()
    pub = key.public_key()
    msg = b"SmartGov SM2 self-test"
    sig = key.sign(msg)
    good, bad = pub.verify(sig, msg), pub.verify(sig, msg + b"!")
    return (
        "SM2 sign/verify round trip (new key)",
        good and not bad,
        f"expected=valid,invalid actual={_v(good)},{_v(bad)}",
    )


def _sm2_encrypt_round_trip() -> Result:
    key, other = SM2PrivateKey.generate(), SM2PrivateKey.generate()
    msg = b"SmartGov SM2 self-test"
    back = key.decrypt(key.public_key().encrypt(msg))
    try:
        other.decrypt(key.public_key().encrypt(msg))
        foreign = "decrypted"
    except SM2DecryptionError:
        foreign = "rejected"
    ok = back == msg and foreign == "rejected"
    actual = f"{'round-trip' if back == msg else 'mismatch'},other-key-{foreign}"
    return ("SM2 encrypt/decrypt round trip (new key)", ok, f"expected=round-trip,other-key-rejected actual={actual}")


def _v(ok: bool) -> str:
    return "valid" if ok else "invalid"


def _field_check() -> Result:
    name = "Field encryption round trip (configured master keys)"
    if not keys.keys_configured():
        return (name, True, f"skipped: no master key ({keys.ENV_MASTER_KEYS} / {keys.ENV_MASTER_KEYS_FILE} unset)")
    ring = keys.get_keyring()
    token = ring.encrypt_field("110101199003077777", purpose="selftest")
    back = ring.decrypt_field(token, purpose="selftest")
    stable = ring.blind_index("x", purpose="selftest") == ring.blind_index("x", purpose="selftest")
    return (
        name,
        back == "110101199003077777" and stable,
        f"expected=round-trip actual={'round-trip' if back == '110101199003077777' else 'mismatch'} "
        f"(key version {ring.current_version}, versions {ring.versions})",
    )


_SM2_CHECKS: list[tuple[str, Callable[[], Result]]] = [
    ("SM2 GB/T 32918.5 example: P = [d]G", _sm2_public_point),
    ("SM2 ZA, GB/T 32918.2 clause 5.5 (ID 1234567812345678)", _sm2_za),
    ("SM2 e = SM3(ZA || M)", _sm2_e),
    ("SM2 published signature (r, s) verifies", _sm2_published_signature),
    ("SM2 published signature fails for another ID or message", _sm2_published_signature_negative),
    ("SM2 GB/T 32918.5 example: decrypt published C1C3C2", _sm2_published_ciphertext),
    ("SM2 sign/verify round trip (new key)", _sm2_sign_round_trip),
    ("SM2 encrypt/decrypt round trip (new key)", _sm2_encrypt_round_trip),
]


def run_selftest(*, full: bool = False) -> list[Result]:
    """All known-answer tests; ``full`` adds the slow 1,000,000-iteration SM4 example.

    Each result is ``(name, passed, detail)``; detail holds ``expected=… actual=…``, or
    ``skipped: …`` (with passed True) for the field-encryption check when no key is configured.
    """
    results: list[Result] = [
        _guard("SM3 GB/T 32905-2016 A.1 ('abc')", _sm3_a1),
        _guard("SM3 GB/T 32905-2016 A.2 ('abcd'x16)", _sm3_a2),
        _guard("HMAC-SM3 (value from `openssl mac`)", _hmac_sm3),
    ]
    for name, check in _SM2_CHECKS:
        results.append(_guard(name, check))
    results.append(_guard("SM4 GB/T 32907-2016 A.1 (one block)", _sm4_a1))
    if full:
        results.append(_guard("SM4 GB/T 32907-2016 A.2 (1,000,000 iterations)", sm4_a2))
    results.append(_guard("SM4-GCM RFC 8998 A.1", _gcm_kat))
    results.append(_guard("SM4-GCM rejects a flipped bit", _gcm_tamper))
    results.append(_guard("Field encryption round trip (configured master keys)", _field_check))
    return results
