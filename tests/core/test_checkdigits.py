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


def test_mod37_36_detects_nearly_all_adjacent_transpositions():
    import random

    rnd = random.Random(36)
    caught = total = 0
    for _ in range(3000):
        text = "".join(rnd.choice(ALNUM36) for _ in range(12))
        full = text + iso7064_mod37_36(text)
        i = rnd.randrange(len(full) - 1)
        if full[i] != full[i + 1]:
            total += 1
            caught += not is_valid_mod37_36(full[:i] + full[i + 1] + full[i] + full[i + 2:])
    assert caught / total > 0.99  # ISO 7064 hybrid systems miss a small fraction of swaps


def test_luhn_known_value_and_single_errors():
    assert luhn_digit("7992739871") == "3"  # the textbook example
    assert is_valid_luhn("79927398713") and not is_valid_luhn("79927398714")
