"""Tests for smartgov.core.validators (身份证号码 / 统一社会信用代码 / 手机号码)."""

from __future__ import annotations

from datetime import date

import pytest
from django.core.exceptions import ValidationError
from hypothesis import given, settings
from hypothesis import strategies as st

from smartgov.core.validators import (
    PROVINCE_CODES,
    USCC_CHARSET,
    id_number_check_char,
    is_valid_id_number,
    is_valid_mobile,
    is_valid_uscc,
    normalize_mobile,
    org_code_check_char,
    parse_id_number,
    parse_uscc,
    uscc_check_char,
    validate_id_number,
    validate_mobile,
    validate_uscc,
)

# No example database: keeps the working tree clean and runs deterministic enough.
fast = settings(database=None, max_examples=100, deadline=None)

TODAY = date(2025, 6, 1)  # fixed "today" for birth-date bounds

# GB 11643-1999 附录A example: 北京市朝阳区, born 1949-12-31, female.
SAMPLE_ID = "11010519491231002X"


def reason_of(exc_info: pytest.ExceptionInfo[ValidationError]) -> str:
    return exc_info.value.params["reason"]


# ---------------------------------------------------------------------------
# 公民身份号码
# ---------------------------------------------------------------------------


class TestIdNumberExamples:
    def test_standard_sample_is_valid_and_parses(self) -> None:
        rid = parse_id_number(SAMPLE_ID)
        assert rid.region_code == "110105"
        assert rid.birth_date == date(1949, 12, 31)
        assert rid.sex == "F"  # 顺序码 002 is even
        assert rid.normalized == SAMPLE_ID
        assert rid.province == "北京市"
        assert is_valid_id_number(SAMPLE_ID)
        validate_id_number(SAMPLE_ID)  # does not raise

    def test_check_char_of_sample(self) -> None:
        assert id_number_check_char(SAMPLE_ID[:17]) == "X"

    def test_check_char_hand_computed(self) -> None:
        # Σ digit×weight for 12345678901234567 is 368; 368 mod 11 = 5 → "7".
        assert id_number_check_char("12345678901234567") == "7"

    @pytest.mark.parametrize(
        "raw", ["11010519491231002x", "  11010519491231002X\n", "１１０１０５１９４９１２３１００２ｘ"]
    )
    def test_lenient_input_is_normalised(self, raw: str) -> None:
        assert parse_id_number(raw).normalized == SAMPLE_ID

    def test_male_sequence(self) -> None:
        body = "32010219900307001"  # sequence 001 → odd → male
        rid = parse_id_number(body + id_number_check_char(body), today=TODAY)
        assert rid.sex == "M"
        assert rid.province == "江苏省"

    def test_age_on(self) -> None:
        rid = parse_id_number(SAMPLE_ID)
        assert rid.age_on(date(2025, 12, 30)) == 75
        assert rid.age_on(date(2025, 12, 31)) == 76

    def test_leap_day_birth(self) -> None:
        body = "44030420000229002"
        assert parse_id_number(body + id_number_check_char(body), today=TODAY).birth_date == date(2000, 2, 29)


def _with_check(body17: str) -> str:
    return body17 + id_number_check_char(body17)


class TestIdNumberErrors:
    @pytest.mark.parametrize(
        ("value", "reason"),
        [
            ("", "length"),
            ("110105491231002", "length"),  # first-generation 15-digit number
            (SAMPLE_ID[:17], "length"),
            (SAMPLE_ID + "1", "length"),
            ("1101051949123100AX", "format"),
            ("11010519491231002Y", "format"),
            ("11010519491231002-", "format"),
            ("X10105194912310021", "format"),
            (_with_check("00010519491231002"), "region"),
            (_with_check("99010519491231002"), "region"),
            (_with_check("83000019900101002"), "region"),  # 台湾居民居住证 without opt-in
            (_with_check("11010519490230002"), "birth_date"),  # 30 February
            (_with_check("11010519491301002"), "birth_date"),  # month 13
            (_with_check("11010518991231002"), "birth_date"),  # before 1900
            (_with_check("11010520250602002"), "birth_date"),  # after TODAY
            ("110105194912310021", "checksum"),
            ("110105194912310020", "checksum"),
        ],
    )
    def test_reason(self, value: str, reason: str) -> None:
        with pytest.raises(ValidationError) as exc_info:
            parse_id_number(value, today=TODAY)
        assert exc_info.value.code == "invalid_id_number"
        assert reason_of(exc_info) == reason
        assert not is_valid_id_number(value, today=TODAY)

    def test_messages_are_specific_and_chinese(self) -> None:
        expected = {
            "11010519491231002": "长度",
            _with_check("99010519491231002"): "地区码",
            _with_check("11010519490230002"): "出生日期",
            "110105194912310021": "校验码",
        }
        for value, word in expected.items():
            with pytest.raises(ValidationError) as exc_info:
                validate_id_number(value)
            assert word in exc_info.value.messages[0]

    def test_birth_today_allowed_tomorrow_not(self) -> None:
        born_today = _with_check("11010520250601001")
        assert parse_id_number(born_today, today=TODAY).birth_date == TODAY
        with pytest.raises(ValidationError):
            parse_id_number(born_today, today=date(2025, 5, 31))

    def test_earliest_birth_date(self) -> None:
        assert parse_id_number(_with_check("11010519000101001"), today=TODAY).birth_date == date(1900, 1, 1)

    def test_residence_permit_opt_in(self) -> None:
        value = _with_check("83000019900101002")
        assert parse_id_number(value, today=TODAY, allow_residence_permit=True).region_code == "830000"
        assert is_valid_id_number(value, allow_residence_permit=True)

    @pytest.mark.parametrize("value", [None, 11010519491231002, b"11010519491231002X"])
    def test_non_string_input(self, value: object) -> None:
        assert not is_valid_id_number(value)  # type: ignore[arg-type]
        with pytest.raises(ValidationError):
            validate_id_number(value)  # type: ignore[arg-type]

    @pytest.mark.parametrize(
        "bad", ["", "1234567890123456", "123456789012345678", "1234567890123456X", "١" * 17]
    )
    def test_check_char_helper_rejects_bad_input(self, bad: str) -> None:
        with pytest.raises(ValueError):
            id_number_check_char(bad)

    def test_province_table(self) -> None:
        # GB/T 2260 province-level codes, as listed in the brief.
        expected = [*range(11, 16), *range(21, 24), *range(31, 38), *range(41, 47)]
        expected += [*range(50, 55), *range(61, 66), 71, 81, 82]
        assert sorted(int(c) for c in PROVINCE_CODES) == expected
        assert all(PROVINCE_CODES.values())


@st.composite
def id_numbers(draw: st.DrawFn) -> tuple[str, str, date, str]:
    """A valid ID number plus the region, birth date and sex it was built from."""
    province = draw(st.sampled_from(sorted(PROVINCE_CODES)))
    region = province + draw(st.from_regex(r"[0-9]{4}", fullmatch=True))
    born = draw(st.dates(min_value=date(1900, 1, 1), max_value=TODAY))
    seq = draw(st.integers(min_value=0, max_value=999))
    body = f"{region}{born:%Y%m%d}{seq:03d}"
    return body + id_number_check_char(body), region, born, "M" if seq % 2 else "F"


class TestIdNumberProperties:
    @fast
    @given(id_numbers())
    def test_generated_numbers_are_valid_and_round_trip(self, case: tuple[str, str, date, str]) -> None:
        number, region, born, sex = case
        rid = parse_id_number(number, today=TODAY)
        assert (rid.region_code, rid.birth_date, rid.sex, rid.normalized) == (region, born, sex, number)
        # lowercase x is accepted and normalised
        assert parse_id_number(number.lower(), today=TODAY).normalized == number

    @fast
    @given(id_numbers(), st.integers(min_value=0, max_value=17), st.sampled_from("0123456789X"))
    def test_any_single_substitution_is_detected(
        self, case: tuple[str, str, date, str], pos: int, new: str
    ) -> None:
        number = case[0]
        if number[pos] == new:
            new = "0123456789X"[("0123456789X".index(new) + 1) % 11]
        mutated = number[:pos] + new + number[pos + 1 :]
        assert not is_valid_id_number(mutated, today=TODAY)
        if mutated[:17].isdigit():  # the MOD 11-2 check itself catches it, not just format/date rules
            assert id_number_check_char(mutated[:17]) != mutated[17]

    @fast
    @given(id_numbers(), st.integers(min_value=0, max_value=16))
    def test_any_adjacent_transposition_is_detected(self, case: tuple[str, str, date, str], pos: int) -> None:
        number = case[0]
        if number[pos] != number[pos + 1]:
            swapped = number[:pos] + number[pos + 1] + number[pos] + number[pos + 2 :]
            assert not is_valid_id_number(swapped, today=TODAY)
            if swapped[:17].isdigit():  # otherwise an X moved into the body: a format error
                assert id_number_check_char(swapped[:17]) != swapped[17]


# ---------------------------------------------------------------------------
# 统一社会信用代码
# ---------------------------------------------------------------------------

# Commonly cited sample; verified with our own implementation of both checks.
SAMPLE_USCC = "91350100M000100Y43"


def _make_uscc(prefix8: str, org_body8: str) -> str:
    first17 = prefix8 + org_body8 + org_code_check_char(org_body8)
    return first17 + uscc_check_char(first17)


class TestUsccExamples:
    def test_charset_is_gb32100(self) -> None:
        assert len(USCC_CHARSET) == 31
        assert not set(USCC_CHARSET) & set("IOZSV")
        assert "M" in USCC_CHARSET

    def test_cited_sample(self) -> None:
        code = parse_uscc(SAMPLE_USCC)
        assert (code.registration_authority, code.category) == ("9", "1")
        assert code.region_code == "350100"
        assert code.org_code == "M000100Y4"
        assert uscc_check_char(SAMPLE_USCC[:17]) == "3"
        assert org_code_check_char("M000100Y") == "4"
        assert is_valid_uscc(SAMPLE_USCC)
        validate_uscc(SAMPLE_USCC)

    def test_weights(self) -> None:
        # 3^i mod 31 for i = 0..16, as published in GB 32100-2015.
        weights = [1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28]
        first17 = "91350100M000100Y4"
        total = sum(USCC_CHARSET.index(c) * w for c, w in zip(first17, weights, strict=True))
        assert uscc_check_char(first17) == USCC_CHARSET[(31 - total % 31) % 31]

    def test_check_char_zero_when_sum_divisible(self) -> None:
        # All zeros: sum = 0 → 31 - 0 = 31 → "0".
        assert uscc_check_char("0" * 17) == "0"

    def test_org_code_check_special_values(self) -> None:
        # C9 = 11 - (Σ mod 11): remainder 1 → 10 → "X"; remainder 0 → 11 → "0".
        assert org_code_check_char("00000000") == "0"  # Σ = 0 → C9 = 11 → "0"
        assert org_code_check_char("00000006") == "X"  # Σ = 6×2 = 12 ≡ 1 → C9 = 10 → "X"
        assert org_code_check_char("00000001") == "9"  # Σ = 2 → C9 = 9
        assert org_code_check_char("A0000000") == "3"  # A = 10, Σ = 10×3 = 30 ≡ 8 → C9 = 3

    def test_lenient_input(self) -> None:
        assert parse_uscc(" 91350100m000100y43 ").normalized == SAMPLE_USCC

    def test_constructed_codes(self) -> None:
        for prefix, body in [("11100000", "00001312"), ("52440300", "MA5ABCDE"), ("Y1110108", "12345678")]:
            assert is_valid_uscc(_make_uscc(prefix, body))


class TestUsccErrors:
    @pytest.mark.parametrize(
        ("value", "reason"),
        [
            ("", "length"),
            (SAMPLE_USCC[:17], "length"),
            ("91350100I000100Y43", "format"),  # I is not used
            ("91350100O000100Y43", "format"),
            ("91350100M000100Z43", "format"),
            ("S1350100M000100Y43", "format"),
            ("91350100M000100V43", "format"),
            ("9135010-M000100Y43", "format"),
            ("9135A100M000100Y4" + uscc_check_char("9135A100M000100Y4"), "region"),
            ("91350100M000100Y53", "org_code"),
            ("91350100M000100Y44", "checksum"),
        ],
    )
    def test_reason(self, value: str, reason: str) -> None:
        with pytest.raises(ValidationError) as exc_info:
            parse_uscc(value)
        assert exc_info.value.code == "invalid_uscc"
        assert reason_of(exc_info) == reason
        assert not is_valid_uscc(value)

    def test_org_code_check_can_be_disabled(self) -> None:
        first17 = "91350100M000100Y5"  # wrong GB 11714 check char (should be 4)
        value = first17 + uscc_check_char(first17)
        assert not is_valid_uscc(value)
        assert is_valid_uscc(value, check_org_code=False)
        with pytest.raises(ValidationError) as exc_info:
            validate_uscc(value)
        assert "组织机构代码" in exc_info.value.messages[0]

    @pytest.mark.parametrize("bad", ["", "0" * 16, "I" * 17, "0" * 18])
    def test_check_char_helpers_reject_bad_input(self, bad: str) -> None:
        with pytest.raises(ValueError):
            uscc_check_char(bad)
        with pytest.raises(ValueError):
            org_code_check_char(bad)


@st.composite
def usccs(draw: st.DrawFn) -> str:
    chars = st.sampled_from(USCC_CHARSET)
    head = draw(chars) + draw(chars)
    region = draw(st.from_regex(r"[0-9]{6}", fullmatch=True))
    body = "".join(draw(st.lists(chars, min_size=8, max_size=8)))
    return _make_uscc(head + region, body)


class TestUsccProperties:
    @fast
    @given(usccs())
    def test_generated_codes_are_valid(self, code: str) -> None:
        parsed = parse_uscc(code.lower())
        assert parsed.normalized == code
        assert parsed.org_code == code[8:17]

    @fast
    @given(usccs(), st.integers(min_value=0, max_value=17), st.sampled_from(USCC_CHARSET))
    def test_any_single_substitution_is_detected(self, code: str, pos: int, new: str) -> None:
        if code[pos] == new:
            new = USCC_CHARSET[(USCC_CHARSET.index(new) + 1) % 31]
        mutated = code[:pos] + new + code[pos + 1 :]
        assert not is_valid_uscc(mutated)
        # MOD 31 alone already catches it, even without the embedded GB 11714 check.
        assert uscc_check_char(mutated[:17]) != mutated[17]

    @fast
    @given(usccs(), st.integers(min_value=0, max_value=16))
    def test_any_adjacent_transposition_is_detected(self, code: str, pos: int) -> None:
        if code[pos] != code[pos + 1]:
            swapped = code[:pos] + code[pos + 1] + code[pos] + code[pos + 2 :]
            assert not is_valid_uscc(swapped)
            assert uscc_check_char(swapped[:17]) != swapped[17]


# ---------------------------------------------------------------------------
# 手机号码
# ---------------------------------------------------------------------------


class TestMobile:
    @pytest.mark.parametrize(
        "raw",
        [
            "13812345678",
            "138 1234 5678",
            "138-1234-5678",
            "+8613812345678",
            "+86 138 1234 5678",
            "008613812345678",
            "0086-138-1234-5678",
            " 13812345678 ",
            "１３８１２３４５６７８",
        ],
    )
    def test_valid_forms_normalise(self, raw: str) -> None:
        assert normalize_mobile(raw) == "13812345678"
        assert is_valid_mobile(raw)
        validate_mobile(raw)

    @pytest.mark.parametrize("prefix", ["13", "14", "15", "16", "17", "18", "19"])
    def test_all_number_blocks(self, prefix: str) -> None:
        assert is_valid_mobile(prefix + "123456789")

    @pytest.mark.parametrize(
        "raw",
        [
            "",
            "1381234567",  # 10 digits
            "138123456789",  # 12 digits
            "12812345678",  # 12x is not a mobile block
            "10812345678",
            "23812345678",
            "1381234567a",
            "+8513812345678",
            "+86+8613812345678",
            "86 1381234567",
            "(138)12345678",
            "138.1234.5678",
        ],
    )
    def test_invalid(self, raw: str) -> None:
        assert not is_valid_mobile(raw)
        with pytest.raises(ValidationError) as exc_info:
            validate_mobile(raw)
        assert exc_info.value.code == "invalid_mobile"
        assert "手机号码" in exc_info.value.messages[0]

    def test_non_string(self) -> None:
        assert not is_valid_mobile(None)  # type: ignore[arg-type]
