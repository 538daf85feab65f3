"""Board games night: a complete third-party activity type in one small module."""

from typing import Any

from markupsafe import Markup
from wtforms import IntegerField, SelectField, StringField
from wtforms.validators import Length, NumberRange
from wtforms.validators import Optional as OptionalField

from planner.api import ActivityContext, ActivityType, DetailsForm, SlotDefault, choices, hookimpl

WEIGHTS = {"light": "Party games", "medium": "Strategy games", "heavy": "Heavy games"}
PANEL = '<section class="card plugin-panel"><h2>Tables</h2><p>{} going: {} of {}.</p></section>'


class GamesForm(DetailsForm):
    games = StringField("Games", [OptionalField(), Length(max=200)], description="Azul, Catan")
    weight = SelectField("How heavy", choices=choices(WEIGHTS), default="light")
    seats = IntegerField("Seats per table", [OptionalField(), NumberRange(2, 12)], default=4)


class BoardGames(ActivityType):
    def describe(self, details: dict[str, Any]) -> str:
        return f"Games: {details['games']}." if details.get("games") else "Bring a game!"

    def categories(self, details: dict[str, Any]) -> tuple[str, ...]:
        return (*self.default_categories, WEIGHTS.get(details.get("weight") or "", "Games"))

    def panel(self, ctx: ActivityContext) -> Markup:
        going = ctx.attendance.going_count if ctx.attendance else 0
        seats = ctx.details["seats"] or 4
        tables = -(-going // seats)  # ceiling division: nobody is left without a table
        return Markup(PANEL).format(going, f"{tables} table{'s' * (tables != 1)}", seats)


GAMES = BoardGames(
    key="boardgames",
    label="Board games",
    icon="🎲",
    form=GamesForm,
    default_slots=(SlotDefault("Brings a game", capacity=3),),
    default_categories=("Board games",),
)


@hookimpl
def register_activity_types() -> list[ActivityType]:
    return [GAMES]
