"""Messages to members about their shifts, sent by Celery tasks (`shifts.tasks`) and logged.

Each message is sent once: `deliver` writes its `NotificationLog` rows (unique per member, kind
and key) and sends the e-mail in one transaction. A row that exists already means the message
went, so a re-run of a daily job or a retried task sends nothing twice; a message that fails to
send rolls its rows back and the task retries it.

The hooks at the top (`booked`, `exchange_taken`, `attendance_recorded`) are what the services
call once their transaction has committed (`transaction.on_commit`): they only queue a task, and
never make the action that called them fail. `muted()` silences them (bulk imports, demo data).

Which kinds a member can switch off: reminders and understaffed calls (`OPTIONAL`). Booking
confirmations, missed-shift, alert, suspension and exchange notices are always sent: they tell the
member about their own obligations.
"""
from __future__ import annotations

import datetime
import logging
import zoneinfo

from django.conf import settings
from django.core.mail import EmailMessage
from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.template.loader import render_to_string
from django.urls import NoReverseMatch, reverse
from django.utils import translation

from coopmarket import queueing
from coopmarket.queueing import muted  # noqa: F401 (the hooks' switch, used as notifications.muted())
from members.models import CoopParameters, Member

from . import status as st
from .models import Leave, NotificationLog, NotificationPreference, Registration, StatusChange

logger = logging.getLogger(__name__)

Kind = NotificationLog.Kind
LIVE = Q(cancelled_at__isnull=True)
OPTIONAL = {Kind.REMINDER: "reminders", Kind.UNDERSTAFFED: "understaffed_calls"}
STATUS_NOTICE_DAYS = 7  # the daily job looks this far back for status changes it has not announced
MISSED_NOTICE_DAYS = 3  # a missed shift older than this (a late correction) gets no notice
MISSED_KINDS = (st.MISSED_REGULAR, st.MISSED_OTHER, st.FTOP_MISSED)


# --- parameters (deployment settings with defaults) -------------------------------------------

def reminder_days() -> int:
    """Days before a shift its reminder goes out (`COOP_REMINDER_DAYS`, default 2)."""
    return int(getattr(settings, "COOP_REMINDER_DAYS", 2))


def understaffed_days() -> int:
    """How far ahead understaffed shifts are announced (`COOP_UNDERSTAFFED_DAYS`, default 3)."""
    return int(getattr(settings, "COOP_UNDERSTAFFED_DAYS", 3))


def understaffed_percent() -> int:
    """Under this share of seats taken a shift is understaffed (`COOP_UNDERSTAFFED_PERCENT`, default
    50), the same setting as the coordination team's pages."""
    return int(getattr(settings, "COOP_UNDERSTAFFED_PERCENT", 50))


def coop_zone() -> zoneinfo.ZoneInfo:
    return zoneinfo.ZoneInfo(settings.COOP_TIME_ZONE)


# --- hooks the services call after commit -----------------------------------------------------

def _enqueue(task_name: str, *args) -> None:
    from . import tasks

    queueing.enqueue(tasks, task_name, *args)


def booked(registration_id: int) -> None:
    """A one-off booking was made: confirm it to the member."""
    _enqueue("notify_booking", registration_id)


def exchange_taken(given_id: int, taken_id: int) -> None:
    """A shift offered on the exchange was taken: tell the giver, confirm to the taker."""
    _enqueue("notify_exchange_taken", given_id, taken_id)


def attendance_recorded(registration_id: int, state: str) -> None:
    """An attendance was recorded: a missed shift gets a notice saying what to do."""
    if state == Registration.Attendance.MISSED:
        _enqueue("notify_missed", registration_id)


# --- sending and logging ----------------------------------------------------------------------

def site_url() -> str:
    """The site's address for links in e-mails: `COOP_SITE_URL`, else the first real allowed host."""
    configured = getattr(settings, "COOP_SITE_URL", "")
    if configured:
        return configured.rstrip("/")
    for host in settings.ALLOWED_HOSTS:
        if host and host != "*" and not host.startswith("."):
            return f"{'http' if settings.DEBUG else 'https'}://{host}"
    return ""


def link(name: str, *args) -> str:
    try:
        return site_url() + reverse(name, args=args)
    except NoReverseMatch:
        return site_url() or ""


def recipient(member: Member) -> str | None:
    """Where a member's messages go: nowhere for members who left or were anonymised."""
    if not member.email or member.anonymised_on or member.membership == Member.Membership.LEFT:
        return None
    return member.email


def preferences(member: Member) -> NotificationPreference:
    """The member's choices (an unsaved row with everything on when they never chose)."""
    found = NotificationPreference.objects.filter(member=member).first()
    return found or NotificationPreference(member=member)


@transaction.atomic
def preference_update(*, member: Member, reminders: bool, understaffed_calls: bool) -> NotificationPreference:
    preference, _created = NotificationPreference.objects.select_for_update().get_or_create(member=member)
    preference.reminders = reminders
    preference.understaffed_calls = understaffed_calls
    preference.save()
    return preference


def wants(member: Member, kind: str) -> bool:
    field = OPTIONAL.get(kind)
    return True if field is None else getattr(preferences(member), field)


def render(template: str, context: dict) -> tuple[str, str]:
    """Subject (one line) and body of `templates/shifts/email/<template>_{subject,body}.txt`."""
    with translation.override(settings.LANGUAGE_CODE):
        full = {
            "coop_name": settings.COOP_NAME, "site_url": site_url(), "me_url": link("me:page"),
            "shifts_url": link("me:shifts"), **context,
        }
        subject = " ".join(render_to_string(f"shifts/email/{template}_subject.txt", full).split())
        body = render_to_string(f"shifts/email/{template}_body.txt", full)
    return subject, body


def deliver(member: Member, entries: list[tuple[str, str]], template: str, context: dict) -> bool:
    """Send one message about `entries` [(kind, key), ...] and log a row for each.

    The first entry is what the message is: when it is logged already, nothing is sent. Later
    entries are what the message also covers (a missed-shift notice that also announces the
    alert it caused): they are logged, so they are not announced again on their own."""
    to = recipient(member)
    if to is None or not entries:
        return False
    subject, body = render(template, {"member": member, **context})
    with transaction.atomic():
        for index, (kind, key) in enumerate(entries):
            try:
                with transaction.atomic():
                    NotificationLog.objects.create(member=member, kind=kind, key=key, recipient=to, subject=subject[:255])
            except IntegrityError:
                if index == 0:
                    return False
        EmailMessage(subject=subject, body=body, to=[to], headers={"Auto-Submitted": "auto-generated"}).send()
    return True


def _shift_facts(registration: Registration) -> dict:
    shift = registration.shift
    notice = datetime.timedelta(hours=CoopParameters.current().cancel_notice_hours)
    return {
        "registration": registration,
        "shift": shift,
        "start": shift.start.astimezone(coop_zone()),
        "end": shift.end.astimezone(coop_zone()),
        "deadline": (shift.start - notice).astimezone(coop_zone()),
        "notice_hours": int(notice.total_seconds() // 3600),
        "regular": registration.kind == Registration.Kind.REGULAR,
        "standard": registration.member.shift_type == Member.ShiftType.STANDARD,
    }


# --- the messages -----------------------------------------------------------------------------

def booking_confirm(*, registration_id: int, now: datetime.datetime) -> bool:
    """Confirm a one-off booking (or a shift taken on the exchange) that is still live and to come."""
    registration = Registration.objects.select_related("shift", "member").filter(LIVE, pk=registration_id).first()
    if registration is None or registration.shift.cancelled or registration.shift.start <= now:
        return False
    return deliver(registration.member, [(Kind.BOOKING, f"registration-{registration.pk}")], "booking", _shift_facts(registration))


def exchange_taken_notice(*, given_id: int, taken_id: int, now: datetime.datetime) -> bool:
    """Tell the giver their shift was taken (they owe nothing for it), then confirm to the taker."""
    given = Registration.objects.select_related("shift", "member").filter(pk=given_id, cancel_reason="exchanged").first()
    taken = Registration.objects.select_related("member").filter(pk=taken_id).first()
    sent = False
    if given is not None:
        taker = taken.member if taken is not None else None
        sent = deliver(given.member, [(Kind.EXCHANGE_TAKEN, f"registration-{given.pk}")], "exchange_taken", {
            **_shift_facts(given), "taker": f"{taker.first_name} {taker.last_name[:1]}." if taker else "",
        })
    if taken is not None:
        booking_confirm(registration_id=taken.pk, now=now)
    return sent


def _status_change_to_announce(member: Member, *, today: datetime.date) -> StatusChange | None:
    """The member's latest change to alert or suspended in the last days, when it is still their
    status and was not announced yet."""
    change = (
        StatusChange.objects.filter(
            member=member, to_status__in=(st.ALERT, st.SUSPENDED), effective_date__lte=today,
            effective_date__gte=today - datetime.timedelta(days=STATUS_NOTICE_DAYS),
        ).order_by("-effective_date", "-id").first()
    )
    if change is None or member.status != change.to_status:
        return None
    if NotificationLog.objects.filter(member=member, kind=change.to_status, key=f"statuschange-{change.pk}").exists():
        return None
    return change


def missed_notice(*, registration_id: int, today: datetime.date) -> bool:
    """A missed shift: what it cost and what to do; it also announces the alert or suspension it caused."""
    registration = Registration.objects.select_related("shift", "member").filter(
        pk=registration_id, attendance=Registration.Attendance.MISSED,
    ).first()
    if registration is None or registration.shift.date < today - datetime.timedelta(days=MISSED_NOTICE_DAYS):
        return False
    member = Member.objects.get(pk=registration.member_id)
    rows = registration.counter_events.filter(kind__in=MISSED_KINDS, reversed_by__isnull=True)
    points = sum(row.standard_points + row.ftop_points for row in rows)
    change = _status_change_to_announce(member, today=today)
    entries = [(Kind.MISSED, f"registration-{registration.pk}")]
    if change is not None:
        entries.append((change.to_status, f"statuschange-{change.pk}"))
    return deliver(member, entries, "missed", {
        **_shift_facts(registration), "member": member, "lost": -points, "change": change,
    })


def status_notices_send(*, today: datetime.date) -> int:
    """Announce every recent change to alert or suspended that is still the member's status."""
    since = today - datetime.timedelta(days=STATUS_NOTICE_DAYS)
    member_ids = set(
        StatusChange.objects.filter(to_status__in=(st.ALERT, st.SUSPENDED), effective_date__gte=since, effective_date__lte=today)
        .values_list("member_id", flat=True)
    )
    sent = 0
    for member in Member.objects.filter(pk__in=member_ids, status__in=(st.ALERT, st.SUSPENDED)).order_by("pk"):
        change = _status_change_to_announce(member, today=today)
        if change is not None:
            sent += deliver(member, [(change.to_status, f"statuschange-{change.pk}")], change.to_status, {"change": change})
    return sent


def reminders_send(*, today: datetime.date, now: datetime.datetime) -> int:
    """Remind members of their shifts in the next `reminder_days()` days, once per registration.

    One-off bookings made inside that window are left out: their confirmation just went."""
    days = reminder_days()
    registrations = (
        Registration.objects.filter(
            LIVE, attendance__isnull=True, shift__cancelled=False, shift__start__gt=now,
            shift__date__gt=today, shift__date__lte=today + datetime.timedelta(days=days),
        )
        .exclude(member__notification_preference__reminders=False)
        .select_related("shift", "member").order_by("shift__start", "id")
    )
    registrations = list(registrations)
    done = set(NotificationLog.objects.filter(
        kind=Kind.REMINDER, key__in=[f"registration-{r.pk}" for r in registrations],
    ).values_list("key", flat=True))
    zone = coop_zone()
    sent = 0
    for registration in registrations:
        key = f"registration-{registration.pk}"
        window_start = datetime.datetime.combine(registration.shift.date - datetime.timedelta(days=days), datetime.time.min, tzinfo=zone)
        if key in done or (registration.kind == Registration.Kind.ONE_OFF and registration.created_at >= window_start):
            continue
        sent += deliver(registration.member, [(Kind.REMINDER, key)], "reminder", _shift_facts(registration))
    return sent


def understaffed_calls_send(*, today: datetime.date, now: datetime.datetime) -> int:
    """Call FTOP members who may book to the shifts of the next days that are under-filled.

    One e-mail per member listing the shifts not announced to them before (one log row per
    shift), leaving out shifts they are on and days of their leave."""
    from .selectors import shifts_with_seats
    from .services import BOOKABLE_STATUSES

    last = today + datetime.timedelta(days=understaffed_days())
    shifts = list(
        shifts_with_seats(now=now).filter(cancelled=False, start__gt=now, date__lte=last)
        .alias(fill=F("seats_taken") * 100).filter(fill__lt=F("capacity") * understaffed_percent())
    )
    if not shifts:
        return 0
    members = list(
        Member.objects.filter(shift_type=Member.ShiftType.FTOP, status__in=BOOKABLE_STATUSES, anonymised_on__isnull=True)
        .exclude(membership=Member.Membership.LEFT).exclude(email="")
        .exclude(notification_preference__understaffed_calls=False).order_by("pk")
    )
    ids = [m.pk for m in members]
    registered = set(Registration.objects.filter(LIVE, shift__in=shifts, member_id__in=ids).values_list("member_id", "shift_id"))
    announced = set(NotificationLog.objects.filter(
        kind=Kind.UNDERSTAFFED, member_id__in=ids, key__in=[f"shift-{s.pk}" for s in shifts],
    ).values_list("member_id", "key"))
    leaves: dict[int, list[Leave]] = {}
    for leave in Leave.objects.filter(member_id__in=ids, start__lte=last, end__gte=today):
        leaves.setdefault(leave.member_id, []).append(leave)
    zone = coop_zone()
    sent = 0
    for member in members:
        mine = [
            shift for shift in shifts
            if (member.pk, shift.pk) not in registered and (member.pk, f"shift-{shift.pk}") not in announced
            and not any(leave.start <= shift.date <= leave.end for leave in leaves.get(member.pk, ()))
        ]
        if not mine:
            continue
        rows = [{"shift": s, "start": s.start.astimezone(zone), "end": s.end.astimezone(zone),
                 "free": s.capacity - s.seats_taken} for s in mine]
        sent += deliver(member, [(Kind.UNDERSTAFFED, f"shift-{s.pk}") for s in mine], "understaffed", {"rows": rows})
    return sent
