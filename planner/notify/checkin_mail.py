"""The belonging room's mail: the private check-in prompt, the member's own message to the one
they missed, and the one notice of a planned break.

A prompt goes to one person (the absent member's buddy, else the host, else an organizer) and
names the absent member only to them; the absent member gets nothing automatic, only what a
person chose to write (:func:`send_personal`).
"""

from __future__ import annotations

import secrets

from flask import Flask
from flask_babel import gettext
from sqlalchemy import select
from sqlalchemy.orm import Session

from planner import locales
from planner.belonging import checkins
from planner.belonging.breaks import Planned
from planner.belonging.past import utc_now
from planner.joining.attendance import attendance_for
from planner.mail.outbox import Draft, queue
from planner.mail.render import (
    current_locale,
    language_header,
    locale_of,
    render,
    site_link,
    speaking,
)
from planner.models import Group, Regular, Routine, User
from planner.notify.preferences import choices
from planner.notify.sending import Notification, Recipient, list_id, queue_notification


def _recipient(user: User) -> Recipient:
    return Recipient(user.id, user.email, user.display_name, user.timezone, user.locale)


def scan(app: Flask) -> int:
    """The periodic job: queue every check-in prompt that is due; how many."""
    from planner.db import get_session

    session = get_session()
    now = utc_now()
    due = checkins.due_checkins(session, now)
    if not due:
        return 0
    people = {u.id: u for u in session.scalars(select(User).where(
        User.id.in_({d.absent_id for d in due} | {d.recipient_id for d in due})))}
    wanted = choices(session, [(d.recipient_id, d.group.id) for d in due])
    sent = 0
    for item in due:
        absent, recipient = people.get(item.absent_id), people.get(item.recipient_id)
        choice = wanted.get((item.recipient_id, item.group.id))
        if absent is None or recipient is None:
            continue
        checkins.record(session, item, now)
        session.flush()
        if choice is None or not choice.wants("message", going=True):
            continue  # recorded all the same: the quiet four weeks start now
        from planner.models import CheckinPrompt

        prompt_id = session.scalar(select(CheckinPrompt.id).where(
            CheckinPrompt.absent_id == absent.id, CheckinPrompt.group_id == item.group.id)
            .order_by(CheckinPrompt.id.desc()))
        url = site_link("belonging.checkin", slug=item.group.slug, prompt_id=prompt_id)
        with speaking(locale_of(recipient)):
            queue_notification(session, Notification(
                category="message", kind="checkin", recipient=_recipient(recipient),
                group_id=item.group.id, group_name=item.group.name, group_slug=item.group.slug,
                subject=gettext("%(name)s hasn't been to %(title)s lately",
                                name=absent.display_name, title=item.routine.title),
                template="checkin",
                dedupe_key=f"checkin:{item.group.id}:{absent.id}:{now:%Y%m%d}",
                context={"absent": absent.display_name, "missed": item.missed,
                         "title": item.routine.title, "url": url},
            ))
        sent += 1
    session.commit()
    return sent


def send_personal(session: Session, group: Group, sender: User, absent: User, text: str) -> None:
    """The buddy's own words to the member they missed (their name on it, not the system's)."""
    locale = locale_of(absent)
    with speaking(locale):
        body_text, body_html = render("checkin_personal", name=absent.display_name,
                                      sender=sender.display_name, text=text.strip(),
                                      group=group.name)
        subject = gettext("A note from %(name)s (%(group)s)", name=sender.display_name,
                          group=group.name)
    queue(session, Draft(
        kind="checkin-personal", recipient=absent.email, user_id=absent.id,
        subject=subject, body_text=body_text, body_html=body_html,
        dedupe_key=f"checkin-personal:{secrets.token_hex(8)}",
        headers={"List-Id": list_id(group.name, group.slug), **language_header(locale)},
    ))


def break_planned(session: Session, group: Group, routine: Routine, planned: Planned) -> int:
    """One notice for the whole break to everyone going to any of its dates, and regulars."""
    keys = [(routine.id, d.original_start) for d in planned.dates]
    ids = set(session.scalars(select(Regular.user_id).where(Regular.routine_id == routine.id)))
    for attendance in attendance_for(session, keys).values():
        ids |= {u for u, s in attendance.statuses().items() if s != "declined"}
    if not ids:
        return 0
    people = list(session.scalars(select(User).where(User.id.in_(ids)).order_by(User.id)))
    wanted = choices(session, [(p.id, group.id) for p in people])
    first, last = planned.planned.first_day, planned.planned.last_day
    told = 0
    for person in people:
        choice = wanted.get((person.id, group.id))
        if choice is None or not choice.wants("notice", going=True):
            continue
        with speaking(locale_of(person)):
            locale = current_locale()
            span = (f"{locales.short_day(first, locale, padded=True)} – "
                    f"{locales.short_day(last, locale, year=True, padded=True)}")
            queue_notification(session, Notification(
                category="notice", kind="notice-break", recipient=_recipient(person),
                group_id=group.id, group_name=group.name, group_slug=group.slug,
                subject=gettext("%(label)s: no %(title)s %(span)s", label=planned.planned.label,
                                title=routine.title, span=span),
                template="notice_break",
                dedupe_key=f"break:{planned.planned.id}:{person.id}",
                context={"label": planned.planned.label, "title": routine.title, "span": span,
                         "count": len(planned.dates),
                         "url": site_link("routines.show", slug=group.slug,
                                          routine_id=routine.id)},
            ))
        told += 1
    return told
