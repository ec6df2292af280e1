"""Forms of the coordination team's shift pages. They parse input; the services apply the rules."""
from django import forms
from django.db.models import Exists, OuterRef
from django.utils.translation import gettext_lazy as _

from members import selectors as member_selectors
from members.models import Member

from .models import Registration, ShiftTemplate, SlotAssignment
from .seats import AUTO, OPEN

SEAT_AUTO, SEAT_OPEN = "", "open"

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
    seat = forms.ChoiceField(label=_("Seat"), required=False, choices=[])
    reason = forms.CharField(
        label=_("Reason (member without the qualification)"), required=False, max_length=255,
        help_text=_("Only when the coop allows coordinators to seat a member without the qualification: it is logged."),
    )

    def __init__(self, *args, seats=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.qualifications = {q.code: q for q in seats}
        self.fields["seat"].choices = [
            (SEAT_AUTO, _("Chosen by the rules")), (SEAT_OPEN, _("An open seat")),
            *((q.code, q.display_name) for q in seats),
        ]
        if not seats:
            self.fields["seat"].widget = forms.HiddenInput()
            self.fields["reason"].widget = forms.HiddenInput()

    def clean_seat(self):
        value = self.cleaned_data.get("seat") or SEAT_AUTO
        if value == SEAT_AUTO:
            return AUTO
        if value == SEAT_OPEN:
            return OPEN
        return self.qualifications[value]

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


class WelcomeDeskForm(forms.Form):
    """The welcome desk: a newcomer registered on this welcome session gets their first regular slot."""

    member = forms.ModelChoiceField(label=_("Newcomer"), queryset=Member.objects.none())
    template = forms.ModelChoiceField(
        label=_("First regular slot"), queryset=ShiftTemplate.objects.filter(active=True, welcome=False),
        help_text=_("From today; the attendance of the session is recorded if it was not."),
    )

    def __init__(self, *args, registrations=(), **kwargs):
        super().__init__(*args, **kwargs)
        ids = [r.member_id for r in registrations if r.member.shift_type == Member.ShiftType.STANDARD]
        open_slot = SlotAssignment.objects.filter(member=OuterRef("pk"), end_date__isnull=True)
        self.fields["member"].queryset = Member.objects.filter(pk__in=ids).exclude(Exists(open_slot)).order_by("last_name", "first_name")
        self.fields["member"].label_from_instance = lambda m: f"{m.display_number} {m.full_name}"


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
