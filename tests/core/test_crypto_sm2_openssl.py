"""Interoperability of our SM2 with the ``openssl`` 3 command line, in both directions.

Flags that work with OpenSSL 3.0 (``pkeyutl`` has no ``-sigopt``; ``dgst`` does):

    openssl pkeyutl -sign|-verify -rawin -digest sm3 -pkeyopt distid:1234567812345678 ...
    openssl dgst -sm3 -sign|-verify KEY -sigopt distid:1234567812345678 -signature SIG FILE
    openssl pkeyutl -encrypt -pubin -inkey PUB / -decrypt -inkey KEY
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from smartgov.core.crypto.sm2 import DEFAULT_UID, SM2Error, SM2PrivateKey, SM2PublicKey

OPENSSL = shutil.which("openssl")
pytestmark = pytest.mark.skipif(OPENSSL is None, reason="the openssl command line is not installed")
DISTID = f"distid:{DEFAULT_UID.decode()}"
SM3_WITH_DISTID = ("-digest", "sm3", "-pkeyopt", DISTID)


def openssl(*args: str | Path, check: bool = True) -> subprocess.CompletedProcess[bytes]:
    result = subprocess.run(
        [OPENSSL, *map(str, args)], capture_output=True, stdin=subprocess.DEVNULL, timeout=30, check=False
    )
    if check and result.returncode != 0:
        raise AssertionError(f"openssl {' '.join(map(str, args))} failed: {result.stderr.decode()}")
    return result


def pkeyutl_verify(pub: Path, data: Path, sig: Path, *extra: str) -> bool:
    args = ("pkeyutl", "-verify", "-pubin", "-inkey", pub, "-rawin", "-in", data, "-sigfile", sig, "-digest", "sm3")
    return openssl(*args, *extra, check=False).returncode == 0


def dgst_verify(pub: Path, data: Path, sig: Path) -> bool:
    args = ("dgst", "-sm3", "-verify", pub, "-sigopt", DISTID, "-signature", sig, data)
    return openssl(*args, check=False).returncode == 0


@pytest.fixture
def ours(tmp_path: Path):
    key = SM2PrivateKey.generate()
    (tmp_path / "key.pem").write_bytes(key.to_pem())
    (tmp_path / "pub.pem").write_bytes(key.public_key().to_pem())
    return key, tmp_path


@pytest.fixture
def theirs(tmp_path: Path):
    openssl("genpkey", "-algorithm", "SM2", "-out", tmp_path / "key.pem")
    openssl("pkey", "-in", tmp_path / "key.pem", "-pubout", "-out", tmp_path / "pub.pem")
    return tmp_path


def test_openssl_reads_our_keys(ours):
    key, d = ours
    text = openssl("pkey", "-in", d / "key.pem", "-text", "-noout").stdout.decode()
    assert "ASN1 OID: SM2" in text
    assert openssl("pkey", "-in", d / "key.pem", "-pubout").stdout == key.public_key().to_pem()
    # Our PKCS#8 is byte-identical to OpenSSL re-encoding it.
    assert openssl("pkey", "-in", d / "key.pem").stdout == key.to_pem()


def test_we_read_openssl_keys_byte_for_byte(theirs):
    pem = (theirs / "key.pem").read_bytes()
    key = SM2PrivateKey.from_pem(pem)
    assert key.to_pem() == pem
    assert key.public_key().to_pem() == (theirs / "pub.pem").read_bytes()


def test_our_signature_verifies_with_openssl(ours):
    key, d = ours
    data = d / "doc.txt"
    data.write_bytes("电子证照 / e-licence #42\n".encode() * 50)
    (d / "sig.der").write_bytes(key.sign(data.read_bytes()))
    assert pkeyutl_verify(d / "pub.pem", data, d / "sig.der", "-pkeyopt", DISTID)
    assert dgst_verify(d / "pub.pem", data, d / "sig.der")
    # The distinguishing ID matters: OpenSSL 3 without distid uses an empty ID.
    assert not pkeyutl_verify(d / "pub.pem", data, d / "sig.der")

    data.write_bytes(data.read_bytes() + b"x")  # tampered file
    assert not pkeyutl_verify(d / "pub.pem", data, d / "sig.der", "-pkeyopt", DISTID)
    assert not dgst_verify(d / "pub.pem", data, d / "sig.der")


def test_our_empty_uid_matches_openssl_default(ours):
    key, d = ours
    data = d / "doc.txt"
    data.write_bytes(b"no distid")
    (d / "sig.der").write_bytes(key.sign(data.read_bytes(), uid=b""))
    assert pkeyutl_verify(d / "pub.pem", data, d / "sig.der")


@pytest.mark.parametrize("tool", ["pkeyutl", "dgst"])
def test_openssl_signature_verifies_with_ours(theirs, tool):
    data = theirs / "doc.txt"
    data.write_bytes(b"audit checkpoint 1000\n")
    sig = theirs / "sig.der"
    if tool == "pkeyutl":
        key = theirs / "key.pem"
        openssl("pkeyutl", "-sign", "-inkey", key, "-rawin", "-in", data, "-out", sig, *SM3_WITH_DISTID)
    else:
        openssl("dgst", "-sm3", "-sign", theirs / "key.pem", "-sigopt", DISTID, "-out", sig, data)
    pub = SM2PublicKey.from_pem((theirs / "pub.pem").read_bytes())
    assert pub.verify(sig.read_bytes(), data.read_bytes())
    assert not pub.verify(sig.read_bytes(), data.read_bytes() + b"x")
    assert not pub.verify(sig.read_bytes(), data.read_bytes(), uid=b"")


def test_our_ciphertext_decrypts_with_openssl(ours):
    key, d = ours
    (d / "ct.der").write_bytes(key.public_key().encrypt(b"110101199003077777"))
    out = openssl("pkeyutl", "-decrypt", "-inkey", d / "key.pem", "-in", d / "ct.der").stdout
    assert out == b"110101199003077777"


def test_openssl_ciphertext_decrypts_with_ours(theirs):
    (theirs / "msg").write_bytes(b"secret \x00\xff bytes")
    pub, msg, ct = theirs / "pub.pem", theirs / "msg", theirs / "ct.der"
    openssl("pkeyutl", "-encrypt", "-pubin", "-inkey", pub, "-in", msg, "-out", ct)
    key = SM2PrivateKey.from_pem((theirs / "key.pem").read_bytes())
    assert key.decrypt(ct.read_bytes()) == b"secret \x00\xff bytes"


def test_encrypted_pkcs8_needs_password_and_never_prompts(theirs):
    key, enc_path = theirs / "key.pem", theirs / "enc.pem"
    openssl("pkcs8", "-topk8", "-in", key, "-v2", "aes-256-cbc", "-passout", "pass:s3cret", "-out", enc_path)
    enc = enc_path.read_bytes()
    assert enc.startswith(b"-----BEGIN ENCRYPTED PRIVATE KEY-----")
    plain = SM2PrivateKey.from_pem((theirs / "key.pem").read_bytes())
    assert SM2PrivateKey.from_pem(enc, password=b"s3cret").private_scalar() == plain.private_scalar()
    with pytest.raises(SM2Error):
        SM2PrivateKey.from_pem(enc)  # would hang on a terminal prompt if OpenSSL were allowed to ask
    with pytest.raises(SM2Error):
        SM2PrivateKey.from_pem(enc, password=b"wrong")
