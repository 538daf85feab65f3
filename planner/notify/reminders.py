"""The minute scan: the reminder of a date you're going to, and the nudge to answer one.

Once a minute (:func:`scan`, registered in :mod:`planner.notify.jobs`) every group's dates
starting within the longest lead are read in bulk (:mod:`planner.notify.upcoming`); each member
who should hear of one, and whose moment has come (``reminder_at <= now < start``), gets a mail
queued under the key ``reminder:{user}:{routine}:{key}`` (``ask:...`` for the nudge). The key
is unique in the outbox, so a scan run twice, late, or on two workers at once queues each mail
once; the moment is recomputed from the clock every time, so a worker down for three hours
catches up on what is still ahead and never reminds of a date that already started.

Who is reminded (:func:`wants_reminder`): a current member, of a date not cancelled, who is
going to it (an explicit "going" within the places, or a regular who did not answer otherwise)
or, with the "everything" scope, who has not declined and is not merely waiting for a place;
and whose choices (:meth:`Choice.wants`) keep reminders on. Who is asked (:func:`wants_ask`):
a current member who said nothing for a routine whose organizers turned the nudge on.

At send time :func:`check` reads the date, the answer and the choices again. A mail whose
reason went away is dropped; one whose content is out of date (the date moved, a new place)
is dropped too and its key freed, so the next scan queues it afresh with what is now true.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from flask import Flask
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from planner.db import database
from planner.enums import Status
from planner.joining.attendance import Attendance, attendance_for, attendance_of
from planner.mail.delivery import clock
from planner.models import Membership, OutboxMessage, Routine, User
from planner.notify import threads
from planner.notify.preferences import Choice, choices, reminder_at
from planner.notify.sending import queue_notifications
from planner.notify.upcoming import Date, GroupInfo, Member, Window, coming_dates, members_of
from planner.scheduling import recurrence
from planner.scheduling.series import series_of
from planner.scheduling.zones import format_key

log = logging.getLogger(__name__)

REMINDER, ASK = "reminder", "ask"
#: How far back the scan looks for a routine's previous date (a monthly routine's included):
#: the reminder asks "Were you there?" of it and quotes its good things.
LOOKBACK = timedelta(days=32)
#: The header a reminder carries with what it says of the date (start and place), so the
#: send-time check can tell a mail written before a change.
VERSION_HEADER = "X-Planner-Date-Version"


# --------------------------------------------------------------------------- who, when (pure)


def wants_reminder(
    *, status: str | None, choice: Choice | None, start_utc: datetime, zone: str
) -> datetime | None:
    """When to remind a current member of a not cancelled date, or None for never.

    ``status`` is the member's effective status (``Attendance.status_of``): going (regulars
    included), waitlisted, maybe, declined or None (no answer).
    """
    if choice is None:
        return None
    if status == Status.GOING:
        wanted = choice.wants(REMINDER, going=True)
    elif status in (Status.MAYBE, None):
        wanted = choice.wants(REMINDER, going=False)  # only the "everything" scope says yes
    else:  # declined, or only waiting for a place
        wanted = False
    if not wanted:
        return None
    return reminder_at(choice, start_utc, zone)


def wants_ask(
    *, hours_before: int | None, attendance: Attendance | None, user_id: int,
    choice: Choice | None, start_utc: datetime,
) -> datetime | None:
    """When to nudge a current member to answer, or None: only people who said nothing (no
    answer, not a regular) of routines with the nudge on, and who did not switch it off."""
    if not hours_before or choice is None or not choice.wants(ASK, going=False):
        return None
    if attendance is not None and (
        attendance.status_of(user_id) is not None or attendance.is_regular(user_id)
    ):
        return None
    return start_utc - timedelta(hours=hours_before)


def dedupe_key(kind: str, user_id: int, routine_id: int, original_start: datetime) -> str:
    return f"{kind}:{user_id}:{routine_id}:{format_key(original_start)}"


def version(date: Date) -> str:
    """What a reminder states about the date, condensed: a change to any of it makes a queued
    mail stale."""
    said = f"{date.start_utc.isoformat()}|{date.title}|{date.location}"
    return hashlib.sha256(said.encode()).hexdigest()[:16]


# --------------------------------------------------------------------------- the scan


@dataclass(frozen=True)
class Due:
    kind: str
    date: Date
    member: Member
    at: datetime  # the moment it became due (naive UTC)


def candidates(
    dates: list[Date], members: dict[int, list[Member]], wanted: dict[tuple[int, int], Choice],
    now: datetime,
) -> list[Due]:
    """What would be due now if every member were going and had said nothing: a superset of
    what is due, computed before any answer is read, so a minute whose candidates are all
    queued already reads no answers at all."""
    found: list[Due] = []
    for date in dates:
        start = date.start_utc
        if not now < start:
            continue
        hours = date.routine.ask_hours_before
        for member in members.get(date.group.id, ()):
            if not member.verified:
                continue
            choice = wanted.get((member.user_id, date.group.id))
            if choice is None:
                continue
            if choice.wants(REMINDER, going=True):
                at = reminder_at(choice, start, member.timezone)
                if at is not None and at <= now:
                    found.append(Due(REMINDER, date, member, at))
            if hours and choice.wants(ASK, going=False):
                at = start - timedelta(hours=hours)
                if at <= now:
                    found.append(Due(ASK, date, member, at))
    return found


def due_now(window: Window, maybe: list[Due]) -> list[Due]:
    """The candidates the answers confirm (pure: the loads are done)."""
    found: list[Due] = []
    for item in maybe:
        date, member = item.date, item.member
        attendance = window.attendance.get((date.routine.id, date.occurrence.original_start))
        choice = window.choices.get((member.user_id, date.group.id))
        if item.kind == REMINDER:
            status = attendance.status_of(member.user_id) if attendance is not None else None
            at = wants_reminder(status=status, choice=choice, start_utc=date.start_utc,
                                zone=member.timezone)  # fmt: skip
        else:
            at = wants_ask(hours_before=date.routine.ask_hours_before, attendance=attendance,
                           user_id=member.user_id, choice=choice,
                           start_utc=date.start_utc)  # fmt: skip
        if at is not None and at <= window.now:
            found.append(item)
    return found


def scan(app: Flask) -> int:
    """Queue every reminder and nudge whose moment has come; returns how many were queued.
    A fixed number of statements whatever the size of the site."""
    session = database(app).sessions()
    try:
        done = scan_in(session, clock(app))
        session.commit()
        return done
    finally:
        session.close()


def scan_in(session: Session, now: datetime) -> int:
    """Statements: routines, overrides, groups (the dates, and each routine's previous date);
    memberships with people; the three of the preferences; the outbox keys already taken; and
    only when something is left to queue, the five of the attendance (of the dates and their
    previous dates), belonging's five (who is new, whose presence is known, the good things;
    :mod:`planner.notify.reminder_mail`), and the outbox's two."""
    dates, _routines = coming_dates(session, now, lookback=LOOKBACK)
    if not dates:
        return 0
    members = members_of(session, {d.group.id for d in dates})
    wanted = choices(session, {(m.user_id, g) for g, ms in members.items() for m in ms})
    maybe = candidates(dates, members, wanted, now)
    if not maybe:
        return 0
    abouts = {threads.about(d.date.routine.id, d.date.occurrence.original_start) for d in maybe}
    queued = set(
        session.scalars(
            select(OutboxMessage.dedupe_key).where(
                OutboxMessage.about.in_(abouts), OutboxMessage.kind.in_((REMINDER, ASK))
            )
        )
    )
    maybe = [d for d in maybe if _key(d) not in queued]
    if not maybe:
        return 0
    keys = {(d.date.routine.id, d.date.occurrence.original_start) for d in maybe}
    # The previous dates' answers ride along, for the reminder's "Were you there?".
    keys |= {(d.date.routine.id, d.date.previous.original_start)
             for d in maybe if d.kind == REMINDER and d.date.previous is not None}  # fmt: skip
    window = Window(now, dates, members, attendance_for(session, sorted(keys)), wanted)
    fresh = due_now(window, maybe)
    if not fresh:
        return 0
    from planner.notify import reminder_mail

    notes = reminder_mail.notifications(session, fresh, window)
    queue_notifications(session, notes)
    log.info("reminders: %s queued", len(notes))
    return len(notes)


def _key(due: Due) -> str:
    return dedupe_key(due.kind, due.member.user_id, due.date.routine.id,
                      due.date.occurrence.original_start)  # fmt: skip


# --------------------------------------------------------------------------- at send time


def check(session: Session, row: OutboxMessage, now: datetime) -> str | None:
    """Why a queued reminder or nudge should no longer go (``None``: send it)."""
    about = threads.parse_about(row.about or "")
    if about is None or row.user_id is None:
        return "the mail names no date"
    routine_id, original_start = about
    routine = session.get(Routine, routine_id, populate_existing=True)
    if routine is None:
        return "the routine was deleted"
    try:
        occurrence = recurrence.occurrence_at(series_of(routine), original_start)
    except recurrence.RecurrenceError:
        occurrence = None
    if occurrence is None:
        return _stale(session, row, "the date no longer exists")
    if occurrence.is_cancelled:
        return _stale(session, row, "the date was cancelled")
    start = occurrence.start.astimezone(UTC).replace(tzinfo=None)
    if start <= now:
        return "the date has already started"
    member = session.scalar(
        select(Membership.id).where(
            Membership.group_id == routine.group_id, Membership.user_id == row.user_id
        )
    )
    if member is None:
        return _stale(session, row, "they left the group")
    person = session.get(User, row.user_id)
    if person is None:
        return "the account is gone"
    choice = choices(session, [(row.user_id, routine.group_id)]).get(
        (row.user_id, routine.group_id)
    )
    attendance = attendance_of(session, routine_id, original_start)
    if row.kind == ASK:
        at = wants_ask(hours_before=routine.ask_hours_before, attendance=attendance,
                       user_id=row.user_id, choice=choice, start_utc=start)  # fmt: skip
    else:
        at = wants_reminder(status=attendance.status_of(row.user_id), choice=choice,
                            start_utc=start, zone=person.timezone)  # fmt: skip
    if at is None:
        return _stale(session, row, "they no longer want it (answer or preferences changed)")
    if at > now:
        return _stale(session, row, "its moment moved later")
    group = GroupInfo(routine.group_id, "", "", "", False)
    if row.kind == REMINDER and (row.headers or {}).get(VERSION_HEADER) != version(
        Date(routine, occurrence, group)
    ):
        return _stale(session, row, "the date changed after the mail was written")
    return None


def _stale(session: Session, row: OutboxMessage, reason: str) -> str:
    """Drop the row and free its dedupe key: the next scan decides afresh (and may queue an
    up-to-date mail), while a sent mail's key is never freed, so nothing goes twice."""
    session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id == row.id)
        .values(dedupe_key=f"{row.dedupe_key}:dropped:{row.id}"[:255])
        .execution_options(synchronize_session=False)
    )
    return reason
