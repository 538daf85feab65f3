"""The built-in calendar formats: iCalendar (``.ics``) and jCal (RFC 7265, ``.json``).

Registered through ``register_calendar_formats`` like any third-party format, so the registry
is proven by two real users. Essential: without a format every feed would be a 404, so it
cannot be switched off. Both render the calendar that :meth:`planner.api.Feed.calendar` builds
(plugins have decorated its events by then); ``.ics`` writes the same bytes through
:meth:`planner.api.Feed.ics`, which skips the ``icalendar`` objects no plugin needs.
"""

from __future__ import annotations

import json

from planner.api import CalendarFormat, Feed, hookimpl, to_jcal


def render_ics(feed: Feed) -> bytes:
    # Not to_ics(feed.calendar()): the same bytes, without an icalendar object per event.
    return feed.ics()


def render_jcal(feed: Feed) -> bytes:
    return json.dumps(to_jcal(feed.calendar()), ensure_ascii=False).encode("utf-8")


ICS = CalendarFormat(
    key="ics",
    media_type="text/calendar; charset=utf-8",
    extension="ics",
    render=render_ics,
    label="iCalendar",
)
JCAL = CalendarFormat(
    key="jcal",
    media_type="application/calendar+json; charset=utf-8",
    extension="json",
    render=render_jcal,
    label="jCal (JSON)",
)


@hookimpl
def register_calendar_formats() -> list[CalendarFormat]:
    return [ICS, JCAL]
