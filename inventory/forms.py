"""Forms of the supply team's pages. They parse input; the services hold the rules."""
import datetime
from decimal import Decimal

from django import forms
from django.utils.translation import gettext_lazy as _

from .models import Category, Product, PurchaseOrder, StockMove, Supplier

DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
QUANTITY = {"max_digits": 12, "decimal_places": 3}
MONEY = {"max_digits": 12, "decimal_places": 2}


class ServiceModelForm(forms.ModelForm):
    """A ModelForm used for its fields and widgets only: the service validates and saves, so the
    model's own validation (which would repeat the service's) is skipped."""

    def _post_clean(self):
        pass


class SupplierForm(ServiceModelForm):
    class Meta:
        model = Supplier
        fields = ["name", "contact", "email", "phone", "address", "city", "distance_km", "organic", "active", "notes"]
        widgets = {"notes": forms.Textarea(attrs={"rows": 3})}


class ProductForm(ServiceModelForm):
    class Meta:
        model = Product
        fields = [
            "name", "barcode", "internal_code", "supplier", "category", "unit", "package_size", "content_quantity",
            "content_unit", "cost_price", "vat_rate", "min_stock", "active",
        ]
        help_texts = {
            "barcode": _("13 digits, check digit included. Leave empty for loose goods."),
            "internal_code": _("For loose goods without a barcode (e.g. VRAC-LENTILLES)."),
            "package_size": _("How many units (pieces, kg or litres) one package from the supplier holds."),
            "cost_price": _("Per unit, excluding VAT."),
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["supplier"].queryset = Supplier.objects.order_by("name")
        self.fields["vat_rate"].coerce = Decimal
        for name in ("barcode", "internal_code"):
            self.fields[name].widget.attrs["class"] = "font-monospace"


class StockMoveForm(forms.Form):
    kind = forms.ChoiceField(label=_("Kind"), choices=StockMove.Kind.choices)
    quantity = forms.DecimalField(label=_("Quantity"), min_value=0, help_text=_("Positive. For a count: the quantity found."), **QUANTITY)
    unit_price = forms.DecimalField(label=_("Unit price"), required=False, min_value=0, **MONEY,
                                    help_text=_("Empty: the cost price (the sale price for a sale)."))
    date = forms.DateField(label=_("Date"), widget=DATE)
    reference = forms.CharField(label=_("Reference or reason"), max_length=100, required=False)


class MarginForm(forms.Form):
    margin = forms.DecimalField(label=_("Coop-wide margin (%)"), min_value=0, max_value=500, max_digits=5, decimal_places=2)


class CategoryForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=100)
    margin = forms.DecimalField(label=_("Margin (%)"), required=False, min_value=0, max_value=500, max_digits=5,
                                decimal_places=2, help_text=_("Leave empty to use the coop-wide margin."))


class CountCreateForm(forms.Form):
    category = forms.ModelChoiceField(label=_("Category"), queryset=Category.objects.all(), required=False,
                                      empty_label=_("All products"))
    counted_on = forms.DateField(label=_("Count date"), widget=DATE)


class OrderCreateForm(forms.Form):
    supplier = forms.ModelChoiceField(label=_("Supplier"), queryset=Supplier.objects.filter(active=True))
    expected_on = forms.DateField(label=_("Delivery expected on"), required=False, widget=DATE)
    notes = forms.CharField(label=_("Notes for the supplier"), required=False, widget=forms.Textarea(attrs={"rows": 2}))


class OrderDetailsForm(forms.Form):
    expected_on = forms.DateField(label=_("Delivery expected on"), required=False, widget=DATE)
    notes = forms.CharField(label=_("Notes for the supplier"), required=False, widget=forms.Textarea(attrs={"rows": 2}))


class OrderLineForm(forms.Form):
    product = forms.ModelChoiceField(label=_("Product"), queryset=Product.objects.none())
    quantity = forms.DecimalField(label=_("Quantity"), min_value=0, **QUANTITY)
    unit_price = forms.DecimalField(label=_("Unit price excl. VAT"), required=False, min_value=0, **MONEY,
                                    help_text=_("Empty: the product's cost price."))

    def __init__(self, *args, order: PurchaseOrder, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["product"].queryset = Product.objects.filter(supplier=order.supplier, active=True).order_by("name")


class ReceptionForm(forms.Form):
    """One quantity and price field per line of the order still expecting something."""

    received_on = forms.DateField(label=_("Received on"), widget=DATE)
    closes_order = forms.BooleanField(label=_("This is the last delivery: close the order even if lines are short"), required=False)
    notes = forms.CharField(label=_("Notes"), required=False, widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args, lines, **kwargs):
        super().__init__(*args, **kwargs)
        self.lines = list(lines)
        for line in self.lines:
            self.fields[f"quantity_{line.pk}"] = forms.DecimalField(
                label=_("Quantity received"), required=False, min_value=0, **QUANTITY,
                widget=forms.NumberInput(attrs={"step": "any", "class": "form-control form-control-sm text-end"}),
            )
            self.fields[f"price_{line.pk}"] = forms.DecimalField(
                label=_("Unit price invoiced"), required=False, min_value=0, **MONEY,
                widget=forms.NumberInput(attrs={"step": "0.01", "class": "form-control form-control-sm text-end"}),
            )
            self.initial.setdefault(f"quantity_{line.pk}", line.remaining)
            self.initial.setdefault(f"price_{line.pk}", line.unit_price)

    def rows(self):
        return [(line, self[f"quantity_{line.pk}"], self[f"price_{line.pk}"]) for line in self.lines]

    def service_lines(self):
        return [
            (line, self.cleaned_data.get(f"quantity_{line.pk}"), self.cleaned_data.get(f"price_{line.pk}"))
            for line in self.lines
        ]


class SalesImportForm(forms.Form):
    file = forms.FileField(label=_("Till export (CSV)"), help_text=_("Columns: date, barcode, quantity, unit_price (and optionally reference)."))


class CatalogueImportForm(forms.Form):
    supplier = forms.ModelChoiceField(label=_("Supplier"), queryset=Supplier.objects.all())
    file = forms.FileField(label=_("Catalogue (CSV)"), help_text=_(
        "Columns: barcode, name, cost_price, vat_rate, and optionally unit, package_size, category, min_stock."
    ))


class ReportForm(forms.Form):
    start = forms.DateField(label=_("From"), widget=DATE, required=False)
    end = forms.DateField(label=_("To"), widget=DATE, required=False)

    def period(self, today: datetime.date) -> tuple[datetime.date, datetime.date]:
        """The chosen dates, by default the last twelve months including this one."""
        data = self.cleaned_data if self.is_valid() else {}
        end = data.get("end") or today
        start = data.get("start")
        if start is None:
            year, month = end.year, end.month - 11
            if month <= 0:
                year, month = year - 1, month + 12
            start = datetime.date(year, month, 1)
        if start > end:
            start, end = end, start
        return start, end


MAX_UPLOAD_BYTES = 10 * 1024 * 1024


def read_upload(upload) -> bytes:
    if upload.size > MAX_UPLOAD_BYTES:
        raise forms.ValidationError(_("The file is larger than 10 MB."))
    return upload.read()
