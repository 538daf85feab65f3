"""Mail bodies from Jinja templates (``templates/mail/<name>.txt`` and ``.html``) and links.

Links use ``PLANNER_SITE_URL`` rather than the request's host: a mail is read later, elsewhere,
and a worker rendering one has no request at all.

A mail speaks its recipient's language, whoever caused it: whatever builds one person's mail
(subject, lines, bodies) does so inside :func:`speaking` with :func:`locale_of` the recipient,
and the draft carries :func:`language_header`. The outbox stores the rendered text, so a later
send never renders it again in another locale.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from urllib.parse import urlsplit

from flask import current_app
from flask_babel import force_locale, get_locale

from planner import locales


def site_link(endpoint: str, **values: Any) -> str:
    """An absolute URL for ``endpoint`` on ``PLANNER_SITE_URL``, with or without a request."""
    site = urlsplit(str(current_app.config["SITE_URL"]))
    adapter = current_app.url_map.bind(
        site.netloc, script_name=site.path.rstrip("/") or "/", url_scheme=site.scheme or "http"
    )
    url: str = adapter.build(endpoint, values, force_external=True)
    return url


def default_locale() -> str:
    return str(current_app.config.get("DEFAULT_LOCALE") or locales.FALLBACK)


def locale_of(person: locales.HasLocale | None) -> str:
    """The locale to write to ``person`` in: their own choice, else the site's default."""
    return locales.of_person(person, default_locale())


@contextmanager
def speaking(locale: str) -> Iterator[str]:
    """Translate (``gettext``) and format dates in ``locale`` within the block."""
    with force_locale(locale):
        yield locale


def current_locale() -> str:
    """The locale mail is being written in (the one :func:`speaking` set), as a code."""
    found = get_locale()
    code = locales.supported(str(found), default_locale()) if found is not None else None
    return code or default_locale()


def language_header(locale: str) -> dict[str, str]:
    """``Content-Language`` of a mail written in ``locale`` (``en-GB``, ``de``)."""
    return {"Content-Language": locale.replace("_", "-")}


def render(template: str, **context: Any) -> tuple[str, str]:
    """The text and HTML bodies of ``mail/<name>``; both extend the mail base layouts."""
    env = current_app.jinja_env
    context.setdefault("site_name", current_app.config["SITE_NAME"])
    context.setdefault("site_url", str(current_app.config["SITE_URL"]).rstrip("/"))
    context.setdefault("mail_lang", current_locale().replace("_", "-"))  # <html lang>
    text = env.get_template(f"mail/{template}.txt").render(**context)
    html = env.get_template(f"mail/{template}.html").render(**context)
    return text.strip() + "\n", html
