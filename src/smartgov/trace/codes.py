"""Traceability codes: GS1 identifiers (EPC URN ⇄ GS1 Digital Link) and NMPA 20-digit codes.

GS1: EPC Tag Data Standard 2.x §6 (EPC pure identity URIs) and GS1 Digital Link URI Syntax 1.2 §4.11
(the canonical form on ``https://id.gs1.org``). URN → Digital Link is always unambiguous; the reverse
needs the length of the GS1 Company Prefix, taken from the product master data (``gcp_lengths``), else
from the prefix table of GS1 China for 690–693, else 7.

NMPA 药品追溯码 (NMPAB/T 1002-2019《药品追溯码编码要求》): a drug traceability code is the 药品标识码
(product identifier, 7 digits, assigned per product and package specification) followed by the
生产标识码 (here a 9-digit 单品序列号 and a 4-digit 校验码), 20 digits in all — the layout used by the
national vaccine traceability coding (码上放心). See docs/trace.md for the source and why the check
digits are keyed. As an EPC the code is written ``urn:nmpa:tc:<20 digits>`` (no registered URN
namespace exists for it; the prefix is this platform's convention and documented as such).
"""

import re
from dataclasses import dataclass
from functools import lru_cache

from django.core.exceptions import ValidationError

DL_ROOT = "https://id.gs1.org"
NMPA_PREFIX = "urn:nmpa:tc:"

_NMPA_RE = re.compile(r"^\d{20}$")
_DL_RE = re.compile(r"^https?://[^/]+(/.*?)?/(00|01|414|417|8003|8004|253|255|401|402|8006|8010|8017|8018)/([^?#]*)")


def gs1_check_digit(body: str) -> str:
    """GS1 mod-10 check digit for a string of digits (GS1 General Specifications §7.9)."""
    total = 0
    for i, ch in enumerate(reversed(body)):
        total += int(ch) * (3 if i % 2 == 0 else 1)
    return str((10 - total % 10) % 10)


_gtin_cache: dict[tuple[str, str], str] = {}


def _gtin(prefix: str, item_ref: str) -> str:
    key = (prefix, item_ref)
    gtin = _gtin_cache.get(key)
    if gtin is None:
        body = item_ref[0] + prefix + item_ref[1:]
        gtin = body + gs1_check_digit(body)
        if len(_gtin_cache) < 100_000:
            _gtin_cache[key] = gtin
    return gtin


def urn_to_dl(uri: str) -> str:
    """An EPC pure-identity URN (sgtin, sscc, sgln, pgln, grai, giai, gdti, lgtin class, sgtin pattern
    excluded) as its canonical GS1 Digital Link URI; any other URI is returned unchanged."""
    if not uri.startswith("urn:epc:"):
        return uri
    if uri.startswith("urn:epc:idpat:sgtin:"):
        prefix, ref, _ = uri[len("urn:epc:idpat:sgtin:"):].split(".")
        return f"{DL_ROOT}/01/{_gtin(prefix, ref)}"
    try:
        head, _, rest = uri.rpartition(":")
        scheme = head.rsplit(":", 1)[1]
        parts = rest.split(".")
        if scheme == "sgtin" and len(parts) == 3:
            return f"{DL_ROOT}/01/{_gtin(parts[0], parts[1])}/21/{parts[2]}"
        if scheme == "sscc" and len(parts) == 2:
            body = parts[1][0] + parts[0] + parts[1][1:]
            return f"{DL_ROOT}/00/{body}{gs1_check_digit(body)}"
        if scheme == "sgln" and len(parts) == 3:
            body = parts[0] + parts[1]
            gln = body + gs1_check_digit(body)
            return f"{DL_ROOT}/414/{gln}" + ("" if parts[2] == "0" else f"/254/{parts[2]}")
        if scheme == "pgln" and len(parts) == 2:
            body = parts[0] + parts[1]
            return f"{DL_ROOT}/417/{body}{gs1_check_digit(body)}"
        if scheme == "lgtin" and len(parts) == 3:  # urn:epc:class:lgtin
            return f"{DL_ROOT}/01/{_gtin(parts[0], parts[1])}/10/{parts[2]}"
        if scheme == "grai" and len(parts) == 3:
            body = parts[0] + parts[1]
            return f"{DL_ROOT}/8003/0{body}{gs1_check_digit(body)}{parts[2]}"
        if scheme == "giai" and len(parts) == 2:
            return f"{DL_ROOT}/8004/{parts[0]}{parts[1]}"
        if scheme == "gdti" and len(parts) == 3:
            body = parts[0] + parts[1]
            return f"{DL_ROOT}/253/{body}{gs1_check_digit(body)}{parts[2]}"
    except (IndexError, ValueError):
        return uri
    return uri


def canonical_dl(uri: str) -> str:
    """Constrain a GS1 Digital Link URI: id.gs1.org, no query string, no path before the key (GS1 Digital
    Link 1.2 §4.11, as the event-hash algorithm requires); other URIs unchanged; URNs converted."""
    if uri.startswith("urn:epc:"):
        return urn_to_dl(uri)
    if not uri.startswith("http"):
        return uri
    m = _DL_RE.match(uri)
    if not m:
        return uri
    key, rest = m.group(2), m.group(3)
    segs = rest.split("/")
    value = segs[0]
    out = f"{DL_ROOT}/{key}/{value}"
    # keep only the finest-grained qualifier the algorithm allows (01 21, 01 10, 414 254, 8006 21 …)
    if len(segs) >= 3 and (key, segs[1]) in {("01", "21"), ("01", "10"), ("01", "235"), ("414", "254"),
                                            ("8006", "21"), ("8006", "10"), ("8010", "8011")}:
        out += f"/{segs[1]}/{segs[2]}"
    return out


# Locations, parties and devices repeat in every event: their conversion is cached.
location_dl = lru_cache(maxsize=8192)(canonical_dl)


def normalize_epc(value: str) -> str:
    """The form an identifier is stored and matched in: a GS1 key as canonical Digital Link, a bare
    20-digit NMPA code as its URN, anything else trimmed."""
    if value.startswith(NMPA_PREFIX):  # already canonical: the common case on the hot path
        return value.strip()
    value = value.strip()
    if _NMPA_RE.match(value):
        return NMPA_PREFIX + value
    return canonical_dl(value)


# China: GS1 China assigns 7-digit company prefixes under 690/691 and 8-digit ones under 692/693.
_CN_GCP = {"690": 7, "691": 7, "692": 8, "693": 8}


def gcp_length_for(gtin_or_key: str, gcp_lengths: dict[str, int] | None = None) -> int:
    """Length of the GS1 Company Prefix inside a GTIN-14 (after the indicator) or an SSCC/GLN body."""
    if gcp_lengths:
        for prefix, length in gcp_lengths.items():
            if gtin_or_key.startswith(prefix):
                return length
    return _CN_GCP.get(gtin_or_key[:3], 7)


def dl_to_urn(uri: str, *, gcp_lengths: dict[str, int] | None = None) -> str:
    """A GS1 Digital Link URI as its EPC URN (sgtin, sscc, sgln, pgln); ValidationError if not one."""
    dl = canonical_dl(uri)
    m = _DL_RE.match(dl)
    if not m:
        raise ValidationError("不是GS1数字链接URI", code="not_digital_link")
    key = m.group(2)
    segs = m.group(3).split("/")
    value = segs[0]
    if key == "01" and len(segs) >= 3 and segs[1] == "21":
        _check_key(value, 14)
        n = gcp_length_for(value[1:], gcp_lengths)
        return f"urn:epc:id:sgtin:{value[1:1 + n]}.{value[0]}{value[1 + n:13]}.{segs[2]}"
    if key == "00":
        _check_key(value, 18)
        n = gcp_length_for(value[1:], gcp_lengths)
        return f"urn:epc:id:sscc:{value[1:1 + n]}.{value[0]}{value[1 + n:17]}"
    if key == "414":
        _check_key(value, 13)
        n = gcp_length_for(value, gcp_lengths)
        ext = segs[2] if len(segs) >= 3 and segs[1] == "254" else "0"
        return f"urn:epc:id:sgln:{value[:n]}.{value[n:12]}.{ext}"
    if key == "417":
        _check_key(value, 13)
        n = gcp_length_for(value, gcp_lengths)
        return f"urn:epc:id:pgln:{value[:n]}.{value[n:12]}"
    raise ValidationError("暂不支持该GS1标识的URN转换", code="unsupported_key")


def _check_key(value: str, length: int) -> None:
    if len(value) != length or not value.isdigit():
        raise ValidationError(f"GS1标识应为{length}位数字", code="invalid_gs1_key")
    if gs1_check_digit(value[:-1]) != value[-1]:
        raise ValidationError("GS1标识校验位错误", code="invalid_check_digit")


def sgtin_urn(gtin14: str, serial: str, *, gcp_length: int = 7) -> str:
    _check_key(gtin14, 14)
    return f"urn:epc:id:sgtin:{gtin14[1:1 + gcp_length]}.{gtin14[0]}{gtin14[1 + gcp_length:13]}.{serial}"


def sscc_urn(company_prefix: str, extension: str, serial_ref: int) -> str:
    width = 16 - len(company_prefix)
    return f"urn:epc:id:sscc:{company_prefix}.{extension}{serial_ref:0{width}d}"


# --------------------------------------------------------------------------------------------- NMPA


@dataclass(frozen=True)
class NmpaCode:
    code: str
    product_code: str  # 药品标识码, 7 digits
    serial: str        # 单品序列号, 9 digits
    check: str         # 校验码, 4 digits

    @property
    def uri(self) -> str:
        return NMPA_PREFIX + self.code


def nmpa_check(product_code: str, serial: str) -> str:
    """The 4-digit 校验码 of a code this platform issued: a keyed hash (HMAC-SM3 under the platform's
    blind-index key), so codes cannot be forged by counting serials; only the platform can verify it."""
    from smartgov.core.crypto.keys import blind_index

    return f"{int(blind_index(product_code + serial, purpose='trace_code_check')[:12], 16) % 10000:04d}"


def parse_nmpa(value: str) -> NmpaCode:
    """Split a 20-digit 药品追溯码 (or its ``urn:nmpa:tc:`` URI) into its parts; ValidationError if malformed."""
    value = value.strip()
    if value.startswith(NMPA_PREFIX):
        value = value[len(NMPA_PREFIX):]
    if not _NMPA_RE.match(value):
        raise ValidationError("药品追溯码应为20位数字", code="invalid_nmpa_code")
    return NmpaCode(value, value[:7], value[7:16], value[16:])


def is_genuine_nmpa(value: str) -> bool:
    code = parse_nmpa(value)
    return nmpa_check(code.product_code, code.serial) == code.check


def product_key(epc: str) -> str | None:
    """The product part of a stored (normalised) EPC: ``01/<GTIN>`` for an SGTIN, ``nmpa/<7 digits>``."""
    if epc.startswith(NMPA_PREFIX):
        return "nmpa/" + epc[len(NMPA_PREFIX):len(NMPA_PREFIX) + 7]
    if epc.startswith(DL_ROOT + "/01/"):
        return "01/" + epc[len(DL_ROOT) + 4:len(DL_ROOT) + 18]
    return None


def parse_any(value: str) -> str:
    """A code as typed by a person (20 digits, URN, Digital Link, or a GS1 element string (01)…(21)…)
    in its stored form; ValidationError when it is none of them."""
    value = (value or "").strip()
    if not value:
        raise ValidationError("请输入追溯码", code="code_required")
    m = re.match(r"^\(01\)(\d{14})\(21\)(.+)$", value)
    if m:
        _check_key(m.group(1), 14)
        return f"{DL_ROOT}/01/{m.group(1)}/21/{m.group(2)}"
    m = re.match(r"^\(00\)(\d{18})$", value)
    if m:
        _check_key(m.group(1), 18)
        return f"{DL_ROOT}/00/{m.group(1)}"
    if _NMPA_RE.match(value) or value.startswith(NMPA_PREFIX):
        return parse_nmpa(value).uri
    if value.startswith(("urn:", "http://", "https://")):
        return normalize_epc(value)
    raise ValidationError("无法识别的追溯码格式", code="invalid_code")


def display(epc: str) -> str:
    """A short human form: the 20 digits of an NMPA code, (01)…(21)… for an SGTIN, (00)… for an SSCC."""
    if epc.startswith(NMPA_PREFIX):
        return epc[len(NMPA_PREFIX):]
    if epc.startswith(DL_ROOT + "/01/"):
        segs = epc[len(DL_ROOT) + 1:].split("/")
        if len(segs) >= 4 and segs[2] == "21":
            return f"(01){segs[1]}(21){segs[3]}"
    if epc.startswith(DL_ROOT + "/00/"):
        return f"(00){epc[len(DL_ROOT) + 4:]}"
    return epc
