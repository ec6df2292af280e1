"""Barcode drawings for shelf labels: EAN-13 for barcoded products, Code 128 for the internal
codes of loose goods. python-barcode draws the SVG; pages and PDFs embed it as a `data:` image
(allowed by the CSP's img-src and by the PDF helper's local-only fetcher)."""
import base64
import io

from barcode import EAN13, Code128
from barcode.writer import SVGWriter

from .codes import is_valid_ean13

OPTIONS = {"module_width": 0.3, "module_height": 9.0, "font_size": 7, "text_distance": 3.0, "quiet_zone": 2.5}


def barcode_svg(code: str) -> bytes:
    """The SVG document of `code`: EAN-13 when it is a valid one, else Code 128."""
    if not code:
        raise ValueError("no code to draw")
    symbol = EAN13(code[:12], writer=SVGWriter()) if is_valid_ean13(code) else Code128(code, writer=SVGWriter())
    if is_valid_ean13(code) and symbol.get_fullcode() != code:  # pragma: no cover - guards a library change
        raise ValueError(f"python-barcode encoded {symbol.get_fullcode()} for {code}")
    buffer = io.BytesIO()
    symbol.write(buffer, options=OPTIONS)
    return buffer.getvalue()


def barcode_data_uri(code: str) -> str:
    return "data:image/svg+xml;base64," + base64.b64encode(barcode_svg(code)).decode("ascii")
