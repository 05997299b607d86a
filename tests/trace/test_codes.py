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
