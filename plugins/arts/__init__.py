"""Arts: museum, gallery, concert, theatre or workshop outings, with a booking link.

The booking link must be ``http`` or ``https`` (checked by the form and again when the feed is
written, since stored JSON may predate the check): it becomes the iCal ``URL``, and a
``javascript:`` or ``file:`` link there would be handed to every member's calendar app.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from icalendar import Event
from wtforms import SelectField, StringField, TextAreaField, URLField
from wtforms.validators import Length, ValidationError
from wtforms.validators import Optional as OptionalField

from planner.api import (
    ActivityContext,
    ActivityType,
    DetailsForm,
    choices,
    gettext,
    hookimpl,
    lazy_gettext,
)

KEY = "arts"
KINDS = {
    "museum": lazy_gettext("Museum"),
    "gallery": lazy_gettext("Gallery"),
    "concert": lazy_gettext("Concert"),
    "theatre": lazy_gettext("Theatre"),
    "workshop": lazy_gettext("Workshop"),
}
# iCal CATEGORIES stay English: calendars and filters match on them, whoever reads the feed.
CATEGORY_NAMES = {
    "museum": "Museum",
    "gallery": "Gallery",
    "concert": "Concert",
    "theatre": "Theatre",
    "workshop": "Workshop",
}


def is_web_link(value: str | None) -> bool:
    """True for an absolute http(s) URL with a host and no spaces."""
    if not value or any(c.isspace() for c in value):
        return False
    try:
        parts = urlsplit(value)
    except ValueError:
        return False
    return parts.scheme in ("http", "https") and bool(parts.hostname)


def web_link(_form: object, field: Any) -> None:
    if field.data and not is_web_link(field.data):
        raise ValidationError(gettext("Enter a web address starting with http:// or https://."))


class ArtsForm(DetailsForm):
    kind = SelectField(lazy_gettext("Kind"), choices=choices(KINDS), default="museum")
    venue = StringField(lazy_gettext("Venue"), validators=[OptionalField(), Length(max=120)])
    price = StringField(
        lazy_gettext("Price"),
        validators=[OptionalField(), Length(max=40)],
        description=lazy_gettext("As people will pay it, e.g. 'free', '€12, €8 reduced'."),
    )
    booking_url = URLField(
        lazy_gettext("Booking link"),
        validators=[OptionalField(), Length(max=500), web_link],
        description=lazy_gettext("Where to buy tickets or book a place (http:// or https://)."),
    )
    bring = TextAreaField(
        lazy_gettext("What to bring"), validators=[OptionalField(), Length(max=500)]
    )


class Arts(ActivityType):
    def kind_label(self, details: dict[str, Any]) -> str:
        return str(KINDS.get(details.get("kind") or "", gettext("Outing")))

    def safe_link(self, details: dict[str, Any]) -> str | None:
        """The booking link when it is a web link; stored JSON is not trusted for ``href``."""
        link = details.get("booking_url")
        return link if is_web_link(link) else None

    def describe(self, details: dict[str, Any]) -> str:
        kind = self.kind_label(details)
        if details.get("venue"):
            head = gettext("%(kind)s at %(venue)s.", kind=kind, venue=details["venue"])
        else:
            head = gettext("%(kind)s.", kind=kind)
        parts = [head]
        if details.get("price"):
            parts.append(gettext("Price: %(price)s.", price=details["price"]))
        if is_web_link(details.get("booking_url")):
            parts.append(gettext("Book: %(link)s", link=details["booking_url"]))
        if details.get("bring"):
            parts.append(gettext("Bring: %(things)s", things=details["bring"]))
        return " ".join(parts)

    def categories(self, details: dict[str, Any]) -> tuple[str, ...]:
        """ "Arts" and the kind ("Concert"), so a calendar can colour concerts apart."""
        kind = CATEGORY_NAMES.get(details.get("kind") or "")
        return (*self.default_categories, *([kind] if kind else []))

    def ical_event(self, event: Event, ctx: ActivityContext) -> None:
        """The booking link becomes the event's URL (http/https only)."""
        link = self.safe_link(ctx.details)
        if link:
            event.pop("URL", None)
            event.add("URL", link)


ARTS = Arts(
    key=KEY,
    label=lazy_gettext("Arts outing"),
    icon="🎭",
    description=lazy_gettext("Museums, galleries, concerts, theatre and workshops, together."),
    form=ArtsForm,
    default_categories=("Arts",),
    template="arts/details.html",
)


@hookimpl
def register_activity_types() -> list[ActivityType]:
    return [ARTS]
