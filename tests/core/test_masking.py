"""Tests for smartgov.core.masking (个人信息脱敏)."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from smartgov.core.masking import mask, mask_id_number, mask_name, mask_phone

fast = settings(database=None, max_examples=100, deadline=None)


class TestExamples:
    def test_id_number(self) -> None:
        assert mask_id_number("110105194912310021") == "110105********0021"
        assert mask_id_number("11010519491231002X") == "110105********002X"

    def test_phone(self) -> None:
        assert mask_phone("13812345678") == "138****5678"

    @pytest.mark.parametrize("raw", ["+86 138-1234-5678", "0086 13812345678", " 13812345678 "])
    def test_phone_is_normalised_first(self, raw: str) -> None:
        assert mask_phone(raw) == "138****5678"

    def test_landline_masked_as_is(self) -> None:
        assert mask_phone("010-12345678") == "010*****5678"

    @pytest.mark.parametrize(
        ("name", "masked"),
        [("张三丰", "张**"), ("张三", "张*"), ("欧阳娜娜", "欧***"), ("张", "*"), (" 李四 ", "李*")],
    )
    def test_name(self, name: str, masked: str) -> None:
        assert mask_name(name) == masked

    @pytest.mark.parametrize("func", [mask_id_number, mask_phone, mask_name])
    @pytest.mark.parametrize("empty", ["", None, "   "])
    def test_empty_input(self, func, empty: str | None) -> None:  # type: ignore[no-untyped-def]
        assert func(empty) == ""

    def test_generic(self) -> None:
        assert mask("abcdefghij", 2, 3) == "ab*****hij"
        assert mask("abcdefghij") == "**********"
        assert mask("abcdefghij", 2, 3, char="#") == "ab#####hij"

    @pytest.mark.parametrize(
        ("value", "keep_start", "keep_end", "expected"),
        [
            ("1381234", 3, 4, "13****4"),  # short phone: 3 of 7 revealed, shared 2:1
            ("138", 3, 4, "1**"),
            ("12", 3, 4, "1*"),
            ("1", 3, 4, "*"),
            ("110105", 6, 4, "11***5"),  # short ID: never more than half
            ("abcdefgh", 2, 3, "ab****gh"),  # would hide only 3 < min_hidden 4 → reveal 4 of 8
            ("abcdefghi", 2, 3, "ab****ghi"),  # hides 4 = min_hidden: the pattern applies
        ],
    )
    def test_short_values_reveal_at_most_half(
        self, value: str, keep_start: int, keep_end: int, expected: str
    ) -> None:
        assert mask(value, keep_start, keep_end) == expected

    def test_min_hidden_is_configurable(self) -> None:
        assert mask("abcdefgh", 2, 3, min_hidden=3) == "ab***fgh"

    def test_negative_keep_rejected(self) -> None:
        with pytest.raises(ValueError):
            mask("abc", -1, 0)


NO_STAR = st.text(alphabet=st.characters(blacklist_characters="*"), max_size=40)


def _kept(out: str) -> tuple[int, int]:
    """(leading, trailing) characters left unmasked in ``out``."""
    first, last = out.index("*"), out.rindex("*")
    return first, len(out) - 1 - last


class TestProperties:
    @fast
    @given(
        NO_STAR,
        st.integers(min_value=0, max_value=12),
        st.integers(min_value=0, max_value=12),
        st.integers(min_value=0, max_value=8),
    )
    def test_mask_invariants(self, value: str, keep_start: int, keep_end: int, min_hidden: int) -> None:
        out = mask(value, keep_start, keep_end, min_hidden=min_hidden)
        n = len(value)
        assert len(out) == n
        if n == 0:
            assert out == ""
            return
        start, end = _kept(out)  # raises if nothing was masked: a non-empty value is never shown whole
        assert set(out[start : n - end]) == {"*"}
        assert out[:start] == value[:start]
        assert out[n - end :] == value[n - end :]
        assert start <= keep_start
        assert end <= keep_end
        if n - keep_start - keep_end < max(min_hidden, 1):
            assert start + end <= n // 2, "a short value never reveals more than half"
        else:
            assert (start, end) == (keep_start, keep_end)

    @fast
    @given(NO_STAR.filter(lambda s: s.strip()))
    def test_names_reveal_at_most_half(self, name: str) -> None:
        out = mask_name(name)
        stripped = name.strip()
        assert len(out) == len(stripped)
        start, end = _kept(out)
        assert end == 0
        assert start == min(1, len(stripped) // 2)
