"""The qualification pages of the members office (DOMAIN.md §9), coordinators only.

- `/members/qualifications/`: the list the coordinators keep (code, name, description, holders
  today), CSV export; add one, rename or describe one (the code stays).
- `/members/<id>/qualifications/grant/`: grant a qualification from a date, with an optional expiry.
- `POST /members/<id>/qualifications/<code>/revoke/`: revoke it from today, with a reason.

Views parse input, call one service of `members.qualifications` and render; a refusal becomes a
form error or a message, never a 500.
"""
from __future__ import annotations

import django_filters
import django_tables2 as tables
from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db.models import Q
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST
from django_filters.views import FilterView
from django_tables2 import SingleTableMixin

from coopmarket.errors import RuleViolation
from coopmarket.forms import add_service_errors
from coopmarket.roles import CoordinatorRequiredMixin
from coopmarket.tables import SafeExportMixin

from . import qualifications as quals
from .models import Member, Qualification
from .views import coordinator_required

DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


# --- the list of qualifications -------------------------------------------------------------------

class QualificationTable(tables.Table):
    code = tables.Column(verbose_name=gettext_lazy("Code"), attrs={"td": {"class": "font-monospace"}})
    name = tables.Column(verbose_name=gettext_lazy("Name"), accessor="display_name", order_by=("name",))
    description = tables.Column(verbose_name=gettext_lazy("Description"), accessor="display_description", order_by=("description",))
    holders = tables.Column(verbose_name=gettext_lazy("Held today by"), attrs={"th": {"class": "text-end"}, "td": {"class": "text-end"}})
    edit = tables.Column(verbose_name="", accessor="code", orderable=False, exclude_from_export=True, empty_values=())

    class Meta:
        model = Qualification
        fields = ["code", "name", "description", "holders"]
        order_by = ("code",)
        attrs = {"class": "table table-sm table-hover align-middle"}

    def render_holders(self, value, record):
        return format_html('<a href="/members/?qualification={}">{}</a>', record.code, value)

    def value_holders(self, value, record=None):
        return value

    def render_edit(self, value, record):
        return format_html('<a class="btn btn-sm btn-outline-secondary" href="/members/qualifications/{}/edit/">{}</a>',
                           record.code, _("Edit"))


class QualificationFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(label=gettext_lazy("Search"), method="search")

    class Meta:
        model = Qualification
        fields = []

    def search(self, queryset, name, value):
        return queryset.filter(Q(code__icontains=value) | Q(name__icontains=value) | Q(description__icontains=value))


class QualificationListView(CoordinatorRequiredMixin, SafeExportMixin, SingleTableMixin, FilterView):
    """The qualifications, with how many members hold each today: one query whatever the rows."""

    table_class = QualificationTable
    filterset_class = QualificationFilter
    template_name = "members/qualification_list.html"
    table_pagination = {"per_page": 50}
    export_name = "qualifications"

    def get_queryset(self):
        return quals.qualification_list()


class QualificationForm(forms.Form):
    code = forms.SlugField(label=gettext_lazy("Code"), max_length=20,
                           help_text=gettext_lazy("Short, lower-case, never changed: templates and imports name it (e.g. forklift)."))
    name = forms.CharField(label=gettext_lazy("Name"), max_length=100)
    description = forms.CharField(label=gettext_lazy("Description"), required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 3}))


class QualificationEditForm(QualificationForm):
    code = None


@coordinator_required
def qualification_create(request):
    form = QualificationForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            quals.qualification_create(by=request.user, **form.cleaned_data)
        except (ValidationError, RuleViolation) as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("Qualification added."))
            return redirect("members:qualifications")
    return render(request, "members/simple_form.html", {"form": form, "title": _("Add a qualification")})


@coordinator_required
def qualification_edit(request, code):
    qualification = get_object_or_404(Qualification, code=code)
    initial = {"name": qualification.name, "description": qualification.description}
    form = QualificationEditForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            quals.qualification_update(qualification=qualification, by=request.user, **form.cleaned_data)
        except (ValidationError, RuleViolation) as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("Qualification saved."))
            return redirect("members:qualifications")
    return render(request, "members/simple_form.html", {
        "form": form, "title": _("Qualification %(code)s") % {"code": qualification.code},
        "intro": _("The code stays: shift templates and imports name it."),
    })


# --- a member's qualifications --------------------------------------------------------------------

class GrantForm(forms.Form):
    qualification = forms.ModelChoiceField(label=gettext_lazy("Qualification"), queryset=Qualification.objects.all())
    since = forms.DateField(label=gettext_lazy("Held from"), widget=DATE,
                            help_text=gettext_lazy("The day of the training (it may be in the past)."))
    until = forms.DateField(label=gettext_lazy("Expires on"), required=False, widget=DATE,
                            help_text=gettext_lazy("Last day held, when a refresher training is due; empty: no expiry."))
    note = forms.CharField(label=gettext_lazy("Note"), required=False, max_length=255)

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("since") and cleaned.get("until") and cleaned["until"] < cleaned["since"]:
            self.add_error("until", _("The expiry is on or after the start."))
        return cleaned


class RevokeForm(forms.Form):
    reason = forms.CharField(label=gettext_lazy("Reason"), required=False, max_length=255)


@coordinator_required
def member_qualification_grant(request, pk):
    member = get_object_or_404(Member, pk=pk)
    today = timezone.localdate()
    form = GrantForm(request.POST or None, initial={"since": today, "qualification": request.GET.get("qualification")})
    if request.method == "POST" and form.is_valid():
        try:
            quals.member_qualification_grant(member=member, today=today, by=request.user, **form.cleaned_data)
        except (ValidationError, RuleViolation) as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("%(qualification)s granted to %(name)s.") % {
                "qualification": form.cleaned_data["qualification"].display_name, "name": member.full_name})
            return redirect(member)
    return render(request, "members/simple_form.html", {
        "form": form, "member": member, "title": _("Grant a qualification to %(name)s") % {"name": member.full_name},
        "intro": _("A qualification counts on the shifts dated while it is held. A refresher training is a new grant."),
        "submit_label": _("Grant"),
    })


@require_POST
@coordinator_required
def member_qualification_revoke(request, pk, code):
    member = get_object_or_404(Member, pk=pk)
    qualification = get_object_or_404(Qualification, code=code)
    form = RevokeForm(request.POST)
    if not form.is_valid():
        messages.error(request, " ".join(e for errors in form.errors.values() for e in errors))
        return redirect(member)
    try:
        quals.member_qualification_revoke(member=member, qualification=qualification, today=timezone.localdate(),
                                          reason=form.cleaned_data["reason"], by=request.user)
    except (ValidationError, RuleViolation) as exc:
        messages.error(request, exc.message if isinstance(exc, RuleViolation) else " ".join(exc.messages))
    else:
        messages.success(request, _("%(qualification)s revoked from today.") % {"qualification": qualification.display_name})
    return redirect(member)
