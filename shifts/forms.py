"""Forms of the coordination team's shift pages. They parse input; the services apply the rules."""
from django import forms
from django.utils.translation import gettext_lazy as _

from members import selectors as member_selectors
from members.models import Member

from .models import Registration, ShiftTemplate

STATES = Registration.Attendance.choices


class AttendanceForm(forms.Form):
    """One radio group per registration (attended / missed / excused). A row left as it was is
    not sent to the service; the rows that changed are recorded together, all or nothing."""

    def __init__(self, *args, registrations, **kwargs):
        super().__init__(*args, **kwargs)
        self.registrations = list(registrations)
        for registration in self.registrations:
            self.fields[self.field_name(registration)] = forms.ChoiceField(
                label=registration.member.full_name, choices=STATES, required=False,
                widget=forms.RadioSelect(attrs={"class": "btn-check", "autocomplete": "off"}), initial=registration.attendance,
            )

    @staticmethod
    def field_name(registration: Registration) -> str:
        return f"r{registration.pk}"

    def rows(self):
        """(registration, bound field) for each row of the roster."""
        return [(registration, self[self.field_name(registration)]) for registration in self.registrations]

    def entries(self) -> list[dict]:
        """The changed rows, as the service takes them: [{"member", "state"}]."""
        entries = []
        for registration in self.registrations:
            state = self.cleaned_data.get(self.field_name(registration))
            if state and state != registration.attendance:
                entries.append({"member": registration.member, "state": state})
        return entries

    def clean(self):
        cleaned = super().clean()
        if not self.errors and not self.entries():
            raise forms.ValidationError(_("Nothing to record: choose attended, missed or excused for at least one member."))
        return cleaned


class AddMemberForm(forms.Form):
    member = forms.CharField(
        label=_("Member"), max_length=100,
        widget=forms.TextInput(attrs={"placeholder": _("Number, card or name")}),
    )

    def clean_member(self) -> Member:
        text = self.cleaned_data["member"]
        matches = list(
            member_selectors.member_search(Member.objects.exclude(membership=Member.Membership.LEFT), text)
            .order_by("last_name", "first_name", "member_number")[:6]
        )
        if not matches:
            raise forms.ValidationError(_("No member matches “%(text)s”.") % {"text": text})
        if len(matches) > 1:
            names = ", ".join(f"{m.display_number} {m.full_name}" for m in matches[:5])
            raise forms.ValidationError(
                _("Several members match: %(names)s. Type the member number.") % {"names": names}
            )
        return matches[0]


class ShiftTypeForm(forms.Form):
    """Switch a member between standard and FTOP (DOMAIN.md §4): a switch to standard names the
    regular slot at once."""

    shift_type = forms.ChoiceField(label=_("New shift type"), choices=Member.ShiftType.choices)
    template = forms.ModelChoiceField(
        label=_("Regular slot (for standard)"), queryset=ShiftTemplate.objects.filter(active=True), required=False,
        help_text=_("Required for a switch to standard."),
    )
    start_date = forms.DateField(label=_("Slot from"), required=False, widget=forms.DateInput(attrs={"type": "date"}),
                                 help_text=_("Leave empty for today."))
