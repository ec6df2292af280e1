"""Sale prices (DOMAIN.md §7): cost x (1 + margin) x (1 + VAT), half-up to the cent. Hand-computed."""
from decimal import Decimal as D

import pytest

from inventory import pricing


@pytest.mark.parametrize(
    ("cost", "margin", "vat", "expected", "why"),
    [
        ("1.00", "20", "5.5", "1.27", "1.00 x 1.2 x 1.055 = 1.266"),
        ("2.50", "20", "5.5", "3.17", "2.50 x 1.2 x 1.055 = 3.165 exactly: half-up, not banker's 3.16"),
        ("0.50", "20", "5.5", "0.63", "0.50 x 1.2 x 1.055 = 0.633"),
        ("10.00", "20", "20", "14.40", "10 x 1.2 x 1.2"),
        ("3.00", "20", "10", "3.96", "3 x 1.2 x 1.1"),
        ("1.25", "20", "10", "1.65", "1.25 x 1.2 x 1.1 = 1.65"),
        ("0.75", "30", "5.5", "1.03", "0.75 x 1.3 x 1.055 = 1.0286..."),
        ("2.25", "0", "10", "2.48", "2.25 x 1.1 = 2.475 exactly: half-up to 2.48"),
        ("4.45", "0", "10", "4.90", "4.45 x 1.1 = 4.895: half-up to 4.90"),
        ("0.00", "20", "20", "0.00", "free stays free"),
        ("12.34", "25", "20", "18.51", "12.34 x 1.25 x 1.2 = 18.51"),
        ("0.01", "20", "5.5", "0.01", "0.01266"),
        ("7.99", "15", "5.5", "9.69", "7.99 x 1.15 x 1.055 = 9.6938..."),
    ],
)
def test_sale_price_is_cost_times_margin_times_vat_rounded_half_up(cost, margin, vat, expected, why):
    assert pricing.sale_price(D(cost), D(margin), D(vat)) == D(expected), why


def test_half_up_edge_differs_from_bankers_and_float_rounding():
    from decimal import ROUND_HALF_EVEN

    # 2.50 x 1.2 x 1.055 = 3.165 exactly: banker's rounding would give 3.16.
    assert D("3.165").quantize(D("0.01"), rounding=ROUND_HALF_EVEN) == D("3.16")
    assert pricing.sale_price(D("2.50"), D("20"), D("5.5")) == D("3.17")
    # 1.01 / 0.4 = 2.525 exactly: float arithmetic gives 2.52.
    assert round(1.01 / 0.4, 2) == 2.52
    assert pricing.reference_price(D("1.01"), "piece", (D("0.4"), "kg")) == (D("2.53"), "kg")


def test_round_cents_half_up():
    assert pricing.round_cents(D("0.005")) == D("0.01")
    assert pricing.round_cents(D("0.015")) == D("0.02")
    assert pricing.round_cents(D("0.025")) == D("0.03")
    assert pricing.round_cents(D("0.0249")) == D("0.02")


def test_category_margin_overrides_the_coop_margin():
    assert pricing.effective_margin(D("20"), None) == D("20")
    assert pricing.effective_margin(D("20"), D("35")) == D("35")
    assert pricing.effective_margin(D("20"), D("0")) == D("0")  # a zero override still overrides


def test_default_margin_is_twenty_percent_on_the_parameters():
    from inventory.models import InventoryParameters

    assert InventoryParameters._meta.get_field("default_margin").default == D("20.00")
    assert InventoryParameters._meta.get_field("local_distance_km").default == 150


@pytest.mark.parametrize("vat", ["5.5", "10", "20", "10.0", "20.00"])
def test_allowed_vat_rates(vat):
    assert pricing.is_allowed_vat(D(vat))


@pytest.mark.parametrize("vat", ["0", "2.1", "19.6", "-5.5", "55"])
def test_other_vat_rates_are_refused(vat):
    assert not pricing.is_allowed_vat(D(vat))
    with pytest.raises(ValueError):
        pricing.sale_price(D("1"), D("20"), D(vat))


def test_negative_cost_or_margin_is_refused():
    with pytest.raises(ValueError):
        pricing.sale_price(D("-1"), D("20"), D("20"))
    with pytest.raises(ValueError):
        pricing.sale_price(D("1"), D("-1"), D("20"))


def test_floats_are_refused():
    with pytest.raises(TypeError):
        pricing.sale_price(1.0, D("20"), D("20"))


@pytest.mark.parametrize(
    ("price", "unit", "content", "expected"),
    [
        ("3.17", "kg", None, (D("3.17"), "kg")),  # sold by the kg: the price is the price per kg
        ("1.20", "l", None, (D("1.20"), "l")),
        ("3.17", "piece", (D("0.250"), "kg"), (D("12.68"), "kg")),  # 250 g jar
        ("2.99", "piece", (D("0.750"), "l"), (D("3.99"), "l")),  # 2.99 / 0.75 = 3.98666...
        ("1.00", "piece", (D("0.300"), "kg"), (D("3.33"), "kg")),
        ("1.00", "piece", (D("0.400"), "kg"), (D("2.50"), "kg")),
        ("0.99", "piece", (D("0.200"), "kg"), (D("4.95"), "kg")),
        ("0.01", "piece", (D("0.002"), "kg"), (D("5.00"), "kg")),
        ("2.00", "piece", None, None),  # a piece without a net content has no price per kg
    ],
)
def test_price_per_kg_or_litre_for_labels(price, unit, content, expected):
    assert pricing.reference_price(D(price), unit, content) == expected


def test_price_per_kg_rounds_half_up():
    # 1.01 / 0.4 = 2.525 exactly -> 2.53
    assert pricing.reference_price(D("1.01"), "piece", (D("0.4"), "kg")) == (D("2.53"), "kg")


def test_line_value_rounds_half_up():
    assert pricing.line_value(D("1.5"), D("2.33")) == D("3.50")  # 3.495
    assert pricing.line_value(D("-0.250"), D("4.10")) == D("-1.03")  # -1.025: half away from zero
