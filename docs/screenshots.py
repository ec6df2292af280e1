"""Take the screenshots used by docs/coordination-team.md and docs/cooperator.md.

Run against a server with the demo data (`make demo`, or `manage.py seed_demo`):

    .venv/bin/python docs/screenshots.py [--base http://127.0.0.1:8020] [--member ID]

It signs in as the demo accounts (password "demo"), only *looks* at pages (no form is
submitted except sign-in and the language switch) and writes PNG files into docs/img/.
The French UI is used (the coop's default) except for one English view of the members table.
Needs Playwright for Python and a Chromium on the PATH (Debian's `chromium`), and `pdftoppm`
(poppler-utils) for the PDF previews.
"""
from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from playwright.sync_api import Browser, BrowserContext, Page, sync_playwright

IMG = Path(__file__).resolve().parent / "img"
PASSWORD = "demo"
DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run",
]
MAX_BYTES = 400_000


def new_context(browser: Browser, *, phone: bool = False) -> BrowserContext:
    if phone:
        return browser.new_context(
            viewport=PHONE, device_scale_factor=1, is_mobile=True, has_touch=True, locale="fr-FR",
        )
    return browser.new_context(viewport=DESKTOP, device_scale_factor=1, locale="fr-FR")


def login(context: BrowserContext, base: str, username: str) -> Page:
    page = context.new_page()
    page.goto(f"{base}/accounts/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    with page.expect_navigation():
        page.click("form button[type=submit]")
    if "/accounts/login/" in page.url:
        sys.exit(f"Could not sign in as {username!r} (is the demo data loaded?)")
    return page


def shot(page: Page, name: str, *, full_page: bool = False) -> None:
    path = IMG / f"{name}.png"
    page.screenshot(path=str(path), full_page=full_page, animations="disabled", caret="hide")
    size = path.stat().st_size
    if size > MAX_BYTES:  # a very long page: keep the first screenful only
        page.screenshot(path=str(path), full_page=False, animations="disabled", caret="hide")
        size = path.stat().st_size
    print(f"  {path.relative_to(IMG.parent.parent)}  {size // 1024} KB")


def visit(page: Page, url: str) -> None:
    response = page.goto(url)
    if response is None or response.status >= 400:
        sys.exit(f"{url} answered {response.status if response else 'nothing'}")
    page.wait_for_load_state("networkidle")


def pick_member(context: BrowserContext, base: str) -> int:
    """An active member who pays by instalments and has a household associate (else any active one)."""
    html = context.request.get(f"{base}/members/?membership=active&sort=-member_number").text()
    ids = list(dict.fromkeys(int(i) for i in re.findall(r'href="/members/(\d+)/"', html)))
    if not ids:
        sys.exit("No active member in the demo data.")
    best = None
    for pk in ids[:50]:
        detail = context.request.get(f"{base}/members/{pk}/").text()
        instalments = "chéancier" in detail or "Schedule" in detail  # the schedule row of an instalment plan
        associate = "/associates/" in detail and "/remove/" in detail
        if instalments and associate:
            return pk
        if instalments and best is None:
            best = pk
    return best or ids[0]


def pick_member_without_associate(context: BrowserContext, base: str, exclude: int) -> int:
    """An active member who may still get a household associate (the form is not offered otherwise)."""
    html = context.request.get(f"{base}/members/?membership=active").text()
    for pk in dict.fromkeys(int(i) for i in re.findall(r'href="/members/(\d+)/"', html)):
        if pk != exclude and f"/members/{pk}/associates/new/" in context.request.get(f"{base}/members/{pk}/").text():
            return pk
    sys.exit("No active member without a household associate in the demo data.")


def pdf_preview(context: BrowserContext, url: str, name: str) -> None:
    response = context.request.get(url)
    if not response.ok or not response.body().startswith(b"%PDF"):
        sys.exit(f"{url} did not return a PDF ({response.status})")
    with tempfile.TemporaryDirectory() as tmp:
        pdf = Path(tmp) / "doc.pdf"
        pdf.write_bytes(response.body())
        subprocess.run(
            ["pdftoppm", "-png", "-r", "80", "-singlefile", "-f", "1", "-l", "1", str(pdf), str(IMG / name)],
            check=True,
        )
    path = IMG / f"{name}.png"
    print(f"  {path.relative_to(IMG.parent.parent)}  {path.stat().st_size // 1024} KB")


def submit(page: Page) -> None:
    """Submit the page's main form; only used where the server refuses the input (no write)."""
    with page.expect_navigation():
        page.click("main form button[type=submit]")
    page.wait_for_load_state("networkidle")
    if page.locator(".invalid-feedback, .alert-danger").count() == 0:
        sys.exit(f"Expected a refusal on {page.url}")


def crop_to(page: Page, name: str, selector: str) -> None:
    """A screenshot from the top of the page down to a little below `selector`."""
    box = page.locator(selector).bounding_box()
    height = int(box["y"] + box["height"] + 60) if box else DESKTOP["height"]
    path = IMG / f"{name}.png"
    page.screenshot(path=str(path), clip={"x": 0, "y": 0, "width": DESKTOP["width"], "height": height},
                    full_page=True, animations="disabled", caret="hide")
    print(f"  {path.relative_to(IMG.parent.parent)}  {path.stat().st_size // 1024} KB")


def switch_language(page: Page, code: str) -> None:
    with page.expect_navigation():
        page.select_option("select[name=language]", code)
    page.wait_for_load_state("networkidle")


def coordinator_pages(browser: Browser, base: str, member_id: int | None) -> None:
    print("coordinator")
    context = new_context(browser)
    page = login(context, base, "coordinator")
    visit(page, f"{base}/")
    shot(page, "coord-dashboard")
    visit(page, f"{base}/members/")
    shot(page, "coord-members")
    visit(page, f"{base}/members/?membership=unpaid")
    shot(page, "coord-members-unpaid")
    pk = member_id or pick_member(context, base)
    print(f"  (member page: /members/{pk}/)")
    visit(page, f"{base}/members/{pk}/")
    page.evaluate("document.querySelectorAll('details').forEach(d => d.open = true)")
    shot(page, "coord-member-detail", full_page=True)
    visit(page, f"{base}/members/new/")
    shot(page, "coord-register", full_page=True)
    # A refused registration (nothing is written: the service validates before it writes).
    page.fill("input[name=first_name]", "Claire")
    page.fill("input[name=last_name]", "Exemple")
    page.fill("input[name=email]", "member@demo.coopmarket.test")
    submit(page)
    crop_to(page, "coord-register-duplicate", "input[name=email]")
    visit(page, f"{base}/members/{pk}/shares/new/")
    shot(page, "coord-subscribe", full_page=True)
    visit(page, f"{base}/members/{pk}/payments/new/")
    shot(page, "coord-payment", full_page=True)
    # An overpayment is refused (again nothing is written).
    page.fill("input[name=amount]", "500")
    submit(page)
    shot(page, "coord-payment-overpaid")
    visit(page, f"{base}/members/{pick_member_without_associate(context, base, pk)}/associates/new/")
    shot(page, "coord-associate")
    visit(page, f"{base}/members/{pk}/leave/")
    shot(page, "coord-leave")
    visit(page, f"{base}/members/redemptions/?state=all")
    shot(page, "coord-redemptions", full_page=True)
    pdf_preview(context, f"{base}/members/{pk}/certificate.pdf", "pdf-certificate")
    pdf_preview(context, f"{base}/members/{pk}/card.pdf", "pdf-card")
    # The one English screenshot: the members table.
    visit(page, f"{base}/members/")
    switch_language(page, "en")
    shot(page, "coord-members-en")
    switch_language(page, "fr")
    context.close()


def member_pages(browser: Browser, base: str) -> None:
    print("member")
    context = new_context(browser)
    page = login(context, base, "member")
    visit(page, f"{base}/me/")
    shot(page, "me-desktop", full_page=True)
    context.close()

    context = new_context(browser, phone=True)
    page = context.new_page()
    visit(page, f"{base}/accounts/login/")
    shot(page, "phone-login")
    visit(page, f"{base}/accounts/password_reset/")
    shot(page, "phone-password-reset")
    page = login(context, base, "member")
    visit(page, f"{base}/me/")
    shot(page, "phone-me")
    shot(page, "phone-me-full", full_page=True)
    visit(page, f"{base}/")
    shot(page, "phone-home")
    context.close()


def login_page(browser: Browser, base: str) -> None:
    print("login")
    context = new_context(browser)
    page = context.new_page()
    visit(page, f"{base}/accounts/login/")
    shot(page, "login")
    context.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base", default="http://127.0.0.1:8020", help="URL of the running server")
    parser.add_argument("--member", type=int, help="id of the member to show (default: one picked from the demo)")
    args = parser.parse_args()
    base = args.base.rstrip("/")
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if not chromium:
        sys.exit("chromium not found on the PATH")
    if not shutil.which("pdftoppm"):
        sys.exit("pdftoppm not found (install poppler-utils)")
    IMG.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
        try:
            login_page(browser, base)
            coordinator_pages(browser, base, args.member)
            member_pages(browser, base)
        finally:
            browser.close()


if __name__ == "__main__":
    main()
