"""Filters of the assembly pages (django-filter)."""
import django_filters
from django import forms
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from members import selectors as member_selectors
from members.models import Member

from .models import Assembly

ALL = pgettext_lazy("filter: no restriction", "All")


class AssemblyFilter(django_filters.FilterSet):
    kind = django_filters.ChoiceFilter(label=_("Kind"), choices=Assembly.Kind.choices, empty_label=ALL)
    upcoming = django_filters.ChoiceFilter(
        label=_("When"), method="by_state", empty_label=ALL,
        choices=[("open", _("Not closed")), ("closed", _("Closed"))],
    )

    class Meta:
        model = Assembly
        fields = ["kind", "upcoming"]

    def by_state(self, queryset, name, value):
        if value == "open":
            return queryset.filter(closed_at__isnull=True)
        if value == "closed":
            return queryset.filter(closed_at__isnull=False)
        return queryset


class VoterFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(label=_("Search"), method="search",
                                  widget=forms.TextInput(attrs={"placeholder": _("Name, number or card")}))
    present = django_filters.ChoiceFilter(
        label=_("Signed in"), method="by_presence", empty_label=ALL,
        choices=[("yes", _("Signed in")), ("no", _("Not signed in"))],
    )
    proxies = django_filters.ChoiceFilter(
        label=_("Proxies"), method="by_proxy", empty_label=ALL,
        choices=[("carries", _("Carries proxies")), ("gave", _("Gave their proxy"))],
    )

    class Meta:
        model = Member
        fields = ["q", "present", "proxies"]

    def search(self, queryset, name, value):
        return member_selectors.member_search(queryset, value)

    def by_presence(self, queryset, name, value):
        return queryset.filter(present_at__isnull=value != "yes")

    def by_proxy(self, queryset, name, value):
        if value == "carries":
            return queryset.filter(proxies_carried__gt=0)
        return queryset.filter(proxy_given_to__isnull=False)
