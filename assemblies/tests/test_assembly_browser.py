"""An assembly evening in a real headless Chromium (Playwright) against pytest-django's live server:
the desk signs members in with a scanner (card, 12-digit scan, member number typed, name search),
the bureau opens a vote, a member votes from their phone for themself and the proxy they carry,
and the room's screen shows the result when the bureau closes the vote.

The scanner is a keyboard: the test types with `page.keyboard` only. Needs Debian's `chromium`
and Playwright for Python; skipped with the reason otherwise. `ASSEMBLY_SCREENSHOTS=1` also writes
the desk, phone and screen pictures of docs/bureau.md into docs/img/.
"""
import os
import re
import shutil
from pathlib import Path

import pytest
from django.conf import settings
from django.test import Client

from assemblies import services
from assemblies.models import Resolution, VotedMark
from coopmarket.tests.browser import CHROMIUM_ARGS, assert_no_axe_violations, expect, sync_playwright

from .conftest import EVENING, convene, give, make_user, new_assembly, voter

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
SCREENSHOTS = os.environ.get("ASSEMBLY_SCREENSHOTS") == "1"
IMG = Path(__file__).resolve().parents[2] / "docs" / "img"

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
]


@pytest.fixture(scope="module")
def chromium():
    from django.middleware.security import SecurityMiddleware

    # The live server speaks plain HTTP: SecurityMiddleware's redirect is off while these run.
    with pytest.MonkeyPatch.context() as patch, sync_playwright() as playwright:
        patch.setattr(SecurityMiddleware, "process_request", lambda self, request: None)
        patch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def evening(settings, clock, migrated_rows):
    """The migrated rows back (conftest), plain HTTP cookies, the clock at the assembly."""
    settings.SESSION_COOKIE_SECURE = settings.CSRF_COOKIE_SECURE = False
    settings.ALLOWED_HOSTS = ["localhost", "127.0.0.1", "testserver"]
    clock.set(EVENING)
    return clock


@pytest.fixture
def open_as(chromium, live_server):
    contexts = []

    def open_as(user, path, *, phone=False):
        client = Client()  # one session per page: logging another user in must not end this one
        client.force_login(user)
        context = chromium.new_context(
            locale="en-GB", viewport={"width": 390, "height": 844} if phone else {"width": 1280, "height": 860},
            is_mobile=phone, has_touch=phone)
        context.add_cookies([{"name": settings.SESSION_COOKIE_NAME, "value": client.cookies[settings.SESSION_COOKIE_NAME].value,
                              "url": live_server.url}])
        contexts.append(context)
        page = context.new_page()
        page.errors = []
        page.on("pageerror", lambda error: page.errors.append(str(error)))
        assert page.goto(f"{live_server.url}{path}").status == 200
        return page

    yield open_as
    for context in contexts:
        context.close()


def scan(page, code):
    page.keyboard.type(code, delay=5)
    page.keyboard.press("Enter")


def shot(page, name, full_page=False):
    """A picture for the guide (ASSEMBLY_SCREENSHOTS=1), and an axe-core check of what it shows."""
    assert_no_axe_violations(page)
    if SCREENSHOTS:
        page.screenshot(path=str(IMG / f"assembly-{name}.png"), full_page=full_page, animations="disabled", caret="hide")


def test_desk_sign_in_then_a_phone_vote_and_the_result_on_the_screen(evening, open_as):
    people = {name: voter(name, last, user=make_user(name.lower())) for name, last in (
        ("Alice", "Bernard"), ("Bob", "Durand"), ("Chloé", "Petit"), ("David", "Martin"), ("Emma", "Roux"))}
    outsider = voter("Nina", "Nobody")
    assembly = new_assembly()
    convene(assembly)
    give(assembly, people["Chloé"], people["Alice"])
    from members.models import Member

    Member.objects.filter(pk=outsider.pk).update(membership="left")  # left before the cut-off: not a voter
    cashier = make_user("desk-tablet", "cashiers")
    coordinator = make_user("bureau", "coordinators")

    desk = open_as(cashier, f"/assemblies/{assembly.pk}/desk/")
    expect(desk.locator("#desk")).to_have_attribute("data-ready", "1")
    expect(desk.locator("#scan")).to_be_focused()
    shot(desk, "desk-waiting")

    scan(desk, people["Alice"].card_barcode)
    expect(desk.locator("#answer")).to_have_class(re.compile(r"\bdesk-ok\b"))
    expect(desk.locator("#answer-verdict")).to_have_text("Signed in")
    expect(desk.locator("#answer-name")).to_have_text(f"Alice Bernard · {people['Alice'].display_number}")
    expect(desk.locator("#answer-proxies")).to_have_text(f"Carries the proxy of: Chloé Petit ({people['Chloé'].display_number})")
    expect(desk.locator('#quorum [data-live="present"]')).to_have_text("1")
    expect(desk.locator('#quorum [data-live="represented"]')).to_have_text("1")
    expect(desk.locator("#scan")).to_be_focused()
    shot(desk, "desk-signed-in")

    scan(desk, people["Bob"].card_barcode[1:])  # a scanner that drops the leading 0
    expect(desk.locator("#answer-name")).to_have_text(f"Bob Durand · {people['Bob'].display_number}")
    scan(desk, str(people["David"].member_number))  # no card: the member number typed
    expect(desk.locator("#answer-name")).to_have_text(f"David Martin · {people['David'].display_number}")
    expect(desk.locator('#quorum [data-live="present"]')).to_have_text("3")
    expect(desk.locator('#quorum [data-live="verdict"]')).to_have_text("reached")  # 4 of 5 voters

    desk.keyboard.press("F2")
    expect(desk.locator("#search")).to_be_focused()
    desk.keyboard.type("emm", delay=10)
    expect(desk.locator("#search-results li")).to_have_count(1)
    expect(desk.locator("#search-results li.active")).to_contain_text("Emma Roux")
    shot(desk, "desk-search")
    desk.keyboard.press("Enter")
    expect(desk.locator("#answer-name")).to_have_text(f"Emma Roux · {people['Emma'].display_number}")
    expect(desk.locator("#scan")).to_be_focused()

    scan(desk, outsider.card_barcode)
    expect(desk.locator("#answer")).to_have_class(re.compile(r"\bdesk-no\b"))
    expect(desk.locator("#answer-verdict")).to_have_text("Not a voter")
    expect(desk.locator("#answer-note")).to_contain_text("is not a voter of this assembly")
    shot(desk, "desk-not-a-voter")
    scan(desk, people["Alice"].card_barcode)
    expect(desk.locator("#answer")).to_have_class(re.compile(r"\bdesk-again\b"))
    expect(desk.locator("#answer-verdict")).to_have_text("Already signed in at 18:40")
    expect(desk.locator("#recent li")).to_have_count(5)
    assert desk.errors == []

    # The bureau adds a resolution and opens the vote; the room's screen follows.
    services.resolution_add(assembly=assembly, text="Approuver les comptes de l'exercice 2025.")
    services.resolution_add(assembly=assembly, text="Élire le comité de gouvernance.")
    bureau = open_as(coordinator, f"/assemblies/{assembly.pk}/")
    screen = open_as(coordinator, f"/assemblies/{assembly.pk}/screen/")
    bureau.get_by_role("button", name="Open the vote on phones").first.click()
    expect(bureau.locator(".resolution-open")).to_have_count(1)
    shot(bureau, "bureau-vote-open", full_page=True)

    phone = open_as(people["Alice"].user, f"/assemblies/{assembly.pk}/vote/", phone=True)
    expect(phone.locator("#resolution-text")).to_have_text("Approuver les comptes de l'exercice 2025.")
    expect(phone.locator("legend")).to_have_text(["My vote", "For Chloé Petit (proxy)"])
    phone.locator("fieldset").nth(0).get_by_text("For", exact=True).click()
    phone.locator("fieldset").nth(1).get_by_text("Against", exact=True).click()
    shot(phone, "phone-vote", full_page=True)
    phone.get_by_role("button", name="Cast my vote").click()
    expect(phone.locator(".alert-success").first).to_contain_text("Your vote is recorded")
    expect(phone.get_by_text("All your votes on this resolution are cast.")).to_be_visible()
    shot(phone, "phone-voted", full_page=True)
    assert VotedMark.objects.count() == 2

    services.votes_cast(resolution=Resolution.objects.get(state="open"), voter=people["Bob"],
                        ballots=[{"choice": "for", "for_member": people["Bob"].pk}])
    expect(screen.locator("[data-live-ballots]")).to_have_text("3")  # how many voted, never how
    expect(screen.locator(".screen-result")).to_have_count(0)
    shot(screen, "screen-open")
    bureau.reload()
    bureau.get_by_role("button", name="Close the vote").click()
    expect(screen.locator(".screen-result")).to_have_text(["Adopted"])  # the screen reloads by itself
    expect(screen.locator(".resolution-closed")).to_contain_text("for 2 · against 1 · abstentions 0")
    shot(screen, "screen-result")
    assert phone.errors == [] and screen.errors == [] and bureau.errors == []
