"""Stock and sourcing rules as pure functions (DOMAIN.md §7)."""
from decimal import Decimal as D

import pytest

from inventory import codes, rules


@pytest.mark.parametrize(("distance", "local"), [(0, True), (149, True), (150, True), (151, False), (800, False)])
def test_a_supplier_is_local_at_most_150_km(distance, local):
    assert rules.is_local(distance, 150) is local


def test_the_local_limit_is_a_parameter():
    assert rules.is_local(151, 200) is True
    assert rules.is_local(60, 50) is False


@pytest.mark.parametrize(
    ("kind", "entered", "expected", "signed"),
    [
        ("reception", "12", None, "12"),
        ("sale", "3", None, "-3"),
        ("sale", "0.350", None, "-0.350"),  # loose goods in kg
        ("loss", "2", None, "-2"),
        ("count", "7", "10", "-3"),  # found 7, expected 10
        ("count", "12", "10", "2"),
        ("count", "10", "10", "0"),
        ("count", "0", "-2", "2"),  # found nothing while the ledger said -2
    ],
)
def test_quantities_are_entered_positive_and_the_kind_gives_the_sign(kind, entered, expected, signed):
    assert rules.signed_quantity(kind, D(entered), None if expected is None else D(expected)) == D(signed)


@pytest.mark.parametrize("kind", ["reception", "sale", "loss", "count"])
def test_negative_entries_are_refused(kind):
    with pytest.raises(ValueError):
        rules.signed_quantity(kind, D("-1"), D("0"))


@pytest.mark.parametrize("kind", ["reception", "sale", "loss"])
def test_zero_moves_only_for_counts(kind):
    with pytest.raises(ValueError):
        rules.signed_quantity(kind, D("0"))


def test_a_count_needs_the_expected_level():
    with pytest.raises(ValueError):
        rules.signed_quantity("count", D("3"))


def test_unknown_kind():
    with pytest.raises(ValueError):
        rules.signed_quantity("theft", D("1"))


@pytest.mark.parametrize(
    ("quantity", "package", "packages"),
    [("0", "6", 0), ("1", "6", 1), ("6", "6", 1), ("6.001", "6", 2), ("13", "6", 3), ("2.4", "2.5", 1), ("5.01", "2.5", 3)],
)
def test_whole_packages(quantity, package, packages):
    assert rules.packages_for(D(quantity), D(package)) == packages


REORDER = {"sales_days": 28, "cover_days": 28}


def test_no_reorder_at_or_above_the_minimum():
    assert rules.reorder_quantity(stock=D(5), min_stock=D(5), sold=D(100), package_size=D(6), **REORDER) == 0
    assert rules.reorder_quantity(stock=D(9), min_stock=D(5), sold=D(100), package_size=D(6), **REORDER) == 0


def test_reorder_covers_the_average_sales_rounded_up_to_packages():
    # 56 sold in 28 days = 2/day; cover 28 days = 56; stock 4 -> need 52 -> 9 packages of 6 = 54
    assert rules.reorder_quantity(stock=D(4), min_stock=D(10), sold=D(56), package_size=D(6), **REORDER) == D(54)


def test_reorder_with_the_cover_period_as_a_parameter():
    # 2/day x 14 days = 28; stock 4 -> 24 -> 4 packages of 6
    assert rules.reorder_quantity(stock=D(4), min_stock=D(10), sold=D(56), package_size=D(6), sales_days=28, cover_days=14) == D(24)


def test_reorder_never_leaves_the_product_under_its_minimum():
    # no sales: target is the minimum 10, stock 3 -> 7 -> 2 packages of 6
    assert rules.reorder_quantity(stock=D(3), min_stock=D(10), sold=D(0), package_size=D(6), **REORDER) == D(12)


def test_reorder_loose_goods_in_kg():
    # 14.5 kg sold in 28 days, 5 kg bags; stock 1.2 kg, min 3 kg: need 14.5 - 1.2 = 13.3 -> 3 bags = 15 kg
    assert rules.reorder_quantity(stock=D("1.2"), min_stock=D(3), sold=D("14.5"), package_size=D(5), **REORDER) == D("15.000")


def test_reorder_with_negative_stock_orders_the_shortfall_too():
    assert rules.reorder_quantity(stock=D(-2), min_stock=D(1), sold=D(28), package_size=D(10), **REORDER) == D(30)


def test_reorder_subtracts_what_is_already_on_order():
    base = {"stock": D(4), "min_stock": D(10), "sold": D(56), "package_size": D(6), **REORDER}
    assert rules.reorder_quantity(on_order=D(30), **base) == D(24)  # 52 - 30 = 22 -> 4 packages
    assert rules.reorder_quantity(on_order=D(60), **base) == 0  # enough on its way


@pytest.mark.parametrize(("distance", "band"), [(0, 0), (50, 0), (51, 1), (150, 1), (151, 2), (300, 2), (301, 3)])
def test_distance_bands(distance, band):
    assert rules.distance_band(distance, (50, 150, 300)) == band


def test_band_labels_and_parsing():
    assert rules.band_labels((50, 150)) == ["0-50 km", "50-150 km", "> 150 km"]
    assert rules.parse_band_limits("50, 150;300") == (50, 150, 300)
    for bad in ("", "150,50", "0,10", "a"):
        with pytest.raises(ValueError):
            rules.parse_band_limits(bad)


@pytest.mark.parametrize("code", ["4006381333931", "3017620422003", "5449000000996", "0000000000000"])
def test_valid_ean13(code):
    assert codes.is_valid_ean13(code)


@pytest.mark.parametrize("code", ["4006381333932", "3017620422004", "400638133393", "40063813339311", "400638133393a", ""])
def test_invalid_ean13(code):
    assert not codes.is_valid_ean13(code)


def test_check_digit():
    assert codes.ean13_check_digit("400638133393") == "1"
    with pytest.raises(ValueError):
        codes.ean13_check_digit("123")


@pytest.mark.parametrize(("code", "ok"), [("VRAC-001", True), ("B12", True), ("4006381333931", False), ("", False), ("a b", False)])
def test_internal_codes(code, ok):
    assert codes.is_valid_internal_code(code) is ok
