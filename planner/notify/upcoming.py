"""Every group's coming dates and their members, in a fixed number of statements.

The minute scan (reminders, the answer nudge) and the weekly digest both ask "which dates start
soon, who belongs to them, what did each person say, what do they want". Reading that per group
or per person would make a minute's work grow with the site, so this module reads the first
half in bulk, whatever the number of groups and members: :func:`coming_dates` (routines, their
overrides in the window, groups) and :func:`members_of` (memberships with their people). The
callers then read the second half for just the dates they need, again in bulk:
:func:`~planner.joining.attendance.attendance_for` and
:func:`~planner.notify.preferences.choices`, gathered in a :class:`Window`.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from planner.joining.attendance import Attendance
from planner.models import OVERRIDE_COLUMNS, Group, Membership, Override, Routine, User
from planner.notify.preferences import Choice
from planner.scheduling import recurrence
from planner.scheduling.series import ZONE_MARGIN, series_of


@dataclass(frozen=True)
class Member:
    """A person as mail needs them: plain values, no ORM object per member."""

    user_id: int
    email: str
    name: str
    timezone: str
    verified: bool
    #: Their chosen locale (``User.locale``); None: the site's default.
    locale: str | None = None

    def as_user(self) -> User:
        """A transient (never added) ``User`` for the activity types' ``mail_lines``, which
        receive the recipient as the pages' viewer."""
        return User(id=self.user_id, email=self.email, display_name=self.name,
                    timezone=self.timezone, locale=self.locale)  # fmt: skip


@dataclass(frozen=True)
class GroupInfo:
    id: int
    name: str
    slug: str
    timezone: str
    is_public: bool


@dataclass(frozen=True)
class Date:
    """One coming, not cancelled occurrence of a routine."""

    routine: Routine
    occurrence: recurrence.Occurrence
    group: GroupInfo
    #: The routine's latest date that has ended (not cancelled), within the ``lookback`` of
    #: :func:`coming_dates`: what the reminder asks "Were you there?" of and quotes good things
    #: from. None when there was none or nobody asked to look back.
    previous: recurrence.Occurrence | None = None

    @property
    def start_utc(self) -> datetime:
        return self.occurrence.start.astimezone(UTC).replace(tzinfo=None)

    @property
    def title(self) -> str:
        return self.occurrence.title or self.routine.title

    @property
    def location(self) -> str:
        return self.occurrence.location or self.routine.location


@dataclass
class Window:
    """What a scan read for the dates in its window."""

    now: datetime
    dates: list[Date]
    members: dict[int, list[Member]]  # group id -> current members
    attendance: dict[tuple[int, datetime], Attendance]
    choices: dict[tuple[int, int], Choice]


def _aware(naive_utc: datetime) -> datetime:
    return naive_utc.replace(tzinfo=UTC)


def coming_dates(
    session: Session, now: datetime, span: timedelta | None = None,
    group_ids: list[int] | None = None, lookback: timedelta | None = None,
) -> tuple[list[Date], list[Routine]]:
    """The not cancelled occurrences starting in ``(now, now + span]`` (naive UTC), in three
    statements; ``span`` None: as far ahead as the longest reminder lead any routine needs
    (:func:`lead`). Also returns every routine read.

    ``lookback``: also expand that far into the past and give each date its routine's latest
    ended date (:attr:`Date.previous`), read by the same statements: the overrides query
    just reaches further back."""
    query = select(Routine).order_by(Routine.id).execution_options(populate_existing=True)
    if group_ids is not None:
        query = query.where(Routine.group_id.in_(group_ids))
    routines = list(session.scalars(query))
    if not routines:
        return [], routines
    span = span or lead(routines)
    end = now + span
    begin = now - (lookback or timedelta(0))
    floor, ceiling = begin - ZONE_MARGIN, end + ZONE_MARGIN
    overrides: dict[int, list[Any]] = {r.id: [] for r in routines}
    for row in session.execute(
        select(*OVERRIDE_COLUMNS)
        .where(Override.routine_id.in_(list(overrides)))
        .where(or_(Override.original_start.between(floor, ceiling),
                   Override.start.between(floor, ceiling)))  # fmt: skip
        .order_by(Override.routine_id, Override.original_start)
    ):
        overrides[row.routine_id].append(row)
    groups = {
        row.id: GroupInfo(row.id, row.name, row.slug, row.timezone, row.visibility == "public")
        for row in session.execute(
            select(Group.id, Group.name, Group.slug, Group.timezone, Group.visibility).where(
                Group.id.in_({r.group_id for r in routines})
            )
        )
    }
    dates: list[Date] = []
    for routine in routines:
        group = groups.get(routine.group_id)
        if group is None:
            continue
        try:
            found = recurrence.expand(
                series_of(routine, overrides=overrides[routine.id]), _aware(begin), _aware(end)
            )
        except recurrence.RecurrenceError:
            continue  # a rule edited by hand into nonsense: skipped, as on the pages
        ended = [o for o in found if not o.is_cancelled and o.end <= _aware(now)]
        previous = ended[-1] if lookback and ended else None
        for occurrence in found:
            date = Date(routine, occurrence, group, previous)
            if occurrence.is_cancelled or not now < date.start_utc <= end:
                continue
            dates.append(date)
    dates.sort(key=lambda d: (d.start_utc, d.routine.id))
    return dates, routines


#: Longest reminder lead: 72 hours before (the form's maximum), or the evening before at 00:00
#: of a date starting just before midnight (48 h), plus an hour for a DST change between.
REMINDER_LEAD = timedelta(hours=74)


def lead(routines: list[Routine]) -> timedelta:
    """How far ahead a scan must look: the reminder lead, or a longer answer nudge."""
    asks = [r.ask_hours_before for r in routines if r.ask_hours_before]
    return max([REMINDER_LEAD, *(timedelta(hours=h + 1) for h in asks)])


def members_of(session: Session, group_ids: set[int]) -> dict[int, list[Member]]:
    """Current members of the groups with the people's mail fields: one statement."""
    found: dict[int, list[Member]] = defaultdict(list)
    if not group_ids:
        return found
    for row in session.execute(
        select(Membership.group_id, User.id, User.email, User.display_name, User.timezone,
               User.email_verified_at, User.locale)
        .join(User, User.id == Membership.user_id)
        .where(Membership.group_id.in_(group_ids))
        .order_by(Membership.group_id, User.id)
    ):  # fmt: skip
        group_id, user_id, email, name, zone, verified, locale = row
        found[group_id].append(Member(user_id, email, name, zone, verified is not None, locale))
    return found
