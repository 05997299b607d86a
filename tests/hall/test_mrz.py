"""ICAO Doc 9303 MRZs: the specimens printed in the standard, every check digit, and a one-character
change in each field named in the error.

Specimens (Doc 9303, 8th edition, 2021), the fictitious state Utopia's documents of ANNA MARIA ERIKSSON:
TD3 — Part 4 (MRPs), Appendix A, specimen passport data page; TD1 — Part 5, Appendix A, specimen card;
TD2 — Part 6, Appendix A, specimen card.
"""

import datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from smartgov.hall import mrz

TODAY = datetime.date(2026, 6, 1)
TD3 = ["P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<",
       "L898902C36UTO7408122F1204159ZE184226B<<<<<10"]
TD1 = ["I<UTOD231458907<<<<<<<<<<<<<<<",
       "7408122F1204159UTO<<<<<<<<<<<6",
       "ERIKSSON<<ANNA<MARIA<<<<<<<<<<"]
TD2 = ["I<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<",
       "D231458907UTO7408122F1204159<<<<<<<6"]


def parse(lines):
    return mrz.parse("\n".join(lines), today=TODAY)


def test_check_digit_examples_of_part_3():
    # Part 3 §4.9 worked example: the date 520727 has check digit 3; the specimens' own fields
    assert mrz.check_digit("520727") == "3"
    assert mrz.check_digit("L898902C3") == "6"
    assert mrz.check_digit("D23145890") == "7"
    assert mrz.check_digit("740812") == "2"
    assert mrz.check_digit("120415") == "9"
    assert mrz.check_digit("ZE184226B<<<<<") == "1"


@pytest.mark.parametrize(("lines", "fmt", "number", "code"), [(TD3, "TD3", "L898902C3", "P"),
                                                              (TD1, "TD1", "D23145890", "I"),
                                                              (TD2, "TD2", "D23145890", "I")])
def test_specimens_of_the_standard(lines, fmt, number, code):
    m = parse(lines)
    assert (m.format, m.document_code, m.issuing_state, m.nationality) == (fmt, code, "UTO", "UTO")
    assert (m.surname, m.given_names, m.document_number, m.sex) == ("ERIKSSON", "ANNA MARIA", number, "F")
    assert (m.birth_date, m.expiry_date) == (datetime.date(1974, 8, 12), datetime.date(2012, 4, 15))
    if fmt == "TD3":
        assert m.optional_data == "ZE184226B"


# (line, start, end, field the error must name) — every field of each layout
FIELDS = {
    "TD3": [(0, 0, 1, "document_code"), (0, 2, 5, "issuing_state"), (0, 5, 13, "name"),
            (1, 0, 9, "document_number"), (1, 9, 10, "document_number"), (1, 10, 13, "nationality"),
            (1, 13, 19, "birth_date"), (1, 19, 20, "birth_date"), (1, 20, 21, "sex"), (1, 21, 27, "expiry_date"),
            (1, 27, 28, "expiry_date"), (1, 28, 37, "optional_data"), (1, 42, 43, "optional_data"),
            (1, 43, 44, "composite")],
    "TD1": [(0, 0, 1, "document_code"), (0, 2, 5, "issuing_state"), (0, 5, 14, "document_number"),
            (0, 14, 15, "document_number"), (0, 15, 30, "composite"), (1, 0, 6, "birth_date"), (1, 6, 7, "birth_date"),
            (1, 7, 8, "sex"), (1, 8, 14, "expiry_date"), (1, 14, 15, "expiry_date"), (1, 15, 18, "nationality"),
            (1, 18, 29, "composite"), (1, 29, 30, "composite"), (2, 0, 20, "name")],
    "TD2": [(0, 0, 1, "document_code"), (0, 2, 5, "issuing_state"), (0, 5, 25, "name"),
            (1, 0, 9, "document_number"), (1, 9, 10, "document_number"), (1, 10, 13, "nationality"),
            (1, 13, 19, "birth_date"), (1, 19, 20, "birth_date"), (1, 20, 21, "sex"), (1, 21, 27, "expiry_date"),
            (1, 27, 28, "expiry_date"), (1, 28, 35, "composite"), (1, 35, 36, "composite")],
}
SPECIMENS = {"TD3": TD3, "TD1": TD1, "TD2": TD2}


def _other(c: str, fld: str) -> str:
    """A different character that still fits the field's alphabet, so only a check digit can tell.

    Weights 7, 3, 1 are prime to 10, so a substitution is caught exactly when the two characters' values
    differ by other than a multiple of 10 (L=21 for B=11 is not: a limit of the standard, not of us)."""
    if fld in ("name", "issuing_state", "nationality", "document_code", "sex"):
        return "1"  # a digit where only letters belong: no check digit protects these fields
    pool = "0123456789" if c.isdigit() or c == "<" else "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
    return next(o for o in pool if (mrz.char_value(o) - mrz.char_value(c)) % 10)


def _cases():
    for fmt, spans in FIELDS.items():
        for line, start, end, fld in spans:
            for pos in range(start, end):
                yield fmt, line, pos, fld


@pytest.mark.parametrize(("fmt", "line", "pos", "fld"), list(_cases()))
def test_one_character_change_in_each_field_is_named(fmt, line, pos, fld):
    lines = list(SPECIMENS[fmt])
    text = lines[line]
    lines[line] = text[:pos] + _other(text[pos], fld) + text[pos + 1:]
    with pytest.raises(mrz.MRZError) as exc:
        parse(lines)
    assert fld in exc.value.detail, (fmt, line, pos, exc.value.detail)


def test_wrong_shape_and_characters():
    with pytest.raises(mrz.MRZError) as exc:
        parse([TD3[0], TD3[1][:-1]])
    assert "format" in exc.value.detail
    with pytest.raises(mrz.MRZError) as exc:
        parse([TD3[0].replace("<", " ", 1), TD3[1]])
    assert "format" in exc.value.detail


def test_long_document_number_of_td1_continues_in_the_optional_data():
    number = "D23145890123"
    check = mrz.check_digit(number)
    l1 = f"I<UTO{number[:9]}<{number[9:]}{check}<".ljust(30, "<")
    l2 = "7408122F1204159UTO<<<<<<<<<<<"
    l2 += mrz.check_digit(l1[5:30] + l2[0:7] + l2[8:15] + l2[18:29])
    assert parse([l1, l2, TD1[2]]).document_number == number


@settings(deadline=None)  # a loaded machine must not turn a slow example into a failure
@given(st.text(alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789<", min_size=1, max_size=20))
def test_check_digit_detects_every_single_character_change(data):
    """Weights 7-3-1 mod 10 catch any one substitution whose values differ mod 10 in value×weight."""
    d = mrz.check_digit(data)
    for i, c in enumerate(data):
        for other in "0123456789":
            if other != c and (mrz.char_value(other) - mrz.char_value(c)) * (7, 3, 1)[i % 3] % 10:
                assert mrz.check_digit(data[:i] + other + data[i + 1:]) != d
