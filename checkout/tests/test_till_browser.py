"""The cashier screen in a real headless Chromium (Playwright), against pytest-django's live server.

A scanner is a keyboard: it types the digits and Enter into whatever has focus, so the tests type
with `page.keyboard` only, never by filling a field. Every state the cashier sees (each answer's
colour, the search, the override, offline) is checked with axe-core (WCAG 2 A/AA). Chromium, the
`open_page` fixture and `assert_no_axe_violations` come from coopmarket/tests/browser.py.

`TILL_SCREENSHOTS=1` also writes the screenshots of docs/cashier.md into docs/img/.
"""
import datetime
import os
import re
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group

from checkout.models import TillCheck
from coopmarket.tests.browser import assert_no_axe_violations, expect
from members import services as member_services
from members.models import CoopParameters, Member
from members.tests.factories import active_member

SCREENSHOTS = os.environ.get("TILL_SCREENSHOTS") == "1"
IMG = Path(__file__).resolve().parents[2] / "docs" / "img"

# Serialized rollback, like every transactional test here: the migrated rows (share classes,
# groups) are restored before each test and the flush after it sends no post_migrate.
pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


def member_in(status, *, first_name, last_name, **stored):
    member = active_member(first_name=first_name, last_name=last_name, email=f"m{Member.objects.count()}@example.org")
    Member.objects.filter(pk=member.pk).update(status=status, **stored)
    member.refresh_from_db()
    return member


@pytest.fixture
def people(db):
    return {
        "green": member_in("up_to_date", first_name="Alice", last_name="Bernard"),
        "orange": member_in("alert", first_name="Zoé", last_name="Petit", counter_standard=-2,
                            alert_deadline=datetime.date(2026, 3, 30)),
        "red": member_in("suspended", first_name="Marc", last_name="Durand", counter_standard=-4),
    }


@pytest.fixture
def cashier(db):
    user = get_user_model().objects.create_user(username="till-device", password="pass-word-123")
    user.groups.add(Group.objects.get_or_create(name="cashiers")[0])
    return user


@pytest.fixture
def open_till(open_page, cashier):
    def open_till(*, viewport=None):
        page = open_page(cashier, "/till/", viewport=viewport or {"width": 1280, "height": 860}, service_workers="allow")
        expect(page.locator("#till")).to_have_attribute("data-ready", "1")
        return page

    return open_till


def scan(page, code):
    """What a USB barcode scanner does: type the digits, then Enter, into the focused field."""
    page.keyboard.type(code, delay=5)
    page.keyboard.press("Enter")


def shot(page, name):
    if SCREENSHOTS:
        page.screenshot(path=str(IMG / f"till-{name}.png"), animations="disabled", caret="hide")


def wait_for_cards(page):
    page.wait_for_function("() => !!window.localStorage.getItem('coopmarket.till.cards')")
    expect(page.locator("#till")).to_have_attribute("data-cards-at", re.compile(r"\d{4}-\d\d-\d\dT"))


def test_scan_field_has_focus_and_each_answer_is_coloured_with_its_reasons(open_till, people):
    page = open_till()
    scan_field = page.locator("#scan")
    answer = page.locator("#answer")
    expect(scan_field).to_be_focused()
    assert_no_axe_violations(page)
    shot(page, "waiting")

    scan(page, people["green"].card_barcode)
    expect(answer).to_have_class(re.compile(r"\btill-green\b"))
    expect(page.locator("#answer-verdict")).to_have_text("May shop")
    expect(page.locator("#answer-name")).to_have_text("Alice B.")
    expect(page.locator("#answer-message")).to_have_text("Alice B. may shop.")
    expect(page.locator("#answer-reasons li")).to_have_count(0)
    expect(scan_field).to_be_focused()
    expect(scan_field).to_have_value("")
    assert_no_axe_violations(page)
    shot(page, "green")

    scan(page, people["orange"].card_barcode[1:])  # a scanner that drops the leading 0
    expect(answer).to_have_class(re.compile(r"\btill-orange\b"))
    expect(page.locator("#answer-name")).to_have_text("Zoé P.")
    expect(page.locator("#answer-reasons")).to_contain_text("Owes 2 make-up(s) before 30 March")
    expect(page.locator("#answer-message")).to_have_text("Zoé P. may shop, but owes 2 make-ups before 30 March.")
    expect(page.locator("#answer-meta")).to_contain_text("Alert")
    expect(scan_field).to_be_focused()
    assert_no_axe_violations(page)
    shot(page, "orange")

    scan(page, f"{people['red'].member_number:06d}")  # a member number typed by hand
    expect(answer).to_have_class(re.compile(r"\btill-red\b"))
    expect(page.locator("#answer-verdict")).to_have_text("May not shop")
    expect(page.locator("#answer-reasons li")).to_have_text(["Is suspended for missed shifts"])
    expect(page.locator("#answer-message")).to_contain_text("They must book and work their make-up shifts")
    expect(page.locator("#override-open")).to_have_count(0)  # hard block: the coop's default
    expect(scan_field).to_be_focused()
    assert_no_axe_violations(page)
    shot(page, "red")

    scan(page, "0420000099990")
    expect(answer).to_have_class(re.compile(r"\btill-unknown\b"))
    expect(page.locator("#answer-verdict")).to_have_text("Unknown card or member number.")
    expect(scan_field).to_be_focused()

    page.keyboard.press("Escape")
    expect(answer).to_have_class(re.compile(r"\btill-idle\b"))
    expect(scan_field).to_be_focused()

    expect(page.locator("#recent li")).to_have_count(4)
    expect(page.locator("#recent li").first).to_contain_text("0420000099990")
    assert TillCheck.objects.filter(user__username="till-device").count() == 4
    assert page.errors == []


def test_name_search_with_arrow_keys_and_enter(open_till, people):
    page = open_till()
    page.keyboard.press("F2")
    expect(page.locator("#search")).to_be_focused()
    page.keyboard.type("zoe", delay=10)
    expect(page.locator("#search-results li")).to_have_count(1)
    page.keyboard.press("Escape")
    expect(page.locator("#search")).to_have_value("")
    expect(page.locator("#scan")).to_be_focused()
    page.keyboard.press("F2")
    page.keyboard.type("ar", delay=10)  # bernARd, mARc durand
    expect(page.locator("#search-results li")).to_have_count(2)
    expect(page.locator("#search-results li.active")).to_contain_text("Alice B.")
    page.keyboard.press("ArrowDown")
    expect(page.locator("#search-results li.active")).to_contain_text("Marc D.")
    assert_no_axe_violations(page)
    shot(page, "search")
    page.keyboard.press("Enter")
    expect(page.locator("#answer")).to_have_class(re.compile(r"\btill-red\b"))
    expect(page.locator("#answer-name")).to_have_text("Marc D.")
    expect(page.locator("#search-results li")).to_have_count(0)
    expect(page.locator("#scan")).to_be_focused()
    # Letters typed in the scan field go to the name search.
    scan(page, "alice")
    expect(page.locator("#search")).to_have_value("alice")
    expect(page.locator("#search-results li")).to_have_count(1)
    page.keyboard.press("Enter")
    expect(page.locator("#answer")).to_have_class(re.compile(r"\btill-green\b"))
    expect(page.locator("#scan")).to_be_focused()
    # Each result the cashier opened is in the check log, flagged as found by the name search.
    opened = list(TillCheck.objects.order_by("id").values_list("member_id", "source"))
    assert opened == [(people["red"].pk, "search"), (people["green"].pk, "search")]
    assert page.errors == []


def test_override_asks_for_a_reason_and_is_logged_when_the_coop_allows_it(open_till, people, cashier):
    CoopParameters.objects.update_or_create(pk=1, defaults={"till_override_allowed": True})
    page = open_till()
    scan(page, people["green"].card_barcode)
    expect(page.locator("#answer")).to_have_class(re.compile(r"\btill-green\b"))
    expect(page.locator("#override-open")).to_be_hidden()
    scan(page, people["red"].card_barcode)
    expect(page.locator("#answer")).to_have_class(re.compile(r"\btill-red\b"))
    expect(page.locator("#override-open")).to_be_visible()
    page.locator("#override-open").click()
    expect(page.locator("#override-reason")).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.locator("#answer-note")).to_have_text("Say why you let this member shop.")
    page.keyboard.type("Make-up booked for Saturday")
    assert_no_axe_violations(page)
    shot(page, "override")
    page.keyboard.press("Enter")
    expect(page.locator("#answer-note")).to_have_text("Override recorded: the member may shop.")
    expect(page.locator("#scan")).to_be_focused()
    entry = TillCheck.objects.get(kind="override")
    assert (entry.user, entry.member, entry.reason) == (cashier, people["red"], "Make-up booked for Saturday")
    assert page.errors == []


def test_offline_answers_come_from_the_cached_card_list(open_till, people):
    page = open_till()
    wait_for_cards(page)
    expect(page.locator("#list-status")).to_contain_text("3 cards")
    page.route("**/api/v1/checkout/0*/", lambda route: route.abort())
    scan_field = page.locator("#scan")

    scan(page, people["green"].card_barcode)
    expect(page.locator("#answer")).to_have_class(re.compile(r"\btill-green\b"))
    expect(page.locator("#answer-name")).to_have_text("Alice B.")
    expect(page.locator("#answer-offline")).to_be_visible()
    expect(page.locator("#answer-offline")).to_contain_text("OFFLINE — list of")
    expect(scan_field).to_be_focused()

    scan(page, people["red"].card_barcode)
    expect(page.locator("#answer")).to_have_class(re.compile(r"\btill-red\b"))
    expect(page.locator("#answer-reasons li")).to_have_text(["Is suspended for missed shifts"])
    expect(page.locator("#answer-offline")).to_contain_text("OFFLINE")
    # The list's cards carry no sentence: the page writes the server's one from the reasons.
    expect(page.locator("#answer-message")).to_have_text(
        "Marc D. may not shop: is suspended for missed shifts. They must book and work their make-up shifts, or ask for an extension.")
    assert_no_axe_violations(page)
    shot(page, "offline")

    scan(page, "0420000099990")  # unknown card, offline: check by hand
    expect(page.locator("#answer")).to_have_class(re.compile(r"\btill-orange\b"))
    expect(page.locator("#answer-verdict")).to_have_text("Unknown card, offline: check by hand.")
    expect(page.locator("#answer-offline")).to_contain_text("OFFLINE")

    # Every lookup unreachable: 12-digit scans and member numbers (with or without zeros) too.
    page.route(re.compile(r"/api/v1/checkout/\d+/$"), lambda route: route.abort())
    scan(page, people["orange"].card_barcode[1:])
    expect(page.locator("#answer")).to_have_class(re.compile(r"\btill-orange\b"))
    expect(page.locator("#answer-name")).to_have_text("Zoé P.")
    expect(page.locator("#answer-offline")).to_be_visible()
    expect(page.locator("#answer-message")).to_have_text("Zoé P. may shop, but owes 2 make-ups before 30 March.")
    for code in (str(people["red"].member_number), f"{people['red'].member_number:08d}"):
        scan(page, code)
        expect(page.locator("#answer-name")).to_have_text("Marc D.")
        expect(page.locator("#answer-offline")).to_be_visible()
    # The server comes back: answers are live again.
    page.unroute("**/api/v1/checkout/0*/")
    page.unroute(re.compile(r"/api/v1/checkout/\d+/$"))
    scan(page, people["green"].card_barcode)
    expect(page.locator("#answer-name")).to_have_text("Alice B.")
    expect(page.locator("#answer-offline")).to_be_hidden()
    # The six answers given offline reach the check log, flagged offline, with their own time.
    expect(page.locator("#till")).to_have_attribute("data-pending", "0")
    offline = TillCheck.objects.filter(offline=True).order_by("checked_at")
    assert offline.count() == 6
    assert [c.member_id for c in offline[:2]] == [people["green"].pk, people["red"].pk]
    assert offline[2].member_id is None and offline[2].code == "0420000099990"
    assert all(c.checked_at < c.received_at for c in offline)
    assert page.errors == []


def test_the_list_is_refreshed_by_changes_only_and_an_unchanged_list_costs_a_304(open_till, people):
    page = open_till()
    wait_for_cards(page)
    first_at = page.locator("#till").get_attribute("data-cards-at")
    answers = []
    page.on("response", lambda r: answers.append(r) if "/api/v1/checkout/cards/" in r.url else None)
    page.reload()  # the stored list is sent back with If-None-Match and ?since=
    expect(page.locator("#till")).to_have_attribute("data-ready", "1")
    page.wait_for_function("() => document.getElementById('till').dataset.cardsChecked")
    assert [r.status for r in answers] == [304]
    assert "since=" in answers[0].url and answers[0].request.headers.get("if-none-match", "").startswith('"')

    Member.objects.filter(pk=people["green"].pk).update(blocked_reason="Left a trolley in the street")
    gone = people["orange"]
    member_services.member_leave(member=gone, reason="Moved away", today=datetime.date.today())
    answers.clear()
    page.reload()
    page.wait_for_function(f"() => document.getElementById('till').dataset.cardsAt !== {first_at!r}")
    assert [r.status for r in answers] == [200]
    delta = answers[0].json()
    assert delta["full"] is False
    assert [card["card_barcode"] for card in delta["cards"]] == [people["green"].card_barcode]
    assert delta["removed"] == [gone.card_barcode]
    page.route("**/api/v1/checkout/0*/", lambda route: route.abort())  # the server is gone
    scan(page, people["green"].card_barcode)
    expect(page.locator("#answer")).to_have_class(re.compile(r"\btill-red\b"))
    expect(page.locator("#answer-offline")).to_contain_text("OFFLINE")
    scan(page, gone.card_barcode)
    expect(page.locator("#answer-verdict")).to_have_text("Unknown card, offline: check by hand.")
    scan(page, people["red"].card_barcode)  # kept from the first download
    expect(page.locator("#answer-name")).to_have_text("Marc D.")
    assert page.errors == []


def test_a_reload_while_offline_still_opens_the_till(open_till, people):
    page = open_till()
    wait_for_cards(page)
    page.wait_for_function("() => navigator.serviceWorker && navigator.serviceWorker.ready.then(() => true)")
    page.reload()  # now controlled by the service worker, which keeps the page and its files
    page.wait_for_function("() => !!navigator.serviceWorker.controller")
    page.context.set_offline(True)
    try:
        page.reload()
        expect(page.locator("#till")).to_have_attribute("data-ready", "1")
        expect(page.locator("#scan")).to_be_focused()
        scan(page, people["orange"].card_barcode)
        expect(page.locator("#answer")).to_have_class(re.compile(r"\btill-orange\b"))
        expect(page.locator("#answer-offline")).to_contain_text("OFFLINE")
    finally:
        page.context.set_offline(False)


def test_the_till_fits_a_tablet(open_till, people):
    page = open_till(viewport={"width": 800, "height": 1280})
    scan(page, people["orange"].card_barcode)
    expect(page.locator("#answer")).to_have_class(re.compile(r"\btill-orange\b"))
    width = page.evaluate("() => document.documentElement.scrollWidth")
    assert width <= 800
    assert_no_axe_violations(page)
    shot(page, "tablet")


def test_associate_card_is_flagged(open_till, people):
    associate = member_services.associate_add(member=people["green"], first_name="Léa", last_name="Bernard")
    page = open_till()
    scan(page, associate.card_barcode)
    expect(page.locator("#answer")).to_have_class(re.compile(r"\btill-green\b"))
    expect(page.locator("#answer-name")).to_have_text("Léa B.")
    expect(page.locator("#answer-meta")).to_contain_text(f"Household associate of member {people['green'].member_number:06d}")


def test_signing_out_wipes_the_card_list_and_the_till_caches(open_till, people):
    """DOMAIN.md §6: the offline list is wiped from the device at sign-out (issue 11)."""
    page = open_till()
    wait_for_cards(page)
    page.wait_for_function("async () => (await caches.keys()).some((name) => name.startsWith('till-'))", timeout=15_000)
    page.get_by_role("button", name="Sign out").click()
    page.wait_for_url(re.compile(r"/accounts/login/"))
    assert page.evaluate("() => window.localStorage.getItem('coopmarket.till.cards')") is None
    assert page.evaluate("async () => (await caches.keys()).filter((name) => name.startsWith('till-'))") == []
    assert page.evaluate("async () => (await navigator.serviceWorker.getRegistrations()).length") == 0


def test_a_list_kept_for_another_account_is_dropped(open_till, people, live_server):
    """Another account opening the till never reads the list a previous account fetched."""
    page = open_till()
    wait_for_cards(page)
    page.evaluate("() => { const s = JSON.parse(localStorage.getItem('coopmarket.till.cards')); s.user = 'someone-else';"
                  " s.cards = []; localStorage.setItem('coopmarket.till.cards', JSON.stringify(s)); }")
    page.context.route("**/api/v1/checkout/cards/", lambda route: route.abort())  # no fresh list this time
    page.reload()
    expect(page.locator("#till")).to_have_attribute("data-ready", "1")
    expect(page.locator("#list-status")).to_have_text("No offline list on this device yet")
    assert page.evaluate("() => window.localStorage.getItem('coopmarket.till.cards')") is None
