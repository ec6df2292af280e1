"""Product codes (DOMAIN.md §7): EAN-13 barcodes with their check digit, or internal codes for
loose goods. Pure functions; the check digit comes from python-barcode."""
import re

from barcode import EAN13

INTERNAL_CODE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,31}$")


def ean13_check_digit(body: str) -> str:
    """The check digit of a 12-digit EAN-13 body."""
    if len(body) != 12 or not body.isdigit():
        raise ValueError("an EAN-13 body is 12 digits")
    return str(EAN13(body).calculate_checksum())


def is_valid_ean13(code: str) -> bool:
    """13 digits whose last one is the check digit of the first twelve."""
    return (
        isinstance(code, str) and len(code) == 13 and code.isascii() and code.isdigit()
        and ean13_check_digit(code[:12]) == code[12]
    )


def is_valid_internal_code(code: str) -> bool:
    """An internal code for loose goods: 1-32 letters, digits, `-`, `_` or `.`, not a barcode."""
    return isinstance(code, str) and bool(INTERNAL_CODE.match(code)) and not (len(code) == 13 and code.isdigit())
