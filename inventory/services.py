"""Inventory services (DOMAIN.md §7): every write on suppliers, products, stock, orders, receptions,
counts and imports goes through here.

Each service runs in one transaction, validates everything before it writes, and raises
`ValidationError` (bad input: a 400 / form error, nothing written) or `RuleViolation` (a rule
forbids it: a 409). Services take `today`/`now`; only views, commands and tasks read the clock.
Every write of stock moves for a product locks the product row first, so a count's "expected"
level cannot change under it.
"""
from __future__ import annotations

import datetime
import hashlib
from collections import Counter
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils.translation import gettext as _

from coopmarket.errors import RuleViolation

from . import codes, csvfiles, pricing, rules, selectors
from .models import (
    Category,
    InventoryParameters,
    Product,
    PurchaseOrder,
    PurchaseOrderLine,
    Reception,
    ReceptionLine,
    SalesImport,
    StockCount,
    StockCountLine,
    StockMove,
    Supplier,
)

QUANTUM = rules.QUANTUM
MAX_QUANTITY = Decimal("999999999.999")
MAX_MONEY = Decimal("9999999999.99")


def _user(by):
    return by if by is not None and getattr(by, "pk", None) else None


def _decimal(value, *, places: int, minimum: Decimal | None = None, strict_minimum: bool = False,
             maximum: Decimal | None = None) -> Decimal:
    """A Decimal with at most `places` decimals within bounds; ValueError with a readable message."""
    if value is None or value == "":
        raise ValueError(_("This field is required."))
    if isinstance(value, bool):
        raise ValueError(_("Enter a number."))
    if isinstance(value, float):
        value = repr(value)
    try:
        number = Decimal(value) if not isinstance(value, Decimal) else value
    except (InvalidOperation, TypeError, ValueError) as exc:
        raise ValueError(_("Enter a number.")) from exc
    if not number.is_finite():
        raise ValueError(_("Enter a number."))
    if number != number.quantize(Decimal(1).scaleb(-places)):
        raise ValueError(_("At most %(places)d decimal places.") % {"places": places})
    if minimum is not None:
        if strict_minimum and number <= minimum:
            raise ValueError(_("Must be greater than %(min)s.") % {"min": minimum})
        if not strict_minimum and number < minimum:
            raise ValueError(_("Cannot be negative.") if minimum == 0 else _("Must be at least %(min)s.") % {"min": minimum})
    if maximum is not None and number > maximum:
        raise ValueError(_("Too large."))
    return number.quantize(Decimal(1).scaleb(-places))


def _money(value, **kwargs) -> Decimal:
    return _decimal(value, places=2, minimum=Decimal(0), maximum=MAX_MONEY, **kwargs)


def _quantity(value, *, positive: bool = False) -> Decimal:
    return _decimal(value, places=3, minimum=Decimal(0), strict_minimum=positive, maximum=MAX_QUANTITY)


def _margin(value) -> Decimal:
    return _decimal(value, places=2, minimum=Decimal(0), maximum=Decimal(500))


# --- suppliers --------------------------------------------------------------------------------

SUPPLIER_FIELDS = ("name", "contact", "email", "phone", "address", "city", "distance_km", "organic", "active", "notes")


def supplier_clean(fields: dict, *, instance: Supplier | None = None) -> dict:
    errors: dict[str, list[str]] = {}
    cleaned = {}
    for name, value in fields.items():
        if name not in SUPPLIER_FIELDS:
            raise TypeError(f"unknown supplier field {name}")
        cleaned[name] = value.strip() if isinstance(value, str) else value
    for name in ("name", "city"):
        if name in cleaned and not cleaned[name]:
            errors[name] = [_("This field is required.")]
    if cleaned.get("name"):
        others = Supplier.objects.filter(name__iexact=cleaned["name"])
        if instance is not None:
            others = others.exclude(pk=instance.pk)
        if others.exists():
            errors["name"] = [_("A supplier with this name already exists.")]
    if cleaned.get("email"):
        try:
            validate_email(cleaned["email"])
        except ValidationError:
            errors["email"] = [_("Enter a valid e-mail address.")]
    if "distance_km" in cleaned:
        distance = cleaned["distance_km"]
        if isinstance(distance, bool) or not isinstance(distance, int) or distance < 0:
            errors["distance_km"] = [_("Enter a distance in whole kilometres (0 or more).")]
    if errors:
        raise ValidationError(errors)
    return cleaned


@transaction.atomic
def supplier_create(*, name: str, city: str, distance_km: int, by=None, **fields) -> Supplier:
    cleaned = supplier_clean({"name": name, "city": city, "distance_km": distance_km, **fields})
    return Supplier.objects.create(**cleaned)


@transaction.atomic
def supplier_update(*, supplier: Supplier, by=None, **fields) -> Supplier:
    cleaned = supplier_clean(fields, instance=supplier)
    for name, value in cleaned.items():
        setattr(supplier, name, value)
    supplier.save()
    supplier._is_local = None
    return supplier


# --- categories and margins -------------------------------------------------------------------

def _reprice(products) -> int:
    """Recompute the sale price of `products` (a queryset); those whose price changes are flagged
    for a new shelf label. Returns how many changed."""
    margin = InventoryParameters.current().default_margin
    changed = []
    for product in products.select_related("category").only(
        "id", "cost_price", "vat_rate", "sale_price", "label_needs_reprint", "category__margin"
    ).iterator(chunk_size=2000):
        price = pricing.sale_price(product.cost_price, pricing.effective_margin(margin, product.category and product.category.margin), product.vat_rate)
        if price != product.sale_price:
            product.sale_price = price
            product.label_needs_reprint = True
            changed.append(product)
    Product.objects.bulk_update(changed, ["sale_price", "label_needs_reprint"], batch_size=1000)
    return len(changed)


@transaction.atomic
def category_create(*, name: str, margin=None, by=None) -> Category:
    name = (name or "").strip()
    errors = {}
    if not name:
        errors["name"] = [_("This field is required.")]
    elif Category.objects.filter(name__iexact=name).exists():
        errors["name"] = [_("A category with this name already exists.")]
    if margin is not None and margin != "":
        try:
            margin = _margin(margin)
        except ValueError as exc:
            errors["margin"] = [str(exc)]
    else:
        margin = None
    if errors:
        raise ValidationError(errors)
    return Category.objects.create(name=name, margin=margin)


@transaction.atomic
def category_update(*, category: Category, name: str | None = None, margin=..., by=None) -> int:
    """Rename a category and/or change its margin override (None: the coop-wide margin applies).
    A margin change re-prices its products and flags their labels. Returns products re-priced."""
    errors = {}
    if name is not None:
        name = name.strip()
        if not name:
            errors["name"] = [_("This field is required.")]
        elif Category.objects.filter(name__iexact=name).exclude(pk=category.pk).exists():
            errors["name"] = [_("A category with this name already exists.")]
    if margin is not ... and margin not in (None, ""):
        try:
            margin = _margin(margin)
        except ValueError as exc:
            errors["margin"] = [str(exc)]
    elif margin == "":
        margin = None
    if errors:
        raise ValidationError(errors)
    category = Category.objects.select_for_update().get(pk=category.pk)
    if name is not None:
        category.name = name
    margin_changed = margin is not ... and margin != category.margin
    if margin is not ...:
        category.margin = margin
    category.save()
    return _reprice(Product.objects.filter(category=category)) if margin_changed else 0


@transaction.atomic
def margin_set(*, margin, by=None) -> int:
    """Change the coop-wide margin: products without a category override are re-priced and their
    labels flagged for reprint. Returns how many prices changed."""
    try:
        margin = _margin(margin)
    except ValueError as exc:
        raise ValidationError({"margin": [str(exc)]}) from exc
    params = InventoryParameters.current()
    params = InventoryParameters.objects.select_for_update().get(pk=params.pk)
    params.default_margin = margin
    params.save()
    return _reprice(Product.objects.filter(Q(category__isnull=True) | Q(category__margin__isnull=True)))


# --- products ---------------------------------------------------------------------------------

PRODUCT_FIELDS = (
    "name", "barcode", "internal_code", "supplier", "category", "unit", "package_size", "content_quantity",
    "content_unit", "cost_price", "vat_rate", "min_stock", "active",
)


def product_clean(fields: dict, *, instance: Product | None = None) -> dict:
    """Validate product fields (all of them on create, the given ones on update)."""
    errors: dict[str, list[str]] = {}
    cleaned: dict = {}
    for name, value in fields.items():
        if name not in PRODUCT_FIELDS:
            raise TypeError(f"unknown product field {name}")
        cleaned[name] = value.strip() if isinstance(value, str) else value

    if "name" in cleaned and not cleaned["name"]:
        errors["name"] = [_("This field is required.")]
    for code_field in ("barcode", "internal_code"):
        if code_field in cleaned and not cleaned[code_field]:
            cleaned[code_field] = None
    barcode = cleaned.get("barcode", instance.barcode if instance else None)
    internal = cleaned.get("internal_code", instance.internal_code if instance else None)
    if barcode and internal:
        errors["barcode"] = [_("Give either an EAN-13 barcode or an internal code, not both.")]
    elif not barcode and not internal:
        errors["barcode"] = [_("Give an EAN-13 barcode, or an internal code for loose goods.")]
    elif barcode and "barcode" in cleaned:
        if not (len(barcode) == 13 and barcode.isdigit()):
            errors["barcode"] = [_("An EAN-13 barcode is 13 digits.")]
        elif not codes.is_valid_ean13(barcode):
            errors["barcode"] = [_("Invalid EAN-13 barcode: wrong check digit.")]
    elif internal and "internal_code" in cleaned and not codes.is_valid_internal_code(internal):
        errors["internal_code"] = [_("An internal code is 1-32 letters, digits, '-', '_' or '.' (not 13 digits).")]
    for code_field, code in (("barcode", barcode), ("internal_code", internal)):
        if code and code_field in cleaned and code_field not in errors:
            taken = Product.objects.filter(Q(barcode=code) | Q(internal_code=code))
            if instance is not None:
                taken = taken.exclude(pk=instance.pk)
            if taken.exists():
                errors[code_field] = [_("Another product already uses the code %(code)s.") % {"code": code}]

    if "supplier" in cleaned and not isinstance(cleaned["supplier"], Supplier):
        errors["supplier"] = [_("Choose a supplier.")]
    if cleaned.get("category") is not None and not isinstance(cleaned["category"], Category):
        errors["category"] = [_("Unknown category.")]
    if "unit" in cleaned and cleaned["unit"] not in Product.Unit.values:
        errors["unit"] = [_("Choose piece, kg or l.")]
    for name, parse in (
        ("cost_price", _money),
        ("package_size", lambda v: _quantity(v, positive=True)),
        ("min_stock", _quantity),
    ):
        if name in cleaned:
            try:
                cleaned[name] = parse(cleaned[name])
            except ValueError as exc:
                errors[name] = [str(exc)]
    if "vat_rate" in cleaned:
        try:
            vat = _decimal(cleaned["vat_rate"], places=1, minimum=Decimal(0), maximum=Decimal(100))
        except ValueError:
            vat = None
        if vat is None or not pricing.is_allowed_vat(vat):
            errors["vat_rate"] = [_("The VAT rate is 5.5, 10 or 20 (%).")]
        else:
            cleaned["vat_rate"] = vat
    if cleaned.get("content_quantity") not in (None, ""):
        try:
            cleaned["content_quantity"] = _quantity(cleaned["content_quantity"], positive=True)
        except ValueError as exc:
            errors["content_quantity"] = [str(exc)]
    elif "content_quantity" in cleaned:
        cleaned["content_quantity"] = None
    if cleaned.get("content_unit") and cleaned["content_unit"] not in Product.ContentUnit.values:
        errors["content_unit"] = [_("Choose kg or l.")]
    content_quantity = cleaned.get("content_quantity", instance.content_quantity if instance else None)
    content_unit = cleaned.get("content_unit", instance.content_unit if instance else "")
    if bool(content_quantity) != bool(content_unit) and "content_quantity" not in errors:
        errors["content_unit"] = [_("Give the net content and its unit together.")]
    if errors:
        raise ValidationError(errors)
    return cleaned


LABEL_FIELDS = ("name", "barcode", "internal_code", "unit", "content_quantity", "content_unit")


def _price_of(product: Product) -> Decimal:
    margin = InventoryParameters.current().default_margin
    category_margin = product.category.margin if product.category_id else None
    return pricing.sale_price(product.cost_price, pricing.effective_margin(margin, category_margin), product.vat_rate)


@transaction.atomic
def product_create(
    *, name: str, supplier: Supplier, cost_price, vat_rate, unit: str = Product.Unit.PIECE,
    barcode: str | None = None, internal_code: str | None = None, by=None, **fields,
) -> Product:
    cleaned = product_clean({
        "name": name, "supplier": supplier, "cost_price": cost_price, "vat_rate": vat_rate, "unit": unit,
        "barcode": barcode, "internal_code": internal_code, **fields,
    })
    product = Product(**cleaned)
    product.sale_price = _price_of(product)
    product.label_needs_reprint = True
    product.save()
    return product


@transaction.atomic
def product_update(*, product: Product, by=None, **fields) -> Product:
    """Change a product; a new cost, VAT rate or category re-prices it and flags its label."""
    cleaned = product_clean(fields, instance=product)
    product = Product.objects.select_for_update(of=("self",)).select_related("category").get(pk=product.pk)
    label_changed = any(
        getattr(product, name) != cleaned[name] for name in LABEL_FIELDS if name in cleaned
    )
    for name, value in cleaned.items():
        setattr(product, name, value)
    price = _price_of(product)
    if price != product.sale_price:
        product.sale_price = price
        label_changed = True
    if label_changed:
        product.label_needs_reprint = True
    product.save()
    return product


@transaction.atomic
def labels_mark_printed(*, products) -> int:
    """The shelf labels of these products were printed with their current prices."""
    return Product.objects.filter(pk__in=[p.pk for p in products], label_needs_reprint=True).update(label_needs_reprint=False)


# --- stock moves ------------------------------------------------------------------------------

def _lock_products(ids) -> dict[int, Product]:
    """Lock product rows in a stable order (no deadlock between two writers)."""
    return {p.pk: p for p in Product.objects.select_for_update().filter(pk__in=sorted(set(ids))).order_by("pk")}


def _default_price(product: Product, kind: str) -> Decimal:
    return product.sale_price if kind == StockMove.Kind.SALE else product.cost_price


@transaction.atomic
def stock_move_record(
    *, product: Product, kind: str, quantity, date: datetime.date, unit_price=None, reference: str = "",
    today: datetime.date | None = None, by=None,
) -> StockMove:
    """Record one move. `quantity` is entered positive; for a count it is the level found and the
    move is found - expected. Without a price: cost price (reception, loss, count) or sale price."""
    errors: dict[str, list[str]] = {}
    if kind not in StockMove.Kind.values:
        errors["kind"] = [_("Choose reception, sale, loss or count.")]
    try:
        quantity = _quantity(quantity, positive=kind != StockMove.Kind.COUNT)
    except ValueError as exc:
        errors["quantity"] = [str(exc)]
    if unit_price not in (None, ""):
        try:
            unit_price = _money(unit_price)
        except ValueError as exc:
            errors["unit_price"] = [str(exc)]
    else:
        unit_price = None
    if today is not None and date > today:
        errors["date"] = [_("A stock move cannot be dated in the future.")]
    if len(reference or "") > 100:
        errors["reference"] = [_("At most 100 characters.")]
    if errors:
        raise ValidationError(errors)
    product = _lock_products([product.pk])[product.pk]
    # A count compares with the stock as of its own date: a count entered late is still right.
    expected = selectors.product_stock(product, as_of=date) if kind == StockMove.Kind.COUNT else None
    return StockMove.objects.create(
        product=product, kind=kind, quantity=rules.signed_quantity(kind, quantity, expected),
        counted=quantity if kind == StockMove.Kind.COUNT else None,
        unit_price=unit_price if unit_price is not None else _default_price(product, kind),
        date=date, reference=reference or "", supplier=product.supplier if kind == StockMove.Kind.RECEPTION else None,
        author=_user(by),
    )


# --- purchase orders --------------------------------------------------------------------------

def _editable(order: PurchaseOrder) -> PurchaseOrder:
    order = PurchaseOrder.objects.select_for_update().get(pk=order.pk)
    if not order.is_draft:
        raise RuleViolation("not_allowed", _("Only a draft order can be changed."))
    return order


def _clean_line(product, quantity, unit_price, *, supplier: Supplier) -> tuple[Decimal, Decimal]:
    errors = {}
    if not isinstance(product, Product):
        errors["product"] = [_("Choose a product.")]
    elif product.supplier_id != supplier.pk:
        errors["product"] = [_("%(product)s is not supplied by %(supplier)s.") % {"product": product, "supplier": supplier}]
    try:
        quantity = _quantity(quantity, positive=True)
    except ValueError as exc:
        errors["quantity"] = [str(exc)]
    try:
        unit_price = _money(unit_price if unit_price not in (None, "") else getattr(product, "cost_price", None))
    except ValueError as exc:
        errors["unit_price"] = [str(exc)]
    if errors:
        raise ValidationError(errors)
    return quantity, unit_price


@transaction.atomic
def purchase_order_create(*, supplier: Supplier, lines=(), expected_on=None, notes: str = "", by=None) -> PurchaseOrder:
    """A draft order; `lines` are (product, quantity, unit_price or None for the cost price)."""
    cleaned = [(product, *_clean_line(product, quantity, price, supplier=supplier)) for product, quantity, price in lines]
    if len({product.pk for product, _q, _p in cleaned}) != len(cleaned):
        raise ValidationError({"product": [_("A product appears twice on the order.")]})
    order = PurchaseOrder.objects.create(supplier=supplier, expected_on=expected_on, notes=notes or "", created_by=_user(by))
    PurchaseOrderLine.objects.bulk_create(
        [PurchaseOrderLine(order=order, product=product, quantity=quantity, unit_price=price) for product, quantity, price in cleaned]
    )
    return order


@transaction.atomic
def purchase_order_set_line(*, order: PurchaseOrder, product: Product, quantity, unit_price=None, by=None) -> PurchaseOrderLine:
    """Add a product to a draft order, or change its quantity and price."""
    order = _editable(order)
    quantity, unit_price = _clean_line(product, quantity, unit_price, supplier=order.supplier)
    line, _created = PurchaseOrderLine.objects.update_or_create(
        order=order, product=product, defaults={"quantity": quantity, "unit_price": unit_price}
    )
    return line


@transaction.atomic
def purchase_order_remove_line(*, order: PurchaseOrder, line: PurchaseOrderLine, by=None) -> None:
    order = _editable(order)
    PurchaseOrderLine.objects.filter(pk=line.pk, order=order).delete()


@transaction.atomic
def purchase_order_update(*, order: PurchaseOrder, expected_on=..., notes=..., by=None) -> PurchaseOrder:
    order = _editable(order)
    if expected_on is not ...:
        order.expected_on = expected_on
    if notes is not ...:
        order.notes = notes or ""
    order.save()
    return order


@transaction.atomic
def purchase_orders_from_suggestions(
    *, product_ids=None, quantities: dict[int, Decimal] | None = None, today: datetime.date, by=None
) -> list[PurchaseOrder]:
    """Draft orders, one per supplier, from the reorder suggestions (all of them, or the chosen
    products, with quantities possibly changed). A supplier's existing draft is reused: the
    product's line is set to the suggested quantity, so doing it twice does not double it."""
    suggestions = [s for s in selectors.reorder_suggestions(today=today) if product_ids is None or s.product.pk in product_ids]
    quantities = quantities or {}
    by_supplier: dict[int, list] = {}
    for suggestion in suggestions:
        quantity = quantities.get(suggestion.product.pk, suggestion.quantity)
        if quantity and quantity > 0:
            by_supplier.setdefault(suggestion.product.supplier_id, []).append((suggestion.product, quantity))
    orders = []
    for lines in by_supplier.values():
        supplier = lines[0][0].supplier
        order = (
            PurchaseOrder.objects.select_for_update()
            .filter(supplier=supplier, status=PurchaseOrder.Status.DRAFT).order_by("-created_at", "-id").first()
        )
        if order is None:
            order = PurchaseOrder.objects.create(supplier=supplier, created_by=_user(by))
        for product, quantity in lines:
            quantity, price = _clean_line(product, quantity, None, supplier=supplier)
            PurchaseOrderLine.objects.update_or_create(
                order=order, product=product, defaults={"quantity": quantity, "unit_price": price}
            )
        orders.append(order)
    return orders


@transaction.atomic
def purchase_order_send(*, order: PurchaseOrder, now: datetime.datetime, email: bool = True, by=None) -> PurchaseOrder:
    """Draft -> sent. With `email`, the order's PDF is e-mailed to the supplier by a Celery task
    once the transaction commits; without, the supply team phones or hands over the PDF."""
    order = _editable(order)
    if not order.lines.exists():
        raise ValidationError({"lines": [_("An order needs at least one line.")]})
    if email and not order.supplier.email:
        raise ValidationError({"email": [_("This supplier has no e-mail address: add one, or send the order yourself.")]})
    order.status = PurchaseOrder.Status.SENT
    order.sent_at = now
    order.sent_to = order.supplier.email if email else ""
    order.save()
    if email:
        from .tasks import email_purchase_order

        order_id = order.pk
        transaction.on_commit(lambda: email_purchase_order.delay(order_id))
    return order


@transaction.atomic
def purchase_order_cancel(*, order: PurchaseOrder, by=None) -> PurchaseOrder:
    order = PurchaseOrder.objects.select_for_update().get(pk=order.pk)
    if order.status not in (PurchaseOrder.Status.DRAFT, PurchaseOrder.Status.SENT):
        raise RuleViolation("not_allowed", _("An order that has been received cannot be cancelled."))
    order.status = PurchaseOrder.Status.CANCELLED
    order.save(update_fields=["status"])
    return order


@transaction.atomic
def reception_record(
    *, order: PurchaseOrder, lines, received_on: datetime.date, closes_order: bool = False, notes: str = "",
    today: datetime.date | None = None, by=None,
) -> Reception:
    """Record a delivery against a sent order. `lines` are (order_line, quantity, unit_price or
    None for the price ordered). Quantities and prices that differ from what was still expected
    are flagged. More than the order still expects is refused (400) and nothing is written.
    The order becomes received when every line is complete or `closes_order`, else partially
    received. Each quantity received becomes a reception move at the price paid."""
    order = PurchaseOrder.objects.select_for_update().select_related("supplier").get(pk=order.pk)
    if not order.can_receive:
        raise RuleViolation("not_allowed", _("Only a sent order can be received."))
    if today is not None and received_on > today:
        raise ValidationError({"received_on": [_("A reception cannot be dated in the future.")]})
    order_lines = {line.pk: line for line in selectors.order_lines_with_received(order)}
    errors: list[str] = []
    cleaned = []
    seen = set()
    for order_line, quantity, unit_price in lines:
        line = order_lines.get(getattr(order_line, "pk", order_line))
        if line is None:
            errors.append(_("A line does not belong to this order."))
            continue
        if line.pk in seen:
            errors.append(_("%(product)s: received twice in one reception.") % {"product": line.product})
            continue
        seen.add(line.pk)
        try:
            quantity = _quantity(quantity if quantity not in (None, "") else 0)
        except ValueError as exc:
            errors.append(f"{line.product}: {exc}")
            continue
        try:
            unit_price = _money(unit_price) if unit_price not in (None, "") else line.unit_price
        except ValueError as exc:
            errors.append(f"{line.product}: {exc}")
            continue
        if quantity > line.remaining:
            errors.append(_("%(product)s: %(quantity)s received but the order only expects %(remaining)s more.") % {
                "product": line.product, "quantity": rules.plain(quantity), "remaining": rules.plain(line.remaining),
            })
            continue
        cleaned.append((line, quantity, unit_price))
    if errors:
        raise ValidationError({"lines": errors})
    if not any(quantity > 0 for _line, quantity, _price in cleaned) and not closes_order:
        raise ValidationError({"lines": [_("Nothing received: enter the quantities that arrived.")]})

    reception = Reception.objects.create(
        order=order, received_on=received_on, closes_order=closes_order, notes=notes or "", received_by=_user(by)
    )
    _lock_products([line.product_id for line, _q, _p in cleaned])
    moves = []
    complete = True
    received_now = {line.pk: quantity for line, quantity, _p in cleaned}
    for line, quantity, unit_price in cleaned:
        reception_line = ReceptionLine.objects.create(
            reception=reception, order_line=line, quantity=quantity, unit_price=unit_price,
            quantity_expected=line.remaining, price_ordered=line.unit_price,
            quantity_differs=quantity != line.remaining, price_differs=unit_price != line.unit_price,
        )
        if quantity > 0:
            moves.append(StockMove(
                product_id=line.product_id, kind=StockMove.Kind.RECEPTION, quantity=quantity, unit_price=unit_price,
                date=received_on, reference=order.reference, supplier=order.supplier, reception_line=reception_line,
                author=_user(by),
            ))
    for line in order_lines.values():
        if line.remaining - received_now.get(line.pk, 0) > 0:
            complete = False
    StockMove.objects.bulk_create(moves)
    if complete or closes_order:
        order.status = PurchaseOrder.Status.RECEIVED
        order.received_on = received_on
    else:
        order.status = PurchaseOrder.Status.PARTIALLY_RECEIVED
    order.save(update_fields=["status", "received_on"])
    return reception


# --- stock counts -----------------------------------------------------------------------------

@transaction.atomic
def stock_count_create(*, category: Category | None, counted_on: datetime.date, by=None) -> StockCount:
    """A count sheet listing the active products of a category (every active product without one)."""
    count = StockCount.objects.create(category=category, counted_on=counted_on, created_by=_user(by))
    products = Product.objects.filter(active=True)
    if category is not None:
        products = products.filter(category=category)
    StockCountLine.objects.bulk_create(
        [StockCountLine(count=count, product_id=pk) for pk in products.order_by("name").values_list("pk", flat=True)]
    )
    return count


def _open_count(count: StockCount) -> StockCount:
    count = StockCount.objects.select_for_update().get(pk=count.pk)
    if not count.is_open:
        raise RuleViolation("not_allowed", _("This count has been applied; start a new count."))
    return count


@transaction.atomic
def stock_count_save(*, count: StockCount, counted: dict[int, object], by=None) -> StockCount:
    """Store counted quantities (line id -> quantity found, or None/"" for not counted yet)."""
    count = _open_count(count)
    lines = {line.pk: line for line in count.lines.all()}
    errors = []
    changed = []
    for line_id, value in counted.items():
        line = lines.get(int(line_id))
        if line is None:
            errors.append(_("A line does not belong to this count."))
            continue
        if value in (None, ""):
            new = None
        else:
            try:
                new = _quantity(value)
            except ValueError as exc:
                errors.append(f"{line.product_id}: {exc}")
                continue
        if new != line.counted:
            line.counted = new
            changed.append(line)
    if errors:
        raise ValidationError({"counted": errors})
    StockCountLine.objects.bulk_update(changed, ["counted"])
    return count


@transaction.atomic
def stock_count_apply(*, count: StockCount, now: datetime.datetime, by=None) -> StockCount:
    """Each counted line becomes a count move (found - expected, valued at the cost price); lines
    left empty are not counted and move nothing. Stores the loss and surplus values."""
    count = _open_count(count)
    lines = list(count.lines.filter(counted__isnull=False).select_related("product"))
    if not lines:
        raise ValidationError({"counted": [_("Enter at least one counted quantity.")]})
    _lock_products([line.product_id for line in lines])
    expected = selectors.stocks_as_of([line.product_id for line in lines], count.counted_on)
    loss = gain = Decimal("0")
    moves = []
    for line in lines:
        line.expected = expected.get(line.product_id, Decimal("0"))
        line.difference = rules.signed_quantity(rules.COUNT, line.counted, line.expected)
        line.unit_cost = line.product.cost_price
        line.value = pricing.line_value(line.difference, line.unit_cost)
        if line.value < 0:
            loss -= line.value
        else:
            gain += line.value
        moves.append(StockMove(
            product_id=line.product_id, kind=StockMove.Kind.COUNT, quantity=line.difference, counted=line.counted,
            unit_price=line.unit_cost, date=count.counted_on, reference=_("Count #%(id)s") % {"id": count.pk},
            count_line=line, author=_user(by),
        ))
    StockCountLine.objects.bulk_update(lines, ["expected", "difference", "unit_cost", "value"])
    StockMove.objects.bulk_create(moves)
    count.status = StockCount.Status.APPLIED
    count.applied_at = now
    count.applied_by = _user(by)
    count.loss_value = loss
    count.gain_value = gain
    count.save()
    return count


# --- sales import -----------------------------------------------------------------------------

SALES_COLUMNS = {
    "date": ("day", "jour"),
    "barcode": ("code", "ean", "ean13", "code_barre", "code_barres", "product_code"),
    "quantity": ("qty", "quantite", "qte"),
    "unit_price": ("price", "prix", "prix_unitaire", "unit price"),
    "reference": ("ticket", "receipt", "ref"),
}


@dataclass
class RowError:
    line: int
    message: str


@dataclass
class ImportResult:
    rows_total: int = 0
    created: int = 0
    updated: int = 0
    skipped: int = 0  # sales already imported (same row in an earlier file)
    unchanged: int = 0
    errors: list[RowError] = field(default_factory=list)
    duplicate_of: SalesImport | None = None
    sales_import: SalesImport | None = None

    @property
    def rejected(self) -> int:
        return len(self.errors)


def _file_error(exc: csvfiles.CSVFileError) -> ValidationError:
    return ValidationError({"file": [_("This file cannot be imported: %(reason)s.") % {"reason": exc}]})


def _code_error(code: str) -> str | None:
    if not code:
        return _("no barcode or internal code")
    if code.isdigit() and len(code) == 13 and not codes.is_valid_ean13(code):
        return _("invalid barcode %(code)s: wrong check digit") % {"code": code}
    return None


def sales_import(*, content: bytes, filename: str, today: datetime.date, by=None) -> ImportResult:
    """Sale moves from the till's CSV (date, barcode, quantity, unit price[, reference]).

    Bad rows are reported with their line numbers and the good rows are kept. Importing the same
    file again writes nothing (its hash is known). Each good row also carries a key (date, code,
    quantity, price, reference and its occurrence in the file), so a corrected file imported after
    the first one only adds the rows that were rejected before.
    """
    digest = csvfiles.file_hash(content)
    existing = SalesImport.objects.filter(file_hash=digest).first()
    if existing is not None:
        return ImportResult(rows_total=existing.rows_total, duplicate_of=existing)
    try:
        delimiter, rows = csvfiles.read_rows(content, SALES_COLUMNS, ("date", "barcode", "quantity", "unit_price"))
    except csvfiles.CSVFileError as exc:
        raise _file_error(exc) from exc
    result = ImportResult(rows_total=len(rows))
    wanted = {row.values.get("barcode") or "" for row in rows}
    products = {}
    for product in Product.objects.filter(Q(barcode__in=wanted) | Q(internal_code__in=wanted)):
        products[product.code] = product
    parsed = []
    occurrences: Counter = Counter()
    for row in rows:
        values = row.values
        code = values.get("barcode") or ""
        problems = []
        if (code_problem := _code_error(code)) is not None:
            problems.append(code_problem)
        elif code not in products:
            problems.append(_("unknown product %(code)s") % {"code": code})
        try:
            date = csvfiles.parse_date(values.get("date"))
            if date > today:
                problems.append(_("date %(date)s is in the future") % {"date": date.isoformat()})
        except ValueError:
            problems.append(_("invalid date %(value)r") % {"value": values.get("date") or ""})
            date = None
        try:
            quantity = _quantity(csvfiles.parse_decimal(values.get("quantity"), delimiter), positive=True)
        except ValueError:
            problems.append(_("invalid quantity %(value)r (a positive number, at most 3 decimals)") % {"value": values.get("quantity") or ""})
            quantity = None
        try:
            price = _money(csvfiles.parse_decimal(values.get("unit_price"), delimiter))
        except ValueError:
            problems.append(_("invalid unit price %(value)r (a number, 0 or more, at most 2 decimals)") % {"value": values.get("unit_price") or ""})
            price = None
        reference = (values.get("reference") or "")[:100]
        if problems:
            result.errors.append(RowError(row.line, "; ".join(problems)))
            continue
        natural = f"{date.isoformat()}|{code}|{quantity}|{price}|{reference}"
        occurrences[natural] += 1
        key = hashlib.sha256(f"{natural}|{occurrences[natural]}".encode()).hexdigest()
        parsed.append((row.line, products[code], date, quantity, price, reference, key))

    try:
        with transaction.atomic():
            known = set(StockMove.objects.filter(import_key__in=[p[-1] for p in parsed]).values_list("import_key", flat=True))
            fresh = [p for p in parsed if p[-1] not in known]
            result.skipped = len(parsed) - len(fresh)
            result.created = len(fresh)
            batch = SalesImport.objects.create(
                file_hash=digest, filename=(filename or "")[:255], imported_by=_user(by), rows_total=len(rows),
                rows_imported=len(fresh), rows_skipped=result.skipped, rows_rejected=len(result.errors),
                errors=[{"line": e.line, "message": e.message} for e in result.errors],
            )
            _lock_products([p[1].pk for p in fresh])
            StockMove.objects.bulk_create(
                [
                    StockMove(
                        product=product, kind=StockMove.Kind.SALE, quantity=-quantity, unit_price=price, date=date,
                        reference=reference or _("Sales import #%(id)s, line %(line)s") % {"id": batch.pk, "line": line},
                        sales_import=batch, import_key=key, author=_user(by),
                    )
                    for line, product, date, quantity, price, reference, key in fresh
                ],
                batch_size=1000,
            )
    except IntegrityError:
        # The same file (or the same rows) imported at the same moment by someone else.
        existing = SalesImport.objects.filter(file_hash=digest).first()
        if existing is None:
            raise
        return ImportResult(rows_total=existing.rows_total, duplicate_of=existing)
    result.sales_import = batch
    return result


# --- supplier catalogue import ----------------------------------------------------------------

CATALOGUE_COLUMNS = {
    "barcode": ("code", "ean", "ean13", "code_barre", "code_barres", "internal_code"),
    "name": ("product", "produit", "nom", "designation", "libelle"),
    "cost_price": ("cost", "price", "prix", "prix_ht", "unit_price"),
    "vat_rate": ("vat", "tva", "taux_tva"),
    "unit": ("unite",),
    "package_size": ("package", "colis", "colisage", "pack_size"),
    "category": ("categorie", "rayon"),
    "min_stock": ("minimum", "stock_min", "stock_minimum"),
}
UNIT_ALIASES = {"piece": "piece", "pc": "piece", "pcs": "piece", "u": "piece", "unit": "piece", "pièce": "piece",
                "kg": "kg", "l": "l", "litre": "l", "liter": "l"}


@transaction.atomic
def catalogue_import(*, supplier: Supplier, content: bytes, by=None) -> ImportResult:
    """Create or update the supplier's products from its catalogue CSV, matched by barcode (or
    internal code). Columns: barcode, name, cost_price, vat_rate, and optionally unit,
    package_size, category (an existing one), min_stock. Bad rows are reported with their line
    numbers; good rows are applied. Price changes re-price the product and flag its label."""
    try:
        delimiter, rows = csvfiles.read_rows(content, CATALOGUE_COLUMNS, ("barcode", "name", "cost_price", "vat_rate"))
    except csvfiles.CSVFileError as exc:
        raise _file_error(exc) from exc
    result = ImportResult(rows_total=len(rows))
    categories = {c.name.lower(): c for c in Category.objects.all()}
    wanted = {row.values.get("barcode") or "" for row in rows}
    existing = {p.code: p for p in Product.objects.filter(Q(barcode__in=wanted) | Q(internal_code__in=wanted)).select_related("category")}
    seen: dict[str, int] = {}
    for row in rows:
        values = row.values
        code = values.get("barcode") or ""
        problems = []
        if code in seen:
            result.errors.append(RowError(row.line, _("code %(code)s already on line %(line)s") % {"code": code, "line": seen[code]}))
            continue
        seen[code] = row.line
        fields: dict = {"name": values.get("name") or ""}
        for name in ("cost_price", "vat_rate", "package_size", "min_stock"):
            raw = values.get(name)
            if raw in (None, "") and name in ("package_size", "min_stock"):
                continue
            try:
                fields[name] = csvfiles.parse_decimal(raw, delimiter)
            except ValueError:
                problems.append(_("%(column)s: not a number (%(value)r)") % {"column": name, "value": raw or ""})
        if values.get("unit"):
            unit = UNIT_ALIASES.get(values["unit"].strip().lower())
            if unit is None:
                problems.append(_("unit: %(value)r is not piece, kg or l") % {"value": values["unit"]})
            else:
                fields["unit"] = unit
        if values.get("category"):
            category = categories.get(values["category"].strip().lower())
            if category is None:
                problems.append(_("unknown category %(value)r") % {"value": values["category"]})
            else:
                fields["category"] = category
        product = existing.get(code)
        if product is not None and product.supplier_id != supplier.pk:
            problems.append(_("code %(code)s belongs to a product of another supplier (%(name)s)") % {"code": code, "name": product.name})
        if problems:
            result.errors.append(RowError(row.line, "; ".join(problems)))
            continue
        is_barcode = code.isdigit() and len(code) == 13
        try:
            with transaction.atomic():
                if product is None:
                    code_field = {"barcode": code} if is_barcode or code.isdigit() else {"internal_code": code}
                    product = product_create(supplier=supplier, by=by, **code_field, **fields)
                    existing[code] = product
                    result.created += 1
                else:
                    changes = {
                        name: value for name, value in fields.items()
                        if getattr(product, name) != value
                    }
                    if changes:
                        product_update(product=product, by=by, **changes)
                        result.updated += 1
                    else:
                        result.unchanged += 1
        except ValidationError as exc:
            messages = [f"{name}: {' '.join(errs)}" for name, errs in exc.message_dict.items()]
            result.errors.append(RowError(row.line, "; ".join(messages)))
    return result
