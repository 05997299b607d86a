"""Check characters (校验码) shared by identifiers across apps."""

ALNUM36 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"


def iso7064_mod37_36(text: str) -> str:
    """ISO/IEC 7064 hybrid system MOD 37,36 check character over 0-9A-Z (used by GB/T 36904 licence
    identifiers and by our EID identifiers). Detects every single substitution and nearly every adjacent
    swap of two different characters."""
    m = 36
    p = m
    for ch in text.upper():
        s = (p + ALNUM36.index(ch)) % m or m
        p = (2 * s) % (m + 1)
    return ALNUM36[(m + 1 - p) % m]


def is_valid_mod37_36(text: str) -> bool:
    text = text.upper()
    return len(text) >= 2 and all(c in ALNUM36 for c in text) and iso7064_mod37_36(text[:-1]) == text[-1]


def luhn_digit(digits: str) -> str:
    """Luhn (ISO/IEC 7812-1 annex B) check digit, for numeric identifiers people type (VIDs)."""
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch)
        if i % 2 == 0:
            d *= 2
            d -= 9 if d > 9 else 0
        total += d
    return str((10 - total % 10) % 10)


def is_valid_luhn(number: str) -> bool:
    return number.isdigit() and len(number) >= 2 and luhn_digit(number[:-1]) == number[-1]
