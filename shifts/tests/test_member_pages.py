"""The cooperator's shift pages: /me/ standing, /me/shifts/ (book, cancel, offer, take), roles.

The pages' clock is pinned to NOW (Monday 2026-03-02 09:00 Paris, week A); the Wednesday
template's first shift (2026-03-04 09:00) starts 48 h later.
"""
from __future__ import annotations

import datetime

import pytest
from django.test import Client

from members.models import Member
from shifts import services
from shifts.models import CounterEvent, NotificationPreference, Registration, Shift

from .conftest import NOW, TODAY, at, generate, make_template, make_user, shift_of, working_member

pytestmark = pytest.mark.django_db

WEDNESDAY = datetime.date(2026, 3, 4)


@pytest.fixture(autouse=True)
def page_clock(monkeypatch, clock):
    """The member pages read the same pinned clock as the API (`clock.set` moves both)."""
    monkeypatch.setattr("shifts.views_member.clock_now", lambda: clock.now)
    monkeypatch.setattr("shifts.views_member.clock_today", lambda: clock.today)
    return clock


def web(user=None) -> Client:
    client = Client()
    if user is not None:
        client.force_login(user)
    return client


@pytest.fixture
def alice_web(alice, alice_user):
    return web(alice_user)


@pytest.fixture
def bob_web(bob, bob_user):
    return web(bob_user)


@pytest.fixture
def slot(alice, wednesday):
    """Alice holds the Wednesday slot; shifts generated for 8 weeks."""
    services.slot_assign(template=wednesday, member=alice, start_date=TODAY, today=TODAY)
    generate()
    return shift_of(wednesday, WEDNESDAY)


def live(shift: Shift, member: Member):
    return Registration.objects.filter(shift=shift, member=member, cancelled_at__isnull=True)


def messages_of(response) -> list[str]:
    return [str(m) for m in response.context["messages"]] if response.context else []


# --- roles --------------------------------------------------------------------------------------

MEMBER_GETS = ["/me/", "/me/shifts/", "/me/shifts.ics"]
MEMBER_POSTS = ["/me/shifts/1/book/", "/me/shifts/1/cancel/", "/me/shifts/1/offer/", "/me/shifts/1/withdraw/",
                "/me/shifts/1/take/", "/me/calendar/reset/", "/me/notifications/"]


@pytest.mark.parametrize("path", MEMBER_GETS + MEMBER_POSTS)
def test_anonymous_visitors_are_sent_to_sign_in(db, path):
    client = web()
    response = client.post(path) if path in MEMBER_POSTS else client.get(path)
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/?next=")


@pytest.mark.parametrize("groups", [(), ("cashiers",), ("supply",), ("coordinators",)])
@pytest.mark.parametrize("path", MEMBER_GETS + MEMBER_POSTS)
def test_accounts_without_a_member_get_404_on_me_pages(slot, path, groups):
    """On a shift that exists, with a booking to act on: the 404 comes from the missing member."""
    client = web(make_user("nomember", *groups))
    send = client.post if path in MEMBER_POSTS else client.get
    before = list(Registration.objects.order_by("pk").values())
    response = send(path.replace("/1/", f"/{slot.pk}/"))
    assert response.status_code == 404
    assert list(Registration.objects.order_by("pk").values()) == before


@pytest.mark.parametrize("path", ["/me/certificate.pdf", "/me/card.pdf", "/me/data.json"])
def test_the_members_apps_me_documents_still_work(alice_web, path):
    assert alice_web.get(path).status_code == 200


@pytest.mark.parametrize("path", MEMBER_POSTS[:5])
def test_actions_refuse_get(alice_web, slot, path):
    response = alice_web.get(path.replace("/1/", f"/{slot.pk}/"))
    assert response.status_code == 405
    assert live(slot, Member.objects.get(first_name="Alice")).get().offered_at is None


def test_a_cooperator_sees_only_their_own_shifts(alice_web, bob, slot):
    services.shift_book(shift=slot, member=bob, now=NOW)
    mine = alice_web.get("/me/shifts/").context["mine"]
    assert {row["registration"].member_id for row in mine} == {Member.objects.get(first_name="Alice").pk}
    page = alice_web.get("/me/").content.decode()
    assert "Bob" not in page


def test_a_cooperator_cannot_act_on_someone_elses_registration(alice_web, bob, wednesday, calendar):
    services.shift_book(shift=calendar, member=bob, now=NOW)
    response = alice_web.post(f"/me/shifts/{calendar.pk}/cancel/", follow=True)
    assert response.status_code == 200
    assert messages_of(response) == ["This member is not registered on this shift."]
    assert live(calendar, bob).exists()


def test_an_unknown_shift_is_404(alice_web, db):
    assert alice_web.post("/me/shifts/999999/book/").status_code == 404


# --- /me/ standing ------------------------------------------------------------------------------

def test_my_page_shows_status_meaning_counters_slot_and_next_shifts(alice_web, alice, slot):
    page = alice_web.get("/me/")
    html = page.content.decode()
    assert page.status_code == 200
    assert "You are up to date with your shifts. You may shop." in html
    assert html.count("Regular-slot counter") == 1
    assert "Week A · Wednesday · 09:00–12:00" in html
    standing = page.context["shift_standing"]
    assert [r.shift.date for r in standing["next_shifts"]] == [WEDNESDAY + datetime.timedelta(days=28 * i) for i in range(2)]
    assert 'href="/me/shifts/"' in html


def test_my_page_shows_make_ups_owed_and_the_deadline(alice_web, alice, slot, clock):
    services.correction_write(member=alice, counter="standard", points=-2, reason="test", today=TODAY)
    html = alice_web.get("/me/").content.decode()
    assert "I owe 2 make-up shifts" in html
    assert "before March 30, 2026" in html  # the alert deadline: suspended from that day
    assert "You owe make-up shifts. You may still shop until the deadline" in html
    assert "Book a make-up shift" in html


def test_my_page_shows_my_next_leave(alice_web, alice, slot):
    services.leave_create(member=alice, start=datetime.date(2026, 4, 1), end=datetime.date(2026, 4, 30), reason="trip",
                          today=TODAY, now=NOW)
    assert "Next leave: from April 1, 2026 to April 30, 2026." in alice_web.get("/me/").content.decode()


def test_my_page_says_what_each_status_means(alice_web, alice):
    for status, words in [("suspended", "you cannot shop until your counter is back to 0"), ("on_leave", "You are on leave"),
                          ("blocked", "Your account is blocked"), ("not_concerned", "does not apply to you")]:
        Member.objects.filter(pk=alice.pk).update(status=status)
        assert words in alice_web.get("/me/").content.decode()


def test_a_flying_member_sees_that_they_have_no_regular_slot(bob_web, bob, calendar):
    assert "as a flying (FTOP) member, you book the shifts you like" in bob_web.get("/me/").content.decode()


def test_notification_choices_are_saved_from_my_page(alice_web, alice):
    response = alice_web.post("/me/notifications/", {"understaffed_calls": "on"})
    assert response.status_code == 302 and response["Location"] == "/me/#notifications"
    pref = NotificationPreference.objects.get(member=alice)
    assert (pref.reminders, pref.understaffed_calls) == (False, True)
    form = alice_web.get("/me/").context["preference_form"]
    assert form.initial == {"reminders": False, "understaffed_calls": True}


def test_my_page_gives_my_calendar_address(alice_web, alice):
    page = alice_web.get("/me/")
    assert page.context["calendar_url"] == f"http://testserver/calendar/{alice.calendar_token}.ics"
    assert page.context["calendar_url"] in page.content.decode()


# --- /me/shifts/: booking -----------------------------------------------------------------------

def test_the_calendar_lists_shifts_with_free_seats_by_week(bob_web, bob, wednesday, calendar):
    page = bob_web.get("/me/shifts/")
    weeks = page.context["weeks"]
    assert [w["letter"] for w in weeks] == ["A"]  # four weeks shown: only week A has a Wednesday template
    assert [d["date"] for d in weeks[0]["days"]] == [WEDNESDAY]
    item = weeks[0]["days"][0]["shifts"][0]
    assert item["free"] == 2 and item["deadline"] == at(datetime.date(2026, 3, 3), 9)
    html = page.content.decode()
    assert "free to cancel until" in html and "2 of 2 seats free" in html


def test_a_shift_within_24_hours_says_it_cannot_be_cancelled_once_booked(bob_web, calendar, clock):
    clock.set(at(datetime.date(2026, 3, 3), 12))
    page = bob_web.get("/me/shifts/")
    [item] = [i for w in page.context["weeks"] for d in w["days"] for i in d["shifts"] if i["shift"].pk == calendar.pk]
    assert item["final"] is True
    assert "starts in less than 24 hours: once booked, it cannot be cancelled" in page.content.decode()


def test_later_weeks_are_one_click_away(bob_web, wednesday, calendar):
    page = bob_web.get("/me/shifts/?from=2026-03-30")
    assert [d["date"] for w in page.context["weeks"] for d in w["days"]] == [datetime.date(2026, 4, 1)]
    assert page.context["earlier"] == datetime.date(2026, 3, 2)
    assert bob_web.get("/me/shifts/?from=garbage").context["first"] == TODAY


def test_booking_through_the_page(bob_web, bob, calendar):
    response = bob_web.post(f"/me/shifts/{calendar.pk}/book/", {"next": "/me/shifts/?from=2026-03-02"})
    assert response.status_code == 302 and response["Location"] == "/me/shifts/?from=2026-03-02"
    registration = live(calendar, bob).get()
    assert registration.kind == "one_off"
    page = bob_web.get("/me/shifts/")
    assert [r["shift"].pk for r in page.context["mine"]] == [calendar.pk]
    assert all(i["shift"].pk != calendar.pk for w in page.context["weeks"] for d in w["days"] for i in d["shifts"])


def test_next_never_leaves_the_site(bob_web, bob, calendar):
    response = bob_web.post(f"/me/shifts/{calendar.pk}/book/", {"next": "https://evil.example/"})
    assert response["Location"] == "/me/shifts/"


def test_a_refused_booking_is_a_message_not_an_error(bob_web, bob, calendar):
    for name in ("Carol", "Dan"):
        services.shift_book(shift=calendar, member=working_member(name, shift_type="ftop"), now=NOW)
    assert all(i["shift"].pk != calendar.pk for w in bob_web.get("/me/shifts/").context["weeks"] for d in w["days"] for i in d["shifts"])
    response = bob_web.post(f"/me/shifts/{calendar.pk}/book/", follow=True)
    assert response.status_code == 200
    assert messages_of(response) == ["This shift is full: pick another one, or take a shift offered on the exchange."]
    assert not live(calendar, bob).exists()


def test_a_started_shift_cannot_be_booked(bob_web, bob, calendar, clock):
    clock.set(at(WEDNESDAY, 9, 30))
    response = bob_web.post(f"/me/shifts/{calendar.pk}/book/", follow=True)
    assert messages_of(response) == ["This shift has already started."]


def test_ftop_limits_hide_what_i_may_not_book(bob_web, bob, db):
    morning = make_template("Morning", weekday=2, start=(8, 0), end=(10, 0), capacity=3)
    noon = make_template("Noon", weekday=2, start=(11, 0), end=(13, 0), capacity=3)
    evening = make_template("Evening", weekday=2, start=(17, 0), end=(19, 0), capacity=3)
    generate()
    services.shift_book(shift=shift_of(morning, WEDNESDAY), member=bob, now=NOW)
    services.shift_book(shift=shift_of(noon, WEDNESDAY), member=bob, now=NOW)
    page = bob_web.get("/me/shifts/")
    offered = [i["shift"] for w in page.context["weeks"] for d in w["days"] for i in d["shifts"]]
    assert shift_of(evening, WEDNESDAY) not in offered  # 2 a day
    assert page.context["left_out"] == {"day": 1}
    later = bob_web.get("/me/shifts/?from=2026-03-30").context["weeks"]
    assert shift_of(evening, WEDNESDAY + datetime.timedelta(days=28)) in [i["shift"] for w in later for d in w["days"] for i in d["shifts"]]
    assert "Some shifts are not shown" in page.content.decode()
    response = bob_web.post(f"/me/shifts/{shift_of(evening, WEDNESDAY).pk}/book/", follow=True)
    assert messages_of(response) == ["At most 2 shifts a day."]


def test_a_member_on_leave_is_told_why_there_is_nothing_to_book(alice_web, alice, calendar):
    services.leave_create(member=alice, start=TODAY, end=TODAY + datetime.timedelta(days=30), reason="x", today=TODAY, now=NOW)
    page = alice_web.get("/me/shifts/")
    assert page.context["weeks"] == [] and page.context["exchange"] == []
    assert "With the status “On leave” you cannot book shifts." in page.content.decode()


def test_shifts_during_a_future_leave_are_not_offered(alice_web, alice, wednesday, calendar):
    services.leave_create(member=alice, start=datetime.date(2026, 3, 3), end=datetime.date(2026, 3, 31), reason="x", today=TODAY, now=NOW)
    page = alice_web.get("/me/shifts/")
    assert page.context["weeks"] == [] and page.context["left_out"] == {"leave": 1}


def test_a_standard_member_in_debt_sees_make_ups(alice_web, alice, calendar):
    services.correction_write(member=alice, counter="standard", points=-1, reason="test", today=TODAY)
    html = alice_web.get("/me/shifts/").content.decode()
    assert "These are make-ups for you" in html


# --- cancelling, with the rule shown before -----------------------------------------------------

def test_a_booked_shift_shows_free_cancellation_until_24_hours_before(bob_web, bob, calendar):
    services.shift_book(shift=calendar, member=bob, now=NOW)
    html = bob_web.get("/me/shifts/").content.decode()
    assert "Free to cancel until Tuesday 3 March, 09:00." in html
    response = bob_web.post(f"/me/shifts/{calendar.pk}/cancel/", follow=True)
    assert messages_of(response) == ["Cancelled: Wednesday morning on 03/04/2026 at 09:00."]
    assert not live(calendar, bob).exists()
    bob.refresh_from_db()
    assert bob.counter_ftop == 0


def test_cancelling_my_regular_shift_says_it_counts_minus_one_and_does(alice_web, alice, slot):
    html = alice_web.get("/me/shifts/").content.decode()
    assert "Cancelling your regular shift now counts -1 on your counter" in html
    assert "Cancel (counts -1)" in html and "data-confirm=" in html
    alice_web.post(f"/me/shifts/{slot.pk}/cancel/")
    assert not live(slot, alice).exists()
    # Excused: -1, dated on the shift (so it counts from that day on).
    assert list(CounterEvent.objects.filter(member=alice).values_list("kind", "standard_points", "date")) == [
        ("excused_regular", -1, WEDNESDAY)]


def test_within_24_hours_the_page_says_come_and_cancelling_is_refused(alice_web, alice, slot, clock):
    clock.set(at(datetime.date(2026, 3, 3), 10))
    page = alice_web.get("/me/shifts/")
    row = page.context["mine"][0]
    assert row["open"] is False
    assert "it can no longer be cancelled or offered. Come, or you will be marked missed (2 points off your counter)." in page.content.decode()
    response = alice_web.post(f"/me/shifts/{slot.pk}/cancel/", follow=True)
    assert response.status_code == 200
    assert messages_of(response) == ["Cancelling is possible until 24 hours before the shift; later, come, swap or be marked missed."]
    assert live(slot, alice).exists()


# --- the exchange -------------------------------------------------------------------------------

def test_offer_withdraw_and_take_through_the_pages(alice_web, alice, bob_web, bob, slot):
    html = alice_web.get("/me/shifts/").content.decode()
    assert "Offer on the exchange" in html
    alice_web.post(f"/me/shifts/{slot.pk}/offer/")
    assert live(slot, alice).get().offered_at == NOW
    assert "On offer until Tuesday 3 March, 09:00: if someone takes it, you owe nothing." in alice_web.get("/me/shifts/").content.decode()

    alice_web.post(f"/me/shifts/{slot.pk}/withdraw/")
    assert live(slot, alice).get().offered_at is None
    assert bob_web.get("/me/shifts/").context["exchange"] == []

    alice_web.post(f"/me/shifts/{slot.pk}/offer/")
    exchange = bob_web.get("/me/shifts/").context["exchange"]
    assert [row["shift"].pk for row in exchange] == [slot.pk]
    response = bob_web.post(f"/me/shifts/{slot.pk}/take/", follow=True)
    assert messages_of(response) == ["Taken from the exchange: Wednesday morning on 03/04/2026 at 09:00 is now yours."]
    assert live(slot, bob).get().kind == "one_off"
    assert not live(slot, alice).exists()
    alice.refresh_from_db()
    assert alice.counter_standard == 0  # the giver owes nothing


def test_taking_a_lapsed_offer_is_a_message(alice, bob_web, bob, slot, clock):
    services.shift_offer(shift=slot, member=alice, now=NOW)
    clock.set(at(datetime.date(2026, 3, 3), 10))
    assert bob_web.get("/me/shifts/").context["exchange"] == []
    response = bob_web.post(f"/me/shifts/{slot.pk}/take/", follow=True)
    assert messages_of(response) == ["The offer lapsed 24 hours before the shift."]
    assert live(slot, alice).exists()


def test_an_offer_i_cannot_take_says_why(alice, bob_web, bob, db):
    morning = make_template("Morning", weekday=2, start=(8, 0), end=(10, 0), capacity=3)
    noon = make_template("Noon", weekday=2, start=(11, 0), end=(13, 0), capacity=3)
    evening = make_template("Evening", weekday=2, start=(17, 0), end=(19, 0), capacity=3)
    generate()
    for template in (morning, noon):
        services.shift_book(shift=shift_of(template, WEDNESDAY), member=bob, now=NOW)
    carol = working_member("Carol", shift_type="ftop")
    services.shift_book(shift=shift_of(evening, WEDNESDAY), member=carol, now=NOW)
    services.shift_offer(shift=shift_of(evening, WEDNESDAY), member=carol, now=NOW)
    page = bob_web.get("/me/shifts/")
    assert [row["limit"] for row in page.context["exchange"]] == ["day"]
    assert "You already have 2 shifts that day." in page.content.decode()


def test_the_shift_page_renders_in_french(alice_web, alice, slot):
    alice_web.cookies["django_language"] = "fr"
    response = alice_web.get("/me/shifts/", HTTP_ACCEPT_LANGUAGE="fr")
    assert response.status_code == 200
    assert 'lang="fr"' in response.content.decode()
