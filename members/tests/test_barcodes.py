"""EAN-13 card barcodes and member number display (DOMAIN.md §1, §6 scans). Pure, no database."""
import pytest

from members.barcodes import (
    associate_barcode,
    card_code,
    ean13_check_digit,
    format_member_number,
    is_valid_ean13,
    member_barcode,
    normalize_card_code,
)

# Published EAN-13 codes (product packaging, GS1 and Wikipedia examples, ISBN-13 example).
PUBLISHED_EAN13 = [
    "4006381333931",  # Stabilo pen, the Wikipedia EAN-13 illustration
    "5901234123457",  # GS1 example
    "9780306406157",  # ISBN-13 example
    "0012345678905",  # UPC-A 012345678905 as EAN-13
    "4000417025005",  # Ritter Sport
    "3017620422003",  # Nutella 400 g
]


@pytest.mark.parametrize("code", PUBLISHED_EAN13)
def test_check_digit_matches_published_ean13_codes(code):
    assert ean13_check_digit(code[:12]) == code[12]


@pytest.mark.parametrize("code", PUBLISHED_EAN13)
def test_published_ean13_codes_are_valid(code):
    assert is_valid_ean13(code) is True


@pytest.mark.parametrize("code", PUBLISHED_EAN13)
def test_any_other_check_digit_is_invalid(code):
    for digit in "0123456789":
        if digit != code[12]:
            assert is_valid_ean13(code[:12] + digit) is False


def test_check_digit_is_zero_when_weighted_sum_is_a_multiple_of_ten():
    # 0421 00000001: 0 + 4*3 + 2 + 1*3 + 1*3 = 20 -> check digit 0, not 10.
    assert ean13_check_digit("042100000001") == "0"


@pytest.mark.parametrize("body", ["", "12345678901", "1234567890123", "12345678901a", " 12345678901"])
def test_check_digit_refuses_a_body_that_is_not_12_digits(body):
    with pytest.raises(ValueError):
        ean13_check_digit(body)


@pytest.mark.parametrize("code", ["", "400638133393", "40063813339310", "400638133393a", "4006381333931 "])
def test_malformed_codes_are_not_valid_ean13(code):
    assert is_valid_ean13(code) is False


@pytest.mark.parametrize(
    ("number", "barcode"),
    [
        (1, "0420000000013"),  # 0+12+2+3 = 17 -> 3
        (42, "0420000000426"),  # 0+12+2+4+6 = 24 -> 6
        (123456, "0420001234561"),  # 0+12+2+0+0+0+1+6+3+12+5+18 = 59 -> 1
        (99_999_999, "0420999999992"),
    ],
)
def test_member_barcode_is_0420_then_number_on_8_digits_then_check_digit(number, barcode):
    assert member_barcode(number) == barcode
    assert is_valid_ean13(barcode)


@pytest.mark.parametrize(
    ("number", "barcode"),
    [
        (1, "0421000000010"),
        (42, "0421000000423"),
    ],
)
def test_associate_barcode_is_0421_then_number_on_8_digits_then_check_digit(number, barcode):
    assert associate_barcode(number) == barcode
    assert is_valid_ean13(barcode)


@pytest.mark.parametrize("number", [0, -1, 100_000_000])
def test_card_numbers_outside_8_digits_are_refused(number):
    with pytest.raises(ValueError):
        member_barcode(number)
    with pytest.raises(ValueError):
        associate_barcode(number)


@pytest.mark.parametrize("code", ["0420000000013", "0421000000010", " 0420000000426\n"])
def test_13_digit_card_barcodes_normalise_to_themselves(code):
    assert normalize_card_code(code) == code.strip()


@pytest.mark.parametrize(
    ("scan", "barcode"),
    [
        ("420000000013", "0420000000013"),
        ("421000000010", "0421000000010"),
        ("420000000426", "0420000000426"),
    ],
)
def test_12_digit_scan_starting_420_or_421_gets_its_leading_zero_back(scan, barcode):
    assert normalize_card_code(scan) == barcode


@pytest.mark.parametrize(
    "code",
    [
        "",
        None,
        "0420000000014",  # wrong check digit
        "420000000014",  # 12-digit scan, wrong check digit
        "5901234123457",  # valid EAN-13, not a card prefix
        "590123412345",  # 12 digits, not starting 420/421
        "0422000000017",  # valid EAN-13 with prefix 0422
        "42000000001",  # 11 digits
        "04200000000130",  # 14 digits
        "04200000000a3",  # a letter
        "000001",  # a member number is not a card barcode
    ],
)
def test_malformed_or_foreign_codes_are_rejected(code):
    assert normalize_card_code(code) is None


def test_0422_prefix_code_in_rejection_case_is_otherwise_valid_ean13():
    # Guards the case above: it is refused for its prefix, not its check digit.
    assert is_valid_ean13("0422000000017")


@pytest.mark.parametrize(
    ("number", "shown"),
    [(1, "000001"), (42, "000042"), (999_999, "999999"), (1_234_567, "1234567")],
)
def test_member_numbers_are_shown_zero_padded_to_6_digits(number, shown):
    assert format_member_number(number) == shown


@pytest.mark.parametrize(
    ("scan", "card"),
    [
        ("0420000000013", "0420000000013"),  # issued here
        ("420000000013", "0420000000013"),  # leading 0 dropped
        ("5901234123457", "5901234123457"),  # kept from a previous system (CONTRACT.md §7)
        ("036000291452", "0036000291452"),  # a 12-digit (UPC-A) scan of a kept card
        (" 2990000000019 ", "2990000000019"),
    ],
)
def test_card_code_takes_any_valid_ean13_and_12_digit_scans(scan, card):
    assert card_code(scan) == card


@pytest.mark.parametrize("code", ["", None, "5901234123458", "000001", "42", "59012341234570", "590123412345a"])
def test_card_code_refuses_bad_check_digits_and_other_codes(code):
    assert card_code(code) is None
