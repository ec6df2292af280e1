"""API representations of suppliers, products and stock moves (CONTRACT.md §5)."""
from decimal import Decimal

from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from .models import Category, Product, StockMove, Supplier
from .pricing import VAT_RATES


class SupplierSerializer(serializers.ModelSerializer):
    is_local = serializers.BooleanField(read_only=True, help_text=_("Derived: distance at most the coop's local limit."))

    class Meta:
        model = Supplier
        fields = ["id", "name", "contact", "email", "phone", "address", "city", "distance_km", "organic", "active", "is_local"]
        read_only_fields = fields


class SupplierCreateSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=200)
    city = serializers.CharField(max_length=100)
    distance_km = serializers.IntegerField(min_value=0, max_value=40000)
    contact = serializers.CharField(max_length=200, required=False, allow_blank=True)
    email = serializers.EmailField(required=False, allow_blank=True)
    phone = serializers.CharField(max_length=32, required=False, allow_blank=True)
    address = serializers.CharField(max_length=255, required=False, allow_blank=True)
    organic = serializers.BooleanField(required=False)


class ProductSerializer(serializers.ModelSerializer):
    stock = serializers.DecimalField(max_digits=12, decimal_places=3, read_only=True, help_text=_("Sum of the stock moves."))
    local = serializers.BooleanField(read_only=True, help_text=_("The supplier is local."))
    vat_rate = serializers.DecimalField(max_digits=4, decimal_places=1, read_only=True, help_text=_("Percent."))

    class Meta:
        model = Product
        fields = [
            "id", "name", "barcode", "internal_code", "supplier", "category", "unit", "package_size",
            "content_quantity", "content_unit", "cost_price", "vat_rate", "sale_price", "min_stock", "stock",
            "local", "label_needs_reprint", "active",
        ]
        read_only_fields = fields


@extend_schema_field({"type": "string", "format": "decimal", "enum": [str(rate) for rate in VAT_RATES],
                      "description": "Percent: 5.5, 10 or 20."})
class VatRateField(serializers.DecimalField):
    """A VAT rate in percent (DOMAIN.md §7): one of the rates the coop's country uses."""


class ProductCreateSerializer(serializers.Serializer):
    """Types only: the rules (check digit, one code, VAT rates, positive prices) are the service's."""

    name = serializers.CharField(max_length=200)
    barcode = serializers.CharField(max_length=13, required=False, allow_blank=True, allow_null=True)
    internal_code = serializers.CharField(max_length=32, required=False, allow_blank=True, allow_null=True)
    supplier = serializers.PrimaryKeyRelatedField(queryset=Supplier.objects.all())
    category = serializers.PrimaryKeyRelatedField(queryset=Category.objects.all(), required=False, allow_null=True)
    unit = serializers.ChoiceField(choices=Product.Unit.choices, default=Product.Unit.PIECE)
    package_size = serializers.DecimalField(max_digits=12, decimal_places=3, required=False)
    content_quantity = serializers.DecimalField(max_digits=12, decimal_places=3, required=False, allow_null=True)
    content_unit = serializers.ChoiceField(choices=Product.ContentUnit.choices, required=False, allow_blank=True)
    cost_price = serializers.DecimalField(max_digits=12, decimal_places=2, min_value=Decimal("0"))
    vat_rate = VatRateField(max_digits=6, decimal_places=3, help_text=_("Percent: 5.5, 10 or 20."))
    min_stock = serializers.DecimalField(max_digits=12, decimal_places=3, required=False)
    active = serializers.BooleanField(required=False)


class StockMoveCreateSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=StockMove.Kind.choices)
    quantity = serializers.DecimalField(
        max_digits=12, decimal_places=3, min_value=Decimal("0"),
        help_text=_("Positive; the kind gives the direction. For a count: the level found."),
    )
    unit_price = serializers.DecimalField(max_digits=12, decimal_places=2, required=False, allow_null=True)
    date = serializers.DateField(required=False)
    reference = serializers.CharField(max_length=100, required=False, allow_blank=True, default="")


class StockMoveSerializer(serializers.ModelSerializer):
    stock = serializers.SerializerMethodField()

    class Meta:
        model = StockMove
        fields = ["id", "product", "kind", "quantity", "counted", "unit_price", "date", "reference", "recorded_at", "stock"]
        read_only_fields = fields

    @extend_schema_field(serializers.DecimalField(max_digits=12, decimal_places=3, help_text="The product's new stock."))
    def get_stock(self, move):
        return str(self.context["stock"])


ID_MAX = 2_147_483_647


class SupplierListQuerySerializer(serializers.Serializer):
    search = serializers.CharField(max_length=200, required=False, allow_blank=True, help_text=_("Part of the name."))
    local = serializers.BooleanField(required=False, allow_null=True, default=None, help_text=_("Only local suppliers."))


class ProductListQuerySerializer(serializers.Serializer):
    search = serializers.CharField(max_length=200, required=False, allow_blank=True,
                                   help_text=_("Name, barcode or internal code."))
    supplier = serializers.IntegerField(min_value=1, max_value=ID_MAX, required=False)
    category = serializers.IntegerField(min_value=1, max_value=ID_MAX, required=False)
    below_min = serializers.BooleanField(required=False, allow_null=True, default=None,
                                         help_text=_("Only products under their minimum stock."))
    local = serializers.BooleanField(required=False, allow_null=True, default=None, help_text=_("Only products of local suppliers."))
