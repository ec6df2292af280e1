import django_filters
from django import forms
from django.db.models import Q
from django.forms.utils import flatatt
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from . import selectors
from .models import Category, Product, PurchaseOrder, Supplier

ALL = pgettext_lazy("filter: no restriction", "All")
YES_NO = [("", ALL), ("true", _("Yes")), ("false", _("No"))]


class FastSelect(forms.Select):
    """A <select> rendered in one pass instead of one template per option: the supplier filter
    lists hundreds of suppliers on every stock list page."""

    def render(self, name, value, attrs=None, renderer=None):
        selected = {str(v) for v in (value if isinstance(value, (list, tuple)) else [value]) if v not in (None, "")}
        options = format_html_join(
            "", '<option value="{}"{}>{}</option>',
            ((str(key), " selected" if str(key) in selected else "", label) for key, label in self.choices),
        )
        final_attrs = self.build_attrs(self.attrs, {**(attrs or {}), "name": name})
        return format_html("<select{}>{}</select>", flatatt(final_attrs), options)


class SupplierFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(label=_("Search"), method="search", widget=forms.TextInput(attrs={"placeholder": _("Name or city")}))
    local = django_filters.BooleanFilter(label=_("Local"), field_name="is_local", widget=forms.Select(choices=YES_NO))
    organic = django_filters.BooleanFilter(label=_("Organic"), widget=forms.Select(choices=YES_NO))
    active = django_filters.BooleanFilter(label=_("Active"), widget=forms.Select(choices=YES_NO))

    class Meta:
        model = Supplier
        fields = ["q", "local", "organic", "active"]

    def search(self, queryset, name, value):
        return queryset.filter(Q(name__icontains=value) | Q(city__icontains=value)) if value else queryset


class ProductFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(label=_("Search"), method="search",
                                  widget=forms.TextInput(attrs={"placeholder": _("Name or code"), "autofocus": True}))
    supplier = django_filters.ModelChoiceFilter(label=_("Supplier"), queryset=Supplier.objects.order_by("name"), empty_label=ALL,
                                                widget=FastSelect)
    category = django_filters.ModelChoiceFilter(label=_("Category"), queryset=Category.objects.all(), empty_label=ALL,
                                                widget=FastSelect)
    local = django_filters.BooleanFilter(label=_("Local supplier"), widget=forms.Select(choices=YES_NO))
    below_min = django_filters.BooleanFilter(label=_("Below minimum stock"), method="by_minimum", widget=forms.Select(choices=YES_NO))
    label = django_filters.BooleanFilter(label=_("Label to print"), field_name="label_needs_reprint", widget=forms.Select(choices=YES_NO))
    active = django_filters.BooleanFilter(label=_("Active"), widget=forms.Select(choices=YES_NO))

    class Meta:
        model = Product
        fields = ["q", "supplier", "category", "local", "below_min", "label", "active"]

    def search(self, queryset, name, value):
        value = value.strip()
        if not value:
            return queryset
        return queryset.filter(Q(name__icontains=value) | Q(barcode=value) | Q(internal_code__iexact=value))

    def by_minimum(self, queryset, name, value):
        if value is None:
            return queryset
        return selectors.filter_below_minimum(queryset, below=value)


class OrderFilter(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(label=_("Status"), choices=PurchaseOrder.Status.choices, empty_label=ALL)
    supplier = django_filters.ModelChoiceFilter(label=_("Supplier"), queryset=Supplier.objects.order_by("name"), empty_label=ALL,
                                                widget=FastSelect)

    class Meta:
        model = PurchaseOrder
        fields = ["status", "supplier"]
