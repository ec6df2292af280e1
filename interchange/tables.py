import django_tables2 as tables
from django.utils.translation import gettext_lazy as _


class ProblemTable(tables.Table):
    """Every problem of an import report: where it is and what is wrong."""

    level = tables.Column(verbose_name=_("Level"), attrs={"td": {"class": "text-nowrap"}})
    file = tables.Column(verbose_name=_("File"), attrs={"td": {"class": "font-monospace text-nowrap"}})
    line = tables.Column(verbose_name=_("Line"), attrs={"th": {"class": "text-end"}, "td": {"class": "text-end"}}, default="")
    column = tables.Column(verbose_name=_("Column"), attrs={"td": {"class": "font-monospace"}})
    message = tables.Column(verbose_name=_("Message"))

    class Meta:
        attrs = {"class": "table table-sm table-hover align-middle"}
        order_by = ("level", "file", "line")
        empty_text = _("No problem found.")

    def render_level(self, value):
        return _("error") if value == "error" else _("warning")

    def value_level(self, value, record=None):
        return value
