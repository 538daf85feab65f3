"""The weekly digest: the coming seven days across all of a person's groups, what still needs
their answer (one-click links), and what changed since the last digest.

Sent on the weekday the person chose, from 08:00 on their own clock: a worker that was down at
08:00 sends it later the same day, never the next (the key is the ISO week of that local day,
``digest:{user}:{year}-W{week}``, and the day is checked against the weekday). A digest with no
dates and no changes is skipped. Groups where the person muted the digest are left out of it.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from flask import Flask
from flask_babel import gettext, ngettext, pgettext
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from planner import locales
from planner.db import database
from planner.joining.attendance import attendance_for
from planner.mail.delivery import clock
from planner.mail.render import current_locale, locale_of, speaking
from planner.models import Group, MailSettings, Membership, OutboxMessage, Override, User
from planner.notify import answer_links
from planner.notify.preferences import choices
from planner.notify.reminder_mail import page_url, when
from planner.notify.sending import Notification, Recipient, queue_notifications
from planner.notify.upcoming import coming_dates
from planner.scheduling.zones import RecurrenceError, load_zone

KIND = "digest"
SEND_HOUR = 8
WEEK = timedelta(days=7)


@dataclass(frozen=True)
class Reader:
    user_id: int
    email: str
    name: str
    timezone: str
    weekday: int
    locale: str | None = None


def local_now(now: datetime, zone_name: str) -> datetime:
    try:
        zone = load_zone(zone_name)
    except (RecurrenceError, ValueError):
        zone = load_zone("UTC")
    return now.replace(tzinfo=UTC).astimezone(zone)


def week_key(user_id: int, local: datetime) -> str:
    year, week, _ = local.isocalendar()
    return f"{KIND}:{user_id}:{year}-W{week:02d}"


def is_due(reader: Reader, now: datetime) -> bool:
    """Their weekday, from 08:00 on their clock until midnight."""
    local = local_now(now, reader.timezone)
    return local.weekday() == reader.weekday and local.hour >= SEND_HOUR


def scan(app: Flask) -> int:
    session = database(app).sessions()
    try:
        done = scan_in(session, clock(app))
        session.commit()
        return done
    finally:
        session.close()


def readers(session: Session) -> list[Reader]:
    rows = session.execute(
        select(User.id, User.email, User.display_name, User.timezone, MailSettings.digest_weekday,
               User.locale)
        .join(MailSettings, MailSettings.user_id == User.id)
        .where(MailSettings.digest_weekday.is_not(None), User.email_verified_at.is_not(None))
    )
    return [Reader(uid, email, name, zone, weekday, locale)
            for uid, email, name, zone, weekday, locale in rows if weekday is not None]


def status_label(status: str | None, regular: bool) -> str:
    """What the digest says of the reader's answer: "going", "going (regular)", ..."""
    labels = {"going": pgettext("answer", "going"), "maybe": pgettext("answer", "maybe"),
              "declined": pgettext("answer", "can't go"),
              "waitlisted": pgettext("answer", "on the waitlist")}
    if status:
        return str(labels.get(status, status))
    return pgettext("answer", "going (regular)") if regular else ""


def subject(dates: int, to_answer: int) -> str:
    if to_answer:
        return str(ngettext("Your week: %(num)d date, %(answer)d to answer",
                            "Your week: %(num)d dates, %(answer)d to answer", dates,
                            answer=to_answer))
    return str(ngettext("Your week: %(num)d date", "Your week: %(num)d dates", dates))


def scan_in(session: Session, now: datetime) -> int:
    due = {r.user_id: r for r in readers(session) if is_due(r, now)}
    if not due:
        return 0
    keys = {uid: week_key(uid, local_now(now, r.timezone)) for uid, r in due.items()}
    taken = set(
        session.scalars(
            select(OutboxMessage.dedupe_key).where(OutboxMessage.dedupe_key.in_(keys.values()))
        )
    )
    due = {uid: r for uid, r in due.items() if keys[uid] not in taken}
    if not due:
        return 0
    groups_of: dict[int, list[int]] = defaultdict(list)
    for user_id, group_id in session.execute(
        select(Membership.user_id, Membership.group_id).where(Membership.user_id.in_(due))
    ):
        groups_of[user_id].append(group_id)
    wanted = choices(session, [(u, g) for u, gs in groups_of.items() for g in gs])
    group_ids = sorted({g for gs in groups_of.values() for g in gs})
    dates, routines = coming_dates(session, now, WEEK, group_ids=group_ids)
    attendance = attendance_for(
        session, [(d.routine.id, d.occurrence.original_start) for d in dates]
    ) if dates else {}
    last_sent = dict(
        session.execute(
            select(OutboxMessage.user_id, func.max(OutboxMessage.sent_at))
            .where(OutboxMessage.kind == KIND, OutboxMessage.user_id.in_(due))
            .group_by(OutboxMessage.user_id)
        ).all()
    )
    since_floor = min([now - WEEK, *(t for t in last_sent.values() if t is not None)])
    titles = {r.id: (r.title, r.group_id) for r in routines}
    changes: list[Any] = []
    if routines:
        changes = list(
            session.execute(
                select(Override.routine_id, Override.original_start, Override.status,
                       Override.start, Override.location, Override.note, Override.updated_at)
                .where(Override.routine_id.in_(list(titles)),
                       Override.updated_at > since_floor)
                .order_by(Override.updated_at)
            )
        )  # fmt: skip
    notes: list[Notification] = []
    for user_id, reader in due.items():
        with speaking(locale_of(reader)):  # each reader's digest in their own language
            note = _note(session, now, reader, groups_of, wanted, dates, attendance, changes,
                         titles, last_sent, keys[user_id])
        if note is not None:
            notes.append(note)
    queue_notifications(session, notes)
    return len(notes)


def _note(
    session: Session, now: datetime, reader: Reader, groups_of: dict[int, list[int]],
    wanted: dict[tuple[int, int], Any], dates: list[Any], attendance: dict[Any, Any],
    changes: list[Any], titles: dict[int, tuple[str, int]], last_sent: dict[Any, Any], key: str,
) -> Notification | None:
    """One reader's digest (None: nothing to tell), in the locale :func:`speaking` set."""
    user_id = reader.user_id
    mine = [g for g in groups_of.get(user_id, ())
            if (c := wanted.get((user_id, g))) is not None
            and c.wants(KIND, going=False)]  # fmt: skip
    if not mine:
        return None
    since = last_sent.get(user_id) or now - WEEK
    items, needs = [], []
    for date in dates:
        if date.group.id not in mine:
            continue
        seen = attendance.get((date.routine.id, date.occurrence.original_start))
        status = seen.status_of(user_id) if seen is not None else None
        regular = seen is not None and seen.is_regular(user_id)
        entry = {
            "title": date.title, "group": date.group.name, "location": date.location,
            "when": when(date.start_utc, now, reader.timezone), "url": page_url(date),
            "status": status_label(status, regular),
        }  # fmt: skip
        items.append(entry)
        if status is None and not regular:
            needs.append({**entry, "answers": answer_links.links(
                user_id=user_id, routine_id=date.routine.id,
                original_start=date.occurrence.original_start)})  # fmt: skip
    changed = []
    for row in changes:
        title, group_id = titles[row.routine_id]
        if group_id not in mine or row.updated_at <= since:
            continue
        what = gettext("cancelled") if row.status == "cancelled" else gettext("changed")
        changed.append({"title": title, "what": what, "note": row.note or "",
                        "day": locales.long_day(row.original_start.date(),
                                                current_locale(), padded=True)})  # fmt: skip
    if not items and not changed:
        return None  # an empty digest is not sent
    first = next(d.group for d in dates if d.group.id in mine) if items else None
    group_id = first.id if first else mine[0]
    group_name = first.name if first else ""
    group_slug = first.slug if first else ""
    if first is None:
        group_name, group_slug = _group_names(session, group_id)
    return Notification(
        category=KIND, kind=KIND,
        recipient=Recipient(user_id, reader.email, reader.name, reader.timezone,
                            reader.locale),
        group_id=group_id, group_name=group_name, group_slug=group_slug,
        subject=subject(len(items), len(needs)),
        template=KIND, dedupe_key=key,
        context={"items": items, "needs": needs, "changes": changed},
    )  # fmt: skip


def _group_names(session: Session, group_id: int) -> tuple[str, str]:


    row = session.execute(select(Group.name, Group.slug).where(Group.id == group_id)).one()
    return row.name, row.slug


def check(session: Session, row: OutboxMessage, now: datetime) -> str | None:
    """A digest goes unless the person switched it off after it was written."""
    if row.user_id is None:
        return "no recipient"
    weekday = session.scalar(
        select(MailSettings.digest_weekday).where(MailSettings.user_id == row.user_id)
    )
    return "the digest was switched off" if weekday is None else None


