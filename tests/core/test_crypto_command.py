"""``smartgov crypto selftest|keygen|sign|verify`` (smartgov.core.management.commands.crypto)."""

from __future__ import annotations

import io
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from smartgov.core.crypto import kat
from smartgov.core.crypto.sm2 import SM2PrivateKey, SM2PublicKey
from smartgov.core.management.commands.crypto import public_path_for


def run(*args: str | Path) -> str:
    out = io.StringIO()
    call_command("crypto", *map(str, args), stdout=out, no_color=True)
    return out.getvalue()


def fails(*args: str | Path) -> CommandError:
    with pytest.raises(CommandError) as err:
        run(*args)
    return err.value


@pytest.fixture
def keypair(tmp_path: Path) -> tuple[Path, Path]:
    run("keygen", "--out", tmp_path / "key.pem")
    return tmp_path / "key.pem", tmp_path / "key.pub.pem"


@pytest.fixture
def document(tmp_path: Path) -> Path:
    path = tmp_path / "申请材料.pdf"
    path.write_bytes(b"%PDF-1.7 fake document\n" * 100)
    return path


# ------------------------------------------------------------------ selftest


def test_selftest_passes():
    out = run("selftest")
    assert "[PASS] SM3 GB/T 32905-2016 A.1" in out
    assert "expected=66c7f0f4" in out and "actual=66c7f0f4" in out
    assert "[FAIL]" not in out
    assert "self-test passed" in out
    assert "use --full" in out


def test_selftest_full_runs_the_long_sm4_example(monkeypatch):
    # Shrunk to one iteration (whose answer is example 1) so the test stays fast.
    monkeypatch.setattr(kat, "SM4_A2_ITERATIONS", 1)
    monkeypatch.setattr(kat, "SM4_A2_CIPHERTEXT", kat.SM4_A1_CIPHERTEXT)
    out = run("selftest", "--full")
    assert "[PASS] SM4 GB/T 32907-2016 A.2 (1,000,000 iterations)" in out
    assert "use --full" not in out


def test_selftest_failure_exits_1(monkeypatch):
    monkeypatch.setattr(kat, "SM3_A1_DIGEST", "00" * 32)
    out = io.StringIO()
    with pytest.raises(CommandError) as err:
        call_command("crypto", "selftest", stdout=out, no_color=True)
    assert err.value.returncode == 1
    assert "self-test FAILED: 1 of" in str(err.value)
    assert "[FAIL] SM3 GB/T 32905-2016 A.1" in out.getvalue()


# ------------------------------------------------------------------ keygen


def test_keygen_writes_private_0600_and_public(keypair):
    private, public = keypair
    assert stat.S_IMODE(private.stat().st_mode) == 0o600
    key = SM2PrivateKey.from_pem(private.read_bytes())
    assert SM2PublicKey.from_pem(public.read_bytes()) == key.public_key()


def test_keygen_prints_key_id(tmp_path):
    out = run("keygen", "--out", tmp_path / "k.pem")
    key = SM2PrivateKey.from_pem((tmp_path / "k.pem").read_bytes())
    assert key.public_key().key_id() in out


def test_keygen_refuses_to_overwrite_unless_forced(keypair):
    private, public = keypair
    before = private.read_bytes()
    err = fails("keygen", "--out", private)
    assert err.returncode == 1 and "--force" in str(err)
    assert private.read_bytes() == before
    private.chmod(0o644)
    run("keygen", "--out", private, "--force")
    assert private.read_bytes() != before
    assert stat.S_IMODE(private.stat().st_mode) == 0o600
    assert SM2PublicKey.from_pem(public.read_bytes()) == SM2PrivateKey.from_pem(private.read_bytes()).public_key()


def test_keygen_refuses_when_only_the_public_file_exists(tmp_path):
    (tmp_path / "k.pub.pem").write_text("x")
    assert fails("keygen", "--out", tmp_path / "k.pem").returncode == 1
    assert not (tmp_path / "k.pem").exists()


def test_public_path_for():
    assert public_path_for(Path("/a/key.pem")) == Path("/a/key.pub.pem")
    assert public_path_for(Path("/a/signing")) == Path("/a/signing.pub.pem")


# ------------------------------------------------------------------ sign / verify


def test_sign_then_verify(keypair, document, tmp_path):
    private, public = keypair
    sig = tmp_path / "sig.der"
    out = run("sign", "--key", private, "--out", sig, document)
    assert "signed" in out
    assert SM2PublicKey.from_pem(public.read_bytes()).verify(sig.read_bytes(), document.read_bytes())
    assert "签名有效 / signature valid" in run("verify", "--pubkey", public, "--sig", sig, document)


def test_verify_tampered_file_exits_1(keypair, document, tmp_path):
    private, public = keypair
    sig = tmp_path / "sig.der"
    run("sign", "--key", private, "--out", sig, document)
    document.write_bytes(document.read_bytes() + b"\n")
    err = fails("verify", "--pubkey", public, "--sig", sig, document)
    assert err.returncode == 1
    assert "签名无效 / signature INVALID" in str(err)


def test_uid_option(keypair, document, tmp_path):
    private, public = keypair
    sig = tmp_path / "sig.der"
    run("sign", "--key", private, "--out", sig, "--uid", "张三@example.gov.cn", document)
    run("verify", "--pubkey", public, "--sig", sig, "--uid", "张三@example.gov.cn", document)
    assert fails("verify", "--pubkey", public, "--sig", sig, document).returncode == 1
    assert fails("sign", "--key", private, "--out", sig, "--uid", "u" * 9000, document).returncode == 2


def test_unreadable_inputs_exit_2(keypair, document, tmp_path):
    private, public = keypair
    sig = tmp_path / "sig.der"
    run("sign", "--key", private, "--out", sig, document)
    missing = tmp_path / "missing"
    for args in (
        ("verify", "--pubkey", missing, "--sig", sig, document),
        ("verify", "--pubkey", public, "--sig", missing, document),
        ("verify", "--pubkey", public, "--sig", sig, missing),
        ("verify", "--pubkey", private, "--sig", sig, document),  # a private key is not a public key
        ("verify", "--pubkey", document, "--sig", sig, document),
        ("sign", "--key", missing, "--out", sig, document),
        ("sign", "--key", public, "--out", sig, document),
        ("sign", "--key", private, "--out", sig, missing),
    ):
        err = fails(*args)
        assert err.returncode == 2, args


def test_garbage_signature_is_invalid_not_an_error(keypair, document, tmp_path):
    _, public = keypair
    sig = tmp_path / "junk.der"
    sig.write_bytes(b"\x30\x02\x02\x00")
    assert fails("verify", "--pubkey", public, "--sig", sig, document).returncode == 1


def test_missing_subcommand():
    with pytest.raises(CommandError):
        call_command("crypto")


def test_real_exit_status_and_stderr(keypair, document, tmp_path):
    """Run as a process, as operators do: exit 1 and the sentence on stderr for a bad signature."""
    _, public = keypair
    sig = tmp_path / "sig.der"
    sig.write_bytes(SM2PrivateKey.generate().sign(document.read_bytes()))
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in sys.path if p)}
    command = [sys.executable, "-m", "smartgov", "crypto", "verify", "--pubkey", public, "--sig", sig, document]
    proc = subprocess.run(command, capture_output=True, text=True, env=env, timeout=60, check=False)
    assert proc.returncode == 1, proc.stderr
    assert "signature INVALID" in proc.stderr
    assert proc.stdout == ""
