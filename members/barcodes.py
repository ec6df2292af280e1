"""EAN-13 card barcodes (DOMAIN.md §1). Pure functions."""

MEMBER_PREFIX = "0420"
ASSOCIATE_PREFIX = "0421"


def ean13_check_digit(first12: str) -> str:
    """Check digit of a 12-digit EAN-13 body: weights 1,3,1,3... from the left."""
    if len(first12) != 12 or not first12.isdigit():
        raise ValueError("an EAN-13 body is 12 digits")
    total = sum(int(d) * (3 if i % 2 else 1) for i, d in enumerate(first12))
    return str((10 - total % 10) % 10)


def is_valid_ean13(code: str) -> bool:
    return len(code) == 13 and code.isdigit() and ean13_check_digit(code[:12]) == code[12]


def _card(prefix: str, number: int) -> str:
    if not 1 <= number <= 99_999_999:
        raise ValueError("card numbers run from 1 to 99,999,999")
    body = f"{prefix}{number:08d}"
    return body + ean13_check_digit(body)


def member_barcode(member_number: int) -> str:
    """`0420` + member number on 8 digits + check digit."""
    return _card(MEMBER_PREFIX, member_number)


def associate_barcode(associate_number: int) -> str:
    """`0421` + associate number on 8 digits + check digit."""
    return _card(ASSOCIATE_PREFIX, associate_number)


def normalize_card_code(code: str) -> str | None:
    """A scanned card barcode as its 13-digit form, or None when it is not a valid card barcode.

    Scanners that drop the leading 0 send 12 digits starting with 420 or 421 (DOMAIN.md §6).
    """
    code = (code or "").strip()
    if len(code) == 12 and code.isdigit() and code[:3] in ("420", "421"):
        code = "0" + code
    if is_valid_ean13(code) and code[:4] in (MEMBER_PREFIX, ASSOCIATE_PREFIX):
        return code
    return None


def card_code(code: str) -> str | None:
    """A scanned code as the 13-digit card barcode it can be, or None.

    Any valid EAN-13 can be a card: cards issued here (`0420`/`0421`), and the codes a coop kept
    from its previous system (CONTRACT.md §7). A 12-digit scan is an EAN-13 whose leading 0 the
    scanner dropped (DOMAIN.md §6). Member numbers (at most 8 digits) are never card codes.
    """
    code = (code or "").strip()
    if len(code) == 12 and code.isdigit():
        code = "0" + code
    return code if is_valid_ean13(code) else None


def format_member_number(number: int) -> str:
    """Member numbers are shown zero-padded to 6 digits."""
    return f"{number:06d}"
