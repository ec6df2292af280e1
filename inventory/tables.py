import django_tables2 as tables
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from coopmarket.tables import DateColumn
from coopmarket.templatetags.coop import amount

from . import rules
from .models import Product, PurchaseOrder, Supplier

NUMBER = {"th": {"class": "text-end"}, "td": {"class": "text-end text-nowrap"}}
MONO = {"td": {"class": "font-monospace small"}}
TABLE_ATTRS = {"class": "table table-sm table-hover align-middle"}


class SupplierTable(tables.Table):
    name = tables.Column(verbose_name=_("Name"), linkify=True)
    city = tables.Column(verbose_name=_("City"))
    distance_km = tables.Column(verbose_name=_("Distance (km)"), attrs=NUMBER)
    is_local = tables.BooleanColumn(verbose_name=_("Local"))
    organic = tables.BooleanColumn(verbose_name=_("Organic"))
    contact = tables.Column(verbose_name=_("Contact"))
    email = tables.EmailColumn(verbose_name=_("E-mail"))
    phone = tables.Column(verbose_name=_("Phone"))
    products_count = tables.Column(verbose_name=_("Products"), attrs=NUMBER)
    active = tables.BooleanColumn(verbose_name=_("Active"), visible=False)

    class Meta:
        model = Supplier
        fields = ["name", "city", "distance_km", "is_local", "organic", "contact", "email", "phone", "products_count", "active"]
        order_by = ("name",)
        attrs = TABLE_ATTRS


def _quantity(value) -> str:
    return "" if value is None else rules.plain(value)


class ProductTable(tables.Table):
    name = tables.Column(verbose_name=_("Product"), linkify=True)
    code = tables.Column(verbose_name=_("Code"), accessor="barcode", order_by=("barcode", "internal_code"), attrs=MONO, empty_values=())
    supplier = tables.Column(verbose_name=_("Supplier"), order_by=("supplier__name",))
    category = tables.Column(verbose_name=_("Category"), order_by=("category__name",))
    unit = tables.Column(verbose_name=_("Unit"))
    cost_price = tables.Column(verbose_name=_("Cost excl. VAT"), attrs=NUMBER)
    vat_rate = tables.Column(verbose_name=_("VAT %"), attrs=NUMBER)
    sale_price = tables.Column(verbose_name=_("Sale price"), attrs=NUMBER)
    stock = tables.Column(verbose_name=_("Stock"), attrs=NUMBER)
    min_stock = tables.Column(verbose_name=_("Minimum"), attrs=NUMBER)
    local = tables.BooleanColumn(verbose_name=_("Local"))
    label_needs_reprint = tables.BooleanColumn(verbose_name=_("Label to print"))
    package_size = tables.Column(verbose_name=_("Package"), attrs=NUMBER, visible=False)
    active = tables.BooleanColumn(verbose_name=_("Active"), visible=False)

    class Meta:
        model = Product
        fields = [
            "name", "code", "supplier", "category", "unit", "cost_price", "vat_rate", "sale_price", "stock", "min_stock",
            "local", "label_needs_reprint", "package_size", "active",
        ]
        order_by = ("name",)
        attrs = TABLE_ATTRS
        row_attrs = {"class": lambda record: "table-warning" if record.stock < record.min_stock else ""}

    def render_code(self, record):
        return record.code

    def value_code(self, value, record=None):
        return record.code

    def value_supplier(self, value, record=None):
        return record.supplier.name

    def value_category(self, value, record=None):
        return record.category.name if record.category_id else ""

    def render_cost_price(self, value):
        return amount(value)

    def render_sale_price(self, value):
        return amount(value)

    def render_vat_rate(self, record):
        return rules.plain(record.vat_rate)

    def render_stock(self, value, record):
        text = _quantity(value)
        if value < record.min_stock:
            return format_html('<strong class="text-danger">{}</strong>', text)
        return text

    def render_min_stock(self, value):
        return _quantity(value)

    def render_package_size(self, value):
        return _quantity(value)

    def value_stock(self, value, record=None):
        return _quantity(value)

    def value_min_stock(self, value, record=None):
        return _quantity(value)

    def value_vat_rate(self, value, record=None):
        return rules.plain(record.vat_rate)


class OrderTable(tables.Table):
    reference = tables.Column(verbose_name=_("Order"), linkify=True, accessor="pk", order_by=("id",))
    supplier = tables.Column(verbose_name=_("Supplier"), order_by=("supplier__name",))
    status = tables.Column(verbose_name=_("Status"))
    created_at = DateColumn(verbose_name=_("Created"), short=True)
    sent_at = DateColumn(verbose_name=_("Sent"), short=True)
    expected_on = DateColumn(verbose_name=_("Expected"), short=True)
    lines_count = tables.Column(verbose_name=_("Lines"), attrs=NUMBER)
    total = tables.Column(verbose_name=_("Total excl. VAT"), attrs=NUMBER)

    class Meta:
        model = PurchaseOrder
        fields = ["reference", "supplier", "status", "created_at", "sent_at", "expected_on", "lines_count", "total"]
        order_by = ("-reference",)
        attrs = TABLE_ATTRS

    def render_reference(self, record):
        return record.reference

    def value_reference(self, value, record=None):
        return record.reference

    def value_supplier(self, value, record=None):
        return record.supplier.name

    def render_total(self, value):
        return amount(value)
