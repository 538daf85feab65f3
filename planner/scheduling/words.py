"""Dates, times, lists and durations the way descriptions and error messages say them, in each
language ("Thursday 5 March" / "Donnerstag, 5. März", "1 hour 30 minutes" / "1 Stunde 30
Minuten"), kept apart so validation messages and descriptions say them alike.

English (``en_GB``, the default everywhere) keeps planner's house style; ``en_US`` differs only
in its clock ("7:00 PM") and in putting the month before the day. French running text writes
times as "19 h" and "19 h 30".
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from babel.dates import format_date, get_day_names
from babel.lists import format_list
from babel.numbers import format_decimal

from planner import locales
from planner.scheduling.catalog import code, translations

# English constants kept for callers that check values against them (forms, rules).
DAY_NAMES = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
ORDINALS = {1: "first", 2: "second", 3: "third", 4: "fourth", -1: "last"}

_DATE = {  # a date without its weekday: "3 December 2026"
    "en_GB": "d MMMM y",
    "en_US": "MMMM d, y",
    "de": "d. MMMM y",
    "fr": "d MMMM y",
    "es": "d 'de' MMMM 'de' y",
}
_LONG_DAY = {  # a date with its weekday: "Thursday 3 December 2026"
    "en_GB": "EEEE d MMMM y",
    "en_US": "EEEE, MMMM d, y",
    "de": "EEEE, d. MMMM y",
    "fr": "EEEE d MMMM y",
    "es": "EEEE d 'de' MMMM 'de' y",
}
_PADDED_DAY = {  # the same with a two-digit day in English, as some messages always had it
    "en_GB": "EEEE dd MMMM y",
    "en_US": "EEEE, MMMM dd, y",
}
_PADDED_DATE = {"en_GB": "dd MMMM y", "en_US": "MMMM dd, y"}
_DAY_MONTH = {  # a day of the year: "12 March"
    "en_GB": "d MMMM",
    "en_US": "MMMM d",
    "de": "d. MMMM",
    "fr": "d MMMM",
    "es": "d 'de' MMMM",
}


def _format(value: date, table: dict[str, str], locale: str, fallback: dict[str, str]) -> str:
    chosen = code(locale)
    pattern = table.get(chosen) or fallback[chosen]
    if chosen == "fr" and value.day == 1:  # "le 1er mars", never "le 1 mars"
        pattern = pattern.replace("dd", "d").replace("d ", "d'er' ", 1)
    return format_date(value, pattern, locale=chosen)


def clock(value: datetime | time, locale: str = "en_GB") -> str:
    """``19:00`` (``07:30``), ``7:00 PM`` in en_US, ``19 h`` / ``19 h 30`` in French."""
    if code(locale) == "fr":
        return f"{value.hour} h" if not value.minute else f"{value.hour} h {value.minute:02d}"
    return locales.clock(value, code(locale))


def short_day(value: date, locale: str = "en_GB") -> str:
    """``3 December 2026`` / ``December 3, 2026`` / ``3. Dezember 2026``."""
    return _format(value, _DATE, locale, _DATE)


def long_day(value: date, locale: str = "en_GB") -> str:
    """``Thursday 3 December 2026`` / ``Donnerstag, 3. Dezember 2026``."""
    return _format(value, _LONG_DAY, locale, _LONG_DAY)


def padded_day(value: date, locale: str = "en_GB") -> str:
    """``Thursday 03 December 2026`` in English, :func:`long_day` elsewhere."""
    return _format(value, _PADDED_DAY, locale, _LONG_DAY)


def padded_date(value: date, locale: str = "en_GB") -> str:
    """``03 December 2026`` in English, :func:`short_day` elsewhere."""
    return _format(value, _PADDED_DATE, locale, _DATE)


def day_month(value: date, locale: str = "en_GB") -> str:
    """``12 March`` / ``March 12`` / ``12. März`` / ``12 de marzo``."""
    return _format(value, _DAY_MONTH, locale, _DAY_MONTH)


def day_name(weekday: int, locale: str = "en_GB") -> str:
    """The weekday (0 = Monday) as a name: ``Thursday`` / ``Donnerstag`` / ``jeudi``."""
    return str(get_day_names("wide", locale=code(locale))[weekday])


def and_list(words: list[str], locale: str = "en_GB") -> str:
    """``Monday, Tuesday and Thursday`` (no serial comma in either English) / ``… und …``."""
    if code(locale).startswith("en"):
        if len(words) <= 1:
            return "".join(words)
        return ", ".join(words[:-1]) + " and " + words[-1]
    return format_list(words, locale=code(locale)) if words else ""


def number(value: int, locale: str = "en_GB") -> str:
    """``1,000`` / ``1.000`` / ``1 000``."""
    return format_decimal(value, locale=code(locale))


def describe_duration(duration: timedelta, locale: str = "en_GB") -> str:
    """ "2 hours", "1 hour 30 minutes", "2 days" (and "2 Stunden", "1 heure 30 minutes")."""
    t = translations(locale)
    minutes = int(duration.total_seconds() // 60)
    days, rest = divmod(minutes, 24 * 60)
    hours, minutes = divmod(rest, 60)
    words = []
    if days:
        words.append(t.ngettext("%(num)d day", "%(num)d days", days) % {"num": days})
    if hours:
        words.append(t.ngettext("%(num)d hour", "%(num)d hours", hours) % {"num": hours})
    if minutes or not words:
        words.append(
            t.ngettext("%(num)d minute", "%(num)d minutes", minutes) % {"num": minutes}
        )
    if len(words) == 1:
        return words[0]
    if len(words) == 2:
        # Translators: two parts of a duration, "1 hour 30 minutes" or "2 days 3 hours".
        return t.pgettext("duration", "%(first)s %(second)s") % {
            "first": words[0],
            "second": words[1],
        }
    # Translators: three parts of a duration, "2 days 3 hours 30 minutes".
    return t.pgettext("duration", "%(first)s %(second)s %(third)s") % {
        "first": words[0],
        "second": words[1],
        "third": words[2],
    }


def at(start: datetime | time, duration: timedelta | None = None, locale: str = "en_GB") -> str:
    """When on its day something happens: "at 19:00", "at 19:00 for 2 hours"."""
    t = translations(locale)
    values = {"time": clock(start, locale)}
    if duration is None:
        # Translators: the time of day in a schedule ("Every Thursday at 19:00"). The number
        # choosing the form is the hour, so Spanish can say "a la 1:00" and "a las 19:00".
        return t.ngettext("at %(time)s", "at %(time)s", start.hour) % values
    values["duration"] = describe_duration(duration, locale)
    # Translators: like "at %(time)s", with how long it lasts ("at 19:00 for 2 hours").
    return t.ngettext(
        "at %(time)s for %(duration)s", "at %(time)s for %(duration)s", start.hour
    ) % values


# -- values inside error messages, written in the reader's language ---------------------------


@dataclass(frozen=True)
class LongDay:
    value: date

    def in_locale(self, locale: str) -> str:
        return long_day(self.value, locale)


@dataclass(frozen=True)
class PaddedDay:
    value: date

    def in_locale(self, locale: str) -> str:
        return padded_day(self.value, locale)


@dataclass(frozen=True)
class ShortDay:
    value: date

    def in_locale(self, locale: str) -> str:
        return short_day(self.value, locale)


@dataclass(frozen=True)
class PaddedDate:
    value: date

    def in_locale(self, locale: str) -> str:
        return padded_date(self.value, locale)


@dataclass(frozen=True)
class At:
    value: datetime | time

    def in_locale(self, locale: str) -> str:
        return at(self.value, None, locale)


@dataclass(frozen=True)
class Number:
    value: int

    def in_locale(self, locale: str) -> str:
        return number(self.value, locale)
