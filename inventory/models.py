"""Suppliers, products, the stock ledger, purchase orders, receptions, counts and sales imports
(DOMAIN.md §7). Rules live in `rules.py`, `pricing.py` and `services.py`; these are the rows.

Money is Decimal with 2 places; quantities are Decimal with 3 places (loose goods in kg or l).
"""
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models.functions import Lower
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from . import rules

MONEY = {"max_digits": 12, "decimal_places": 2}
QUANTITY = {"max_digits": 12, "decimal_places": 3}
PERCENT = {"max_digits": 5, "decimal_places": 2}


class InventoryParameters(models.Model):
    """Every number of DOMAIN.md §7 in one place: a singleton row that an admin edits."""

    local_distance_km = models.PositiveIntegerField(
        _("local supplier: at most (km)"), default=150, validators=[MinValueValidator(1)]
    )
    default_margin = models.DecimalField(
        _("coop-wide margin (%)"), default=Decimal("20.00"), validators=[MinValueValidator(0), MaxValueValidator(500)],
        **PERCENT,
    )
    reorder_sales_days = models.PositiveSmallIntegerField(
        _("reorder: days of sales averaged"), default=28, validators=[MinValueValidator(1)]
    )
    reorder_cover_days = models.PositiveSmallIntegerField(
        _("reorder: days of sales an order covers"), default=28, validators=[MinValueValidator(1)],
        help_text=_("An order brings the stock up to the average daily sales times this many days."),
    )
    distance_bands = models.CharField(
        _("distance bands of the sourcing report (km)"), max_length=100, default="50,150,300",
        help_text=_("Increasing limits in km, separated by commas."),
    )

    class Meta:
        verbose_name = _("inventory parameters")
        verbose_name_plural = _("inventory parameters")

    def __str__(self):
        return str(_("Inventory parameters"))

    def clean(self):
        try:
            rules.parse_band_limits(self.distance_bands)
        except ValueError as exc:
            raise ValidationError({"distance_bands": str(exc)}) from exc

    def save(self, *args, **kwargs):
        self.pk = 1
        super().save(*args, **kwargs)

    @classmethod
    def current(cls) -> "InventoryParameters":
        obj, _created = cls.objects.get_or_create(pk=1)
        return obj

    @property
    def band_limits(self) -> tuple[int, ...]:
        return rules.parse_band_limits(self.distance_bands)


class LedgerQuerySet(models.QuerySet):
    """Ledger rows are append-only: bulk updates and deletes are refused too."""

    def update(self, **kwargs):
        raise ValidationError("Ledger rows are immutable.")

    def delete(self):
        raise ValidationError("Ledger rows are immutable and cannot be deleted.")


class LedgerModel(models.Model):
    objects = LedgerQuerySet.as_manager()

    class Meta:
        abstract = True

    def save(self, *args, **kwargs):
        if self.pk is not None and not kwargs.pop("_allow_update", False):
            raise ValidationError("Ledger rows are immutable: record a new row instead.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise ValidationError("Ledger rows are immutable and cannot be deleted.")


class Supplier(models.Model):
    name = models.CharField(_("name"), max_length=200)
    contact = models.CharField(_("contact person"), max_length=200, blank=True)
    email = models.EmailField(_("e-mail"), blank=True)
    phone = models.CharField(_("phone"), max_length=32, blank=True)
    address = models.CharField(_("address"), max_length=255, blank=True)
    city = models.CharField(_("city"), max_length=100)
    distance_km = models.PositiveIntegerField(_("distance from the shop (km)"))
    organic = models.BooleanField(_("organic label"), default=False)
    active = models.BooleanField(_("active"), default=True)
    notes = models.TextField(_("notes"), blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("supplier")
        verbose_name_plural = _("suppliers")
        constraints = [models.UniqueConstraint(Lower("name"), name="supplier_name_unique_ci")]

    _is_local = None

    def __str__(self):
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("inventory:supplier_edit", args=[self.pk])

    @property
    def is_local(self) -> bool:
        """Derived, never entered: distance at most the coop's limit (selectors annotate it)."""
        if self._is_local is None:
            self._is_local = rules.is_local(self.distance_km, InventoryParameters.current().local_distance_km)
        return self._is_local

    @is_local.setter
    def is_local(self, value):
        self._is_local = value


class Category(models.Model):
    name = models.CharField(_("name"), max_length=100)
    margin = models.DecimalField(
        _("margin (%)"), null=True, blank=True, validators=[MinValueValidator(0), MaxValueValidator(500)],
        help_text=_("Leave empty to use the coop-wide margin."), **PERCENT,
    )

    class Meta:
        ordering = ["name"]
        verbose_name = _("category")
        verbose_name_plural = _("categories")
        constraints = [
            models.UniqueConstraint(Lower("name"), name="category_name_unique_ci"),
            models.CheckConstraint(condition=models.Q(margin__isnull=True) | models.Q(margin__gte=0), name="category_margin_positive"),
        ]

    def __str__(self):
        return self.name


class Product(models.Model):
    class Unit(models.TextChoices):
        PIECE = "piece", _("piece")
        KG = "kg", _("kg")
        LITRE = "l", _("litre")

    class ContentUnit(models.TextChoices):
        KG = "kg", _("kg")
        LITRE = "l", _("litre")

    VAT_CHOICES = [(Decimal("5.5"), "5.5 %"), (Decimal("10.0"), "10 %"), (Decimal("20.0"), "20 %")]

    name = models.CharField(_("name"), max_length=200)
    barcode = models.CharField(_("barcode (EAN-13)"), max_length=13, null=True, blank=True, unique=True)
    internal_code = models.CharField(_("internal code (loose goods)"), max_length=32, null=True, blank=True, unique=True)
    supplier = models.ForeignKey(Supplier, on_delete=models.PROTECT, related_name="products", verbose_name=_("supplier"))
    category = models.ForeignKey(
        Category, on_delete=models.PROTECT, related_name="products", null=True, blank=True, verbose_name=_("category")
    )
    unit = models.CharField(_("unit"), max_length=8, choices=Unit.choices, default=Unit.PIECE)
    package_size = models.DecimalField(_("package size (units per package)"), default=Decimal("1"), **QUANTITY)
    content_quantity = models.DecimalField(
        _("net content of a piece"), null=True, blank=True, help_text=_("For the price per kg or per litre on the label."),
        **QUANTITY,
    )
    content_unit = models.CharField(_("net content unit"), max_length=2, choices=ContentUnit.choices, blank=True)
    cost_price = models.DecimalField(_("cost price excl. VAT"), **MONEY)
    vat_rate = models.DecimalField(_("VAT (%)"), max_digits=4, decimal_places=1, choices=VAT_CHOICES)
    sale_price = models.DecimalField(_("sale price"), editable=False, **MONEY)
    min_stock = models.DecimalField(_("minimum stock"), default=Decimal("0"), **QUANTITY)
    label_needs_reprint = models.BooleanField(_("label to print"), default=True)
    active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name", "id"]
        verbose_name = _("product")
        verbose_name_plural = _("products")
        constraints = [
            models.CheckConstraint(
                condition=(
                    models.Q(barcode__isnull=False, internal_code__isnull=True)
                    | models.Q(barcode__isnull=True, internal_code__isnull=False)
                ),
                name="product_exactly_one_code",
            ),
            models.CheckConstraint(condition=models.Q(cost_price__gte=0), name="product_cost_not_negative"),
            models.CheckConstraint(condition=models.Q(sale_price__gte=0), name="product_sale_price_not_negative"),
            models.CheckConstraint(condition=models.Q(package_size__gt=0), name="product_package_positive"),
            models.CheckConstraint(condition=models.Q(min_stock__gte=0), name="product_min_stock_not_negative"),
            models.CheckConstraint(
                condition=models.Q(vat_rate__in=[Decimal("5.5"), Decimal("10"), Decimal("20")]), name="product_vat_rate_allowed"
            ),
        ]
        indexes = [models.Index(fields=["supplier", "name"]), models.Index(fields=["category", "name"])]

    def __str__(self):
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("inventory:product_detail", args=[self.pk])

    @property
    def code(self) -> str:
        return self.barcode or self.internal_code or ""


class StockMove(LedgerModel):
    """One row of the immutable stock ledger. The stock of a product is the sum of its moves.

    `quantity` is signed by kind (entered positive): reception +, sale -, loss -, count = found -
    expected (`counted` keeps the level found). Corrections are new moves.
    """

    class Kind(models.TextChoices):
        RECEPTION = rules.RECEPTION, _("Reception")
        SALE = rules.SALE, _("Sale")
        LOSS = rules.LOSS, _("Loss")
        COUNT = rules.COUNT, _("Count")

    product = models.ForeignKey(Product, on_delete=models.PROTECT, related_name="moves", verbose_name=_("product"))
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices)
    quantity = models.DecimalField(_("quantity"), **QUANTITY)
    counted = models.DecimalField(_("level found"), null=True, blank=True, **QUANTITY)
    unit_price = models.DecimalField(_("unit price"), null=True, blank=True, **MONEY)
    date = models.DateField(_("date"))
    reference = models.CharField(_("reference"), max_length=100, blank=True)
    supplier = models.ForeignKey(
        Supplier, on_delete=models.PROTECT, null=True, blank=True, related_name="+", verbose_name=_("bought from")
    )
    reception_line = models.ForeignKey("ReceptionLine", on_delete=models.PROTECT, null=True, blank=True, related_name="moves")
    count_line = models.ForeignKey("StockCountLine", on_delete=models.PROTECT, null=True, blank=True, related_name="moves")
    sales_import = models.ForeignKey("SalesImport", on_delete=models.PROTECT, null=True, blank=True, related_name="moves")
    import_key = models.CharField(max_length=64, null=True, blank=True, unique=True, editable=False)
    author = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    recorded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-date", "-id"]
        verbose_name = _("stock move")
        verbose_name_plural = _("stock moves")
        constraints = [
            models.CheckConstraint(
                condition=(
                    models.Q(kind=rules.RECEPTION, quantity__gt=0)
                    | models.Q(kind__in=[rules.SALE, rules.LOSS], quantity__lt=0)
                    | models.Q(kind=rules.COUNT, counted__isnull=False, counted__gte=0)
                ),
                name="stockmove_sign_by_kind",
            ),
            models.CheckConstraint(
                condition=models.Q(unit_price__isnull=True) | models.Q(unit_price__gte=0), name="stockmove_price_not_negative"
            ),
        ]
        indexes = [
            # Covers the stock sum and the sales of the last days per product (index-only scans).
            models.Index(fields=["product", "kind", "date", "quantity"], name="stockmove_product_kind_date"),
            models.Index(fields=["kind", "date"], name="stockmove_kind_date"),
        ]

    def __str__(self):
        return f"{self.get_kind_display()} {self.quantity} {self.product_id} {self.date}"

    @property
    def value(self) -> Decimal | None:
        if self.unit_price is None:
            return None
        return (self.quantity * self.unit_price).quantize(Decimal("0.01"))


class PurchaseOrder(models.Model):
    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        SENT = "sent", _("Sent")
        PARTIALLY_RECEIVED = "partially_received", _("Partially received")
        RECEIVED = "received", _("Received")
        CANCELLED = "cancelled", _("Cancelled")

    supplier = models.ForeignKey(Supplier, on_delete=models.PROTECT, related_name="orders", verbose_name=_("supplier"))
    status = models.CharField(_("status"), max_length=20, choices=Status.choices, default=Status.DRAFT, db_index=True)
    expected_on = models.DateField(_("delivery expected on"), null=True, blank=True)
    notes = models.TextField(_("notes for the supplier"), blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)
    sent_to = models.EmailField(_("sent to"), blank=True)
    received_on = models.DateField(_("received on"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("purchase order")
        verbose_name_plural = _("purchase orders")

    def __str__(self):
        return self.reference

    def get_absolute_url(self) -> str:
        return reverse("inventory:order_detail", args=[self.pk])

    @property
    def reference(self) -> str:
        return f"PO-{self.pk:05d}" if self.pk else "PO-new"

    @property
    def is_draft(self) -> bool:
        return self.status == self.Status.DRAFT

    @property
    def can_receive(self) -> bool:
        return self.status in (self.Status.SENT, self.Status.PARTIALLY_RECEIVED)


class PurchaseOrderLine(models.Model):
    order = models.ForeignKey(PurchaseOrder, on_delete=models.CASCADE, related_name="lines")
    product = models.ForeignKey(Product, on_delete=models.PROTECT, related_name="order_lines", verbose_name=_("product"))
    quantity = models.DecimalField(_("quantity ordered"), **QUANTITY)
    unit_price = models.DecimalField(_("unit price ordered"), **MONEY)

    class Meta:
        ordering = ["product__name", "id"]
        verbose_name = _("order line")
        verbose_name_plural = _("order lines")
        constraints = [
            models.UniqueConstraint(fields=["order", "product"], name="order_line_unique_product"),
            models.CheckConstraint(condition=models.Q(quantity__gt=0), name="order_line_quantity_positive"),
            models.CheckConstraint(condition=models.Q(unit_price__gte=0), name="order_line_price_not_negative"),
        ]

    def __str__(self):
        return f"{self.quantity} x {self.product}"

    @property
    def amount(self) -> Decimal:
        return (self.quantity * self.unit_price).quantize(Decimal("0.01"))


class Reception(LedgerModel):
    """A delivery received against a purchase order (there may be several: partial receptions)."""

    order = models.ForeignKey(PurchaseOrder, on_delete=models.PROTECT, related_name="receptions")
    received_on = models.DateField(_("received on"))
    closes_order = models.BooleanField(_("last delivery of the order"), default=False)
    notes = models.TextField(_("notes"), blank=True)
    received_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    recorded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["received_on", "id"]
        verbose_name = _("reception")
        verbose_name_plural = _("receptions")

    def __str__(self):
        return f"{self.order.reference} {self.received_on}"


class ReceptionLine(LedgerModel):
    """What arrived for one order line, and how it differs from what was still expected."""

    reception = models.ForeignKey(Reception, on_delete=models.PROTECT, related_name="lines")
    order_line = models.ForeignKey(PurchaseOrderLine, on_delete=models.PROTECT, related_name="reception_lines")
    quantity = models.DecimalField(_("quantity received"), **QUANTITY)
    unit_price = models.DecimalField(_("unit price invoiced"), **MONEY)
    quantity_expected = models.DecimalField(_("quantity still expected"), **QUANTITY)
    price_ordered = models.DecimalField(_("unit price ordered"), **MONEY)
    quantity_differs = models.BooleanField(_("quantity differs"), default=False)
    price_differs = models.BooleanField(_("price differs"), default=False)

    class Meta:
        ordering = ["id"]
        verbose_name = _("reception line")
        verbose_name_plural = _("reception lines")
        constraints = [
            models.CheckConstraint(condition=models.Q(quantity__gte=0), name="reception_line_quantity_not_negative"),
            models.CheckConstraint(condition=models.Q(unit_price__gte=0), name="reception_line_price_not_negative"),
            models.CheckConstraint(
                condition=models.Q(quantity__lte=models.F("quantity_expected")), name="reception_line_not_over_order"
            ),
        ]

    def __str__(self):
        return f"{self.quantity} x {self.order_line.product}"

    @property
    def has_difference(self) -> bool:
        return self.quantity_differs or self.price_differs


class StockCount(models.Model):
    """A count sheet for one category (or every product): counted quantities become count moves."""

    class Status(models.TextChoices):
        OPEN = "open", _("Open")
        APPLIED = "applied", _("Applied")

    category = models.ForeignKey(
        Category, on_delete=models.PROTECT, null=True, blank=True, related_name="counts", verbose_name=_("category")
    )
    counted_on = models.DateField(_("counted on"))
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.OPEN)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    applied_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    applied_at = models.DateTimeField(null=True, blank=True)
    loss_value = models.DecimalField(_("loss value"), default=Decimal("0"), **MONEY)
    gain_value = models.DecimalField(_("surplus value"), default=Decimal("0"), **MONEY)

    class Meta:
        ordering = ["-counted_on", "-id"]
        verbose_name = _("stock count")
        verbose_name_plural = _("stock counts")

    def __str__(self):
        return f"{self.category or _('All products')} {self.counted_on}"

    def get_absolute_url(self) -> str:
        return reverse("inventory:count_detail", args=[self.pk])

    @property
    def is_open(self) -> bool:
        return self.status == self.Status.OPEN


class StockCountLine(models.Model):
    count = models.ForeignKey(StockCount, on_delete=models.CASCADE, related_name="lines")
    product = models.ForeignKey(Product, on_delete=models.PROTECT, related_name="count_lines")
    counted = models.DecimalField(_("quantity counted"), null=True, blank=True, **QUANTITY)
    expected = models.DecimalField(_("expected"), null=True, blank=True, **QUANTITY)
    difference = models.DecimalField(_("difference"), null=True, blank=True, **QUANTITY)
    unit_cost = models.DecimalField(_("unit cost"), null=True, blank=True, **MONEY)
    value = models.DecimalField(_("value of the difference"), null=True, blank=True, **MONEY)

    class Meta:
        ordering = ["product__name", "id"]
        constraints = [
            models.UniqueConstraint(fields=["count", "product"], name="count_line_unique_product"),
            models.CheckConstraint(condition=models.Q(counted__isnull=True) | models.Q(counted__gte=0), name="count_line_not_negative"),
        ]

    def __str__(self):
        return f"{self.product} {self.counted}"


class SalesImport(LedgerModel):
    """One imported till file. The file's hash makes a second import of the same file a no-op."""

    file_hash = models.CharField(max_length=64, unique=True, editable=False)
    filename = models.CharField(_("file"), max_length=255)
    imported_at = models.DateTimeField(_("imported at"), auto_now_add=True)
    imported_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    rows_total = models.PositiveIntegerField(_("rows"), default=0)
    rows_imported = models.PositiveIntegerField(_("rows imported"), default=0)
    rows_skipped = models.PositiveIntegerField(_("rows already imported"), default=0)
    rows_rejected = models.PositiveIntegerField(_("rows rejected"), default=0)
    errors = models.JSONField(_("rejected rows"), default=list, blank=True)

    class Meta:
        ordering = ["-imported_at", "-id"]
        verbose_name = _("sales import")
        verbose_name_plural = _("sales imports")

    def __str__(self):
        return f"{self.filename} ({self.imported_at:%Y-%m-%d %H:%M})"
