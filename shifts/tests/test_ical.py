"""The personal calendar feed: valid iCalendar (RFC 5545) that calendar apps accept, stable UIDs,
times in the coop's zone, a secret URL that can be reset, and `calendar_url` on the member object.

`parse` below is a small strict reader: CRLF only, folded lines at most 75 octets, unfolding,
BEGIN/END balanced and nested as RFC 5545 says, one UID/DTSTAMP/DTSTART per event.
"""
from __future__ import annotations

import datetime
import zoneinfo

import pytest
from django.test import Client

from members.models import Member
from members.serializers import MemberSerializer
from shifts import ical, services
from shifts.models import Registration

from .conftest import NOW, TODAY, at, client_for, generate, make_template, shift_of

pytestmark = pytest.mark.django_db

PARIS = zoneinfo.ZoneInfo("Europe/Paris")
WEDNESDAY = datetime.date(2026, 3, 4)


@pytest.fixture(autouse=True)
def page_clock(monkeypatch, clock):
    monkeypatch.setattr("shifts.views_member.clock_now", lambda: clock.now)
    monkeypatch.setattr("shifts.views_member.clock_today", lambda: clock.today)
    return clock


# --- a strict little parser -----------------------------------------------------------------------

def parse(raw: bytes) -> dict:
    """Check the physical format and return {"calendar": props, "events": [...], "timezones": [...]}."""
    assert raw.endswith(b"\r\n"), "the last line ends with CRLF"
    physical = raw.split(b"\r\n")[:-1]
    assert b"\n" not in b"".join(physical) and b"\r" not in b"".join(physical), "bare LF or CR"
    for line in physical:
        assert len(line) <= 75, f"line longer than 75 octets: {line!r}"
        line.decode("utf-8")  # each physical line is valid UTF-8: no character split by folding
    logical: list[str] = []
    for line in physical:
        text = line.decode("utf-8")
        if text.startswith((" ", "\t")):
            assert logical, "a continuation line first"
            logical[-1] += text[1:]
        else:
            logical.append(text)
    stack: list[tuple[str, dict]] = []
    result = {"calendar": None, "events": [], "timezones": [], "observances": []}
    for line in logical:
        name_params, _sep, value = line.partition(":")
        assert _sep, f"no colon in {line!r}"
        name, *params = name_params.split(";")
        if name == "BEGIN":
            stack.append((value, {}))
            continue
        if name == "END":
            component, props = stack.pop()
            assert component == value, f"END:{value} closes BEGIN:{component}"
            {"VCALENDAR": lambda p: result.__setitem__("calendar", p), "VEVENT": result["events"].append,
             "VTIMEZONE": result["timezones"].append, "STANDARD": result["observances"].append,
             "DAYLIGHT": result["observances"].append}[component](props)
            continue
        assert stack, f"{name} outside any component"
        stack[-1][1].setdefault(name, []).append((dict(p.split("=", 1) for p in params), value))
    assert not stack, "unclosed components"
    assert result["calendar"] is not None
    return result


def one(props: dict, name: str) -> tuple[dict, str]:
    values = props.get(name, [])
    assert len(values) == 1, f"{name} appears {len(values)} times"
    return values[0]


def unescape(value: str) -> str:
    out, i = [], 0
    while i < len(value):
        if value[i] == "\\":
            nxt = value[i + 1]
            out.append("\n" if nxt in "nN" else nxt)
            i += 2
        else:
            assert value[i] not in ";,", f"unescaped {value[i]!r} in {value!r}"
            out.append(value[i])
            i += 1
    return "".join(out)


def local_time(params: dict, value: str, timezones: list[dict]) -> datetime.datetime:
    """A DATE-TIME with TZID resolved through the feed's VTIMEZONE (zoneinfo checks the result)."""
    assert params.get("TZID") in {one(tz, "TZID")[1] for tz in timezones}
    return datetime.datetime.strptime(value, "%Y%m%dT%H%M%S").replace(tzinfo=zoneinfo.ZoneInfo(params["TZID"]))


# --- the feed -------------------------------------------------------------------------------------

@pytest.fixture
def slot(alice, wednesday):
    services.slot_assign(template=wednesday, member=alice, start_date=TODAY, today=TODAY)
    generate()
    return shift_of(wednesday, WEDNESDAY)


def feed_url(member: Member) -> str:
    member.refresh_from_db()
    return f"/calendar/{member.calendar_token}.ics"


def test_the_feed_is_valid_icalendar_with_stable_uids_and_paris_times(alice, slot):
    first = Client().get(feed_url(alice))
    assert first.status_code == 200
    assert first["Content-Type"] == "text/calendar; charset=utf-8"
    feed = parse(first.content)
    calendar = feed["calendar"]
    assert one(calendar, "VERSION")[1] == "2.0" and one(calendar, "PRODID")[1]
    assert one(calendar, "METHOD")[1] == "PUBLISH"
    [timezone] = feed["timezones"]
    assert one(timezone, "TZID")[1] == "Europe/Paris"
    events = feed["events"]
    registrations = list(Registration.objects.filter(member=alice, cancelled_at__isnull=True).order_by("shift__start"))
    assert [one(e, "UID")[1] for e in events] == [f"registration-{r.pk}@coopmarket" for r in registrations]
    for event, registration in zip(events, registrations, strict=True):
        start = local_time(*one(event, "DTSTART"), feed["timezones"])
        end = local_time(*one(event, "DTEND"), feed["timezones"])
        assert start == registration.shift.start and end == registration.shift.end
        assert one(event, "DTSTAMP")[1].endswith("Z")
        assert unescape(one(event, "SUMMARY")[1]) == "Coopmarket shift: Wednesday morning"
    # 4 March is winter time (+01:00), 1 April summer time (+02:00): both 09:00 in Paris.
    assert one(events[0], "DTSTART") == ({"TZID": "Europe/Paris"}, "20260304T090000")
    assert one(events[1], "DTSTART") == ({"TZID": "Europe/Paris"}, "20260401T090000")
    assert registrations[1].shift.start.astimezone(PARIS).utcoffset() == datetime.timedelta(hours=2)
    second = parse(Client().get(feed_url(alice)).content)
    assert [one(e, "UID")[1] for e in second["events"]] == [one(e, "UID")[1] for e in events]


def test_the_vtimezone_gives_the_offsets_of_the_tz_database(alice, slot):
    feed = parse(Client().get(feed_url(alice)).content)
    observances = {(one(o, "DTSTART")[1], one(o, "TZOFFSETFROM")[1], one(o, "TZOFFSETTO")[1]) for o in feed["observances"]}
    assert ("20260329T020000", "+0100", "+0200") in observances  # last Sunday of March, 02:00 -> 03:00
    assert ("20261025T030000", "+0200", "+0100") in observances  # last Sunday of October, 03:00 -> 02:00


def test_text_is_escaped_and_long_lines_are_folded_between_characters(alice, wednesday, db):
    long_name = "Réception, étiquetage; « mise en rayon » des légumes\\fruits — équipe du matin élargie"
    template = make_template(long_name, weekday=3, capacity=3)
    generate()
    services.shift_book(shift=shift_of(template, datetime.date(2026, 3, 5)), member=alice, now=NOW)
    raw = Client().get(feed_url(alice)).content
    assert b"\r\n " in raw  # something was folded
    [event] = parse(raw)["events"]
    assert unescape(one(event, "SUMMARY")[1]) == f"Coopmarket shift: {long_name}"
    assert "\n" in unescape(one(event, "DESCRIPTION")[1])


def test_fold_counts_octets_not_characters():
    line = "SUMMARY:" + "é" * 100
    folded = ical.fold(line).encode("utf-8").split(b"\r\n")
    assert all(len(part) <= 75 for part in folded)
    assert all(part.startswith(b" ") for part in folded[1:])
    assert b"".join(p[1:] if i else p for i, p in enumerate(folded)).decode("utf-8") == line
    assert ical.fold("X" * 75) == "X" * 75


def test_escape_text():
    assert ical.escape_text("a,b;c\\d\ne") == "a\\,b\\;c\\\\d\\ne"


def test_cancelled_and_exchanged_registrations_leave_the_feed(alice, bob, slot):
    services.registration_cancel(shift=slot, member=alice, now=NOW, today=TODAY)
    events = parse(Client().get(feed_url(alice)).content)["events"]
    assert all(one(e, "DTSTART")[1] != "20260304T090000" for e in events)
    april = shift_of(slot.template, datetime.date(2026, 4, 1))
    services.shift_offer(shift=april, member=alice, now=NOW)
    [offered] = parse(Client().get(feed_url(alice)).content)["events"]
    assert "Offered on the exchange" in unescape(one(offered, "DESCRIPTION")[1])
    services.shift_take(shift=april, member=bob, now=NOW)
    assert parse(Client().get(feed_url(alice)).content)["events"] == []
    [taken] = parse(Client().get(feed_url(bob)).content)["events"]
    assert one(taken, "DTSTART")[1] == "20260401T090000"


def test_a_member_without_shifts_gets_a_valid_empty_calendar(bob):
    feed = parse(Client().get(feed_url(bob)).content)
    assert feed["events"] == [] and len(feed["timezones"]) == 1


def test_an_unknown_token_is_404(db):
    assert Client().get("/calendar/not-a-token.ics").status_code == 404


def test_the_feed_needs_no_login_but_the_token(alice, slot):
    response = Client().get(feed_url(alice))
    assert response.status_code == 200 and response["X-Robots-Tag"] == "noindex, nofollow"
    assert Client().head(feed_url(alice)).status_code == 200  # some calendar apps check with HEAD first
    assert Client().post(feed_url(alice)).status_code == 405


# --- reset and redirect ---------------------------------------------------------------------------

def test_resetting_the_token_makes_the_old_url_404(alice, alice_user, slot):
    old = feed_url(alice)
    client = Client()
    client.force_login(alice_user)
    assert client.get("/me/calendar/reset/").status_code == 405  # no GET changes state
    assert Client().get(old).status_code == 200
    response = client.post("/me/calendar/reset/")
    assert response.status_code == 302 and response["Location"] == "/me/#calendar"
    new = feed_url(alice)
    assert new != old
    assert Client().get(old).status_code == 404
    assert Client().get(new).status_code == 200


def test_me_shifts_ics_redirects_a_member_to_their_feed(alice, alice_user):
    client = Client()
    client.force_login(alice_user)
    response = client.get("/me/shifts.ics")
    assert response.status_code == 302
    assert response["Location"] == f"http://testserver{feed_url(alice)}"
    assert Client().get("/me/shifts.ics")["Location"].startswith("/accounts/login/")


# --- calendar_url on the member object ------------------------------------------------------------

def test_calendar_url_is_given_to_the_member_and_coordinators(alice, alice_api, coord):
    expected = f"http://testserver{feed_url(alice)}"
    assert alice_api.get("/api/v1/members/me/").json()["calendar_url"] == expected
    assert coord.get(f"/api/v1/members/{alice.pk}/").json()["calendar_url"] == expected
    assert coord.get("/api/v1/members/").json()["results"][0]["calendar_url"] == expected


def test_calendar_url_is_null_for_anyone_else(alice, bob_user, rf):
    request = rf.get("/")
    request.user = bob_user
    assert MemberSerializer(alice, context={"request": request}).data["calendar_url"] is None
    assert MemberSerializer(alice).data["calendar_url"] is None


def test_the_feed_url_on_the_member_object_serves_the_feed(alice, alice_api, slot):
    url = alice_api.get("/api/v1/members/me/").json()["calendar_url"]
    assert parse(client_for().get(url.removeprefix("http://testserver")).content)["events"]


def test_feed_dates_follow_the_shift_times_after_a_template_change(alice, coord, wednesday, slot, clock):
    services.template_update(template=wednesday, now=NOW, start_time=datetime.time(10, 0))
    events = parse(Client().get(feed_url(alice)).content)["events"]
    assert one(events[0], "DTSTART")[1] == "20260304T100000"
    assert at(WEDNESDAY, 10) == shift_of(wednesday, WEDNESDAY).start
