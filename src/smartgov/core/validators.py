"""Validators for Chinese identifiers used across SmartGov (证件号码校验).

Three identifiers are covered, each as pure functions plus a Django-compatible
validator callable (usable in ``Field(validators=[...])``; module-level functions so
migrations can serialise them by reference):

* 公民身份号码 (resident identity number), GB 11643-1999;
* 统一社会信用代码 (unified social credit code, USCC), GB 32100-2015, whose
  主体标识码 is a 组织机构代码 (organisation code) per GB 11714-1997;
* 中国大陆手机号码 (mainland mobile number).

Validator failures raise :class:`django.core.exceptions.ValidationError` with a Chinese
message, a stable ``code`` (``invalid_id_number``, ``invalid_uscc``, ``invalid_mobile``)
and ``params={"reason": ...}`` naming the failed rule, so API callers can branch on
``error.code`` / ``error.params["reason"]`` without parsing the message.

The Django validators accept the same lenient input as the parsers (surrounding
whitespace, full-width digits, lowercase ``x``/letters, ``+86`` prefixes); store the
canonical form (``parse_id_number(v).normalized``, ``parse_uscc(v).normalized``,
``normalize_mobile(v)``) in ``clean()`` so equal identifiers compare equal.

Messages are plain ``str`` (not ``gettext_lazy``) so that this module works without
Django settings being configured.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from types import MappingProxyType
from typing import Final, Literal

from django.core.exceptions import ValidationError

__all__ = [
    "PROVINCE_CODES",
    "USCC_CHARSET",
    "ResidentId",
    "UnifiedSocialCreditCode",
    "id_number_check_char",
    "is_valid_id_number",
    "is_valid_mobile",
    "is_valid_uscc",
    "normalize_mobile",
    "org_code_check_char",
    "parse_id_number",
    "parse_uscc",
    "uscc_check_char",
    "validate_id_number",
    "validate_mobile",
    "validate_uscc",
]

# 北京时间 (UTC+8, no DST since 1991): "today" for birth-date checks is China's today,
# whatever the server's TZ is.
CHINA_TZ: Final = timezone(timedelta(hours=8), "Asia/Shanghai")

_ASCII_DIGITS: Final = frozenset("0123456789")


def _clean(value: object) -> str | None:
    """Return ``value`` NFKC-normalised and stripped, or ``None`` if it is not a string.

    NFKC turns full-width input typed with a Chinese IME (``１１０１``) into ASCII.
    """
    if not isinstance(value, str):
        return None
    return unicodedata.normalize("NFKC", value).strip()


# ---------------------------------------------------------------------------
# 公民身份号码 — GB 11643-1999
# ---------------------------------------------------------------------------

#: Province-level codes (省级行政区划代码, the first two digits of an address code)
#: from GB/T 2260《中华人民共和国行政区划代码》. GB 11643-1999「地址码」says the
#: address code follows GB/T 2260. Only the province level is checked; the county
#: list changes every year and old numbers keep their historical county codes.
PROVINCE_CODES: Final[Mapping[str, str]] = MappingProxyType(
    {
        "11": "北京市",
        "12": "天津市",
        "13": "河北省",
        "14": "山西省",
        "15": "内蒙古自治区",
        "21": "辽宁省",
        "22": "吉林省",
        "23": "黑龙江省",
        "31": "上海市",
        "32": "江苏省",
        "33": "浙江省",
        "34": "安徽省",
        "35": "福建省",
        "36": "江西省",
        "37": "山东省",
        "41": "河南省",
        "42": "湖北省",
        "43": "湖南省",
        "44": "广东省",
        "45": "广西壮族自治区",
        "46": "海南省",
        "50": "重庆市",
        "51": "四川省",
        "52": "贵州省",
        "53": "云南省",
        "54": "西藏自治区",
        "61": "陕西省",
        "62": "甘肃省",
        "63": "青海省",
        "64": "宁夏回族自治区",
        "65": "新疆维吾尔自治区",
        "71": "台湾省",
        "81": "香港特别行政区",
        "82": "澳门特别行政区",
    }
)

#: 港澳台居民居住证 numbers use the same format with address code 810000 / 820000 /
#: 830000 (《港澳台居民居住证申领发放办法》). 83 is not a GB/T 2260 code, so it is
#: accepted only when a caller opts in with ``allow_residence_permit=True``.
_RESIDENCE_PERMIT_PREFIX: Final = "83"

# GB 11643-1999「校验码」: ISO 7064:1983 MOD 11-2. Weight of the i-th character
# (i = 1..17 from the left) is 2^(18-i) mod 11, i.e. 2^(n-1) mod 11 where n is the
# position counted from the right with the check character at n = 1.
_ID_WEIGHTS: Final = tuple(pow(2, 17 - i, 11) for i in range(17))
# Character for (sum mod 11) = 0..10; equivalent to (12 - sum mod 11) mod 11, 10 → X.
_ID_CHECK_CHARS: Final = "10X98765432"

_ID_EARLIEST_BIRTH: Final = date(1900, 1, 1)

_ID_CODE: Final = "invalid_id_number"
_ID_MESSAGES: Final[Mapping[str, str]] = MappingProxyType(
    {
        "length": "身份证号码长度不正确，应为18位。",
        "format": "身份证号码格式不正确：前17位应为数字，最后一位应为数字或X。",
        "region": "身份证号码地区码不正确。",
        "birth_date": "身份证号码中的出生日期不正确。",
        "checksum": "身份证号码校验码不正确，请核对后重新输入。",
    }
)


def _id_error(reason: str) -> ValidationError:
    return ValidationError(_ID_MESSAGES[reason], code=_ID_CODE, params={"reason": reason})


@dataclass(frozen=True, slots=True)
class ResidentId:
    """A parsed 公民身份号码 (resident identity number).

    ``region_code`` is the 6-digit 地址码, ``sex`` comes from the parity of the
    顺序码 (odd = "M" 男, even = "F" 女), ``normalized`` is the 18-character number
    with an uppercase ``X``.
    """

    region_code: str
    birth_date: date
    sex: Literal["M", "F"]
    normalized: str

    @property
    def province(self) -> str:
        """Province-level name (省级行政区) for the first two digits of the address code."""
        return PROVINCE_CODES.get(self.region_code[:2], "")

    def age_on(self, on: date) -> int:
        """Full years of age (周岁) on ``on``."""
        before_birthday = (on.month, on.day) < (self.birth_date.month, self.birth_date.day)
        return on.year - self.birth_date.year - before_birthday


def id_number_check_char(first17: str) -> str:
    """Compute the 校验码 (check character) for the 17-digit 本体码 of an ID number.

    GB 11643-1999「校验码」, ISO 7064:1983 MOD 11-2. Raises ``ValueError`` unless
    ``first17`` is exactly 17 ASCII digits.
    """
    if len(first17) != 17 or not set(first17) <= _ASCII_DIGITS:
        raise ValueError("first17 must be exactly 17 ASCII digits")
    total = sum(int(ch) * w for ch, w in zip(first17, _ID_WEIGHTS, strict=True))
    return _ID_CHECK_CHARS[total % 11]


def parse_id_number(
    value: str, *, today: date | None = None, allow_residence_permit: bool = False
) -> ResidentId:
    """Parse and validate an 18-character 公民身份号码 (GB 11643-1999).

    Surrounding whitespace is ignored, full-width characters are folded to ASCII and
    a lowercase ``x`` check character is accepted; ``normalized`` holds the canonical
    form. ``today`` (default: today in Beijing time) bounds the birth date from above.
    ``allow_residence_permit`` additionally accepts the 83xxxx address code of
    台湾居民居住证 (81/82 are already GB/T 2260 codes).

    Raises ``ValidationError`` (code ``invalid_id_number``) whose
    ``params["reason"]`` is one of ``length``, ``format``, ``region``, ``birth_date``,
    ``checksum`` — checked in that order.
    """
    text = _clean(value)
    if text is None:
        raise _id_error("format")
    # GB 11643-1999「号码的结构」: 17-digit 本体码 + 1 check character = 18 characters.
    # (First-generation 15-digit numbers are no longer valid identity documents.)
    if len(text) != 18:
        raise _id_error("length")
    text = text.upper()
    body, check = text[:17], text[17]
    if not set(body) <= _ASCII_DIGITS or (check not in _ASCII_DIGITS and check != "X"):
        raise _id_error("format")

    # 「地址码」: positions 1-6, GB/T 2260 administrative division code.
    region_code = body[:6]
    province = region_code[:2]
    if province not in PROVINCE_CODES and not (
        allow_residence_permit and province == _RESIDENCE_PERMIT_PREFIX
    ):
        raise _id_error("region")

    # 「出生日期码」: positions 7-14, YYYYMMDD per GB/T 7408, no separators.
    try:
        birth = date(int(body[6:10]), int(body[10:12]), int(body[12:14]))
    except ValueError:
        raise _id_error("birth_date") from None
    if today is None:
        today = datetime.now(CHINA_TZ).date()
    if not (_ID_EARLIEST_BIRTH <= birth <= today):
        raise _id_error("birth_date")

    # 「校验码」: position 18, ISO 7064:1983 MOD 11-2 over positions 1-17.
    if id_number_check_char(body) != check:
        raise _id_error("checksum")

    # 「顺序码」: positions 15-17; odd numbers are assigned to men, even to women.
    sex: Literal["M", "F"] = "M" if int(body[16]) % 2 else "F"
    return ResidentId(region_code=region_code, birth_date=birth, sex=sex, normalized=text)


def is_valid_id_number(
    value: str, *, today: date | None = None, allow_residence_permit: bool = False
) -> bool:
    """Return whether ``value`` is a valid 公民身份号码 (never raises); see :func:`parse_id_number`."""
    try:
        parse_id_number(value, today=today, allow_residence_permit=allow_residence_permit)
    except ValidationError:
        return False
    return True


def validate_id_number(value: str) -> None:
    """Django validator for 公民身份号码; raises ``ValidationError(code="invalid_id_number")``."""
    parse_id_number(value)


# ---------------------------------------------------------------------------
# 统一社会信用代码 — GB 32100-2015 (+ 组织机构代码, GB 11714-1997)
# ---------------------------------------------------------------------------

#: GB 32100-2015「代码字符集」: digits and uppercase Latin letters except I, O, Z, S, V
#: (31 characters). A character's value is its index here (0-30).
USCC_CHARSET: Final = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_USCC_VALUES: Final[Mapping[str, int]] = MappingProxyType({ch: i for i, ch in enumerate(USCC_CHARSET)})
# GB 32100-2015「校验码」: weighted sum modulo 31; weight of position
# i (i = 1..17) is 3^(i-1) mod 31 → 1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28.
_USCC_WEIGHTS: Final = tuple(pow(3, i, 31) for i in range(17))

# GB 11714-1997「校验码」: C9 = 11 - MOD(Σ Ci×Wi, 11), i = 1..8, with these weights and
# character values 0-9 → 0-9, A-Z → 10-35; C9 = 10 → "X", C9 = 11 → "0".
_ORG_WEIGHTS: Final = (3, 7, 9, 10, 5, 8, 4, 2)
_ORG_BODY_CHARS: Final = frozenset("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ")

_USCC_CODE: Final = "invalid_uscc"
_USCC_MESSAGES: Final[Mapping[str, str]] = MappingProxyType(
    {
        "length": "统一社会信用代码长度不正确，应为18位。",
        "format": "统一社会信用代码包含非法字符（只能使用数字和除I、O、Z、S、V以外的大写字母）。",
        "region": "统一社会信用代码中的登记管理机关行政区划码（第3至8位）应为数字。",
        "org_code": "统一社会信用代码中的组织机构代码（第9至17位）校验不正确。",
        "checksum": "统一社会信用代码校验码不正确，请核对后重新输入。",
    }
)


def _uscc_error(reason: str) -> ValidationError:
    return ValidationError(_USCC_MESSAGES[reason], code=_USCC_CODE, params={"reason": reason})


@dataclass(frozen=True, slots=True)
class UnifiedSocialCreditCode:
    """A parsed 统一社会信用代码 (GB 32100-2015「代码结构」).

    ``registration_authority`` = 登记管理部门代码 (position 1), ``category`` = 机构类别代码
    (position 2), ``region_code`` = 登记管理机关行政区划码 (positions 3-8),
    ``org_code`` = 主体标识码/组织机构代码 (positions 9-17). The authority and category
    tables are maintained by the code centre and grow over time, so they are not
    checked against a fixed list.
    """

    registration_authority: str
    category: str
    region_code: str
    org_code: str
    normalized: str


def uscc_check_char(first17: str) -> str:
    """Compute the 校验码 (18th character) of a 统一社会信用代码 from its first 17 characters.

    GB 32100-2015「校验码」: C18 = 31 - MOD(Σ Ci×Wi, 31), with 31 written as "0".
    Raises ``ValueError`` unless ``first17`` is 17 characters of :data:`USCC_CHARSET`.
    """
    if len(first17) != 17 or not set(first17) <= _USCC_VALUES.keys():
        raise ValueError("first17 must be 17 characters from USCC_CHARSET")
    total = sum(_USCC_VALUES[ch] * w for ch, w in zip(first17, _USCC_WEIGHTS, strict=True))
    return USCC_CHARSET[(31 - total % 31) % 31]


def org_code_check_char(body8: str) -> str:
    """Compute the 校验码 of a 组织机构代码 from its 8-character 本体代码 (GB 11714-1997).

    Raises ``ValueError`` unless ``body8`` is 8 ASCII digits / uppercase letters.
    """
    if len(body8) != 8 or not set(body8) <= _ORG_BODY_CHARS:
        raise ValueError("body8 must be 8 ASCII digits or uppercase letters")
    total = sum(int(ch, 36) * w for ch, w in zip(body8, _ORG_WEIGHTS, strict=True))
    c9 = 11 - total % 11
    return {10: "X", 11: "0"}.get(c9, str(c9))


def parse_uscc(value: str, *, check_org_code: bool = True) -> UnifiedSocialCreditCode:
    """Parse and validate a 统一社会信用代码 (GB 32100-2015).

    Whitespace is stripped, full-width characters folded and letters upper-cased.
    ``check_org_code`` also verifies the GB 11714 check character embedded at
    position 17 (on by default; every genuine code we checked satisfies it).

    Raises ``ValidationError`` (code ``invalid_uscc``) with ``params["reason"]`` one of
    ``length``, ``format``, ``region``, ``org_code``, ``checksum``.
    """
    text = _clean(value)
    if text is None:
        raise _uscc_error("format")
    # GB 32100-2015「代码结构」: 18 characters.
    if len(text) != 18:
        raise _uscc_error("length")
    text = text.upper()
    # 「代码字符集」: no I, O, Z, S, V.
    if not set(text) <= _USCC_VALUES.keys():
        raise _uscc_error("format")
    # Positions 3-8: 登记管理机关行政区划码 (GB/T 2260, digits; 100000 for national level).
    region_code = text[2:8]
    if not set(region_code) <= _ASCII_DIGITS:
        raise _uscc_error("region")
    # Positions 9-17: 主体标识码 = 组织机构代码 (GB 11714-1997), its own check at 17.
    org_code = text[8:17]
    if check_org_code and org_code_check_char(org_code[:8]) != org_code[8]:
        raise _uscc_error("org_code")
    # Position 18: 校验码.
    if uscc_check_char(text[:17]) != text[17]:
        raise _uscc_error("checksum")
    return UnifiedSocialCreditCode(
        registration_authority=text[0],
        category=text[1],
        region_code=region_code,
        org_code=org_code,
        normalized=text,
    )


def is_valid_uscc(value: str, *, check_org_code: bool = True) -> bool:
    """Return whether ``value`` is a valid 统一社会信用代码 (never raises)."""
    try:
        parse_uscc(value, check_org_code=check_org_code)
    except ValidationError:
        return False
    return True


def validate_uscc(value: str) -> None:
    """Django validator for 统一社会信用代码; raises ``ValidationError(code="invalid_uscc")``."""
    parse_uscc(value)


# ---------------------------------------------------------------------------
# 手机号码 — mainland China mobile numbers
# ---------------------------------------------------------------------------

# 11 digits, 1 + [3-9] + 9 digits (the 13x-19x number blocks allocated by MIIT).
_MOBILE_RE: Final = re.compile(r"1[3-9][0-9]{9}", re.ASCII)
_MOBILE_SEPARATORS: Final = re.compile(r"[\s\-]+")
_MOBILE_CODE: Final = "invalid_mobile"
_MOBILE_MESSAGE: Final = "请输入有效的11位中国大陆手机号码。"


def normalize_mobile(value: str) -> str:
    """Return the bare 11-digit form of a 中国大陆手机号码.

    Spaces and hyphens are removed and an optional ``+86`` / ``0086`` country prefix
    is dropped: ``"+86 138-1234-5678"`` → ``"13812345678"``. Raises
    ``ValidationError(code="invalid_mobile")`` for anything else.
    """
    text = _clean(value)
    if text is None:
        raise ValidationError(_MOBILE_MESSAGE, code=_MOBILE_CODE)
    text = _MOBILE_SEPARATORS.sub("", text)
    for prefix in ("+86", "0086"):
        if text.startswith(prefix):
            text = text[len(prefix) :]
            break
    if not _MOBILE_RE.fullmatch(text):
        raise ValidationError(_MOBILE_MESSAGE, code=_MOBILE_CODE)
    return text


def is_valid_mobile(value: str) -> bool:
    """Return whether ``value`` is a valid 中国大陆手机号码 (never raises)."""
    try:
        normalize_mobile(value)
    except ValidationError:
        return False
    return True


def validate_mobile(value: str) -> None:
    """Django validator for 手机号码; raises ``ValidationError(code="invalid_mobile")``."""
    normalize_mobile(value)
