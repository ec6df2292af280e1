"""Production settings pass Django's deployment checklist (`manage.py check --deploy`)."""
import os
import secrets
import subprocess
import sys
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent.parent


def production_env() -> dict:
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
    return env


def test_production_env_has_a_60_character_key_and_no_debug():
    env = production_env()
    assert len(env["DJANGO_SECRET_KEY"]) == 60
    assert "DJANGO_DEBUG" not in env
    assert "COOP_TESTING" not in env


def test_check_deploy_passes_with_production_settings():
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=BASE_DIR, env=production_env(), capture_output=True, text=True, timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout
