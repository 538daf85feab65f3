"""The one check every ``next``-like value passes before it reaches a ``Location`` header.

A redirect target arrives from the browser (a hidden field, a query string), so it is hostile
until proven a path on this site. Browsers are generous parsers: they drop tabs and newlines
inside URLs, read ``\\`` as ``/`` and turn full-width solidi into slashes, so ``/\\t/evil`` or
``/\\evil`` become ``//evil``, another site. Rather than guess every normalisation, only plain
printable ASCII paths are accepted, and the decoded form is checked as well as the raw one
(``/%2F/evil`` must not become ``//evil`` behind a proxy that decodes). Werkzeug refuses to
write CR or LF into a header and answers 500, which is why those must be caught here.
"""

from __future__ import annotations

from urllib.parse import unquote, urlsplit

from flask import redirect
from werkzeug.wrappers import Response

from planner.scheduling.recurrence import parse_key

#: Longer than any page address of this site; a larger value is junk (a 400 KB header was seen).
MAX_TARGET = 2000


def _plain(value: str) -> bool:
    """Printable ASCII without backslash: what a same-site path written by ``url_for`` is."""
    return all(32 < ord(ch) < 127 for ch in value) and "\\" not in value


def safe_path(target: object) -> str | None:
    """``target`` when it is a path on this site, else None; never raises on any input."""
    if not isinstance(target, str) or not target or len(target) > MAX_TARGET:
        return None
    if not _plain(target) or not target.startswith("/") or target.startswith("//"):
        return None
    decoded = unquote(target)
    if not all(ord(ch) > 32 for ch in decoded) or "\\" in decoded or decoded.startswith("//"):
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return None
    return target


def safe_redirect(target: object, fallback: str, code: int = 303) -> Response:
    """Redirect to ``target`` when :func:`safe_path` accepts it, else to ``fallback`` (a URL the
    caller built with ``url_for``)."""
    return redirect(safe_path(target) or fallback, code)


def is_key(value: object) -> bool:
    """True when ``value`` is a well-formed occurrence key (``YYYYMMDDTHHMM``)."""
    try:
        parse_key(value)  # type: ignore[arg-type]
    except ValueError:
        return False
    return True
