"""``smartgov crypto``: commercial-cryptography tools that need no database.

    smartgov crypto selftest [--full]
    smartgov crypto keygen --out key.pem [--force]          # also writes key.pub.pem
    smartgov crypto sign --key key.pem --out sig.der FILE [--uid ID]
    smartgov crypto verify --pubkey key.pub.pem --sig sig.der FILE [--uid ID]

Exit status: 0 success; 1 failed self-test, invalid signature or refused overwrite; 2 unreadable
input (missing file, not an SM2 key).  Signatures are DER, SM3 with ZA over the ID
(default 1234567812345678), interchangeable with ``openssl pkeyutl -rawin -digest sm3
-pkeyopt distid:1234567812345678``.
"""

from __future__ import annotations

import os
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError, CommandParser

from smartgov.core.crypto.kat import run_selftest
from smartgov.core.crypto.sm2 import DEFAULT_UID, MAX_UID_LEN, SM2Error, SM2PrivateKey, SM2PublicKey, openssl_version

EXIT_INVALID = 1
EXIT_UNREADABLE = 2


def public_path_for(private_path: Path) -> Path:
    """``key.pem`` → ``key.pub.pem``; any other name gets ``.pub.pem`` appended."""
    if private_path.suffix == ".pem":
        return private_path.with_suffix(".pub.pem")
    return private_path.with_name(private_path.name + ".pub.pem")


def _read(path: str, zh: str, en: str) -> bytes:
    try:
        return Path(path).read_bytes()
    except OSError as exc:
        raise CommandError(
            f"无法读取{zh} / cannot read {en}: {path}: {exc.strerror}", returncode=EXIT_UNREADABLE
        ) from None


def _uid(text: str) -> bytes:
    uid = text.encode("utf-8")
    if len(uid) > MAX_UID_LEN:  # ENTL is a 16-bit bit count (GB/T 32918.2 clause 5.5)
        raise CommandError(f"--uid is longer than {MAX_UID_LEN} bytes", returncode=EXIT_UNREADABLE)
    return uid


class Command(BaseCommand):
    help = "国密算法工具 / SM2-SM3-SM4 tools: selftest, keygen, sign, verify"
    requires_system_checks: list[str] = []  # works before the database exists

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True, metavar="{selftest,keygen,sign,verify}")

        p = sub.add_parser("selftest", help="运行已知答案测试 / run the known-answer tests")
        p.add_argument("--full", action="store_true", help="include the slow 1,000,000-iteration SM4 example")

        p = sub.add_parser("keygen", help="生成SM2密钥对 / generate an SM2 key pair")
        p.add_argument("--out", required=True, help="private key PEM to write (mode 0600); KEY.pub.pem beside it")
        p.add_argument("--force", action="store_true", help="overwrite existing files")

        uid_help = f"distinguishing ID (default {DEFAULT_UID.decode()})"
        p = sub.add_parser("sign", help="SM2签名文件 / sign a file")
        p.add_argument("--key", required=True, help="private key PEM")
        p.add_argument("--out", required=True, help="DER signature to write")
        p.add_argument("--uid", default=DEFAULT_UID.decode(), help=uid_help)
        p.add_argument("file")

        p = sub.add_parser("verify", help="验证SM2签名 / verify a file's signature")
        p.add_argument("--pubkey", required=True, help="public key PEM")
        p.add_argument("--sig", required=True, help="DER signature")
        p.add_argument("--uid", default=DEFAULT_UID.decode(), help=uid_help)
        p.add_argument("file")

    def handle(self, *args, action: str, **options) -> None:
        getattr(self, f"_{action}")(**options)

    # ----------------------------------------------------------------- selftest

    def _selftest(self, *, full: bool = False, **_) -> None:
        self.stdout.write(f"libcrypto: {openssl_version()}")
        results = run_selftest(full=full)
        failed = skipped = 0
        for name, passed, detail in results:
            if detail.startswith("skipped"):
                skipped += 1
                tag = self.style.WARNING("SKIP")
            elif passed:
                tag = self.style.SUCCESS("PASS")
            else:
                failed += 1
                tag = self.style.ERROR("FAIL")
            self.stdout.write(f"[{tag}] {name}")
            self.stdout.write(f"       {detail}")
        if not full:
            self.stdout.write("       (SM4 1,000,000-iteration example not run; use --full)")
        ran = len(results) - skipped
        if failed:
            raise CommandError(f"自检失败 / self-test FAILED: {failed} of {ran} checks failed", returncode=EXIT_INVALID)
        self.stdout.write(self.style.SUCCESS(f"自检通过 / self-test passed: {ran} checks, {skipped} skipped"))

    # ----------------------------------------------------------------- keygen

    def _keygen(self, *, out: str, force: bool = False, **_) -> None:
        private_path = Path(out)
        public_path = public_path_for(private_path)
        if not force:
            for path in (private_path, public_path):
                if path.exists():
                    raise CommandError(
                        f"文件已存在 / {path} already exists; use --force to overwrite", returncode=EXIT_INVALID
                    )
        key = SM2PrivateKey.generate()
        flags = os.O_WRONLY | os.O_CREAT | (os.O_TRUNC if force else os.O_EXCL)
        try:
            fd = os.open(private_path, flags, 0o600)
            with os.fdopen(fd, "wb") as fh:
                os.fchmod(fh.fileno(), 0o600)  # an overwritten file keeps its old mode otherwise
                fh.write(key.to_pem())
            public_path.write_bytes(key.public_key().to_pem())
        except OSError as exc:
            raise CommandError(f"无法写入 / cannot write key: {exc}", returncode=EXIT_UNREADABLE) from None
        self.stdout.write(f"私钥 / private key: {private_path} (mode 0600)")
        self.stdout.write(f"公钥 / public key:  {public_path}")
        self.stdout.write(f"key id: {key.public_key().key_id()}")

    # ----------------------------------------------------------------- sign / verify

    def _sign(self, *, key: str, out: str, uid: str, file: str, **_) -> None:
        pem = _read(key, "私钥", "private key")
        data = _read(file, "文件", "file")
        try:
            private = SM2PrivateKey.from_pem(pem)
        except SM2Error as exc:
            raise CommandError(
                f"私钥无效 / not a usable SM2 private key: {key}: {exc}", returncode=EXIT_UNREADABLE
            ) from None
        signature = private.sign(data, uid=_uid(uid))
        try:
            Path(out).write_bytes(signature)
        except OSError as exc:
            raise CommandError(f"无法写入 / cannot write {out}: {exc.strerror}", returncode=EXIT_UNREADABLE) from None
        self.stdout.write(f"已签名 / signed: {file} -> {out} (key id {private.public_key().key_id()})")

    def _verify(self, *, pubkey: str, sig: str, uid: str, file: str, **_) -> None:
        pem = _read(pubkey, "公钥", "public key")
        signature = _read(sig, "签名", "signature")
        data = _read(file, "文件", "file")
        try:
            public = SM2PublicKey.from_pem(pem)
        except SM2Error as exc:
            raise CommandError(
                f"公钥无效 / not a usable SM2 public key: {pubkey}: {exc}", returncode=EXIT_UNREADABLE
            ) from None
        if not public.verify(signature, data, uid=_uid(uid)):
            raise CommandError(
                f"签名无效 / signature INVALID: {sig} does not match {file} under key {public.key_id()} "
                f"with ID {uid!r}",
                returncode=EXIT_INVALID,
            )
        self.stdout.write(self.style.SUCCESS(f"签名有效 / signature valid (key id {public.key_id()})"))
