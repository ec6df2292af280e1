"""The real components some tests need, and how to tell whether they are there.

A test that needs one says so with a marker; the root `conftest.py` reads the markers in one
place (`pytest_runtest_setup`) and, when a component is missing, FAILS the test under CI
(`CI=true`) or skips it locally with the reason below:

- `@pytest.mark.postgres`: the test database is PostgreSQL (`DATABASE_URL=postgres://...`): row
  locks, races.
- `@pytest.mark.browser`: Playwright for Python, Debian's `chromium` on the PATH and axe-core
  (`make axe` puts it in `.ci/node_modules/`): pages in a real browser, accessibility.
- `@pytest.mark.redis`: a Redis answering at `REDIS_URL`: a real Celery worker.

Every address comes from the environment, as `.ci/run` sets it: `DATABASE_URL` (read by the
settings), `REDIS_URL` (read here, default `redis://127.0.0.1:6379/0`), `CHROMIUM` (a browser
binary other than the one on the PATH), `AXE_CORE_JS` (another axe.min.js).
"""
from __future__ import annotations

import functools
import os
import shutil
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

BASE_DIR = Path(__file__).resolve().parents[2]
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/0"
DEFAULT_AXE_CORE_JS = BASE_DIR / ".ci" / "node_modules" / "axe-core" / "axe.min.js"


def under_ci() -> bool:
    """True on CI (`CI=true`, as GitHub, GitLab and `.ci/run` set it): nothing may skip there."""
    return os.environ.get("CI", "").strip().lower() in {"1", "true", "yes", "on"}


def redis_url() -> str:
    return os.environ.get("REDIS_URL") or DEFAULT_REDIS_URL


def redacted(url: str) -> str:
    """The URL without its password, for messages."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    return urlunsplit(parts._replace(netloc=parts.netloc.replace(f":{parts.password}@", ":***@")))


def chromium_path() -> str | None:
    configured = os.environ.get("CHROMIUM")
    if configured:
        return shutil.which(configured)
    return shutil.which("chromium") or shutil.which("chromium-browser")


def axe_core_path() -> Path:
    return Path(os.environ.get("AXE_CORE_JS") or DEFAULT_AXE_CORE_JS)


def postgres_missing() -> str | None:
    from django.db import connection

    if connection.vendor != "postgresql":
        return f"needs PostgreSQL (row locks), the test database is {connection.vendor}: set DATABASE_URL=postgres://..."
    return None


@functools.cache
def browser_missing() -> str | None:
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "Playwright for Python is not installed (pip install -r requirements-dev.txt)"
    if chromium_path() is None:
        return "no chromium on the PATH (apt-get install chromium; never `playwright install`)"
    if not axe_core_path().is_file():
        return f"axe-core is not installed at {axe_core_path()} (make axe: npm ci in .ci/)"
    return None


@functools.cache
def redis_missing() -> str | None:
    url = redis_url()
    try:
        import redis

        client = redis.Redis.from_url(url, socket_connect_timeout=1, socket_timeout=1)
        try:
            client.ping()
        finally:
            client.close()
    except Exception as exc:  # noqa: BLE001  (any failure means: no usable Redis; the reason says which)
        return f"Redis is not reachable at REDIS_URL={redacted(url)} ({exc.__class__.__name__}: {exc})"
    return None


CHECKS = {"postgres": postgres_missing, "browser": browser_missing, "redis": redis_missing}
