"""A trained shift leader books the leader seat from their page in a real headless Chromium, and the
coordinators' calendar stops flagging the shift "no leader" (issue 14). Every page seen is checked
with axe-core (WCAG 2 A/AA), after the booking too.

Chromium, `open_page` and `assert_no_axe_violations` come from coopmarket/tests/browser.py. Dates
follow the real clock (the live server's pages read it): the shift is two days ahead, within the 3
days of the "no leader" flag.
"""
import datetime

import pytest

from coopmarket.dates import coop_today
from coopmarket.tests.browser import assert_no_axe_violations, expect
from members import qualifications as quals
from members.models import Member
from members.tests.factories import active_member, qualification
from shifts import services
from shifts.models import Registration, Shift

from .test_shift_browser import make_user, migrated_rows, template_on  # noqa: F401 (migrated_rows: a fixture)

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


def test_a_leader_books_the_leader_seat_and_no_leader_disappears_from_the_calendar(open_page, migrated_rows):  # noqa: F811
    today = coop_today()
    day = today + datetime.timedelta(days=2)
    leader = qualification("leader", "Shift leader")
    template = template_on(day, name="Caisse", capacity=4)
    services.template_requirements_set(template=template, requirements=[(leader, 1)], now=services.local_datetime(today, datetime.time()))
    services.shifts_generate(start=day, end=day)
    shift = Shift.objects.get(template=template, date=day)
    lea_user = make_user("lea")
    lea = active_member(today=today - datetime.timedelta(days=30), first_name="Léa", last_name="Martin", email="lea@example.org",
                        shift_type=Member.ShiftType.FTOP)
    quals.member_qualification_grant(member=lea, qualification=leader, since=today - datetime.timedelta(days=10), today=today)
    Member.objects.filter(pk=lea.pk).update(user=lea_user)

    coordinator = make_user("coord", "coordinators")
    office = open_page(coordinator, f"/shifts/?date={day:%Y-%m-%d}")
    chip = office.locator(f'[data-shift="{shift.pk}"]')
    expect(chip.locator(".no-leader")).to_have_text("No shift leader")
    assert_no_axe_violations(office)

    page = open_page(lea_user, f"/me/shifts/?from={day:%Y-%m-%d}")
    form = page.locator(f'form[action="/me/shifts/{shift.pk}/book/"]')
    item = page.locator("li", has=form)
    expect(item).to_contain_text("You would take a Shift leader seat: you are trained for it and one is free.")
    expect(item.locator(".no-leader")).to_have_count(1)
    expect(form.locator("select[name=seat]")).to_have_value("leader")
    assert_no_axe_violations(page)
    with page.expect_navigation():
        form.get_by_role("button", name="Book").click()
    expect(page.locator("#mine")).to_contain_text("seat: Shift leader")
    assert_no_axe_violations(page)
    registration = Registration.objects.get(shift=shift, member=lea, cancelled_at__isnull=True)
    assert registration.seat == leader
    assert page.errors == []

    # The calendar again (a new sign-in: the test client signed Léa in meanwhile).
    office = open_page(coordinator, f"/shifts/?date={day:%Y-%m-%d}")
    chip = office.locator(f'[data-shift="{shift.pk}"]')
    expect(chip).to_be_visible()
    expect(chip.locator(".no-leader")).to_have_count(0)
    expect(chip).to_contain_text("1/4")
    assert_no_axe_violations(office)
    assert office.errors == []
