import django_filters
from django import forms
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from .models import Category, Product, PurchaseOrder, Supplier

ALL = pgettext_lazy("filter: no restriction", "All")
YES_NO = [("", ALL), ("true", _("Yes")), ("false", _("No"))]


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
    supplier = django_filters.ModelChoiceFilter(label=_("Supplier"), queryset=Supplier.objects.order_by("name"), empty_label=ALL)
    category = django_filters.ModelChoiceFilter(label=_("Category"), queryset=Category.objects.all(), empty_label=ALL)
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
        below = Q(stock__lt=F("min_stock"))
        return queryset.filter(below) if value else queryset.exclude(below)


class OrderFilter(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(label=_("Status"), choices=PurchaseOrder.Status.choices, empty_label=ALL)
    supplier = django_filters.ModelChoiceFilter(label=_("Supplier"), queryset=Supplier.objects.order_by("name"), empty_label=ALL)

    class Meta:
        model = PurchaseOrder
        fields = ["status", "supplier"]
