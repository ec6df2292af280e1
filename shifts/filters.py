"""Filters of the coordination team's shift pages (django-filter)."""
import django_filters
from django import forms
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from members import selectors as member_selectors
from members.models import Member

from .models import WEEK_CHOICES

ALL = pgettext_lazy("filter: no restriction", "All")
NO_SLOT = "none"


class DebtFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(label=_("Search"), method="search",
                                  widget=forms.TextInput(attrs={"placeholder": _("Name, number, card or e-mail")}))
    status = django_filters.ChoiceFilter(label=_("Working status"), choices=Member.Status.choices, empty_label=ALL)
    week = django_filters.ChoiceFilter(label=_("Week of the regular slot"), method="by_week", empty_label=ALL,
                                       choices=[*WEEK_CHOICES, (NO_SLOT, _("No regular slot"))])
    shift_type = django_filters.ChoiceFilter(label=_("Shift type"), choices=Member.ShiftType.choices, empty_label=ALL)

    class Meta:
        model = Member
        fields = ["q", "status", "week", "shift_type"]

    def search(self, queryset, name, value):
        return member_selectors.member_search(queryset, value)

    def by_week(self, queryset, name, value):
        if value == NO_SLOT:
            return queryset.filter(slot_week__isnull=True)
        return queryset.filter(slot_week=value) if value else queryset
