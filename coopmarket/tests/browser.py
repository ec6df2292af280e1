"""What every browser test shares (a pytest plugin, loaded by the root conftest.py).

Chromium (Debian's, never `playwright install`) driven by Playwright for Python against
pytest-django's live server, and axe-core (the npm package, `make axe`) to check accessibility.
A browser test module needs only:

    from coopmarket.tests.browser import assert_no_axe_violations, expect

    pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

    def test_something(open_page, some_user):
        page = open_page(some_user, "/some/page/")   # signed in as some_user (None: anonymous), 200 asserted
        ...
        assert_no_axe_violations(page)               # WCAG 2 A and AA, on the page as it is now
        assert page.errors == []                     # no JavaScript error

`pytest.mark.browser` makes the test fail under CI (skip locally) when Playwright, chromium or
axe-core is missing (root conftest.py). Call `assert_no_axe_violations(page)` on every page a
test opens, and again after an action changes what the page shows (a message, an answer, an
error): axe sees only what is rendered.
"""
from __future__ import annotations

import functools

import pytest
from django.conf import settings

from .components import axe_core_path, chromium_path

try:  # Missing Playwright is reported by the `browser` marker, not by an import error here.
    from playwright.sync_api import expect, sync_playwright
except ImportError:  # pragma: no cover
    expect = sync_playwright = None

if expect is not None:
    expect.set_options(timeout=15_000)  # CI runs the browser beside other suites: give pages time

CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run",
]
# axe-core's rule tags for WCAG 2.0 and 2.1, levels A and AA (the 2.1 rules add little: orientation,
# autocomplete, text spacing, reflow-related checks).
WCAG_TAGS = ("wcag2a", "wcag2aa", "wcag21a", "wcag21aa")


@functools.cache
def axe_source() -> str:
    return axe_core_path().read_text(encoding="utf-8")


def axe_violations(page, *, tags=WCAG_TAGS, exclude: tuple[str, ...] = ()) -> list[dict]:
    """axe-core's violations on the page as rendered now: [{id, impact, help, nodes: [{target, summary}]}].

    axe is injected through Playwright's evaluate (not a <script> tag), so the page's own
    Content-Security-Policy stays in force and untouched."""
    # Colours are measured as painted: let running transitions and animations end first.
    page.evaluate("""() => Promise.all(document.getAnimations()
        .filter((animation) => animation.effect && animation.effect.getComputedTiming().endTime !== Infinity)
        .map((animation) => animation.finished.catch(() => null)))""")
    if not page.evaluate("() => typeof window.axe === 'object'"):
        page.evaluate(axe_source())
    return page.evaluate(
        """async ([tags, exclude]) => {
            const context = exclude.length ? {exclude: exclude.map((selector) => [selector])} : document;
            const results = await window.axe.run(context, {runOnly: {type: "tag", values: tags}, resultTypes: ["violations"]});
            return results.violations.map((violation) => ({
                id: violation.id, impact: violation.impact, help: violation.help,
                nodes: violation.nodes.map((node) => ({target: node.target.join(" "), summary: node.failureSummary})),
            }));
        }""",
        [list(tags), list(exclude)],
    )


def format_violations(url: str, violations: list[dict], *, per_rule: int = 8) -> str:
    lines = [f"{sum(len(v['nodes']) for v in violations)} accessibility violation(s) on {url}:"]
    for violation in violations:
        lines.append(f"- {violation['id']} ({violation['impact']}): {violation['help']}, {len(violation['nodes'])} element(s)")
        for node in violation["nodes"][:per_rule]:
            summary = " ".join((node["summary"] or "").split())
            lines.append(f"    {node['target']}: {summary[:300]}")
        if len(violation["nodes"]) > per_rule:
            lines.append(f"    ... and {len(violation['nodes']) - per_rule} more")
    return "\n".join(lines)


def assert_no_axe_violations(page, *, tags=WCAG_TAGS, exclude: tuple[str, ...] = ()) -> None:
    """Fail with every WCAG 2 A/AA violation axe-core finds on the page as rendered now.

    `exclude`: CSS selectors of parts that are not ours to fix (none today); say why beside it."""
    violations = axe_violations(page, tags=tags, exclude=exclude)
    assert not violations, format_violations(page.url, violations)


@pytest.fixture
def live_site(live_server, settings):
    """The live server as a browser meets it: plain HTTP, so no secure cookies and no redirect to
    HTTPS (SecurityMiddleware read SECURE_SSL_REDIRECT when the session-wide server started,
    perhaps for another module: its redirect step is switched off while the test runs)."""
    from django.middleware.security import SecurityMiddleware

    settings.SESSION_COOKIE_SECURE = False
    settings.CSRF_COOKIE_SECURE = False
    settings.ALLOWED_HOSTS = ["localhost", "127.0.0.1", "testserver"]
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(SecurityMiddleware, "process_request", lambda self, request: None)
        yield live_server


@pytest.fixture
def browser():
    """Chromium for one test. Started after the test database is set up and closed before it is
    flushed: while Playwright's event loop runs in this thread, Django hands out another
    connection object (asgiref's Local), which lacks the serialized rows the rollback restores.
    Those connections are closed before the loop stops (left open, they would keep PostgreSQL
    from dropping the test database at the end of the run)."""
    from django.db import connections

    with pytest.MonkeyPatch.context() as patch, sync_playwright() as playwright:
        patch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
        chromium = playwright.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()
        connections.close_all()


@pytest.fixture
def open_page(browser, live_site, client):
    """open_page(user, path, *, status=200, **context_options) -> a Playwright page at `path`,
    signed in as `user` (None: anonymous), in its own browser context (en-GB, 1280x900 unless
    `viewport`/`locale` say otherwise). The answer's status is asserted; the page's JavaScript
    errors are collected in `page.errors`."""
    contexts = []

    def open_page(user, path, *, status=200, **context_options):
        options = {"locale": "en-GB", "viewport": {"width": 1280, "height": 900}, **context_options}
        context = browser.new_context(**options)
        contexts.append(context)
        if user is not None:
            client.force_login(user)
            context.add_cookies([{
                "name": settings.SESSION_COOKIE_NAME, "value": client.cookies[settings.SESSION_COOKIE_NAME].value,
                "url": live_site.url,
            }])
        page = context.new_page()
        page.errors = []
        page.on("pageerror", lambda error: page.errors.append(str(error)))
        response = page.goto(f"{live_site.url}{path}")
        assert response is not None and response.status == status, (path, response and response.status)
        return page

    yield open_page
    for context in contexts:
        context.close()

