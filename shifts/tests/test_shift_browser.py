"""The coordination team's shift pages in a real headless Chromium (Playwright), against
pytest-django's live server: a coordinator records the attendance of a past shift with the form
and the counters change; a member books a shift from their own page. Every page they see is
checked with axe-core (WCAG 2 A/AA), after each action too.

Chromium, the `open_page` fixture and `assert_no_axe_violations` come from
coopmarket/tests/browser.py. Dates follow the real clock (the live server's pages read it): the
past shift is a week ago, the bookable one a week ahead.
"""
import datetime
import importlib
import re

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.utils import timezone

from coopmarket.dates import coop_today
from coopmarket.tests.browser import assert_no_axe_violations, expect
from members.models import Member
from members.tests.factories import active_member
from shifts import cycle, services
from shifts.models import Registration, Shift

pytestmark = [
    pytest.mark.browser,
    # Serialized rollback, like the other transactional tests: the migrated rows are restored before
    # each test, and the flush after it sends no post_migrate (whose groups would collide with the
    # next test's restore).
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


@pytest.fixture
def migrated_rows(db):
    """Rows the migrations write (share classes, groups), in case an earlier transactional test
    flushed them without a serialized rollback (idempotent)."""
    from django.apps import apps

    importlib.import_module("members.migrations.0002_roles_and_share_classes").create_share_classes(apps, None)
    for name in ("coordinators", "cashiers", "supply"):
        Group.objects.get_or_create(name=name)


def make_user(username, *groups):
    user = get_user_model().objects.create_user(username=username, password="pass-word-123")
    for name in groups:
        user.groups.add(Group.objects.get(name=name))
    return user


def template_on(day: datetime.date, *, name: str, capacity: int = 4):
    """A template on the week letter and weekday of `day`, 09:00-12:00."""
    return services.template_create(
        name=name, week=cycle.week_letter(day, settings.COOP_CYCLE_START), weekday=day.weekday(),
        start_time=datetime.time(9), end_time=datetime.time(12), capacity=capacity,
    )


@pytest.fixture
def past_shift(migrated_rows):
    """A shift a week ago with Alice (standard, her regular slot) and Bob (FTOP, a make-up the
    office registered after the fact), nothing recorded yet."""
    today = coop_today()
    day = today - datetime.timedelta(days=7)
    alice = active_member(today=day - datetime.timedelta(days=30), first_name="Alice", last_name="Martin", email="alice@example.org")
    bob = active_member(today=day - datetime.timedelta(days=30), first_name="Bob", last_name="Durand", email="bob@example.org",
                        shift_type=Member.ShiftType.FTOP)
    template = template_on(day, name="Shelving")
    services.slot_assign(template=template, member=alice, start_date=day - datetime.timedelta(days=1), today=today)
    services.shifts_generate(start=day, end=day)
    shift = Shift.objects.get(template=template, date=day)
    services.shift_book(shift=shift, member=bob, now=timezone.now(), as_coordinator=True)
    assert set(shift.registrations.values_list("member__first_name", "kind")) == {("Alice", "regular"), ("Bob", "one_off")}
    return shift, Member.objects.get(pk=alice.pk), Member.objects.get(pk=bob.pk)


def test_a_coordinator_records_a_past_shifts_attendance_and_the_counters_change(open_page, past_shift):
    shift, alice, bob = past_shift
    coordinator = make_user("coord", "coordinators")
    page = open_page(coordinator, "/shifts/")
    assert_no_axe_violations(page)
    # From the cycle calendar to the shift: last week may be in the previous cycle.
    chip = page.locator(f'[data-shift="{shift.pk}"]')
    if chip.count() == 0:
        page.locator("#previous-cycle").click()
    expect(chip).to_contain_text("2/4")
    chip.click()
    expect(page).to_have_url(re.compile(rf"/shifts/{shift.pk}/$"))
    expect(page.locator("h1")).to_have_text("Shelving")
    expect(page.locator("#seats")).to_contain_text("2 / 4 places taken")
    assert_no_axe_violations(page)

    alice_row = page.locator("tr", has_text="Alice Martin")
    bob_row = page.locator("tr", has_text="Bob Durand")
    expect(alice_row).to_contain_text("Regular")
    expect(bob_row).to_contain_text("One-off")
    alice_row.get_by_text("Missed", exact=True).click()
    page.get_by_role("button", name="Everyone not recorded: attended").click()  # Bob
    expect(bob_row.locator("input[value=attended]")).to_be_checked()
    expect(alice_row.locator("input[value=missed]")).to_be_checked()
    with page.expect_navigation():
        page.get_by_role("button", name="Save attendance").click()

    expect(page.locator(".alert-success")).to_have_text("Attendance recorded for 2 members.")
    expect(page.locator("#attendance-form")).to_contain_text("2 of 2 recorded.")
    expect(alice_row.locator("input[value=missed]")).to_be_checked()
    expect(alice_row).to_contain_text("owes 2 make-ups")
    assert_no_axe_violations(page)  # with the success message
    alice, bob = Member.objects.get(pk=alice.pk), Member.objects.get(pk=bob.pk)
    assert (alice.counter_standard, alice.status) == (-2, "alert")
    assert bob.counter_ftop == 1
    assert set(Registration.objects.filter(shift=shift).values_list("member__first_name", "attendance")) == {
        ("Alice", "missed"), ("Bob", "attended"),
    }

    # Why is Alice in alert? Her timeline says it in one look.
    alice_row.get_by_role("link", name="owes 2 make-ups").click()
    expect(page.locator("#why-sentence")).to_contain_text("In alert: owes 2 make-ups")
    first_event = page.locator("#timeline tbody tr[data-kind=event]").first
    expect(first_event).to_contain_text("Missed own regular shift")
    expect(first_event).to_contain_text("Shelving")
    expect(page.locator("#total-standard")).to_have_text("-2")
    assert_no_axe_violations(page)
    assert page.errors == []


def test_a_refused_row_saves_nothing_and_says_why(open_page, past_shift):
    """A shift running now: "missed" is refused until it ends, and the other rows are not saved."""
    _shift, alice, bob = past_shift
    now = timezone.localtime(timezone.now(), services.coop_zone())
    running = Shift.objects.create(
        name="Running", date=now.date(), week=cycle.week_letter(now.date(), settings.COOP_CYCLE_START), capacity=3,
        start=now - datetime.timedelta(minutes=30), end=now + datetime.timedelta(hours=2),
    )
    for member in (alice, bob):
        services.shift_book(shift=running, member=member, now=timezone.now(), as_coordinator=True)
    page = open_page(make_user("coord", "coordinators"), f"/shifts/{running.pk}/")
    page.locator("tr", has_text="Alice Martin").get_by_text("Attended", exact=True).click()
    page.locator("tr", has_text="Bob Durand").get_by_text("Missed", exact=True).click()
    page.get_by_role("button", name="Save attendance").click()
    expect(page.locator("[data-error]")).to_contain_text("Nothing was saved: “Missed” can be recorded only once the shift has ended")
    expect(page.locator("tr.table-danger")).to_contain_text("Bob Durand")
    assert_no_axe_violations(page)  # with the error and the refused row
    assert not Registration.objects.filter(shift=running, attendance__isnull=False).exists()
    assert page.errors == []


def test_a_member_books_a_shift_on_their_page_and_the_office_sees_it(open_page, migrated_rows):
    today = coop_today()
    day = today + datetime.timedelta(days=7)
    template = template_on(day, name="Cashier")
    services.shifts_generate(start=day, end=day)
    shift = Shift.objects.get(template=template, date=day)
    bob_user = make_user("bob")
    bob = active_member(today=today - datetime.timedelta(days=30), first_name="Bob", last_name="Durand",
                        email="bob@example.org", shift_type=Member.ShiftType.FTOP)
    Member.objects.filter(pk=bob.pk).update(user=bob_user)

    page = open_page(bob_user, f"/me/shifts/?from={day:%Y-%m-%d}")
    assert_no_axe_violations(page)
    with page.expect_navigation():
        page.locator(f'form[action="/me/shifts/{shift.pk}/book/"] button').click()
    expect(page.locator(".alert-success")).to_contain_text("Booked: Cashier")
    assert_no_axe_violations(page)
    assert Registration.objects.filter(shift=shift, member=bob, cancelled_at__isnull=True).exists()
    assert page.errors == []

    office = open_page(make_user("coord", "coordinators"), f"/shifts/{shift.pk}/")
    expect(office.locator("#seats")).to_contain_text("1 / 4 places taken")
    expect(office.locator("tr", has_text="Bob Durand")).to_contain_text("One-off")
    assert office.errors == []
