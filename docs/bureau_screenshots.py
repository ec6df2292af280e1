"""Take the demo screenshots of docs/bureau.md (assemblies) and of the open figures.

Run against a server with the demo data (`make demo`, or `manage.py seed_demo` then
`manage.py update_figures`):

    .venv/bin/python docs/bureau_screenshots.py [--base http://127.0.0.1:8020]

Like docs/screenshots.py (whose helpers it uses), it only looks at pages: sign-in is the only
form it submits. The desk, the phone vote and the room's screen in action are taken by the browser
test instead (`ASSEMBLY_SCREENSHOTS=1 pytest assemblies/tests/test_assembly_browser.py`), since
they need an assembly in session.
"""
from __future__ import annotations

import argparse
import re
import shutil
import sys

from playwright.sync_api import sync_playwright
from screenshots import CHROMIUM_ARGS, IMG, login, new_context, pdf_preview, shot, visit


def assemblies(context, base: str) -> tuple[int, int]:
    """(the demo's upcoming assembly, its past one) from the list page."""
    html = context.request.get(f"{base}/assemblies/").text()
    rows = re.findall(r'href="/assemblies/(\d+)/">([^<]+)</a>', html)
    past = [int(pk) for pk, title in rows if "2025" in title]
    upcoming = [int(pk) for pk, title in rows if "2025" not in title]
    if not past or not upcoming:
        sys.exit("The demo's two assemblies were not found (is the demo data loaded?)")
    return upcoming[0], past[0]


def coordinator_pages(browser, base: str) -> None:
    print("coordinator")
    context = new_context(browser)
    page = login(context, base, "coordinator")
    upcoming, past = assemblies(context, base)
    visit(page, f"{base}/assemblies/")
    shot(page, "assembly-list")
    visit(page, f"{base}/assemblies/{upcoming}/")
    shot(page, "assembly-detail", full_page=True)
    visit(page, f"{base}/assemblies/{past}/")
    shot(page, "assembly-detail-past")
    visit(page, f"{base}/assemblies/{upcoming}/voters/?proxies=carries")
    shot(page, "assembly-voters")
    visit(page, f"{base}/assemblies/{past}/screen/")
    shot(page, "assembly-screen-past")
    pdf_preview(context, f"{base}/assemblies/{upcoming}/sign-in.pdf", "pdf-assembly-sign-in")
    pdf_preview(context, f"{base}/assemblies/{past}/minutes.pdf", "pdf-assembly-minutes")
    context.close()


def member_pages(browser, base: str) -> None:
    print("member")
    context = new_context(browser, phone=True)
    page = login(context, base, "member")
    visit(page, f"{base}/me/")
    card = page.locator("#assemblies")
    card.scroll_into_view_if_needed()
    path = IMG / "assembly-me.png"
    card.screenshot(path=str(path), animations="disabled")
    print(f"  {path.relative_to(IMG.parent.parent)}  {path.stat().st_size // 1024} KB")
    href = card.locator("a").last.get_attribute("href")
    visit(page, f"{base}{href}")
    shot(page, "assembly-proxy-phone")
    context.close()


def public_pages(browser, base: str) -> None:
    print("anonymous")
    context = new_context(browser)
    page = context.new_page()
    visit(page, f"{base}/figures/")
    shot(page, "figures", full_page=True)
    context.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base", default="http://127.0.0.1:8020", help="URL of the running server")
    base = parser.parse_args().base.rstrip("/")
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if not chromium or not shutil.which("pdftoppm"):
        sys.exit("needs chromium and pdftoppm (poppler-utils) on the PATH")
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
        try:
            coordinator_pages(browser, base)
            member_pages(browser, base)
            public_pages(browser, base)
        finally:
            browser.close()


if __name__ == "__main__":
    main()
