"""Every static file a template names exists (a missing one would be a 500 in production, where
the manifest storage refuses unknown names). CI's collectstatic step, with that storage, also
fails on a stylesheet pointing at a missing file."""
import re
from pathlib import Path

from django.conf import settings
from django.contrib.staticfiles import finders
from django.template import engines
from django.template.utils import get_app_template_dirs

STATIC_TAG = re.compile(r"""\{%\s*static\s+(["'])([^"']+)\1""")


def template_files():
    """The project's templates: the TEMPLATES dirs and the project apps' templates/ folders."""
    base = Path(settings.BASE_DIR)
    dirs = [Path(d) for d in engines["django"].engine.dirs] + [Path(d) for d in get_app_template_dirs("templates")]
    ours = [d for d in dirs if d.is_relative_to(base) and ".venv" not in d.parts]
    return [path for directory in ours for path in directory.rglob("*.html")]


def test_every_static_file_a_template_names_exists():
    named = {(path, match.group(2)) for path in template_files() for match in STATIC_TAG.finditer(path.read_text(encoding="utf-8"))}
    assert len(named) >= 12  # the scan found the templates (base.html alone names four files)
    missing = sorted(f"{path.relative_to(settings.BASE_DIR)}: {name}" for path, name in named if finders.find(name) is None)
    assert missing == []


def test_the_tills_offline_files_exist():
    from checkout.views import TILL_STATIC

    assert [name for name in TILL_STATIC if finders.find(name) is None] == []
