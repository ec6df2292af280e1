"""`{% my_assemblies member %}`: the member's coming assemblies on /me/ (proxy and vote links).
An inclusion tag, so /me/'s view needs no change."""
from django import template

from coopmarket.dates import coop_today

from .. import selectors

register = template.Library()


def clock_today():
    return coop_today()


@register.inclusion_tag("assemblies/_me.html")
def my_assemblies(member):
    return {"rows": selectors.member_assemblies(member, today=clock_today()) if member else []}
