"""The platform's SM2 key that signs audit checkpoints, and the public keys trusted to verify them."""

from functools import cache
from pathlib import Path

from django.conf import settings

from smartgov.core.crypto.sm2 import SM2PrivateKey, SM2PublicKey


class SigningKeyMissing(RuntimeError):
    pass


@cache
def signing_key() -> SM2PrivateKey:
    path = Path(settings.SIGNING_KEY_FILE)
    if not path.exists():
        raise SigningKeyMissing(
            f"平台签名密钥不存在：{path}。请设置 SMARTGOV_SIGNING_KEY_FILE，或运行 `smartgov setup` 生成开发密钥。"
        )
    return SM2PrivateKey.from_pem(path.read_bytes())


def trusted_keys() -> dict[str, SM2PublicKey]:
    """key_id → public key: the current signing key's public half plus any retired ``*.pub.pem``
    files in ``SMARTGOV_AUDIT_TRUSTED_KEYS_DIR`` (keys that signed older checkpoints)."""
    keys: dict[str, SM2PublicKey] = {}
    try:
        pub = signing_key().public_key()
        keys[pub.key_id()] = pub
    except SigningKeyMissing:
        pass
    extra = getattr(settings, "AUDIT_TRUSTED_KEYS_DIR", None)
    if extra and Path(extra).is_dir():
        for f in sorted(Path(extra).glob("*.pub.pem")):
            pub = SM2PublicKey.from_pem(f.read_bytes())
            keys[pub.key_id()] = pub
    return keys


def reset_cache() -> None:
    signing_key.cache_clear()
