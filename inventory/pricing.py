"""Sale prices (DOMAIN.md §7). Pure functions on Decimals: no database, no clock, no floats.

    sale price = cost price x (1 + margin) x (1 + VAT), rounded half-up to the cent.

Margins and VAT rates are percents (`Decimal("20")` is 20 %). The margin is the coop-wide rate
unless the product's category overrides it. Labels also show the price per kg or per litre.
"""
from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

CENT = Decimal("0.01")
HUNDRED = Decimal(100)
VAT_RATES = (Decimal("5.5"), Decimal("10"), Decimal("20"))

PIECE, KG, LITRE = "piece", "kg", "l"


def to_decimal(value) -> Decimal:
    """A Decimal from a Decimal, int or numeric string; floats are refused (they are not exact)."""
    if isinstance(value, Decimal):
        return value
    if isinstance(value, bool) or isinstance(value, float):
        raise TypeError("prices are Decimals, never floats or booleans")
    return Decimal(value)


def round_cents(amount: Decimal) -> Decimal:
    """Half-up to the cent: 3.165 -> 3.17, 3.164 -> 3.16 (never banker's rounding)."""
    return to_decimal(amount).quantize(CENT, rounding=ROUND_HALF_UP)


def effective_margin(coop_margin, category_margin=None) -> Decimal:
    """The margin that applies: the category's override when it has one, else the coop-wide rate."""
    return to_decimal(category_margin if category_margin is not None else coop_margin)


def is_allowed_vat(vat_rate) -> bool:
    try:
        return to_decimal(vat_rate) in VAT_RATES
    except (TypeError, ArithmeticError, ValueError):
        return False


def sale_price(cost_price, margin, vat_rate) -> Decimal:
    """Cost x (1 + margin %) x (1 + VAT %), computed exactly, then rounded half-up to the cent."""
    cost, margin, vat = to_decimal(cost_price), to_decimal(margin), to_decimal(vat_rate)
    if cost < 0:
        raise ValueError("a cost price cannot be negative")
    if margin < 0:
        raise ValueError("a margin cannot be negative")
    if not is_allowed_vat(vat):
        raise ValueError(f"VAT rate {vat} % is not one of {', '.join(str(r) for r in VAT_RATES)}")
    exact = cost * (HUNDRED + margin) * (HUNDRED + vat) / (HUNDRED * HUNDRED)
    return round_cents(exact)


def price_excluding_vat(price, vat_rate) -> Decimal:
    """A VAT-inclusive amount without its VAT, to the cent (for reports)."""
    return round_cents(to_decimal(price) * HUNDRED / (HUNDRED + to_decimal(vat_rate)))


def reference_price(price, unit: str, content=None) -> tuple[Decimal, str] | None:
    """The price per kg or per litre shown on a shelf label, with its unit.

    Goods sold by the kg or litre: the price itself. A piece with a net content (in kg or l,
    `content` = (quantity, unit)): price / quantity, half-up to the cent. Otherwise None.
    """
    price = to_decimal(price)
    if unit in (KG, LITRE):
        return round_cents(price), unit
    if content is None:
        return None
    quantity, content_unit = content
    if quantity is None or content_unit not in (KG, LITRE):
        return None
    quantity = to_decimal(quantity)
    if quantity <= 0:
        return None
    return round_cents(price / quantity), content_unit


def line_value(quantity, unit_price) -> Decimal:
    """Quantity x unit price, to the cent (stock value, purchase value, loss value)."""
    return round_cents(to_decimal(quantity) * to_decimal(unit_price))
