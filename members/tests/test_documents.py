"""The membership certificate and the member card PDFs, and the EAN-13 drawing on the card."""
import datetime
import io
import logging
import xml.etree.ElementTree as ET

import pytest
from django.conf import settings
from pypdf import PdfReader

from coopmarket.pdf import LocalOnlyURLFetcher
from members import services
from members.barcodes import ean13_check_digit, member_barcode
from members.cards import ean13_svg
from members.documents import render_card, render_certificate
from members.models import ShareClass, ShareSubscription

JOINED = datetime.date(2024, 3, 5)
ISSUED = datetime.date(2025, 1, 15)
MM = 72 / 25.4  # points per millimetre


# --- an EAN-13 decoder written from the GS1 tables, independent of the code under test ---------

L_CODES = {
    "0001101": "0", "0011001": "1", "0010011": "2", "0111101": "3", "0100011": "4",
    "0110001": "5", "0101111": "6", "0111011": "7", "0110111": "8", "0001011": "9",
}
R_CODES = {pattern.translate(str.maketrans("01", "10")): digit for pattern, digit in L_CODES.items()}
G_CODES = {pattern[::-1]: digit for pattern, digit in R_CODES.items()}
FIRST_DIGIT = {
    "LLLLLL": "0", "LLGLGG": "1", "LLGGLG": "2", "LLGGGL": "3", "LGLLGG": "4",
    "LGGLLG": "5", "LGGGLL": "6", "LGLGLG": "7", "LGLGGL": "8", "LGGLGL": "9",
}
SVG_NS = "{http://www.w3.org/2000/svg}"


def decode_svg(svg: str) -> dict:
    """Read the bars of the SVG back into digits, as a scanner would read the modules."""
    root = ET.fromstring(svg)
    view_width = float(root.get("viewBox").split()[2])
    bars = sorted(
        (float(r.get("x")), float(r.get("width")), float(r.get("height")))
        for r in root.iter(f"{SVG_NS}rect")
        if "bar" in r.get("class", "").split()
    )
    module = min(width for _x, width, _h in bars)  # the guard bars are one module wide
    origin = bars[0][0]
    modules = ["0"] * 95
    for x, width, _height in bars:
        start, length = (x - origin) / module, width / module
        assert abs(start - round(start)) < 1e-6 and abs(length - round(length)) < 1e-6
        for i in range(round(start), round(start + length)):
            modules[i] = "1"  # an IndexError here means the symbol is wider than 95 modules
    modules = "".join(modules)
    assert modules[:3] == "101", "start guard"
    assert modules[45:50] == "01010", "centre guard"
    assert modules[92:] == "101", "end guard"
    left = [modules[3 + 7 * i : 10 + 7 * i] for i in range(6)]
    right = [modules[50 + 7 * i : 57 + 7 * i] for i in range(6)]
    parity, digits = "", ""
    for pattern in left:
        if pattern in L_CODES:
            parity, digits = parity + "L", digits + L_CODES[pattern]
        else:
            parity, digits = parity + "G", digits + G_CODES[pattern]  # KeyError: not a valid left digit
    digits = FIRST_DIGIT[parity] + digits + "".join(R_CODES[pattern] for pattern in right)
    last_bar_end = bars[-1][0] + bars[-1][1]
    return {
        "digits": digits,
        "quiet_left": origin / module,
        "quiet_right": (view_width - last_bar_end) / module,
        "heights": {round((x - origin) / module): height for x, _w, height in bars},
        "text": "".join(t.text for t in root.iter(f"{SVG_NS}text")),
    }


def pdf_text(pdf: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)


# --- fixtures ------------------------------------------------------------------------------------


@pytest.fixture
def member(db):
    return services.member_create(
        first_name="Marie-Amélie", last_name="Delacroix", email="marie@example.org", joined_on=JOINED
    )


@pytest.fixture
def no_weasyprint_warnings(caplog):
    """Fails the test if WeasyPrint warns (missing font, refused fetch, harfbuzz subset...)."""
    caplog.set_level(logging.WARNING, logger="weasyprint")
    yield
    warnings = [r.getMessage() for r in caplog.records if r.name.startswith("weasyprint") and r.levelno >= logging.WARNING]
    assert warnings == []


# --- the EAN-13 drawing ----------------------------------------------------------------------------


@pytest.mark.parametrize("first", "0123456789")
def test_barcode_bars_decode_back_to_the_code_for_every_parity(first):
    body = f"{first}42000012345"[:12]
    code = body + ean13_check_digit(body)
    decoded = decode_svg(ean13_svg(code))
    assert decoded["digits"] == code
    assert decoded["text"] == code


def test_member_card_barcode_has_quiet_zones_longer_guards_and_millimetre_size():
    code = member_barcode(1234)
    svg = ean13_svg(code, module_mm=0.33, height_mm=15)
    decoded = decode_svg(svg)
    assert decoded["digits"] == code == "0420000012344"
    assert decoded["quiet_left"] >= 11
    assert decoded["quiet_right"] >= 7
    heights = decoded["heights"]
    guards = {0, 2, 46, 48, 92, 94}
    assert guards <= heights.keys()
    # guard bars run below the digit bars
    assert min(heights[g] for g in guards) > max(h for start, h in heights.items() if start not in guards)
    root = ET.fromstring(svg)
    assert root.get("width") == f"{(11 + 95 + 7) * 0.33:g}mm"
    assert not svg.startswith("<?xml")  # embeddable inline in HTML


@pytest.mark.parametrize("code", ["0420000012348", "042000001234", "04200000123470", "04200000l2347", "", "abc"])
def test_invalid_barcode_raises_value_error(code):
    with pytest.raises(ValueError):
        ean13_svg(code)


# --- the PDFs ----------------------------------------------------------------------------------


@pytest.mark.django_db
def test_certificate_names_the_member_and_the_shares_held(member, no_weasyprint_warnings):
    class_a = ShareClass.objects.get(code="A")
    services.share_subscribe(member=member, share_class=class_a, quantity=12, payment_method="cash", today=JOINED)
    # 5 more A shares in 5 instalments: 10.00 paid of 50.00
    services.share_subscribe(
        member=member, share_class=class_a, quantity=5, payment_method="transfer", today=JOINED, instalments=5
    )
    # shares marked for redemption are not held any more
    redeemed = services.share_subscribe(member=member, share_class=class_a, quantity=3, payment_method="cash", today=JOINED)
    ShareSubscription.objects.filter(pk=redeemed.pk).update(redemption_requested_on=ISSUED)

    pdf = render_certificate(member, today=ISSUED)

    assert pdf.startswith(b"%PDF-")
    text = pdf_text(pdf)
    assert "Certificate of membership" in text
    assert settings.COOP_NAME in text
    assert "Marie-Amélie Delacroix" in text
    assert "000001" in text
    assert "March 5, 2024" in text  # joined
    assert "Jan. 15, 2025" in text  # issued
    assert "Parts A – coopérateur 17 10.00 € 170.00 € 130.00 €" in text  # the migrated French name
    assert "Total 17 170.00 € 130.00 €" in text
    assert "40.00 € remain to be paid" in text
    assert "200.00" not in text and " 20 " not in text  # the 3 redeemed shares are not counted


@pytest.mark.django_db
def test_certificate_of_a_member_without_shares_says_so(member):
    text = pdf_text(render_certificate(member, today=ISSUED))
    assert "No shares held." in text
    assert "Total" not in text


@pytest.mark.django_db
def test_card_is_one_id1_page_with_name_number_and_barcode_digits(member, no_weasyprint_warnings):
    pdf = render_card(member)

    reader = PdfReader(io.BytesIO(pdf))
    assert len(reader.pages) == 1
    box = reader.pages[0].mediabox
    assert float(box.width) == pytest.approx(85.60 * MM, abs=0.5)
    assert float(box.height) == pytest.approx(53.98 * MM, abs=0.5)
    text = reader.pages[0].extract_text()
    assert settings.COOP_NAME in text
    assert "Marie-Amélie Delacroix" in text
    assert "000001" in text
    assert "".join(ch for ch in text if ch.isdigit()).endswith(member.card_barcode)


@pytest.mark.django_db
def test_card_with_a_very_long_name_still_fits_one_page(db):
    member = services.member_create(
        first_name="Anne-Marie-Christine-Bérénice", last_name="de La Tour d'Auvergne-Lauraguais-Montmorency",
        email="long@example.org", joined_on=JOINED,
    )
    assert len(PdfReader(io.BytesIO(render_card(member))).pages) == 1


# --- no network for PDFs ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "url", ["http://example.org/logo.png", "https://example.org/font.woff2", "ftp://example.org/x", "file:///etc/passwd"]
)
def test_pdf_fetcher_refuses_the_network_and_files_outside_the_static_files(url):
    with pytest.raises(ValueError):
        LocalOnlyURLFetcher().fetch(url)


def test_pdf_fetcher_reads_static_files_but_not_templates():
    with pytest.raises(ValueError):
        LocalOnlyURLFetcher().fetch((settings.BASE_DIR / "templates" / "members" / "pdf" / "card.html").as_uri())
    response = LocalOnlyURLFetcher().fetch((settings.BASE_DIR / "static" / "coopmarket" / "site.css").as_uri())
    try:
        assert response.read()
    finally:
        response.close()
