import django_filters
from django import forms
from django.db.models import Exists, OuterRef
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy
from django_filters.fields import ModelChoiceField

from coopmarket.templatetags.coop import share_label

from . import selectors
from .models import Member, MemberQualification, Qualification, ShareClass, ShareSubscription

ALL = pgettext_lazy("filter: no restriction", "All")
YES_NO = [("", ALL), ("true", _("Yes")), ("false", _("No"))]


class ShareClassField(ModelChoiceField):
    def label_from_instance(self, obj):
        return share_label(obj.code, obj.name)


class ShareClassFilter(django_filters.ModelChoiceFilter):
    field_class = ShareClassField


class MemberFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(label=_("Search"), method="search",
                                  widget=forms.TextInput(attrs={"placeholder": _("Name, number, card or e-mail"), "autofocus": True}))
    status = django_filters.ChoiceFilter(label=_("Working status"), choices=Member.Status.choices, empty_label=ALL)
    membership = django_filters.ChoiceFilter(label=_("Membership"), choices=Member.Membership.choices, empty_label=ALL)
    share_class = ShareClassFilter(label=_("Share class"), queryset=ShareClass.objects.all(), method="by_class",
                                   empty_label=ALL)
    shift_type = django_filters.ChoiceFilter(label=_("Shift type"), choices=Member.ShiftType.choices, empty_label=ALL)
    low_income = django_filters.BooleanFilter(label=_("Low income"), widget=forms.Select(choices=YES_NO))
    qualification = django_filters.ModelChoiceFilter(
        label=_("Qualified today"), queryset=Qualification.objects.all(), to_field_name="code", method="by_qualification", empty_label=ALL,
    )

    class Meta:
        model = Member
        fields = ["q", "status", "membership", "share_class", "shift_type", "low_income", "qualification"]

    def search(self, queryset, name, value):
        return selectors.member_search(queryset, value)

    def by_class(self, queryset, name, value):
        if not value:
            return queryset
        held = ShareSubscription.objects.filter(member=OuterRef("pk"), share_class=value, redemption_requested_on__isnull=True)
        return queryset.filter(Exists(held))

    def by_qualification(self, queryset, name, value):
        """Members holding the qualification today (to find a replacement leader or cashier)."""
        from django.utils import timezone

        from .qualifications import held_q

        held = MemberQualification.objects.filter(held_q(timezone.localdate()), member=OuterRef("pk"), qualification=value)
        return queryset.filter(Exists(held))


class RedemptionFilter(django_filters.FilterSet):
    STATES = [("open", _("To refund")), ("due", _("Due now")), ("redeemed", _("Refunded")), ("all", _("All"))]

    state = django_filters.ChoiceFilter(label=_("Show"), choices=STATES, method="by_state", empty_label=None)
    q = django_filters.CharFilter(label=_("Member"), method="search")

    class Meta:
        model = ShareSubscription
        fields = ["state", "q"]

    def __init__(self, data=None, *args, **kwargs):
        data = data.copy() if data is not None else {}
        data.setdefault("state", "open")
        super().__init__(data, *args, **kwargs)

    def by_state(self, queryset, name, value):
        if value == "open":
            return queryset.filter(redeemed_on__isnull=True)
        if value == "due":
            from django.utils import timezone

            return queryset.filter(redeemed_on__isnull=True, redemption_due_on__lte=timezone.localdate())
        if value == "redeemed":
            return queryset.filter(redeemed_on__isnull=False)
        return queryset

    def search(self, queryset, name, value):
        members = selectors.member_search(Member.objects.all(), value)
        return queryset.filter(member__in=members)
