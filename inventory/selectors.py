"""Reads that several pages, the API and the services share. Everything is computed in the
database: the stock of a product is the sum of its moves (a correlated subquery per row, served by
an index-only scan of `stockmove_product_kind_date`), never a Python loop over products."""
from __future__ import annotations

import datetime
from dataclasses import dataclass
from decimal import Decimal

from django.db.models import (
    BooleanField,
    DecimalField,
    ExpressionWrapper,
    F,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
)
from django.db.models.functions import Coalesce, Round, TruncMonth

from . import pricing, rules
from .models import InventoryParameters, Product, PurchaseOrder, PurchaseOrderLine, ReceptionLine, StockMove, Supplier

QUANTITY_FIELD = DecimalField(max_digits=12, decimal_places=3)
MONEY_FIELD = DecimalField(max_digits=14, decimal_places=2)
ZERO_QUANTITY = Value(Decimal("0"), output_field=QUANTITY_FIELD)
OPEN_ORDER_STATUSES = (PurchaseOrder.Status.SENT, PurchaseOrder.Status.PARTIALLY_RECEIVED)


def _sum_subquery(queryset: QuerySet, field: str) -> Coalesce:
    """SUM(field) of `queryset` (already filtered on OuterRef) as a scalar, 0 when empty.

    Rounded to the 3 decimals quantities have: SQLite sums decimals as floats, and without the
    rounding a stock of 10 could read 9.9999999999999 and fall "under" a minimum of 10.
    """
    # Grouping by a constant keeps a single row: the aggregate of the whole correlated set.
    total = queryset.order_by().annotate(_one=Value(1)).values("_one").annotate(total=Round(Sum(field), 3)).values("total")
    return Coalesce(Subquery(total, output_field=QUANTITY_FIELD), ZERO_QUANTITY, output_field=QUANTITY_FIELD)


def stock_expression() -> Coalesce:
    """The current stock of the product in the outer query: the sum of its moves."""
    return _sum_subquery(StockMove.objects.filter(product=OuterRef("pk")), "quantity")


def sold_expression(*, since: datetime.date, until: datetime.date) -> Coalesce:
    """Quantity sold (positive) of the outer product between two dates included."""
    sales = StockMove.objects.filter(product=OuterRef("pk"), kind=StockMove.Kind.SALE, date__gte=since, date__lte=until)
    return ExpressionWrapper(-_sum_subquery(sales, "quantity"), output_field=QUANTITY_FIELD)


def on_order_expression() -> ExpressionWrapper:
    """Quantity still expected from sent orders: ordered - received on their lines."""
    ordered = _sum_subquery(
        PurchaseOrderLine.objects.filter(product=OuterRef("pk"), order__status__in=OPEN_ORDER_STATUSES), "quantity"
    )
    received = _sum_subquery(
        ReceptionLine.objects.filter(order_line__product=OuterRef("pk"), order_line__order__status__in=OPEN_ORDER_STATUSES),
        "quantity",
    )
    return ExpressionWrapper(ordered - received, output_field=QUANTITY_FIELD)


def local_expression(limit_km: int, prefix: str = "") -> ExpressionWrapper:
    return ExpressionWrapper(Q(**{f"{prefix}distance_km__lte": limit_km}), output_field=BooleanField())


def suppliers(params: InventoryParameters | None = None) -> QuerySet[Supplier]:
    """Suppliers with `is_local` annotated (derived from the distance, never stored)."""
    params = params or InventoryParameters.current()
    return Supplier.objects.annotate(is_local=local_expression(params.local_distance_km))


def products_with_stock(params: InventoryParameters | None = None) -> QuerySet[Product]:
    """Products with supplier and category joined, and `stock` and `local` annotated."""
    params = params or InventoryParameters.current()
    return Product.objects.select_related("supplier", "category").annotate(
        stock=stock_expression(), local=local_expression(params.local_distance_km, "supplier__"),
    )


def filter_below_minimum(products: QuerySet[Product], *, below: bool = True) -> QuerySet[Product]:
    """Products (annotated with `stock`) under their minimum stock, or at or above it.

    The sums over the whole catalogue run once, in a query that returns the matching ids; the
    page's count and rows then filter on those ids instead of summing every product's moves twice.
    """
    condition = Q(stock__lt=F("min_stock"))
    ids = list(products.filter(condition if below else ~condition).order_by().values_list("pk", flat=True))
    return products.filter(pk__in=ids)


def product_stock(product: Product | int, *, as_of: datetime.date | None = None) -> Decimal:
    """The stock: the sum of the product's moves (those dated on or before `as_of`, when given)."""
    pk = product.pk if isinstance(product, Product) else product
    moves = StockMove.objects.filter(product_id=pk)
    if as_of is not None:
        moves = moves.filter(date__lte=as_of)
    total = moves.aggregate(total=Sum("quantity"))["total"]
    return (total or Decimal("0")).quantize(rules.QUANTUM)


def stocks_as_of(product_ids, as_of: datetime.date) -> dict[int, Decimal]:
    """Each product's stock as of a date (moves dated on or before it), in one query."""
    rows = (
        StockMove.objects.filter(product_id__in=product_ids, date__lte=as_of)
        .values("product_id").annotate(total=Sum("quantity")).values_list("product_id", "total")
    )
    return {pk: (total or Decimal("0")).quantize(rules.QUANTUM) for pk, total in rows}


# --- reorder suggestions ----------------------------------------------------------------------

@dataclass(frozen=True)
class Suggestion:
    product: Product
    stock: Decimal
    min_stock: Decimal
    sold: Decimal
    on_order: Decimal
    average_daily_sales: Decimal
    quantity: Decimal  # to order, in the product's unit, whole packages
    packages: int

    @property
    def amount(self) -> Decimal:
        return pricing.line_value(self.quantity, self.product.cost_price)


def reorder_candidates(*, today: datetime.date, params: InventoryParameters | None = None) -> QuerySet[Product]:
    """Active products under their minimum stock, with stock, recent sales and quantity on order."""
    params = params or InventoryParameters.current()
    since = today - datetime.timedelta(days=params.reorder_sales_days - 1)
    return (
        Product.objects.filter(active=True, supplier__active=True)
        .select_related("supplier", "category")
        .annotate(stock=stock_expression())
        .filter(stock__lt=F("min_stock"))
        .annotate(sold=sold_expression(since=since, until=today), on_order=on_order_expression())
        .order_by("supplier__name", "supplier_id", "name", "id")
    )


def reorder_suggestions(
    *, today: datetime.date, supplier: Supplier | None = None, params: InventoryParameters | None = None
) -> list[Suggestion]:
    """DOMAIN.md §7: products under minimum stock, with a quantity from the average daily sales of
    the last `reorder_sales_days` days (28) covering `reorder_cover_days` days (28), minus stock
    and quantity already on order, rounded up to whole packages. Two queries whatever the size."""
    params = params or InventoryParameters.current()
    products = reorder_candidates(today=today, params=params)
    if supplier is not None:
        products = products.filter(supplier=supplier)
    suggestions = []
    for product in products:
        quantity = rules.reorder_quantity(
            stock=product.stock, min_stock=product.min_stock, sold=product.sold, on_order=product.on_order,
            sales_days=params.reorder_sales_days, cover_days=params.reorder_cover_days,
            package_size=product.package_size,
        )
        suggestions.append(Suggestion(
            product=product, stock=product.stock, min_stock=product.min_stock, sold=product.sold,
            on_order=product.on_order,
            average_daily_sales=(product.sold / params.reorder_sales_days).quantize(rules.QUANTUM),
            quantity=quantity, packages=rules.packages_for(quantity, product.package_size),
        ))
    return suggestions


# --- purchase orders --------------------------------------------------------------------------

def order_lines_with_received(order: PurchaseOrder) -> QuerySet[PurchaseOrderLine]:
    """The order's lines with `received` (sum of reception lines) and the product joined."""
    received = _sum_subquery(ReceptionLine.objects.filter(order_line=OuterRef("pk")), "quantity")
    return (
        order.lines.select_related("product", "product__supplier")
        .annotate(received=received, remaining=ExpressionWrapper(F("quantity") - received, output_field=QUANTITY_FIELD))
        .order_by("product__name", "id")
    )


def order_total(order: PurchaseOrder) -> Decimal:
    total = Decimal("0")
    for line in order.lines.all():
        total += line.amount
    return total


# --- reports ----------------------------------------------------------------------------------

PURCHASE_VALUE = ExpressionWrapper(F("quantity") * F("unit_price"), output_field=MONEY_FIELD)


@dataclass
class SourcingMonth:
    month: datetime.date
    local: Decimal
    total: Decimal

    @property
    def share(self) -> Decimal | None:
        """Local share of the month's purchases by value, in percent (1 decimal)."""
        if not self.total:
            return None
        return (self.local * 100 / self.total).quantize(Decimal("0.1"))


def local_sourcing_by_month(
    *, start: datetime.date, end: datetime.date, params: InventoryParameters | None = None
) -> list[SourcingMonth]:
    """Share of purchases (receptions, by value: quantity x price paid) from local suppliers, per
    month between two dates included. One query."""
    params = params or InventoryParameters.current()
    rows = (
        StockMove.objects.filter(kind=StockMove.Kind.RECEPTION, date__gte=start, date__lte=end, unit_price__isnull=False)
        .annotate(month=TruncMonth("date"), is_local=local_expression(params.local_distance_km, "supplier__"))
        .order_by()
        .values("month", "is_local")
        .annotate(value=Sum(PURCHASE_VALUE))
    )
    months: dict[datetime.date, SourcingMonth] = {}
    for row in rows:
        month = row["month"]
        if isinstance(month, datetime.datetime):
            month = month.date()
        entry = months.setdefault(month, SourcingMonth(month, Decimal("0"), Decimal("0")))
        value = pricing.round_cents(row["value"] or 0)
        entry.total += value
        if row["is_local"]:
            entry.local += value
    return [months[m] for m in sorted(months)]


@dataclass
class SourcingBand:
    label: str
    value: Decimal
    share: Decimal | None
    suppliers: int


def sourcing_by_distance_band(
    *, start: datetime.date, end: datetime.date, params: InventoryParameters | None = None
) -> list[SourcingBand]:
    """Purchases by value per distance band of the supplier (bands are a parameter). One query."""
    params = params or InventoryParameters.current()
    limits = params.band_limits
    rows = (
        StockMove.objects.filter(kind=StockMove.Kind.RECEPTION, date__gte=start, date__lte=end, unit_price__isnull=False)
        .order_by()
        .values("supplier_id", "supplier__distance_km")
        .annotate(value=Sum(PURCHASE_VALUE))
    )
    labels = rules.band_labels(limits)
    values = [Decimal("0")] * len(labels)
    counts = [0] * len(labels)
    for row in rows:
        if row["supplier_id"] is None:
            continue
        band = rules.distance_band(row["supplier__distance_km"], limits)
        values[band] += pricing.round_cents(row["value"] or 0)
        counts[band] += 1
    total = sum(values)
    return [
        SourcingBand(label, value, (value * 100 / total).quantize(Decimal("0.1")) if total else None, count)
        for label, value, count in zip(labels, values, counts, strict=True)
    ]


STOCK_VALUE = ExpressionWrapper(F("quantity") * F("product__cost_price"), output_field=MONEY_FIELD)


def stock_value_by_category() -> list[dict]:
    """Stock value at current cost price, per category: sum over moves of quantity x cost (the
    stock is the sum of moves, so this is stock x cost without reading products one by one)."""
    rows = (
        StockMove.objects.filter(product__active=True)
        .order_by()
        .values("product__category__name")
        .annotate(value=Sum(STOCK_VALUE))
        .order_by("product__category__name")
    )
    return [{"category": row["product__category__name"], "value": pricing.round_cents(row["value"] or 0)} for row in rows]


@dataclass
class LossMonth:
    month: datetime.date
    losses: Decimal  # declared losses (positive amount)
    count_shortfall: Decimal  # counts that found less than expected (positive amount)
    count_surplus: Decimal  # counts that found more

    @property
    def total(self) -> Decimal:
        return self.losses + self.count_shortfall - self.count_surplus


def losses_by_month(*, start: datetime.date, end: datetime.date) -> list[LossMonth]:
    """Value of declared losses and of count differences per month (at the cost recorded on the
    move). One query."""
    rows = (
        StockMove.objects.filter(kind__in=[StockMove.Kind.LOSS, StockMove.Kind.COUNT], date__gte=start, date__lte=end)
        .exclude(quantity=0)
        .annotate(month=TruncMonth("date"), negative=ExpressionWrapper(Q(quantity__lt=0), output_field=BooleanField()))
        .order_by()
        .values("month", "kind", "negative")
        .annotate(value=Sum(ExpressionWrapper(F("quantity") * Coalesce("unit_price", "product__cost_price"), output_field=MONEY_FIELD)))
    )
    months: dict[datetime.date, LossMonth] = {}
    for row in rows:
        month = row["month"]
        if isinstance(month, datetime.datetime):
            month = month.date()
        entry = months.setdefault(month, LossMonth(month, Decimal("0"), Decimal("0"), Decimal("0")))
        value = pricing.round_cents(abs(row["value"] or 0))
        if row["kind"] == StockMove.Kind.LOSS:
            entry.losses += value
        elif row["negative"]:
            entry.count_shortfall += value
        else:
            entry.count_surplus += value
    return [months[m] for m in sorted(months)]


def local_supplier_count(params: InventoryParameters | None = None) -> int:
    """Active suppliers at most the local distance from the shop (derived, never entered)."""
    params = params or InventoryParameters.current()
    return Supplier.objects.filter(active=True, distance_km__lte=params.local_distance_km).count()
