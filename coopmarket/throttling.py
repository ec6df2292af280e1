"""API throttling (issue 11): per user, for what a member's own account can call.

Accounts with a role (cashiers = till devices, coordinators, supply, superusers) are never
throttled: a busy till must never see a 429. Every other account (a cooperator's own login,
anonymous callers by address) has the `member` rate on every API call, and a member on shift
using the till has the tighter `till_member` rate on lookups and name searches (one budget for
both), so nobody walks the member list through the till.

Rates are read at each request from settings.COOP_THROTTLE_RATES (environment: COOP_API_RATE,
COOP_TILL_MEMBER_RATE). Counters live in Django's cache: set DJANGO_CACHE_URL (Redis) in
production so that every worker counts together.
"""
from django.conf import settings
from rest_framework.throttling import UserRateThrottle

from . import roles


def exempt(user) -> bool:
    """Role accounts and superusers are not throttled."""
    return bool(user and user.is_authenticated and user.is_active and (user.is_superuser or roles.group_names(user)))


class MemberRateThrottle(UserRateThrottle):
    scope = "member"

    def get_rate(self):
        return settings.COOP_THROTTLE_RATES.get(self.scope)

    def allow_request(self, request, view):
        if exempt(request.user):
            return True
        return super().allow_request(request, view)


class TillMemberRateThrottle(MemberRateThrottle):
    """The till's lookups and search, for a member on shift (cashiers and coordinators exempt)."""

    scope = "till_member"
