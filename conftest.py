"""Test-wide settings (fast hashing, eager Celery, no HTTPS redirect, a clean cache for the API
throttles; Django swaps in locmem e-mail) and the one place where tests that need a real
component are failed or skipped.

Markers (coopmarket/tests/components.py says what each needs): `postgres`, `browser`, `redis`.
When the component is missing, the test FAILS under CI (`CI=true`) and is skipped with the
reason otherwise. Under CI no test may skip at all: a skip, whatever its cause, is reported as a
failure, so a green CI run has run every test.
"""
import os

os.environ.setdefault("DJANGO_SECRET_KEY", "test-only-secret-key")
os.environ.setdefault("COOP_TESTING", "1")

import pytest  # noqa: E402

from coopmarket.tests import components  # noqa: E402

# The browser tests' fixtures (`browser`, `open_page`) and `assert_no_axe_violations`.
pytest_plugins = ["coopmarket.tests.browser"]


@pytest.fixture(autouse=True)
def _test_settings(settings):
    from django.core.cache import cache

    cache.clear()  # API throttle counters start afresh in every test
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.SECURE_SSL_REDIRECT = False
    settings.CELERY_TASK_ALWAYS_EAGER = True
    settings.LANGUAGE_CODE = "en"


def pytest_report_header(config):
    return (f"CI={'true: a missing component or any skip fails the run' if components.under_ci() else 'unset: tests needing a missing component skip'}; "
            f"REDIS_URL={components.redacted(components.redis_url())}")


def pytest_runtest_setup(item):
    for name, missing in components.CHECKS.items():
        if item.get_closest_marker(name) is None:
            continue
        reason = missing()
        if reason is None:
            continue
        if components.under_ci():
            pytest.fail(f"CI=true and a real component is missing: {reason}", pytrace=False)
        pytest.skip(reason)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    report = yield
    if report.skipped and components.under_ci() and not hasattr(report, "wasxfail"):
        reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else str(report.longrepr)
        report.outcome = "failed"
        report.longrepr = f"CI=true: this test skipped, and nothing may skip on CI ({reason})"
    return report


@pytest.hookimpl(wrapper=True)
def pytest_make_collect_report(collector):
    """A whole module skipped at import (`pytest.importorskip`) fails under CI too."""
    report = yield
    if report.skipped and components.under_ci():
        reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else str(report.longrepr)
        report.outcome = "failed"
        report.longrepr = f"CI=true: this module skipped, and nothing may skip on CI ({reason})"
    return report
