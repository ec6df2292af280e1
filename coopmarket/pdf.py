"""Render a Django template to PDF with WeasyPrint, reading only the project's static files."""
from pathlib import Path
from urllib.parse import urlsplit
from urllib.request import url2pathname

from django.conf import settings
from django.contrib.staticfiles import finders
from django.template.loader import render_to_string
from weasyprint import HTML
from weasyprint.urls import URLFetcher


def static_roots() -> list[Path]:
    """Where the project's static files live: STATIC_ROOT, STATICFILES_DIRS and every app's
    `static/` directory (as the staticfiles finders see them)."""
    roots = [Path(settings.STATIC_ROOT)] if settings.STATIC_ROOT else []
    for finder in finders.get_finders():
        for storage in getattr(finder, "storages", {}).values():
            location = getattr(storage, "location", None)
            if location:
                roots.append(Path(location))
    return [root.resolve() for root in roots]


class LocalOnlyURLFetcher(URLFetcher):
    """A WeasyPrint fetcher that serves `data:` URIs and the project's static files, nothing else.

    Any other file (the settings, the SQLite database, /etc/...), and any network URL (http,
    https, ftp: a template must never make the server fetch a URL) is refused, which WeasyPrint
    logs and skips.
    """

    def __init__(self, **kwargs):
        super().__init__(allowed_protocols={"file", "data"}, allow_redirects=False, **kwargs)
        self.roots = static_roots()

    def fetch(self, url, headers=None):
        scheme = urlsplit(url).scheme.lower()
        if scheme == "data":
            return super().fetch(url, headers)
        if scheme != "file":
            raise ValueError(f"PDFs read only static files and data: URIs, not {url}")
        path = Path(url2pathname(urlsplit(url).path)).resolve()
        if not any(path.is_relative_to(root) for root in self.roots):
            raise ValueError(f"PDFs read only the project's static files, not {url}")
        return super().fetch(path.as_uri(), headers)


def render_pdf(template_name: str, context: dict, request=None) -> bytes:
    """Render `template_name` with `context` and return the PDF bytes. Relative URLs resolve
    against the project's `static/` directory."""
    html = render_to_string(template_name, context, request=request)
    base = Path(settings.BASE_DIR) / "static"
    document = HTML(string=html, base_url=base.as_uri() + "/", url_fetcher=LocalOnlyURLFetcher())
    return document.write_pdf()
