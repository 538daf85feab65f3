"""Who wants which mail: the one question every reminder and notice asks before it is queued.

Categories (``CATEGORIES``) are what a person can switch off, per group or everywhere, and what
one-click unsubscribe names. Account mail (verification, resets) has no category: it always goes.

Three layers decide, the nearest winning: the person's choice for one group
(:class:`~planner.models.GroupMailSettings`: scope and muted categories), the person's own
settings (:class:`~planner.models.MailSettings`: when to be reminded, the digest, comments), and
the group's defaults an organizer sets (``Group.default_*``). Nothing is stored until someone
chooses, so changing a group's default reaches everyone who never did.

:func:`choices` reads them for many people at once in a fixed number of statements, which is
what keeps the minute scan's statement count flat as groups grow.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import Session

from planner.enums import MailScope, ReminderWhen
from planner.models import Group, GroupMailSettings, MailSettings, Membership, utcnow
from planner.scheduling.zones import RecurrenceError, localize, to_local_naive

#: reminder: the day-before (or morning-of, or N hours before) reminder of a date you're going to;
#: ask: the nudge to answer; digest: the weekly digest; notice: a date cancelled, changed, a
#: series changed or ended, capacity lowered; comments: new comments on dates you're going to;
#: message: an organizer's message to those going or to all members.
CATEGORIES = ("reminder", "ask", "digest", "notice", "comments", "message")

#: What each category is called on pages and in the unsubscribe confirmation.
CATEGORY_NAMES = {
    "reminder": _l("reminders"),
    "ask": _l("requests to answer"),
    "digest": _l("the weekly digest"),
    "notice": _l("notices of changes"),
    "comments": _l("new comments"),
    "message": _l("organizers' messages"),
}

DEFAULT_HOURS_BEFORE = 3
#: A morning-of reminder that would come after the start (a 07:00 walk, reminders at 08:00)
#: comes the evening before at this hour instead.
FALLBACK_EVENING_HOUR = 20


@dataclass(frozen=True)
class Choice:
    """What one person wants from one group, every layer applied."""

    reminder: str  # a ReminderWhen value
    hour: int  # for evening / morning
    hours_before: int  # for hours
    scope: str  # a MailScope value
    muted: frozenset[str]
    comments: bool
    digest_weekday: int | None

    def wants(self, category: str, *, going: bool) -> bool:
        """Whether ``category`` mail about a date goes to this person; ``going``: they are
        going to it (or a regular of it), which is all a "dates I'm going to" scope takes."""
        if category not in CATEGORIES:
            raise ValueError(f"unknown mail category {category!r}")
        if category in self.muted or self.scope == MailScope.NONE:
            return False
        if category == "reminder" and self.reminder == ReminderWhen.OFF:
            return False
        if category == "comments" and not self.comments:
            return False
        if category == "digest":
            return self.digest_weekday is not None
        if category in ("reminder", "notice", "comments") and self.scope == MailScope.GOING:
            return going
        return True


def effective(
    group: Group, mine: MailSettings | None, here: GroupMailSettings | None
) -> Choice:
    """The choice from the three layers (pure: no database)."""
    reminder = (mine.reminder if mine is not None else None) or group.default_reminder
    hour = mine.reminder_hour if mine is not None and mine.reminder_hour is not None else None
    if hour is None:
        hour = group.default_reminder_hour
    hours_before = (mine.hours_before if mine is not None else None) or DEFAULT_HOURS_BEFORE
    return Choice(
        reminder=reminder,
        hour=hour,
        hours_before=hours_before,
        scope=(here.scope if here is not None else None) or group.default_scope,
        muted=frozenset(here.muted or ()) if here is not None else frozenset(),
        comments=bool(mine.comments) if mine is not None else False,
        digest_weekday=mine.digest_weekday if mine is not None else None,
    )


def choices(
    session: Session, pairs: Iterable[tuple[int, int]]
) -> dict[tuple[int, int], Choice]:
    """The choice of each (user_id, group_id) pair, in three statements whatever their number."""
    wanted = set(pairs)
    if not wanted:
        return {}
    user_ids = {u for u, _ in wanted}
    group_ids = {g for _, g in wanted}
    groups = {g.id: g for g in session.scalars(select(Group).where(Group.id.in_(group_ids)))}
    mine = {
        s.user_id: s
        for s in session.scalars(select(MailSettings).where(MailSettings.user_id.in_(user_ids)))
    }
    here = {
        (s.user_id, s.group_id): s
        for s in session.scalars(
            select(GroupMailSettings).where(
                GroupMailSettings.group_id.in_(group_ids),
                GroupMailSettings.user_id.in_(user_ids),
            )
        )
    }
    return {
        (u, g): effective(groups[g], mine.get(u), here.get((u, g)))
        for u, g in wanted
        if g in groups
    }


def choice(session: Session, user_id: int, group_id: int) -> Choice:
    return choices(session, [(user_id, group_id)])[(user_id, group_id)]


def may_send(
    session: Session, *, user_id: int, group_id: int, category: str, going: bool = True
) -> bool:
    """Whether ``category`` mail about ``group_id`` may go to ``user_id`` now.

    Membership, a declined answer and cancellation are the caller's to check; this answers only
    the person's (or the group's default) choice, so every sender asks it the same way.
    """
    if category not in CATEGORIES:
        raise ValueError(f"unknown mail category {category!r}")
    found = choices(session, [(user_id, group_id)]).get((user_id, group_id))
    return found is not None and found.wants(category, going=going)


def reminder_at(choice: Choice, start_utc: datetime, person_zone: str) -> datetime | None:
    """When (naive UTC) to remind of a date starting at ``start_utc`` (naive UTC), by the
    person's wall clock: "the evening before at 18:00" is 18:00 where they live, on either side
    of a DST change. None when they switched reminders off."""
    if choice.reminder == ReminderWhen.OFF:
        return None
    start = start_utc.replace(tzinfo=UTC)
    if choice.reminder == ReminderWhen.HOURS:
        return (start - timedelta(hours=choice.hours_before)).replace(tzinfo=None)
    try:
        local = to_local_naive(start, person_zone)
    except RecurrenceError:
        person_zone = "UTC"
        local = to_local_naive(start, person_zone)
    day = local.date()
    if choice.reminder == ReminderWhen.EVENING:
        day -= timedelta(days=1)
    moment = localize(datetime(day.year, day.month, day.day, choice.hour), person_zone)
    if moment >= start:  # a morning reminder after an early start: the evening before instead
        day = local.date() - timedelta(days=1)
        moment = localize(datetime(day.year, day.month, day.day, FALLBACK_EVENING_HOUR),
                          person_zone)
    return moment.astimezone(UTC).replace(tzinfo=None)


def mute(session: Session, *, user_id: int, group_id: int, category: str) -> bool:
    """Switch ``category`` off for one group (one-click unsubscribe); True when it was on.

    Idempotent: a mail provider POSTing the same link twice changes nothing the second time.
    """
    if category not in CATEGORIES:
        raise ValueError(f"unknown mail category {category!r}")
    row = session.scalar(
        select(GroupMailSettings).where(
            GroupMailSettings.user_id == user_id, GroupMailSettings.group_id == group_id
        )
    )
    if row is None:
        row = GroupMailSettings(user_id=user_id, group_id=group_id, muted=[])
        session.add(row)
    if category in (row.muted or []):
        return False
    row.muted = sorted({*(row.muted or []), category})  # a new list: JSON changes are by value
    row.updated_at = utcnow()
    return True


def save_group_choice(
    session: Session, *, user_id: int, group_id: int, scope: str | None, muted: Iterable[str]
) -> None:
    """A person's choice for one group from the form (scope None: the group's default)."""
    if scope is not None and scope not in set(MailScope):
        raise ValueError(f"unknown scope {scope!r}")
    row = session.scalar(
        select(GroupMailSettings).where(
            GroupMailSettings.user_id == user_id, GroupMailSettings.group_id == group_id
        )
    )
    if row is None:
        row = GroupMailSettings(user_id=user_id, group_id=group_id)
        session.add(row)
    row.scope = scope
    row.muted = sorted({c for c in muted if c in CATEGORIES})
    row.updated_at = utcnow()


@dataclass(frozen=True)
class GroupRow:
    """One of the person's groups as the mail page lists it."""

    group: Group
    scope: str | None  # their own choice; None: the group's default
    muted: frozenset[str]


def group_rows(session: Session, user_id: int) -> list[GroupRow]:
    """The person's groups with their choices, by name (two statements)."""
    groups = list(
        session.scalars(
            select(Group)
            .join(Membership, Membership.group_id == Group.id)
            .where(Membership.user_id == user_id)
            .order_by(Group.name)
        )
    )
    here = {
        s.group_id: s
        for s in session.scalars(
            select(GroupMailSettings).where(GroupMailSettings.user_id == user_id)
        )
    }
    return [
        GroupRow(group=g, scope=here[g.id].scope if g.id in here else None,
                 muted=frozenset(here[g.id].muted or ()) if g.id in here else frozenset())
        for g in groups
    ]


def own_settings(session: Session, user_id: int) -> MailSettings:
    """The person's row, made (not yet flushed) when they have none."""
    row = session.get(MailSettings, user_id)
    if row is None:
        row = MailSettings(user_id=user_id, comments=False)
        session.add(row)
    return row
