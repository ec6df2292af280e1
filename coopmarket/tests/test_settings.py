"""Deployment settings that must not be quietly unsafe (issue 11):

- the proxy's HTTPS header is trusted only when a setting says the app is behind a proxy;
- the secret key never falls back silently to a known value;
- seed_demo (which creates `admin`/`demo`) refuses to run with DJANGO_DEBUG off unless forced;
- the PDF renderer fetches only the project's static files and data: URIs.

Settings are read once per process: each case imports them in a fresh interpreter.
"""
import json
import os
import subprocess
import sys
from io import StringIO
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.core.management import CommandError, call_command

from coopmarket.pdf import LocalOnlyURLFetcher, render_pdf

BASE_DIR = Path(__file__).resolve().parent.parent.parent
PROBE = (
    "import json, django, sys; django.setup(); from django.conf import settings as s; "
    "print(json.dumps({'proxy': s.SECURE_PROXY_SSL_HEADER, 'key': s.SECRET_KEY, "
    "'num_proxies': s.REST_FRAMEWORK.get('NUM_PROXIES')}))"
)


def settings_with(**env) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "COOP_", "PYTEST_"))}
    clean.update(DJANGO_SETTINGS_MODULE="coopmarket.settings", **env)
    return subprocess.run([sys.executable, "-c", PROBE], cwd=BASE_DIR, env=clean, capture_output=True, text=True, timeout=60)


def probe(**env) -> dict:
    result = settings_with(**env)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


KEY = "k" * 60


def test_the_forwarded_proto_header_is_trusted_only_behind_a_proxy():
    assert probe(DJANGO_SECRET_KEY=KEY)["proxy"] is None
    assert probe(DJANGO_SECRET_KEY=KEY, DJANGO_BEHIND_PROXY="1")["proxy"] == ["HTTP_X_FORWARDED_PROTO", "https"]


def test_client_addresses_come_from_the_forwarded_header_only_behind_a_proxy():
    assert probe(DJANGO_SECRET_KEY=KEY)["num_proxies"] == 0  # X-Forwarded-For ignored
    assert probe(DJANGO_SECRET_KEY=KEY, DJANGO_BEHIND_PROXY="1")["num_proxies"] == 1
    assert probe(DJANGO_SECRET_KEY=KEY, DJANGO_BEHIND_PROXY="1", DJANGO_PROXY_COUNT="2")["num_proxies"] == 2


def test_no_secret_key_outside_debug_is_refused():
    result = settings_with()
    assert result.returncode != 0
    assert "DJANGO_SECRET_KEY" in result.stderr


def test_in_debug_without_a_key_a_random_key_is_kept_in_a_file_and_announced(tmp_path):
    key_file = tmp_path / "secret_key"
    first = settings_with(DJANGO_DEBUG="1", DJANGO_SECRET_KEY_FILE=str(key_file))
    assert first.returncode == 0, first.stderr
    assert "DJANGO_SECRET_KEY" in first.stderr  # announced, not silent
    key = json.loads(first.stdout.strip().splitlines()[-1])["key"]
    assert len(key) >= 50 and key_file.read_text().strip() == key
    assert "insecure" not in key
    assert probe(DJANGO_DEBUG="1", DJANGO_SECRET_KEY_FILE=str(key_file))["key"] == key  # stable across restarts
    assert oct(key_file.stat().st_mode & 0o777) == "0o600"


def test_a_key_file_serves_production_too(tmp_path):
    key_file = tmp_path / "secret_key"
    key_file.write_text(KEY + "\n")
    assert probe(DJANGO_SECRET_KEY_FILE=str(key_file))["key"] == KEY


def test_tests_get_a_random_key_never_a_fixed_one():
    keys = {probe(COOP_TESTING="1")["key"] for _ in range(2)}
    assert len(keys) == 2
    assert not any("insecure" in key for key in keys)


# --- seed_demo ---------------------------------------------------------------------------------


@pytest.mark.django_db
def test_seed_demo_refuses_to_run_with_debug_off(settings):
    settings.DEBUG = False
    with pytest.raises(CommandError, match="--force"):
        call_command("seed_demo", members=1, stdout=StringIO(), stderr=StringIO())
    from django.contrib.auth import get_user_model

    assert not get_user_model().objects.filter(username="admin").exists()


# --- PDFs --------------------------------------------------------------------------------------


@pytest.fixture
def fetcher():
    return LocalOnlyURLFetcher()


@pytest.mark.parametrize("url", [
    (BASE_DIR / "manage.py").as_uri(),
    (BASE_DIR / "coopmarket" / "settings.py").as_uri(),
    "file:///etc/passwd",
    (BASE_DIR / "static" / ".." / "manage.py").as_uri(),
    "http://169.254.169.254/latest/meta-data/",
    "https://example.org/logo.png",
    "ftp://example.org/x",
])
def test_the_pdf_fetcher_refuses_anything_but_static_files_and_data(fetcher, url):
    with pytest.raises(ValueError):
        fetcher.fetch(url)


def test_the_pdf_fetcher_serves_static_files_and_data_uris(fetcher):
    static = Path(django_settings.STATICFILES_DIRS[0]) / "coopmarket" / "site.css"
    fetched = fetcher.fetch(static.as_uri())
    assert fetched is not None
    assert fetcher.fetch("data:text/plain;base64,aGk=") is not None


def test_a_pdf_template_cannot_embed_a_project_file(tmp_path, settings, monkeypatch):
    from weasyprint.urls import URLFetcher

    fetched = []
    original = URLFetcher.fetch
    monkeypatch.setattr(URLFetcher, "fetch", lambda self, url, *a, **k: fetched.append(url) or original(self, url, *a, **k))
    template_dir = tmp_path / "templates"
    template_dir.mkdir()
    (template_dir / "probe.html").write_text(
        f'<html><body><p>probe</p><img src="{(BASE_DIR / "manage.py").as_uri()}"><link rel="stylesheet" '
        f'href="{(BASE_DIR / "coopmarket" / "settings.py").as_uri()}"></body></html>'
    )
    settings.TEMPLATES = [{**django_settings.TEMPLATES[0], "DIRS": [template_dir, *django_settings.TEMPLATES[0]["DIRS"]]}]
    pdf = render_pdf("probe.html", {})
    assert pdf.startswith(b"%PDF")
    assert not [url for url in fetched if url.startswith("file:")], fetched
