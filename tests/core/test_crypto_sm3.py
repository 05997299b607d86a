"""SM3 and HMAC-SM3 (smartgov.core.crypto.sm3)."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from smartgov.core.crypto import kat
from smartgov.core.crypto.sm3 import DIGEST_SIZE, hmac_sm3, new_sm3, sm3, sm3_hex

fast = settings(database=None, max_examples=50, deadline=None)


def test_gbt_32905_appendix_a_examples():
    assert sm3_hex(b"abc") == "66c7f0f462eeedd9d1f2d46bdc10e4e24167c4875cf2f7a2297da02b8f4ba8e0"
    assert sm3(b"abcd" * 16).hex() == "debe9ff92275b8a138604889c18e5a4d6fdb70e5387e5765293dcba39c0c5732"
    assert len(sm3(b"")) == DIGEST_SIZE


def _hmac_by_rfc2104(key: bytes, data: bytes) -> bytes:
    # H((K0 ^ opad) || H((K0 ^ ipad) || text)), SM3 block size 64 bytes (RFC 2104 section 2).
    if len(key) > 64:
        key = sm3(key)
    key = key.ljust(64, b"\0")
    inner = sm3(bytes(k ^ 0x36 for k in key) + data)
    return sm3(bytes(k ^ 0x5C for k in key) + inner)


def test_hmac_sm3_matches_openssl_cli_value():
    assert hmac_sm3(kat.HMAC_SM3_KEY, kat.HMAC_SM3_MSG).hex() == kat.HMAC_SM3_MAC


@fast
@given(key=st.binary(max_size=100), data=st.binary(max_size=300))
def test_hmac_sm3_is_the_rfc_2104_construction(key, data):
    assert hmac_sm3(key, data) == _hmac_by_rfc2104(key, data)


@fast
@given(chunks=st.lists(st.binary(max_size=200), max_size=8))
def test_streaming_equals_one_shot(chunks):
    h = new_sm3()
    for c in chunks:
        h.update(c)
    assert h.digest() == sm3(b"".join(chunks))


def test_new_sm3_objects_are_independent():
    a, b = new_sm3(), new_sm3()
    a.update(b"abc")
    assert b.hexdigest() == sm3_hex(b"")
    assert a.hexdigest() == sm3_hex(b"abc")
