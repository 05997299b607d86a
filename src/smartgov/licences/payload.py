"""What a licence signs and what its QR code carries.

Signed content: the licence's public claims as canonical JSON (UTF-8, keys sorted, no spaces — orjson
with ``OPT_SORT_KEYS``). A person's clear ID number is never part of it: the holder is the name and
the masked number (``110105********0021``); an enterprise is its 统一社会信用代码.

QR payload: ``SGL1.<base64url(content)>.<base64url(signature DER)>.<key_id>`` (base64url without
padding). Everything needed to check it offline is inside, given the issuer's public key.
"""

import base64
import binascii
import re
from typing import Final
from urllib.parse import parse_qs, urlsplit

import orjson

from smartgov.core.masking import mask_id_number

PREFIX: Final = "SGL1"
_B64URL = re.compile(r"^[A-Za-z0-9_-]+$")
_KEY_ID = re.compile(r"^[0-9a-f]{32}$")
MAX_PAYLOAD: Final = 4096


class MalformedPayload(ValueError):
    pass


def holder_claims(*, person=None, enterprise=None) -> dict:
    if person is not None:
        return {"kind": "person", "name": person.name, "id": mask_id_number(person.id_number)}
    return {"kind": "enterprise", "name": enterprise.name, "id": enterprise.uscc}


def claims_for(licence) -> dict:
    """The claims a licence signs (built from the row as it will be saved)."""
    return {
        "id": licence.identifier,
        "type": licence.licence_type.code,
        "type_name": licence.licence_type.name,
        "holder": {"kind": "person" if licence.holder_person_id else "enterprise",
                   "name": licence.holder_name, "id": licence.holder_public_id},
        "issuer": licence.issuer_uscc,
        "issuer_name": licence.department.name,
        "issued_on": licence.issued_on.isoformat(),
        "valid_from": licence.valid_from.isoformat(),
        "valid_until": licence.valid_until.isoformat() if licence.valid_until else None,
        "data": licence.data,
        "version": licence.version,
        "trust": licence.trust_level,
    }


def canonical(claims: dict) -> bytes:
    return orjson.dumps(claims, option=orjson.OPT_SORT_KEYS)


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def unb64url(text: str) -> bytes:
    """Strict: only the base64url alphabet, and only the one canonical spelling of the bytes (a changed
    unused low bit in the last character would otherwise decode to the same bytes)."""
    if not _B64URL.match(text) or len(text) % 4 == 1:
        raise MalformedPayload("not base64url")
    try:
        data = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError) as exc:
        raise MalformedPayload("not base64url") from exc
    if b64url(data) != text:
        raise MalformedPayload("non-canonical base64url")
    return data


def encode(content: bytes, signature: bytes, key_id: str) -> str:
    return f"{PREFIX}.{b64url(content)}.{b64url(signature)}.{key_id}"


def extract(text: str) -> str:
    """The payload itself, from the bare payload or a scanned verification URL (``…/verify/?p=…``)."""
    text = (text or "").strip()
    if not text.startswith(PREFIX + ".") and "p=" in text:
        values = parse_qs(urlsplit(text).query).get("p")
        if values:
            return values[0].strip()
    return text


def decode(text: str) -> tuple[bytes, dict, bytes, str]:
    """``(content bytes, claims, signature DER, key_id)``, or MalformedPayload."""
    text = extract(text)
    if len(text) > MAX_PAYLOAD:
        raise MalformedPayload("too long")
    parts = text.split(".")
    if len(parts) != 4 or parts[0] != PREFIX:
        raise MalformedPayload("wrong shape")
    content, signature, key_id = unb64url(parts[1]), unb64url(parts[2]), parts[3]
    if not _KEY_ID.match(key_id):
        raise MalformedPayload("bad key id")
    try:
        claims = orjson.loads(content)
    except orjson.JSONDecodeError as exc:
        raise MalformedPayload("content is not JSON") from exc
    if not isinstance(claims, dict) or not isinstance(claims.get("id"), str):
        raise MalformedPayload("content is not a licence")
    return content, claims, signature, key_id
