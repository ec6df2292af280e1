"""Messages to members: each kind sent when it should, once (logged), and never breaking the action
that caused it. Django's locmem backend collects the e-mails (`mailoutbox`); tasks run eagerly.

The clock: NOW = Monday 2026-03-02 09:00 Paris; the Wednesday shift (capacity 2) is on 2026-03-04
09:00-12:00.
"""
from __future__ import annotations

import datetime

import pytest
from django.core.management import call_command
from django.test import Client

from members.models import Member
from shifts import notifications, services, tasks
from shifts.models import NotificationLog, NotificationPreference, Registration, StatusChange

from .conftest import NOW, TODAY, at, generate, shift_of, working_member

pytestmark = pytest.mark.django_db

WEDNESDAY = datetime.date(2026, 3, 4)


@pytest.fixture(autouse=True)
def page_clock(monkeypatch, clock):
    """The pages and the notification tasks read the pinned clock (`clock.set` moves it)."""
    for module in ("shifts.views_member", "shifts.tasks"):
        monkeypatch.setattr(f"{module}.clock_now", lambda: clock.now)
        monkeypatch.setattr(f"{module}.clock_today", lambda: clock.today)
    return clock


@pytest.fixture
def slot(alice, wednesday):
    services.slot_assign(template=wednesday, member=alice, start_date=TODAY, today=TODAY)
    generate()
    return shift_of(wednesday, WEDNESDAY)


def logged(member=None) -> list[tuple[str, str]]:
    rows = NotificationLog.objects.all() if member is None else NotificationLog.objects.filter(member=member)
    return sorted(rows.values_list("kind", "key"))


def web(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


# --- booking confirmation -----------------------------------------------------------------------

def test_booking_through_the_page_sends_one_confirmation(bob, bob_user, calendar, mailoutbox, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        assert web(bob_user).post(f"/me/shifts/{calendar.pk}/book/").status_code == 302
    registration = Registration.objects.get(shift=calendar, member=bob)
    [message] = mailoutbox
    assert message.to == ["bob@example.org"]
    assert message.subject == "Shift booked: Wednesday 4 March at 09:00 · Coopmarket"
    assert "Wednesday morning, Wednesday 4 March 2026, 09:00-12:00 (week A)" in message.body
    assert "You can cancel it for free until Tuesday 3 March, 09:00 (24 hours before it starts)" in message.body
    assert "https://testserver/me/shifts/" in message.body
    assert message.extra_headers["Auto-Submitted"] == "auto-generated"
    assert logged(bob) == [("booking", f"registration-{registration.pk}")]
    assert tasks.notify_booking.delay(registration.pk, NOW.isoformat()).get() is False  # a retry sends nothing
    assert len(mailoutbox) == 1


def test_a_confirmation_queued_before_the_shift_but_run_after_its_start_is_dropped(
    bob, calendar, clock, mailoutbox, django_capture_on_commit_callbacks,
):
    with notifications.muted():
        registration = services.shift_book(shift=calendar, member=bob, now=NOW)
    clock.set(at(WEDNESDAY, 9, 30))  # a worker that was down until then
    assert tasks.notify_booking.delay(registration.pk).get() is False
    assert mailoutbox == []


def test_no_missed_notice_from_a_late_close_of_old_shifts(bob, calendar, clock, mailoutbox, django_capture_on_commit_callbacks):
    services.shift_book(shift=calendar, member=bob, now=NOW)
    clock.set(at(datetime.date(2026, 3, 20), 1))  # close_shifts did not run for two weeks
    with django_capture_on_commit_callbacks(execute=True):
        services.shifts_close(today=datetime.date(2026, 3, 20))
    assert Registration.objects.get(shift=calendar, member=bob).attendance == "missed"
    assert mailoutbox == []


def test_no_confirmation_for_a_cancelled_booking_or_a_shift_that_started(bob, calendar, mailoutbox):
    registration = services.shift_book(shift=calendar, member=bob, now=NOW)
    assert notifications.booking_confirm(registration_id=registration.pk, now=at(WEDNESDAY, 10)) is False
    services.registration_cancel(shift=calendar, member=bob, now=NOW, today=TODAY)
    assert notifications.booking_confirm(registration_id=registration.pk, now=NOW) is False
    assert mailoutbox == [] and logged() == []


def test_muted_hooks_queue_nothing(bob, calendar, mailoutbox, django_capture_on_commit_callbacks):
    with notifications.muted(), django_capture_on_commit_callbacks(execute=True):
        services.shift_book(shift=calendar, member=bob, now=NOW)
    assert mailoutbox == [] and logged() == []


def test_a_failing_mail_server_never_breaks_the_booking(bob, bob_user, calendar, mailoutbox, monkeypatch,
                                                        django_capture_on_commit_callbacks):
    def refuse(self, *args, **kwargs):
        raise ConnectionRefusedError("smtp down")

    monkeypatch.setattr("django.core.mail.EmailMessage.send", refuse)
    with django_capture_on_commit_callbacks(execute=True):
        response = web(bob_user).post(f"/me/shifts/{calendar.pk}/book/", follow=True)
    assert response.status_code == 200
    assert Registration.objects.filter(shift=calendar, member=bob, cancelled_at__isnull=True).exists()
    assert logged() == []  # not sent, so not logged: a later retry may send it


# --- reminders ----------------------------------------------------------------------------------

def test_reminders_go_two_days_before_once(alice, slot, mailoutbox):
    assert tasks.send_shift_reminders.delay("2026-03-01").get() == 0  # three days before: not yet
    assert tasks.send_shift_reminders.delay("2026-03-02").get() == 1
    [message] = mailoutbox
    assert message.subject == "Reminder: your shift on Wednesday 4 March at 09:00 · Coopmarket"
    assert "It is your regular shift. If you cannot come, offer it on the exchange before Tuesday 3 March, 09:00" in message.body
    registration = Registration.objects.get(shift=slot, member=alice)
    assert logged(alice) == [("reminder", f"registration-{registration.pk}")]
    assert tasks.send_shift_reminders.delay("2026-03-02").get() == 0
    assert tasks.send_shift_reminders.delay("2026-03-03").get() == 0  # the same shift, one day later
    assert len(mailoutbox) == 1


def test_reminders_follow_the_setting(alice, slot, settings, mailoutbox):
    settings.COOP_REMINDER_DAYS = 1
    assert notifications.reminders_send(today=TODAY, now=NOW) == 0
    assert notifications.reminders_send(today=datetime.date(2026, 3, 3), now=at(datetime.date(2026, 3, 3), 8)) == 1


def test_a_member_can_switch_reminders_off(alice, alice_user, slot, mailoutbox):
    assert web(alice_user).post("/me/notifications/", {"understaffed_calls": "on"}).status_code == 302
    assert NotificationPreference.objects.get(member=alice).reminders is False
    assert notifications.reminders_send(today=TODAY, now=NOW) == 0
    assert mailoutbox == []


def test_a_booking_made_within_the_reminder_window_is_not_reminded(bob, calendar, mailoutbox):
    services.shift_book(shift=calendar, member=bob, now=NOW)  # the confirmation says it all
    assert notifications.reminders_send(today=TODAY, now=NOW) == 0


def test_members_who_left_get_nothing(alice, slot, mailoutbox):
    Member.objects.filter(pk=alice.pk).update(membership=Member.Membership.LEFT)
    assert notifications.reminders_send(today=TODAY, now=NOW) == 0
    assert mailoutbox == [] and logged() == []


# --- missed shifts, alert and suspension --------------------------------------------------------

def test_a_missed_shift_notice_says_what_it_cost_and_what_to_do(alice, slot, coordinator, clock, mailoutbox,
                                                               django_capture_on_commit_callbacks):
    clock.set(at(WEDNESDAY, 13))
    with django_capture_on_commit_callbacks(execute=True):
        services.attendance_record(shift=slot, member=alice, state="missed", now=at(WEDNESDAY, 13), today=WEDNESDAY, by=coordinator)
    alice.refresh_from_db()
    assert alice.status == "alert" and alice.makeups_owed == 2
    [message] = mailoutbox
    assert message.subject == "Missed shift on Wednesday 4 March: what to do · Coopmarket"
    assert "This costs 2 points on your counter. You now owe 2 make-up shifts." in message.body
    assert "Book a make-up shift now: https://testserver/me/shifts/" in message.body
    assert "Do your make-ups before Wednesday 1 April 2026." in message.body
    assert "tell the coordination team: they can correct the attendance or excuse you" in message.body
    change = StatusChange.objects.get(member=alice, to_status="alert")
    registration = Registration.objects.get(shift=slot, member=alice)
    assert logged(alice) == [("alert", f"statuschange-{change.pk}"), ("missed", f"registration-{registration.pk}")]
    # The daily job does not announce the alert again: the missed-shift notice did.
    assert tasks.send_status_notices.delay("2026-03-04").get() == 0
    assert len(mailoutbox) == 1


def test_close_shifts_sends_the_missed_notices(bob, calendar, clock, mailoutbox, django_capture_on_commit_callbacks):
    services.shift_book(shift=calendar, member=bob, now=NOW)
    clock.set(at(datetime.date(2026, 3, 5), 1))
    with django_capture_on_commit_callbacks(execute=True):
        services.shifts_close(today=datetime.date(2026, 3, 5))
    [message] = mailoutbox
    assert message.to == ["bob@example.org"] and "This costs 1 point on your counter." in message.body
    with django_capture_on_commit_callbacks(execute=True):
        services.shifts_close(today=datetime.date(2026, 3, 5))
    assert len(mailoutbox) == 1


def test_no_missed_notice_for_an_old_shift_or_an_attended_one(alice, slot, mailoutbox):
    services.attendance_record(shift=slot, member=alice, state="missed", now=at(WEDNESDAY, 13), today=WEDNESDAY)
    registration = Registration.objects.get(shift=slot, member=alice)
    assert notifications.missed_notice(registration_id=registration.pk, today=datetime.date(2026, 3, 20)) is False
    services.attendance_record(shift=slot, member=alice, state="attended", now=at(WEDNESDAY, 13), today=WEDNESDAY)
    assert notifications.missed_notice(registration_id=registration.pk, today=WEDNESDAY) is False
    assert mailoutbox == []


def test_alert_then_suspension_notices_from_the_daily_jobs(alice, slot, mailoutbox):
    services.correction_write(member=alice, counter="standard", points=-1, reason="test", today=TODAY)
    assert tasks.send_status_notices.delay("2026-03-02").get() == 1
    [alert] = mailoutbox
    assert alert.subject == "Alert: make-up shifts to do · Coopmarket"
    assert "you owe 1 make-up shift." in alert.body
    assert "Do your make-ups before Monday 30 March 2026. Until then you may still shop" in alert.body
    assert tasks.send_status_notices.delay("2026-03-03").get() == 0
    deadline = datetime.date(2026, 3, 30)
    services.statuses_update(today=deadline)
    alice.refresh_from_db()
    assert alice.status == "suspended"
    assert tasks.send_status_notices.delay(deadline.isoformat()).get() == 1
    suspended = mailoutbox[-1]
    assert suspended.subject == "Suspended: shopping paused until your make-ups are done · Coopmarket"
    assert "you still owe 1 make-up shift: you are suspended" in suspended.body
    assert [kind for kind, _key in logged(alice)] == ["alert", "suspended"]
    assert tasks.send_status_notices.delay(deadline.isoformat()).get() == 0


def test_no_status_notice_once_the_member_is_back_in_good_standing(alice, slot, mailoutbox):
    services.correction_write(member=alice, counter="standard", points=-1, reason="test", today=TODAY)
    services.correction_write(member=alice, counter="standard", points=1, reason="paid back", today=TODAY)
    assert notifications.status_notices_send(today=TODAY) == 0
    assert mailoutbox == []


# --- the exchange -------------------------------------------------------------------------------

def test_the_giver_hears_their_shift_was_taken_and_the_taker_gets_a_confirmation(
    alice, bob, bob_user, slot, mailoutbox, django_capture_on_commit_callbacks,
):
    services.shift_offer(shift=slot, member=alice, now=NOW)
    with django_capture_on_commit_callbacks(execute=True):
        assert web(bob_user).post(f"/me/shifts/{slot.pk}/take/").status_code == 302
    given = Registration.objects.get(shift=slot, member=alice)
    taken = Registration.objects.get(shift=slot, member=bob)
    by_recipient = {m.to[0]: m for m in mailoutbox}
    assert set(by_recipient) == {"alice@example.org", "bob@example.org"}
    giver = by_recipient["alice@example.org"]
    assert giver.subject == "Your shift on Wednesday 4 March was taken on the exchange · Coopmarket"
    assert "Bob T. took the shift you offered on the exchange" in giver.body
    assert "you owe nothing for it" in giver.body and "Your regular slot does not change" in giver.body
    assert by_recipient["bob@example.org"].subject.startswith("Shift booked:")
    assert logged() == sorted([("exchange_taken", f"registration-{given.pk}"), ("booking", f"registration-{taken.pk}")])


# --- understaffed shifts ------------------------------------------------------------------------

def test_ftop_members_are_called_to_understaffed_shifts_once(alice, bob, wednesday, calendar, mailoutbox):
    carol = working_member("Carol", shift_type="ftop")
    services.shift_book(shift=calendar, member=carol, now=NOW)  # 1 of 2 seats: not under 50 %
    assert notifications.understaffed_calls_send(today=TODAY, now=NOW) == 0
    services.registration_cancel(shift=calendar, member=carol, now=NOW, today=TODAY)
    assert tasks.send_understaffed_calls.delay("2026-03-02").get() == 2  # Bob and Carol, not Alice (standard)
    assert sorted(m.to[0] for m in mailoutbox) == ["bob@example.org", "carol@example.org"]
    message = mailoutbox[0]
    assert message.subject == "A shift needs you in the coming days · Coopmarket"
    assert "Wednesday morning, Wednesday 4 March 2026, 09:00-12:00 (week A) · 2 free seats" in message.body
    assert ("understaffed", f"shift-{calendar.pk}") in logged(bob)
    assert tasks.send_understaffed_calls.delay("2026-03-02").get() == 0
    assert tasks.send_understaffed_calls.delay("2026-03-03").get() == 0  # the same shift is not announced twice
    assert len(mailoutbox) == 2


def test_understaffed_calls_respect_preferences_bookings_and_the_horizon(bob, wednesday, calendar, mailoutbox):
    assert notifications.understaffed_calls_send(today=datetime.date(2026, 2, 27), now=at(datetime.date(2026, 2, 27), 8)) == 0
    NotificationPreference.objects.create(member=bob, understaffed_calls=False)
    assert notifications.understaffed_calls_send(today=TODAY, now=NOW) == 0
    NotificationPreference.objects.filter(member=bob).update(understaffed_calls=True)
    services.shift_book(shift=calendar, member=bob, now=NOW)
    assert notifications.understaffed_calls_send(today=TODAY, now=NOW) == 0
    assert mailoutbox == []


# --- the daily command and the beat -------------------------------------------------------------

def test_send_reminders_command_runs_the_daily_messages(alice, bob, slot, mailoutbox, capsys):
    call_command("send_reminders", "--today", "2026-03-02")
    out = capsys.readouterr().out
    assert out.strip() == "send_reminders as of 2026-03-02: reminders: 1 sent, status: 0 sent, understaffed: 0 sent"  # Alice fills half the shift
    call_command("send_reminders", "--today", "2026-03-02")
    assert "reminders: 0 sent, status: 0 sent, understaffed: 0 sent" in capsys.readouterr().out
    call_command("send_reminders", "--today", "2026-03-02", "--only", "reminders")
    assert capsys.readouterr().out.strip() == "send_reminders as of 2026-03-02: reminders: 0 sent"
    assert len(mailoutbox) == 1 and NotificationLog.objects.count() == 1


def test_the_daily_messages_are_on_the_beat_after_the_status_update():
    from celery.schedules import crontab

    from coopmarket.celery import app

    entries = {entry["task"]: entry["schedule"] for entry in app.conf.beat_schedule.values()}
    names = ["shifts.tasks.send_status_notices", "shifts.tasks.send_shift_reminders", "shifts.tasks.send_understaffed_calls"]
    assert all(name in entries and name in app.tasks for name in names)
    update = entries["shifts.tasks.update_statuses_task"]
    for name in names:
        assert isinstance(entries[name], crontab)
        assert (min(entries[name].hour), min(entries[name].minute)) > (min(update.hour), min(update.minute))
