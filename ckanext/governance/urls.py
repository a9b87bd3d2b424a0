"""Where links and redirects may point: paths on this site, nothing else.

``next`` values arrive from query strings and forms. Browsers read
``/\\evil.example``, ``\\\\evil.example`` and ``/<tab>/evil.example`` as
links to another host, and CKAN's ``redirect_to`` reads a bare word as an
endpoint name (an unknown one is a 500 after the work was done). So a value
passes only as a plain absolute path: it starts with a single ``/``, names no
scheme or host, and holds no backslash or control character, before or
after percent-decoding.
"""
from __future__ import annotations

from typing import Any
from urllib.parse import unquote, urlsplit

import flask


def _plain(text: str) -> bool:
    return not any(ch == "\\" or ord(ch) < 0x20 or 0x7F <= ord(ch) <= 0x9F for ch in text)


def local_path(value: Any, default: str) -> str:
    """``value`` when it is a same-site path, else ``default``."""
    if not isinstance(value, str) or len(value) > 2000:
        return default
    for text in (value, unquote(value)):
        if not text.startswith("/") or text.startswith("//") or not _plain(text):
            return default
        parts = urlsplit(text)
        if parts.scheme or parts.netloc:
            return default
    return value


def redirect_local(value: Any, default: str) -> Any:
    """A redirect to ``value`` if it is a same-site path, else to ``default``."""
    return flask.redirect(local_path(value, default))
