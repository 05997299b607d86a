"""Display masking of personal information (个人信息脱敏/去标识化展示).

Used wherever personal data is shown to someone who does not need the full value
(lists, logs, receipts, notifications). Follows the usual 《个人信息保护法》 /
GB/T 35273《个人信息安全规范》 practice of showing only a prefix and a suffix.

Every function accepts ``None`` / empty / short input and never raises for it. The
generic rule (:func:`mask`) is: keep ``keep_start`` leading and ``keep_end`` trailing
characters when at least ``min_hidden`` characters remain hidden; otherwise the value
is too short for that pattern and at most ``len(value) // 2`` characters are revealed.
The masked output has the same length as the input (one ``*`` per hidden character).
"""

from __future__ import annotations

from typing import Final

from django.core.exceptions import ValidationError

from smartgov.core.validators import normalize_mobile

__all__ = ["mask", "mask_id_number", "mask_name", "mask_phone"]

MASK_CHAR: Final = "*"


def mask(
    value: str | None,
    keep_start: int = 0,
    keep_end: int = 0,
    *,
    min_hidden: int = 4,
    char: str = MASK_CHAR,
) -> str:
    """Mask the middle of ``value`` (通用脱敏), keeping ``keep_start`` + ``keep_end`` characters.

    If fewer than ``min_hidden`` characters would be hidden (the value is short for the
    requested pattern), the revealed characters are cut down to at most half of the
    value, shared between start and end in proportion to ``keep_start``/``keep_end``
    (start rounded up). ``mask("abc", 1, 1)`` → ``"a**"``; ``mask("", 3, 4)`` → ``""``.
    """
    if keep_start < 0 or keep_end < 0 or min_hidden < 0:
        raise ValueError("keep_start, keep_end and min_hidden must be non-negative")
    if not value:
        return ""
    n = len(value)
    start, end = keep_start, keep_end
    if n - start - end < max(min_hidden, 1):
        budget = n // 2
        wanted = start + end
        if wanted > budget:
            start = min(keep_start, -(-budget * keep_start // wanted))  # ceil
            end = min(keep_end, budget - start)
    hidden = n - start - end
    return value[:start] + char * hidden + value[n - end :]


def mask_id_number(value: str | None) -> str:
    """Mask a 公民身份号码: keep the 6-digit 地址码 and the last 4 characters.

    ``"110105194912310021"`` → ``"110105********0021"`` (hides the birth date).
    """
    return mask((value or "").strip(), 6, 4)


def mask_phone(value: str | None) -> str:
    """Mask a phone number (手机号码脱敏): keep the first 3 and last 4 digits.

    A valid mainland mobile number is normalised first, so ``"+86 138-1234-5678"``
    and ``"13812345678"`` both become ``"138****5678"``; anything else is masked as-is.
    """
    text = (value or "").strip()
    try:
        text = normalize_mobile(text)
    except ValidationError:
        pass
    return mask(text, 3, 4)


def mask_name(value: str | None) -> str:
    """Mask a personal name (姓名脱敏): keep the first character only.

    ``"张三丰"`` → ``"张**"``, ``"张三"`` → ``"张*"``; a one-character name is fully
    masked. Names are short, so :func:`mask`'s half-rule applies.
    """
    return mask((value or "").strip(), 1, 0)
