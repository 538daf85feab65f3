"""Walks: a device-free walk. Meeting point, distance, pace, terrain, and the group's
phones-away agreement, which is written into the description so it travels with the event.

Every VEVENT gets a display alarm ``reminder_minutes`` before the start: the last look at a
phone before the walk, to find the meeting point and put it away.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from icalendar import Alarm, Event
from wtforms import FloatField, IntegerField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, NumberRange
from wtforms.validators import Optional as OptionalField

from planner.api import (
    ActivityContext,
    ActivityType,
    DetailsForm,
    HistoryContext,
    choices,
    gettext,
    hookimpl,
    lazy_gettext,
    ngettext,
)

KEY = "walks"
PACES = {
    "gentle": lazy_gettext("Gentle"),
    "steady": lazy_gettext("Steady"),
    "brisk": lazy_gettext("Brisk"),
}
AGREEMENT = lazy_gettext(
    "Phones go on silent and into bags at the start. If you need to stay reachable, say so "
    "at the start and step aside to check."
)


class WalksForm(DetailsForm):
    meeting_point = StringField(
        lazy_gettext("Meeting point"), validators=[DataRequired(), Length(max=200)]
    )
    distance_km = FloatField(
        lazy_gettext("Distance (km)"), validators=[OptionalField(), NumberRange(min=0.5, max=60)]
    )
    pace = SelectField(lazy_gettext("Pace"), choices=choices(PACES), default="steady")
    terrain = StringField(
        lazy_gettext("Terrain"),
        validators=[OptionalField(), Length(max=120)],
        description=lazy_gettext("For example: paved, forest paths, some steep climbs."),
    )
    agreement = TextAreaField(
        lazy_gettext("Phones-away agreement"),
        validators=[DataRequired(), Length(max=600)],
        default=lambda: str(AGREEMENT),  # a str in the reader's language, never a lazy one
        description=lazy_gettext(
            "What the group agrees to about phones; shown on the page and in calendars."
        ),
    )
    reminder_minutes = IntegerField(
        lazy_gettext("Calendar reminder (minutes before)"),
        validators=[OptionalField(), NumberRange(min=5, max=1440)],
        default=60,
    )


class Walks(ActivityType):
    def pace_label(self, details: dict[str, Any]) -> str:
        return str(PACES.get(details.get("pace") or "", PACES["steady"]))

    def describe(self, details: dict[str, Any]) -> str:
        where = details.get("meeting_point") or gettext("the meeting point")
        facts = []
        if details.get("distance_km"):
            facts.append(gettext("%(km)s km", km=format(details["distance_km"], "g")))
        facts.append(gettext("%(pace)s pace", pace=self.pace_label(details).lower()))
        if details.get("terrain"):
            facts.append(details["terrain"])
        agreement = details.get("agreement") or str(AGREEMENT)
        return gettext(
            "Device-free walk from %(place)s: %(facts)s. Phones away: %(agreement)s",
            place=where,
            facts=", ".join(facts),
            agreement=agreement,
        )

    def ical_event(self, event: Event, ctx: ActivityContext) -> None:
        """A display alarm on every VEVENT that is not cancelled."""
        if str(event.get("STATUS", "")).upper() != "CANCELLED":
            event.add_component(reminder(ctx.details))

    def mail_lines(self, ctx: ActivityContext, kind: str) -> list[str]:
        """The meeting point and the phones-away agreement: what to know before leaving."""
        lines = []
        if ctx.details.get("meeting_point"):
            lines.append(gettext("Meeting point: %(place)s", place=ctx.details["meeting_point"]))
        agreement = ctx.details.get("agreement") or str(AGREEMENT)
        lines.append(gettext("Phones away: %(agreement)s", agreement=agreement))
        return lines

    def history_lines(self, ctx: HistoryContext) -> list[str]:
        """Kilometres walked together, from the routine's distance (the walk as planned; a
        shortcut on the day is not recorded)."""
        km = ctx.details.get("distance_km")
        if not km:
            return []
        people = set() if ctx.person_id is None else {ctx.person_id}
        if ctx.other_id is not None:
            people.add(ctx.other_id)
        walks = sum(1 for d in ctx.dates if d.came and people <= d.came)
        if not walks:
            return []
        total = f"{walks * float(km):g}"
        if ctx.person_id is None:
            return [ngettext("%(km)s km walked together on %(num)d walk.",
                             "%(km)s km walked together on %(num)d walks.", walks, km=total)]
        if ctx.other_id is None:
            return [gettext("You've walked %(km)s km with the group.", km=total)]
        return [gettext("You've walked %(km)s km together.", km=total)]


WALKS = Walks(
    key=KEY,
    label=lazy_gettext("Device-free walk"),
    icon="🥾",
    description=lazy_gettext("A walk together with phones put away."),
    form=WalksForm,
    default_categories=("Walk",),
    template="walks/details.html",
)


def reminder(details: dict[str, Any]) -> Alarm:
    minutes = details.get("reminder_minutes") or 60
    alarm = Alarm()
    alarm.add("ACTION", "DISPLAY")
    alarm.add("TRIGGER", timedelta(minutes=-minutes))
    where = details.get("meeting_point") or gettext("the meeting point")
    alarm.add(
        "DESCRIPTION",
        gettext("Walk soon, from %(place)s. Phones away when it starts.", place=where),
    )
    return alarm


@hookimpl
def register_activity_types() -> list[ActivityType]:
    return [WALKS]
