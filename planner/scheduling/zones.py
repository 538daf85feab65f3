"""The vocabulary the rest of scheduling speaks: its error, the year bounds, zones and
occurrence keys.

A routine is wall-clock time in its zone, so everything turns a naive local time into an instant
through :func:`localize`; keeping that in one place is what makes DST behave the same on every
page, in every feed and in every plugin.
"""

from __future__ import annotations

import functools
import re
from datetime import UTC, datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from planner.locales import FALLBACK
from planner.scheduling.catalog import N_, render

KEY_FORMAT = "%Y%m%dT%H%M"

#: The years a person's dates may name: a first or last date, UNTIL, an occurrence key. Wide
#: enough for any plan; narrow enough that a week's margin or a zone's offset never leaves the
#: years ``datetime`` holds (1 to 9999), which would be an OverflowError deep inside a page.
FIRST_YEAR, LAST_YEAR = 1900, 2999


class RecurrenceError(ValueError):
    """A rule or series that cannot be used; ``str(error)`` is a message for the person, in
    English. ``error.message(locale)`` is the same message in the person's language.

    Raised as ``RecurrenceError(N_("“%(name)s” is not a timezone."), name=name)``: the msgid of
    the ``schedules`` domain and its named values, which may be :class:`~catalog.Localized`
    (dates, times, numbers written in the reader's language). A message without values is not
    %-formatted.
    """

    def __init__(self, message: str, /, **params: object) -> None:
        self.msgid = message
        self.params = params
        super().__init__(render(message, params, FALLBACK))

    def message(self, locale: str | None) -> str:
        """The message in ``locale`` (English when scheduling has no catalog for it)."""
        return render(self.msgid, self.params, locale)


@functools.lru_cache(maxsize=512)
def load_zone(name: str) -> ZoneInfo:
    """The zone called ``name``; RecurrenceError (a message for the person) when unknown."""
    if not name or not isinstance(name, str):
        raise RecurrenceError(N_("Choose a timezone."))
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        raise RecurrenceError(
            N_("“%(name)s” is not a timezone we know. Use a name like Europe/Berlin."), name=name
        ) from None


def localize(naive: datetime, tz_name: str) -> datetime:
    """The aware instant for a local wall-clock time.

    A time inside a spring gap moves forward by the gap (02:30 becomes 03:30 in Berlin); an
    ambiguous time takes its first instant. zoneinfo gives the pre-transition offset for fold=0,
    and the UTC round trip turns that into a real wall-clock time.
    """
    return instant(naive, tz_name).astimezone(load_zone(tz_name))


def instant(naive: datetime, tz_name: str) -> datetime:
    """``localize`` in UTC: safe to compare and subtract.

    Aware datetimes sharing a zone compare by wall clock (fold ignored), and an ambiguous time
    never equals a time in another zone (PEP 495), so comparisons belong in UTC. The instant is
    the one zoneinfo gives the wall time with fold=0; ``localize`` only turns it back into the
    zone's wall clock.
    """
    return naive.replace(tzinfo=load_zone(tz_name), fold=0).astimezone(UTC)


def to_local_naive(aware: datetime, tz_name: str) -> datetime:
    """The wall-clock time of an instant in the zone, without tzinfo (fold dropped)."""
    return aware.astimezone(load_zone(tz_name)).replace(tzinfo=None, fold=0)


def format_key(naive: datetime) -> str:
    """The URL key of an occurrence: its original local start as ``YYYYMMDDTHHMM``."""
    return naive.strftime(KEY_FORMAT)


_KEY_RE = re.compile(r"\d{8}T\d{4}")


def parse_key(text: str) -> datetime:
    """The naive local start in a URL key; ValueError when it is not a valid key."""
    if not isinstance(text, str) or not _KEY_RE.fullmatch(text):
        raise ValueError(f"not an occurrence key: {text!r}")
    moment = datetime.strptime(text, KEY_FORMAT)
    if not FIRST_YEAR <= moment.year <= LAST_YEAR:
        raise ValueError(f"an occurrence key outside {FIRST_YEAR}-{LAST_YEAR}: {text!r}")
    return moment
