from django import template

from inventory import rules

register = template.Library()


@register.filter
def qty(value):
    """A quantity without trailing zeros: 20.000 -> 20, 0.250 -> 0.25."""
    if value in (None, ""):
        return ""
    return rules.plain(value)
