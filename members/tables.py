import django_tables2 as tables
from django.utils.translation import gettext_lazy as _

from .models import Member, ShareSubscription


class MemberTable(tables.Table):
    member_number = tables.Column(verbose_name=_("No."), linkify=True, attrs={"td": {"class": "font-monospace"}})
    last_name = tables.Column(verbose_name=_("Last name"), linkify=True)
    first_name = tables.Column(verbose_name=_("First name"))
    email = tables.EmailColumn(verbose_name=_("E-mail"))
    membership = tables.Column(verbose_name=_("Membership"))
    status = tables.Column(verbose_name=_("Working status"))
    shift_type = tables.Column(verbose_name=_("Shift type"))
    shares_quantity = tables.Column(verbose_name=_("A shares"), attrs={"td": {"class": "text-end"}})
    shares_paid = tables.Column(verbose_name=_("Paid (EUR)"), attrs={"td": {"class": "text-end"}})
    low_income = tables.BooleanColumn(verbose_name=_("Low income"))
    card_barcode = tables.Column(verbose_name=_("Card"), visible=False)
    phone = tables.Column(verbose_name=_("Phone"), visible=False)

    class Meta:
        model = Member
        fields = [
            "member_number", "last_name", "first_name", "email", "membership", "status", "shift_type",
            "shares_quantity", "shares_paid", "low_income", "card_barcode", "phone", "joined_on",
        ]
        order_by = ("member_number",)
        attrs = {"class": "table table-sm table-hover align-middle"}

    def render_member_number(self, value):
        return f"{value:06d}"

    def value_member_number(self, value, record=None):
        return f"{value:06d}"

    def render_shares_paid(self, value):
        return f"{value:.2f}"

    def value_shares_paid(self, value, record=None):
        return f"{value:.2f}"


class RedemptionTable(tables.Table):
    member = tables.Column(verbose_name=_("Member"), linkify=lambda record: record.member.get_absolute_url(),
                           order_by=("member__member_number",))
    share_class = tables.Column(verbose_name=_("Class"), accessor="share_class__code")
    quantity = tables.Column(verbose_name=_("Shares"))
    amount_paid = tables.Column(verbose_name=_("To refund (EUR)"), attrs={"td": {"class": "text-end"}})
    redemption_requested_on = tables.DateColumn(verbose_name=_("Left on"))
    redemption_due_on = tables.DateColumn(verbose_name=_("Due on"))

    def value_member(self, value, record=None):
        return str(value)

    def render_amount_paid(self, value):
        return f"{value:.2f}"

    def value_amount_paid(self, value, record=None):
        return f"{value:.2f}"
    redeemed_on = tables.DateColumn(verbose_name=_("Redeemed on"))
    actions = tables.TemplateColumn(
        template_name="members/_redeem_button.html", verbose_name="", orderable=False, exclude_from_export=True
    )

    class Meta:
        model = ShareSubscription
        fields = ["member", "share_class", "quantity", "amount_paid", "redemption_requested_on", "redemption_due_on", "redeemed_on"]
        attrs = {"class": "table table-sm table-hover align-middle"}
