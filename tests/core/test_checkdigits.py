from hypothesis import given
from hypothesis import strategies as st

from smartgov.core.checkdigits import ALNUM36, is_valid_luhn, is_valid_mod37_36, iso7064_mod37_36, luhn_digit

body = st.text(alphabet=ALNUM36, min_size=4, max_size=40)


@given(body, st.data())
def test_mod37_36_detects_every_single_substitution(text, data):
    full = text + iso7064_mod37_36(text)
    assert is_valid_mod37_36(full)
    i = data.draw(st.integers(0, len(full) - 1))
    other = data.draw(st.sampled_from([c for c in ALNUM36 if c != full[i]]))
    assert not is_valid_mod37_36(full[:i] + other + full[i + 1:])


@given(body, st.data())
def test_mod37_36_detects_adjacent_transpositions(text, data):
    full = text + iso7064_mod37_36(text)
    i = data.draw(st.integers(0, len(full) - 2))
    if full[i] != full[i + 1]:
        assert not is_valid_mod37_36(full[:i] + full[i + 1] + full[i] + full[i + 2:])


def test_luhn_known_value_and_single_errors():
    assert luhn_digit("7992739871") == "3"  # the textbook example
    assert is_valid_luhn("79927398713") and not is_valid_luhn("79927398714")
