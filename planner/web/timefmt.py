"""Jinja filters that show times the way a person reads them.

Occurrence times are aware datetimes in the routine's zone. A person sees them in their own
zone (their account's, else the group's for visitors), and when the routine lives in another
zone its local time and zone are named too, so "19:00 in Europe/Berlin" is never silently
turned into "13:00" for someone reading from New York.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, timedelta
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from flask import Flask, g
from flask_login import current_user
from markupsafe import Markup, escape

from planner import locales
from planner.web.i18n import current_locale

UTC = ZoneInfo("UTC")


@lru_cache(maxsize=512)
def zone(name: str | None) -> ZoneInfo:
    """A zone by name; an empty or unknown one (old data, a removed zone) reads as UTC."""
    if not name:
        return UTC
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return UTC


def viewer_zone_name(fallback: str | None = None) -> str:
    """The zone to show times in: the account's, else the page's group's, else ``fallback``."""
    user = current_user._get_current_object()  # one proxy lookup, not three
    if user and user.is_authenticated and user.timezone:
        return str(user.timezone)
    return g.get("viewer_timezone") or fallback or "UTC"


def now_utc() -> datetime:
    return datetime.now(UTC)


def _day(dt: datetime, locale: str) -> str:
    return escape(locales.day(dt, locale))


def _clock(dt: datetime, locale: str) -> str:
    return locales.clock(dt, locale)


# A page lists the same occurrences for every visitor in a zone and language, request after
# request: the strings below are pure functions of (times, routine zone, viewer zone, locale),
# so they are kept: Babel's formatting is the dearest part of a list page otherwise.
FORMATTED_CACHE = 8192


def when(dt: datetime | None, routine_zone: str | None = None, fallback: str | None = None):
    """``Thu 12 Mar 2026, 19:00`` in the viewer's zone, with the routine's time named when its
    zone differs: ``Thu 12 Mar 2026, 13:00 (19:00 Europe/Berlin)``."""
    if dt is None:
        return ""
    if dt.tzinfo is None:  # stored columns are naive UTC (invite expiry, comment times)
        dt = dt.replace(tzinfo=UTC)
    return _when(dt, dt.utcoffset(), routine_zone, viewer_zone_name(fallback), current_locale())


@lru_cache(maxsize=FORMATTED_CACHE)
def _when(
    dt: datetime, _offset: object, routine_zone: str | None, viewer: str, locale: str
) -> Markup:
    # ``_offset`` is only part of the key: equal instants in two zones write different
    # ``datetime`` attributes.
    shown = dt.astimezone(zone(viewer))
    html = (
        f'<time datetime="{dt.isoformat()}">{_day(shown, locale)}, {_clock(shown, locale)}</time>'
    )
    if routine_zone and routine_zone != viewer:
        local = dt.astimezone(zone(routine_zone))
        other = (
            _clock(local, locale)
            if local.date() == shown.date()
            else f"{_day(local, locale)}, {_clock(local, locale)}"
        )
        html += f' <span class="zone">({other} {escape(routine_zone)})</span>'
    return Markup(html)


def time_range(
    start: datetime | None,
    end: datetime | None,
    routine_zone: str | None = None,
    fallback: str | None = None,
):
    """``Thu 12 Mar 2026, 19:00–21:00`` (end date named when it is another day), routine zone
    named as in :func:`when`."""
    if start is None:
        return ""
    if end is None:
        return when(start, routine_zone, fallback)
    offsets = (start.utcoffset(), end.utcoffset())
    locale = current_locale()
    return _range(start, end, offsets, routine_zone, viewer_zone_name(fallback), locale)


@lru_cache(maxsize=FORMATTED_CACHE)
def _range(
    start: datetime,
    end: datetime,
    _offsets: object,
    routine_zone: str | None,
    viewer: str,
    locale: str,
) -> Markup:
    vz = zone(viewer)
    s, e = start.astimezone(vz), end.astimezone(vz)

    def day_clock(dt: datetime) -> str:
        return f"{_day(dt, locale)}, {_clock(dt, locale)}"

    tail = _clock(e, locale) if s.date() == e.date() else day_clock(e)
    html = (
        f'<time datetime="{start.isoformat()}">{day_clock(s)}</time>–'
        f'<time datetime="{end.isoformat()}">{tail}</time>'
    )
    if routine_zone and routine_zone != viewer:
        rz = zone(routine_zone)
        ls, le = start.astimezone(rz), end.astimezone(rz)
        head = _clock(ls, locale) if ls.date() == s.date() else day_clock(ls)
        html += (
            f' <span class="zone">({head}–{_clock(le, locale)} {escape(routine_zone)})</span>'
        )
    return Markup(html)


def relative_day(dt: datetime | date | None, fallback: str | None = None, now=None) -> str:
    """"today", "tomorrow", "in 3 days", "yesterday", "5 days ago", counted in calendar days
    of the viewer's zone (so 23:30 tonight is "today", not "in 0 days")."""
    if dt is None:
        return ""
    vz = zone(viewer_zone_name(fallback))
    today = (now or now_utc()).astimezone(vz).date()
    day = dt.astimezone(vz).date() if isinstance(dt, datetime) else dt
    return locales.relative_days((day - today).days, current_locale())


def minutes(value: int | timedelta | None) -> str:
    """A duration in words: ``1 hour 30 minutes``, ``45 minutes``, ``2 days``."""
    if value is None:
        return ""
    total = int(value.total_seconds() // 60) if isinstance(value, timedelta) else int(value)
    return locales.duration(total, current_locale())


def _in_locale(format_date: Callable[[Any, str], str]) -> Callable[[Any], str]:
    def apply(value: date | None) -> str:
        return "" if value is None else format_date(value, current_locale())

    return apply


#: Dates as they are (a planned break's days, a date in its routine's zone), in the page's
#: language: ``{{ b.first_day|short_day }}``.
DATE_FILTERS: dict[str, Callable[..., str]] = {
    "day": locales.day,
    "short_day": locales.short_day,
    "long_day": locales.long_day,
    "full_date": locales.full_date,
    "month_year": locales.month_year,
    "clock": locales.clock,
}


def register(app: Flask) -> None:
    """Install the filters and the ``viewer_zone`` global on ``app``'s Jinja environment."""
    app.add_template_filter(when, "when")
    app.add_template_filter(time_range, "time_range")
    app.add_template_filter(relative_day, "relative_day")
    app.add_template_filter(minutes, "minutes")
    for name, format_date in DATE_FILTERS.items():
        app.add_template_filter(_in_locale(format_date), name)
    app.add_template_global(viewer_zone_name, "viewer_zone")
