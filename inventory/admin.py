"""Admin of the inventory. Writes go through the services (prices, labels, validation); ledgers
(stock moves, receptions, applied counts, sales imports) are read-only."""
from django import forms
from django.contrib import admin
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from . import services
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


class ReadOnlyAdmin(admin.ModelAdmin):
    """Ledgers and logs: visible, never edited or deleted here."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class ReadOnlyInline(admin.TabularInline):
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(InventoryParameters)
class InventoryParametersAdmin(admin.ModelAdmin):
    list_display = ["__str__", "local_distance_km", "default_margin", "reorder_sales_days", "reorder_cover_days", "distance_bands"]

    def has_add_permission(self, request):
        return not InventoryParameters.objects.exists()

    def has_delete_permission(self, request, obj=None):
        return False

    def save_model(self, request, obj, form, change):
        margin = form.cleaned_data["default_margin"]
        obj.default_margin = InventoryParameters.current().default_margin
        obj.save()
        if margin != obj.default_margin:
            services.margin_set(margin=margin, by=request.user)  # re-prices and flags labels


class ServiceFormMixin:
    """Runs the service's validation in the admin form, so errors show on the form."""

    clean_function = None

    def clean(self):
        cleaned = super().clean()
        fields = {name: cleaned[name] for name in self.changed_data if name in cleaned} if self.instance.pk else dict(cleaned)
        try:
            type(self).clean_function(fields, instance=self.instance if self.instance.pk else None)
        except ValidationError as exc:
            for field, messages in exc.message_dict.items():
                self.add_error(field if field in self.fields else None, messages)
        return cleaned

    def _post_clean(self):
        pass  # the service validated


class SupplierAdminForm(ServiceFormMixin, forms.ModelForm):
    clean_function = staticmethod(services.supplier_clean)

    class Meta:
        model = Supplier
        fields = list(services.SUPPLIER_FIELDS)


@admin.register(Supplier)
class SupplierAdmin(admin.ModelAdmin):
    form = SupplierAdminForm
    list_display = ["name", "city", "distance_km", "local", "organic", "email", "phone", "active"]
    list_filter = ["organic", "active"]
    search_fields = ["name", "city", "contact", "email"]

    @admin.display(boolean=True, description=_("local"))
    def local(self, obj):
        return obj.is_local

    def save_model(self, request, obj, form, change):
        fields = {name: form.cleaned_data[name] for name in form.changed_data} if change else dict(form.cleaned_data)
        if change:
            services.supplier_update(supplier=Supplier.objects.get(pk=obj.pk), by=request.user, **fields)
        else:
            obj.pk = services.supplier_create(by=request.user, **fields).pk


@admin.register(Category)
class CategoryAdmin(admin.ModelAdmin):
    list_display = ["name", "margin"]
    search_fields = ["name"]

    def save_model(self, request, obj, form, change):
        if change:
            services.category_update(category=Category.objects.get(pk=obj.pk), name=form.cleaned_data["name"],
                                     margin=form.cleaned_data["margin"], by=request.user)
        else:
            obj.pk = services.category_create(name=form.cleaned_data["name"], margin=form.cleaned_data["margin"], by=request.user).pk


class ProductAdminForm(ServiceFormMixin, forms.ModelForm):
    clean_function = staticmethod(services.product_clean)

    class Meta:
        model = Product
        fields = list(services.PRODUCT_FIELDS)


@admin.register(Product)
class ProductAdmin(admin.ModelAdmin):
    form = ProductAdminForm
    list_display = ["name", "barcode", "internal_code", "supplier", "category", "unit", "cost_price", "vat_rate", "sale_price",
                    "min_stock", "label_needs_reprint", "active"]
    list_filter = ["unit", "vat_rate", "active", "label_needs_reprint", "category"]
    search_fields = ["name", "barcode", "internal_code", "supplier__name"]
    list_select_related = ["supplier", "category"]
    readonly_fields = ["sale_price", "label_needs_reprint", "created_at", "updated_at"]
    autocomplete_fields = ["supplier"]

    def has_delete_permission(self, request, obj=None):
        return False  # products have a ledger: deactivate them instead

    def save_model(self, request, obj, form, change):
        if change:
            fields = {name: form.cleaned_data[name] for name in form.changed_data}
            services.product_update(product=Product.objects.get(pk=obj.pk), by=request.user, **fields)
        else:
            obj.pk = services.product_create(by=request.user, **form.cleaned_data).pk


@admin.register(StockMove)
class StockMoveAdmin(ReadOnlyAdmin):
    list_display = ["date", "product", "kind", "quantity", "counted", "unit_price", "reference", "author", "recorded_at"]
    list_filter = ["kind", "date"]
    search_fields = ["product__name", "product__barcode", "product__internal_code", "reference"]
    list_select_related = ["product", "author"]
    date_hierarchy = "date"


class OrderLineInline(ReadOnlyInline):
    model = PurchaseOrderLine
    fields = ["product", "quantity", "unit_price"]
    readonly_fields = fields


@admin.register(PurchaseOrder)
class PurchaseOrderAdmin(ReadOnlyAdmin):
    """Orders are prepared, sent and received on the supply pages (/inventory/orders/)."""

    list_display = ["reference", "supplier", "status", "created_at", "sent_at", "received_on"]
    list_filter = ["status"]
    search_fields = ["supplier__name"]
    list_select_related = ["supplier"]
    inlines = [OrderLineInline]


class ReceptionLineInline(ReadOnlyInline):
    model = ReceptionLine
    fields = ["order_line", "quantity_expected", "quantity", "price_ordered", "unit_price", "quantity_differs", "price_differs"]
    readonly_fields = fields


@admin.register(Reception)
class ReceptionAdmin(ReadOnlyAdmin):
    list_display = ["order", "received_on", "closes_order", "received_by"]
    list_select_related = ["order", "order__supplier", "received_by"]
    inlines = [ReceptionLineInline]


class CountLineInline(ReadOnlyInline):
    model = StockCountLine
    fields = ["product", "counted", "expected", "difference", "unit_cost", "value"]
    readonly_fields = fields


@admin.register(StockCount)
class StockCountAdmin(ReadOnlyAdmin):
    list_display = ["counted_on", "category", "status", "loss_value", "gain_value", "applied_at"]
    list_filter = ["status"]
    inlines = [CountLineInline]


@admin.register(SalesImport)
class SalesImportAdmin(ReadOnlyAdmin):
    list_display = ["imported_at", "filename", "rows_total", "rows_imported", "rows_skipped", "rows_rejected", "imported_by"]
    readonly_fields = ["file_hash", "filename", "imported_at", "imported_by", "rows_total", "rows_imported", "rows_skipped",
                       "rows_rejected", "errors"]
