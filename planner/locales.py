"""The languages planner speaks, in one place every room may import (it needs only Babel).

English is the source language: its strings are the msgids, so ``en_GB`` and ``en_US`` need no
catalog and differ only in their date conventions (24-hour against 12-hour clock, day before
month against month before day). German, French and Spanish ship complete catalogs in
:data:`CATALOGS`. The web layer picks a request's locale (:mod:`planner.web.i18n`); mail takes
the recipient's (:func:`of_person`) and a group feed its group's language.
"""

from __future__ import annotations

from pathlib import Path
from typing import Protocol

from babel import Locale, UnknownLocaleError

#: The languages a person can pick, by locale code, each named in its own language.
LANGUAGES: dict[str, str] = {
    "en_GB": "English (UK)",
    "en_US": "English (US)",
    "de": "Deutsch",
    "fr": "Français",
    "es": "Español",
}
#: The languages with a catalog of their own (English is the source).
TRANSLATED = ("de", "fr", "es")
#: Where the core catalogs live: ``<locale>/LC_MESSAGES/<domain>.po`` (and the compiled .mo).
CATALOGS = Path(__file__).resolve().parent / "translations"
FALLBACK = "en_GB"


def supported(code: str | None, default: str = FALLBACK) -> str | None:
    """``code`` as one of :data:`LANGUAGES` (``de-AT`` and ``de_DE`` are ``de``; ``en`` alone
    is ``default`` when that is an English, else ``en_GB``), or None when planner does not
    speak it."""
    if not code:
        return None
    try:
        parsed = Locale.parse(code.replace("-", "_"))
    except (UnknownLocaleError, ValueError, TypeError):
        return None
    full = f"{parsed.language}_{parsed.territory}" if parsed.territory else parsed.language
    if full in LANGUAGES:
        return full
    if parsed.language in LANGUAGES:
        return parsed.language
    if parsed.language == "en":
        return default if default.startswith("en") else FALLBACK
    return None


class HasLocale(Protocol):
    locale: str | None


def of_person(person: HasLocale | None, default: str = FALLBACK) -> str:
    """The locale to write to ``person`` in (mail, their personal feed): their own choice,
    else the site's default."""
    chosen = person.locale if person is not None else None
    return supported(chosen, default) or default
