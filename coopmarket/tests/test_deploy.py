"""Production settings, loaded as production loads them (a fresh process with the environment of a
deployment, no test mode): Django's deployment checklist passes, the settings the checklist does
not see are safe, and a missing secret key stops the process instead of falling back."""
import json
import os
import secrets
import subprocess
import sys
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent.parent

SHOW_SETTINGS = """
import json, django
django.setup()
from django.conf import settings as s
print(json.dumps({
    "DEBUG": s.DEBUG, "TESTING": s.TESTING, "key_length": len(s.SECRET_KEY), "ALLOWED_HOSTS": s.ALLOWED_HOSTS,
    "SESSION_COOKIE_SECURE": s.SESSION_COOKIE_SECURE, "CSRF_COOKIE_SECURE": s.CSRF_COOKIE_SECURE,
    "SECURE_SSL_REDIRECT": s.SECURE_SSL_REDIRECT, "SECURE_HSTS_SECONDS": s.SECURE_HSTS_SECONDS,
    "staticfiles": s.STORAGES["staticfiles"]["BACKEND"], "mailer": s.MAILERS["default"]["BACKEND"],
    "renderers": s.REST_FRAMEWORK["DEFAULT_RENDERER_CLASSES"],
}))
"""


def production_env(**overrides) -> dict:
    """The process environment without anything a test or a developer set (DJANGO_*, COOP_*,
    PYTEST_*), plus what a deployment sets."""
    env = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith(("DJANGO_", "COOP_", "PYTEST_")) and name != "DATABASE_URL"
    }
    env.update(
        DJANGO_SECRET_KEY=secrets.token_urlsafe(45),  # 60 random characters
        DJANGO_ALLOWED_HOSTS="coop.example.org",
        DJANGO_SETTINGS_MODULE="coopmarket.settings",
    )
    if os.environ.get("DATABASE_URL"):
        env["DATABASE_URL"] = os.environ["DATABASE_URL"]
    env.update(overrides)
    return {name: value for name, value in env.items() if value is not None}


def run(args, env) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, *args], cwd=BASE_DIR, env=env, capture_output=True, text=True, timeout=120)


def test_production_settings_are_secure_where_the_checklist_does_not_look():
    result = run(["-c", SHOW_SETTINGS], production_env())
    assert result.returncode == 0, result.stderr
    loaded = json.loads(result.stdout.strip().splitlines()[-1])
    assert loaded == {
        "DEBUG": False, "TESTING": False, "key_length": 60, "ALLOWED_HOSTS": ["coop.example.org"],
        "SESSION_COOKIE_SECURE": True, "CSRF_COOKIE_SECURE": True,
        "SECURE_SSL_REDIRECT": True, "SECURE_HSTS_SECONDS": 31536000,
        "staticfiles": "whitenoise.storage.CompressedManifestStaticFilesStorage",
        "mailer": "django.core.mail.backends.smtp.EmailBackend",
        "renderers": ["rest_framework.renderers.JSONRenderer"],  # no browsable API
    }


def test_production_refuses_to_start_without_a_secret_key():
    result = run(["-c", SHOW_SETTINGS], production_env(DJANGO_SECRET_KEY=None))
    assert result.returncode != 0
    assert "Set DJANGO_SECRET_KEY" in result.stderr


def test_check_deploy_passes_with_production_settings():
    result = run(["manage.py", "check", "--deploy", "--fail-level", "WARNING"], production_env())
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_check_deploy_fails_with_debug_on():
    """The check above can fail: the same command refuses a debug deployment."""
    result = run(["manage.py", "check", "--deploy", "--fail-level", "WARNING"], production_env(DJANGO_DEBUG="1"))
    assert result.returncode != 0
    assert "security.W018" in result.stdout + result.stderr  # DEBUG in deployment
