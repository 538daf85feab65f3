"""What the reminder and the nudge say: the date in the reader's zone, where (with a map link),
who else is going, the open slots, the activity type's lines, "Add to calendar" and one-click
answers; and what belonging adds to a reminder: "Sam is coming for the first time — say hi"
for the host and the regulars, a welcome naming the host and what to bring for the newcomer,
"Were you there?" for the reader's previous date of the routine, and "Last time: ..." with one
or two good things of it.

Built for many mails at once with five more statements whatever their number (who is new,
three; whose presence is known, one; the good things, one), so the scan stays bounded. The
previous dates and their answers come with the scan's own reads
(:attr:`~planner.notify.upcoming.Date.previous`, the window's attendance).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote_plus

from flask_babel import gettext, pgettext
from sqlalchemy.orm import Session

from planner import locales
from planner.belonging import good_things, newcomers, presence
from planner.belonging.hosts import date_host, is_host_slot
from planner.enums import Status
from planner.joining.attendance import Attendance
from planner.mail.render import current_locale, locale_of, site_link, speaking
from planner.notify import answer_links
from planner.notify.content import type_lines
from planner.notify.sending import Notification, Recipient
from planner.notify.upcoming import Date, Member, Window
from planner.scheduling.zones import RecurrenceError, load_zone

OSM_SEARCH = "https://www.openstreetmap.org/search?query="


def looks_like_address(location: str) -> bool:
    """"Invalidenstraße 50, Berlin" or "12 High St" get a map link; "Ada's kitchen" does not."""
    text = location.strip()
    has_digit = any(c.isdigit() for c in text)
    has_letter = any(c.isalpha() for c in text)
    return bool(text) and has_letter and (has_digit or "," in text)


def map_url(location: str) -> str | None:
    return OSM_SEARCH + quote_plus(location.strip()) if looks_like_address(location) else None


@dataclass(frozen=True)
class When:
    text: str  # "Thursday 26 March, 19:00"
    time: str  # "19:00"
    day: str  # "Today", "Tomorrow", "Saturday", or "Thursday 26 March" further ahead
    zone: str


def when(start_utc: datetime, now: datetime, zone_name: str,
         locale: str | None = None) -> When:
    """The start as the reader's own wall clock says it, and which day that is for them, in
    ``locale`` (default: the one the mail is being written in)."""
    locale = locale or current_locale()
    try:
        zone = load_zone(zone_name)
    except (RecurrenceError, ValueError):
        zone_name, zone = "UTC", load_zone("UTC")
    local = start_utc.replace(tzinfo=UTC).astimezone(zone)
    today = now.replace(tzinfo=UTC).astimezone(zone).date()
    days = (local.date() - today).days
    day_text = locales.long_day(local.date(), locale)
    if days == 0:
        day = gettext("Today")
    elif days == 1:
        day = gettext("Tomorrow")
    elif 1 < days < 7:
        day = locales.weekday(local.date(), locale)
    else:
        day = day_text
    at = locales.clock(local, locale)
    text = pgettext("a day and a time", "%(day)s, %(time)s", day=day_text, time=at)
    return When(text, at, day, zone_name)


def calendar_url(date: Date, user_id: int) -> str:
    """The date's own .ics where anyone may fetch it (a public group); otherwise the page of
    the reader's personal feed, which needs no session in a calendar app."""
    if date.group.is_public:
        return site_link("feeds.occurrence", slug=date.group.slug, routine_id=date.routine.id,
                         key=date.occurrence.key)  # fmt: skip
    return site_link("feeds.subscribe")


def page_url(date: Date, key: str | None = None) -> str:
    return site_link("events.show", slug=date.group.slug, routine_id=date.routine.id,
                     key=key or date.occurrence.key)  # fmt: skip


def others_going(
    attendance: Attendance | None, user_id: int, new: set[int]
) -> list[dict[str, Any]]:
    """Who else is going, ``new`` (first-timers, :mod:`planner.belonging.newcomers`) marked."""
    if attendance is None:
        return []
    people = []
    for person in attendance.going:
        if person.user_id == user_id:
            continue
        guests = f" (+{person.guests})" if person.guests else ""
        people.append({"name": person.display_name + guests,
                       "first_time": person.user_id in new})  # fmt: skip
    return people


def host_of(
    attendance: Attendance | None, date: Date, members: list[Member]
) -> tuple[int, str] | None:
    """``(user_id, name)`` of the date's host while a member (:func:`date_host`), else the
    person who set the routine up (who may confirm who came, too)."""
    current = {m.user_id: m for m in members}
    named = date_host(date.routine, date.occurrence, attendance)
    if named is not None and named[0] in current:
        return named
    creator = current.get(date.routine.created_by_id or 0)
    return (creator.user_id, creator.name) if creator is not None else None


@dataclass(frozen=True)
class Belonging:
    """What belonging read for a batch of reminders (see the module docstring)."""

    new: dict[tuple[int, datetime], set[int]]  # first-timers going to each date
    known: set[tuple[int, datetime, int]]  # presence said or confirmed on previous dates
    good: dict[tuple[int, datetime], list[str]]  # good things of previous dates
    hosts: dict[tuple[int, datetime], tuple[int, str] | None]  # each date's host, asked once

    @classmethod
    def read(cls, session: Session, due: list[Any], window: Window) -> Belonging:
        going: dict[tuple[int, datetime], set[int]] = {}
        previous: set[tuple[int, datetime]] = set()
        hosts: dict[tuple[int, datetime], tuple[int, str] | None] = {}
        for item in due:
            date: Date = item.date
            key = (date.routine.id, date.occurrence.original_start)
            if key in going:
                continue
            attendance = window.attendance.get(key)
            going[key] = {p.user_id for p in attendance.going} if attendance else set()
            hosts[key] = host_of(attendance, date, window.members.get(date.group.id, []))
            if date.previous is not None:
                previous.add((date.routine.id, date.previous.original_start))
        return cls(newcomers.first_timers_for(session, going),
                   presence.said_for(session, previous),
                   good_things.shown_for(session, previous), hosts)  # fmt: skip


def belonging_context(
    date: Date, member: Member, attendance: Attendance | None, window: Window, read: Belonging,
) -> dict[str, Any]:
    """The reminder's belonging lines for one reader (pure: :class:`Belonging` read it all)."""
    key = (date.routine.id, date.occurrence.original_start)
    new = read.new.get(key, set())
    host = read.hosts.get(key)
    regular = attendance is not None and attendance.is_regular(member.user_id)
    welcome: list[str] = []
    if attendance is not None and (regular or (host is not None and host[0] == member.user_id)):
        welcome = [gettext("%(name)s is coming for the first time — say hi",
                           name=p.display_name)
                   for p in attendance.going if p.user_id in new and p.user_id != member.user_id]
    first_time = None
    if member.user_id in new:
        first_time = {
            "host": host[1] if host is not None and host[0] != member.user_id else None,
            "bring": [s for s in open_slots(attendance) if not is_host_slot(s)],
        }
    were_you_there, last_time = None, []
    if date.previous is not None:
        before = (date.routine.id, date.previous.original_start)
        said = window.attendance.get(before)
        if (said is not None and said.status_of(member.user_id) == Status.GOING
                and (*before, member.user_id) not in read.known):
            moment = when(date.previous.start.astimezone(UTC).replace(tzinfo=None), window.now,
                          member.timezone)  # fmt: skip
            were_you_there = {"day": moment.text,
                              "url": page_url(date, date.previous.key) + "#who-came"}
        last_time = read.good.get(before, [])
    return {"welcome": welcome, "first_time": first_time, "were_you_there": were_you_there,
            "last_time": last_time}  # fmt: skip


def open_slots(attendance: Attendance | None) -> list[str]:
    if attendance is None:
        return []
    return [slot.label for slot in attendance.slots if not slot.is_full]


def notifications(session: Session, due: list[Any], window: Window) -> list[Notification]:
    """One :class:`Notification` per :class:`~planner.notify.reminders.Due`."""
    from planner.notify.reminders import ASK

    read = Belonging.read(session, [d for d in due if d.kind != ASK], window)
    notes: list[Notification] = []
    for item in due:
        with speaking(locale_of(item.member)):  # the reader's language, whoever set it up
            notes.append(_notification(item, window, read))
    return notes


def _notification(item: Any, window: Window, read: Belonging) -> Notification:
    """One reader's reminder or nudge, written in the locale :func:`speaking` set."""
    from planner.notify.reminders import ASK, VERSION_HEADER, dedupe_key, version

    date: Date = item.date
    member = item.member
    key = (date.routine.id, date.occurrence.original_start)
    attendance = window.attendance.get(key)
    moment = when(date.start_utc, window.now, member.timezone)
    links = answer_links.links(user_id=member.user_id, routine_id=date.routine.id,
                               original_start=date.occurrence.original_start)  # fmt: skip
    person = attendance.person(member.user_id) if attendance is not None else None
    context: dict[str, Any] = {
        "title": date.title,
        "when": moment,
        "location": date.location,
        "map_url": map_url(date.location),
        "note": date.occurrence.note or "",
        "page_url": page_url(date),
        "calendar_url": calendar_url(date, member.user_id),
        "answers": links,
        "regular": bool(person is not None and person.regular),
        "going": attendance.status_of(member.user_id) == "going" if attendance else False,
    }
    if item.kind == ASK:
        subject = gettext("Are you coming? %(day)s %(time)s: %(title)s",
                          day=moment.day, time=moment.time, title=date.title)
        template, category, headers = "ask", "ask", {}
        going_count = attendance.going_count if attendance is not None else 0
        context["going_count"] = going_count
        context["lines"] = type_lines("ask", date.occurrence, date.routine,
                                      member.as_user(), attendance)  # fmt: skip
    else:
        subject = pgettext("reminder subject", "%(day)s %(time)s: %(title)s",
                           day=moment.day, time=moment.time, title=date.title)
        template, category = "reminder", "reminder"
        headers = {VERSION_HEADER: version(date)}
        context.update(belonging_context(date, member, attendance, window, read))
        context["others"] = others_going(attendance, member.user_id,
                                         read.new.get(key, set()))  # fmt: skip
        context["open_slots"] = open_slots(attendance)
        context["lines"] = type_lines("reminder", date.occurrence, date.routine,
                                      member.as_user(), attendance)  # fmt: skip
    return Notification(
        category=category,
        kind=item.kind,
        recipient=Recipient(member.user_id, member.email, member.name, member.timezone,
                            member.locale),
        group_id=date.group.id,
        group_name=date.group.name,
        group_slug=date.group.slug,
        subject=subject,
        template=template,
        dedupe_key=dedupe_key(item.kind, member.user_id, date.routine.id,
                              date.occurrence.original_start),  # fmt: skip
        context=context,
        occurrence=key,
        headers=headers,
    )
