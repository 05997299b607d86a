"""The EID credential format: canonical JSON signed with SM2, carried in a QR payload.

    SGE1.<base64url(canonical JSON)>.<base64url(SM2 signature, DER)>

The canonical JSON (orjson, sorted keys, no spaces) holds ``v`` (format version), ``eid``, ``name``,
``photo`` (SM3 of the photo, hex, or ""), ``from``/``until`` (ISO dates), ``iss`` (issuer's
统一社会信用代码) and ``kid`` (the issuer key id). Anyone with the issuer's public key and the current
revocation list can check a payload offline: ``check_payload``.
"""

import base64
import binascii
import secrets
from dataclasses import dataclass
from datetime import date

import orjson

from smartgov.core.checkdigits import ALNUM36, is_valid_mod37_36, iso7064_mod37_36

PREFIX = "SGE1"


def new_eid() -> str:
    """A random EID: 'E' + 16 random characters 0-9A-Z + an ISO 7064 MOD 37,36 check character.
    Random (80+ bits), never derived from the ID number."""
    body = "E" + "".join(secrets.choice(ALNUM36) for _ in range(16))
    return body + iso7064_mod37_36(body)


def is_valid_eid(text: str) -> bool:
    return len(text) == 18 and text.startswith("E") and is_valid_mod37_36(text)


def canonical(claims: dict) -> bytes:
    return orjson.dumps(claims, option=orjson.OPT_SORT_KEYS)


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    """Strict base64url: only the one canonical spelling of the bytes is accepted (a changed unused low
    bit in the last character would otherwise decode to the same bytes and verify)."""
    data = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    if _b64(data) != text:
        raise ValueError("non-canonical base64url")
    return data


def encode_payload(canonical_json: bytes, signature: bytes) -> str:
    return f"{PREFIX}.{_b64(canonical_json)}.{_b64(signature)}"


@dataclass
class Outcome:
    ok: bool
    code: str
    message: str
    claims: dict | None = None


REASONS = {
    "valid": "EID有效",
    "malformed": "二维码内容不是有效的EID凭证",
    "bad_eid": "EID校验码错误",
    "unknown_key": "签发机关密钥未知，无法核验",
    "bad_signature": "签名无效：凭证内容被篡改或不是由签发机关签发",
    "revoked": "该EID已被吊销或换发",
    "expired": "该EID已过有效期",
    "not_yet_valid": "该EID尚未生效",
}


def _outcome(code: str, claims=None) -> Outcome:
    return Outcome(ok=code == "valid", code=code, message=REASONS[code], claims=claims)


def check_payload(text: str, *, public_key_for, is_revoked, today: date) -> Outcome:
    """Verify a QR payload: format, EID check character, SM2 signature with the issuer key the payload
    names, the revocation list, and the validity dates. ``public_key_for(kid)`` and ``is_revoked(eid)``
    come from the platform online, or from a downloaded key set and revocation list offline."""
    parts = text.strip().split(".")
    if len(parts) != 3 or parts[0] != PREFIX:
        return _outcome("malformed")
    try:
        body, signature = _unb64(parts[1]), _unb64(parts[2])
        claims = orjson.loads(body)
    except (binascii.Error, ValueError, orjson.JSONDecodeError):
        return _outcome("malformed")
    if not isinstance(claims, dict) or not {"eid", "kid", "from", "until"} <= claims.keys():
        return _outcome("malformed")
    if canonical(claims) != body:  # only the canonical form is ever signed
        return _outcome("bad_signature")
    if not is_valid_eid(str(claims["eid"])):
        return _outcome("bad_eid")
    key = public_key_for(str(claims["kid"]))
    if key is None:
        return _outcome("unknown_key")
    if not key.verify(signature, body):
        return _outcome("bad_signature")
    if is_revoked(claims["eid"]):
        return _outcome("revoked", claims)
    try:
        valid_from, valid_until = date.fromisoformat(claims["from"]), date.fromisoformat(claims["until"])
    except (TypeError, ValueError):
        return _outcome("malformed")
    if today < valid_from:
        return _outcome("not_yet_valid", claims)
    if today > valid_until:
        return _outcome("expired", claims)
    return _outcome("valid", claims)
