"""The shifts API of CONTRACT.md §5, end to end through DRF's APIClient.

Time is pinned: the API reads the clock through `shifts.api.clock_now/clock_today` (and the
members API through `members.api.local_today`), which the `clock` fixture replaces with
NOW = 2026-03-02 09:00 Paris (a Monday of week A). Nothing depends on the day the suite runs.
"""
import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from members.models import Member
from shifts import services
from shifts.models import (
    CounterEvent,
    Exemption,
    Extension,
    Leave,
    Registration,
    Shift,
    ShiftTemplate,
    SlotAssignment,
    StatusChange,
)

from .conftest import (
    NOW,
    TODAY,
    at,
    client_for,
    generate,
    make_template,
    make_user,
    shift_of,
    working_member,
)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("clock")]

WED = datetime.date(2026, 3, 4)  # first Wednesday shift: 09:00-12:00, 48 h after NOW
MEMBERS = "/api/v1/members/"
TEMPLATES = "/api/v1/shift-templates/"
SHIFTS = "/api/v1/shifts/"


def shift_url(shift, suffix=""):
    return f"{SHIFTS}{shift.pk}/{suffix}"


def member_url(member, suffix=""):
    return f"{MEMBERS}{member.pk}/{suffix}"


def assert_conflict(response, code):
    assert response.status_code == 409, response.content
    body = response.json()
    assert body["code"] == code
    assert isinstance(body["detail"], str) and body["detail"]


def live(shift):
    return Registration.objects.filter(shift=shift, cancelled_at__isnull=True)


def template_body(**overrides):
    body = {"name": "Saturday", "week": "B", "weekday": 5, "start_time": "09:00", "end_time": "12:00", "capacity": 3}
    body.update(overrides)
    return body


# --- shift templates ---------------------------------------------------------------------------

def test_coordinator_creates_a_template_and_every_signed_in_user_reads_it(coord, alice_api):
    response = coord.post(TEMPLATES, template_body(), format="json")
    assert response.status_code == 201, response.content
    created = response.json()
    assert {k: created[k] for k in ("name", "week", "weekday", "start_time", "end_time", "capacity", "slots_taken")} == {
        "name": "Saturday", "week": "B", "weekday": 5, "start_time": "09:00:00", "end_time": "12:00:00",
        "capacity": 3, "slots_taken": 0,
    }
    listed = alice_api.get(TEMPLATES)
    assert listed.status_code == 200
    assert [t["id"] for t in listed.json()["results"]] == [created["id"]]
    assert alice_api.get(f"{TEMPLATES}{created['id']}/").json()["name"] == "Saturday"


def test_template_capacity_defaults_to_the_coop_parameter(coord):
    body = template_body()
    del body["capacity"]
    assert coord.post(TEMPLATES, body, format="json").json()["capacity"] == 6


@pytest.mark.parametrize("field,value", [
    ("week", "E"), ("weekday", 7), ("end_time", "08:00"), ("capacity", 0), ("start_time", "nine"),
])
def test_bad_template_is_400_and_nothing_is_written(coord, field, value):
    response = coord.post(TEMPLATES, template_body(**{field: value}), format="json")
    assert response.status_code == 400
    assert field in response.json()
    assert not ShiftTemplate.objects.exists()


def test_patching_a_template_moves_its_future_shifts_not_its_past_ones(coord, clock, wednesday, calendar):
    clock.set(at(WED, 10))  # the first Wednesday shift has started
    response = coord.patch(f"{TEMPLATES}{wednesday.pk}/", {"start_time": "08:30", "capacity": 4}, format="json")
    assert response.status_code == 200, response.content
    assert response.json()["capacity"] == 4
    started = shift_of(wednesday, WED)
    later = shift_of(wednesday, WED + datetime.timedelta(days=28))
    assert (started.capacity, started.start) == (2, at(WED, 9))
    assert (later.capacity, later.start) == (4, at(later.date, 8, 30))
    assert Shift.objects.filter(template=wednesday).count() == 2


def test_patching_a_template_below_its_slot_holders_is_409_slot_full(coord, wednesday):
    for name in ("Ann", "Ben"):
        services.slot_assign(template=wednesday, member=working_member(name), start_date=TODAY, today=TODAY)
    response = coord.patch(f"{TEMPLATES}{wednesday.pk}/", {"capacity": 1}, format="json")
    assert_conflict(response, "slot_full")
    wednesday.refresh_from_db()
    assert wednesday.capacity == 2


def test_patch_with_a_bad_time_range_is_400(coord, wednesday):
    response = coord.patch(f"{TEMPLATES}{wednesday.pk}/", {"end_time": "08:00"}, format="json")
    assert response.status_code == 400
    assert "end_time" in response.json()


# --- regular slots -----------------------------------------------------------------------------

def test_assigning_a_slot_registers_the_member_on_its_shifts(coord, alice, wednesday, calendar):
    response = coord.post(f"{TEMPLATES}{wednesday.pk}/members/", {"member": alice.pk}, format="json")
    assert response.status_code == 201, response.content
    slot = response.json()
    assert (slot["member"], slot["template"], slot["start_date"], slot["end_date"]) == (alice.pk, wednesday.pk, "2026-03-02", None)
    regs = Registration.objects.filter(member=alice, cancelled_at__isnull=True)
    assert regs.count() == 2 and {r.kind for r in regs} == {"regular"}
    assert coord.get(member_url(alice)).json()["regular_slot"] == wednesday.pk
    assert coord.get(f"{TEMPLATES}{wednesday.pk}/").json()["slots_taken"] == 1


def test_slot_start_date_is_honoured(coord, alice, wednesday, calendar):
    response = coord.post(f"{TEMPLATES}{wednesday.pk}/members/", {"member": alice.pk, "start_date": "2026-03-10"}, format="json")
    assert response.status_code == 201
    assert [r.shift.date for r in Registration.objects.filter(member=alice)] == [datetime.date(2026, 4, 1)]
    # A future slot is the member's regular slot already.
    assert coord.get(member_url(alice)).json()["regular_slot"] == wednesday.pk


def test_a_full_template_is_409_slot_full(coord, wednesday):
    first, second, third = (working_member(n) for n in ("Ann", "Ben", "Cat"))
    for member in (first, second):
        assert coord.post(f"{TEMPLATES}{wednesday.pk}/members/", {"member": member.pk}, format="json").status_code == 201
    response = coord.post(f"{TEMPLATES}{wednesday.pk}/members/", {"member": third.pk}, format="json")
    assert_conflict(response, "slot_full")
    assert not SlotAssignment.objects.filter(member=third).exists()


def test_an_ftop_member_gets_no_slot_409_not_allowed(coord, bob, wednesday):
    assert_conflict(coord.post(f"{TEMPLATES}{wednesday.pk}/members/", {"member": bob.pk}, format="json"), "not_allowed")


def test_removing_a_slot_cancels_future_regular_registrations(coord, alice, wednesday, calendar):
    services.slot_assign(template=wednesday, member=alice, start_date=TODAY, today=TODAY)
    response = coord.delete(f"{TEMPLATES}{wednesday.pk}/members/{alice.pk}/")
    assert response.status_code == 204
    assert not Registration.objects.filter(member=alice, cancelled_at__isnull=True).exists()
    assert not CounterEvent.objects.filter(member=alice).exists()
    assert coord.get(member_url(alice)).json()["regular_slot"] is None


def test_removing_a_slot_the_member_does_not_hold_is_400(coord, alice, wednesday):
    holder = working_member("Hana")
    services.slot_assign(template=wednesday, member=holder, start_date=TODAY, today=TODAY)
    assert coord.delete(f"{TEMPLATES}{wednesday.pk}/members/{alice.pk}/").status_code == 400
    assert coord.delete(f"{TEMPLATES}{wednesday.pk}/members/999999/").status_code == 404
    # The slot the template does have is untouched.
    assert list(SlotAssignment.objects.values_list("member_id", "end_date")) == [(holder.pk, None)]


# --- listing and reading shifts ----------------------------------------------------------------

def test_shift_list_is_filtered_by_inclusive_dates_with_offsets(alice_api, alice, wednesday, calendar):
    services.slot_assign(template=wednesday, member=alice, start_date=TODAY, today=TODAY)
    response = alice_api.get(SHIFTS, {"start": "2026-03-04", "end": "2026-03-04"})
    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 1
    row = body["results"][0]
    assert set(row) >= {"id", "template", "week", "start", "end", "capacity", "seats_taken", "offered"}
    assert row == {**row, "id": calendar.pk, "template": wednesday.pk, "week": "A", "capacity": 2, "seats_taken": 1, "offered": False}
    assert row["start"] == "2026-03-04T09:00:00+01:00" and row["end"] == "2026-03-04T12:00:00+01:00"
    assert alice_api.get(SHIFTS, {"start": "2026-03-05", "end": "2026-03-31"}).json()["count"] == 0
    assert alice_api.get(SHIFTS, {"start": "2026-03-04"}).json()["count"] == 2


def test_shift_times_carry_the_summer_offset(alice_api, wednesday, calendar):
    summer = alice_api.get(SHIFTS, {"start": "2026-04-01", "end": "2026-04-01"}).json()["results"][0]
    assert summer["start"] == "2026-04-01T09:00:00+02:00"


@pytest.mark.parametrize("params", [
    {"start": "2026-13-01"}, {"end": "04/03/2026"}, {"start": "2026-03-10", "end": "2026-03-01"},
])
def test_malformed_dates_are_400(alice_api, calendar, params):
    response = alice_api.get(SHIFTS, params)
    assert response.status_code == 400
    assert set(response.json()) & {"start", "end"}


def test_shift_list_is_paginated(alice_api, calendar):
    body = alice_api.get(SHIFTS, {"page_size": 1}).json()
    assert body["count"] == 2 and len(body["results"]) == 1 and body["next"]


def test_shift_list_runs_a_constant_number_of_queries(alice_api, coordinator):
    def count_queries():
        with CaptureQueriesContext(connection) as ctx:
            assert alice_api.get(SHIFTS).status_code == 200
        return len(ctx.captured_queries)

    small = make_template("Small", weekday=1)
    generate(days=28)
    ann = working_member("Ann", shift_type="ftop")
    services.shift_book(shift=Shift.objects.first(), member=ann, now=NOW)
    few = count_queries()
    for weekday in (3, 4, 5, 6):
        make_template(f"Day {weekday}", weekday=weekday)
    generate(days=56)
    for shift in Shift.objects.exclude(template=small)[:4]:
        services.shift_book(shift=shift, member=working_member(f"M{shift.pk}", shift_type="ftop"), now=NOW)
        services.shift_offer(shift=shift, member=shift.registrations.get().member, now=NOW)
    assert Shift.objects.count() >= 10
    assert count_queries() == few


def test_offered_is_true_while_an_offer_is_open_and_false_once_it_lapsed(alice_api, alice, clock, wednesday, calendar):
    services.slot_assign(template=wednesday, member=alice, start_date=TODAY, today=TODAY)
    services.shift_offer(shift=calendar, member=alice, now=NOW)
    assert alice_api.get(shift_url(calendar)).json()["offered"] is True
    clock.set(at(WED, 9) - datetime.timedelta(hours=23))
    assert alice_api.get(shift_url(calendar)).json()["offered"] is False


def test_roster_is_shown_to_coordinators_and_the_shifts_members_only(coord, alice, alice_api, bob_api, wednesday, calendar):
    services.slot_assign(template=wednesday, member=alice, start_date=TODAY, today=TODAY)
    cashier = client_for(make_user("till", "cashiers"))
    for client in (coord, alice_api):
        body = client.get(shift_url(calendar)).json()
        assert body["registrations"] == [
            {"id": live(calendar).get().pk, "shift": calendar.pk, "member": alice.pk, "kind": "regular", "attendance": None, "offered": False,
             "seat": None}
        ]
    for client in (bob_api, cashier):
        response = client.get(shift_url(calendar))
        assert response.status_code == 200
        body = response.json()
        assert "registrations" not in body
        assert body["seats_taken"] == 1


def test_unknown_shift_is_404(alice_api):
    response = alice_api.get(f"{SHIFTS}999999/")
    assert response.status_code == 404
    assert response.json()["detail"]


# --- booking and cancelling --------------------------------------------------------------------

def test_a_member_books_a_shift_for_themself(bob_api, bob, calendar):
    response = bob_api.post(shift_url(calendar, "registrations/"), {"member": bob.pk}, format="json")
    assert response.status_code == 201, response.content
    assert response.json() == {**response.json(), "member": bob.pk, "shift": calendar.pk, "kind": "one_off", "attendance": None}
    assert bob_api.get(shift_url(calendar)).json()["seats_taken"] == 1


def test_a_member_who_leaves_out_member_books_for_themself(bob_api, bob, calendar):
    assert bob_api.post(shift_url(calendar, "registrations/"), {}, format="json").status_code == 201
    assert live(calendar).get().member_id == bob.pk


def test_a_cooperator_cannot_book_for_someone_else(alice_api, bob, calendar):
    assert alice_api.post(shift_url(calendar, "registrations/"), {"member": bob.pk}, format="json").status_code == 403
    assert not live(calendar).exists()


def test_a_full_shift_is_409_shift_full(coord, calendar):
    for name in ("Ann", "Ben"):
        services.shift_book(shift=calendar, member=working_member(name, shift_type="ftop"), now=NOW)
    late = working_member("Cat", shift_type="ftop")
    assert_conflict(coord.post(shift_url(calendar, "registrations/"), {"member": late.pk}, format="json"), "shift_full")
    assert live(calendar).count() == 2


def test_booking_twice_is_409_already_booked(bob_api, bob, calendar):
    assert bob_api.post(shift_url(calendar, "registrations/"), {"member": bob.pk}, format="json").status_code == 201
    assert_conflict(bob_api.post(shift_url(calendar, "registrations/"), {"member": bob.pk}, format="json"), "already_booked")


def test_a_third_ftop_shift_on_one_day_is_409_booking_limit(bob_api, bob):
    templates = [make_template(f"W{h}", start=(h, 0), end=(h + 2, 0), capacity=6) for h in (8, 11, 14)]
    generate(days=7)
    shifts = [shift_of(t, WED) for t in templates]
    for shift in shifts[:2]:
        assert bob_api.post(shift_url(shift, "registrations/"), {"member": bob.pk}, format="json").status_code == 201
    assert_conflict(bob_api.post(shift_url(shifts[2], "registrations/"), {"member": bob.pk}, format="json"), "booking_limit")


def test_a_member_cannot_book_a_started_shift_409_too_late(bob_api, bob, clock, calendar):
    clock.set(at(WED, 9, 30))
    assert_conflict(bob_api.post(shift_url(calendar, "registrations/"), {"member": bob.pk}, format="json"), "too_late")


def test_coordinators_record_a_make_up_on_a_past_shift(coord, bob, clock, calendar):
    clock.set(at(WED, 18))
    response = coord.post(shift_url(calendar, "registrations/"), {"member": bob.pk}, format="json")
    assert response.status_code == 201
    assert coord.post(shift_url(calendar, "attendance/"), {"member": bob.pk, "state": "attended"}, format="json").status_code == 200
    bob.refresh_from_db()
    assert bob.counter_ftop == 1


def test_a_blocked_member_cannot_book_409_not_allowed(coord, bob, bob_api, calendar):
    assert coord.post(member_url(bob, "block/"), {"reason": "Rude to cashiers"}, format="json").status_code == 200
    assert_conflict(bob_api.post(shift_url(calendar, "registrations/"), {"member": bob.pk}, format="json"), "not_allowed")


def test_cancelling_a_one_off_booking_a_day_ahead_is_free(bob_api, bob, calendar):
    services.shift_book(shift=calendar, member=bob, now=NOW)
    assert bob_api.delete(shift_url(calendar, f"registrations/{bob.pk}/")).status_code == 204
    assert not live(calendar).exists()
    assert not CounterEvent.objects.filter(member=bob).exists()


def test_cancelling_within_24_hours_is_409_too_late(bob_api, bob, clock, calendar):
    services.shift_book(shift=calendar, member=bob, now=NOW)
    clock.set(at(WED, 9) - datetime.timedelta(hours=23, minutes=59))
    assert_conflict(bob_api.delete(shift_url(calendar, f"registrations/{bob.pk}/")), "too_late")
    assert live(calendar).count() == 1


def test_cancelling_ones_regular_shift_a_day_ahead_is_excused_minus_one(alice_api, alice, clock, wednesday, calendar):
    services.slot_assign(template=wednesday, member=alice, start_date=TODAY, today=TODAY)
    assert alice_api.delete(shift_url(calendar, f"registrations/{alice.pk}/")).status_code == 204
    event = CounterEvent.objects.get(member=alice)
    assert (event.kind, event.standard_points, event.date) == ("excused_regular", -1, WED)
    # The event takes the shift's date: the counter shows it from that day on.
    assert alice_api.get(f"{MEMBERS}me/").json()["counters"] == {"standard": 0, "ftop": 0}
    services.statuses_update(today=WED)
    clock.set(at(WED, 8))
    body = alice_api.get(f"{MEMBERS}me/").json()
    assert (body["counters"], body["status"]) == ({"standard": -1, "ftop": 0}, "alert")


def test_a_cooperator_cannot_cancel_someone_elses_booking(alice_api, bob, calendar):
    services.shift_book(shift=calendar, member=bob, now=NOW)
    assert alice_api.delete(shift_url(calendar, f"registrations/{bob.pk}/")).status_code == 403
    assert live(calendar).count() == 1


def test_cancelling_a_booking_that_does_not_exist_is_400(coord, bob, calendar):
    services.shift_book(shift=calendar, member=working_member("Ines", shift_type="ftop"), now=NOW)
    response = coord.delete(shift_url(calendar, f"registrations/{bob.pk}/"))
    assert response.status_code == 400, response.content
    assert live(calendar).count() == 1  # someone else's booking stays


# --- attendance --------------------------------------------------------------------------------

def test_attended_before_the_start_is_409_not_started(coord, bob, calendar):
    services.shift_book(shift=calendar, member=bob, now=NOW)
    assert_conflict(coord.post(shift_url(calendar, "attendance/"), {"member": bob.pk, "state": "attended"}, format="json"), "not_started")


def test_missed_before_the_end_is_409_not_ended(coord, bob, clock, calendar):
    services.shift_book(shift=calendar, member=bob, now=NOW)
    clock.set(at(WED, 11))
    assert_conflict(coord.post(shift_url(calendar, "attendance/"), {"member": bob.pk, "state": "missed"}, format="json"), "not_ended")
    assert live(calendar).get().attendance is None


def test_attendance_is_recorded_with_its_counter_effect(coord, alice, clock, wednesday, calendar):
    services.slot_assign(template=wednesday, member=alice, start_date=TODAY, today=TODAY)
    clock.set(at(WED, 12, 30))
    response = coord.post(shift_url(calendar, "attendance/"), {"member": alice.pk, "state": "missed"}, format="json")
    assert response.status_code == 200, response.content
    assert response.json()["attendance"] == "missed"
    alice.refresh_from_db()
    assert (alice.counter_standard, alice.status) == (-2, "alert")


def test_excused_can_be_recorded_before_the_shift(coord, bob, calendar):
    services.shift_book(shift=calendar, member=bob, now=NOW)
    response = coord.post(shift_url(calendar, "attendance/"), {"member": bob.pk, "state": "excused"}, format="json")
    assert response.status_code == 200
    assert response.json()["attendance"] == "excused"


@pytest.mark.parametrize("body", [{"state": "late"}, {"state": ""}, {"member": None}])
def test_unknown_attendance_state_is_400_and_nothing_is_written(coord, bob, clock, calendar, body):
    services.shift_book(shift=calendar, member=bob, now=NOW)
    clock.set(at(WED, 13))
    response = coord.post(shift_url(calendar, "attendance/"), {"member": bob.pk, "state": "missed", **body}, format="json")
    assert response.status_code == 400
    assert live(calendar).get().attendance is None
    assert not CounterEvent.objects.filter(member=bob).exists()


def test_bulk_attendance_records_every_entry(coord, alice, bob, clock, wednesday, calendar):
    services.slot_assign(template=wednesday, member=alice, start_date=TODAY, today=TODAY)
    services.shift_book(shift=calendar, member=bob, now=NOW)
    clock.set(at(WED, 13))
    body = [{"member": alice.pk, "state": "attended"}, {"member": bob.pk, "state": "missed"}]
    response = coord.post(shift_url(calendar, "attendance/bulk/"), body, format="json")
    assert response.status_code == 200, response.content
    assert sorted((r["member"], r["attendance"]) for r in response.json()) == sorted([(alice.pk, "attended"), (bob.pk, "missed")])
    bob.refresh_from_db()
    assert bob.counter_ftop == -1


def test_bulk_attendance_is_all_or_nothing_on_a_bad_entry(coord, alice, bob, clock, wednesday, calendar):
    services.slot_assign(template=wednesday, member=alice, start_date=TODAY, today=TODAY)
    stranger = working_member("Stan")
    clock.set(at(WED, 13))
    body = [{"member": alice.pk, "state": "missed"}, {"member": stranger.pk, "state": "attended"}]
    response = coord.post(shift_url(calendar, "attendance/bulk/"), body, format="json")
    assert response.status_code == 400
    assert live(calendar).get().attendance is None
    assert not CounterEvent.objects.exists()


def test_bulk_attendance_is_all_or_nothing_on_a_rule(coord, alice, bob, clock, wednesday, calendar):
    services.slot_assign(template=wednesday, member=alice, start_date=TODAY, today=TODAY)
    services.shift_book(shift=calendar, member=bob, now=NOW)
    clock.set(at(WED, 10))
    body = [{"member": alice.pk, "state": "attended"}, {"member": bob.pk, "state": "missed"}]
    assert_conflict(coord.post(shift_url(calendar, "attendance/bulk/"), body, format="json"), "not_ended")
    assert not live(calendar).filter(attendance__isnull=False).exists()
    assert not CounterEvent.objects.exists()


@pytest.mark.parametrize("body", [[], {"member": 1, "state": "attended"}, [{"member": 1, "state": "nope"}]])
def test_bulk_attendance_needs_a_list_of_valid_entries(coord, calendar, body):
    assert coord.post(shift_url(calendar, "attendance/bulk/"), body, format="json").status_code == 400
    assert not Registration.objects.filter(attendance__isnull=False).exists()
    assert not CounterEvent.objects.exists()


# --- the exchange ------------------------------------------------------------------------------

def test_offer_and_take_moves_the_registration(alice_api, alice, bob_api, bob, wednesday, calendar):
    services.slot_assign(template=wednesday, member=alice, start_date=TODAY, today=TODAY)
    offered = alice_api.post(shift_url(calendar, "offer/"), {"member": alice.pk}, format="json")
    assert offered.status_code == 201, offered.content
    assert offered.json()["offered"] is True
    assert bob_api.get(SHIFTS, {"start": "2026-03-04", "end": "2026-03-04"}).json()["results"][0]["offered"] is True
    taken = bob_api.post(shift_url(calendar, "take/"), {"member": bob.pk}, format="json")
    assert taken.status_code == 201, taken.content
    assert (taken.json()["member"], taken.json()["kind"]) == (bob.pk, "one_off")
    assert list(live(calendar).values_list("member_id", flat=True)) == [bob.pk]
    assert not CounterEvent.objects.filter(member=alice).exists()


def test_an_offer_can_be_withdrawn(alice_api, alice, wednesday, calendar):
    services.slot_assign(template=wednesday, member=alice, start_date=TODAY, today=TODAY)
    services.shift_offer(shift=calendar, member=alice, now=NOW)
    assert alice_api.delete(shift_url(calendar, "offer/"), {"member": alice.pk}, format="json").status_code == 204
    assert live(calendar).get().offered_at is None
    assert alice_api.delete(shift_url(calendar, "offer/")).status_code == 400  # nothing offered any more


def test_offering_someone_elses_shift_is_403(bob_api, alice, wednesday, calendar):
    services.slot_assign(template=wednesday, member=alice, start_date=TODAY, today=TODAY)
    assert bob_api.post(shift_url(calendar, "offer/"), {"member": alice.pk}, format="json").status_code == 403
    assert live(calendar).get(member=alice).offered_at is None
    services.shift_offer(shift=calendar, member=alice, now=NOW)
    assert bob_api.delete(shift_url(calendar, "offer/"), {"member": alice.pk}, format="json").status_code == 403
    assert live(calendar).get(member=alice).offered_at is not None


def test_offering_within_24_hours_is_409_too_late(alice_api, alice, clock, wednesday, calendar):
    services.slot_assign(template=wednesday, member=alice, start_date=TODAY, today=TODAY)
    clock.set(at(WED, 8))
    assert_conflict(alice_api.post(shift_url(calendar, "offer/"), {"member": alice.pk}, format="json"), "too_late")


def test_taking_a_shift_nobody_offers_is_409_not_allowed(bob_api, bob, calendar):
    assert_conflict(bob_api.post(shift_url(calendar, "take/"), {"member": bob.pk}, format="json"), "not_allowed")


def test_taking_for_someone_else_is_403_but_coordinators_may(coord, alice_api, bob, wednesday, calendar):
    giver = working_member("Gina")
    services.slot_assign(template=wednesday, member=giver, start_date=TODAY, today=TODAY)
    services.shift_offer(shift=calendar, member=giver, now=NOW)
    assert alice_api.post(shift_url(calendar, "take/"), {"member": bob.pk}, format="json").status_code == 403
    assert set(live(calendar).values_list("member_id", flat=True)) == {giver.pk}
    assert coord.post(shift_url(calendar, "take/"), {"member": bob.pk}, format="json").status_code == 201
    assert set(live(calendar).values_list("member_id", flat=True)) == {bob.pk}


# --- member decisions --------------------------------------------------------------------------

def test_history_lists_counter_events_and_status_changes_newest_first(coord, alice_api, bob_api, alice):
    services.correction_write(member=alice, counter="standard", points=-1, reason="Old debt", today=TODAY)
    services.correction_write(member=alice, counter="standard", points=1, reason="Paid back", today=TODAY + datetime.timedelta(days=1))
    for client in (coord, alice_api):
        response = client.get(member_url(alice, "history/"))
        assert response.status_code == 200
        body = response.json()
        assert [e["reason"] for e in body["counter_events"]] == ["Paid back", "Old debt"]
        changes = body["status_history"]
        assert [(c["from_status"], c["to_status"]) for c in changes[:2]] == [("alert", "up_to_date"), ("up_to_date", "alert")]
        assert changes == sorted(changes, key=lambda c: (c["effective_date"], c["id"]), reverse=True)
    assert bob_api.get(member_url(alice, "history/")).status_code == 403


def test_a_leave_is_created_cancels_its_registrations_and_shows_on_the_member(coord, alice, wednesday, calendar):
    services.slot_assign(template=wednesday, member=alice, start_date=TODAY, today=TODAY)
    response = coord.post(member_url(alice, "leaves/"), {"start": "2026-03-02", "end": "2026-03-29", "reason": "Travel"}, format="json")
    assert response.status_code == 201, response.content
    leave = response.json()
    assert (leave["start"], leave["end"], leave["reason"]) == ("2026-03-02", "2026-03-29", "Travel")
    member = coord.get(member_url(alice)).json()
    assert member["leave"] == {"id": leave["id"], "start": "2026-03-02", "end": "2026-03-29", "reason": "Travel"}
    assert member["status"] == "on_leave"
    assert not live(calendar).exists()
    assert not CounterEvent.objects.filter(member=alice).exists()


@pytest.mark.parametrize("body,field", [
    ({"start": "2026-03-02", "end": "2026-03-28", "reason": "Short"}, "end"),  # 27 days
    ({"start": "2026-03-01", "end": "2026-04-30", "reason": "Past"}, "start"),
    ({"start": "02/03/2026", "end": "2026-04-30", "reason": "Bad date"}, "start"),
    ({"start": "2026-03-02", "end": "2026-04-30"}, "reason"),
])
def test_bad_leave_is_400_and_nothing_is_written(coord, alice, body, field):
    response = coord.post(member_url(alice, "leaves/"), body, format="json")
    assert response.status_code == 400
    assert field in response.json()
    assert not Leave.objects.exists()
    assert not StatusChange.objects.filter(to_status="on_leave").exists()


def test_a_leave_of_exactly_28_days_is_accepted(coord, alice):
    response = coord.post(member_url(alice, "leaves/"), {"start": "2026-03-02", "end": "2026-03-29", "reason": "x"}, format="json")
    assert response.status_code == 201, response.content
    leave = Leave.objects.get(member=alice)
    assert (leave.pk, leave.start, leave.end) == (response.json()["id"], TODAY, datetime.date(2026, 3, 29))


def test_a_leave_is_ended_early(coord, alice):
    leave = services.leave_create(member=alice, start=TODAY, end=TODAY + datetime.timedelta(days=59), reason="Travel", today=TODAY, now=NOW)
    response = coord.patch(member_url(alice, f"leaves/{leave.pk}/"), {"end": "2026-03-10"}, format="json")
    assert response.status_code == 200, response.content
    assert response.json()["end"] == "2026-03-10"
    assert coord.patch(member_url(alice, f"leaves/{leave.pk}/"), {"end": "2026-02-01"}, format="json").status_code == 400
    assert coord.patch(member_url(alice, f"leaves/{leave.pk}/"), {"end": "soon"}, format="json").status_code == 400
    other = working_member("Other")
    assert coord.patch(member_url(other, f"leaves/{leave.pk}/"), {"end": "2026-03-10"}, format="json").status_code == 404


def test_an_open_ended_exemption_then_its_end(coord, alice):
    response = coord.post(member_url(alice, "exemptions/"), {"start": "2026-03-02", "reason": "Health"}, format="json")
    assert response.status_code == 201, response.content
    exemption = response.json()
    assert exemption["end"] is None
    member = coord.get(member_url(alice)).json()
    assert member["exemption"] == {"id": exemption["id"], "start": "2026-03-02", "end": None, "reason": "Health"}
    assert member["status"] == "exempted"
    ended = coord.patch(member_url(alice, f"exemptions/{exemption['id']}/"), {"end": "2026-03-20"}, format="json")
    assert ended.status_code == 200
    assert Exemption.objects.get().end == datetime.date(2026, 3, 20)


def test_an_exemption_cannot_start_in_the_past(coord, alice):
    response = coord.post(member_url(alice, "exemptions/"), {"start": "2026-02-01", "reason": "Health"}, format="json")
    assert response.status_code == 400
    assert not Exemption.objects.exists()


def test_extensions_are_granted_twice_then_409_extension_limit(coord, alice):
    services.correction_write(member=alice, counter="standard", points=-1, reason="Missed", today=TODAY)
    first = coord.post(member_url(alice, "extensions/"), {"reason": "Sick child"}, format="json")
    assert first.status_code == 201, first.content
    # The alert deadline is the day after the 28th day of the episode (2026-03-02 .. 2026-03-29).
    assert (first.json()["start"], first.json()["end"]) == ("2026-03-30", "2026-04-26")
    second = coord.post(member_url(alice, "extensions/"), {"reason": "Still sick"}, format="json")
    assert (second.json()["start"], second.json()["end"]) == ("2026-04-27", "2026-05-24")
    assert_conflict(coord.post(member_url(alice, "extensions/"), {"reason": "Again"}, format="json"), "extension_limit")
    assert Extension.objects.count() == 2


def test_an_extension_without_a_debt_is_409_not_allowed(coord, alice):
    assert_conflict(coord.post(member_url(alice, "extensions/"), {"reason": "Why not"}, format="json"), "not_allowed")
    assert coord.post(member_url(alice, "extensions/"), {}, format="json").status_code == 400


def test_unblocking_a_blocked_member(coord, alice):
    services.member_block(member=alice, reason="Unpaid damage", today=TODAY)
    assert coord.get(member_url(alice)).json()["can_shop"] is False
    response = coord.post(member_url(alice, "unblock/"), {"reason": "Settled"}, format="json")
    assert response.status_code == 200
    assert (response.json()["status"], response.json()["blocked_reason"], response.json()["can_shop"]) == ("up_to_date", "", True)
    assert StatusChange.objects.filter(member=alice, from_status="blocked", to_status="up_to_date").exists()


def test_reenrolment_of_an_unsubscribed_ftop_member(coord, bob):
    services.correction_write(member=bob, counter="ftop", points=-8, reason="Eight missed shifts", today=TODAY)
    bob.refresh_from_db()
    assert bob.status == "unsubscribed"
    response = coord.post(member_url(bob, "reenrol/"), {}, format="json")
    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["status"], body["counters"]["ftop"], body["alert_deadline"]) == ("alert", -8, "2026-03-30")
    assert_conflict(coord.post(member_url(bob, "reenrol/"), {}, format="json"), "not_allowed")


def test_reenrolment_with_a_new_regular_slot(coord, alice, wednesday, calendar):
    services.slot_assign(template=wednesday, member=alice, start_date=TODAY, today=TODAY)
    for day in (WED, WED + datetime.timedelta(days=28)):
        services.attendance_record(shift=shift_of(wednesday, day), member=alice, state="missed", now=at(day, 13), today=day)
    alice.refresh_from_db()
    assert alice.status == "unsubscribed"
    other = make_template("Thursday", weekday=3)
    response = coord.post(member_url(alice, "reenrol/"), {"template": other.pk}, format="json")
    assert response.status_code == 200, response.content
    assert response.json()["regular_slot"] == other.pk
    assert coord.post(member_url(alice, "reenrol/"), {"template": 999999}, format="json").status_code == 400


def test_a_correction_is_written_with_its_transfer(coord, alice):
    response = coord.post(member_url(alice, "corrections/"), {"counter": "standard", "points": 2, "reason": "Helped at the AGM"}, format="json")
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["counters"] == {"standard": 0, "ftop": 2}
    assert body["events"][0]["kind"] == "correction"
    assert (body["events"][0]["standard_points"], body["events"][0]["ftop_points"]) == (0, 2)


@pytest.mark.parametrize("body", [
    {"counter": "other", "points": 1, "reason": "x"},
    {"counter": "ftop", "points": 0, "reason": "x"},
    {"counter": "ftop", "points": "two", "reason": "x"},
    {"counter": "ftop", "points": 1},
])
def test_a_bad_correction_is_400_and_nothing_is_written(coord, alice, body):
    assert coord.post(member_url(alice, "corrections/"), body, format="json").status_code == 400
    assert not CounterEvent.objects.exists()


# --- the member object -------------------------------------------------------------------------

def test_member_object_fills_regular_slot_leave_and_exemption(coord, alice_api, alice, wednesday):
    services.slot_assign(template=wednesday, member=alice, start_date=TODAY, today=TODAY)
    body = alice_api.get(f"{MEMBERS}me/").json()
    assert (body["regular_slot"], body["leave"], body["exemption"]) == (wednesday.pk, None, None)
    listed = coord.get(MEMBERS).json()["results"]
    assert [(m["id"], m["regular_slot"]) for m in listed] == [(alice.pk, wednesday.pk)]


def test_a_leave_that_has_not_started_is_not_the_current_one(coord, alice):
    services.leave_create(member=alice, start=TODAY + datetime.timedelta(days=3), end=TODAY + datetime.timedelta(days=40), reason="Later", today=TODAY, now=NOW)
    assert coord.get(member_url(alice)).json()["leave"] is None


def test_member_list_runs_a_constant_number_of_queries(coord, wednesday):
    def count_queries():
        with CaptureQueriesContext(connection) as ctx:
            assert coord.get(MEMBERS).status_code == 200
        return len(ctx.captured_queries)

    def add(name, index):
        member = working_member(name)
        services.slot_assign(template=make_template(f"T{index}", weekday=index % 7), member=member, start_date=TODAY, today=TODAY)
        services.leave_create(member=member, start=TODAY, end=TODAY + datetime.timedelta(days=30), reason="x", today=TODAY, now=NOW)
        services.exemption_create(member=member, start=TODAY, end=None, reason="y", today=TODAY, now=NOW)

    add("First", 0)
    few = count_queries()
    for index, name in enumerate(("Second", "Third", "Fourth", "Fifth"), start=1):
        add(name, index)
    assert count_queries() == few


def test_the_members_api_still_creates_members(coord):
    response = coord.post(MEMBERS, {"first_name": "Zoé", "last_name": "Roy", "email": "zoe@example.org", "shift_type": "ftop"}, format="json")
    assert response.status_code == 201
    assert response.json()["regular_slot"] is None


def test_unblocking_a_member_who_is_not_blocked_is_409_not_allowed(coord, alice):
    assert_conflict(coord.post(member_url(alice, "unblock/"), {}, format="json"), "not_allowed")


def test_blocking_needs_a_reason(coord, alice):
    assert coord.post(member_url(alice, "block/"), {"reason": ""}, format="json").status_code == 400
    alice.refresh_from_db()
    assert alice.blocked_reason == ""


def test_reenrolling_a_member_who_is_not_unsubscribed_is_409_not_allowed(coord, bob):
    assert_conflict(coord.post(member_url(bob, "reenrol/"), {}, format="json"), "not_allowed")
    assert not CounterEvent.objects.exists()


# --- regressions: service bugs this API surfaced (fixed in shifts/services.py and status.py) -----

def test_ending_a_leave_early_puts_the_member_back_on_their_regular_shifts(coord, alice, wednesday, calendar):
    services.slot_assign(template=wednesday, member=alice, start_date=TODAY, today=TODAY)
    later = shift_of(wednesday, datetime.date(2026, 4, 1))
    leave = coord.post(member_url(alice, "leaves/"), {"start": "2026-03-02", "end": "2026-04-30", "reason": "Travel"}, format="json").json()
    assert not live(later).exists()
    assert coord.patch(member_url(alice, f"leaves/{leave['id']}/"), {"end": "2026-03-10"}, format="json").status_code == 200
    assert list(live(later).values_list("member_id", "kind")) == [(alice.pk, "regular")]


def test_a_slot_given_back_registers_the_member_again(coord, alice, wednesday, calendar):
    url = f"{TEMPLATES}{wednesday.pk}/members/"
    assert coord.post(url, {"member": alice.pk}, format="json").status_code == 201
    assert coord.delete(f"{url}{alice.pk}/").status_code == 204
    assert coord.post(url, {"member": alice.pk, "start_date": "2026-03-03"}, format="json").status_code == 201
    assert Registration.objects.filter(member=alice, cancelled_at__isnull=True).count() == 2


def test_a_new_slot_holder_never_overfills_a_shift(coord, bob, alice, calendar):
    wednesday = calendar.template
    services.shift_book(shift=calendar, member=bob, now=NOW)
    services.shift_book(shift=calendar, member=working_member("Cat", shift_type="ftop"), now=NOW)
    response = coord.post(f"{TEMPLATES}{wednesday.pk}/members/", {"member": alice.pk}, format="json")
    assert_conflict(response, "shift_full")  # the full date is named, not skipped silently
    assert response.json()["dates"] == ["2026-03-04"]
    assert not SlotAssignment.objects.filter(member=alice).exists()
    assert sorted(live(calendar).values_list("member__first_name", flat=True)) == ["Bob", "Cat"]
    assert not Registration.objects.filter(member=alice).exists()  # starting after that date: test_booking_edges.py


def test_blocking_a_member_makes_them_blocked(coord, alice):
    response = coord.post(member_url(alice, "block/"), {"reason": "Unpaid damage"}, format="json")
    assert response.status_code == 200
    assert (response.json()["status"], response.json()["blocked_reason"], response.json()["can_shop"]) == ("blocked", "Unpaid damage", False)


# --- the role walk: every role over every endpoint -----------------------------------------------

@pytest.fixture
def scene(alice, wednesday, calendar):
    """A world where every write below succeeds for a coordinator: Alice holds the Wednesday slot;
    Dan is FTOP with no booking; Erin has a future leave and exemption; Fay is standard without a
    slot; Gus booked the first Wednesday and offers it; Hal owes a make-up; Ivy is blocked; Jo is
    FTOP and unsubscribed. The shift has room for Dan (capacity 4)."""
    services.slot_assign(template=wednesday, member=alice, start_date=TODAY, today=TODAY)
    Shift.objects.filter(pk=calendar.pk).update(capacity=4)
    dan = working_member("Dan", shift_type="ftop")
    erin = working_member("Erin")
    leave = services.leave_create(member=erin, start=TODAY + datetime.timedelta(days=60), end=TODAY + datetime.timedelta(days=100),
                                  reason="x", today=TODAY, now=NOW)
    exemption = services.exemption_create(member=erin, start=TODAY + datetime.timedelta(days=120), end=None, reason="y", today=TODAY, now=NOW)
    fay = working_member("Fay")
    gus = working_member("Gus", shift_type="ftop")
    services.shift_book(shift=calendar, member=gus, now=NOW)
    services.shift_offer(shift=calendar, member=gus, now=NOW)
    hal = working_member("Hal")
    services.correction_write(member=hal, counter="standard", points=-1, reason="Missed", today=TODAY)
    ivy = working_member("Ivy")
    services.member_block(member=ivy, reason="Rude", today=TODAY)
    jo = working_member("Jo", shift_type="ftop")
    services.correction_write(member=jo, counter="ftop", points=-8, reason="Eight missed shifts", today=TODAY)
    return {"t": wednesday.pk, "s": calendar.pk, "alice": alice.pk, "dan": dan.pk, "erin": erin.pk, "leave": leave.pk,
            "exemption": exemption.pk, "fay": fay.pk, "gus": gus.pk, "hal": hal.pk, "ivy": ivy.pk, "jo": jo.pk}


def shift_world() -> list:
    """Every row the shift endpoints may write, to compare before and after a request."""
    models = (ShiftTemplate, Shift, SlotAssignment, Registration, CounterEvent, StatusChange, Leave, Exemption, Extension, Member)
    return [list(model.objects.order_by("pk").values()) for model in models]


class Ref(str):
    """A body value naming an object of the scene: replaced by its id."""


READS = [
    ("get", "/api/v1/shift-templates/", None),
    ("get", "/api/v1/shift-templates/{t}/", None),
    ("get", "/api/v1/shifts/", None),
    ("get", "/api/v1/shifts/{s}/", None),
]
# (method, path, body, what a coordinator gets in the scene)
WRITES = [
    ("post", "/api/v1/shift-templates/", template_body(), 201),
    ("patch", "/api/v1/shift-templates/{t}/", {"name": "Renamed"}, 200),
    ("post", "/api/v1/shift-templates/{t}/members/", {"member": Ref("fay")}, 201),
    ("delete", "/api/v1/shift-templates/{t}/members/{alice}/", None, 204),
    ("post", "/api/v1/shifts/{s}/registrations/", {"member": Ref("dan")}, 201),
    ("delete", "/api/v1/shifts/{s}/registrations/{alice}/", None, 204),
    ("post", "/api/v1/shifts/{s}/attendance/", {"member": Ref("alice"), "state": "excused"}, 200),
    ("post", "/api/v1/shifts/{s}/attendance/bulk/", [{"member": Ref("alice"), "state": "excused"}], 200),
    ("post", "/api/v1/shifts/{s}/offer/", {"member": Ref("alice")}, 201),
    ("delete", "/api/v1/shifts/{s}/offer/", {"member": Ref("gus")}, 204),
    ("post", "/api/v1/shifts/{s}/take/", {"member": Ref("dan")}, 201),
    ("get", "/api/v1/members/{alice}/history/", None, 200),
    ("post", "/api/v1/members/{alice}/leaves/", {"start": "2026-03-02", "end": "2026-04-30", "reason": "x"}, 201),
    ("patch", "/api/v1/members/{erin}/leaves/{leave}/", {"end": "2026-05-20"}, 200),
    ("post", "/api/v1/members/{alice}/exemptions/", {"start": "2026-03-02", "reason": "x"}, 201),
    ("patch", "/api/v1/members/{erin}/exemptions/{exemption}/", {"end": "2026-08-01"}, 200),
    ("post", "/api/v1/members/{hal}/extensions/", {"reason": "x"}, 201),
    ("post", "/api/v1/members/{alice}/block/", {"reason": "x"}, 200),
    ("post", "/api/v1/members/{ivy}/unblock/", {"reason": "x"}, 200),
    ("post", "/api/v1/members/{jo}/reenrol/", {}, 200),
    ("post", "/api/v1/members/{alice}/corrections/", {"counter": "ftop", "points": 1, "reason": "x"}, 201),
]


def fill(value, scene):
    if isinstance(value, Ref):
        return scene[value]
    if isinstance(value, list):
        return [fill(v, scene) for v in value]
    if isinstance(value, dict):
        return {k: fill(v, scene) for k, v in value.items()}
    return value


def call(client, method, path, body, scene):
    return getattr(client, method)(path.format(**scene), fill(body, scene), format="json")


@pytest.mark.parametrize("method,path,body", READS, ids=[f"{m} {p}" for m, p, _ in READS])
def test_role_walk_reads(scene, coordinator, method, path, body):
    assert call(client_for(), method, path, body, scene).status_code == 401
    for user in (make_user("till", "cashiers"), make_user("stock", "supply"), make_user("carol"), coordinator):
        response = call(client_for(user), method, path, body, scene)
        assert response.status_code == 200, (user.username, response.content)


@pytest.mark.parametrize("method,path,body,ok", WRITES, ids=[f"{m} {p}" for m, p, _, _ in WRITES])
def test_role_walk_writes(scene, coordinator, method, path, body, ok):
    """Anonymous 401, every other role 403 and nothing written; the coordinator gets the endpoint's
    success status and the request writes (the history read excepted)."""
    before = shift_world()
    anonymous = call(client_for(), method, path, body, scene)
    assert anonymous.status_code == 401
    assert set(anonymous.json()) == {"detail", "code"}
    carol = make_user("carol")
    working_member("Carol", user=carol)
    before_refusals = shift_world()
    for user in (make_user("till", "cashiers"), make_user("stock", "supply"), carol):
        response = call(client_for(user), method, path, body, scene)
        assert response.status_code == 403, (user.username, response.content)
        assert set(response.json()) == {"detail", "code"}
    assert shift_world() == before_refusals
    response = call(client_for(coordinator), method, path, body, scene)
    assert response.status_code == ok, response.content
    if method == "get":
        assert shift_world() == before_refusals
    else:
        assert shift_world() != before_refusals
    assert before != before_refusals  # Carol was added: the comparison sees new rows


# The member decisions, each aimed at Alice herself, and the attendance and template writes.
OWN_WORK = [
    (method, "/api/v1/members/{alice}/" + path.split("/", 5)[5], body)
    for method, path, body, _ok in WRITES
    if path.startswith("/api/v1/members/") and method == "post"
] + [w[:3] for w in WRITES if "attendance" in w[1] or "shift-templates" in w[1]]


@pytest.mark.parametrize("method,path,body", OWN_WORK, ids=[f"{m} {p}" for m, p, _ in OWN_WORK])
def test_a_cooperator_cannot_decide_on_their_own_work(scene, alice_api, method, path, body):
    before = shift_world()
    assert call(alice_api, method, path, body, scene).status_code == 403
    assert shift_world() == before


def test_a_superuser_is_a_coordinator(scene):
    admin = client_for(make_user("root", superuser=True))
    response = call(admin, "post", "/api/v1/members/{alice}/corrections/", {"counter": "ftop", "points": 1, "reason": "x"}, scene)
    assert response.status_code == 201
    assert CounterEvent.objects.filter(member_id=scene["alice"], kind="correction", ftop_points=1).count() == 1


def test_token_authentication_works_on_the_shifts_api(calendar, alice_user, alice):
    from coopmarket.tokens import token_issue

    client = client_for()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token_issue(user=alice_user, lifetime=datetime.timedelta(days=1))[1]}")
    assert client.get(SHIFTS).status_code == 200
