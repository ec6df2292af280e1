"""Stock and sourcing rules (DOMAIN.md §7) as pure functions: no database, no clock.

- A supplier is local when its distance is at most the coop's limit (150 km by default).
- Stock moves are entered positive; the kind gives the direction. A count gives the level found
  and its move is found - expected.
- Reorder suggestions: a product under its minimum stock gets a quantity from its average daily
  sales over the last `sales_days` days, covering `cover_days` days, minus the stock, never less
  than what brings it back to its minimum, rounded up to whole packages.
"""
from __future__ import annotations

from decimal import ROUND_CEILING, Decimal

RECEPTION, SALE, LOSS, COUNT = "reception", "sale", "loss", "count"
KINDS = (RECEPTION, SALE, LOSS, COUNT)
QUANTUM = Decimal("0.001")


def is_local(distance_km, limit_km) -> bool:
    return distance_km is not None and distance_km <= limit_km


def signed_quantity(kind: str, entered: Decimal, expected: Decimal | None = None) -> Decimal:
    """The ledger quantity of a move: + for a reception, - for a sale or a loss, and for a count
    (where `entered` is the level found) found - expected. Entered quantities are never negative,
    and only a count may be zero."""
    entered = Decimal(entered)
    if kind not in KINDS:
        raise ValueError(f"unknown stock move kind {kind!r}")
    if entered < 0:
        raise ValueError("quantities are entered positive; the kind gives the direction")
    if kind == COUNT:
        if expected is None:
            raise ValueError("a count needs the expected level")
        return entered - Decimal(expected)
    if entered == 0:
        raise ValueError("a reception, sale or loss moves a positive quantity")
    return entered if kind == RECEPTION else -entered


def plain(quantity) -> str:
    """A quantity without trailing zeros or exponent: 20.000 -> '20', 0.250 -> '0.25'."""
    text = format(Decimal(quantity).normalize(), "f")
    return "0" if text in ("-0", "") else text


def packages_for(quantity: Decimal, package_size: Decimal) -> int:
    """Whole packages that hold at least `quantity` (0 for nothing)."""
    if package_size <= 0:
        raise ValueError("a package holds a positive quantity")
    if quantity <= 0:
        return 0
    return int((Decimal(quantity) / Decimal(package_size)).to_integral_value(rounding=ROUND_CEILING))


def reorder_quantity(
    *, stock: Decimal, min_stock: Decimal, sold: Decimal, sales_days: int, cover_days: int, package_size: Decimal,
    on_order: Decimal = Decimal(0),
) -> Decimal:
    """Quantity to order for a product, in its unit, a whole number of packages; 0 when the stock
    is not under the minimum.

    target = max(average daily sales x cover_days, min_stock), with the average over the last
    `sales_days` days; order target - stock - on_order (still expected from sent orders), rounded
    up to whole packages. With nothing on order, a product under its minimum always gets at least
    one package; when what is on order already reaches the target, nothing more.
    """
    stock, min_stock, sold, on_order = Decimal(stock), Decimal(min_stock), Decimal(sold), max(Decimal(on_order), Decimal(0))
    if sales_days <= 0 or cover_days <= 0:
        raise ValueError("sales and cover periods are positive numbers of days")
    if stock >= min_stock:
        return Decimal(0)
    average = max(sold, Decimal(0)) / sales_days
    target = max(average * cover_days, min_stock)
    packages = packages_for(target - stock - on_order, package_size)
    if on_order == 0:
        packages = max(packages, 1)
    return (packages * Decimal(package_size)).quantize(QUANTUM)


def distance_band(distance_km, limits: tuple[int, ...]) -> int:
    """Index of the band a distance falls in: limits (50, 150, 300) give 0-50, 51-150, 151-300,
    over 300 as bands 0, 1, 2, 3 (each limit belongs to the band it closes)."""
    for index, limit in enumerate(limits):
        if distance_km <= limit:
            return index
    return len(limits)


def band_labels(limits: tuple[int, ...]) -> list[str]:
    labels, low = [], 0
    for limit in limits:
        labels.append(f"{low}-{limit} km")
        low = limit
    labels.append(f"> {low} km")
    return labels


def parse_band_limits(text: str) -> tuple[int, ...]:
    """'50, 150, 300' -> (50, 150, 300): strictly increasing positive kilometres."""
    limits = tuple(int(part) for part in text.replace(";", ",").split(",") if part.strip())
    if not limits or any(x <= 0 for x in limits) or list(limits) != sorted(set(limits)):
        raise ValueError("distance bands are increasing positive kilometres, e.g. 50,150,300")
    return limits
