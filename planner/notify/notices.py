"""Telling people what changed: the once-a-minute flush of due :class:`PendingNotice` rows.

Each due row is handled in one transaction: the row is deleted (a second worker deleting the
same row finds nothing and sends nothing), the date (or series) is read as it is now and
compared with ``before``, the state people last heard of. Nothing differs (an edit undone
within the quiet time): no mail. Otherwise one mail per person through
:func:`planner.notify.sending.queue_notification`, category "notice" ("comments" for comment
batches), each asked :meth:`Choice.wants` first. The dedupe key names the row and the state
told, so a retried flush never doubles a notice while a later, separate change is told again.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from flask import Flask
from flask_babel import gettext, lazy_gettext, ngettext, pgettext
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from planner import locales
from planner.db import database, immediate
from planner.enums import NoticeKind
from planner.joining.attendance import GOING, MAYBE, Attendance, attendance_for
from planner.mail.delivery import clock
from planner.mail.render import current_locale, locale_of, site_link, speaking
from planner.models import Comment, Group, Membership, PendingNotice, Regular, Routine, Rsvp, User
from planner.notify import answer_links
from planner.notify.changes import date_state, series_state
from planner.notify.content import type_lines
from planner.notify.preferences import choices
from planner.notify.sending import Notification, Recipient, queue_notification
from planner.scheduling import recurrence, rules
from planner.scheduling.series import series_of
from planner.scheduling.zones import RecurrenceError, format_key, load_zone, localize

log = logging.getLogger(__name__)

#: Rows handled per run; the rest wait for the next minute.
BATCH = 200
#: The footer's reason in notices about a whole series.
SERIES_BECAUSE = lazy_gettext("you're a regular or answered dates of this routine")
#: What a date's notice compares: a change of anything else (the note) is not told.
COMPARED = ("title", "start", "end", "location", "status")


@dataclass(frozen=True)
class Due:
    """A pending row as read (plain values: the row itself is deleted before anything else)."""

    id: int
    routine_id: int
    original_start: datetime
    kind: str
    before: dict[str, Any]
    detail: dict[str, Any]
    actor_id: int | None
    due_at: datetime
    created_at: datetime


# --------------------------------------------------------------------------- the job


def flush(app: Flask) -> int:
    """Send every due notice (each row its own transaction); returns the mails queued."""
    now = clock(app)
    session = database(app).sessions()
    try:
        ids = list(
            session.scalars(
                select(PendingNotice.id)
                .where(PendingNotice.due_at <= now)
                .order_by(PendingNotice.due_at, PendingNotice.id)
                .limit(BATCH)
            )
        )
        session.commit()
        queued = 0
        for row_id in ids:
            try:
                # On SQLite the write lock up front: a read that later upgrades to a write
                # fails at once when another worker flushes too (see planner.db).
                with immediate(session):
                    queued += flush_one(session, row_id, now)
            except Exception:  # one broken row must not hold up the others
                log.exception("notice %s could not be sent; it stays pending", row_id)
        return queued
    finally:
        session.close()


def flush_one(session: Session, row_id: int, now: datetime) -> int:
    """Take one row (delete it) and queue its mails, in the caller's transaction."""
    found = session.execute(
        select(
            PendingNotice.id, PendingNotice.routine_id, PendingNotice.original_start,
            PendingNotice.kind, PendingNotice.before, PendingNotice.detail,
            PendingNotice.actor_id, PendingNotice.due_at, PendingNotice.created_at,
        ).where(PendingNotice.id == row_id)
    ).first()
    if found is None:
        return 0
    due = Due(*found)
    taken = session.execute(delete(PendingNotice).where(PendingNotice.id == row_id))
    if getattr(taken, "rowcount", 1) != 1:  # another worker took it first
        return 0
    routine = session.get(Routine, due.routine_id)
    if routine is None:
        return 0
    group = session.get(Group, routine.group_id)
    assert group is not None
    sender = SENDERS[due.kind]
    return sender(session, due, routine, group, now)


# --------------------------------------------------------------------------- wording


def _zone(name: str, fallback: str) -> str:
    try:
        load_zone(name)
    except RecurrenceError:
        return fallback
    return name


def moment(naive_iso: str, zone: str, person_zone: str) -> datetime:
    """A stored naive local time as the reader's own wall clock."""
    reader = _zone(person_zone, zone)
    return localize(datetime.fromisoformat(naive_iso), zone).astimezone(load_zone(reader))


def day_time(value: datetime) -> str:
    """"Thursday 26 March, 19:00" in the locale the mail is written in."""
    locale = current_locale()
    return str(pgettext("a day and a time", "%(day)s, %(time)s",
                        day=locales.long_day(value.date(), locale),
                        time=locales.clock(value, locale)))


def short(value: datetime, other: datetime) -> str:
    """"Friday 20:00" within a week of ``other``, else with the date."""
    locale = current_locale()
    if abs(value - other) < timedelta(days=6):
        day = locales.weekday(value.date(), locale)
    else:
        day = locales.long_day(value.date(), locale)
    return str(pgettext("a day then a time", "%(day)s %(time)s", day=day,
                        time=locales.clock(value, locale)))


def span(state: dict[str, str], person_zone: str) -> str:
    start = moment(state["start"], state["zone"], person_zone)
    end = moment(state["end"], state["zone"], person_zone)
    text = f"{day_time(start)}–{locales.clock(end, current_locale())}"
    if state.get("location"):
        text += f", {state['location']}"
    return text


def _no_place() -> str:
    return str(gettext("no place given"))


def change_subject(before: dict[str, str], after: dict[str, str], person_zone: str) -> str:
    """What changed, first: "Moved to Friday 20:00: Thursday supper"."""
    title = before["title"]
    if before.get("status") == "cancelled":
        return str(gettext("On again: %(title)s", title=title))
    parts: list[str] = []
    old = moment(before["start"], before["zone"], person_zone)
    new = moment(after["start"], after["zone"], person_zone)
    if old != new:
        parts.append(gettext("Moved to %(when)s", when=short(new, old)))
    elif before["end"] != after["end"]:
        ends = moment(after["end"], after["zone"], person_zone)
        parts.append(gettext("Now ends %(time)s", time=locales.clock(ends, current_locale())))
    if before.get("location") != after.get("location"):
        place = after.get("location") or _no_place()
        parts.append(gettext("new place %(place)s", place=place) if parts
                     else gettext("New place %(place)s", place=place))
    if before["title"] != after["title"]:
        parts.append(gettext("now called %(title)s", title=after["title"]) if parts
                     else gettext("Now called %(title)s", title=after["title"]))
    what = parts[0] if parts else gettext("Changed")
    for part in parts[1:]:
        # Translators: one more change after the first in a notice's subject ("Moved to
        # Friday 20:00, new place Hall 2").
        what = pgettext("joins changes in a notice's subject", "%(changes)s, %(change)s",
                        changes=what, change=part)
    return str(pgettext("a notice's subject", "%(what)s: %(title)s", what=what, title=title))


def change_line(before: dict[str, str], after: dict[str, str], person_zone: str) -> str:
    """"Now Friday 20:00, was Thursday 19:00" (the reader's zone), or the place side by side."""
    old = moment(before["start"], before["zone"], person_zone)
    new = moment(after["start"], after["zone"], person_zone)
    if old != new:
        return str(gettext("Now %(new)s, was %(old)s", new=short(new, old),
                           old=short(old, new)))
    if before.get("location") != after.get("location"):
        return str(gettext("Now at %(new)s, was at %(old)s",
                           new=after.get("location") or _no_place(),
                           old=before.get("location") or _no_place()))
    return str(gettext("Now %(new)s, was %(old)s", new=span(after, person_zone),
                       old=span(before, person_zone)))


def _digest(due: Due, told: Any) -> str:
    """What makes this notice this notice: the row (its first write) and the state told."""
    seed = json.dumps([due.id, due.created_at.isoformat(), told], sort_keys=True, default=str)
    return hashlib.sha1(seed.encode()).hexdigest()[:16]


# --------------------------------------------------------------------------- who hears


def _users(session: Session, ids: Iterable[int]) -> dict[int, User]:
    wanted = set(ids)
    if not wanted:
        return {}
    return {u.id: u for u in session.scalars(select(User).where(User.id.in_(wanted)))}


def date_readers(attendance: Attendance, actor_id: int | None) -> dict[int, bool]:
    """``{user_id: going}`` of everyone going, maybe or waiting for a date (regulars count as
    going unless they declined it); never the person who made the change.

    A "maybe" counts as going here: the issue names them among those told of a change, and
    under the default "dates I'm going to" scope they would otherwise never hear that the
    date they are weighing moved. Muting notices or choosing "nothing" still stops it.
    """
    people: dict[int, bool] = {}
    for person in (*attendance.maybe, *attendance.going, *attendance.waitlisted):
        people[person.user_id] = True
    people.pop(actor_id or 0, None)
    return people


def series_readers(
    session: Session, group_id: int, routine_ids: list[int], since: datetime,
    actor_id: int | None, until: datetime | None = None,
) -> dict[int, bool]:
    """Members who are regulars of the routines or answered going/maybe for a date from
    ``since`` on (before ``until``): the people a series change or end is news to."""
    member = select(Membership.user_id).where(Membership.group_id == group_id)
    people: dict[int, bool] = {}
    answered = select(Rsvp.user_id, Rsvp.status).where(
        Rsvp.routine_id.in_(routine_ids), Rsvp.original_start >= since,
        Rsvp.status.in_([GOING.value, MAYBE.value]), Rsvp.user_id.in_(member),
    )
    if until is not None:
        answered = answered.where(Rsvp.original_start < until)
    for user_id, _status in session.execute(answered):
        people[user_id] = True  # maybe counts as going, as in date_readers
    for user_id in session.scalars(
        select(Regular.user_id).where(
            Regular.routine_id.in_(routine_ids), Regular.user_id.in_(member)
        )
    ):
        people[user_id] = True
    people.pop(actor_id or 0, None)
    return people


def _send(
    session: Session,
    readers: dict[int, bool],
    group: Group,
    *,
    category: str,
    build: Any,
) -> int:
    """Queue ``build(user) -> Notification | None`` for each reader who wants ``category``."""
    users = _users(session, readers)
    wanted = choices(session, [(uid, group.id) for uid in users])
    queued = 0
    for user_id in sorted(users):
        choice = wanted.get((user_id, group.id))
        if choice is None or not choice.wants(category, going=readers[user_id]):
            continue
        with speaking(locale_of(users[user_id])):  # the reader's language, whoever changed it
            note = build(users[user_id])
        if note is None:
            continue
        queue_notification(session, note)
        queued += 1
    return queued


def _recipient(user: User) -> Recipient:
    return Recipient(user.id, user.email, user.display_name, user.timezone, user.locale)


def _page(group: Group, routine_id: int, original_start: datetime) -> str:
    return site_link(
        "events.show", slug=group.slug, routine_id=routine_id, key=format_key(original_start)
    )


def _started(state: dict[str, str], now: datetime) -> bool:
    start = localize(datetime.fromisoformat(state["start"]), state["zone"])
    return start.astimezone(UTC).replace(tzinfo=None) <= now


# --------------------------------------------------------------------------- one date


def _current(routine: Routine, original_start: datetime) -> recurrence.Occurrence | None:
    try:
        return recurrence.occurrence_at(series_of(routine), original_start)
    except RecurrenceError:
        return None


def _date_notice(
    session: Session, due: Due, routine: Routine, group: Group, now: datetime
) -> int:
    occurrence = _current(routine, due.original_start)
    if occurrence is None:  # the date is gone (series ended or split): the series tells it
        return 0
    before, after = due.before, date_state(routine, occurrence)
    if all(before.get(k) == after.get(k) for k in COMPARED):
        return 0  # changed back within the quiet time
    now_cancelled = after["status"] == "cancelled"
    if due.kind == NoticeKind.CANCELLED:
        if not now_cancelled or before.get("status") == "cancelled":
            return 0
    elif now_cancelled:  # a cancellation since: its own notice tells it
        return 0
    if _started(after, now) and _started(before, now):
        return 0  # news of a date already begun is no use to anyone
    attendance = attendance_for(session, [(routine.id, due.original_start)]).get(
        (routine.id, due.original_start)
    )
    if attendance is None:
        return 0
    readers = date_readers(attendance, due.actor_id)
    digest = _digest(due, after)
    page = _page(group, routine.id, due.original_start)
    kind = "notice-cancelled" if due.kind == NoticeKind.CANCELLED else "notice-changed"

    def build(user: User) -> Notification:
        zone = user.timezone
        context: dict[str, Any] = {
            "title": before["title"], "new_title": after["title"], "url": page,
            "now": span(after, zone), "was": span(before, zone),
            "lines": type_lines("notice", occurrence, routine, user, attendance),
        }
        if due.kind == NoticeKind.CANCELLED:
            day = moment(before["start"], before["zone"], zone).date()
            subject = gettext("Cancelled: %(title)s on %(day)s", title=before["title"],
                              day=locales.long_day(day, current_locale()))
            context["reason"] = occurrence.note or ""
            template = "notice_cancelled"
        else:
            subject = change_subject(before, after, zone)
            context["headline"] = change_line(before, after, zone)
            context["on_again"] = before.get("status") == "cancelled"
            context["answers"] = answer_links.links(
                user_id=user.id, routine_id=routine.id, original_start=due.original_start
            )
            template = "notice_changed"
        return Notification(
            category="notice", kind=kind, recipient=_recipient(user), group_id=group.id,
            group_name=group.name, group_slug=group.slug, subject=subject, template=template,
            dedupe_key=f"{kind}:{routine.id}:{format_key(due.original_start)}:{user.id}:{digest}",
            context=context, occurrence=(routine.id, due.original_start),
        )

    return _send(session, readers, group, category="notice", build=build)


def _capacity_notice(
    session: Session, due: Due, routine: Routine, group: Group, now: datetime
) -> int:
    occurrence = _current(routine, due.original_start)
    if occurrence is None or occurrence.is_cancelled:
        return 0
    state = date_state(routine, occurrence)
    if _started(state, now):
        return 0
    attendance = attendance_for(session, [(routine.id, due.original_start)]).get(
        (routine.id, due.original_start)
    )
    if attendance is None:
        return 0
    still = {p.user_id for p in attendance.waitlisted}
    readers = {uid: True for uid in due.detail.get("waiting", []) if uid in still}
    readers.pop(due.actor_id or 0, None)
    page = _page(group, routine.id, due.original_start)

    def build(user: User) -> Notification:
        position = attendance.position_of(user.id)
        digest = _digest(due, [state, position])
        return Notification(
            category="notice", kind="notice-capacity", recipient=_recipient(user),
            group_id=group.id, group_name=group.name, group_slug=group.slug,
            subject=gettext("Now on the waitlist: %(title)s", title=state["title"]),
            template="notice_capacity",
            dedupe_key=(f"notice-capacity:{routine.id}:{format_key(due.original_start)}:"
                        f"{user.id}:{digest}"),
            context={"title": state["title"], "when": span(state, user.timezone),
                     "position": position, "capacity": routine.capacity, "url": page,
                     "lines": type_lines("notice", occurrence, routine, user, attendance)},
            occurrence=(routine.id, due.original_start),
        )

    return _send(session, readers, group, category="notice", build=build)


# --------------------------------------------------------------------------- the series


def describe(state: dict[str, str]) -> str:
    """A series in words: "Every week on Thursday at 19:00, Kitchen"."""
    start = datetime.fromisoformat(state["start"])
    try:
        # Built per reader inside speaking(): in the reader's language.
        words = rules.describe(state["rrule"], start, state["zone"],
                               timedelta(minutes=int(state["minutes"])), locale=current_locale())
    except (RecurrenceError, ValueError):
        locale = current_locale()
        words = gettext("from %(day)s at %(time)s",
                        day=locales.long_day(start.date(), locale, year=True, padded=True),
                        time=locales.clock(start, locale))
    return f"{words}, {state['location']}" if state.get("location") else words


def _series_notice(
    session: Session, due: Due, routine: Routine, group: Group, now: datetime
) -> int:
    local_now = localize(now, "UTC").astimezone(load_zone(routine.timezone)).replace(tzinfo=None)
    if due.detail.get("edit"):  # the whole routine was edited: it changes from the next date
        successor: Routine | None = routine
        routines = [routine.id]
        since = local_now
        try:
            coming = recurrence.next_occurrences(
                series_of(routine), localize(now, "UTC"), 1)
        except RecurrenceError:
            coming = []
        if not coming:
            return 0
        first = coming[0].original_start
    else:  # changed from a date on: a new routine continues the old one
        successor = session.scalar(
            select(Routine).where(Routine.previous_id == routine.id).order_by(Routine.id.desc())
        )
        if successor is None:
            return 0
        routines = [routine.id, successor.id]
        since = due.original_start
        first = successor.start
    assert successor is not None
    before, after = due.before, series_state(successor)
    if all(before.get(k) == after.get(k) for k in ("title", "minutes", "zone", "location")) and \
            describe(before) == describe(after):
        return 0
    readers = series_readers(session, group.id, routines, since, due.actor_id)
    digest = _digest(due, after)
    page = site_link("routines.show", slug=group.slug, routine_id=successor.id)

    def build(user: User) -> Notification:
        zone = user.timezone
        starting = moment(first.isoformat(), successor.timezone, zone)
        return Notification(
            category="notice", kind="notice-series", recipient=_recipient(user),
            group_id=group.id, group_name=group.name, group_slug=group.slug,
            subject=gettext("Changes from %(day)s on: %(title)s",
                            day=locales.short_day(starting.date(), current_locale()),
                            title=before["title"]),
            template="notice_series",
            dedupe_key=f"notice-series:{routine.id}:{format_key(due.original_start)}:"
                       f"{user.id}:{digest}",
            context={"title": before["title"], "new_title": after["title"],
                     "from_day": day_time(starting), "now": describe(after),
                     "was": describe(before), "url": page,
                     "answers": answer_links.links(user_id=user.id, routine_id=successor.id,
                                                   original_start=first),
                     "because": str(SERIES_BECAUSE)},
            occurrence=(successor.id, first),
        )

    return _send(session, readers, group, category="notice", build=build)


def _ended_notice(
    session: Session, due: Due, routine: Routine, group: Group, now: datetime
) -> int:
    if (routine.rrule or "") == due.before.get("rrule", ""):
        return 0  # ended and un-ended within the quiet time
    last = date.fromisoformat(due.detail["last"])
    after_last = datetime(last.year, last.month, last.day) + timedelta(days=1)
    local_now = localize(now, "UTC").astimezone(load_zone(routine.timezone)).replace(tzinfo=None)
    since = max(after_last, local_now)
    readers = series_readers(session, group.id, [routine.id], since, due.actor_id)
    digest = _digest(due, [routine.rrule, due.detail])
    page = site_link("routines.show", slug=group.slug, routine_id=routine.id)

    def build(user: User) -> Notification:
        return Notification(
            category="notice", kind="notice-ended", recipient=_recipient(user),
            group_id=group.id, group_name=group.name, group_slug=group.slug,
            subject=gettext("Ends %(day)s: %(title)s",
                            day=locales.short_day(last, current_locale()), title=routine.title),
            template="notice_ended",
            dedupe_key=f"notice-ended:{routine.id}:{user.id}:{digest}",
            context={"title": routine.title,
                     "last": locales.long_day(last, current_locale(), year=True),
                     "was": describe(due.before), "url": page,
                     "because": str(SERIES_BECAUSE)},
        )

    return _send(session, readers, group, category="notice", build=build)


# --------------------------------------------------------------------------- comments


def _comments_notice(
    session: Session, due: Due, routine: Routine, group: Group, now: datetime
) -> int:
    rows = session.execute(
        select(Comment.id, Comment.user_id, User.display_name, Comment.body, Comment.created_at)
        .outerjoin(User, User.id == Comment.user_id)
        .where(
            Comment.routine_id == routine.id,
            Comment.original_start == due.original_start,
            Comment.id > int(due.detail.get("after_id", 0)),
        )
        .order_by(Comment.id)
    ).all()
    if not rows:
        return 0
    occurrence = _current(routine, due.original_start)
    if occurrence is None:
        return 0
    state = date_state(routine, occurrence)
    attendance = attendance_for(session, [(routine.id, due.original_start)]).get(
        (routine.id, due.original_start)
    )
    if attendance is None:
        return 0
    readers = {p.user_id: True for p in attendance.going}
    page = _page(group, routine.id, due.original_start) + "#comments"
    digest = _digest(due, [r[0] for r in rows])

    def build(user: User) -> Notification | None:
        theirs = [r for r in rows if r[1] != user.id]
        if not theirs:
            return None  # only their own comments: nothing new to them
        locale = current_locale()
        comments = [{"author": r[2] or gettext("Someone"), "body": r[3],
                     "at": locales.clock(moment(r[4].isoformat(), "UTC", user.timezone), locale)}
                    for r in theirs]
        count = len(comments)
        return Notification(
            category="comments", kind="comments", recipient=_recipient(user),
            group_id=group.id, group_name=group.name, group_slug=group.slug,
            subject=ngettext("%(num)d new comment: %(title)s", "%(num)d new comments: %(title)s",
                             count, title=state["title"]),
            template="notice_comments",
            dedupe_key=(f"comments:{routine.id}:{format_key(due.original_start)}:{user.id}:"
                        f"{digest}"),
            context={"title": state["title"], "when": span(state, user.timezone),
                     "comments": comments, "url": page},
            occurrence=(routine.id, due.original_start),
        )

    return _send(session, readers, group, category="comments", build=build)


SENDERS = {
    NoticeKind.CANCELLED.value: _date_notice,
    NoticeKind.CHANGED.value: _date_notice,
    NoticeKind.CAPACITY.value: _capacity_notice,
    NoticeKind.SERIES.value: _series_notice,
    NoticeKind.ENDED.value: _ended_notice,
    NoticeKind.COMMENTS.value: _comments_notice,
}
