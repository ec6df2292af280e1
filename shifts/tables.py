"""Tables of the coordination team's shift pages (django-tables2)."""
import django_tables2 as tables
from django.urls import reverse
from django.utils.formats import date_format
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from coopmarket.tables import DateColumn
from members.models import Member

from . import selectors

NUMBER = {"th": {"class": "text-end"}, "td": {"class": "text-end text-nowrap"}}
NOWRAP = {"td": {"class": "text-nowrap"}}
SHIFT_TYPE_SHORT = {
    Member.ShiftType.STANDARD: pgettext_lazy("shift type, short", "Standard"),
    Member.ShiftType.FTOP: pgettext_lazy("shift type, short", "FTOP"),
}
STATUS_BADGE = {
    Member.Status.ALERT: "text-bg-warning",
    Member.Status.DELAY: "text-bg-warning",
    Member.Status.UP_TO_DATE: "text-bg-success",
    Member.Status.EXEMPTED: "text-bg-success",
    Member.Status.NOT_CONCERNED: "text-bg-light border",
}


def status_badge(member) -> str:
    return format_html(
        '<span class="badge badge-status {}">{}</span>',
        STATUS_BADGE.get(member.status, "text-bg-danger"), member.get_status_display(),
    )


class DebtTable(tables.Table):
    """Members owing make-ups. Reads only annotations of `selectors.members_owing`."""

    member_number = tables.Column(verbose_name=_("No."), linkify=True, attrs={"td": {"class": "font-monospace"}})
    last_name = tables.Column(verbose_name=_("Last name"), linkify=True)
    first_name = tables.Column(verbose_name=_("First name"))
    status = tables.Column(verbose_name=_("Working status"), attrs=NOWRAP)
    shift_type = tables.Column(verbose_name=_("Shift type"), attrs=NOWRAP)
    slot_week = tables.Column(verbose_name=_("Week"), attrs=NOWRAP, order_by=("slot_week", "slot_name"))
    owed = tables.Column(verbose_name=_("Make-ups owed"), attrs=NUMBER)
    counter_standard = tables.Column(verbose_name=_("Standard counter"), attrs=NUMBER)
    counter_ftop = tables.Column(verbose_name=_("FTOP counter"), attrs=NUMBER)
    alert_deadline = DateColumn(verbose_name=_("Alert deadline"), short=True, attrs=NOWRAP)
    delay_until = DateColumn(verbose_name=_("Delay until"), short=True, attrs=NOWRAP)
    days_left = tables.Column(verbose_name=_("Days left"), accessor="deadline", empty_values=(), attrs=NUMBER,
                              order_by=("deadline_sort", "deadline_rank"))
    last_attended = tables.Column(verbose_name=_("Last attended shift"), attrs=NOWRAP)
    email = tables.Column(verbose_name=_("E-mail"))
    phone = tables.Column(verbose_name=_("Phone"), attrs=NOWRAP)
    timeline = tables.Column(verbose_name="", accessor="pk", orderable=False, exclude_from_export=True, empty_values=())

    class Meta:
        model = Member
        fields = [
            "member_number", "last_name", "first_name", "status", "shift_type", "slot_week", "owed", "counter_standard",
            "counter_ftop", "alert_deadline", "delay_until", "days_left", "last_attended", "email", "phone",
        ]
        order_by = ("days_left",)
        attrs = {"class": "table table-sm table-hover align-middle"}
        row_attrs = {"class": lambda record: "table-danger" if record.status == Member.Status.SUSPENDED else ""}

    def __init__(self, *args, today, **kwargs):
        self.today = today
        super().__init__(*args, **kwargs)

    def render_member_number(self, value):
        return f"{value:06d}"

    def value_member_number(self, value, record=None):
        return f"{value:06d}"

    def render_status(self, record):
        return status_badge(record)

    def render_shift_type(self, value, record):
        return SHIFT_TYPE_SHORT.get(record.shift_type, value)

    def value_shift_type(self, value, record=None):
        return str(SHIFT_TYPE_SHORT.get(record.shift_type, value))

    def render_slot_week(self, value, record):
        return format_html('<span title="{}">{}</span>', record.slot_name or "", value)

    def _days_left(self, record):
        return selectors.days_before_suspension(record, self.today)

    def render_days_left(self, record):
        days = self._days_left(record)
        if days is None:
            return "—"
        css = "text-danger fw-bold" if days <= 7 else ""
        return format_html('<span class="{}">{}</span>', css, days)

    def value_days_left(self, value, record=None):
        days = self._days_left(record)
        return "" if days is None else days

    def render_last_attended(self, value, record):
        text = date_format(value, "SHORT_DATE_FORMAT")
        if record.last_attended_shift:
            return format_html('<a href="{}">{}</a>', reverse("shifts:detail", args=[record.last_attended_shift]), text)
        return text

    def value_last_attended(self, value, record=None):
        return value.isoformat() if value else ""

    def value_alert_deadline(self, value, record=None):
        return value.isoformat() if value else ""

    def value_delay_until(self, value, record=None):
        return value.isoformat() if value else ""

    def render_email(self, value):
        return format_html('<a class="email-truncate" href="mailto:{0}" title="{0}">{0}</a>', value)

    def render_phone(self, value):
        return format_html('<a href="tel:{0}">{0}</a>', value)

    def render_timeline(self, value):
        return format_html('<a class="btn btn-sm btn-outline-secondary" href="{}">{}</a>',
                           reverse("shifts:timeline", args=[value]), _("Timeline"))
