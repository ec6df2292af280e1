"""Take the screenshots of the qualification sections of docs/coordination-team.md and
docs/cooperator.md (issue 14: qualifications, qualified seats, "no leader", welcome sessions).

Run against a server with the demo data (`make demo`, or `manage.py seed_demo`):

    .venv/bin/python docs/screenshots_qualifications.py [--base http://127.0.0.1:8000]

It signs in as the demo accounts (password "demo"), only *looks* at pages (no form is submitted
except sign-in) and writes PNG files into docs/img/ (`qual-*.png`), in the French interface.
Needs Playwright for Python, Debian's `chromium` and `pdftoppm` (poppler-utils).
"""
from __future__ import annotations

import argparse
import re
import sys

from playwright.sync_api import sync_playwright
from screenshots import CHROMIUM_ARGS, IMG, login, new_context, pdf_preview, shot, visit


def first(html: str, pattern: str) -> str:
    match = re.search(pattern, html)
    if match is None:
        sys.exit(f"Nothing matches {pattern!r}: is the demo data loaded?")
    return match.group(1)


def coordinator_pages(browser, base: str) -> None:
    context = new_context(browser)
    page = login(context, base, "coordinator")
    visit(page, f"{base}/members/qualifications/")
    shot(page, "qual-list")
    visit(page, f"{base}/shifts/dashboard/")
    page.locator("#no-leader").scroll_into_view_if_needed()
    page.locator("#no-leader").screenshot(path=str(IMG / "qual-dashboard.png"))
    print("  docs/img/qual-dashboard.png")
    dashboard = page.content()
    flagged = first(dashboard, r'<li class="list-group-item[^"]*" data-shift="(\d+)"')
    visit(page, f"{base}/shifts/{flagged}/")
    visit(page, f"{base}/shifts/")
    chip = page.locator(f'[data-shift="{flagged}"]')
    if chip.count() == 0:
        page.locator("#next-cycle").click()
        page.wait_for_load_state("networkidle")
    chip = page.locator(f'[data-shift="{flagged}"]')
    chip.scroll_into_view_if_needed()
    page.evaluate("window.scrollBy(0, -200)")
    shot(page, "qual-calendar")
    # A till shift with trained members on it: the roster with seats and qualifications.
    import datetime

    today = datetime.date.today()
    window = context.request.get(f"{base}/api/v1/shifts/?start={today}&end={today + datetime.timedelta(days=7)}&page_size=500").json()
    tills = sorted((s for s in window["results"] if s["name"].startswith("Caisse") and s["requirements"]),
                   key=lambda s: (not s["no_leader"], -s["seats_taken"]))
    roster = tills[0]["id"] if tills else flagged
    visit(page, f"{base}/shifts/{roster}/")
    shot(page, "qual-roster", full_page=True)
    pdf_preview(context, f"{base}/shifts/{roster}/sheet.pdf", "qual-sheet")
    # A member with qualifications.
    members = context.request.get(f"{base}/members/?qualification=cashier").text()
    member = first(members, r'href="/members/(\d+)/"')
    visit(page, f"{base}/members/{member}/")
    page.locator("#qualifications").screenshot(path=str(IMG / "qual-member.png"))
    print("  docs/img/qual-member.png")
    # The welcome desk on the next welcome session (found through the API, the session is signed in).
    shifts = context.request.get(f"{base}/api/v1/shifts/?start={today}&end={today + datetime.timedelta(days=28)}&page_size=500").json()
    sessions = [s for s in shifts["results"] if s["welcome"]]
    if not sessions:
        sys.exit("No welcome session in the next four weeks: is the demo data loaded?")
    session = sessions[0]["id"]
    visit(page, f"{base}/shifts/{session}/")
    page.locator("#welcome-desk").scroll_into_view_if_needed()
    shot(page, "qual-welcome-desk")
    context.close()


def member_pages(browser, base: str) -> None:
    context = new_context(browser)
    page = login(context, base, "member")
    visit(page, f"{base}/me/")
    page.locator("#qualifications").screenshot(path=str(IMG / "qual-me.png"))
    print("  docs/img/qual-me.png")
    context.close()
    phone = new_context(browser, phone=True)
    page = login(phone, base, "member")
    visit(page, f"{base}/me/shifts/#book")
    page.locator(".seat-why").first.scroll_into_view_if_needed()
    page.evaluate("window.scrollBy(0, -120)")
    shot(page, "qual-me-shifts")
    phone.close()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--base", default="http://127.0.0.1:8000")
    args = parser.parse_args()
    import shutil

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=shutil.which("chromium"), args=CHROMIUM_ARGS)
        coordinator_pages(browser, args.base.rstrip("/"))
        member_pages(browser, args.base.rstrip("/"))
        browser.close()


if __name__ == "__main__":
    main()
