"""The fixed vocabularies stored in the database, as ``StrEnum``s.

A member compares equal to its stored text (``Role.OWNER == "owner"``), so rows, JSON, templates
and plugin code that hold plain strings keep working, while the code names each value once and a
typo is an ``AttributeError`` instead of a silent mismatch. The migrations' CHECK constraints
are built from these too (see :func:`check_in`).

No Flask, no SQLAlchemy: every room may import this module.
"""

from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
    """A member's role in a group. Owners and organizers organize; only owners manage owners."""

    OWNER = "owner"
    ORGANIZER = "organizer"
    MEMBER = "member"

    @property
    def organizes(self) -> bool:
        return self in (Role.OWNER, Role.ORGANIZER)


class Visibility(StrEnum):
    """Who can see a group: anyone (``public``) or its members only (``private``)."""

    PUBLIC = "public"
    PRIVATE = "private"


class OverrideStatus(StrEnum):
    """What an override does to one occurrence of a series."""

    CANCELLED = "cancelled"
    CHANGED = "changed"


class Answer(StrEnum):
    """What a member said about one occurrence (stored in ``Rsvp.status``)."""

    GOING = "going"
    MAYBE = "maybe"
    DECLINED = "declined"


class Status(StrEnum):
    """A member's effective status for an occurrence: what they said, with the derived
    waitlist applied (``going`` beyond capacity reads ``waitlisted``). Plugins receive these."""

    GOING = "going"
    MAYBE = "maybe"
    DECLINED = "declined"
    WAITLISTED = "waitlisted"


class ReminderWhen(StrEnum):
    """When a member is reminded of a date they're going to, in their own zone."""

    EVENING = "evening"  # the evening before, at the chosen hour
    MORNING = "morning"  # the morning of, at the chosen hour
    HOURS = "hours"  # N hours before the start
    OFF = "off"


class MailScope(StrEnum):
    """How much mail a member wants from one group."""

    ALL = "all"  # reminders and notices for every date not declined
    GOING = "going"  # only dates I'm going to (or a regular of)
    NONE = "none"  # nothing but account mail and organizers' messages to "all members"


class NoticeKind(StrEnum):
    """A change that people hear about, held a few quiet minutes before it is sent."""

    CANCELLED = "cancelled"
    CHANGED = "changed"
    SERIES = "series"  # the series changed from this date on
    ENDED = "ended"  # the series ends before this date
    CAPACITY = "capacity"  # places lowered: someone going is now waiting
    COMMENTS = "comments"


def check_in(column: str, values: type[StrEnum]) -> str:
    """The SQL of a CHECK constraint that keeps ``column`` within ``values``."""
    listed = ", ".join(f"'{v.value}'" for v in values)
    return f"{column} IN ({listed})"
