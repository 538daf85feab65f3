"""Board games night: a complete third-party activity type in one small module."""

from typing import Any

from markupsafe import Markup
from wtforms import IntegerField, SelectField, StringField
from wtforms.validators import Length, NumberRange
from wtforms.validators import Optional as OptionalField

from planner.api import (
    ActivityContext,
    ActivityType,
    DetailsForm,
    SlotDefault,
    choices,
    hookimpl,
    ngettext,
)
from planner.api import gettext as _
from planner.api import lazy_gettext as _l

WEIGHTS = {"light": _l("Party games"), "medium": _l("Strategy games"), "heavy": _l("Heavy games")}
# iCal CATEGORIES stay English whoever reads the feed: calendars filter on them.
CATEGORIES = {"light": "Party games", "medium": "Strategy games", "heavy": "Heavy games"}
PANEL = '<section class="card plugin-panel"><h2>{}</h2><p>{}</p></section>'


class GamesForm(DetailsForm):
    games = StringField(_l("Games"), [OptionalField(), Length(max=200)], description="Azul, Catan")
    weight = SelectField(_l("How heavy"), choices=choices(WEIGHTS), default="light")
    seats = IntegerField(_l("Seats per table"), [OptionalField(), NumberRange(2, 12)], default=4)


class BoardGames(ActivityType):
    def describe(self, details: dict[str, Any]) -> str:
        games = details.get("games")
        return _("Games: %(games)s.", games=games) if games else _("Bring a game!")

    def categories(self, details: dict[str, Any]) -> tuple[str, ...]:
        return (*self.default_categories, CATEGORIES.get(details.get("weight") or "", "Games"))

    def panel(self, ctx: ActivityContext) -> Markup:
        going = ctx.attendance.going_count if ctx.attendance else 0
        seats = ctx.details["seats"] or 4
        tables = -(-going // seats)  # ceiling division: nobody is left without a table
        line = ngettext("%(going)d going: %(num)d table of %(seats)d.",
                        "%(going)d going: %(num)d tables of %(seats)d.", tables,
                        going=going, seats=seats)  # fmt: skip
        return Markup(PANEL).format(_("Tables"), line)


GAMES = BoardGames(
    key="boardgames",
    label=_l("Board games"),
    icon="🎲",
    form=GamesForm,
    default_slots=(SlotDefault(_l("Brings a game"), capacity=3),),
    default_categories=("Board games",),
)


@hookimpl
def register_activity_types() -> list[ActivityType]:
    return [GAMES]
