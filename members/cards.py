"""Member card drawing: an EAN-13 barcode as inline SVG (for the card PDF and HTML pages)."""
from itertools import groupby

from barcode import EAN13

from .barcodes import is_valid_ean13

QUIET_LEFT = 11  # modules of white before the start guard (GS1 minimum)
QUIET_RIGHT = 7  # modules of white after the end guard
GUARD_EXTRA = 5  # guard bars run this many modules below the others
TEXT_BAND = 9  # modules under the bars that hold the human-readable digits
FONT_SIZE = 8  # modules
LEFT_HALF_START = QUIET_LEFT + 3  # first module of the left-hand digits (after the 101 start guard)
RIGHT_HALF_START = LEFT_HALF_START + 6 * 7 + 5  # after the left digits and the 01010 centre guard


def ean13_modules(code: str) -> str:
    """The 95 modules of an EAN-13 symbol: `1` bar, `G` guard bar, `0` space.

    The L/G/R patterns and the parity set by the first digit come from python-barcode.
    """
    if not isinstance(code, str) or not is_valid_ean13(code):
        raise ValueError(f"not a valid EAN-13 code: {code!r}")
    symbol = EAN13(code[:12], guardbar=True)
    encoded = "".join(c for c in symbol.get_fullcode() if c.isdigit())
    if encoded != code:  # pragma: no cover - guards against a library change
        raise ValueError(f"python-barcode encoded {encoded} for {code}")
    modules = symbol.build()[0]
    if len(modules) != 95:  # pragma: no cover
        raise ValueError("an EAN-13 symbol has 95 modules")
    return modules


def _num(value: float) -> str:
    return f"{value:.3f}".rstrip("0").rstrip(".")


def ean13_svg(code: str, *, module_mm: float = 0.33, height_mm: float = 15) -> str:
    """An inline `<svg>` of the scannable EAN-13 barcode `code`, quiet zones and digits included.

    The drawing is in module units (viewBox) and sized in millimetres: `module_mm` is the X
    dimension (0.33 mm is the 100 % size) and `height_mm` the height of the ordinary bars. Each
    dark bar is one `<rect class="bar">` (guard bars also carry `guard` and run longer).
    """
    modules = ean13_modules(code)
    if module_mm <= 0 or height_mm <= 0:
        raise ValueError("the module width and the bar height must be positive")
    bar_height = height_mm / module_mm
    width = QUIET_LEFT + 95 + QUIET_RIGHT
    height = bar_height + TEXT_BAND

    rects = []
    position = 0
    for module, run in groupby(modules):
        length = len(list(run))
        if module != "0":
            guard = module == "G"
            rects.append(
                f'<rect class="bar{" guard" if guard else ""}" x="{QUIET_LEFT + position}" y="0" '
                f'width="{length}" height="{_num(bar_height + (GUARD_EXTRA if guard else 0))}"/>'
            )
        position += length

    baseline = _num(bar_height + TEXT_BAND - 1.5)
    digits = [(QUIET_LEFT - 4, code[0])]
    digits += [(LEFT_HALF_START + 7 * i + 3.5, d) for i, d in enumerate(code[1:7])]
    digits += [(RIGHT_HALF_START + 7 * i + 3.5, d) for i, d in enumerate(code[7:])]
    texts = [f'<text x="{_num(x)}" y="{baseline}">{d}</text>' for x, d in digits]

    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" class="ean13" role="img" aria-label="{code}" '
        f'width="{_num(width * module_mm)}mm" height="{_num(height * module_mm)}mm" '
        f'viewBox="0 0 {width} {_num(height)}" shape-rendering="crispEdges">'
        f'<rect class="bg" x="0" y="0" width="{width}" height="{_num(height)}" fill="#fff"/>'
        f'<g fill="#000">{"".join(rects)}</g>'
        f'<g fill="#000" font-family="DejaVu Sans Mono, monospace" font-size="{FONT_SIZE}" '
        f'text-anchor="middle">{"".join(texts)}</g>'
        "</svg>"
    )
