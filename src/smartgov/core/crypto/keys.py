"""Versioned master keys, field encryption and blind indexes.

Where the keys come from (never from the repository):

- ``SMARTGOV_MASTER_KEYS``: comma-separated ``version:hex64`` entries, e.g. ``1:ab…,2:cd…``; or
- ``SMARTGOV_MASTER_KEYS_FILE``: path of a file with the same entries (commas or one per line;
  blank lines and ``#`` comments allowed).  Set exactly one of the two.

Each master key is 32 random bytes.  The highest version is the *current* one: new values are
encrypted under it, older versions stay readable, so rotation is "add version N+1, restart" and
rows are re-encrypted lazily (:func:`needs_reencrypt`).

Subkeys (never the master key itself) are derived with HKDF (RFC 5869) instantiated with
HMAC-SM3 — SM3 rather than SHA-256 to stay within the commercial-cryptography (商用密码) suite:

- field encryption key for version v: ``HKDF(master_v, info="smartgov/v1/field-encryption/sm4-gcm")``,
  16 bytes, used with SM4-GCM; the field's ``purpose`` and the key version are bound as AAD, so a
  ciphertext copied into another column or relabelled with another version fails to decrypt;
- blind index key for a purpose: ``HKDF(root, info="smartgov/v1/blind-index/hmac-sm3/" + purpose)``,
  32 bytes, used with HMAC-SM3.

The blind index must survive key rotation, or equality lookups on encrypted columns would break.
Its ``root`` is therefore ``SMARTGOV_BLIND_INDEX_KEY`` (hex, 32 bytes) or the file named by
``SMARTGOV_BLIND_INDEX_KEY_FILE`` when set, and otherwise the OLDEST master key version — which
must then never be removed.  To retire that oldest master key, first copy its hex value into
``SMARTGOV_BLIND_INDEX_KEY``: the derivation is the same, so every blind index stays identical.
"""

from __future__ import annotations

import base64
import binascii
import logging
import os
import re
import secrets
import threading
from collections.abc import Mapping
from pathlib import Path
from typing import Final

from django.core.exceptions import ImproperlyConfigured

from .sm3 import DIGEST_SIZE, hmac_sm3
from .sm4 import KEY_SIZE, SM4DecryptionError, sm4_gcm_decrypt, sm4_gcm_encrypt

__all__ = [
    "ENV_BLIND_INDEX_KEY",
    "ENV_BLIND_INDEX_KEY_FILE",
    "ENV_MASTER_KEYS",
    "ENV_MASTER_KEYS_FILE",
    "FieldDecryptionError",
    "KeyConfigurationError",
    "KeyRing",
    "blind_index",
    "decrypt_field",
    "encrypt_field",
    "ensure_dev_keyfile",
    "get_keyring",
    "hkdf_sm3",
    "keys_configured",
    "needs_reencrypt",
    "parse_master_keys",
    "reset_key_cache",
    "token_version",
]

logger = logging.getLogger(__name__)

ENV_MASTER_KEYS: Final = "SMARTGOV_MASTER_KEYS"
ENV_MASTER_KEYS_FILE: Final = "SMARTGOV_MASTER_KEYS_FILE"
ENV_BLIND_INDEX_KEY: Final = "SMARTGOV_BLIND_INDEX_KEY"
ENV_BLIND_INDEX_KEY_FILE: Final = "SMARTGOV_BLIND_INDEX_KEY_FILE"

MASTER_KEY_SIZE: Final = 32
_HKDF_SALT: Final = b"SmartGov HKDF-SM3 salt v1"
_INFO_FIELD: Final = b"smartgov/v1/field-encryption/sm4-gcm"
_INFO_BLIND: Final = b"smartgov/v1/blind-index/hmac-sm3/"
_INFO_WRAP: Final = b"smartgov/v1/kms-wrap/sm4-gcm"
_ENTRY_RE: Final = re.compile(r"^([1-9][0-9]{0,8}):([0-9a-fA-F]{64})$")
_TOKEN_RE: Final = re.compile(r"^v([1-9][0-9]{0,8}):([A-Za-z0-9_-]+)$")
_PURPOSE_RE: Final = re.compile(r"^[A-Za-z0-9_.:-]{1,100}$")


class KeyConfigurationError(ImproperlyConfigured):
    """Master or blind-index keys are missing or malformed; the message says what to set."""


class FieldDecryptionError(Exception):
    """A field token is malformed, names an unknown key version, or fails authentication."""


# --------------------------------------------------------------------------- derivation


def hkdf_sm3(ikm: bytes, *, info: bytes, length: int, salt: bytes = _HKDF_SALT) -> bytes:
    """HKDF (RFC 5869) with HMAC-SM3: extract (clause 2.2) then expand (clause 2.3)."""
    if not 0 < length <= 255 * DIGEST_SIZE:
        raise ValueError("HKDF output length out of range")
    prk = hmac_sm3(salt, ikm)
    okm, block, counter = b"", b"", 1
    while len(okm) < length:
        block = hmac_sm3(prk, block + info + bytes([counter]))
        okm += block
        counter += 1
    return okm[:length]


def parse_master_keys(text: str, *, source: str = ENV_MASTER_KEYS) -> dict[int, bytes]:
    """Parse ``version:hex64`` entries separated by commas and/or newlines."""
    keys: dict[int, bytes] = {}
    for raw_line in text.splitlines():
        line = raw_line.split("#", 1)[0]
        for entry in line.split(","):
            entry = entry.strip()
            if not entry:
                continue
            m = _ENTRY_RE.match(entry)
            if not m:
                # Never echo the entry: it may be a (mistyped) key.
                raise KeyConfigurationError(
                    f"{source}: each entry must be VERSION:HEX, a positive version number and 64 hex "
                    "digits (32 random bytes), e.g. 1:$(openssl rand -hex 32)"
                )
            version = int(m.group(1))
            if version in keys:
                raise KeyConfigurationError(f"{source}: key version {version} appears twice")
            keys[version] = bytes.fromhex(m.group(2))
    if not keys:
        raise KeyConfigurationError(f"{source} holds no key entries (expected VERSION:HEX64)")
    return keys


def _check_purpose(purpose: str) -> bytes:
    if not _PURPOSE_RE.match(purpose):
        raise ValueError("purpose must be 1-100 characters of A-Z a-z 0-9 _ . : -")
    return purpose.encode("ascii")


def _b64encode(blob: bytes) -> str:
    return base64.urlsafe_b64encode(blob).rstrip(b"=").decode("ascii")


def _b64decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


# --------------------------------------------------------------------------- key ring


class KeyRing:
    """Master keys by version plus the blind-index root; immutable once built, safe across threads."""

    __slots__ = ("_blind_keys", "_blind_lock", "_blind_root", "_field_keys", "_wrap_keys", "current_version")

    def __init__(self, master_keys: Mapping[int, bytes], *, blind_index_key: bytes | None = None) -> None:
        if not master_keys:
            raise KeyConfigurationError("at least one master key is required")
        for version, key in master_keys.items():
            if version < 1 or len(key) != MASTER_KEY_SIZE:
                raise KeyConfigurationError(f"master key {version} must be {MASTER_KEY_SIZE} bytes, version >= 1")
        if blind_index_key is not None and len(blind_index_key) != MASTER_KEY_SIZE:
            raise KeyConfigurationError(f"blind index key must be {MASTER_KEY_SIZE} bytes")
        self.current_version: int = max(master_keys)
        self._field_keys = {v: hkdf_sm3(k, info=_INFO_FIELD, length=KEY_SIZE) for v, k in master_keys.items()}
        # key-encryption keys for envelope encryption (the KMS wraps data keys with these)
        self._wrap_keys = {v: hkdf_sm3(k, info=_INFO_WRAP, length=KEY_SIZE) for v, k in master_keys.items()}
        # Oldest version when no dedicated key is given: it is the one that never changes on rotation.
        self._blind_root = blind_index_key if blind_index_key is not None else master_keys[min(master_keys)]
        self._blind_keys: dict[str, bytes] = {}
        self._blind_lock = threading.Lock()

    @property
    def versions(self) -> list[int]:
        return sorted(self._field_keys)

    @staticmethod
    def _aad(purpose: bytes, version: int) -> bytes:
        return b"smartgov-field\x00" + purpose + b"\x00v" + str(version).encode()

    def encrypt_field(self, plaintext: str, *, purpose: str) -> str:
        version = self.current_version
        blob = sm4_gcm_encrypt(
            self._field_keys[version], plaintext.encode("utf-8"), aad=self._aad(_check_purpose(purpose), version)
        )
        return f"v{version}:{_b64encode(blob)}"

    def decrypt_field(self, token: str, *, purpose: str) -> str:
        version, blob = _parse_token(token)
        key = self._field_keys.get(version)
        if key is None:
            raise FieldDecryptionError(
                f"token uses master key version {version}, which is not configured "
                f"(configured: {', '.join(map(str, self.versions))}); old versions must stay in "
                f"{ENV_MASTER_KEYS} until every value is re-encrypted"
            )
        try:
            plaintext = sm4_gcm_decrypt(key, blob, aad=self._aad(_check_purpose(purpose), version))
        except SM4DecryptionError as exc:
            raise FieldDecryptionError(f"{exc} (purpose {purpose!r}, key version {version})") from None
        return plaintext.decode("utf-8")

    def needs_reencrypt(self, token: str) -> bool:
        return _parse_token(token)[0] != self.current_version

    def wrap_key(self, data_key: bytes, *, aad: bytes) -> tuple[int, bytes]:
        """Envelope encryption: SM4-GCM of a data key under the current master key's wrapping key."""
        version = self.current_version
        return version, sm4_gcm_encrypt(self._wrap_keys[version], data_key, aad=b"smartgov-kms\x00" + aad)

    def unwrap_key(self, version: int, blob: bytes, *, aad: bytes) -> bytes:
        key = self._wrap_keys.get(version)
        if key is None:
            raise FieldDecryptionError(f"data key is wrapped under master key version {version}, not configured")
        try:
            return sm4_gcm_decrypt(key, blob, aad=b"smartgov-kms\x00" + aad)
        except SM4DecryptionError as exc:
            raise FieldDecryptionError(f"{exc} (wrapped data key, master version {version})") from None

    def blind_index(self, value: str, *, purpose: str) -> str:
        """Hex HMAC-SM3 of ``value`` under the purpose's blind-index key (64 hex digits).

        ``value`` is hashed as given (UTF-8): normalise it first (e.g. upper-case the X of an
        ID number) so that equal values give equal indexes.
        """
        key = self._blind_keys.get(purpose)
        if key is None:
            key = hkdf_sm3(self._blind_root, info=_INFO_BLIND + _check_purpose(purpose), length=DIGEST_SIZE)
            with self._blind_lock:
                self._blind_keys.setdefault(purpose, key)
        return hmac_sm3(key, value.encode("utf-8")).hex()


def _parse_token(token: str) -> tuple[int, bytes]:
    m = _TOKEN_RE.match(token) if isinstance(token, str) else None
    if not m:
        raise FieldDecryptionError("not an encrypted field token (expected 'v<version>:<base64url>')")
    try:
        return int(m.group(1)), _b64decode(m.group(2))
    except (binascii.Error, ValueError):
        raise FieldDecryptionError("encrypted field token has invalid base64url") from None


def token_version(token: str) -> int:
    """The master key version a token was encrypted under."""
    return _parse_token(token)[0]


# --------------------------------------------------------------------------- environment


def _read_secret_file(path: str, variable: str) -> str:
    try:
        st = os.stat(path)
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise KeyConfigurationError(f"{variable}={path} cannot be read: {exc.strerror}") from None
    if st.st_mode & 0o077:
        logger.warning("%s (%s) is readable by group or others; chmod 600 it", variable, path)
    return text


def _load_keyring(environ: Mapping[str, str]) -> KeyRing:
    inline, path = environ.get(ENV_MASTER_KEYS, "").strip(), environ.get(ENV_MASTER_KEYS_FILE, "").strip()
    if inline and path:
        raise KeyConfigurationError(f"set only one of {ENV_MASTER_KEYS} and {ENV_MASTER_KEYS_FILE}, not both")
    if inline:
        master = parse_master_keys(inline, source=ENV_MASTER_KEYS)
    elif path:
        master = parse_master_keys(_read_secret_file(path, ENV_MASTER_KEYS_FILE), source=path)
    else:
        raise KeyConfigurationError(
            f"No master key configured. Set {ENV_MASTER_KEYS}=1:<64 hex digits> (generate one with "
            f"`openssl rand -hex 32`) or {ENV_MASTER_KEYS_FILE}=/path/to/keyfile; on a developer "
            "machine `smartgov setup` creates a key file for you."
        )

    bi_inline = environ.get(ENV_BLIND_INDEX_KEY, "").strip()
    bi_path = environ.get(ENV_BLIND_INDEX_KEY_FILE, "").strip()
    if bi_inline and bi_path:
        raise KeyConfigurationError(f"set only one of {ENV_BLIND_INDEX_KEY} and {ENV_BLIND_INDEX_KEY_FILE}, not both")
    blind: bytes | None = None
    if bi_inline or bi_path:
        source = ENV_BLIND_INDEX_KEY if bi_inline else bi_path
        text = bi_inline or _read_secret_file(bi_path, ENV_BLIND_INDEX_KEY_FILE)
        hex_lines = [ln.split("#", 1)[0].strip() for ln in text.splitlines()]
        hex_text = "".join(hex_lines)
        if not re.fullmatch(r"[0-9a-fA-F]{64}", hex_text):
            raise KeyConfigurationError(f"{source}: the blind index key must be 64 hex digits (32 bytes)")
        blind = bytes.fromhex(hex_text)
    return KeyRing(master, blind_index_key=blind)


_cache_lock = threading.Lock()
_cached: KeyRing | None = None


def get_keyring() -> KeyRing:
    """The process-wide key ring, read from the environment on first use and then cached."""
    global _cached
    ring = _cached
    if ring is None:
        with _cache_lock:
            if _cached is None:
                _cached = _load_keyring(os.environ)
            ring = _cached
    return ring


def reset_key_cache() -> None:
    """Forget the cached keys (tests; or after changing the environment)."""
    global _cached
    with _cache_lock:
        _cached = None


def keys_configured() -> bool:
    """True if a master key source is set in the environment (does not validate it)."""
    return bool(os.environ.get(ENV_MASTER_KEYS, "").strip() or os.environ.get(ENV_MASTER_KEYS_FILE, "").strip())


def encrypt_field(plaintext: str, *, purpose: str) -> str:
    """``"v{version}:{base64url(nonce||ciphertext||tag)}"`` (no padding) under the current key."""
    return get_keyring().encrypt_field(plaintext, purpose=purpose)


def decrypt_field(token: str, *, purpose: str) -> str:
    """Decrypt a token from :func:`encrypt_field` with whichever key version it names."""
    return get_keyring().decrypt_field(token, purpose=purpose)


def needs_reencrypt(token: str) -> bool:
    """True if ``token`` was encrypted under an older key version than the current one."""
    return get_keyring().needs_reencrypt(token)


def blind_index(value: str, *, purpose: str) -> str:
    """Stable keyed hash for equality lookups on an encrypted column (64 hex digits)."""
    return get_keyring().blind_index(value, purpose=purpose)


def ensure_dev_keyfile(path: str | os.PathLike[str]) -> bool:
    """Create a key file with one random master key (version 1), mode 0600, if none exists.

    For developer machines only (``smartgov setup``).  Returns True if a file was created; an
    existing file is never touched.
    """
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return False
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(
            "# SmartGov master keys (development). VERSION:HEX, newest version is current.\n"
            "# Add a line with a higher version to rotate; keep old lines until data is re-encrypted.\n"
            f"1:{secrets.token_hex(MASTER_KEY_SIZE)}\n"
        )
    return True
