"""Forms of the members office. They parse input; services validate rules and write."""
from decimal import Decimal

from django import forms
from django.utils.translation import gettext_lazy as _

from .models import Member, Payment, ShareClass, ShareSubscription

OFFICE_METHODS = [c for c in Payment.Method.choices if c[0] != Payment.Method.STRIPE]
DATE_WIDGET = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


class MemberForm(forms.ModelForm):
    class Meta:
        model = Member
        fields = [
            "first_name", "last_name", "email", "phone", "address", "postal_code", "city", "birth_date",
            "shift_type", "low_income", "notes",
        ]
        widgets = {"birth_date": DATE_WIDGET, "notes": forms.Textarea(attrs={"rows": 3})}

    def validate_unique(self):
        """E-mail uniqueness is checked by the service, with a clearer message."""


class MemberEditForm(MemberForm):
    class Meta(MemberForm.Meta):
        fields = MemberForm.Meta.fields + ["work_start_date"]
        widgets = {**MemberForm.Meta.widgets, "work_start_date": DATE_WIDGET}


class SubscribeForm(forms.Form):
    share_class = forms.ModelChoiceField(ShareClass.objects.all(), label=_("Share class"), empty_label=None)
    quantity = forms.IntegerField(label=_("Number of shares"), min_value=1, max_value=100000)
    instalments = forms.IntegerField(label=_("Instalments"), min_value=1, max_value=36, initial=1,
                                     help_text=_("1 = paid in full now; otherwise monthly, the first paid now."))
    payment_method = forms.ChoiceField(label=_("Payment method"), choices=OFFICE_METHODS)
    paid_on = forms.DateField(label=_("Paid on"), widget=DATE_WIDGET, required=False,
                              help_text=_("Leave empty for today."))
    reference = forms.CharField(label=_("Reference"), max_length=255, required=False,
                                help_text=_("Cheque number, transfer reference..."))


class PaymentForm(forms.Form):
    subscription = forms.ModelChoiceField(ShareSubscription.objects.none(), label=_("Subscription"), empty_label=None)
    amount = forms.DecimalField(label=_("Amount (EUR)"), max_digits=12, decimal_places=2, min_value=Decimal("0.01"), localize=True)
    payment_method = forms.ChoiceField(label=_("Payment method"), choices=OFFICE_METHODS)
    paid_on = forms.DateField(label=_("Paid on"), widget=DATE_WIDGET, required=False, help_text=_("Leave empty for today."))
    reference = forms.CharField(label=_("Reference"), max_length=255, required=False)

    def __init__(self, *args, member: Member, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["subscription"].queryset = member.subscriptions.filter(
            redemption_requested_on__isnull=True
        ).select_related("share_class")


class AssociateForm(forms.Form):
    first_name = forms.CharField(label=_("First name"), max_length=100)
    last_name = forms.CharField(label=_("Last name"), max_length=100)


class ReasonForm(forms.Form):
    reason = forms.CharField(label=_("Reason"), widget=forms.Textarea(attrs={"rows": 3}), max_length=2000)


class RedemptionForm(forms.Form):
    method = forms.ChoiceField(
        label=_("Refund method"),
        choices=[c for c in Payment.Method.choices if c[0] in ("transfer", "cheque", "cash")],
    )
    reference = forms.CharField(label=_("Reference"), max_length=255, required=False)
