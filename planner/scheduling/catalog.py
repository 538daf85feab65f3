"""Scheduling's own words in every language: the gettext domain ``schedules``.

Scheduling stays pure (no Flask), so it cannot ask Flask-Babel for the request's language; every
function that speaks takes a ``locale`` and finds its catalog here, in
``planner/translations/<locale>/LC_MESSAGES/schedules.mo``. English is the source language, so
``en_GB`` and ``en_US`` need no catalog; a missing catalog falls back to English too.

Messages are marked with :func:`N_` (a single message), :func:`NN_` (singular and plural), or
written as literal ``gettext``/``ngettext``/``pgettext``/``npgettext`` calls on a catalog. The
domain is extracted on its own::

    pybabel extract --no-default-keywords -k N_ -k NN_:1,2 -k gettext -k ngettext:1,2 \\
        -k pgettext:1c,2 -k npgettext:1c,2,3 -c Translators: \\
        -o planner/translations/schedules.pot planner/scheduling
"""

from __future__ import annotations

import functools
from typing import Protocol

from babel.support import NullTranslations, Translations

from planner import locales

DOMAIN = "schedules"


def N_(message: str) -> str:
    """Marks a message for extraction; it is translated where it is shown."""
    return message


def NN_(singular: str, plural: str) -> tuple[str, str]:
    """Marks a singular/plural pair for extraction (``ngettext`` translates it)."""
    return singular, plural


def code(locale: str | None) -> str:
    """``locale`` as one of :data:`planner.locales.LANGUAGES` (``en_GB`` when unknown)."""
    return locales.supported(locale) or locales.FALLBACK


class Catalog:
    """One language's ``schedules`` messages, typed (Babel's own methods return ``object``)."""

    def __init__(self, catalog: NullTranslations) -> None:
        self._catalog = catalog

    def gettext(self, message: str) -> str:
        return str(self._catalog.gettext(message))

    def ngettext(self, singular: str, plural: str, n: int) -> str:
        return str(self._catalog.ngettext(singular, plural, n))

    def pgettext(self, context: str, message: str) -> str:
        return str(self._catalog.pgettext(context, message))

    def npgettext(self, context: str, singular: str, plural: str, n: int) -> str:
        return str(self._catalog.npgettext(context, singular, plural, n))


@functools.lru_cache(maxsize=32)
def translations(locale: str | None) -> Catalog:
    """The ``schedules`` catalog of ``locale`` (English, the msgids, when it has none)."""
    chosen = code(locale)
    if chosen not in locales.TRANSLATED:
        return Catalog(NullTranslations())
    return Catalog(Translations.load(str(locales.CATALOGS), [chosen], domain=DOMAIN))


class Localized(Protocol):
    """A value that is written differently in each language (a date, a time, a number)."""

    def in_locale(self, locale: str) -> str: ...


def render(message: str, params: dict[str, object], locale: str | None) -> str:
    """``message`` translated into ``locale``, its named placeholders filled in there."""
    text = translations(locale).gettext(message)
    if not params:
        return text
    chosen = code(locale)
    values = {
        name: value.in_locale(chosen) if hasattr(value, "in_locale") else value
        for name, value in params.items()
    }
    return text % values
