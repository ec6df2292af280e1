"""The coordination team's pages under /shifts/: roles, content, constant queries, the bulk
attendance form (all or nothing), adding a member, the attendance sheet, the debt table and its
CSV export, a member's timeline and the dashboard.

The clock is pinned (NOW = Monday 2026-03-02 09:00 Paris, week A); `clock.set()` moves the API's
and the pages' clocks together. WED is the first Wednesday shift, 09:00-12:00, capacity 2.
"""
from __future__ import annotations

import csv
import datetime
import io

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from pypdf import PdfReader

from members.models import Member
from shifts import selectors, services
from shifts.models import Registration, Shift, SlotAssignment, StatusChange
from shifts.tests.conftest import TODAY, at, generate, make_template, make_user, shift_of, working_member

pytestmark = pytest.mark.django_db

WED = datetime.date(2026, 3, 4)


@pytest.fixture
def clock(clock, monkeypatch):
    """The conftest clock, also read by the pages."""
    monkeypatch.setattr("shifts.views_office.clock_now", lambda: clock.now)
    monkeypatch.setattr("shifts.views_office.clock_today", lambda: clock.today)
    return clock


@pytest.fixture
def office(coordinator, clock) -> Client:
    client = Client()
    client.force_login(coordinator)
    return client


@pytest.fixture
def roster(alice, bob, wednesday, calendar, clock):
    """Alice holds the Wednesday slot (a regular registration); Bob (FTOP) booked it one-off."""
    services.slot_assign(template=wednesday, member=alice, start_date=TODAY, today=TODAY)
    services.shift_book(shift=calendar, member=bob, now=clock.now)
    return calendar


def rows_of(response) -> dict[str, Registration]:
    return {row[0].member.first_name: row[0] for row in response.context["rows"]}


def attendance_post(client, shift, states: dict[Member, str]):
    data = {"action": "attendance"}
    for registration in shift.registrations.filter(cancelled_at__isnull=True):
        if registration.member in states:
            data[f"r{registration.pk}"] = states[registration.member]
    return client.post(f"/shifts/{shift.pk}/", data)


def reload(member: Member) -> Member:
    return Member.objects.get(pk=member.pk)


def text_of(response) -> str:
    return response.content.decode()


# --- roles ------------------------------------------------------------------------------------

def _pages(shift, member) -> list[str]:
    return [
        "/shifts/", "/shifts/?date=2026-04-01", "/shifts/dashboard/", "/shifts/debt/", "/shifts/debt/?_export=csv",
        f"/shifts/{shift.pk}/", f"/shifts/{shift.pk}/sheet.pdf", f"/shifts/members/{member.pk}/timeline/",
    ]


@pytest.mark.parametrize("role", ["anonymous", "member", "cashiers", "supply", "coordinators", "superuser"])
def test_role_walk_over_every_page(role, roster, alice, alice_user, clock):
    users = {
        "member": alice_user,
        "cashiers": make_user("till", "cashiers"),
        "supply": make_user("supply-user", "supply"),
        "coordinators": make_user("coordinator-2", "coordinators"),
        "superuser": make_user("root", superuser=True),
    }
    client = Client()
    if role != "anonymous":
        client.force_login(users[role])
    for url in _pages(roster, alice):
        response = client.get(url)
        if role == "anonymous":
            assert response.status_code == 302 and response["Location"].startswith("/accounts/login/"), url
        elif role in ("coordinators", "superuser"):
            assert response.status_code == 200, url
        else:
            assert response.status_code == 403, url


@pytest.mark.parametrize("role", ["member", "cashiers"])
def test_refused_posts_write_nothing(role, roster, alice, alice_user, bob, clock):
    user = alice_user if role == "member" else make_user("till", "cashiers")
    client = Client()
    client.force_login(user)
    clock.set(at(WED, 13))
    response = attendance_post(client, roster, {alice: "attended"})
    assert response.status_code == 403
    response = client.post(f"/shifts/{roster.pk}/", {"action": "add", "add-member": str(bob.member_number)})
    assert response.status_code == 403
    assert not Registration.objects.filter(attendance__isnull=False).exists()


def test_navbar_and_home_link_the_shift_pages_for_coordinators_only(office, alice_api):
    page = text_of(office.get("/"))
    for url in ('href="/shifts/"', 'href="/shifts/debt/"', 'href="/shifts/dashboard/"'):
        assert url in page
    assert 'href="/shifts/debt/"' not in text_of(alice_api.get("/"))


def test_the_member_page_links_the_timeline(office, alice):
    assert f'href="/shifts/members/{alice.pk}/timeline/"' in text_of(office.get(f"/members/{alice.pk}/"))


# --- the cycle calendar -----------------------------------------------------------------------

def test_calendar_shows_the_four_weeks_with_seats_and_highlights_understaffed_shifts(office, roster, wednesday):
    saturday = make_template("Saturday afternoon", week="B", weekday=5, start=(14, 0), end=(17, 0), capacity=4)
    generate()
    response = office.get("/shifts/")
    assert response.status_code == 200
    weeks = response.context["weeks"]
    assert [w["letter"] for w in weeks] == ["A", "B", "C", "D"]
    assert response.context["first"] == TODAY  # 2026-03-02 is a cycle start
    page = text_of(response)
    wed_chip = page.split(f'data-shift="{roster.pk}"')[0].rsplit("<a", 1)[1]
    assert "shift-full" in wed_chip  # Alice and Bob: 2 of 2
    assert "2/2" in page.split(f'data-shift="{roster.pk}"')[1][:400]
    saturday_shift = shift_of(saturday, datetime.date(2026, 3, 14))
    sat_chip = page.split(f'data-shift="{saturday_shift.pk}"')[0].rsplit("<a", 1)[1]
    assert "shift-understaffed" in sat_chip
    assert "0/4" in page.split(f'data-shift="{saturday_shift.pk}"')[1][:400]
    assert f'href="/shifts/{roster.pk}/"' in page
    assert 'href="?date=2026-03-30"' in page and 'href="?date=2026-02-02"' in page


def test_calendar_navigates_by_cycle(office, calendar):
    response = office.get("/shifts/?date=2026-04-08")  # a Wednesday of the next cycle
    assert response.context["first"] == datetime.date(2026, 3, 30)
    shifts = [s for w in response.context["weeks"] for d in w["days"] for s in d.shifts]
    assert [s.date for s in shifts] == [datetime.date(2026, 4, 1)]
    assert office.get("/shifts/?date=nonsense").context["first"] == TODAY


def test_calendar_runs_a_constant_number_of_queries(office, wednesday):
    generate()
    with CaptureQueriesContext(connection) as few:
        assert office.get("/shifts/").status_code == 200
    for n in range(12):
        make_template(f"Extra {n}", week="ABCD"[n % 4], weekday=n % 6, capacity=3)
    generate()
    with CaptureQueriesContext(connection) as many:
        response = office.get("/shifts/")
    assert sum(len(d.shifts) for w in response.context["weeks"] for d in w["days"]) == 13
    assert len(many) == len(few)


def test_a_past_shift_with_unrecorded_attendance_is_flagged(office, roster, clock):
    clock.set(at(WED, 13))
    page = text_of(office.get("/shifts/"))
    chip = page.split(f'data-shift="{roster.pk}"')[1].split("</a>")[0]
    assert "Attendance to record" in chip


# --- a shift's page: roster and attendance ----------------------------------------------------

def test_shift_page_shows_the_roster_with_kinds(office, roster, alice, bob):
    response = office.get(f"/shifts/{roster.pk}/")
    rows = rows_of(response)
    assert rows["Alice"].kind == "regular" and rows["Bob"].kind == "one_off"
    page = text_of(response)
    assert "Regular" in page and "One-off" in page
    assert f'href="/shifts/{roster.pk}/sheet.pdf"' in page
    assert "2 / 2 places taken" in page
    assert "only “Excused” can be recorded now" in page


def test_recording_everyones_attendance_in_one_form_changes_the_counters(office, roster, alice, bob, clock):
    clock.set(at(WED, 12, 30))
    response = attendance_post(office, roster, {alice: "missed", bob: "attended"})
    assert response.status_code == 302 and response["Location"] == f"/shifts/{roster.pk}/"
    alice, bob = reload(alice), reload(bob)
    assert (alice.counter_standard, alice.status) == (-2, "alert")
    assert bob.counter_ftop == 1
    page = text_of(office.get(f"/shifts/{roster.pk}/"))
    assert "Attendance recorded for 2 members." in page
    assert "2 of 2 recorded." in page


def test_rows_left_unchanged_are_not_sent_again(office, roster, alice, bob, clock):
    clock.set(at(WED, 12, 30))
    attendance_post(office, roster, {alice: "attended"})
    response = attendance_post(office, roster, {alice: "attended", bob: "excused"})
    assert response.status_code == 302
    assert reload(bob).counter_ftop == 0  # excused one-off: 0
    assert Registration.objects.get(shift=roster, member=bob).attendance == "excused"
    response = attendance_post(office, roster, {alice: "attended", bob: "excused"})
    assert response.status_code == 400
    assert "Nothing to record" in text_of(response)


def test_bulk_attendance_through_the_page_is_all_or_nothing(office, roster, alice, bob, clock):
    clock.set(at(WED, 11))  # running: attended allowed, missed not yet
    response = attendance_post(office, roster, {alice: "attended", bob: "missed"})
    assert response.status_code == 400
    page = text_of(response)
    assert "Nothing was saved: “Missed” can be recorded only once the shift has ended (12:00)" in page
    assert not Registration.objects.filter(shift=roster, attendance__isnull=False).exists()
    assert (reload(alice).counter_standard, reload(bob).counter_ftop) == (0, 0)
    bob_registration = Registration.objects.get(shift=roster, member=bob)
    assert response.context["refused"] == {bob_registration.pk}
    assert f'data-attendance-row="{bob_registration.pk}" class="table-danger"' in page


def test_attended_before_the_start_is_refused_clearly(office, roster, alice, bob):
    response = attendance_post(office, roster, {alice: "excused", bob: "attended"})
    assert response.status_code == 400
    assert "Nothing was saved: “Attended” can be recorded from the start of the shift (09:00)" in text_of(response)
    assert not Registration.objects.filter(shift=roster, attendance__isnull=False).exists()


def test_an_unknown_state_is_a_form_error(office, roster, alice, clock):
    clock.set(at(WED, 13))
    response = attendance_post(office, roster, {alice: "asleep"})
    assert response.status_code == 400
    assert not Registration.objects.filter(shift=roster, attendance__isnull=False).exists()


def test_a_row_cancelled_since_the_page_was_loaded_is_ignored(office, roster, alice, bob, clock):
    clock.set(at(WED, 13))
    bob_registration = Registration.objects.get(shift=roster, member=bob)
    alice_registration = Registration.objects.get(shift=roster, member=alice)
    Registration.objects.filter(pk=bob_registration.pk).update(cancelled_at=clock.now, cancel_reason="test")
    response = office.post(f"/shifts/{roster.pk}/", {
        "action": "attendance", f"r{alice_registration.pk}": "attended", f"r{bob_registration.pk}": "attended",
    })
    # Bob's row is no longer on the roster: only Alice's entry is parsed and recorded.
    assert response.status_code == 302
    assert Registration.objects.get(pk=alice_registration.pk).attendance == "attended"
    assert Registration.objects.get(pk=bob_registration.pk).attendance is None


# --- adding a member --------------------------------------------------------------------------

def test_adding_a_member_to_a_past_shift_records_the_make_up(office, roster, alice, clock):
    """A make-up done without booking: registered and attended at once; the debt goes down."""
    clock.set(at(WED, 12, 30))
    attendance_post(office, roster, {alice: "missed"})
    assert reload(alice).counter_standard == -2
    friday = Shift.objects.create(name="Friday evening", date=datetime.date(2026, 3, 6), week="A", capacity=1,
                                  start=at(datetime.date(2026, 3, 6), 17), end=at(datetime.date(2026, 3, 6), 20))
    clock.set(at(datetime.date(2026, 3, 6), 21))
    response = office.post(f"/shifts/{friday.pk}/", {"action": "add", "add-member": alice.display_number})
    assert response.status_code == 302
    registration = Registration.objects.get(shift=friday, member=alice)
    assert (registration.kind, registration.attendance) == ("one_off", "attended")
    assert reload(alice).counter_standard == -1
    assert "make-up recorded as attended" in text_of(office.get(f"/shifts/{friday.pk}/"))


def test_adding_a_member_to_a_future_shift_books_it(office, wednesday, calendar, bob):
    response = office.post(f"/shifts/{calendar.pk}/", {"action": "add", "add-member": "bob"})
    assert response.status_code == 302
    registration = Registration.objects.get(shift=calendar, member=bob)
    assert (registration.kind, registration.attendance) == ("one_off", None)


def test_adding_refusals_are_shown_on_the_form(office, roster, alice, clock):
    response = office.post(f"/shifts/{roster.pk}/", {"action": "add", "add-member": alice.display_number})
    assert response.status_code == 400
    assert "already registered on this shift" in text_of(response)
    carol = working_member("Carol")
    response = office.post(f"/shifts/{roster.pk}/", {"action": "add", "add-member": carol.display_number})
    assert "This shift is full." in text_of(response)
    response = office.post(f"/shifts/{roster.pk}/", {"action": "add", "add-member": "test"})  # every fixture's last name
    assert "Several members match" in text_of(response)
    response = office.post(f"/shifts/{roster.pk}/", {"action": "add", "add-member": "nobody"})
    assert "No member matches" in text_of(response)
    assert Registration.objects.filter(shift=roster, cancelled_at__isnull=True).count() == 2


def test_shift_page_runs_a_constant_number_of_queries(office, wednesday, calendar, clock):
    with CaptureQueriesContext(connection) as empty:
        assert office.get(f"/shifts/{calendar.pk}/").status_code == 200
    crowded = Shift.objects.create(name="Big", date=WED, week="A", capacity=20, start=at(WED, 14), end=at(WED, 17))
    for n in range(8):
        services.shift_book(shift=crowded, member=working_member(f"M{n}", shift_type="ftop"), now=clock.now)
    with CaptureQueriesContext(connection) as full:
        response = office.get(f"/shifts/{crowded.pk}/")
    assert len(response.context["rows"]) == 8
    assert len(full) == len(empty)


def test_unknown_shift_is_404(office):
    assert office.get("/shifts/999999/").status_code == 404


# --- the attendance sheet ---------------------------------------------------------------------

def test_attendance_sheet_lists_the_members_with_a_tick_column_and_blank_lines(office, roster, alice, bob):
    Member.objects.filter(pk=alice.pk).update(phone="06 12 34 56 78")
    response = office.get(f"/shifts/{roster.pk}/sheet.pdf")
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    reader = PdfReader(io.BytesIO(response.content))
    text = "\n".join(page.extract_text() for page in reader.pages)
    lower = text.lower()
    assert "attendance sheet" in lower and roster.name in text
    assert "Wednesday 4 March 2026" in text and "09:00–12:00" in text
    assert "A\nWEEK" in text or "AWEEK" in text  # the week letter, large, over its caption
    for needle in ("Alice", "TEST", alice.display_number, bob.display_number, "06 12 34 56 78",
                   "Regular", "One-off", "Walk-in", "came without booking"):
        assert needle in text, needle
    for header in ("here", "member", "no.", "phone", "booking", "arrived", "signature"):
        assert header in lower, header
    assert text.count("Walk-in") >= 4


# --- members owing make-ups -------------------------------------------------------------------

def owing(n: int, *, status="alert", week=None, prefix="Debtor", deadline=datetime.date(2026, 3, 20)) -> list[Member]:
    """n members with a debt written straight into the stored fields (what the pages read)."""
    template = make_template(f"{prefix} slot", week=week, weekday=3, capacity=max(n, 1)) if week else None
    members = []
    for i in range(n):
        member = working_member(f"{prefix}{i}")
        Member.objects.filter(pk=member.pk).update(
            status=status, counter_standard=-(i % 3 + 1), alert_deadline=deadline, phone=f"06 00 00 00 {i:02d}",
        )
        if template is not None:
            SlotAssignment.objects.create(member=member, template=template, start_date=TODAY)
        members.append(reload(member))
    return members


def csv_rows(response) -> list[dict]:
    body = b"".join(response.streaming_content) if response.streaming else response.content
    return list(csv.DictReader(io.StringIO(body.decode("utf-8-sig"))))


def test_debt_table_lists_members_owing_with_counters_deadline_days_left_and_last_shift(office, roster, alice, bob, clock):
    clock.set(at(WED, 12, 30))
    attendance_post(office, roster, {alice: "missed", bob: "attended"})
    owing(1, prefix="Zed", status="suspended", deadline=datetime.date(2026, 2, 1))
    response = office.get("/shifts/debt/")
    assert response.status_code == 200
    records = list(response.context["table"].data)
    assert [m.first_name for m in records] == ["Alice", "Zed0"]  # a deadline first, none last
    row = records[0]
    assert (row.owed, row.slot_week, row.alert_deadline) == (2, "A", datetime.date(2026, 4, 1))
    assert selectors.days_before_suspension(row, clock.today) == 28
    page = text_of(response)
    assert "alice@example.org" in page and f'href="/shifts/members/{alice.pk}/timeline/"' in page
    assert "Bob" not in page  # FTOP +1: owes nothing


@pytest.mark.parametrize(("shift_type", "standard", "ftop", "owes"), [
    ("standard", -1, 0, True), ("standard", 0, -3, False), ("standard", 2, -1, False),
    ("ftop", 0, -1, True), ("ftop", -2, 0, False), ("ftop", -2, 1, False),
])
def test_the_debt_table_lists_exactly_the_members_whose_own_counter_is_negative(shift_type, standard, ftop, owes, clock):
    """members_owing reads the partial index member_owing through `owing_q`: the counter that
    applies to the member's shift type, and only it, says whether they owe (DOMAIN.md §4)."""
    member = working_member("Counted")
    Member.objects.filter(pk=member.pk).update(shift_type=shift_type, counter_standard=standard, counter_ftop=ftop)
    listed = list(selectors.members_owing(today=clock.today).values_list("pk", "owed"))
    expected_owed = -(ftop if shift_type == "ftop" else standard)
    assert listed == ([(member.pk, expected_owed)] if owes else [])
    Member.objects.filter(pk=member.pk).update(membership=Member.Membership.LEFT)
    assert not selectors.members_owing(today=clock.today).exists()  # members who left are never listed


def test_last_attended_shift_comes_from_the_database(office, roster, alice, bob, clock):
    clock.set(at(WED, 12, 30))
    attendance_post(office, roster, {alice: "attended", bob: "attended"})
    Member.objects.filter(pk=alice.pk).update(counter_standard=-1, status="alert", alert_deadline=datetime.date(2026, 4, 1))
    row = next(iter(office.get("/shifts/debt/").context["table"].data))
    assert (row.last_attended, row.last_attended_shift) == (WED, roster.pk)


def test_debt_table_filters_by_status_week_and_shift_type(office, clock):
    owing(2, week="B", prefix="Bee")
    owing(1, week="C", prefix="Cee", status="suspended")
    ftop = working_member("Flyer", shift_type="ftop")
    Member.objects.filter(pk=ftop.pk).update(counter_ftop=-2, status="alert", alert_deadline=datetime.date(2026, 3, 20))

    def names(query):
        return sorted(m.first_name for m in office.get(f"/shifts/debt/?{query}").context["table"].data)

    assert names("") == ["Bee0", "Bee1", "Cee0", "Flyer"]
    assert names("status=suspended") == ["Cee0"]
    assert names("week=B") == ["Bee0", "Bee1"]
    assert names("week=none") == ["Flyer"]
    assert names("shift_type=ftop") == ["Flyer"]
    assert names("status=alert&week=C") == []
    assert names("q=bee1") == ["Bee1"]


def test_debt_table_sorts_by_any_column(office, clock):
    owing(3, prefix="Sort")
    response = office.get("/shifts/debt/?sort=-owed")
    assert [m.owed for m in response.context["table"].data] == [3, 2, 1]
    for column in ("member_number", "status", "slot_week", "days_left", "last_attended", "counter_ftop", "email"):
        assert office.get(f"/shifts/debt/?sort={column}").status_code == 200


def test_debt_csv_export_keeps_the_filters_and_is_formula_safe(office, clock):
    owing(2, week="B", prefix="Bee")
    evil = owing(1, week="C", prefix="Cee")[0]
    Member.objects.filter(pk=evil.pk).update(first_name="=HYPERLINK(\"http://x\")", phone="+33 6 00")
    response = office.get("/shifts/debt/?week=C&_export=csv")
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    rows = csv_rows(response)
    assert len(rows) == 1
    row = rows[0]
    assert row["First name"] == "'=HYPERLINK(\"http://x\")"
    assert row["Phone"] == "'+33 6 00"
    assert row["Week"] == "C" and row["Make-ups owed"] == "1" and row["No."] == evil.display_number
    assert row["Alert deadline"] == "2026-03-20" and row["Days left"] == "18"
    assert "Timeline" not in row and "" not in row
    assert len(csv_rows(office.get("/shifts/debt/?_export=csv"))) == 3


def test_debt_page_and_export_run_the_same_queries_at_3_and_30_rows(office, clock):
    owing(3, week="A", prefix="Few")
    with CaptureQueriesContext(connection) as few_page:
        assert len(office.get("/shifts/debt/").context["table"].rows) == 3
    with CaptureQueriesContext(connection) as few_csv:
        assert len(csv_rows(office.get("/shifts/debt/?_export=csv"))) == 3
    owing(27, week="B", prefix="Many")
    with CaptureQueriesContext(connection) as many_page:
        assert len(office.get("/shifts/debt/").context["table"].rows) == 30
    with CaptureQueriesContext(connection) as many_csv:
        assert len(csv_rows(office.get("/shifts/debt/?_export=csv"))) == 30
    assert len(many_page) == len(few_page)
    assert len(many_csv) == len(few_csv)


def test_members_who_left_are_not_listed(office, clock):
    gone = owing(1, prefix="Gone")[0]
    Member.objects.filter(pk=gone.pk).update(membership="left")
    assert list(office.get("/shifts/debt/").context["table"].data) == []


# --- a member's timeline ----------------------------------------------------------------------

def test_timeline_answers_why_a_member_is_suspended(office, roster, alice, bob, clock, wednesday):
    clock.set(at(WED, 12, 30))
    attendance_post(office, roster, {alice: "missed"})  # -2, alert from 2026-03-04, deadline 2026-04-01
    services.statuses_update(today=datetime.date(2026, 4, 1))  # the deadline passes: suspended
    clock.set(at(datetime.date(2026, 4, 2), 10))
    response = office.get(f"/shifts/members/{alice.pk}/timeline/")
    assert response.status_code == 200
    rows = response.context["rows"]
    kinds = [(r.kind, r.date) for r in rows]
    assert kinds[0] == ("status", datetime.date(2026, 4, 1))  # newest first
    suspended = rows[0]
    assert "Alert → Suspended" in suspended.label and suspended.detail == "Daily status update"
    missed = next(r for r in rows if r.kind == "event")
    assert (missed.date, missed.standard, missed.total_standard, missed.shift) == (WED, -2, -2, roster)
    assert missed.label == "Missed own regular shift"
    alert = next(r for r in rows if r.kind == "status" and r.status_to == "alert")
    assert alert.detail == "Missed own regular shift"
    page = text_of(response)
    assert "Suspended: owes 2 make-ups and the alert deadline (1 April 2026) has passed." in page
    assert "Since 1 April 2026 (recorded with: Daily status update)." in page
    assert "Make-ups were still owed when the alert deadline" in page
    assert f'href="/shifts/{roster.pk}/"' in page


def test_timeline_running_totals_follow_the_events(office, alice, wednesday, calendar, clock):
    services.slot_assign(template=wednesday, member=alice, start_date=TODAY, today=TODAY)
    first = calendar
    clock.set(at(WED, 13))
    services.attendance_record(shift=first, member=alice, state="missed", now=clock.now, today=clock.today)
    friday = Shift.objects.create(name="Make-up", date=datetime.date(2026, 3, 6), week="A", capacity=3,
                                  start=at(datetime.date(2026, 3, 6), 9), end=at(datetime.date(2026, 3, 6), 12))
    clock.set(at(datetime.date(2026, 3, 6), 13))
    assert office.post(f"/shifts/{friday.pk}/", {"action": "add", "add-member": alice.display_number}).status_code == 302
    services.correction_write(member=alice, counter="ftop", points=2, reason="Helped at the AGM", today=clock.today)
    response = office.get(f"/shifts/members/{alice.pk}/timeline/")
    events = [r for r in response.context["rows"] if r.kind == "event"]
    assert [(r.label, r.standard, r.ftop, r.total_standard, r.total_ftop) for r in events] == [
        ("Credit used for a debt", 1, -1, 0, 1),
        ("Correction", 0, 2, -1, 2),
        ("Attended a make-up or extra shift", 1, 0, -1, 0),
        ("Missed own regular shift", -2, 0, -2, 0),
    ]
    assert reload(alice).counter_standard == 0


def test_timeline_shows_decisions_and_runs_flat_queries(office, alice, clock):
    services.leave_create(member=alice, start=datetime.date(2026, 4, 1), end=datetime.date(2026, 5, 31),
                          reason="Travelling", today=clock.today, now=clock.now)
    with CaptureQueriesContext(connection) as few:
        assert office.get(f"/shifts/members/{alice.pk}/timeline/").status_code == 200
    for points in (-1, -1, 1, -1):
        services.correction_write(member=alice, counter="standard", points=points, reason="x", today=clock.today)
    with CaptureQueriesContext(connection) as many:
        response = office.get(f"/shifts/members/{alice.pk}/timeline/")
    assert len(many) == len(few)
    labels = [r.label for r in response.context["rows"]]
    assert "Leave from 2026-04-01 to 2026-05-31" in labels
    assert StatusChange.objects.filter(member=alice).exists()


def test_timeline_of_an_unknown_member_is_404(office):
    assert office.get("/shifts/members/999999/timeline/").status_code == 404


# --- the dashboard ----------------------------------------------------------------------------

def test_dashboard_counts_lists_understaffed_shifts_and_members_soon_suspended(office, roster, alice, clock):
    owing(2, week="B", prefix="Soon", deadline=TODAY + datetime.timedelta(days=5))
    owing(1, week="B", prefix="Later", deadline=TODAY + datetime.timedelta(days=20))
    delayed = working_member("Delayed", shift_type="ftop")
    Member.objects.filter(pk=delayed.pk).update(status="delay", counter_ftop=-1, delay_until=TODAY + datetime.timedelta(days=6))
    lonely = make_template("Thursday", week="A", weekday=3, capacity=6)
    generate()
    response = office.get("/shifts/dashboard/")
    assert response.status_code == 200
    context = response.context
    statuses = {value: n for value, _label, n in context["status_rows"]}
    assert statuses["alert"] == 3 and statuses["delay"] == 1
    week_b = next(row for row in context["matrix"] if row["week"] == "B")
    assert week_b["total"] == 3
    week_a = next(row for row in context["matrix"] if row["week"] == "A")
    assert week_a["total"] == 1 and week_a["places"] == 2 + 6  # Alice; Wednesday and Thursday templates
    understaffed = {s.pk for s in context["understaffed"]}
    assert shift_of(lonely, datetime.date(2026, 3, 5)).pk in understaffed
    assert roster.pk not in understaffed  # 2 of 2
    assert all(s.date <= TODAY + datetime.timedelta(days=14) for s in context["understaffed"])
    soon = [(m.first_name, m.days_left) for m in context["soon"]]
    assert soon == [("Soon0", 5), ("Soon1", 5), ("Delayed", 7)]
    page = text_of(response)
    assert "Soon0" in page and "Later0" not in page


def test_dashboard_lists_past_shifts_with_attendance_to_record(office, roster, clock):
    clock.set(at(WED, 13))
    response = office.get("/shifts/dashboard/")
    assert [s.pk for s in response.context["to_record"]] == [roster.pk]
    assert response.context["to_record"][0].unrecorded == 2
