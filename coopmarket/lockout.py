"""Sign-in lockout (DOMAIN.md §8), on django-axes, with the coop's parameters.

Axes records every failed sign-in (login page, admin login, token endpoint: they all go through
`django.contrib.auth.authenticate` with the request) and is asked, before each attempt, whether
the client may try. Its lockout parameters are [username + address] and [address]; axes has one
failure limit for both, so `CoopAxesHandler.get_failures` weighs each against its own parameter
(5 for a username from one address, 20 for an address whatever the username) and reports "at
the limit" when either is reached. The window in which failures count and the lockout that
follows are the same `login_lockout_minutes` (axes' cool-off).

Unlock a user before the cool-off: `python manage.py axes_reset_username <username>` (or
`axes_reset_ip <address>`, `axes_reset`), or delete their "access attempts" in the admin.
"""
from __future__ import annotations

import datetime

from axes.handlers.database import AxesDatabaseHandler
from django.conf import settings
from django.db.models import Sum
from django.http import JsonResponse
from django.shortcuts import render
from django.utils.translation import gettext as _

from members.models import CoopParameters


def client_ip(request) -> str | None:
    """REMOTE_ADDR; behind a declared reverse proxy (DJANGO_BEHIND_PROXY), the address the
    proxies appended to X-Forwarded-For: the PROXY_COUNT-th from the right. What a client writes
    at the left of that header is never read."""
    meta = getattr(request, "META", {})
    if getattr(settings, "BEHIND_PROXY", False):
        forwarded = [part.strip() for part in meta.get("HTTP_X_FORWARDED_FOR", "").split(",") if part.strip()]
        if forwarded:
            return forwarded[-min(max(settings.PROXY_COUNT, 1), len(forwarded))]
    return meta.get("REMOTE_ADDR")


def failure_limit(request, credentials) -> int:
    return CoopParameters.current().login_failures_per_user


def cool_off(request=None) -> datetime.timedelta:
    return datetime.timedelta(minutes=CoopParameters.current().login_lockout_minutes)


class CoopAxesHandler(AxesDatabaseHandler):
    """Axes' database handler with a limit per lockout parameter (see the module's docstring)."""

    def get_failures(self, request, credentials=None) -> int:
        params = CoopParameters.current()
        per_pair, per_address = (
            attempts.aggregate(total=Sum("failures_since_start"))["total"] or 0
            for attempts in self.get_user_attempts(request, credentials)
        )
        if per_pair >= params.login_failures_per_user or per_address >= params.login_failures_per_address:
            return params.login_failures_per_user
        return min(per_pair, params.login_failures_per_user - 1)


def lockout_response(request, original_response=None, credentials=None):
    """429: JSON {detail, code} for the API, the "too many attempts" page elsewhere; both say
    when to try again (Retry-After)."""
    minutes = CoopParameters.current().login_lockout_minutes
    detail = _("Too many failed sign-ins: try again in %(minutes)d minutes.") % {"minutes": minutes}
    if request.path.startswith("/api/"):
        response = JsonResponse({"detail": detail, "code": "locked_out"}, status=429)
    else:
        response = render(request, "registration/locked_out.html", {"detail": detail, "minutes": minutes}, status=429)
    response["Retry-After"] = str(minutes * 60)
    return response
