"""The languages planner speaks, in one place every room may import (it needs only Babel).

English is the source language: its strings are the msgids, so ``en_GB`` and ``en_US`` need no
catalog and differ only in their date conventions (24-hour against 12-hour clock, day before
month against month before day). German, French and Spanish ship complete catalogs in
:data:`CATALOGS`. The web layer picks a request's locale (:mod:`planner.web.i18n`); mail takes
the recipient's (:func:`of_person`) and a group feed its group's language.
"""

from __future__ import annotations

import re
from datetime import date, datetime, time, timedelta
from functools import lru_cache
from pathlib import Path
from typing import Literal, Protocol

from babel import Locale, UnknownLocaleError
from babel.dates import format_date, format_skeleton, format_time, format_timedelta
from babel.lists import format_list
from babel.units import format_unit

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
#: Catalogs still being translated: their untranslated messages show in English and the
#: catalog check lists them without failing (docs/languages.md). Empty once all are complete.
IN_PROGRESS: tuple[str, ...] = ()
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
    @property
    def locale(self) -> str | None: ...


def of_person(person: HasLocale | None, default: str = FALLBACK) -> str:
    """The locale to write to ``person`` in (mail, their personal feed): their own choice,
    else the site's default."""
    chosen = person.locale if person is not None else None
    return supported(chosen, default) or default


# Dates in each language's own order and punctuation. British English keeps planner's house
# style ("Thu 12 Mar 2026"); the others follow CLDR's usual forms, written out so a reviewer can
# read every one (Babel's skeletons abbreviate the weekday in some locales and not in others).
_DAY = {  # a date in a list: weekday and month short, with the year
    "en_GB": "EEE d MMM y",
    "en_US": "EEE, MMM d, y",
    "de": "EEE, d. MMM y",
    "fr": "EEE d MMM y",
    "es": "EEE, d MMM y",
}
_SHORT_DAY = {  # a date close enough to need no year
    "en_GB": "EEE d MMM",
    "en_US": "EEE, MMM d",
    "de": "EEE, d. MMM",
    "fr": "EEE d MMM",
    "es": "EEE, d MMM",
}
_LONG_DAY = {  # a date in a sentence: weekday and month in full, no year
    "en_GB": "EEEE d MMMM",
    "en_US": "EEEE, MMMM d",
    "de": "EEEE, d. MMMM",
    "fr": "EEEE d MMMM",
    "es": "EEEE, d 'de' MMMM",
}
_LONG_DAY_YEAR = {  # the same with the year
    "en_GB": "EEEE d MMMM y",
    "en_US": "EEEE, MMMM d, y",
    "de": "EEEE, d. MMMM y",
    "fr": "EEEE d MMMM y",
    "es": "EEEE, d 'de' MMMM 'de' y",
}
_DATE = {  # a date without its weekday, month in full
    "en_GB": "d MMMM y",
    "en_US": "MMMM d, y",
    "de": "d. MMMM y",
    "fr": "d MMMM y",
    "es": "d 'de' MMMM 'de' y",
}


def _pattern(table: dict[str, str], locale: str, padded: bool = False) -> str:
    pattern = table.get(locale) or table.get(locale.split("_")[0]) or table[FALLBACK]
    # British house style in some mails, kept as it was: "01 April" (two-digit day).
    if padded and locale == FALLBACK:
        return re.sub(r"(?<![d'])d(?![d'])", "dd", pattern)
    return pattern


def day(value: date, locale: str) -> str:
    """``Thu 12 Mar 2026`` / ``Thu, Mar 12, 2026`` / ``Do., 12. März 2026``."""
    return format_date(value, _pattern(_DAY, locale), locale=locale)


def month_year(value: date, locale: str) -> str:
    """``March 2026`` / ``März 2026`` / ``marzo de 2026``."""
    return format_skeleton("yMMMM", value, locale=locale)


def long_day(value: date, locale: str, *, year: bool = False, padded: bool = False) -> str:
    """``Thursday 12 March`` / ``Donnerstag, 12. März`` / ``jueves, 12 de marzo``;
    ``padded``: ``Thursday 05 March`` in en_GB (other locales as usual)."""
    return format_date(value, _pattern(_LONG_DAY_YEAR if year else _LONG_DAY, locale, padded),
                       locale=locale)


def short_day(value: date, locale: str, *, year: bool = False, padded: bool = False) -> str:
    """``Thu 12 Mar`` / ``Thu, Mar 12`` / ``Do., 12. März``: a date in a mail's subject;
    ``year``: as :func:`day`; ``padded``: ``Thu 05 Mar`` in en_GB."""
    return format_date(value, _pattern(_DAY if year else _SHORT_DAY, locale, padded),
                       locale=locale)


def weekday(value: date, locale: str) -> str:
    """``Thursday`` / ``Donnerstag`` / ``jeudi``."""
    return format_date(value, "EEEE", locale=locale)


def full_date(value: date, locale: str) -> str:
    """``12 March 2026`` / ``March 12, 2026`` / ``12. März 2026``."""
    return format_date(value, _pattern(_DATE, locale), locale=locale)


def clock(value: datetime | time, locale: str) -> str:
    """``19:00``, or ``7:00 PM`` in en_US. CLDR puts a narrow no-break space before "PM";
    a plain space reads the same in every mail client and calendar."""
    return format_time(value, "short", locale=locale).replace("\u202f", " ")


def relative(delta: timedelta, locale: str) -> str:
    """``in 3 days`` / ``in 3 Tagen`` / ``dans 3 jours`` / ``3 days ago``."""
    return format_timedelta(delta, add_direction=True, locale=locale)


def and_list(words: list[str], locale: str) -> str:
    """``Ann, Ben and Cleo`` / ``Ann, Ben und Cleo`` / ``Ann, Ben y Cleo``."""
    return format_list(words, locale=locale) if words else ""


@lru_cache(maxsize=4096)
def relative_days(days: int, locale: str) -> str:
    """A calendar-day distance in words: ``today``, ``tomorrow``, ``übermorgen``, ``in 3 days``,
    ``in 2 weeks``, ``5 days ago``. Under two weeks it counts days, under two months whole
    weeks, then whole months (30 days), as people say it.

    Kept per (distance, locale): a busy group page asks it for each of its 200 dates, about
    20 distinct ones, and each answer cost a CLDR lookup and a Babel format."""
    named = Locale.parse(locale)._data["date_fields"]["day"]["relative"]  # CLDR's own words
    if days in named:
        return str(named[days])
    size = abs(days)
    unit: Literal["day", "week", "month"]
    if size < 14:
        span, unit = timedelta(days=size), "day"
    elif size < 60:
        span, unit = timedelta(weeks=size // 7), "week"
    else:
        span, unit = timedelta(days=30 * (size // 30)), "month"
    # A threshold no unit reaches keeps Babel from rounding "10 days" up to "1 week".
    return format_timedelta(
        span if days > 0 else -span, granularity=unit, threshold=10**6, add_direction=True,
        locale=locale,
    )


def duration(total_minutes: int, locale: str) -> str:
    """``1 hour 30 minutes`` / ``1 Stunde 30 Minuten`` / ``2 días``, from CLDR's unit names."""
    days, rest = divmod(total_minutes, 24 * 60)
    hours, mins = divmod(rest, 60)
    parts = [
        format_unit(amount, unit, length="long", locale=locale)
        for amount, unit in ((days, "duration-day"), (hours, "duration-hour"),
                             (mins, "duration-minute"))
        if amount
    ]
    return " ".join(parts) or format_unit(0, "duration-minute", length="long", locale=locale)
