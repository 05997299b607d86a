"""Licence identifiers (电子证照标识, GB/T 36904) and their ISO/IEC 7064 MOD 37,36 check character.

An identifier is ``1.2.156.3005.2.<type code>.<issuer USCC>.<serial>.<version><check>``:

* ``1.2.156.3005.2`` — the OID arc of Chinese electronic licences (GB/T 36904 root);
* the licence type code (证照类型代码) as registered in :class:`LicenceType`;
* the issuing authority's 统一社会信用代码 (GB 32100, 18 characters);
* a serial number per type and issuer, zero-padded to ``SERIAL_DIGITS`` digits;
* the version, zero-padded to ``VERSION_DIGITS`` digits, immediately followed by
* one check character computed with ISO/IEC 7064 MOD 37,36 (hybrid system) over all the
  identifier's alphanumeric characters in order (the dots are skipped).
"""

import re
from typing import Final

from smartgov.core.checkdigits import ALNUM36 as ALPHABET  # noqa: F401  (re-exported for callers)
from smartgov.core.checkdigits import is_valid_mod37_36, iso7064_mod37_36

ROOT_OID: Final = "1.2.156.3005.2"
SERIAL_DIGITS: Final = 7
VERSION_DIGITS: Final = 3
TYPE_CODE_RE: Final = re.compile(r"^[0-9A-Z]{2,20}$")
_IDENTIFIER_RE: Final = re.compile(
    rf"^{re.escape(ROOT_OID)}\.(?P<type>[0-9A-Z]{{2,20}})\.(?P<issuer>[0-9A-Z]{{18}})"
    rf"\.(?P<serial>\d{{{SERIAL_DIGITS}}})\.(?P<version>\d{{{VERSION_DIGITS}}})(?P<check>[0-9A-Z])$")

# ISO/IEC 7064 MOD 37,36 lives in core (EID identifiers use it too).
mod37_36_check_char = iso7064_mod37_36
mod37_36_is_valid = is_valid_mod37_36


def alphanumerics(text: str) -> str:
    return "".join(c for c in text if c != ".")


def build_identifier(*, type_code: str, issuer_uscc: str, serial: int, version: int) -> str:
    if not TYPE_CODE_RE.match(type_code):
        raise ValueError("licence type code must be 2-20 characters 0-9A-Z")
    if not (0 < serial < 10**SERIAL_DIGITS and 0 < version < 10**VERSION_DIGITS):
        raise ValueError("serial or version out of range")
    body = f"{ROOT_OID}.{type_code}.{issuer_uscc}.{serial:0{SERIAL_DIGITS}d}.{version:0{VERSION_DIGITS}d}"
    return body + mod37_36_check_char(alphanumerics(body))


def is_valid_identifier(identifier: str) -> bool:
    """Well-formed (root, segments, widths) and the check character agrees."""
    return bool(_IDENTIFIER_RE.match(identifier)) and mod37_36_is_valid(alphanumerics(identifier))
