"""The known-answer self-test (smartgov.core.crypto.kat) and its helpers."""

from __future__ import annotations

import pytest

from smartgov.core.crypto import kat, keys


@pytest.fixture
def no_keys(monkeypatch):
    for var in (keys.ENV_MASTER_KEYS, keys.ENV_MASTER_KEYS_FILE):
        monkeypatch.delenv(var, raising=False)
    keys.reset_key_cache()
    yield
    keys.reset_key_cache()


def test_every_check_passes():
    results = kat.run_selftest()
    failures = [r for r in results if not r[1]]
    assert failures == []
    names = [name for name, _, _ in results]
    assert len(names) == len(set(names)) >= 14
    assert not any("1,000,000" in n for n in names)  # only with full=True
    for name, _, detail in results:
        assert detail.startswith(("expected=", "skipped:")), (name, detail)


def test_field_check_skips_without_keys(no_keys):
    name, passed, detail = kat.run_selftest()[-1]
    assert name.startswith("Field encryption")
    assert passed and detail.startswith("skipped: no master key")


def test_field_check_runs_with_keys(monkeypatch, no_keys):
    monkeypatch.setenv(keys.ENV_MASTER_KEYS, "3:" + "ab" * 32)
    _, passed, detail = kat.run_selftest()[-1]
    assert passed and "key version 3" in detail


def test_field_check_fails_on_broken_key_configuration(monkeypatch, no_keys):
    monkeypatch.setenv(keys.ENV_MASTER_KEYS, "1:nothex")
    _, passed, detail = kat.run_selftest()[-1]
    assert not passed and "KeyConfigurationError" in detail


@pytest.mark.parametrize(
    ("attr", "needle"),
    [
        ("SM3_A1_DIGEST", "SM3 GB/T 32905-2016 A.1"),
        ("SM4_A1_CIPHERTEXT", "SM4 GB/T 32907-2016 A.1"),
        ("GCM_CIPHERTEXT_TAG", "SM4-GCM RFC 8998"),
        ("SM2_PUBLIC_POINT", "P = [d]G"),
        ("SM2_ZA", "SM2 ZA"),
        ("SM2_E", "SM2 e ="),
        ("SM2_S", "published signature (r, s) verifies"),
        ("SM2_ENC_C1C3C2", "decrypt published"),
    ],
)
def test_a_wrong_vector_makes_its_check_fail(monkeypatch, attr, needle):
    value = getattr(kat, attr)
    broken = value[:-2] + ("00" if not value.endswith("00") else "01")
    monkeypatch.setattr(kat, attr, broken)
    results = {name: (passed, detail) for name, passed, detail in kat.run_selftest()}
    failed = [name for name, (passed, _) in results.items() if not passed]
    assert any(needle in name for name in failed), failed


def test_sm2_curve_parameters_are_consistent():
    # G lies on y^2 = x^3 + ax + b (mod p) -- GB/T 32918.5 clause 3 parameters.
    p, a, b, gx, gy = kat.SM2_P, kat.SM2_A, kat.SM2_B, kat.SM2_GX, kat.SM2_GY
    assert (gy * gy - (gx**3 + a * gx + b)) % p == 0
    assert a == p - 3
    point = bytes.fromhex(kat.SM2_PUBLIC_POINT)
    x, y = int.from_bytes(point[1:33], "big"), int.from_bytes(point[33:], "big")
    assert (y * y - (x**3 + a * x + b)) % p == 0


def test_za_depends_on_id_and_key():
    point = bytes.fromhex(kat.SM2_PUBLIC_POINT)
    assert kat.sm2_za(kat.SM2_UID, point).hex() == kat.SM2_ZA
    assert kat.sm2_za(b"ALICE123@YAHOO.COM", point).hex() != kat.SM2_ZA


def test_der_helpers():
    assert kat.signature_der("80", "01") == bytes.fromhex("3007020200800201" + "01")
    raw = bytes.fromhex(kat.SM2_ENC_C1C3C2)
    der = kat.ciphertext_der_from_c1c3c2(raw)
    assert der[0] == 0x30 and raw[65:97] in der and raw[97:] in der
