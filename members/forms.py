"""Forms of the members office. They parse input; services validate rules and write."""
from decimal import Decimal

from django import forms
from django.contrib.auth.forms import PasswordResetForm
from django.core.exceptions import ValidationError
from django.utils import formats
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from coopmarket.templatetags.coop import euros, share_label

from .models import Member, Payment, ShareClass, ShareSubscription

OFFICE_METHODS = [c for c in Payment.Method.choices if c[0] != Payment.Method.STRIPE]
DATE_WIDGET = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
ZERO = Decimal("0.00")


class EmailCheckedByServiceMixin:
    """The member's e-mail is unique (case-insensitive): the service says so under the field with
    a clear message, so the form skips the model's constraint on it."""

    def validate_unique(self):
        """E-mail uniqueness is checked by the service, with a clearer message."""

    def validate_constraints(self):
        """The case-insensitive e-mail constraint is checked by the service, with a clearer message
        under the field; the other model constraints are still checked here."""
        exclude = self._get_validation_exclusions() | {"email"}
        try:
            self.instance.validate_constraints(exclude=exclude)
        except ValidationError as exc:
            self._update_errors(exc)


class MemberForm(EmailCheckedByServiceMixin, forms.ModelForm):
    class Meta:
        model = Member
        fields = [
            "first_name", "last_name", "email", "phone", "address", "postal_code", "city", "birth_date",
            "shift_type", "low_income", "notes",
        ]
        widgets = {"birth_date": DATE_WIDGET, "notes": forms.Textarea(attrs={"rows": 3})}


class MemberEditForm(MemberForm):
    """The office's edit form. The shift type is not here: a switch follows the rules (no make-ups
    owed, a regular slot for standard) on its own page in the shift office."""

    class Meta(MemberForm.Meta):
        fields = [f for f in MemberForm.Meta.fields if f != "shift_type"] + ["work_start_date"]
        widgets = {**MemberForm.Meta.widgets, "work_start_date": DATE_WIDGET}


class ShareClassChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        return gettext("%(share_class)s · %(price)s a share") % {
            "share_class": share_label(obj.code, obj.name), "price": euros(obj.unit_price),
        }


class SubscribeForm(forms.Form):
    share_class = ShareClassChoiceField(ShareClass.objects.all(), label=_("Share class"), empty_label=None)
    quantity = forms.IntegerField(label=_("Number of shares"), min_value=1, max_value=100000)
    instalments = forms.IntegerField(label=_("Instalments"), min_value=1, max_value=36, initial=1,
                                     help_text=_("1 = paid in full now; otherwise monthly, the first paid now."))
    payment_method = forms.ChoiceField(label=_("Payment method"), choices=OFFICE_METHODS)
    paid_on = forms.DateField(label=_("Paid on"), widget=DATE_WIDGET, required=False,
                              help_text=_("Leave empty for today."))
    reference = forms.CharField(label=_("Reference"), max_length=255, required=False,
                                help_text=_("Cheque number, transfer reference..."))


def next_instalment_amount(schedule, paid: Decimal) -> Decimal:
    """What completes the first instalment that `paid` does not cover yet (zero when all is paid).

    With 100.00 in ten instalments and 25.00 paid, the next amount is 5.00 (the rest of the third).
    """
    covered = ZERO
    for _due, instalment in schedule:
        covered += instalment
        if covered > paid:
            return covered - paid
    return ZERO


class SubscriptionSelect(forms.Select):
    """Each option carries the amount to prefill when it is chosen (`data-amount`, read by site.js)."""

    amounts: dict[int, str] = {}

    def create_option(self, name, value, label, selected, index, subindex=None, attrs=None):
        option = super().create_option(name, value, label, selected, index, subindex=subindex, attrs=attrs)
        pk = getattr(value, "value", value)
        if pk in self.amounts:
            option["attrs"]["data-amount"] = self.amounts[pk]
        return option


class SubscriptionChoiceField(forms.ModelChoiceField):
    """'12/03/2026 · 10 A · 100.00 € · 80.00 € due' (balances computed by the form)."""

    balances: dict[int, Decimal] = {}

    def label_from_instance(self, obj):
        return gettext("%(date)s · %(quantity)d %(code)s · %(amount)s · %(balance)s due") % {
            "date": formats.date_format(obj.subscribed_on, "SHORT_DATE_FORMAT"),
            "quantity": obj.quantity,
            "code": obj.share_class.code,
            "amount": euros(obj.amount),
            "balance": euros(self.balances.get(obj.pk, ZERO)),
        }


class PaymentForm(forms.Form):
    subscription = SubscriptionChoiceField(
        ShareSubscription.objects.none(), label=_("Subscription"), empty_label=None,
        widget=SubscriptionSelect(attrs={"data-fill-amount": "id_amount"}),
        help_text=_("Only subscriptions with something still to pay are listed."),
    )
    amount = forms.DecimalField(label=_("Amount (EUR)"), max_digits=12, decimal_places=2, min_value=Decimal("0.01"), localize=True,
                                help_text=_("Prefilled with the next instalment due."))
    payment_method = forms.ChoiceField(label=_("Payment method"), choices=OFFICE_METHODS)
    paid_on = forms.DateField(label=_("Paid on"), widget=DATE_WIDGET, required=False, help_text=_("Leave empty for today."))
    reference = forms.CharField(label=_("Reference"), max_length=255, required=False)

    def __init__(self, *args, member: Member, **kwargs):
        super().__init__(*args, **kwargs)
        held = (
            member.subscriptions.filter(redemption_requested_on__isnull=True)
            .select_related("share_class")
            .prefetch_related("payments")
            .order_by("subscribed_on", "id")
        )
        balances, next_amounts = {}, {}
        for sub in held:
            paid = sum((p.signed_amount for p in sub.payments.all()), ZERO)
            if paid < sub.amount:
                balances[sub.pk] = sub.amount - paid
                next_amounts[sub.pk] = next_instalment_amount(sub.schedule, paid) or balances[sub.pk]
        field = self.fields["subscription"]
        field.queryset = held.filter(pk__in=list(balances))
        field.balances = balances
        field.widget.amounts = {pk: formats.localize_input(value) for pk, value in next_amounts.items()}
        self.has_amount_due = bool(balances)
        if balances and not self.is_bound:
            first = next(iter(balances))
            self.initial.setdefault("subscription", first)
            self.initial.setdefault("amount", next_amounts[first])


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


class InvitationForm(PasswordResetForm):
    """E-mails one new login the link to choose its first password.

    Django's reset form looks users up by e-mail and skips those whose password is unusable, which
    is exactly the state of a login the members office has just created: the user is given here.
    """

    def __init__(self, *, user):
        super().__init__(data={"email": user.email})
        self.invited_user = user

    def get_users(self, email):
        return [self.invited_user] if self.invited_user.is_active and self.invited_user.email else []


class MemberPasswordResetForm(PasswordResetForm):
    """The "forgotten password" form, which also reaches members invited but who never chose a
    password (Django's own form skips logins with an unusable password)."""

    def get_users(self, email):
        from django.contrib.auth import get_user_model

        users = get_user_model()._default_manager.filter(email__iexact=email, is_active=True)
        return [u for u in users if u.has_usable_password() or hasattr(u, "member")]
