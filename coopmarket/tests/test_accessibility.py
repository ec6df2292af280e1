"""Every page a role sees passes axe-core's WCAG 2 A and AA rules, in a real Chromium.

The demo coop (`seed_demo`) is loaded, then each role signs in and follows the links of the pages
it is shown, from its home page: the navigation, the section menus, the tables' rows (a member,
a shift, a product, an order...). Each page (each URL name, whatever its arguments) is opened
once and checked as rendered; a page added later is checked as soon as a link leads to it. The
pages the issue named are required for each role, so a broken menu cannot shrink the walk
unnoticed. Not walked: the Django admin and the API's documentation pages (third-party pages,
not ours to style), files (PDF, CSV, iCalendar, JSON, the import examples ZIP and XLSX) and anything that is not a GET link.
"""
from __future__ import annotations

import re
from io import StringIO
from urllib.parse import urlsplit

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management import call_command
from django.urls import Resolver404, resolve

from coopmarket.tests.browser import assert_no_axe_violations, axe_violations, expect, format_violations

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

NOT_WALKED = re.compile(r"^/(admin|api|static|media|i18n|jsi18n|stripe|calendar)/|^/accounts/logout/|\.(pdf|csv|ics|json|js|txt|zip|xlsx)$")
MAX_PAGES = 80  # per role: far above today's count, a guard against a link loop

# role: (demo username, where the walk starts, URL names the walk must reach)
ROLES = {
    "anonymous": (None, ["/accounts/login/"], {"login", "password_reset"}),
    "cooperator": ("member", ["/"], {"home", "me:page", "me:shifts"}),
    "cashier": ("cashier", ["/"], {"home", "checkout:till"}),
    "coordinator": ("coordinator", ["/"], {
        "home", "members:list", "members:detail", "members:create", "shifts:calendar", "shifts:detail", "shifts:debt",
        "shifts:dashboard", "shifts:timeline", "checkout:till", "checkout:checks",
    }),
    "supply": ("supply", ["/"], {
        "home", "inventory:overview", "inventory:product_list", "inventory:product_detail", "inventory:reports",
        "inventory:supplier_list", "inventory:order_list", "inventory:order_detail", "inventory:counts",
    }),
    "superuser": ("admin", ["/"], {"home", "members:list", "shifts:calendar", "inventory:overview", "checkout:till"}),
}


@pytest.fixture
def demo_coop(db):
    call_command("seed_demo", members=30, force=True, stdout=StringIO(), stderr=StringIO())


def route_of(path: str) -> str | None:
    try:
        return resolve(urlsplit(path).path).view_name
    except Resolver404:
        return None


def walk(page, base_url: str, starts: list[str]) -> tuple[dict[str, str], list[str]]:
    """Open every page reachable by links from `starts` (each URL name once) and check it with
    axe. Returns {URL name: path opened} and the failure messages."""
    queue, opened, failures = list(starts), {}, []
    while queue and len(opened) < MAX_PAGES:
        path = queue.pop(0)
        route = route_of(path)
        if route is None or route in opened or NOT_WALKED.search(urlsplit(path).path):
            continue
        opened[route] = path
        response = page.goto(f"{base_url}{path}")
        if response is None or response.status != 200:
            failures.append(f"{path} answered {response and response.status} to a link the role was shown")
            continue
        if not response.headers.get("content-type", "").startswith("text/html"):
            continue
        page.wait_for_load_state("load")
        violations = axe_violations(page)
        if violations:
            failures.append(format_violations(path, violations))
        for href in page.eval_on_selector_all("a[href]", "links => links.map((a) => a.href)"):
            parts = urlsplit(href)
            if parts.scheme in ("http", "https") and f"{parts.scheme}://{parts.netloc}" == base_url:
                queue.append(parts.path + (f"?{parts.query}" if parts.query else ""))
    return opened, failures


@pytest.mark.parametrize("role", ROLES)
def test_every_page_a_role_sees_passes_axe(role, demo_coop, open_page, live_site):
    username, starts, required = ROLES[role]
    user = get_user_model().objects.get(username=username) if username else None
    page = open_page(user, starts[0])
    opened, failures = walk(page, live_site.url, starts)
    assert required <= set(opened), f"the walk did not reach {sorted(required - set(opened))}; it opened {sorted(opened)}"
    assert not failures, f"{role}: {len(failures)} page(s) of {len(opened)} fail:\n" + "\n".join(failures)
    assert page.errors == [], page.errors


@pytest.mark.parametrize("group,path", [
    ("coordinators", "/members/new/"),      # the members office's forms (shared template includes/form.html)
    ("supply", "/inventory/suppliers/new/"),  # the supply team's forms (inventory/form.html)
    (None, "/accounts/login/"),             # a wrong password
])
def test_forms_with_errors_pass_axe(group, path, db, open_page):
    """What a refused form shows (red fields, messages) is checked as well as the blank form."""
    user = None
    if group:
        user = get_user_model().objects.create_user(username=f"{group}-user", password="pass-word-123")
        user.groups.add(Group.objects.get(name=group))
    page = open_page(user, path)
    form = page.locator("main form[method=post]").last
    if user is None:
        page.fill("input[name=username]", "nobody")
        page.fill("input[name=password]", "wrong")
    with page.expect_navigation():
        form.locator("button[type=submit]").last.click()
    expect(page.locator(".is-invalid, .alert-danger, .errorlist").first).to_be_visible()
    assert_no_axe_violations(page)


def test_the_not_found_page_passes_axe(db, open_page):
    page = open_page(None, "/no-such-page/", status=404)
    assert_no_axe_violations(page)
