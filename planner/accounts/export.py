"""'My data': everything the app holds about one person, as one JSON document.

Built from the tables rather than from what the pages show, so nothing a page leaves out (an
answer on a cancelled date, a claim on a past occurrence, a routine one created) is missed:
every table with a column pointing at the person has a section, and
``tests/test_my_data.py`` fails when a new such column has none. Secrets are left out on
purpose (the password hash and the session and feed tokens): a downloaded file gets forwarded,
and the feed link is on the account page already.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import Column, select
from sqlalchemy.orm import InstrumentedAttribute, Session

from planner.models import (
    CheckinPrompt,
    Claim,
    Comment,
    GoodThing,
    Group,
    GroupMailSettings,
    Invite,
    MailSettings,
    Membership,
    OutboxMessage,
    PendingNotice,
    PlannedBreak,
    Presence,
    Regular,
    Routine,
    Rsvp,
    Slot,
    User,
)

#: Columns of ``users`` never exported (see the module docstring).
SECRET = frozenset({"password_hash", "session_token", "feed_token"})

#: Section name -> the column that points at the person.
SECTIONS: dict[str, InstrumentedAttribute[Any]] = {
    "memberships": Membership.user_id,
    "answers": Rsvp.user_id,
    "claims": Claim.user_id,
    "comments": Comment.user_id,
    "regulars": Regular.user_id,
    "routines_created": Routine.created_by_id,
    "invites_created": Invite.created_by_id,
    "mails": OutboxMessage.user_id,
    "mail_settings": MailSettings.user_id,
    "group_mail_settings": GroupMailSettings.user_id,
    "changes_being_told": PendingNotice.actor_id,
    "attendance": Presence.user_id,
    "attendance_confirmed_for_others": Presence.confirmed_by_id,
    "good_things": GoodThing.user_id,
    "breaks_planned": PlannedBreak.created_by_id,
    "chosen_as_buddy": Membership.buddy_id,
    "checkin_prompts_received": CheckinPrompt.recipient_id,
    "checked_on": CheckinPrompt.absent_id,
}
#: Per section, columns that would name someone else: whom a buddy choice or a prompt was
#: about belongs to that person, not to the one downloading.
SECTION_SKIP: dict[str, frozenset[str]] = {
    "chosen_as_buddy": frozenset({"user_id", "role", "checkins", "hide_history"}),
    "checkin_prompts_received": frozenset(),
    "checked_on": frozenset({"recipient_id"}),
    "attendance_confirmed_for_others": frozenset({"user_id"}),
}
#: Columns of the outbox left out: bodies and headers hold one-time links (a reset, a
#: confirmation), and the dedupe key and lease are bookkeeping.
MAIL_SKIP = frozenset({"body_text", "body_html", "headers", "dedupe_key", "claimed_until"})


def _value(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    return value


def _row(obj: Any, skip: frozenset[str] = frozenset()) -> dict[str, Any]:
    columns: list[Column[Any]] = list(obj.__table__.columns)
    return {c.key: _value(getattr(obj, c.key)) for c in columns if c.key not in skip}


def my_data(db: Session, user: User) -> dict[str, Any]:
    """The export document; rows carry the group and routine they belong to, by name."""
    document: dict[str, Any] = {
        "format": "planner my-data 1",
        "exported_at": datetime.now().astimezone().isoformat(),
        "profile": _row(user, SECRET),
    }
    for name, column in SECTIONS.items():
        model = column.class_
        rows = []
        order = getattr(model, "id", column)
        for obj in db.scalars(select(model).where(column == user.id).order_by(order)):
            skip = MAIL_SKIP if isinstance(obj, OutboxMessage) else SECTION_SKIP.get(
                name, frozenset())
            row = _row(obj, skip)
            routine_id = getattr(obj, "routine_id", None)
            group_id = getattr(obj, "group_id", None)
            if isinstance(obj, Claim):
                slot = db.get(Slot, obj.slot_id)
                row["slot"] = slot.label if slot else None
                routine_id = slot.routine_id if slot else None
            routine = db.get(Routine, routine_id) if routine_id is not None else None
            if routine is not None:
                row["routine"] = routine.title
                group_id = routine.group_id
            group = db.get(Group, group_id) if group_id is not None else None
            if group is not None:
                row["group"] = group.name
            if isinstance(obj, Invite):
                row.pop("token")  # a live invite link is a key to the group
            rows.append(row)
        document[name] = rows
    return document
