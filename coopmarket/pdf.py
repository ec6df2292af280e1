"""Render a Django template to PDF with WeasyPrint, reading resources from the project's disk only."""
from pathlib import Path
from urllib.parse import urlsplit
from urllib.request import url2pathname

from django.conf import settings
from django.template.loader import render_to_string
from weasyprint import HTML
from weasyprint.urls import URLFetcher


class LocalOnlyURLFetcher(URLFetcher):
    """A WeasyPrint fetcher that never touches the network.

    `data:` URLs and `file:` URLs under the project directory are served; anything else (http, https,
    ftp, files elsewhere on the machine) is refused, which WeasyPrint logs and skips.
    """

    def __init__(self, root: Path, **kwargs):
        super().__init__(allowed_protocols={"file", "data"}, allow_redirects=False, **kwargs)
        self.root = Path(root).resolve()

    def fetch(self, url, headers=None):
        scheme = urlsplit(url).scheme.lower()
        if scheme in ("http", "https"):
            raise ValueError(f"network fetching is off for PDFs: {url}")
        if scheme == "file":
            path = Path(url2pathname(urlsplit(url).path)).resolve()
            if not path.is_relative_to(self.root):
                raise ValueError(f"PDF resources must live in the project directory: {url}")
        return super().fetch(url, headers)


def render_pdf(template_name: str, context: dict, request=None) -> bytes:
    """Render `template_name` with `context` and return the PDF bytes."""
    html = render_to_string(template_name, context, request=request)
    root = Path(settings.BASE_DIR)
    document = HTML(string=html, base_url=root.as_uri() + "/", url_fetcher=LocalOnlyURLFetcher(root))
    return document.write_pdf()
