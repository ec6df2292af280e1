"""Request checks made once, before any view (DOMAIN.md §8: input is checked, never trusted).

`RejectControlCharactersMiddleware` answers 400 when the path, a query parameter (name or
value), a form or multipart field (name or value), an uploaded file's name, or any string of a
JSON body (keys included, at any depth) holds a control character: NUL and the other C0
controls except tab, line feed and carriage return, DEL, or a lone UTF-16 surrogate (JSON's
"\\ud800"). PostgreSQL refuses NUL in text and cannot encode a lone surrogate: without this
check, such input reaches the database and answers 500. No view has to think about it.
"""
from __future__ import annotations

import json
import re

from django.http import HttpResponseBadRequest, JsonResponse
from django.http.multipartparser import MultiPartParserError
from django.utils.translation import gettext as _

FORBIDDEN = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff]")
JSON_TYPES = re.compile(r"^application/([\w.+-]+\+)?json$")


def _bad_strings(value) -> bool:
    """True when a JSON value holds a forbidden character in any string, key or value."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            if FORBIDDEN.search(item):
                return True
        elif isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return False


def _bad_querydict(data) -> bool:
    return any(FORBIDDEN.search(key) or any(FORBIDDEN.search(v) for v in values) for key, values in data.lists())


def has_forbidden_characters(request) -> bool:
    if FORBIDDEN.search(request.path_info) or _bad_querydict(request.GET):
        return True
    if request.method in ("GET", "HEAD", "OPTIONS"):
        return False
    content_type = (request.content_type or "").lower()
    if JSON_TYPES.match(content_type):
        try:
            data = json.loads(request.body or b"null")
        except (ValueError, UnicodeDecodeError):
            return False  # not JSON: the parser answers its own 400
        return _bad_strings(data)
    if content_type in ("application/x-www-form-urlencoded", "multipart/form-data"):
        try:
            if _bad_querydict(request.POST):
                return True
            return any(FORBIDDEN.search(upload.name or "") for upload in request.FILES.values())
        except MultiPartParserError:
            return False  # Django answers a malformed multipart body itself
    return False


class RejectControlCharactersMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if has_forbidden_characters(request):
            detail = _("The request holds a control character (such as a NUL byte): remove it and send it again.")
            if request.path.startswith("/api/"):
                return JsonResponse({"detail": detail, "code": "invalid_characters"}, status=400)
            return HttpResponseBadRequest(detail, content_type="text/html; charset=utf-8")
        return self.get_response(request)
