"""The coordinators' table of till checks."""
import django_tables2 as tables
from django.utils.translation import gettext_lazy as _

from coopmarket.tables import DateTimeColumn
from members.models import Member

from . import eligibility as el
from .models import TillCheck

NOWRAP = {"td": {"class": "text-nowrap"}}
STATUS_LABELS = dict(Member.Status.choices)


def answer_label(record: TillCheck) -> str:
    if record.kind == TillCheck.Kind.OVERRIDE:
        return str(_("Override"))
    if record.can_shop is None:
        return str(_("Unknown card"))
    return str(_("Allowed") if record.can_shop else _("Refused"))


def answer_class(record: TillCheck) -> str:
    if record.kind == TillCheck.Kind.OVERRIDE:
        return "table-warning"
    if record.can_shop is None:
        return "table-secondary"
    return "" if record.can_shop else "table-danger"


class TillCheckTable(tables.Table):
    checked_at = DateTimeColumn(verbose_name=_("Time"), format="H:i:s", attrs=NOWRAP)
    answer = tables.Column(verbose_name=_("Answer"), accessor="can_shop", order_by=("kind", "can_shop"),
                           empty_values=())
    code = tables.Column(verbose_name=_("Code scanned"), attrs={"td": {"class": "font-monospace"}})
    member = tables.Column(verbose_name=_("Member"), order_by=("member__member_number",),
                           linkify=lambda record: record.member.get_absolute_url() if record.member_id else None)
    associate = tables.Column(verbose_name=_("Associate"), orderable=False)
    status = tables.Column(verbose_name=_("Working status"))
    reasons = tables.Column(verbose_name=_("Reasons"), orderable=False)
    offline = tables.BooleanColumn(verbose_name=_("Offline"))
    reason = tables.Column(verbose_name=_("Override reason"), orderable=False)
    user = tables.Column(verbose_name=_("Cashier"), order_by=("user__username",))

    class Meta:
        model = TillCheck
        fields = ["checked_at", "answer", "code", "member", "associate", "status", "reasons", "offline", "reason", "user"]
        order_by = ("-checked_at",)
        attrs = {"class": "table table-sm table-hover align-middle"}
        row_attrs = {"class": answer_class}

    def render_answer(self, record):
        return answer_label(record)

    def value_answer(self, value, record=None):
        return answer_label(record)

    def render_member(self, value):
        return f"{value.member_number:06d} {value.full_name}"

    def value_member(self, value, record=None):
        return f"{value.member_number:06d} {value.full_name}" if value else ""

    def render_associate(self, value):
        return f"{value.first_name} {value.last_name}"

    def value_associate(self, value, record=None):
        return f"{value.first_name} {value.last_name}" if value else ""

    def render_status(self, value):
        return STATUS_LABELS.get(value, value)

    def value_status(self, value, record=None):
        return str(STATUS_LABELS.get(value, value or ""))

    def _reasons(self, value) -> str:
        return ", ".join(str(el.REASON_TEXT[code]()) if code in el.REASON_TEXT else code for code in value or ())

    def render_reasons(self, value):
        return self._reasons(value)

    def value_reasons(self, value, record=None):
        return self._reasons(value)

    def render_user(self, value):
        return value.get_username()

    def value_user(self, value, record=None):
        return value.get_username() if value else ""
