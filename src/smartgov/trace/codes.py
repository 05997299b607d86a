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

from smartgov.core.crypto.keys import blind_index

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
    """An EPC URI (any GS1 scheme of TDS 2.x: sgtin, sscc, sgln, grai, giai, gsrn, gsrnp, gdti, cpi, sgcn,
    ginc, gsin, itip, upui, pgln, lgtin class, idpat patterns) as its canonical GS1 Digital Link URI;
    anything else unchanged."""
    return (_urn_dl(uri) if uri.startswith("urn:epc:") else None) or uri


def canonical_dl(uri: str) -> str:
    """The constrained canonical GS1 Digital Link (id.gs1.org, no query string, short names as AIs, only
    the finest key/qualifier: /01/G/10/L/21/S keeps the serial) of an EPC URI or Digital Link; any other
    value — or a Digital Link the canonical syntax does not allow — is returned unchanged."""
    return gs1_dl(uri) or uri


# ------------------------------------------------------------------- GS1 Digital Link (canonical form)
# The constrained canonical Digital Link of the EPCIS event hash (CBV 2.0 §8.9 rules 17–18), which is
# also the form identifiers are stored and matched in here. Agrees with the dl_normaliser of the GS1
# reference implementation (RalphTro/epcis-event-hash-generator) on the vectors in
# tests/trace/data/gs1_dl_reference.json.

# GS1 AI-82 characters of an EPC URN component, with the URN's own %-escapes (TDS 2.x §5)
_C82 = r"(?:%[2-7][0-9A-Fa-f]|[!')(*+,.0-9:;=A-Za-z_-])"
_URN_ENCODE = str.maketrans({"!": "%21", "(": "%28", ")": "%29", "*": "%2A", "+": "%2B", ",": "%2C", ":": "%3A"})
# characters the reference accepts in a Digital Link path value (no %-escapes)
_DLC = r"[\"'\-.0-9;-?A-Z_a-z]"


def _cp(ref: str, total: int) -> str:
    """Company prefix (6–12 digits) + reference digits adding up to ``total``."""
    alts = "|".join(rf"\d{{{n}}}\.\d{{{total - n}}}" for n in range(6, 13) if total - n >= 0)
    return rf"(?:{alts})" if ref == "" else alts


def _urn_patterns():
    gtin = _cp("", 13)
    twelve = r"(?:" + "|".join(rf"\d{{{n}}}\.\d{{{12 - n}}}" for n in range(6, 13)) + ")"
    return {
        "sgtin": re.compile(rf"^({gtin})\.({_C82}{{1,20}})$"),
        "sscc": re.compile(rf"^({_cp('', 17)})$"),
        "sgln": re.compile(rf"^({twelve})\.({_C82}{{1,20}})$"),
        "grai": re.compile(rf"^({twelve})\.({_C82}{{1,16}})$"),
        "giai": re.compile(rf"^(\d{{6,12}})\.({_C82}+)$"),
        "gsrn": re.compile(rf"^({_cp('', 17)})$"),
        "gsrnp": re.compile(rf"^({_cp('', 17)})$"),
        "gdti": re.compile(rf"^({twelve})\.({_C82}{{0,19}})$"),
        "cpi": re.compile(r"^(\d{6,12})\.((?:%2[3dfDF]|%3[0-9]|%4[1-9A-Fa-f]|%5[0-9Aa]|[0-9A-Z-])+)\.(\d{1,12})$"),
        "sgcn": re.compile(rf"^({twelve})\.(\d{{1,12}})$"),
        "ginc": re.compile(rf"^(\d{{6,12}})\.({_C82}+)$"),
        "gsin": re.compile(rf"^({_cp('', 16)})$"),
        "itip": re.compile(rf"^({gtin})\.(\d\d)\.(\d\d)\.({_C82}{{1,20}})$"),
        "upui": re.compile(rf"^({gtin})\.({_C82}{{1,28}})$"),
        "pgln": re.compile(rf"^({twelve})$"),
        "lgtin": re.compile(rf"^({gtin})\.({_C82}{{1,20}})$"),
    }


_URN = _urn_patterns()
_GS1 = "https://id.gs1.org/"


def _digits(cp_ref: str) -> tuple[str, str]:
    cp, _, ref = cp_ref.partition(".")
    return cp, ref


@lru_cache(maxsize=65536)
def _gtin14(cp_ref: str) -> str:
    cp, ref = _digits(cp_ref)
    body = ref[:1] + cp + ref[1:]
    return body + gs1_check_digit(body)


def _encode(component: str) -> str:
    """GS1 Digital Link percent-encoding of the characters an EPC URN allows unescaped but a DL path
    segment does not (``! ( ) * + , :``)."""
    return component if component.isalnum() else component.translate(_URN_ENCODE)


def _fast_sgtin(rest: str) -> str | None:
    """The common case without the regex: ``<company prefix>.<item reference>.<alphanumeric serial>``."""
    parts = rest.split(".")
    if len(parts) == 3:
        cp, ref, serial = parts
        if (6 <= len(cp) <= 12 and len(cp) + len(ref) == 13 and cp.isdigit() and ref.isdigit()
                and 0 < len(serial) <= 20 and serial.isascii() and serial.isalnum()):
            return f"{_GS1}01/{_gtin14(cp + '.' + ref)}/21/{serial}"
    return None


def _with_check(body: str) -> str:
    return body + gs1_check_digit(body)


def _urn_dl(uri: str) -> str | None:
    """An EPC URI (id, class lgtin, idpat) as a canonical Digital Link, or None."""
    if uri.startswith("urn:epc:id:"):
        scheme, _, rest = uri[11:].partition(":")
        pat = _URN.get(scheme)
        m = pat.match(rest) if pat is not None and scheme != "lgtin" else None
        if m is None:
            return None
        g = m.groups()
        if scheme == "sgtin":
            return f"{_GS1}01/{_gtin14(g[0])}/21/{_encode(g[1])}"
        if scheme == "sscc":
            cp, ref = _digits(g[0])
            return f"{_GS1}00/{_with_check(ref[:1] + cp + ref[1:])}"
        if scheme == "sgln":
            gln = _with_check("".join(_digits(g[0])))
            return f"{_GS1}414/{gln}" + ("" if g[1] == "0" else f"/254/{_encode(g[1])}")
        if scheme == "grai":
            return f"{_GS1}8003/{_with_check('0' + ''.join(_digits(g[0])))}{_encode(g[1])}"
        if scheme in ("giai", "ginc"):
            if len(g[0]) + len(g[1]) > 30:
                return None
            return f"{_GS1}{'8004' if scheme == 'giai' else '401'}/{g[0]}{_encode(g[1])}"
        if scheme in ("gsrn", "gsrnp", "gsin"):
            ai = {"gsrn": "8018", "gsrnp": "8017", "gsin": "402"}[scheme]
            return f"{_GS1}{ai}/{_with_check(''.join(_digits(g[0])))}"
        if scheme == "gdti":
            return f"{_GS1}253/{_with_check(''.join(_digits(g[0])))}{_encode(g[1])}"
        if scheme == "cpi":
            if len(g[0]) + len(g[1]) > 30:
                return None
            return f"{_GS1}8010/{(g[0] + g[1]).translate(_URN_ENCODE)}/8011/{g[2]}"
        if scheme == "sgcn":
            return f"{_GS1}255/{_with_check(''.join(_digits(g[0])))}{g[1]}"
        if scheme == "itip":
            return f"{_GS1}8006/{_gtin14(g[0])}{g[1]}{g[2]}/21/{_encode(g[3])}"
        if scheme == "upui":
            return f"{_GS1}01/{_gtin14(g[0])}/235/{_encode(g[1])}"
        if scheme == "pgln":
            return f"{_GS1}417/{_with_check(''.join(_digits(g[0])))}"
        return None
    if uri.startswith("urn:epc:class:lgtin:"):
        m = _URN["lgtin"].match(uri[20:])
        return f"{_GS1}01/{_gtin14(m.group(1))}/10/{_encode(m.group(2))}" if m else None
    if uri.startswith("urn:epc:idpat:"):
        scheme, _, rest = uri[14:].partition(":")
        if not rest.endswith(".*"):
            return None
        body = rest[:-2]
        if scheme in ("sgtin", "upui") and re.fullmatch(_cp("", 13), body):
            return f"{_GS1}01/{_gtin14(body)}"
        if scheme == "itip":
            m = re.fullmatch(rf"({_cp('', 13)})\.(\d\d)\.(\d\d)", body)
            return f"{_GS1}8006/{_gtin14(m.group(1))}{m.group(2)}{m.group(3)}" if m else None
        twelve = "|".join(rf"\d{{{n}}}\.\d{{{12 - n}}}" for n in range(6, 13))
        if scheme in ("grai", "gdti", "sgcn") and re.fullmatch(rf"(?:{twelve})", body):
            digits = "".join(_digits(body))
            if scheme == "grai":
                return f"{_GS1}8003/{_with_check('0' + digits)}"
            return f"{_GS1}{'253' if scheme == 'gdti' else '255'}/{_with_check(digits)}"
        if scheme == "cpi":
            m = re.fullmatch(r"(\d{6,12})\.((?:%2[3dfDF]|%3[0-9]|%4[1-9A-Fa-f]|%5[0-9Aa]|[0-9A-Z-])+)", body)
            if m and len(m.group(1)) + len(m.group(2)) <= 30:
                return f"{_GS1}8010/{(m.group(1) + m.group(2)).translate(_URN_ENCODE)}"
        return None
    return None


_DL_KEYS = ("01|gtin|8006|itip|8010|cpid|414|gln|417|party|8017|gsrnp|8018|gsrn|255|gcn|00|sscc|253|gdti|401|"
            "ginc|402|gsin|8003|grai|8004|giai")
_DL_LOOKS = re.compile(rf"^https?://[^/?#]*(?:/[^?#]*)?/(?:{_DL_KEYS})/\d{{4}}[^/]+")
_ALIASES = (("/gtin/", "/01/"), ("/itip/", "/8006/"), ("/cpid/", "/8010/"), ("/gln/", "/414/"),
            ("/party/", "/417/"), ("/gsrnp/", "/8017/"), ("/gsrn/", "/8018/"), ("/gcn/", "/255/"),
            ("/sscc/", "/00/"), ("/gdti/", "/253/"), ("/ginc/", "/401/"), ("/gsin/", "/402/"),
            ("/grai/", "/8003/"), ("/giai/", "/8004/"), ("/cpv/", "/22/"), ("/lot/", "/10/"), ("/ser/", "/21/"))
_CANONICAL_START = re.compile(r"^https://id.gs1.org/(01|8006|8010|414|417|8017|8018|255|00|253|401|402|8003|8004)/"
                              r"\d{4}[^/]+")
_PRIMARY = ("00", "01", "253", "255", "401", "402", "414", "417", "8003", "8004", "8006", "8010", "8017", "8018")
_ACCEPTED = re.compile(
    rf"^https://id\.gs1\.org/(?:00/\d{{18}}|01/\d{{14}}(?:/(?:21|10)/{_DLC}{{0,20}}|/235/{_DLC}{{0,28}})?"
    rf"|253/\d{{13}}{_DLC}{{0,17}}|255/\d{{13}}\d{{0,12}}|401/{_DLC}{{0,30}}|402/\d{{17}}"
    rf"|414/\d{{13}}(?:/254/{_DLC}{{0,20}})?|417/\d{{13}}|8003/\d{{14}}{_DLC}{{0,16}}|8004/{_DLC}{{0,30}}"
    rf"|8006/\d{{18}}(?:/(?:21|10)/{_DLC}{{0,20}})?|8010/[#\-/0-9A-Z]{{0,30}}(?:/8011/\d{{0,12}})?"
    rf"|8017/\d{{18}}|8018/\d{{18}})$")
_CPV = re.compile(rf"^(https://id\.gs1\.org/(?:8006/\d{{18}}|01/\d{{14}}))/22/(?:{_DLC}|/){{0,20}}$")
_LOT_SERIAL = re.compile(rf"^(https://id\.gs1\.org/(?:8006/\d{{18}}|01/\d{{14}}))/10/{_DLC}{{0,20}}(/21/{_DLC}{{0,20}})$")


def _web_dl(uri: str) -> str | None:
    """A GS1 Digital Link URI constrained as rule 18 says: id.gs1.org, no query string, only the finest
    key/qualifier level (lot dropped when a serial is there, CPV dropped), short names as AIs."""
    if not _DL_LOOKS.match(uri):
        return None
    uri = uri.split("?", 1)[0]
    for alias, ai in _ALIASES:
        uri = uri.replace(alias, ai)
    if not _CANONICAL_START.match(uri):
        for key in _PRIMARY:
            at = uri.find(f"/{key}/")
            if at >= 0:
                uri = "https://id.gs1.org" + uri[at:]
                break
    m = re.match(r"^https://id\.gs1\.org/01/(\d+)", uri)
    if m and len(m.group(1)) < 14:
        n = len(m.group(1))
        pad = 1 if n == 13 else 2 if n == 12 else 6 if n >= 8 else 0
        uri = uri.replace("/01/", "/01/" + "0" * pad)
    m = _CPV.match(uri)
    if m:
        rest = uri[len(m.group(1)) + 4:]
        uri = m.group(1) + (rest[rest.index("/"):] if "/" in rest else "")
    m = _LOT_SERIAL.match(uri)
    if m:
        uri = m.group(1) + m.group(2)
    return uri if _ACCEPTED.match(uri) else None


def gs1_dl(uri: str) -> str | None:
    """The constrained canonical GS1 Digital Link of an EPC URI or Digital Link, or None if ``uri`` is
    neither (the value is then hashed as written)."""
    if uri.startswith("urn:epc:id:sgtin:"):
        return _fast_sgtin(uri[17:]) or _urn_dl(uri)
    if uri.startswith("urn:epc:"):
        return _urn_dl(uri)
    if "." not in uri or not uri.startswith("http"):
        return None
    return _web_dl(uri)



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


_DL_DECODE = {"%21": "!", "%28": "(", "%29": ")", "%2A": "*", "%2B": "+", "%2C": ",", "%3A": ":"}


def _urn_component(value: str) -> str:
    """A Digital Link path value as an EPC URN component (TDS 2.x §5: ``! ( ) * + , :`` are written
    as they are, ``" % & / < > ?`` stay escaped)."""
    for enc, ch in _DL_DECODE.items():
        value = value.replace(enc, ch).replace(enc.lower(), ch)
    return value


def dl_to_urn(uri: str, *, gcp_lengths: dict[str, int] | None = None) -> str:
    """A GS1 Digital Link URI as its EPC URI — SGTIN, LGTIN class, UPUI, SSCC, SGLN, PGLN, GRAI, GIAI,
    GSRN, GSRNP, GDTI, CPI, SGCN, GINC, GSIN, ITIP (TDS 2.x §6–7); ValidationError if it is none. The
    GS1 Company Prefix length comes from ``gcp_lengths`` (product master data), else GS1 China's table."""
    dl = canonical_dl(uri)
    m = _DL_RE.match(dl)
    if not m:
        raise ValidationError("不是GS1数字链接URI", code="not_digital_link")
    key = m.group(2)
    segs = m.group(3).split("/")
    value = segs[0]
    qualifier = segs[1] if len(segs) >= 3 else None
    qvalue = _urn_component(segs[2]) if len(segs) >= 3 else None

    def split(digits: str, start: int = 0) -> tuple[str, str]:
        n = gcp_length_for(digits[start:], gcp_lengths)
        return digits[start:start + n], digits[start + n:]

    if key == "01":
        _check_key(value, 14)
        cp, ref = split(value[:13], 1)
        item = value[0] + ref
        if qualifier == "21":
            return f"urn:epc:id:sgtin:{cp}.{item}.{qvalue}"
        if qualifier == "10":
            return f"urn:epc:class:lgtin:{cp}.{item}.{qvalue}"
        if qualifier == "235":
            return f"urn:epc:id:upui:{cp}.{item}.{qvalue}"
        return f"urn:epc:idpat:sgtin:{cp}.{item}.*"
    if key == "00":
        _check_key(value, 18)
        cp, ref = split(value[:17], 1)
        return f"urn:epc:id:sscc:{cp}.{value[0]}{ref}"
    if key in ("414", "417"):
        _check_key(value, 13)
        cp, ref = split(value[:12])
        if key == "417":
            return f"urn:epc:id:pgln:{cp}.{ref}"
        return f"urn:epc:id:sgln:{cp}.{ref}.{qvalue if qualifier == '254' else '0'}"
    if key in ("8018", "8017"):
        _check_key(value, 18)
        cp, ref = split(value[:17])
        return f"urn:epc:id:{'gsrn' if key == '8018' else 'gsrnp'}:{cp}.{ref}"
    if key == "402":
        _check_key(value, 17)
        cp, ref = split(value[:16])
        return f"urn:epc:id:gsin:{cp}.{ref}"
    if key in ("253", "255"):
        _check_key(value[:13], 13)
        cp, ref = split(value[:12])
        return f"urn:epc:id:{'gdti' if key == '253' else 'sgcn'}:{cp}.{ref}.{_urn_component(value[13:])}"
    if key == "8003":
        _check_key(value[1:14], 13)
        cp, ref = split(value[1:13])
        return f"urn:epc:id:grai:{cp}.{ref}.{_urn_component(value[14:])}"
    if key in ("8004", "401"):
        cp, ref = split(value)
        return f"urn:epc:id:{'giai' if key == '8004' else 'ginc'}:{cp}.{_urn_component(ref)}"
    if key == "8010" and qualifier == "8011":
        cp, ref = split(value)
        return f"urn:epc:id:cpi:{cp}.{ref}.{qvalue}"
    if key == "8006" and qualifier == "21":
        _check_key(value[:14], 14)
        cp, ref = split(value[:13], 1)
        return f"urn:epc:id:itip:{cp}.{value[0]}{ref}.{value[14:16]}.{value[16:18]}.{qvalue}"
    raise ValidationError("暂不支持该GS1标识的URN转换", code="unsupported_key")


# GS1 element strings (GS1 General Specifications §3): AI → fixed length of its value (None: variable,
# ended by FNC1/GS or the end). Only the AIs a drug/vaccine package or its logistics unit carries.
_AI_FIXED = {"00": 18, "01": 14, "02": 14, "11": 6, "12": 6, "13": 6, "15": 6, "16": 6, "17": 6, "20": 2,
             "410": 13, "411": 13, "412": 13, "413": 13, "414": 13, "415": 13, "416": 13, "417": 13,
             "402": 17, "8017": 18, "8018": 18}
_AI_VARIABLE = {"10", "21", "22", "235", "240", "241", "250", "251", "253", "254", "255", "30", "37", "400",
                "401", "403", "710", "711", "712", "713", "714", "7003", "8003", "8004", "8006", "8010", "8011",
                "8020", "90", "91", "92", "93", "94", "95", "96", "97", "98", "99"}
GS = "\x1d"


def parse_element_string(value: str) -> dict[str, str]:
    """A GS1 element string — human readable with parentheses ``(01)…(17)…(10)…(21)…`` or as scanned from
    a DataMatrix (optional ``]d2`` symbology identifier, FNC1 sent as GS ``\\x1d`` between variable-length
    values) — as {AI: value}; ValidationError if it is not one."""
    text = value.strip()
    out: dict[str, str] = {}
    if text.startswith("("):
        parts = re.findall(r"\((\d{2,4})\)([^(]*)", text)
        if not parts or "".join(f"({a}){v}" for a, v in parts) != text:
            raise ValidationError("GS1元素串格式不正确", code="invalid_element_string")
        for ai, v in parts:
            if ai not in _AI_FIXED and ai not in _AI_VARIABLE:
                raise ValidationError(f"不支持的应用标识符 ({ai})", code="unsupported_ai")
            if ai in _AI_FIXED and len(v) != _AI_FIXED[ai]:
                raise ValidationError(f"({ai}) 的长度应为 {_AI_FIXED[ai]}", code="invalid_element_string")
            out[ai] = v
        return out
    for prefix in ("]d2", "]C1", "]Q3", "]e0"):
        if text.startswith(prefix):
            text = text[len(prefix):]
    text = text.lstrip(GS)
    pos = 0
    while pos < len(text):
        ai = next((text[pos:pos + n] for n in (2, 3, 4)
                   if text[pos:pos + n] in _AI_FIXED or text[pos:pos + n] in _AI_VARIABLE), None)
        if ai is None:
            raise ValidationError("无法识别的应用标识符", code="unsupported_ai")
        pos += len(ai)
        if ai in _AI_FIXED:
            v = text[pos:pos + _AI_FIXED[ai]]
            if len(v) != _AI_FIXED[ai]:
                raise ValidationError(f"({ai}) 的长度应为 {_AI_FIXED[ai]}", code="invalid_element_string")
            pos += len(v)
            if text[pos:pos + 1] == GS:
                pos += 1
        else:
            end = text.find(GS, pos)
            end = len(text) if end < 0 else end
            v = text[pos:end]
            pos = end + 1
        out[ai] = v
    if not out:
        raise ValidationError("GS1元素串为空", code="invalid_element_string")
    return out


_DL_ENCODE = str.maketrans({c: f"%{ord(c):02X}" for c in "!\"#%&'()*+,/:;<=>?@[]"})


def element_string_to_dl(value: str) -> str:
    """The canonical Digital Link of an element string: (01)+(21) SGTIN, (01)+(10) lot, (00) SSCC,
    (414)+(254) location, (8018) GSRN …; the serial is kept when both lot and serial are present."""
    ais = parse_element_string(value)
    for key in ("01", "00", "414", "417", "8018", "8017", "402", "253", "255", "8003", "8004", "401"):
        if key in ais:
            v = ais[key]
            if key in ("01", "00", "414", "417", "8018", "8017", "402"):
                _check_key(v, _AI_FIXED[key])
            uri = f"{DL_ROOT}/{key}/{v}"
            for q in ({"01": ("21", "10", "235"), "414": ("254",)}.get(key, ())):
                if q in ais:
                    return f"{uri}/{q}/{ais[q].translate(_DL_ENCODE)}"
            return uri
    raise ValidationError("元素串中没有GS1主标识（01、00、414…）", code="no_primary_key")


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
    if value.startswith(("(", "]d2", "]C1", GS)) or (value[:2] in ("01", "00") and len(value) > 20
                                                      and not value.startswith(("urn:", "http"))):
        return normalize_epc(element_string_to_dl(value))
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
