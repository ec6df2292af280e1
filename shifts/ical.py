"""A member's shifts as an iCalendar feed (RFC 5545), written by hand.

- Lines end with CRLF and are folded at 75 octets (never inside a UTF-8 character); TEXT values
  are escaped (backslash, semicolon, comma, newline).
- Times are local to the coop (`COOP_TIME_ZONE`, Europe/Paris by default) with `TZID`, and the
  feed carries the matching `VTIMEZONE`: its observances are the zone's real offset changes over
  the years the feed covers, read from the tz database (no hand-written rule to go stale).
- Each event's `UID` is `registration-<id>@<domain>`: stable across fetches, so a calendar app
  updates an event (new times after a template change) instead of duplicating it; a cancelled or
  exchanged registration drops out of the feed and out of the subscriber's calendar.

The feed URL holds the member's secret `calendar_token`; `calendar_token_reset` issues a new one
(the old URL then answers 404).
"""
from __future__ import annotations

import datetime
import secrets
import zoneinfo
from collections.abc import Iterable
from dataclasses import dataclass

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils.translation import gettext as _

from members.models import Member

from .models import Registration

CRLF = "\r\n"
MAX_OCTETS = 75
UID_DOMAIN = "coopmarket"
PAST_DAYS = 60  # past shifts kept in the feed, so a member's calendar keeps its recent history
UTC = datetime.UTC


# --- RFC 5545 primitives ----------------------------------------------------------------------

def escape_text(value: str) -> str:
    """A TEXT value (RFC 5545 §3.3.11)."""
    return (
        str(value).replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,")
        .replace("\r\n", "\\n").replace("\n", "\\n").replace("\r", "\\n")
    )


def fold(line: str) -> str:
    """Fold a content line into chunks of at most 75 octets, continuation lines starting with a
    space (RFC 5545 §3.1); a multi-octet UTF-8 character is never split."""
    if len(line.encode("utf-8")) <= MAX_OCTETS:
        return line
    parts: list[str] = []
    current, size, limit = [], 0, MAX_OCTETS
    for char in line:
        width = len(char.encode("utf-8"))
        if size + width > limit:
            parts.append("".join(current))
            current, size, limit = [], 0, MAX_OCTETS - 1  # the leading space counts
        current.append(char)
        size += width
    parts.append("".join(current))
    return (CRLF + " ").join(parts)


def utc_stamp(moment: datetime.datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")


def local_stamp(moment: datetime.datetime, zone: zoneinfo.ZoneInfo) -> str:
    return moment.astimezone(zone).strftime("%Y%m%dT%H%M%S")


def _offset(delta: datetime.timedelta) -> str:
    minutes = int(delta.total_seconds()) // 60
    sign = "+" if minutes >= 0 else "-"
    hours, minutes = divmod(abs(minutes), 60)
    return f"{sign}{hours:02d}{minutes:02d}"


# --- VTIMEZONE from the tz database -----------------------------------------------------------

@dataclass(frozen=True)
class Transition:
    at_utc: datetime.datetime
    offset_from: datetime.timedelta
    offset_to: datetime.timedelta
    name: str
    dst: bool


def _utcoffset(zone: zoneinfo.ZoneInfo, moment: datetime.datetime) -> datetime.timedelta:
    return moment.astimezone(zone).utcoffset() or datetime.timedelta(0)


def transitions(zone: zoneinfo.ZoneInfo, first_year: int, last_year: int) -> list[Transition]:
    """The zone's offset changes from 1 January of `first_year` to 31 December of `last_year`,
    found day by day then to the minute (transitions fall on whole minutes)."""
    found = []
    moment = datetime.datetime(first_year, 1, 1, tzinfo=UTC)
    end = datetime.datetime(last_year + 1, 1, 1, tzinfo=UTC)
    step = datetime.timedelta(days=1)
    previous = _utcoffset(zone, moment)
    while moment < end:
        following = moment + step
        offset = _utcoffset(zone, following)
        if offset != previous:
            low, high = moment, following  # offset(low) == previous, offset(high) == offset
            while high - low > datetime.timedelta(minutes=1):
                middle = low + (high - low) / 2
                middle = middle.replace(second=0, microsecond=0)
                if middle <= low:
                    break
                if _utcoffset(zone, middle) == previous:
                    low = middle
                else:
                    high = middle
            local = high.astimezone(zone)
            found.append(Transition(high, previous, offset, local.tzname() or "", bool(local.dst())))
            previous = offset
        moment = following
    return found


def vtimezone_lines(zone: zoneinfo.ZoneInfo, first_year: int, last_year: int) -> list[str]:
    """A VTIMEZONE whose observances cover [first_year, last_year]: one for the offset in force
    on 1 January of `first_year`, then one per transition (DTSTART in the local time being left,
    as RFC 5545 §3.6.5 says)."""
    start = datetime.datetime(first_year, 1, 1, tzinfo=UTC)
    initial = start.astimezone(zone)
    initial_offset = initial.utcoffset() or datetime.timedelta(0)
    lines = ["BEGIN:VTIMEZONE", f"TZID:{zone.key}", f"X-LIC-LOCATION:{zone.key}"]

    def observance(dst: bool, onset_local: datetime.datetime, offset_from, offset_to, name: str) -> list[str]:
        kind = "DAYLIGHT" if dst else "STANDARD"
        rows = [f"BEGIN:{kind}", f"DTSTART:{onset_local.strftime('%Y%m%dT%H%M%S')}",
                f"TZOFFSETFROM:{_offset(offset_from)}", f"TZOFFSETTO:{_offset(offset_to)}"]
        if name:
            rows.append(f"TZNAME:{escape_text(name)}")
        return [*rows, f"END:{kind}"]

    # The offset in force when the range starts, as an observance open since 1970 (the usual
    # origin of VTIMEZONE rules), so every time before the first transition resolves too.
    lines += observance(bool(initial.dst()), datetime.datetime(1970, 1, 1), initial_offset, initial_offset, initial.tzname() or "")
    for change in transitions(zone, first_year, last_year):
        onset = (change.at_utc + change.offset_from).replace(tzinfo=None)
        lines += observance(change.dst, onset, change.offset_from, change.offset_to, change.name)
    lines.append("END:VTIMEZONE")
    return lines


# --- the member's feed ------------------------------------------------------------------------

def coop_zone() -> zoneinfo.ZoneInfo:
    return zoneinfo.ZoneInfo(settings.COOP_TIME_ZONE)


def feed_registrations(member: Member, *, today: datetime.date):
    """The member's live registrations from PAST_DAYS ago on (cancelled and exchanged ones drop out)."""
    return (
        Registration.objects.filter(Q(cancelled_at__isnull=True), member=member, shift__cancelled=False,
                                    shift__date__gte=today - datetime.timedelta(days=PAST_DAYS))
        .select_related("shift", "shift__template")
        .order_by("shift__start", "id")
    )


def event_summary(registration: Registration, coop_name: str) -> str:
    return _("%(coop)s shift: %(name)s") % {"coop": coop_name, "name": registration.shift.name}


def event_description(registration: Registration) -> str:
    shift = registration.shift
    lines = [
        _("Week %(week)s of the cycle.") % {"week": shift.week},
        _("Your regular shift.") if registration.kind == Registration.Kind.REGULAR else _("A shift you booked."),
    ]
    if registration.offered_at is not None:
        lines.append(_("Offered on the exchange: until someone takes it, you stay registered."))
    if registration.attendance:
        lines.append(_("Attendance: %(state)s") % {"state": registration.get_attendance_display()})
    return "\n".join(lines)


def member_calendar(
    member: Member, *, registrations: Iterable[Registration], now: datetime.datetime, coop_name: str,
    page_url: str = "", location: str = "",
) -> str:
    """The iCalendar text (CRLF, folded) of the given registrations."""
    zone = coop_zone()
    registrations = list(registrations)
    years = [r.shift.start.astimezone(zone).year for r in registrations] or [now.astimezone(zone).year]
    lines = [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        f"PRODID:-//{escape_text(coop_name)}//Coopmarket shifts//EN",
        "CALSCALE:GREGORIAN",
        "METHOD:PUBLISH",
        f"X-WR-CALNAME:{escape_text(_('My shifts at %(coop)s') % {'coop': coop_name})}",
        f"X-WR-TIMEZONE:{zone.key}",
        "REFRESH-INTERVAL;VALUE=DURATION:PT6H",
        "X-PUBLISHED-TTL:PT6H",
    ]
    lines += vtimezone_lines(zone, min(years), max(years))
    stamp = utc_stamp(now)
    for registration in registrations:
        shift = registration.shift
        event = [
            "BEGIN:VEVENT",
            f"UID:registration-{registration.pk}@{UID_DOMAIN}",
            f"DTSTAMP:{stamp}",
            f"CREATED:{utc_stamp(registration.created_at)}",
            f"DTSTART;TZID={zone.key}:{local_stamp(shift.start, zone)}",
            f"DTEND;TZID={zone.key}:{local_stamp(shift.end, zone)}",
            f"SUMMARY:{escape_text(event_summary(registration, coop_name))}",
            f"DESCRIPTION:{escape_text(event_description(registration))}",
            "STATUS:CONFIRMED",
            "TRANSP:OPAQUE",
        ]
        if location:
            event.append(f"LOCATION:{escape_text(location)}")
        if page_url:
            event.append(f"URL:{page_url}")
        event.append("END:VEVENT")
        lines += event
    lines.append("END:VCALENDAR")
    return "".join(fold(line) + CRLF for line in lines)


@transaction.atomic
def calendar_token_reset(*, member: Member) -> Member:
    """A new secret for the member's feed: the old URL stops working at once."""
    member = Member.objects.select_for_update().get(pk=member.pk)
    member.calendar_token = secrets.token_urlsafe(32)
    member.save(update_fields=["calendar_token", "updated_at"])
    return member
