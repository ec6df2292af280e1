"""The coordinators' filter of the till log: a day (today by default), the answer, the cashier."""
import django_filters
from django import forms
from django.contrib.auth import get_user_model
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from .models import TillCheck

ALL = pgettext_lazy("filter: no restriction", "All")

ALLOWED = "allowed"
REFUSED = "refused"
OVERRIDE = "override"
UNKNOWN = "unknown"
ANSWERS = [
    (ALLOWED, _("Allowed")),
    (REFUSED, _("Refused")),
    (OVERRIDE, _("Override")),
    (UNKNOWN, _("Unknown card")),
]


def _cashiers(request=None):
    """Accounts that made at least one check (one query, as a subquery)."""
    return get_user_model().objects.filter(pk__in=TillCheck.objects.values("user")).order_by("username")


class CashierField(django_filters.fields.ModelChoiceField):
    def label_from_instance(self, obj):
        return obj.get_username()


class CashierFilter(django_filters.ModelChoiceFilter):
    field_class = CashierField


class TillCheckFilter(django_filters.FilterSet):
    date = django_filters.DateFilter(label=_("Day"), method="on_day", widget=forms.DateInput(attrs={"type": "date"}))
    answer = django_filters.ChoiceFilter(label=_("Answer"), choices=ANSWERS, method="by_answer", empty_label=ALL)
    cashier = CashierFilter(label=_("Cashier"), field_name="user", queryset=_cashiers, empty_label=ALL)
    code = django_filters.CharFilter(label=_("Code scanned"), lookup_expr="startswith")

    class Meta:
        model = TillCheck
        fields = ["date", "answer", "cashier", "code"]

    def __init__(self, data=None, *args, **kwargs):
        data = data.copy() if data is not None else {}
        if not data.get("date"):
            data["date"] = timezone.localdate().isoformat()
        super().__init__(data, *args, **kwargs)

    def on_day(self, queryset, name, value):
        return queryset.filter(checked_at__date=value) if value else queryset

    def by_answer(self, queryset, name, value):
        if value == ALLOWED:
            return queryset.filter(kind=TillCheck.Kind.CHECK, can_shop=True)
        if value == REFUSED:
            return queryset.filter(kind=TillCheck.Kind.CHECK, can_shop=False)
        if value == OVERRIDE:
            return queryset.filter(kind=TillCheck.Kind.OVERRIDE)
        if value == UNKNOWN:
            return queryset.filter(kind=TillCheck.Kind.CHECK, can_shop__isnull=True)
        return queryset
