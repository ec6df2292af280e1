"""Forms of the assembly pages: they parse; the services check the rules."""
from django import forms
from django.utils.translation import gettext_lazy as _

from members.models import Member
from members.text import search_key

from .models import Assembly, Resolution

DATETIME_LOCAL = "%Y-%m-%dT%H:%M"


class AssemblyForm(forms.Form):
    title = forms.CharField(label=_("Title"), max_length=200)
    kind = forms.ChoiceField(label=_("Kind"), choices=Assembly.Kind.choices)
    convocation = forms.TypedChoiceField(label=_("Convocation"), choices=Assembly.Convocation.choices, coerce=int)
    starts_at = forms.DateTimeField(
        label=_("Date and time"), input_formats=[DATETIME_LOCAL, "%Y-%m-%d %H:%M"],
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format=DATETIME_LOCAL),
    )
    place = forms.CharField(label=_("Place"), max_length=255)
    agenda = forms.CharField(label=_("Agenda"), max_length=20_000, widget=forms.Textarea(attrs={"rows": 6}))
    cutoff = forms.DateField(
        label=_("Cut-off date"), required=False, widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        help_text=_("The voter list is frozen on this date. Empty: 15 days before the assembly (a parameter)."),
    )


class ProxyOfficeForm(forms.Form):
    """A paper proxy brought to the members office: the giver's and the holder's member numbers."""

    giver = forms.IntegerField(label=_("Member number of the giver"), min_value=1, max_value=99_999_999)
    holder = forms.IntegerField(label=_("Member number of the holder"), min_value=1, max_value=99_999_999)

    def clean(self):
        cleaned = super().clean()
        for name in ("giver", "holder"):
            number = cleaned.get(name)
            if number is not None:
                member = Member.objects.filter(member_number=number).first()
                if member is None:
                    self.add_error(name, _("No member has this number."))
                cleaned[f"{name}_member"] = member
        return cleaned


class ProxyForm(forms.Form):
    """A member names who carries their proxy: the holder's member number and last name, so that
    no member list is shown to every member."""

    holder_number = forms.IntegerField(label=_("Their member number"), min_value=1, max_value=99_999_999,
                                       help_text=_("On their member card, under the barcode."))
    holder_last_name = forms.CharField(label=_("Their last name"), max_length=100)

    def clean(self):
        cleaned = super().clean()
        number, name = cleaned.get("holder_number"), cleaned.get("holder_last_name")
        if number is not None and name:
            member = Member.objects.filter(member_number=number).first()
            if member is None or search_key(member.last_name) != search_key(name):
                raise forms.ValidationError(_("No member has this number and this last name."))
            cleaned["holder"] = member
        return cleaned


class ResolutionForm(forms.Form):
    text = forms.CharField(label=_("Resolution"), max_length=10_000, widget=forms.Textarea(attrs={"rows": 3}))
    majority = forms.ChoiceField(label=_("Majority"), required=False,
                                 choices=[("", _("As the assembly's kind says")), *Resolution.Majority.choices])


class TallyForm(forms.Form):
    votes_for = forms.IntegerField(label=_("For"), min_value=0, max_value=1_000_000)
    votes_against = forms.IntegerField(label=_("Against"), min_value=0, max_value=1_000_000)
    votes_abstain = forms.IntegerField(label=_("Abstentions"), min_value=0, max_value=1_000_000)


class VoteForm(forms.Form):
    """One choice per member the voter votes for (themselves and each proxy they carry)."""

    CHOICES = [("for", _("For")), ("against", _("Against")), ("abstain", _("Abstain"))]

    def __init__(self, *args, members: list[Member], **kwargs):
        super().__init__(*args, **kwargs)
        for member in members:
            self.fields[f"member_{member.pk}"] = forms.ChoiceField(
                label=member.full_name, choices=self.CHOICES, widget=forms.RadioSelect(attrs={"class": "btn-check"}), required=False,
            )

    def ballots(self) -> list[dict]:
        return [
            {"choice": choice, "for_member": int(name.removeprefix("member_"))}
            for name, choice in self.cleaned_data.items() if choice
        ]
