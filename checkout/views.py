"""The till pages: the cashier screen, its service worker, and the coordinators' check log.

The cashier screen is a page shell; the answers come from the till API (checkout/api.py) through
static/checkout/till.js. Views parse, check who may come in, and render.
"""
import datetime
import hashlib
import json

from django.contrib.auth.views import redirect_to_login
from django.contrib.staticfiles import finders
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
from django.shortcuts import render
from django.templatetags.static import static
from django.urls import reverse
from django.utils import timezone
from django.utils.dates import MONTHS
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET
from django_filters.views import FilterView
from django_tables2 import SingleTableMixin

from coopmarket.roles import CoordinatorRequiredMixin
from coopmarket.tables import SafeExportMixin
from members.models import CoopParameters, Member

from . import eligibility as el
from . import services
from .filters import TillCheckFilter
from .models import TillCheck
from .tables import TillCheckTable

RECENT_CHECKS = 10
# What the service worker keeps for a reload without a network (the API is never cached by it).
TILL_STATIC = (
    "bootstrap/css/bootstrap.min.css",
    "coopmarket/site.css",
    "checkout/till.css",
    "bootstrap/js/bootstrap.bundle.min.js",
    "coopmarket/site.js",
    "checkout/till.js",
)


def _till_user_required(view):
    """Anonymous users go to the login page; signed-in users who may not use the till get 403."""

    def wrapped(request, *args, **kwargs):
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        if not services.may_use_till(request.user, now=timezone.now()):
            raise PermissionDenied(_("Only cashiers, coordinators and members on a shift running now may use the till."))
        return view(request, *args, **kwargs)

    wrapped.__name__ = view.__name__
    wrapped.__doc__ = view.__doc__
    return wrapped


def _recent_checks(user, *, since: datetime.datetime) -> list[dict]:
    """This cashier's last checks today, newest first, with what the till shows (no contact data)."""
    rows = (
        TillCheck.objects.filter(user=user, checked_at__gte=since)
        .select_related("member", "associate")
        .only("kind", "code", "can_shop", "status", "reasons", "offline", "checked_at",
              "member__first_name", "member__last_name", "associate__first_name", "associate__last_name")
        [:RECENT_CHECKS]
    )
    recent = []
    for row in rows:
        person = row.associate or row.member
        if row.kind == TillCheck.Kind.OVERRIDE:
            colour = "override"
        elif row.can_shop is None:
            colour = "unknown"
        elif not row.can_shop:
            colour = "red"
        else:
            colour = "orange" if row.status in ("alert", "delay") else "green"
        recent.append({
            "checked_at": row.checked_at,
            "code": row.code,
            "name": el.display_name(person.first_name, person.last_name) if person else _("Unknown card"),
            "colour": colour,
        })
    return recent


def _offline_sentences() -> dict:
    """eligibility.message()'s sentences with their placeholders, for the till's script."""
    alert = [ngettext("%(name)s may shop, but owes %(n)d make-up before %(date)s.",
                      "%(name)s may shop, but owes %(n)d make-ups before %(date)s.", n).replace("%(n)d", "%(n)s") for n in (0, 1, 2)]
    return {
        "refused": _("%(name)s may not shop: %(why)s. %(todo)s"),
        "why": {code: str(text()) for code, text in el.REASON_TEXT.items()},
        "todo": {code: str(text()) for code, text in el.WHAT_TO_DO.items()},
        "alert": alert,
        "delay": _("%(name)s may shop, on an extension until %(date)s: make-ups are still owed."),
        "allowed": _("%(name)s may shop."),
    }


def _till_texts() -> dict:
    """Every word the till's script shows, translated here (the script holds no text of its own)."""
    return {
        "reasons": {code: str(text()).capitalize() for code, text in el.REASON_TEXT.items()},
        "statuses": {value: str(label) for value, label in Member.Status.choices},
        "months": [str(MONTHS[number]) for number in range(1, 13)],  # dates as eligibility.message writes them
        "alert": _("Owes %(n)s make-up(s) before %(date)s"),
        "delay": _("On an extension until %(date)s"),
        "associate": _("Household associate of member %(number)s"),
        "associate_card": _("Household associate"),
        # The offline list's cards carry no sentence: the page writes eligibility.message()'s words.
        "sentences": _offline_sentences(),
        "member": _("Member %(number)s"),
        "offline": _("OFFLINE — list of %(time)s"),
        "offline_unknown": _("Unknown card, offline: check by hand."),
        "offline_no_list": _("Server unreachable and no card list on this device: check by hand."),
        "unknown": _("Unknown card or member number."),
        "signed_out": _("You are signed out: sign in again."),
        "forbidden": _("This account may not use the till now."),
        "error": _("The server answered with an error: try again."),
        "searching": _("Searching…"),
        "no_result": _("Nobody found."),
        "search_offline": _("Offline: names from the list of %(time)s"),
        "list_ok": _("Offline list: %(count)s cards, %(time)s"),
        "list_failed": _("Offline list could not be refreshed (last: %(time)s)"),
        "list_none": _("No offline list on this device yet"),
        "list_online_only": _("Online till: the offline card list stays on till devices."),
        "list_too_big": _("The offline list is too big for this device's storage: kept until the page is closed."),
        "override_done": _("Override recorded: the member may shop."),
        "override_failed": _("The override was not recorded: %(detail)s"),
        "override_offline": _("Overrides need the server: not recorded."),
        "reason_required": _("Say why you let this member shop."),
        "green": _("May shop"),
        "orange": _("May shop — tell them"),
        "red": _("May not shop"),
    }


@never_cache
@require_GET
@_till_user_required
def till(request):
    """The cashier screen: scan field, big coloured answer, name search, last checks."""
    now = timezone.now()
    start_of_day = timezone.localtime(now).replace(hour=0, minute=0, second=0, microsecond=0)
    return render(request, "checkout/till.html", {
        "override_allowed": CoopParameters.current().till_override_allowed,
        "recent_checks": _recent_checks(request.user, since=start_of_day),
        "till_texts": _till_texts(),
        "api_root": reverse("checkout-search"),
        # A member on shift uses the online till only: no offline list on their account.
        "cards_url": reverse("checkout-cards") if services.may_hold_card_list(request.user) else "",
        "log_url": reverse("checkout-offline-log"),
        "sw_url": reverse("checkout:service-worker"),
    })


def _service_worker_source() -> str:
    path = finders.find("checkout/sw.js")
    with open(path, encoding="utf-8") as handle:
        return handle.read()


@require_GET
def service_worker(request):
    """static/checkout/sw.js served under /till/ so that its scope covers the till page.

    The list of files to keep (with their hashed production names) and a version are written
    in front of the script; a new deployment changes the version, which renews the cache.
    """
    urls = [reverse("checkout:till")] + [static(name) for name in TILL_STATIC]
    source = _service_worker_source()
    version = hashlib.sha256((source + json.dumps(urls)).encode()).hexdigest()[:12]
    body = f"const TILL_CACHE = {json.dumps('till-' + version)};\nconst TILL_URLS = {json.dumps(urls)};\n{source}"
    response = HttpResponse(body, content_type="text/javascript; charset=utf-8")
    response["Service-Worker-Allowed"] = reverse("checkout:till")
    response["Cache-Control"] = "no-cache"
    return response


class TillCheckListView(CoordinatorRequiredMixin, SafeExportMixin, SingleTableMixin, FilterView):
    """Checks and refusals of a day (today by default), by answer and cashier, with CSV export."""

    table_class = TillCheckTable
    filterset_class = TillCheckFilter
    template_name = "checkout/checks.html"
    table_pagination = {"per_page": 100}
    export_name = "till-checks"

    def get_queryset(self):
        return TillCheck.objects.select_related("user", "member", "associate")
