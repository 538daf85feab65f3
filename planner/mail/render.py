"""Mail bodies from Jinja templates (``templates/mail/<name>.txt`` and ``.html``) and links.

Links use ``PLANNER_SITE_URL`` rather than the request's host: a mail is read later, elsewhere,
and a worker rendering one has no request at all.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from flask import current_app


def site_link(endpoint: str, **values: Any) -> str:
    """An absolute URL for ``endpoint`` on ``PLANNER_SITE_URL``, with or without a request."""
    site = urlsplit(str(current_app.config["SITE_URL"]))
    adapter = current_app.url_map.bind(
        site.netloc, script_name=site.path.rstrip("/") or "/", url_scheme=site.scheme or "http"
    )
    url: str = adapter.build(endpoint, values, force_external=True)
    return url


def render(template: str, **context: Any) -> tuple[str, str]:
    """The text and HTML bodies of ``mail/<name>``; both extend the mail base layouts."""
    env = current_app.jinja_env
    context.setdefault("site_name", current_app.config["SITE_NAME"])
    context.setdefault("site_url", str(current_app.config["SITE_URL"]).rstrip("/"))
    text = env.get_template(f"mail/{template}.txt").render(**context)
    html = env.get_template(f"mail/{template}.html").render(**context)
    return text.strip() + "\n", html
