"""Which language a request is served in, and where the catalogs come from.

The languages themselves are listed in :mod:`planner.locales`. The core catalogs live in
``planner/translations``; a plugin package ships its own next to its code
(``<package>/translations``, found like its ``templates/``) and Flask-Babel merges them into
the one ``messages`` domain, so a plugin's ``_()`` needs nothing of its own.

The locale is, in order: the member's own setting, the language a visitor picked with the
switcher (a cookie), the browser's ``Accept-Language``, and ``PLANNER_DEFAULT_LOCALE``.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from babel import support
from flask import Flask, current_app, has_request_context, request
from flask_babel import Babel, get_locale
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms.i18n import messages_path

from planner import locales
from planner.locales import CATALOGS, LANGUAGES

#: A visitor's pick from the language switcher.
COOKIE = "planner_locale"


def supported(code: str | None) -> str | None:
    return locales.supported(code, default_locale())


def default_locale(app: Flask | None = None) -> str:
    """``PLANNER_DEFAULT_LOCALE``, of ``app`` or the current one."""
    return str((app or current_app).config.get("DEFAULT_LOCALE") or locales.FALLBACK)


def from_accept_language() -> str | None:
    """The first language in the browser's list (by quality) that planner speaks."""
    for code, _quality in request.accept_languages:
        found = supported(code)
        if found:
            return found
    return None


def select_locale() -> str:
    if not has_request_context():  # a job or a command: mail code forces the recipient's
        return default_locale()
    user = current_user._get_current_object() if current_user else None
    if user is not None and user.is_authenticated and getattr(user, "locale", None):
        found = supported(user.locale)
        if found:
            return found
    return supported(request.cookies.get(COOKIE)) or from_accept_language() or default_locale()


def current_locale() -> str:
    """The locale code this request is rendered in (``de``, ``en_US``)."""
    locale = get_locale()
    return str(locale) if locale is not None else default_locale()


def text_direction() -> str:
    locale = get_locale()
    return locale.text_direction if locale is not None else "ltr"


def html_lang() -> str:
    """The BCP 47 tag for ``<html lang>``: ``en-GB``, ``de``."""
    return current_locale().replace("_", "-")


@lru_cache(maxsize=64)
def _wtforms_catalog(locale: str) -> support.NullTranslations:
    return support.Translations.load(messages_path(), [locale], domain="wtforms")


class FormTranslations:
    """WTForms' own messages in the request's language, each catalog read once per process.

    Flask-WTF's reads the catalog file again in every request that needs one message (and
    building a form does): a form's ``Meta.get_translations`` may return this instead."""

    def gettext(self, string: str) -> str:
        return str(_wtforms_catalog(current_locale()).ugettext(string))

    def ngettext(self, singular: str, plural: str, n: int) -> str:
        return str(_wtforms_catalog(current_locale()).ungettext(singular, plural, n))


FORM_TRANSLATIONS = FormTranslations()


def form_translations(form: Any) -> FormTranslations | None:
    """For a form's ``Meta.get_translations``: the cached catalogs, or None (WTForms' English)
    when ``WTF_I18N_ENABLED`` is off, as Flask-WTF would."""
    return FORM_TRANSLATIONS if current_app.config.get("WTF_I18N_ENABLED", True) else None


class PlannerForm(FlaskForm):
    """The base of every planner form: Flask-WTF's, with WTForms' catalogs read once per
    process (:class:`FormTranslations`) instead of once per form built."""

    class Meta:
        get_translations = staticmethod(form_translations)


def init_app(app: Flask) -> None:
    folders = [str(CATALOGS), *app.extensions["planner"].translation_folders()]
    app.config["BABEL_TRANSLATION_DIRECTORIES"] = ";".join(folders)
    app.config.setdefault("BABEL_DEFAULT_LOCALE", default_locale(app))
    Babel(app, locale_selector=select_locale)

    @app.context_processor
    def _language():
        return {
            "html_lang": html_lang(),
            "text_dir": text_direction(),
            "languages": LANGUAGES,
            "current_locale": current_locale(),
        }


def problem(exc: Exception) -> str:
    """A scheduling error in the reader's language (``RecurrenceError.message``), any other
    error as written."""
    message = getattr(exc, "message", None)
    return message(current_locale()) if callable(message) else str(exc)
