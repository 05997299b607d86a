"""``smartgov setup``: prepare a machine to run — development keys (if none configured), migrations,
static files. Safe to run again; it never replaces an existing key."""

import os
import secrets
from pathlib import Path

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand

from smartgov.core.crypto.keys import ensure_dev_keyfile
from smartgov.core.crypto.sm2 import SM2PrivateKey


class Command(BaseCommand):
    help = "创建开发密钥（如未配置）、迁移数据库、收集静态文件 / prepare keys, database and static files"

    def add_arguments(self, parser):
        parser.add_argument("--no-static", action="store_true", help="skip collectstatic")

    def handle(self, *args, no_static=False, **options):
        keys = Path(settings.VAR_DIR) / "keys"
        keys.mkdir(parents=True, exist_ok=True, mode=0o700)
        secret = keys / "django-secret"
        if settings.SECRET_KEY_IS_EPHEMERAL and not secret.exists():  # neither SECRET_KEY(_FILE) nor a dev secret
            _write_private(secret, secrets.token_urlsafe(50))
            self.stdout.write(f"已生成开发用 SECRET_KEY：{secret}")
        keyfile = os.environ.get("SMARTGOV_MASTER_KEYS_FILE", "").strip()
        if not os.environ.get("SMARTGOV_MASTER_KEYS") and keyfile in ("", str(settings.DEV_MASTER_KEYS_FILE)):
            if ensure_dev_keyfile(settings.DEV_MASTER_KEYS_FILE):
                self.stdout.write(f"已生成开发用主密钥：{settings.DEV_MASTER_KEYS_FILE}")
            os.environ["SMARTGOV_MASTER_KEYS_FILE"] = str(settings.DEV_MASTER_KEYS_FILE)
        signing = Path(settings.SIGNING_KEY_FILE)
        if not signing.exists():
            key = SM2PrivateKey.generate()
            signing.parent.mkdir(parents=True, exist_ok=True)
            _write_private(signing, key.to_pem().decode())
            signing.with_suffix(".pub.pem").write_bytes(key.public_key().to_pem())
            self.stdout.write(f"已生成平台SM2签名密钥：{signing}")
        if settings.SECRET_KEY_IS_EPHEMERAL and secret.exists():
            settings.SECRET_KEY = secret.read_text().strip()
        call_command("migrate", interactive=False, verbosity=0)
        call_command("createcachetable", verbosity=0)  # the shared cache (rate limits across app servers)
        self.stdout.write("数据库已迁移 / database migrated")
        if not no_static:
            call_command("collectstatic", interactive=False, verbosity=0)
            self.stdout.write(f"静态文件已收集：{settings.STATIC_ROOT}")


def _write_private(path: Path, text: str) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(text + "\n")
