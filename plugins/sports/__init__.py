"""Sports: a regular game that is only on once enough people say they are going.

Below ``min_players`` an occurrence is "not on yet" on its page and ``STATUS:TENTATIVE`` in
iCal; at or above it is "on" and ``CONFIRMED``. Guests count as players. The series' master
VEVENT carries no answers, so with a minimum it stays TENTATIVE: each game confirms itself.
"""

from __future__ import annotations

from typing import Any

from flask import render_template
from icalendar import Event
from markupsafe import Markup
from wtforms import IntegerField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, NumberRange
from wtforms.validators import Optional as OptionalField

from planner.api import (
    ActivityContext,
    ActivityType,
    Attendance,
    DetailsForm,
    HistoryContext,
    SlotDefault,
    choices,
    gettext,
    hookimpl,
    lazy_gettext,
    ngettext,
)

KEY = "sports"
LEVELS = {
    "all": lazy_gettext("All levels welcome"),
    "beginner": lazy_gettext("Beginners"),
    "intermediate": lazy_gettext("Intermediate"),
    "advanced": lazy_gettext("Advanced"),
}


class SportsForm(DetailsForm):
    sport = StringField(lazy_gettext("Sport"), validators=[DataRequired(), Length(max=60)])
    level = SelectField(lazy_gettext("Skill level"), choices=choices(LEVELS), default="all")
    min_players = IntegerField(
        lazy_gettext("Minimum players"),
        validators=[OptionalField(), NumberRange(min=2, max=200)],
        description=lazy_gettext("Below this many people going, the game is marked 'not on yet'."),
    )
    teams = IntegerField(
        lazy_gettext("Number of teams"),
        validators=[OptionalField(), NumberRange(min=2, max=8)],
        default=2,
        description=lazy_gettext("Those going are split into this many balanced teams."),
    )
    equipment = TextAreaField(
        lazy_gettext("Equipment"),
        validators=[OptionalField(), Length(max=500)],
        description=lazy_gettext("What to bring."),
    )


class Sports(ActivityType):
    def level_label(self, details: dict[str, Any]) -> str:
        return str(LEVELS.get(details.get("level") or "all", LEVELS["all"]))

    def describe(self, details: dict[str, Any]) -> str:
        sport = details.get("sport") or gettext("Sport")
        level = self.level_label(details).lower()
        parts = [gettext("%(sport)s (%(level)s).", sport=sport, level=level)]
        if details.get("min_players"):
            parts.append(ngettext("On once %(num)d player is going.",
                                  "On once %(num)d players are going.", details["min_players"]))
        if details.get("equipment"):
            parts.append(gettext("Bring: %(things)s", things=details["equipment"]))
        return " ".join(parts)

    def panel(self, ctx: ActivityContext) -> Markup:
        """Whether the game is on, and balanced teams once two or more are going."""
        details, attendance = ctx.details, ctx.attendance
        going = players(attendance)
        return Markup(
            render_template(
                "sports/panel.html",
                details=details,
                routine=ctx.routine,
                activity=self,
                occurrence=ctx.occurrence,
                status=game_status(details, attendance),
                players=going,
                missing=max(0, (details.get("min_players") or 0) - going),
                teams=split_teams(attendance, details.get("teams") or 2) if going >= 2 else [],
            )
        )

    def ical_event(self, event: Event, ctx: ActivityContext) -> None:
        """TENTATIVE below the minimum, CONFIRMED at it; the master VEVENT stays TENTATIVE."""
        cancelled = str(event.get("STATUS", "")).upper() == "CANCELLED"
        if cancelled or not ctx.details.get("min_players"):
            return
        if ctx.occurrence is None or ctx.attendance is None:
            status = "TENTATIVE"
        else:
            on = game_status(ctx.details, ctx.attendance) == "on"
            status = "CONFIRMED" if on else "TENTATIVE"
        event.pop("STATUS", None)
        event.add("STATUS", status)

    def mail_lines(self, ctx: ActivityContext, kind: str) -> list[str]:
        """"8 of 10 players, 2 more needed", or "8 players: the game is on"."""
        going = players(ctx.attendance)
        minimum = ctx.details.get("min_players")
        if not minimum:
            return [ngettext("%(num)d player going.", "%(num)d players going.", going)]
        if going >= minimum:
            return [ngettext("%(going)d of %(num)d players: the game is on.",
                             "%(going)d of %(num)d players: the game is on.",
                             minimum, going=going)]
        missing = minimum - going
        return [ngettext("%(going)d of %(minimum)d players, %(num)d more needed.",
                         "%(going)d of %(minimum)d players, %(num)d more needed.",
                         missing, going=going, minimum=minimum)]

    def history_lines(self, ctx: HistoryContext) -> list[str]:
        """Games played and how they split into teams: what a player remembers of a season."""
        teams = max(2, int(ctx.details.get("teams") or 2))
        if ctx.person_id is None:
            played = [d for d in ctx.dates if d.came]
            if not played:
                return []
            average = sum(len(d.came) for d in played) / len(played)
            size = average / teams
            return [ngettext("%(num)d game played, %(teams)d teams of about %(size)s.",
                             "%(num)d games played, %(teams)d teams of about %(size)s.",
                             len(played), teams=teams, size=format(size, ".0f"))]
        people = {ctx.person_id} | ({ctx.other_id} if ctx.other_id is not None else set())
        games = sum(1 for d in ctx.dates if people <= d.came)
        if not games:
            return []
        if ctx.other_id is None:
            return [ngettext("You played %(num)d game.", "You played %(num)d games.", games)]
        return [ngettext("You played %(num)d game together.",
                         "You played %(num)d games together.", games)]


SPORTS = Sports(
    key=KEY,
    label=lazy_gettext("Sports"),
    icon="⚽",
    description=lazy_gettext(
        "A regular game: on once enough players are going, with balanced teams."
    ),
    form=SportsForm,
    default_slots=(SlotDefault(lazy_gettext("Brings the ball")),
                   SlotDefault(lazy_gettext("Brings bibs"))),
    default_categories=("Sports",),
    template="sports/details.html",
)


def players(attendance: Attendance | None) -> int:
    """Players going, guests included."""
    return attendance.going_count if attendance is not None else 0


def game_status(details: dict[str, Any], attendance: Attendance | None) -> str:
    """``"on"`` or ``"not on yet"``; without a minimum every game is on."""
    minimum = details.get("min_players")
    if not minimum:
        return "on"
    return "on" if players(attendance) >= minimum else "not on yet"


def split_teams(attendance: Attendance | None, teams: int = 2) -> list[list[str]]:
    """Balanced teams of those going: sizes differ by at most one where possible, and a
    member's guests play on the member's team (they came together).

    Greedy largest-first: each party joins the team with fewest players so far (ties: the
    earlier team), parties taken in size order then arrival order. Deterministic, so everyone
    sees the same split.
    """
    teams = max(2, int(teams or 2))
    result: list[list[str]] = [[] for _ in range(teams)]
    if attendance is None:
        return result
    parties = sorted(enumerate(attendance.going), key=lambda item: (-item[1].guests, item[0]))
    for _, person in parties:
        team = min(range(teams), key=lambda i: (len(result[i]), i))
        result[team].append(person.display_name)
        for n in range(person.guests):
            if person.guests > 1:
                guest = gettext("%(name)s's guest %(number)d", name=person.display_name,
                                number=n + 1)
            else:
                guest = gettext("%(name)s's guest", name=person.display_name)
            result[team].append(guest)
    return result


@hookimpl
def register_activity_types() -> list[ActivityType]:
    return [SPORTS]
