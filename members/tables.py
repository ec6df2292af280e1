import django_tables2 as tables
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from coopmarket.tables import DateColumn
from coopmarket.templatetags.coop import amount

from .models import Member, ShareSubscription

NUMBER = {"th": {"class": "text-end"}, "td": {"class": "text-end text-nowrap"}}
NOWRAP = {"td": {"class": "text-nowrap"}}
SHIFT_TYPE_SHORT = {
    Member.ShiftType.STANDARD: pgettext_lazy("shift type, short", "Standard"),
    Member.ShiftType.FTOP: pgettext_lazy("shift type, short", "FTOP"),
}


class MemberTable(tables.Table):
    member_number = tables.Column(verbose_name=_("No."), linkify=True, attrs={"td": {"class": "font-monospace"}})
    last_name = tables.Column(verbose_name=_("Last name"), linkify=True)
    first_name = tables.Column(verbose_name=_("First name"))
    email = tables.Column(verbose_name=_("E-mail"))
    membership = tables.Column(verbose_name=_("Membership"))
    status = tables.Column(verbose_name=_("Working status"))
    shift_type = tables.Column(verbose_name=_("Shift type"), attrs=NOWRAP)
    shares_quantity = tables.Column(verbose_name=_("A shares"), attrs=NUMBER)
    shares_paid = tables.Column(verbose_name=_("Paid (EUR)"), attrs=NUMBER)
    low_income = tables.BooleanColumn(verbose_name=_("Low income"))
    card_barcode = tables.Column(verbose_name=_("Card"), visible=False)
    phone = tables.Column(verbose_name=_("Phone"), visible=False)
    joined_on = DateColumn(attrs=NOWRAP)

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

    def render_email(self, value):
        """Long addresses are cut with an ellipsis (the whole address in the tooltip and the link)."""
        return format_html('<a class="email-truncate" href="mailto:{0}" title="{0}">{0}</a>', value)

    def render_shift_type(self, value, record):
        return SHIFT_TYPE_SHORT.get(record.shift_type, value)

    def render_shares_paid(self, value):
        return amount(value)

    def value_shares_paid(self, value, record=None):
        return f"{value:.2f}"


class RedemptionTable(tables.Table):
    member = tables.Column(verbose_name=_("Member"), linkify=lambda record: record.member.get_absolute_url(),
                           order_by=("member__member_number",))
    share_class = tables.Column(verbose_name=_("Class"), accessor="share_class__code")
    quantity = tables.Column(verbose_name=_("Shares"), attrs=NUMBER)
    amount_paid = tables.Column(verbose_name=_("To refund (EUR)"), attrs=NUMBER)
    redemption_requested_on = DateColumn(verbose_name=_("Left on"), attrs=NOWRAP)
    redemption_due_on = DateColumn(verbose_name=_("Due on"), attrs=NOWRAP)
    redeemed_on = DateColumn(verbose_name=_("Redeemed on"), attrs=NOWRAP)
    actions = tables.TemplateColumn(
        template_name="members/_redeem_button.html", verbose_name="", orderable=False, exclude_from_export=True
    )

    class Meta:
        model = ShareSubscription
        fields = ["member", "share_class", "quantity", "amount_paid", "redemption_requested_on", "redemption_due_on", "redeemed_on"]
        attrs = {"class": "table table-sm table-hover align-middle"}

    def value_member(self, value, record=None):
        return str(value)

    def render_amount_paid(self, value):
        return amount(value)

    def value_amount_paid(self, value, record=None):
        return f"{value:.2f}"
