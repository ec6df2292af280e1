"""Issue 10, booking and slots (DOMAIN.md §4 revised), through the API with the pinned clock
(NOW = 2026-03-02 09:00 Paris; the first Wednesday shift is 2026-03-04 09:00-12:00, capacity 2)."""
import datetime

import pytest

from shifts import services
from shifts.models import Registration, SlotAssignment

from .conftest import NOW, TODAY, at, client_for, generate, make_template, make_user, shift_of, working_member

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("clock")]

WED = datetime.date(2026, 3, 4)


def url(shift, suffix="registrations/"):
    return f"/api/v1/shifts/{shift.pk}/{suffix}"


def conflict(response, code):
    assert response.status_code == 409, response.content
    assert response.json()["code"] == code
    return response.json()


def fill(shift, n=None):
    for i in range(n or shift.capacity):
        services.shift_book(shift=shift, member=working_member(f"Filler{i}"), now=NOW)


# --- coordinators on started and ended shifts ----------------------------------------------------

def test_coordinators_register_on_a_started_full_shift_beyond_capacity(coord, bob, clock, calendar):
    fill(calendar)
    clock.set(at(WED, 10))  # running

    response = coord.post(url(calendar), {"member": bob.pk}, format="json")

    assert response.status_code == 201, response.content
    assert Registration.objects.filter(shift=calendar, cancelled_at__isnull=True).count() == 3


def test_coordinators_register_on_an_ended_full_shift(coord, bob, clock, calendar):
    fill(calendar)
    clock.set(at(WED + datetime.timedelta(days=2), 9))

    assert coord.post(url(calendar), {"member": bob.pk}, format="json").status_code == 201


def test_coordinators_still_respect_capacity_before_the_start(coord, bob, calendar):
    fill(calendar)
    conflict(coord.post(url(calendar), {"member": bob.pk}, format="json"), "shift_full")


def test_members_book_only_shifts_that_have_not_started(bob_api, bob, clock, calendar):
    clock.set(at(WED, 8, 59))
    assert bob_api.post(url(calendar), {"member": bob.pk}, format="json").status_code == 201
    other = make_template("Later", start=(9, 0), end=(12, 0))
    generate(start=WED, days=1)
    clock.set(at(WED, 9, 0))
    conflict(bob_api.post(url(shift_of(other, WED)), {"member": bob.pk}, format="json"), "too_late")


# --- no booking inside one's own leave ------------------------------------------------------------

def test_no_booking_on_a_date_inside_a_leave_that_starts_later(coord, bob, bob_api, calendar):
    services.leave_create(member=bob, start=WED - datetime.timedelta(days=1), end=WED + datetime.timedelta(days=30),
                          reason="travel", today=TODAY, now=NOW)
    assert bob.leaves.get().start > TODAY  # not on leave yet: the status still allows booking

    conflict(bob_api.post(url(calendar), {"member": bob.pk}, format="json"), "not_allowed")
    conflict(coord.post(url(calendar), {"member": bob.pk}, format="json"), "not_allowed")
    assert not Registration.objects.filter(member=bob).exists()


def test_booking_after_the_leave_is_fine(bob_api, bob, wednesday):
    generate(days=56)  # week A Wednesdays: 03-04 and 04-01
    services.leave_create(member=bob, start=datetime.date(2026, 3, 3), end=datetime.date(2026, 3, 31),
                          reason="travel", today=TODAY, now=NOW)
    after = shift_of(wednesday, datetime.date(2026, 4, 1))
    assert bob_api.post(url(after), {"member": bob.pk}, format="json").status_code == 201


def test_taking_an_offered_shift_inside_ones_leave_is_refused(alice, bob, bob_api, calendar):
    services.shift_book(shift=calendar, member=alice, now=NOW)
    services.shift_offer(shift=calendar, member=alice, now=NOW)
    services.leave_create(member=bob, start=WED, end=WED + datetime.timedelta(days=30), reason="travel", today=TODAY, now=NOW)

    conflict(bob_api.post(url(calendar, "take/"), {"member": bob.pk}, format="json"), "not_allowed")


# --- a regular slot never skips a full date silently ----------------------------------------------

def test_assigning_a_slot_over_a_full_date_is_refused_naming_the_dates(coord, alice, wednesday):
    generate(days=56)
    first = shift_of(wednesday, WED)
    fill(first)

    body = conflict(coord.post(f"/api/v1/shift-templates/{wednesday.pk}/members/", {"member": alice.pk}, format="json"), "shift_full")

    assert body["dates"] == ["2026-03-04"]
    assert "2026-03-04" in body["detail"]
    assert not SlotAssignment.objects.filter(member=alice).exists()


def test_a_slot_starting_after_the_full_dates_is_assigned(coord, alice, wednesday):
    generate(days=56)
    fill(shift_of(wednesday, WED))

    response = coord.post(f"/api/v1/shift-templates/{wednesday.pk}/members/", {"member": alice.pk, "start_date": "2026-03-05"}, format="json")

    assert response.status_code == 201, response.content
    assert Registration.objects.filter(member=alice, shift=shift_of(wednesday, datetime.date(2026, 4, 1))).exists()


# --- changing shift type -------------------------------------------------------------------------

def test_a_shift_type_switch_is_refused_while_make_ups_are_owed(coord, bob, wednesday):
    services.correction_write(member=bob, counter="ftop", points=-1, reason="missed", today=TODAY)

    conflict(coord.patch(f"/api/v1/members/{bob.pk}/", {"shift_type": "standard", "template": wednesday.pk}, format="json"), "not_allowed")
    bob.refresh_from_db()
    assert bob.shift_type == "ftop"


def test_a_switch_to_standard_names_its_slot_in_the_same_request(coord, bob, wednesday, calendar):
    missing = coord.patch(f"/api/v1/members/{bob.pk}/", {"shift_type": "standard"}, format="json")
    assert missing.status_code == 400 and "template" in missing.json()

    response = coord.patch(f"/api/v1/members/{bob.pk}/", {"shift_type": "standard", "template": wednesday.pk}, format="json")

    assert response.status_code == 200, response.content
    assert (response.json()["shift_type"], response.json()["regular_slot"]) == ("standard", wednesday.pk)
    assert Registration.objects.filter(member=bob, shift=calendar, kind="regular").exists()


def test_a_refused_slot_leaves_the_shift_type_unchanged(coord, bob, wednesday, calendar):
    fill(calendar)

    conflict(coord.patch(f"/api/v1/members/{bob.pk}/", {"shift_type": "standard", "template": wednesday.pk}, format="json"), "shift_full")

    bob.refresh_from_db()
    assert bob.shift_type == "ftop"


def test_a_switch_to_ftop_ends_the_slot(coord, alice, wednesday, calendar):
    services.slot_assign(template=wednesday, member=alice, start_date=TODAY, today=TODAY)

    response = coord.patch(f"/api/v1/members/{alice.pk}/", {"shift_type": "ftop"}, format="json")

    assert response.status_code == 200, response.content
    assert (response.json()["shift_type"], response.json()["regular_slot"]) == ("ftop", None)
    assert not Registration.objects.filter(member=alice, shift=calendar, cancelled_at__isnull=True).exists()


def test_the_office_edit_form_no_longer_switches_the_shift_type(alice):
    user = make_user("office", "coordinators")
    page = client_for(user).get(f"/members/{alice.pk}/edit/")
    assert page.status_code == 200
    assert 'name="shift_type"' not in page.content.decode()


def test_the_office_switches_the_shift_type_on_its_own_page_through_the_rules(bob, wednesday, calendar):
    office = client_for(make_user("office", "coordinators"))
    services.correction_write(member=bob, counter="ftop", points=-1, reason="missed", today=TODAY)

    refused = office.post(f"/shifts/members/{bob.pk}/shift-type/", {"shift_type": "standard", "template": wednesday.pk})

    assert refused.status_code == 200 and "make-up" in refused.content.decode()
    services.correction_write(member=bob, counter="ftop", points=1, reason="worked", today=TODAY)
    done = office.post(f"/shifts/members/{bob.pk}/shift-type/", {"shift_type": "standard", "template": wednesday.pk})
    assert done.status_code == 302
    bob.refresh_from_db()
    assert bob.shift_type == "standard" and SlotAssignment.objects.filter(member=bob, template=wednesday).exists()
    assert client_for(make_user("nobody")).get(f"/shifts/members/{bob.pk}/shift-type/").status_code == 403
