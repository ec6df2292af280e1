"""The inventory services with the database: every rule of DOMAIN.md §7 where it is written."""
import datetime
from decimal import Decimal as D

import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from coopmarket.errors import RuleViolation
from inventory import selectors, services
from inventory.models import (
    Category,
    InventoryParameters,
    Product,
    PurchaseOrder,
    Reception,
    ReceptionLine,
    StockCount,
    StockMove,
    Supplier,
)

from .factories import NOW, TODAY, category, ean, move, product, supplier

pytestmark = pytest.mark.django_db


# --- suppliers --------------------------------------------------------------------------------

def test_local_is_derived_from_the_distance_and_the_parameter():
    near, edge, far = supplier(distance_km=12), supplier(distance_km=150), supplier(distance_km=151)
    assert (near.is_local, edge.is_local, far.is_local) == (True, True, False)
    annotated = {s.pk: s.is_local for s in selectors.suppliers()}
    assert annotated == {near.pk: True, edge.pk: True, far.pk: False}
    params = InventoryParameters.current()
    params.local_distance_km = 200
    params.save()
    assert {s.pk: s.is_local for s in selectors.suppliers()}[far.pk] is True
    assert "is_local" not in {f.name for f in Supplier._meta.get_fields()}  # never stored


def test_supplier_validation():
    supplier("Ferme du Pré")
    with pytest.raises(ValidationError) as exc:
        services.supplier_create(name="ferme du pré", city="", distance_km=-3, email="nope")
    assert set(exc.value.message_dict) == {"name", "city", "distance_km", "email"}
    assert Supplier.objects.count() == 1


# --- products and prices ----------------------------------------------------------------------

def test_product_gets_its_sale_price_from_cost_margin_and_vat():
    item = product(cost="2.50", vat="5.5")
    assert item.sale_price == D("3.17")  # 2.50 x 1.20 x 1.055 = 3.165 -> half-up
    assert item.label_needs_reprint is True  # a new product needs its label


def test_category_margin_overrides_the_coop_margin():
    dairy = category("Crèmerie", margin=D("30"))
    item = product(cost="1.00", vat="20", category=dairy)
    assert item.sale_price == D("1.56")  # 1 x 1.3 x 1.2
    plain = product(cost="1.00", vat="20")
    assert plain.sale_price == D("1.44")  # coop-wide 20 %


@pytest.mark.parametrize(
    ("fields", "error_field"),
    [
        ({"barcode": "4006381333932"}, "barcode"),  # wrong check digit
        ({"barcode": "12345"}, "barcode"),
        ({"barcode": ean(), "internal_code": "VRAC-1"}, "barcode"),  # both
        ({"barcode": None, "internal_code": None}, "barcode"),  # neither
        ({"internal_code": "bad code!"}, "internal_code"),
        ({"cost_price": D("-0.01")}, "cost_price"),
        ({"cost_price": D("1.001")}, "cost_price"),
        ({"vat_rate": D("19.6")}, "vat_rate"),
        ({"vat_rate": D("0")}, "vat_rate"),
        ({"package_size": D("0")}, "package_size"),
        ({"min_stock": D("-1")}, "min_stock"),
        ({"unit": "box"}, "unit"),
        ({"supplier": None}, "supplier"),
        ({"content_quantity": D("0.25")}, "content_unit"),
    ],
)
def test_bad_product_input_is_refused_and_nothing_is_written(fields, error_field):
    maker = supplier()
    base = {"name": "Yaourt", "supplier": maker, "cost_price": D("1.00"), "vat_rate": D("5.5"), "barcode": ean()}
    base.update(fields)
    if "internal_code" in fields and "barcode" not in fields:
        base["barcode"] = None
    with pytest.raises(ValidationError) as exc:
        services.product_create(**base)
    assert error_field in exc.value.message_dict
    assert Product.objects.count() == 0


def test_a_barcode_or_internal_code_is_unique_across_both_columns():
    first = product(internal_code="VRAC-7", barcode=None, unit="kg")
    with pytest.raises(ValidationError, match="'internal_code'"):
        product(internal_code="VRAC-7", barcode=None)
    code = ean()
    product(barcode=code)
    with pytest.raises(ValidationError, match="'barcode'"):
        product(barcode=code)
    assert first.code == "VRAC-7"


def test_the_database_refuses_a_product_with_both_codes_or_a_bad_vat():
    item = product()
    with pytest.raises(IntegrityError), transaction.atomic():
        Product.objects.filter(pk=item.pk).update(internal_code="X1")
    with pytest.raises(IntegrityError), transaction.atomic():
        Product.objects.filter(pk=item.pk).update(vat_rate=D("19.6"))


def test_changing_the_coop_margin_reprices_and_flags_labels():
    own_margin = category("Vrac", margin=D("10"))
    plain = product(cost="1.00", vat="20")
    special = product(cost="1.00", vat="20", category=own_margin)
    services.labels_mark_printed(products=[plain, special])
    changed = services.margin_set(margin=D("25"))
    plain.refresh_from_db()
    special.refresh_from_db()
    assert changed == 1
    assert (plain.sale_price, plain.label_needs_reprint) == (D("1.50"), True)  # 1 x 1.25 x 1.2
    assert (special.sale_price, special.label_needs_reprint) == (D("1.32"), False)  # 10 % override kept
    assert InventoryParameters.current().default_margin == D("25")


def test_changing_a_category_margin_reprices_only_that_category():
    fruit = category("Fruits")
    other = product(cost="2.00", vat="5.5")
    item = product(cost="2.00", vat="5.5", category=fruit)
    services.labels_mark_printed(products=[other, item])
    assert services.category_update(category=fruit, margin=D("40")) == 1
    item.refresh_from_db()
    other.refresh_from_db()
    assert (item.sale_price, item.label_needs_reprint) == (D("2.95"), True)  # 2 x 1.4 x 1.055 = 2.954
    assert other.label_needs_reprint is False
    assert services.category_update(category=fruit, margin=None) == 1  # back to the coop-wide rate
    item.refresh_from_db()
    assert item.sale_price == D("2.53")  # 2 x 1.2 x 1.055 = 2.532


def test_a_new_cost_price_reprices_and_flags_the_label():
    item = product(cost="1.00", vat="5.5")
    services.labels_mark_printed(products=[item])
    item = services.product_update(product=item, cost_price=D("1.10"))
    assert (item.sale_price, item.label_needs_reprint) == (D("1.39"), True)  # 1.1 x 1.2 x 1.055 = 1.3926
    services.labels_mark_printed(products=[item])
    item = services.product_update(product=item, min_stock=D("4"))
    assert item.label_needs_reprint is False  # nothing printed on the label changed


def test_margin_validation():
    with pytest.raises(ValidationError, match="'margin'"):
        services.margin_set(margin=D("-1"))
    with pytest.raises(ValidationError, match="'margin'"):
        services.category_create(name="X", margin="abc")


# --- the stock ledger -------------------------------------------------------------------------

def test_stock_is_the_sum_of_signed_moves():
    item = product()
    move(item, "reception", 24)
    move(item, "sale", 5)
    move(item, "loss", 1)
    assert selectors.product_stock(item) == D("18")
    moves = {m.kind: m.quantity for m in StockMove.objects.filter(product=item)}
    assert moves == {"reception": D("24"), "sale": D("-5"), "loss": D("-1")}


def test_a_count_gives_the_level_found_and_moves_the_difference():
    item = product(cost="2.00")
    move(item, "reception", 10)
    move(item, "sale", 2)
    counted = move(item, "count", 7)  # expected 8, found 7
    assert (counted.quantity, counted.counted, counted.unit_price) == (D("-1"), D("7"), D("2.00"))
    assert selectors.product_stock(item) == D("7")
    again = move(item, "count", 7)
    assert again.quantity == 0  # a count that agrees still leaves a trace


def test_a_count_dated_in_the_past_compares_with_the_stock_as_of_its_own_date():
    item = product(cost="2.00")
    move(item, "reception", 10, date=TODAY - datetime.timedelta(days=3))
    move(item, "sale", 3, date=TODAY - datetime.timedelta(days=1))
    # Counted two days ago (9 on the shelf, one lost), entered today, after the later sale.
    counted = services.stock_move_record(product=item, kind="count", quantity="9", date=TODAY - datetime.timedelta(days=2), today=TODAY)
    assert counted.quantity == D("-1")  # 9 found - 10 expected then (not 9 - 7 today)
    assert selectors.product_stock(item) == D("6")
    assert selectors.product_stock(item, as_of=TODAY - datetime.timedelta(days=2)) == D("9")


def test_a_count_sheet_dated_in_the_past_compares_with_the_stock_of_its_date():
    item = product(cost="1.00", name="Lait")
    move(item, "reception", 12, date=TODAY - datetime.timedelta(days=5))
    move(item, "sale", 4, date=TODAY - datetime.timedelta(days=1))
    count = services.stock_count_create(category=None, counted_on=TODAY - datetime.timedelta(days=3))
    line = count.lines.get(product=item)
    services.stock_count_save(count=count, counted={line.pk: "11"})
    services.stock_count_apply(count=count, now=NOW)
    line.refresh_from_db()
    assert (line.expected, line.difference) == (D(12), D(-1))
    assert selectors.product_stock(item) == D(7)


def test_loose_goods_move_in_kg_with_three_decimals():
    item = product(internal_code="VRAC-LENT", barcode=None, unit="kg")
    move(item, "reception", "5.000")
    move(item, "sale", "0.345")
    assert selectors.product_stock(item) == D("4.655")


def test_moves_are_entered_positive():
    item = product()
    for kind, quantity in (("sale", "-1"), ("reception", "0"), ("loss", "abc"), ("count", "-2"), ("sale", "0.0001")):
        with pytest.raises(ValidationError, match="'quantity'"):
            move(item, kind, quantity)
    with pytest.raises(ValidationError, match="'kind'"):
        services.stock_move_record(product=item, kind="theft", quantity=D(1), date=TODAY)
    with pytest.raises(ValidationError, match="'date'"):
        services.stock_move_record(product=item, kind="sale", quantity=D(1), date=TODAY + datetime.timedelta(days=1), today=TODAY)
    with pytest.raises(ValidationError, match="'unit_price'"):
        services.stock_move_record(product=item, kind="reception", quantity=D(1), date=TODAY, unit_price=D("-1"))
    assert StockMove.objects.count() == 0


def test_default_prices_of_moves():
    item = product(cost="1.00", vat="5.5")
    assert move(item, "reception", 1).unit_price == D("1.00")
    assert move(item, "sale", 1).unit_price == item.sale_price
    assert move(item, "loss", 1).unit_price == D("1.00")
    assert move(item, "reception", 1, unit_price=D("0.95")).unit_price == D("0.95")


def test_stock_moves_are_immutable():
    item = product()
    row = move(item, "reception", 3)
    row.quantity = D(30)
    with pytest.raises(ValidationError, match="immutable"):
        row.save()
    with pytest.raises(ValidationError, match="immutable"):
        row.delete()
    with pytest.raises(ValidationError, match="immutable"):
        StockMove.objects.filter(pk=row.pk).update(quantity=D(30))
    with pytest.raises(ValidationError, match="immutable"):
        StockMove.objects.all().delete()
    assert selectors.product_stock(item) == D(3)


def test_the_database_refuses_moves_against_their_kind():
    item = product()
    with pytest.raises(IntegrityError), transaction.atomic():
        StockMove.objects.create(product=item, kind="sale", quantity=D(2), date=TODAY)
    with pytest.raises(IntegrityError), transaction.atomic():
        StockMove.objects.create(product=item, kind="reception", quantity=D(-2), date=TODAY)


def test_stock_of_many_products_in_one_query(django_assert_num_queries):
    items = [product() for _ in range(5)]
    for n, item in enumerate(items):
        move(item, "reception", 11 + n)
        move(item, "sale", n + 1)
    InventoryParameters.current()
    with django_assert_num_queries(2):  # parameters, then the products with their stock
        stocks = {p.pk: p.stock for p in selectors.products_with_stock()}
    assert stocks == {item.pk: D(10) for item in items}


# --- reorder suggestions ----------------------------------------------------------------------

def test_reorder_suggestions_use_the_last_28_days_of_sales():
    farm = supplier()
    item = product(supplier_obj=farm, min_stock=D(10), package_size=D(6))
    move(item, "reception", 100, date=TODAY - datetime.timedelta(days=60))
    move(item, "sale", 40, date=TODAY - datetime.timedelta(days=28))  # outside the 28 days
    move(item, "sale", 30, date=TODAY - datetime.timedelta(days=27))  # first day inside
    move(item, "sale", 26, date=TODAY)
    fine = product(supplier_obj=farm, min_stock=D(1))
    move(fine, "reception", 5)
    [suggestion] = selectors.reorder_suggestions(today=TODAY)
    # stock 4, 56 sold in 28 days = 2/day x 28 = 56 -> 52 -> 9 packages of 6 = 54
    assert (suggestion.product, suggestion.stock, suggestion.sold, suggestion.quantity, suggestion.packages) == (
        item, D(4), D(56), D(54), 9
    )
    assert suggestion.average_daily_sales == D(2)


def test_reorder_suggestions_skip_inactive_products_and_take_two_queries(django_assert_num_queries):
    for n in range(4):
        item = product(min_stock=D(5))
        move(item, "reception", n + 1)
    product(min_stock=D(5), active=False)
    InventoryParameters.current()
    with django_assert_num_queries(2):
        suggestions = selectors.reorder_suggestions(today=TODAY)
    assert len(suggestions) == 4


def test_draft_orders_from_suggestions_one_per_supplier_and_idempotent():
    a, b = supplier(), supplier()
    items = [product(supplier_obj=a, min_stock=D(2), cost="1.20"), product(supplier_obj=a, min_stock=D(2)),
             product(supplier_obj=b, min_stock=D(3), package_size=D(4))]
    orders = services.purchase_orders_from_suggestions(today=TODAY)
    assert sorted(o.supplier_id for o in orders) == sorted([a.pk, b.pk])
    order_a = next(o for o in orders if o.supplier_id == a.pk)
    assert order_a.status == "draft"
    assert {(line.product_id, line.quantity, line.unit_price) for line in order_a.lines.all()} == {
        (items[0].pk, D(2), D("1.20")), (items[1].pk, D(2), D("1.00")),
    }
    again = services.purchase_orders_from_suggestions(today=TODAY)
    assert {o.pk for o in again} == {o.pk for o in orders}
    assert PurchaseOrder.objects.count() == 2
    assert order_a.lines.count() == 2


def test_quantities_on_sent_orders_are_not_suggested_twice():
    farm = supplier(email="farm@example.org")
    item = product(supplier_obj=farm, min_stock=D(5), package_size=D(5))
    [order] = services.purchase_orders_from_suggestions(today=TODAY)
    services.purchase_order_send(order=order, now=NOW, email=False)
    [suggestion] = selectors.reorder_suggestions(today=TODAY)
    assert (suggestion.on_order, suggestion.quantity) == (D(5), D(0))
    assert item.pk == suggestion.product.pk


# --- purchase orders and receptions -----------------------------------------------------------

@pytest.fixture
def sent_order(django_capture_on_commit_callbacks):
    farm = supplier(email="orders@farm.example")
    apples = product(supplier_obj=farm, name="Pommes", cost="1.50", unit="kg", package_size=D(10), internal_code="POM", barcode=None)
    juice = product(supplier_obj=farm, name="Jus", cost="2.00")
    order = services.purchase_order_create(supplier=farm, lines=[(apples, D(20), None), (juice, D(12), D("1.90"))])
    with django_capture_on_commit_callbacks(execute=True):
        services.purchase_order_send(order=order, now=NOW)
    order.refresh_from_db()
    return order, apples, juice


def test_sending_an_order_emails_its_pdf_to_the_supplier(sent_order):
    order, _apples, _juice = sent_order
    assert (order.status, order.sent_to, order.sent_at) == ("sent", "orders@farm.example", NOW)
    [message] = mail.outbox
    assert message.to == ["orders@farm.example"]
    assert order.reference in message.subject
    [(filename, content, mimetype)] = message.attachments
    assert (filename, mimetype) == (f"{order.reference}.pdf", "application/pdf")
    assert content.startswith(b"%PDF")


def test_an_order_pdf_lists_its_lines(sent_order):
    import io

    from pypdf import PdfReader

    from inventory import documents

    order, _apples, _juice = sent_order
    text = PdfReader(io.BytesIO(documents.purchase_order_pdf(order))).pages[0].extract_text()
    assert order.reference in text and "Pommes" in text and "Jus" in text


def test_only_a_draft_with_lines_is_sent():
    farm = supplier(email="x@example.org")
    empty = services.purchase_order_create(supplier=farm)
    with pytest.raises(ValidationError, match="'lines'"):
        services.purchase_order_send(order=empty, now=NOW)
    mailless = supplier()  # no e-mail address: the order has a line, only the address is missing
    no_mail = services.purchase_order_create(supplier=mailless, lines=[(product(supplier_obj=mailless), D(1), None)])
    with pytest.raises(ValidationError, match="no e-mail address"):
        services.purchase_order_send(order=no_mail, now=NOW)
    assert services.purchase_order_send(order=no_mail, now=NOW, email=False).status == "sent"  # sent by hand
    item = product(supplier_obj=farm)
    order = services.purchase_order_create(supplier=farm, lines=[(item, D(1), None)])
    services.purchase_order_send(order=order, now=NOW, email=False)
    with pytest.raises(RuleViolation, match="Only a draft"):
        services.purchase_order_send(order=order, now=NOW, email=False)
    with pytest.raises(RuleViolation, match="Only a draft"):
        services.purchase_order_set_line(order=order, product=item, quantity=D(3))


def test_an_order_line_must_be_the_suppliers_product_with_positive_numbers():
    farm = supplier()
    foreign = product()
    with pytest.raises(ValidationError, match="'product'"):
        services.purchase_order_create(supplier=farm, lines=[(foreign, D(1), None)])
    own = product(supplier_obj=farm)
    for quantity, price in ((D(0), None), (D(-1), None), (D(1), D("-0.5"))):
        with pytest.raises(ValidationError, match="'quantity'|'unit_price'"):
            services.purchase_order_create(supplier=farm, lines=[(own, quantity, price)])
    assert PurchaseOrder.objects.count() == 0


def test_partial_receptions_then_complete(sent_order):
    order, apples, juice = sent_order
    lines = {line.product_id: line for line in order.lines.all()}
    first = services.reception_record(
        order=order, lines=[(lines[apples.pk], D("12.5"), None), (lines[juice.pk], D(12), D("2.05"))], received_on=TODAY,
    )
    order.refresh_from_db()
    assert order.status == "partially_received"
    flagged = {rl.order_line.product_id: (rl.quantity_differs, rl.price_differs) for rl in first.lines.all()}
    assert flagged == {apples.pk: (True, False), juice.pk: (False, True)}  # short on apples, juice dearer
    assert selectors.product_stock(apples) == D("12.5")
    juice_move = StockMove.objects.get(product=juice)
    assert (juice_move.kind, juice_move.unit_price, juice_move.supplier_id, juice_move.reference) == (
        "reception", D("2.05"), order.supplier_id, order.reference,
    )
    second = services.reception_record(order=order, lines=[(lines[apples.pk], D("7.5"), None)], received_on=TODAY)
    order.refresh_from_db()
    assert order.status == "received" and order.received_on == TODAY
    assert not second.lines.get().has_difference
    assert selectors.product_stock(apples) == D(20)


def test_a_reception_larger_than_the_order_is_refused_and_nothing_written(sent_order):
    order, apples, juice = sent_order
    lines = {line.product_id: line for line in order.lines.all()}
    with pytest.raises(ValidationError) as exc:
        services.reception_record(
            order=order, lines=[(lines[juice.pk], D(5), None), (lines[apples.pk], D("20.001"), None)], received_on=TODAY,
        )
    assert "only expects 20" in str(exc.value)
    services.reception_record(order=order, lines=[(lines[apples.pk], D(15), None)], received_on=TODAY)
    with pytest.raises(ValidationError, match="only expects 5 more"):
        services.reception_record(order=order, lines=[(lines[apples.pk], D(6), None)], received_on=TODAY)
    assert Reception.objects.count() == 1
    assert ReceptionLine.objects.count() == 1
    assert StockMove.objects.count() == 1
    order.refresh_from_db()
    assert order.status == "partially_received"


def test_closing_a_short_delivery(sent_order):
    order, apples, juice = sent_order
    lines = {line.product_id: line for line in order.lines.all()}
    services.reception_record(order=order, lines=[(lines[apples.pk], D(18), None)], received_on=TODAY, closes_order=True)
    order.refresh_from_db()
    assert order.status == "received"
    with pytest.raises(RuleViolation, match="Only a sent order"):
        services.reception_record(order=order, lines=[(lines[apples.pk], D(1), None)], received_on=TODAY)


def test_a_draft_order_cannot_be_received():
    farm = supplier()
    item = product(supplier_obj=farm)
    order = services.purchase_order_create(supplier=farm, lines=[(item, D(1), None)])
    with pytest.raises(RuleViolation, match="Only a sent order"):
        services.reception_record(order=order, lines=[(order.lines.get(), D(1), None)], received_on=TODAY)


def test_reception_rows_are_immutable(sent_order):
    order, apples, _juice = sent_order
    reception = services.reception_record(order=order, lines=[(order.lines.get(product=apples), D(1), None)], received_on=TODAY)
    with pytest.raises(ValidationError, match="immutable"):
        reception.lines.update(quantity=D(2))
    with pytest.raises(ValidationError, match="immutable"):
        reception.delete()


# --- stock counts -----------------------------------------------------------------------------

def test_a_count_sheet_per_category_becomes_count_moves_with_the_loss_value():
    dairy, other = category("Crèmerie"), category("Épicerie")
    milk = product(category=dairy, cost="0.90", name="Lait")
    butter = product(category=dairy, cost="2.40", name="Beurre")
    cheese = product(category=dairy, cost="3.00", name="Fromage")
    product(category=other)
    product(category=dairy, active=False)
    move(milk, "reception", 12)
    move(butter, "reception", 5)
    count = services.stock_count_create(category=dairy, counted_on=TODAY)
    assert [line.product.name for line in count.lines.select_related("product")] == ["Beurre", "Fromage", "Lait"]
    lines = {line.product_id: line.pk for line in count.lines.all()}
    services.stock_count_save(count=count, counted={lines[milk.pk]: "10", lines[butter.pk]: "6", lines[cheese.pk]: ""})
    move(milk, "sale", 1)  # a sale between writing the sheet and applying it: expected is read at apply time
    count = services.stock_count_apply(count=count, now=NOW)
    assert count.status == StockCount.Status.APPLIED
    assert (count.loss_value, count.gain_value) == (D("0.90"), D("2.40"))  # milk 11 -> 10 at 0.90; butter +1 at 2.40
    assert selectors.product_stock(milk) == D(10)
    assert selectors.product_stock(butter) == D(6)
    assert not StockMove.objects.filter(product=cheese).exists()  # not counted: no move
    milk_line = count.lines.get(product=milk)
    assert (milk_line.expected, milk_line.difference, milk_line.value) == (D(11), D(-1), D("-0.90"))
    with pytest.raises(RuleViolation, match="has been applied"):
        services.stock_count_apply(count=count, now=NOW)
    with pytest.raises(RuleViolation, match="has been applied"):
        services.stock_count_save(count=count, counted={lines[cheese.pk]: "1"})


def test_a_count_needs_valid_quantities():
    item = product()
    count = services.stock_count_create(category=None, counted_on=TODAY)
    line = count.lines.get(product=item)
    with pytest.raises(ValidationError, match="'counted'"):
        services.stock_count_save(count=count, counted={line.pk: "-1"})
    with pytest.raises(ValidationError, match="'counted'"):
        services.stock_count_apply(count=count, now=NOW)  # nothing counted


# --- reports ----------------------------------------------------------------------------------

def test_local_sourcing_share_by_value_per_month_and_band():
    near, middle, far = supplier(distance_km=30), supplier(distance_km=150), supplier(distance_km=600)
    for maker, cost, qty, date in (
        (near, "2.00", 30, datetime.date(2026, 2, 3)),  # 60
        (middle, "1.00", 20, datetime.date(2026, 2, 10)),  # 20
        (far, "4.00", 5, datetime.date(2026, 2, 20)),  # 20
        (far, "1.00", 10, datetime.date(2026, 3, 2)),  # 10
    ):
        move(product(supplier_obj=maker, cost=cost), "reception", qty, date=date)
    sales = product(supplier_obj=far)
    move(sales, "reception", 1, date=datetime.date(2026, 3, 3), unit_price=D("0"))
    move(sales, "sale", 1, date=datetime.date(2026, 3, 3))  # sales are not purchases
    months = selectors.local_sourcing_by_month(start=datetime.date(2026, 1, 1), end=datetime.date(2026, 3, 31))
    assert [(m.month, m.local, m.total, m.share) for m in months] == [
        (datetime.date(2026, 2, 1), D("80.00"), D("100.00"), D("80.0")),
        (datetime.date(2026, 3, 1), D("0.00"), D("10.00"), D("0.0")),
    ]
    bands = selectors.sourcing_by_distance_band(start=datetime.date(2026, 1, 1), end=datetime.date(2026, 3, 31))
    assert [(b.label, b.value, b.share) for b in bands] == [
        ("0-50 km", D("60.00"), D("54.5")), ("50-150 km", D("20.00"), D("18.2")),
        ("150-300 km", D("0"), D("0.0")), ("> 300 km", D("30.00"), D("27.3")),
    ]


def test_stock_value_and_losses():
    veg = category("Légumes")
    carrots = product(category=veg, cost="1.20", unit="kg", internal_code="CAR", barcode=None)
    oil = product(cost="5.00")
    move(carrots, "reception", 10, date=datetime.date(2026, 3, 1))
    move(carrots, "loss", "1.5", date=datetime.date(2026, 3, 2))  # 1.80
    move(oil, "reception", 4, date=datetime.date(2026, 3, 1))
    move(oil, "count", 3, date=datetime.date(2026, 3, 5))  # -1 at 5.00
    move(carrots, "count", "9", date=datetime.date(2026, 3, 6))  # expected 8.5: +0.5 at 1.20 = 0.60
    values = {row["category"]: row["value"] for row in selectors.stock_value_by_category()}
    assert values == {None: D("15.00"), "Légumes": D("10.80")}
    [march] = selectors.losses_by_month(start=datetime.date(2026, 3, 1), end=datetime.date(2026, 3, 31))
    assert (march.losses, march.count_shortfall, march.count_surplus, march.total) == (D("1.80"), D("5.00"), D("0.60"), D("6.20"))


def test_category_names_are_unique_ignoring_case():
    category("Boissons")
    with pytest.raises(ValidationError, match="'name'"):
        services.category_create(name="boissons")
    assert Category.objects.count() == 1
