"""A "Book club" activity type: the current book, what to read by next time, who brings snacks.

The smallest complete activity plugin: a details form, a plain-text description, a template
part shipped in this package's ``templates/`` folder, and a default sign-up slot.
"""

from __future__ import annotations

from typing import Any

from wtforms import StringField
from wtforms.validators import DataRequired, Length
from wtforms.validators import Optional as OptionalField

from planner.api import ActivityType, DetailsForm, SlotDefault, gettext, hookimpl, lazy_gettext

__version__ = "0.1.0"


class BookClubForm(DetailsForm):
    book = StringField(lazy_gettext("Current book"), validators=[DataRequired(), Length(max=200)])
    author = StringField(lazy_gettext("Author"), validators=[OptionalField(), Length(max=120)])
    pages = StringField(
        lazy_gettext("Read by next time"),
        validators=[OptionalField(), Length(max=120)],
        description=lazy_gettext("For example: pages 1-120, or chapters 3 to 5."),
    )


class BookClub(ActivityType):
    def describe(self, details: dict[str, Any]) -> str:
        book = details.get("book") or gettext("a book")
        if details.get("author"):
            text = gettext("Reading %(book)s by %(author)s.", book=book, author=details["author"])
        else:
            text = gettext("Reading %(book)s.", book=book)
        if details.get("pages"):
            text += " " + gettext("Read by next time: %(pages)s.", pages=details["pages"])
        return text


BOOK_CLUB = BookClub(
    key="bookclub",
    label=lazy_gettext("Book club"),
    icon="📚",
    description=lazy_gettext("Read the same book and talk about it."),
    form=BookClubForm,
    default_slots=(SlotDefault(lazy_gettext("Brings snacks"), capacity=2),),
    default_categories=("Book club",),
    # Found in planner_bookclub/templates/: planner adds each plugin package's templates folder.
    template="bookclub/details.html",
)


@hookimpl
def register_activity_types() -> list[ActivityType]:
    return [BOOK_CLUB]
