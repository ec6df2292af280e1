"""Test-wide settings: fast hashing, eager Celery, no HTTPS redirect, a clean cache (Django swaps in
locmem e-mail)."""
import os

os.environ.setdefault("DJANGO_SECRET_KEY", "test-only-secret-key")
os.environ.setdefault("COOP_TESTING", "1")

import pytest  # noqa: E402


@pytest.fixture(autouse=True)
def _test_settings(settings):
    from django.core.cache import cache

    cache.clear()  # API throttle counters start afresh in every test
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.SECURE_SSL_REDIRECT = False
    settings.CELERY_TASK_ALWAYS_EAGER = True
    settings.LANGUAGE_CODE = "en"
