"""The "a place opened up" mail, queued in the transaction of whatever promoted the person.

Promotion is read off the derived waitlist: any change whose person was ``waitlisted`` before
and ``going`` after, whatever caused it (a decline, a withdrawal, a regular leaving, raised
capacity, a deleted account). The dedupe key is (routine, occurrence, person, the ``answered_at``
that gave them the place) -- so racing requests, or a recomputation, queue one mail, while a
person who loses and later regains a place hears of it again.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Protocol

from flask_babel import gettext
from sqlalchemy import select
from sqlalchemy.orm import Session

from planner import locales
from planner.joining.attendance import GOING, WAITLISTED
from planner.mail.outbox import Draft, queue
from planner.mail.render import language_header, locale_of, render, site_link, speaking
from planner.models import Group, Override, Routine, User
from planner.scheduling.zones import format_key, load_zone, localize


class _Change(Protocol):  # answers.Change (not imported: answers imports this module)
    @property
    def routine_id(self) -> int: ...
    @property
    def original_start(self) -> datetime: ...
    @property
    def user_id(self) -> int: ...
    @property
    def previous(self) -> str | None: ...
    @property
    def status(self) -> str | None: ...


def promoted(changes: Iterable[_Change]) -> list[_Change]:
    return [c for c in changes if c.previous == WAITLISTED and c.status == GOING]


def _when(
    start: datetime, routine_zone: str, person_zone: str, locale: str
) -> tuple[str, str]:
    """The start in the reader's own zone: a promoted person abroad reads their own clock."""
    try:
        zone = load_zone(person_zone)
    except ValueError:  # an old or odd zone name: fall back to the routine's
        zone, person_zone = load_zone(routine_zone), routine_zone
    moment = localize(start, routine_zone).astimezone(zone)
    day = locales.long_day(moment, locale, year=True, padded=True)
    return f"{day}, {locales.clock(moment, locale)}", person_zone


def queue_promotions(session: Session, routine: Routine, changes: Iterable[_Change]) -> int:
    """Queue one mail per promotion among ``changes`` (inside the caller's transaction)."""
    moved = promoted(changes)
    if not moved:
        return 0
    people = {
        u.id: u
        for u in session.scalars(select(User).where(User.id.in_({c.user_id for c in moved})))
    }
    group = session.get(Group, routine.group_id)
    assert group is not None
    for change in moved:
        user = people.get(change.user_id)
        if user is None:
            continue
        override = session.scalar(
            select(Override).where(
                Override.routine_id == routine.id,
                Override.original_start == change.original_start,
            )
        )
        start = override.start if override is not None and override.start else change.original_start
        title = override.title if override is not None and override.title else routine.title
        stamp = _place_stamp(session, routine, change)
        locale = locale_of(user)
        when, zone = _when(start, routine.timezone, user.timezone, locale)
        key = format_key(change.original_start)
        url = site_link("events.show", slug=group.slug, routine_id=routine.id, key=key)
        with speaking(locale):  # the promoted person's language
            text, html = render(
                "promoted", name=user.display_name, title=title, when=when, zone=zone, url=url,
                group=group.name,
            )
            subject = gettext("A place opened up: you're going to %(title)s", title=title)
        queue(
            session,
            Draft(
                kind="promoted",
                recipient=user.email,
                user_id=user.id,
                subject=subject,
                body_text=text,
                body_html=html,
                dedupe_key=f"promoted:{routine.id}:{key}:{user.id}:{stamp}",
                headers={"List-Id": f"{group.name} <{group.slug}.{_domain()}>",
                         **language_header(locale)},
            ),
        )
    return len(moved)


def _domain() -> str:
    from flask import current_app

    domain: str = current_app.config["FEED_UID_DOMAIN"]
    return domain


def _place_stamp(session: Session, routine: Routine, change: _Change) -> str:
    """What identifies this stay on the going list: the arrival the queue orders by."""
    from planner.models import Regular, Rsvp

    answered = session.scalar(
        select(Rsvp.answered_at).where(
            Rsvp.routine_id == routine.id,
            Rsvp.original_start == change.original_start,
            Rsvp.user_id == change.user_id,
        )
    ) or session.scalar(
        select(Regular.joined_at).where(
            Regular.routine_id == routine.id, Regular.user_id == change.user_id
        )
    )
    return answered.strftime("%Y%m%d%H%M%S%f") if answered else "0"
