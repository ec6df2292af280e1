"""Tables of the assembly pages (django-tables2); they read annotations only."""
import django_tables2 as tables
from django.urls import reverse
from django.utils.formats import date_format
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from coopmarket.tables import DateColumn, DateTimeColumn
from members.models import Member

from .models import Assembly

NUMBER = {"th": {"class": "text-end"}, "td": {"class": "text-end text-nowrap"}}


def state_of(assembly: Assembly) -> str:
    if assembly.closed_at:
        return str(_("Closed"))
    if assembly.opened_at:
        return str(_("In session"))
    if assembly.frozen:
        return str(_("Voter list frozen"))
    if assembly.convened_at:
        return str(_("Convened"))
    return str(_("Being prepared"))


class AssemblyTable(tables.Table):
    starts_at = DateTimeColumn(verbose_name=_("Date"), format="SHORT_DATETIME_FORMAT")
    title = tables.Column(verbose_name=_("Title"))
    kind = tables.Column(verbose_name=_("Kind"))
    convocation = tables.Column(verbose_name=_("Convocation"))
    cutoff = DateColumn(verbose_name=_("Cut-off"), short=True)
    n_voters = tables.Column(verbose_name=_("Voters"), attrs=NUMBER)
    n_present = tables.Column(verbose_name=_("Present"), attrs=NUMBER)
    n_represented = tables.Column(verbose_name=_("Represented"), attrs=NUMBER)
    state = tables.Column(verbose_name=_("State"), accessor="pk", orderable=False, empty_values=())

    class Meta:
        model = Assembly
        fields = ["starts_at", "title", "kind", "convocation", "cutoff", "n_voters", "n_present", "n_represented", "state"]
        order_by = ("-starts_at",)
        attrs = {"class": "table table-sm table-hover align-middle"}

    def __init__(self, *args, prospective: int, desk_only: bool = False, **kwargs):
        self.prospective = prospective
        self.desk_only = desk_only  # the desk's device accounts open the sign-in desk, not the bureau's page
        super().__init__(*args, **kwargs)

    def render_title(self, value, record):
        url = reverse("assemblies:desk", args=[record.pk]) if self.desk_only else record.get_absolute_url()
        return format_html('<a href="{}">{}</a>', url, value)

    def render_n_voters(self, value, record):
        return value if record.frozen else format_html('<span title="{}">≈ {}</span>', _("Not frozen yet"), self.prospective)

    def value_n_voters(self, value, record=None):
        return value if record.frozen else self.prospective

    def render_state(self, record):
        return state_of(record)

    def value_state(self, value, record=None):
        return state_of(record)

    def value_starts_at(self, value, record=None):
        return date_format(value, "Y-m-d H:i")


class VoterTable(tables.Table):
    member_number = tables.Column(verbose_name=_("No."), attrs={"td": {"class": "font-monospace"}})
    last_name = tables.Column(verbose_name=_("Last name"))
    first_name = tables.Column(verbose_name=_("First name"))
    membership = tables.Column(verbose_name=_("Membership"))
    present_at = DateTimeColumn(verbose_name=_("Signed in at"), format="H:i", orderable=True)
    proxies_carried = tables.Column(verbose_name=_("Proxies carried"), attrs=NUMBER)
    proxy_given_to = tables.Column(verbose_name=_("Proxy given to"), empty_values=(None, ""))

    class Meta:
        model = Member
        fields = ["member_number", "last_name", "first_name", "membership", "present_at", "proxies_carried", "proxy_given_to"]
        order_by = ("last_name", "first_name")
        attrs = {"class": "table table-sm table-hover align-middle"}

    def render_member_number(self, value):
        return f"{value:06d}"

    def value_member_number(self, value, record=None):
        return f"{value:06d}"

    def _holder(self, record) -> str:
        return f"{record.proxy_holder_first_name} {record.proxy_holder_last_name} ({record.proxy_holder_number:06d})"

    def render_proxy_given_to(self, value, record):
        return self._holder(record)

    def value_proxy_given_to(self, value, record=None):
        return self._holder(record) if value else ""
