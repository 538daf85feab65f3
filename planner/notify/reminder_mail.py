"""What the reminder and the nudge say: the date in the reader's zone, where (with a map link),
who else is going, the open slots, the activity type's lines, "Add to calendar" and one-click
answers. Built for many mails at once with one more statement (earlier answers, for marking
first-timers), so the scan stays bounded.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote_plus

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from planner.enums import Answer
from planner.joining.attendance import Attendance
from planner.mail.render import site_link
from planner.models import Rsvp
from planner.notify import answer_links
from planner.notify.content import type_lines
from planner.notify.sending import Notification, Recipient
from planner.notify.upcoming import Date, Window
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


def when(start_utc: datetime, now: datetime, zone_name: str) -> When:
    """The start as the reader's own wall clock says it, and which day that is for them."""
    try:
        zone = load_zone(zone_name)
    except (RecurrenceError, ValueError):
        zone_name, zone = "UTC", load_zone("UTC")
    local = start_utc.replace(tzinfo=UTC).astimezone(zone)
    today = now.replace(tzinfo=UTC).astimezone(zone).date()
    days = (local.date() - today).days
    day_text = f"{local.strftime('%A')} {local.day} {local.strftime('%B')}"
    if days == 0:
        day = "Today"
    elif days == 1:
        day = "Tomorrow"
    elif 1 < days < 7:
        day = local.strftime("%A")
    else:
        day = day_text
    return When(f"{day_text}, {local:%H:%M}", f"{local:%H:%M}", day, zone_name)


def first_going(session: Session, routine_ids: set[int]) -> dict[tuple[int, int], datetime]:
    """``{(routine_id, user_id): earliest original start they said "going" to}``: one
    statement, for marking first-timers ("first time": no earlier going answer)."""
    if not routine_ids:
        return {}
    rows = session.execute(
        select(Rsvp.routine_id, Rsvp.user_id, func.min(Rsvp.original_start))
        .where(Rsvp.routine_id.in_(routine_ids), Rsvp.status == Answer.GOING)
        .group_by(Rsvp.routine_id, Rsvp.user_id)
    )
    return {(rid, uid): first for rid, uid, first in rows}


def calendar_url(date: Date, user_id: int) -> str:
    """The date's own .ics where anyone may fetch it (a public group); otherwise the page of
    the reader's personal feed, which needs no session in a calendar app."""
    if date.group.is_public:
        return site_link("feeds.occurrence", slug=date.group.slug, routine_id=date.routine.id,
                         key=date.occurrence.key)  # fmt: skip
    return site_link("feeds.subscribe")


def page_url(date: Date) -> str:
    return site_link("events.show", slug=date.group.slug, routine_id=date.routine.id,
                     key=date.occurrence.key)  # fmt: skip


def others_going(
    attendance: Attendance | None, date: Date, user_id: int,
    first: dict[tuple[int, int], datetime],
) -> list[dict[str, Any]]:
    if attendance is None:
        return []
    people = []
    for person in attendance.going:
        if person.user_id == user_id:
            continue
        earliest = first.get((date.routine.id, person.user_id))
        new = not person.regular and (
            earliest is None or earliest >= date.occurrence.original_start
        )
        guests = f" (+{person.guests})" if person.guests else ""
        people.append({"name": person.display_name + guests, "first_time": new})
    return people


def open_slots(attendance: Attendance | None) -> list[str]:
    if attendance is None:
        return []
    return [slot.label for slot in attendance.slots if not slot.is_full]


def notifications(session: Session, due: list[Any], window: Window) -> list[Notification]:
    """One :class:`Notification` per :class:`~planner.notify.reminders.Due`."""
    from planner.notify.reminders import ASK, VERSION_HEADER, dedupe_key, version

    first = first_going(session, {d.date.routine.id for d in due if d.kind != ASK})
    notes: list[Notification] = []
    for item in due:
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
            subject = f"Are you coming? {moment.day} {moment.time}: {date.title}"
            template, category, headers = "ask", "ask", {}
            going_count = attendance.going_count if attendance is not None else 0
            context["going_count"] = going_count
            context["lines"] = type_lines("ask", date.occurrence, date.routine,
                                          member.as_user(), attendance)  # fmt: skip
        else:
            subject = f"{moment.day} {moment.time}: {date.title}"
            template, category = "reminder", "reminder"
            headers = {VERSION_HEADER: version(date)}
            context["others"] = others_going(attendance, date, member.user_id, first)
            context["open_slots"] = open_slots(attendance)
            context["lines"] = type_lines("reminder", date.occurrence, date.routine,
                                          member.as_user(), attendance)  # fmt: skip
        notes.append(
            Notification(
                category=category,
                kind=item.kind,
                recipient=Recipient(member.user_id, member.email, member.name, member.timezone),
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
        )
    return notes

