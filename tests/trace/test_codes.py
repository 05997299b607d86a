import pytest
from django.core.exceptions import ValidationError

from smartgov.trace import codes


def test_sgtin_urn_and_digital_link_convert_both_ways():
    urn = "urn:epc:id:sgtin:0614141.107346.2017"
    dl = "https://id.gs1.org/01/10614141073464/21/2017"
    assert codes.urn_to_dl(urn) == dl
    assert codes.dl_to_urn(dl, gcp_lengths={"0614141": 7}) == urn


def test_sscc_sgln_and_pgln_convert_both_ways():
    # extension digit 1, company prefix 4012345, serial reference 112223334, check digit
    sscc = "14012345112223334" + codes.gs1_check_digit("14012345112223334")
    assert codes.urn_to_dl("urn:epc:id:sscc:4012345.1112223334") == f"https://id.gs1.org/00/{sscc}"
    assert codes.dl_to_urn(f"https://id.gs1.org/00/{sscc}", gcp_lengths={"4012345": 7}) == \
        "urn:epc:id:sscc:4012345.1112223334"
    assert codes.urn_to_dl("urn:epc:id:sgln:0614141.07346.1234") == "https://id.gs1.org/414/0614141073467/254/1234"
    assert codes.urn_to_dl("urn:epc:id:sgln:4012345.00022.0") == "https://id.gs1.org/414/4012345000221"
    assert codes.dl_to_urn("https://id.gs1.org/414/4012345000221", gcp_lengths={"4012345": 7}) == \
        "urn:epc:id:sgln:4012345.00022.0"
    assert codes.urn_to_dl("urn:epc:id:pgln:4012345.00000") == "https://id.gs1.org/417/4012345000009"


def test_chinese_company_prefix_lengths_decide_the_urn_split():
    gtin = "0692123456789" + codes.gs1_check_digit("0692123456789")
    assert codes.dl_to_urn(f"https://id.gs1.org/01/{gtin}/21/7") == "urn:epc:id:sgtin:69212345.06789.7"


def test_digital_link_is_constrained_to_id_gs1_org_without_query():
    assert codes.canonical_dl("https://example.com/shop/01/10614141073464/21/2017?linkType=all") == \
        "https://id.gs1.org/01/10614141073464/21/2017"


def test_digital_link_with_wrong_check_digit_is_rejected():
    with pytest.raises(ValidationError):
        codes.dl_to_urn("https://id.gs1.org/01/10614141073465/21/2017")


def test_nmpa_code_splits_into_product_serial_and_check(db):
    serial = "000000123"
    check = codes.nmpa_check("8612345", serial)
    code = codes.parse_nmpa("8612345" + serial + check)
    assert (code.product_code, code.serial, code.check) == ("8612345", serial, check)
    assert codes.is_genuine_nmpa(code.code)
    forged = "8612345" + serial + f"{(int(check) + 1) % 10000:04d}"
    assert not codes.is_genuine_nmpa(forged)


@pytest.mark.parametrize("value", ["", "123", "86123450000001231234x", "(01)10614141073465(21)1"])
def test_malformed_codes_are_refused(value):
    with pytest.raises(ValidationError):
        codes.parse_any(value)


def test_codes_typed_by_people_are_understood():
    assert codes.parse_any("(01)10614141073464(21)2017") == "https://id.gs1.org/01/10614141073464/21/2017"
    assert codes.parse_any("urn:epc:id:sgtin:0614141.107346.2017") == "https://id.gs1.org/01/10614141073464/21/2017"
    assert codes.parse_any("86123450000001231234") == "urn:nmpa:tc:86123450000001231234"


# --------------------------------------------------------------------------- GS1 reference vectors

def _dl_vectors():
    import json
    import pathlib

    data = json.loads((pathlib.Path(__file__).parent / "data" / "gs1_dl_reference.json").read_text())
    return sorted(data["vectors"].items())


@pytest.mark.parametrize(("given", "expected"), _dl_vectors())
def test_canonical_digital_link_agrees_with_the_gs1_reference_normaliser(given, expected):
    from smartgov.trace.codes import canonical_dl, gs1_dl

    assert gs1_dl(given) == expected
    assert canonical_dl(given) == (expected or given)


def _urn_round_trips():
    return [(urn, dl) for urn, dl in _dl_vectors()
            if dl and urn.startswith(("urn:epc:id:", "urn:epc:class:lgtin:")) and ".." not in urn]


@pytest.mark.parametrize(("urn", "dl"), _urn_round_trips())
def test_every_scheme_converts_back_from_the_reference_digital_link(urn, dl):
    """GSRN, GSRNP, SGCN, GSIN, CPI, UPUI, ITIP, GINC … both ways: the Digital Link is the reference
    normaliser's, the URN the one it was made from (the company prefix length read off that URN)."""
    body = urn.split(":", 4)[4]
    gcp = body.split(".")[0]
    back = codes.dl_to_urn(dl, gcp_lengths={gcp if not dl.startswith("https://id.gs1.org/01/") else
                                            dl[23:23 + len(gcp)]: len(gcp)})
    assert back == urn


VECTORS = dict(_dl_vectors())


def test_lot_plus_serial_link_keeps_the_serial():
    lot_and_serial = "https://id.gs1.org/01/09506000134352/10/ABC123/21/12345"
    assert codes.canonical_dl(lot_and_serial) == VECTORS[lot_and_serial] == \
        "https://id.gs1.org/01/09506000134352/21/12345"
    assert codes.dl_to_urn(lot_and_serial, gcp_lengths={"9506000": 7}) == "urn:epc:id:sgtin:9506000.013435.12345"


def test_ai82_characters_are_percent_encoded_in_the_link_and_plain_in_the_urn():
    urn = "urn:epc:id:sgtin:9506000.013435.AB!C"
    assert codes.canonical_dl(urn) == VECTORS[urn] == "https://id.gs1.org/01/09506000134352/21/AB%21C"
    assert codes.dl_to_urn(VECTORS[urn], gcp_lengths={"9506000": 7}) == urn
    sgln = "urn:epc:id:sgln:9506000.13435.ABC:1"
    assert codes.canonical_dl(sgln) == VECTORS[sgln]


@pytest.mark.parametrize("scanned", [
    "(01)09506000134352(17)260101(10)ABC123(21)12345",
    "]d2010950600013435217260101" + "10ABC123\x1d" + "2112345",   # DataMatrix: FNC1 as GS after the lot
    "\x1d010950600013435217260101" + "10ABC123\x1d" + "2112345",
    "01095060001343521726010110ABC123\x1d2112345",
])
def test_element_strings_with_parentheses_or_fnc1_are_read(scanned):
    assert codes.parse_element_string(scanned) == {"01": "09506000134352", "17": "260101", "10": "ABC123",
                                                   "21": "12345"}
    # lot and serial: the serial identifies the pack (the reference's canonical link of /10/…/21/…)
    assert codes.parse_any(scanned) == VECTORS["https://id.gs1.org/01/09506000134352/10/ABC123/21/12345"]


@pytest.mark.parametrize("bad", ["(01)0950600013435(21)1", "(99", "(01)09506000134353(21)1", "]d2\x1d"])
def test_malformed_element_strings_are_refused(bad):
    with pytest.raises(ValidationError):
        codes.parse_any(bad)
