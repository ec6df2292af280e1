"""The cooperator's own shift pages (issue 5), phone first.

- `/me/`: the members app's page plus my standing (status and what it means, counters, make-ups
  and deadline, regular slot, next shifts, leave or exemption), my calendar feed and my e-mail
  choices.
- `/me/shifts/`: my coming shifts (cancel, offer on the exchange, withdraw the offer), shifts
  offered by others (take), and, week by week, the shifts with free seats that I may book. The
  rules of DOMAIN.md §4 are spelled out next to each button, before I press it.
- `/calendar/<token>.ics`: my shifts as an iCalendar feed (no login: the secret token is the key);
  `/me/shifts.ics` redirects to it, `POST /me/calendar/reset/` issues a new secret.

Views parse the request, call one service and render; the services decide (RuleViolation becomes
a message, never a 500). The clock is read here only, through `clock_now()`/`clock_today()`
(tests replace them). No GET changes anything.
"""
from __future__ import annotations

import datetime
import re
from collections import Counter
from functools import wraps

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.db.models import Q
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST, require_safe

from coopmarket.dates import coop_today
from coopmarket.errors import RuleViolation
from members import qualifications as quals
from members.models import CoopParameters, Member, Qualification
from members.views import _member_context

from . import cycle, ical, notifications, services
from . import seats as seat_rules
from .models import Exemption, Leave, Registration, Shift, SlotAssignment
from .selectors import mark_seats, shifts_with_seats

LIVE = Q(cancelled_at__isnull=True)
WEEKS_SHOWN = 4
LIMITS_DAYS = 366  # how far ahead the FTOP limits are counted (offers on the exchange can be far)
NEXT_SHIFTS_SHOWN = 5


def clock_now() -> datetime.datetime:
    return timezone.now()


def clock_today() -> datetime.date:
    return coop_today()


def own_member(request) -> Member:
    """The member linked to the signed-in user; 404 for accounts without one (cashier, supply...)."""
    member = Member.objects.filter(user_id=request.user.pk).first()
    if member is None:
        raise Http404(_("Your account is not linked to a member."))
    return member


def member_page(view):
    """Sign-in first, then the user's own member, passed to the view (404 without one)."""

    @login_required
    @wraps(view)
    def wrapped(request, *args, **kwargs):
        return view(request, own_member(request), *args, **kwargs)

    return wrapped


# --- what my standing means ---------------------------------------------------------------------

STATUS_MEANINGS = {
    Member.Status.UP_TO_DATE: gettext_lazy("You are up to date with your shifts. You may shop."),
    Member.Status.ALERT: gettext_lazy(
        "You owe make-up shifts. You may still shop until the deadline: do your make-ups before it, or you will be suspended."
    ),
    Member.Status.DELAY: gettext_lazy(
        "You owe make-up shifts and the coordination team gave you more time. You may shop until the end of the extension."
    ),
    Member.Status.SUSPENDED: gettext_lazy(
        "You owe make-up shifts and your deadline has passed: you cannot shop until your counter is back to 0. Book make-ups below."
    ),
    Member.Status.ON_LEAVE: gettext_lazy("You are on leave: no shifts and no shopping until your leave ends."),
    Member.Status.EXEMPTED: gettext_lazy("You are exempted from shifts for now. You may shop."),
    Member.Status.UNSUBSCRIBED: gettext_lazy(
        "You have lost your place in the shift system (missed shifts, or no regular slot). You cannot shop. You may book make-ups; ask the members office to re-enrol you."
    ),
    Member.Status.BLOCKED: gettext_lazy("Your account is blocked by the coordination team. Please contact the members office."),
    Member.Status.NOT_CONCERNED: gettext_lazy("The shift system does not apply to you (yet)."),
}


def _slot_text(template) -> str:
    return _("Week %(week)s · %(weekday)s · %(start)s–%(end)s") % {
        "week": template.week, "weekday": template.get_weekday_display(),
        "start": template.start_time.strftime("%H:%M"), "end": template.end_time.strftime("%H:%M"),
    }


def standing(member: Member, *, today: datetime.date, now: datetime.datetime) -> dict:
    """Everything the /me/ standing card shows, in a handful of queries."""
    slots = list(
        SlotAssignment.objects.filter(Q(end_date__isnull=True) | Q(end_date__gt=today), member=member)
        .select_related("template").order_by("start_date", "id")
    )
    current = [s for s in slots if s.start_date <= today]
    slot = current[-1] if current else (slots[0] if slots else None)
    next_shifts = list(
        Registration.objects.filter(LIVE, member=member, shift__end__gt=now, shift__cancelled=False)
        .select_related("shift").order_by("shift__start", "id")[:NEXT_SHIFTS_SHOWN]
    )
    leave = Leave.objects.filter(member=member, end__gte=today).order_by("start").first()
    exemption = Exemption.objects.filter(Q(end__isnull=True) | Q(end__gte=today), member=member).order_by("start").first()
    return {
        "meaning": STATUS_MEANINGS.get(member.status, ""),
        "concerned": member.status != Member.Status.NOT_CONCERNED,
        "slot": slot,
        "slot_text": _slot_text(slot.template) if slot else "",
        "slot_future": slot is not None and slot.start_date > today,
        "next_shifts": next_shifts,
        "leave": leave,
        "leave_current": leave is not None and leave.start <= today,
        "exemption": exemption,
        "exemption_current": exemption is not None and exemption.start <= today,
        "is_ftop": member.shift_type == Member.ShiftType.FTOP,
        "welcome_needed": welcome_needed(member),
    }


def welcome_needed(member: Member) -> bool:
    """The coop wants newcomers at a welcome session before they book, and this one was not yet."""
    return member.welcomed_on is None and CoopParameters.current().welcome_before_booking


class PreferenceForm(forms.Form):
    """The optional e-mails (notifications.OPTIONAL); the others are always sent."""

    reminders = forms.BooleanField(required=False)
    understaffed_calls = forms.BooleanField(
        required=False, label=gettext_lazy("Tell me when a shift of the next days is short of people (flying members)"),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        days = notifications.reminder_days()
        self.fields["reminders"].label = ngettext(
            "Remind me of my shifts %(n)d day before", "Remind me of my shifts %(n)d days before", days,
        ) % {"n": days}


def calendar_feed_url(request, member: Member) -> str:
    return request.build_absolute_uri(reverse("calendar_feed", kwargs={"token": member.calendar_token}))


@member_page
def me(request, member):
    """The members app's page with my shift standing, calendar feed and e-mail choices."""
    today, now = clock_today(), clock_now()
    context = _member_context(member)
    preference = notifications.preferences(member)
    context.update({
        "shift_standing": standing(context["member"], today=today, now=now),
        "preference_form": PreferenceForm(initial={
            "reminders": preference.reminders, "understaffed_calls": preference.understaffed_calls,
        }),
        "calendar_url": calendar_feed_url(request, member),
    })
    return render(request, "members/me.html", context)


# --- the shift calendar ---------------------------------------------------------------------

def _deadline(shift: Shift, notice: datetime.timedelta) -> datetime.datetime:
    return shift.start - notice


def _my_rows(member: Member, *, now: datetime.datetime, notice: datetime.timedelta) -> list[dict]:
    """My coming registrations with what I may do with each, and the rule that applies."""
    rows = []
    registrations = list(
        Registration.objects.filter(LIVE, member=member, shift__end__gt=now, shift__cancelled=False)
        .select_related("shift", "seat").order_by("shift__start", "id")
    )
    mark_seats([r.shift for r in registrations], now=now, today=timezone.localdate(now, services.coop_zone()))
    standard = member.shift_type == Member.ShiftType.STANDARD
    for registration in registrations:
        shift = registration.shift
        regular = registration.kind == Registration.Kind.REGULAR and standard
        open_ = registration.attendance is None and shift.start - now >= notice
        rows.append({
            "registration": registration,
            "shift": shift,
            "regular": registration.kind == Registration.Kind.REGULAR,
            "cancel_costs": regular,  # cancelling one's own regular shift in time is excused: -1
            "open": open_,
            "deadline": _deadline(shift, notice),
            "offered": registration.offered_at is not None,
            "missed_cost": 2 if regular else 1,  # DOMAIN.md §3: a missed regular shift -2, any other -1
            "started": shift.start <= now,
        })
    return rows


def _may_book_reason(member: Member) -> str:
    """Why the member may not book at all ('' when they may)."""
    if member.membership == Member.Membership.LEFT:
        return _("You have left the coop.")
    if member.status not in services.BOOKABLE_STATUSES and not _welcome_only(member):
        return _("With the status “%(status)s” you cannot book shifts.") % {"status": member.get_status_display()}
    return ""


def _welcome_only(member: Member) -> bool:
    """Members who may book welcome sessions only: not yet welcomed while the coop asks for it,
    or newcomers without a working status yet (shares not paid)."""
    return welcome_needed(member) or member.status == Member.Status.NOT_CONCERNED


class SeatPreview:
    """Which seat I would take on each shift, and why (the rule of `seats.choose`), from my
    qualifications and the seats of the shifts shown: a constant number of queries."""

    def __init__(self, member: Member, *, first: datetime.date, last: datetime.date, today: datetime.date):
        self.holdings = quals.holdings_of([member.pk], first=first, last=last).get(member.pk, {})
        self.holders = quals.holders_count(today)

    def held(self, day: datetime.date) -> set[int]:
        return quals.ids_held_from(self.holdings, day)

    def explain(self, shift) -> dict:
        """{choice, text, options}: the seat the rule gives me, in words, and the seats I may name."""
        facts = shift.seat_facts
        state = facts.rules
        held = self.held(shift.date)
        choice = seat_rules.choose(state, held=held, holders=self.holders)
        names = {q.pk: q.display_name for q, _n in facts.requirements}
        options = [(q.code, q.display_name) for q, _n in facts.requirements if q.pk in held and state.free(q.pk) > 0]
        if options and state.free(seat_rules.OPEN) > 0:
            options.append(("open", _("an open seat")))
        if not choice.ok:
            needed = ", ".join(names[q] for q, n in state.free_by_seat().items() if q is not None and n > 0)
            text = _("Only seats for trained members are free (%(names)s).") % {"names": needed}
        elif choice.why == seat_rules.QUALIFIED:
            mine = [q for q, n in state.free_by_seat().items() if q is not None and n > 0 and q in held]
            if len(mine) > 1:
                text = _("You would take a %(name)s seat: you are trained for it, and it is the training fewer members have.") % {
                    "name": names[choice.seat]}
            else:
                text = _("You would take a %(name)s seat: you are trained for it and one is free.") % {"name": names[choice.seat]}
        else:
            mine = [names[q.pk] for q, _n in facts.requirements if q.pk in held]
            others = [names[q.pk] for q, _n in facts.requirements if q.pk not in held]
            text = _("You would take an open seat.")
            if mine:
                text += " " + _("No %(names)s seat is free.") % {"names": ", ".join(mine)}
            elif others:
                text += " " + _("The %(names)s seats need a training.") % {"names": ", ".join(others)}
        return {"choice": choice, "text": text if facts.requirements else "", "options": options if len(options) > 1 else []}


class Limits:
    """An FTOP member's booking limits (per day, per cycle) over my live registrations."""

    def __init__(self, member: Member, first: datetime.date, last: datetime.date):
        params = CoopParameters.current()
        self.applies = member.shift_type == Member.ShiftType.FTOP
        self.per_day, self.per_cycle = params.ftop_max_per_day, params.ftop_max_per_cycle
        self.anchor = services.cycle_start_setting()
        start = cycle.cycle_start_on_or_before(first, self.anchor)
        end = cycle.cycle_start_on_or_before(last, self.anchor) + datetime.timedelta(days=cycle.CYCLE_DAYS - 1)
        dates = list(Registration.objects.filter(LIVE, member=member, shift__date__gte=start, shift__date__lte=end)
                     .values_list("shift__date", flat=True)) if self.applies else []
        self.days = Counter(dates)
        self.cycles = Counter(cycle.cycle_start_on_or_before(d, self.anchor) for d in dates)

    def refusal(self, day: datetime.date) -> str:
        if not self.applies:
            return ""
        if self.days[day] >= self.per_day:
            return "day"
        if self.cycles[cycle.cycle_start_on_or_before(day, self.anchor)] >= self.per_cycle:
            return "cycle"
        return ""


def _on_leave(day: datetime.date, leaves: list[Leave]) -> bool:
    return any(leave.start <= day <= leave.end for leave in leaves)


def _window(request, today: datetime.date) -> tuple[datetime.date, datetime.date]:
    """The weeks shown: WEEKS_SHOWN weeks from `?from=` (a date, never before today's Monday)."""
    monday = today - datetime.timedelta(days=today.weekday())
    try:
        first = datetime.date.fromisoformat(request.GET.get("from", ""))
    except ValueError:
        first = monday
    first = max(first - datetime.timedelta(days=first.weekday()), monday)
    return first, first + datetime.timedelta(days=7 * WEEKS_SHOWN - 1)


def _bookable_weeks(member: Member, *, first, last, today, now, notice, limits: Limits) -> tuple[list[dict], dict]:
    """Shifts in [first, last] with a free seat that I may book, grouped by week then day, each
    with the seat I would take and why; and how many were left out by each limit."""
    mine = Registration.objects.filter(LIVE, member=member).values("shift_id")
    candidates = (
        shifts_with_seats(now=now)
        .filter(date__gte=max(first, today), date__lte=last, cancelled=False, start__gt=now)
        .exclude(pk__in=mine)
    )
    if _welcome_only(member):
        candidates = candidates.filter(welcome=True)
    candidates = mark_seats([s for s in candidates if s.seats_taken < s.capacity], now=now, today=today)
    preview = SeatPreview(member, first=max(first, today), last=last, today=today)
    leaves = list(Leave.objects.filter(member=member, end__gte=first, start__lte=last))
    weeks: dict[datetime.date, dict] = {}
    left_out = Counter()
    for shift in candidates:
        seat = preview.explain(shift)
        if not seat["choice"].ok:
            left_out["qualified"] += 1
            continue
        if _on_leave(shift.date, leaves):
            left_out["leave"] += 1
            continue
        refusal = limits.refusal(shift.date)
        if refusal:
            left_out[refusal] += 1
            continue
        monday = shift.date - datetime.timedelta(days=shift.date.weekday())
        week = weeks.setdefault(monday, {"monday": monday, "sunday": monday + datetime.timedelta(days=6),
                                         "letter": shift.week, "days": {}})
        deadline = _deadline(shift, notice)
        week["days"].setdefault(shift.date, []).append({
            "shift": shift, "free": shift.capacity - shift.seats_taken, "deadline": deadline, "final": deadline <= now,
            "seat": seat, "trained_for_empty": [q for q, _n in shift.empty_seats if q.pk in preview.held(shift.date)],
        })
    result = []
    for monday in sorted(weeks):
        week = weeks[monday]
        week["days"] = [{"date": day, "shifts": week["days"][day]} for day in sorted(week["days"])]
        result.append(week)
    return result, dict(left_out)


def _exchange_rows(member: Member, *, today, now, notice, limits: Limits) -> list[dict]:
    """Shifts others offer on the exchange (open until the notice before start) that I could take."""
    mine = Registration.objects.filter(LIVE, member=member).values("shift_id")
    offers = (
        Registration.objects.filter(LIVE, offered_at__isnull=False, shift__start__gte=now + notice, shift__cancelled=False)
        .exclude(member=member).exclude(shift_id__in=mine)
        .select_related("shift").order_by("shift__start", "offered_at")
    )
    leaves = list(Leave.objects.filter(member=member, end__gte=today))
    offers = [offer for offer in offers.select_related("seat") if not _on_leave(offer.shift.date, leaves)]
    holdings = quals.holdings_of([member.pk], first=today).get(member.pk, {}) if any(o.seat_id for o in offers) else {}
    per_shift: dict[int, list[Registration]] = {}
    for offer in offers:
        per_shift.setdefault(offer.shift_id, []).append(offer)
    rows = []
    for shift_offers in per_shift.values():
        shift = shift_offers[0].shift
        held = quals.ids_held_from(holdings, shift.date)
        taken = next((o for o in shift_offers if o.seat_id is None or o.seat_id in held), None)
        rows.append({
            "shift": shift, "limit": limits.refusal(shift.date), "was_regular": (taken or shift_offers[0]).kind == Registration.Kind.REGULAR,
            "seat": taken.seat if taken is not None else None,
            "needs": None if taken is not None else shift_offers[0].seat,
        })
    return rows


@member_page
def my_shifts(request, member):
    today, now = clock_today(), clock_now()
    notice = datetime.timedelta(hours=CoopParameters.current().cancel_notice_hours)
    first, last = _window(request, today)
    refusal = _may_book_reason(member)
    welcome_only = not refusal and _welcome_only(member)
    mine = _my_rows(member, now=now, notice=notice)
    weeks, left_out, exchange = [], {}, []
    if not refusal:
        limits = Limits(member, today, max(last, today + datetime.timedelta(days=LIMITS_DAYS)))
        weeks, left_out = _bookable_weeks(member, first=first, last=last, today=today, now=now, notice=notice, limits=limits)
        exchange = [] if welcome_only else _exchange_rows(member, today=today, now=now, notice=notice, limits=limits)
    standard = member.shift_type == Member.ShiftType.STANDARD
    monday = today - datetime.timedelta(days=today.weekday())
    step = datetime.timedelta(days=7 * WEEKS_SHOWN)
    params = CoopParameters.current()
    return render(request, "shifts/member/shifts.html", {
        "member": member,
        "mine": mine,
        "weeks": weeks,
        "left_out": left_out,
        "exchange": exchange,
        "refusal": refusal,
        "first": first,
        "last": last,
        "earlier": first - step if first > monday else None,
        "later": first + step,
        "notice_hours": params.cancel_notice_hours,
        "ftop_max_per_day": params.ftop_max_per_day,
        "ftop_max_per_cycle": params.ftop_max_per_cycle,
        "is_ftop": not standard,
        "owes": member.makeups_owed > 0,
        "next_url": request.get_full_path(),
        "welcome_only": welcome_only,
        "welcome_needed": welcome_needed(member),
    })


# --- actions (POST only) ----------------------------------------------------------------------

MEMBER_MESSAGES = {
    "already_booked": gettext_lazy("You are already registered on this shift."),
    "shift_full": gettext_lazy("This shift is full: pick another one, or take a shift offered on the exchange."),
    "not_qualified": gettext_lazy("The seats left on this shift need a training you do not have (yet): pick another shift."),
    "welcome_first": gettext_lazy("Come to a welcome session first: booking the other shifts opens once you are welcomed."),
}


def _back(request):
    target = request.POST.get("next") or ""
    if target and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}, require_https=request.is_secure()):
        return redirect(target)
    return redirect("me:shifts")


def _act(request, action, success: str) -> None:
    """Run a service; its refusal becomes an error message on the page, never a 500."""
    try:
        action()
    except RuleViolation as exc:
        messages.error(request, str(MEMBER_MESSAGES.get(exc.code, exc.message)))
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, success)


def _shift(shift_id: int) -> Shift:
    return get_object_or_404(Shift, pk=shift_id)


def _when(shift: Shift) -> str:
    start = timezone.localtime(shift.start)
    return _("%(name)s on %(day)s at %(time)s") % {
        "name": shift.name, "day": date_format(start, "SHORT_DATE_FORMAT"), "time": date_format(start, "H:i"),
    }


UNKNOWN_SEAT = object()


def _seat_asked(request):
    """The seat the member named in the form: '' (the rule chooses), 'open', or a qualification code."""
    value = request.POST.get("seat", "")
    if not value:
        return seat_rules.AUTO
    if value == "open":
        return seat_rules.OPEN
    if not re.fullmatch(r"[-a-z0-9_]{1,20}", value):
        return UNKNOWN_SEAT
    return Qualification.objects.filter(code=value).first() or UNKNOWN_SEAT




@require_POST
@member_page
def book(request, member, shift_id):
    shift = _shift(shift_id)
    seat = _seat_asked(request)
    if seat is UNKNOWN_SEAT:
        messages.error(request, _("This shift has no seat for this qualification."))
        return _back(request)
    _act(request, lambda: services.shift_book(shift=shift, member=member, now=clock_now(), by=request.user, seat=seat),
         _("Booked: %(shift)s. A confirmation e-mail is on its way.") % {"shift": _when(shift)})
    return _back(request)


@require_POST
@member_page
def cancel(request, member, shift_id):
    shift = _shift(shift_id)
    _act(request, lambda: services.registration_cancel(shift=shift, member=member, now=clock_now(), today=clock_today(), by=request.user),
         _("Cancelled: %(shift)s.") % {"shift": _when(shift)})
    return _back(request)


@require_POST
@member_page
def offer(request, member, shift_id):
    shift = _shift(shift_id)
    _act(request, lambda: services.shift_offer(shift=shift, member=member, now=clock_now(), by=request.user),
         _("Offered on the exchange: %(shift)s. You stay registered until someone takes it.") % {"shift": _when(shift)})
    return _back(request)


@require_POST
@member_page
def withdraw(request, member, shift_id):
    shift = _shift(shift_id)
    _act(request, lambda: services.shift_offer_withdraw(shift=shift, member=member, by=request.user),
         _("Offer withdrawn: %(shift)s stays yours.") % {"shift": _when(shift)})
    return _back(request)


@require_POST
@member_page
def take(request, member, shift_id):
    shift = _shift(shift_id)
    _act(request, lambda: services.shift_take(shift=shift, member=member, now=clock_now(), by=request.user),
         _("Taken from the exchange: %(shift)s is now yours.") % {"shift": _when(shift)})
    return _back(request)


@require_POST
@member_page
def preferences_update(request, member):
    form = PreferenceForm(request.POST)
    if form.is_valid():
        notifications.preference_update(member=member, **form.cleaned_data)
        messages.success(request, _("Your e-mail choices are saved."))
    return redirect(reverse("me:page") + "#notifications")


# --- the calendar feed ------------------------------------------------------------------------

@require_POST
@member_page
def calendar_reset(request, member):
    ical.calendar_token_reset(member=member)
    messages.success(request, _("Your calendar has a new address: the old one no longer works. Add the new one to your calendar app."))
    return redirect(reverse("me:page") + "#calendar")


@require_safe
@member_page
def calendar_redirect(request, member):
    return redirect(calendar_feed_url(request, member))


@require_safe
@never_cache
def calendar_feed(request, token: str):
    """My shifts as iCalendar, for calendar apps: no login, the secret token in the URL is the key."""
    member = Member.objects.filter(calendar_token=token, anonymised_on__isnull=True).first()
    if member is None:
        raise Http404
    now = clock_now()
    body = ical.member_calendar(
        member, registrations=ical.feed_registrations(member, today=clock_today()), now=now,
        coop_name=settings.COOP_NAME, page_url=request.build_absolute_uri(reverse("me:shifts")),
        location=getattr(settings, "COOP_ADDRESS", ""),
    )
    response = HttpResponse(body.encode("utf-8"), content_type="text/calendar; charset=utf-8")
    response["Content-Disposition"] = 'inline; filename="shifts.ics"'
    response["X-Robots-Tag"] = "noindex, nofollow"
    return response
