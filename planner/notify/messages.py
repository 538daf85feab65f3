"""An organizer's message about one date, to everyone going or to all members.

Each recipient gets a mail of their own (no address is ever shown to another), in the category
"message", so a member who chose "nothing" from the group or unsubscribed from organizers'
messages gets none. The sender gets a copy saying how many people it went to. One write, one
transaction: every mail of a message is queued, or none is.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from flask import current_app
from flask_babel import gettext, lazy_gettext
from sqlalchemy import select
from sqlalchemy.orm import Session

from planner import locales
from planner.joining.attendance import attendance_of
from planner.mail.outbox import Draft, check_header_text, queue
from planner.mail.render import (
    current_locale,
    language_header,
    locale_of,
    render,
    site_link,
    speaking,
)
from planner.models import Group, Membership, Routine, User
from planner.notify.preferences import choices
from planner.notify.sending import Notification, Recipient, list_id, queue_notification
from planner.scheduling.recurrence import Occurrence

AUDIENCES = {"going": lazy_gettext("everyone going"), "members": lazy_gettext("all members")}
MAX_LENGTH = 2000


class MessageError(ValueError):
    """A message that cannot be sent; ``str()`` is a message for the organizer."""


@dataclass(frozen=True)
class Sent:
    recipients: int
    skipped: int  # people who chose not to get organizers' messages


def send_message(
    session: Session,
    *,
    sender: User,
    group: Group,
    routine: Routine,
    occurrence: Occurrence,
    audience: str,
    text: str,
) -> Sent:
    """Queue the message for each recipient and the copy for the sender (caller commits)."""
    if audience not in AUDIENCES:
        raise MessageError(gettext("Choose who the message is for."))
    text = text.strip()
    if not text:
        raise MessageError(gettext("Write the message first."))
    if len(text) > MAX_LENGTH:
        raise MessageError(gettext("Keep the message under %(num)d characters.",
                                   num=MAX_LENGTH))
    title = occurrence.title or routine.title
    check_header_text(title, "title")
    if audience == "going":
        attendance = attendance_of(session, routine.id, occurrence.original_start)
        ids = {p.user_id for p in attendance.going}
    else:
        ids = set(session.scalars(select(Membership.user_id).where(
            Membership.group_id == group.id)))
    ids.discard(sender.id)
    people = list(session.scalars(select(User).where(User.id.in_(ids)).order_by(User.id)))
    wanted = choices(session, [(p.id, group.id) for p in people])
    message_id = secrets.token_hex(8)

    def day_and_subject() -> tuple[str, str]:
        """The date and the subject in the locale :func:`speaking` set."""
        day = locales.short_day(occurrence.start.date(), current_locale(), padded=True)
        return day, gettext("%(title)s on %(day)s: a message from %(name)s", title=title,
                            day=day, name=sender.display_name)

    url = site_link("events.show", slug=group.slug, routine_id=routine.id, key=occurrence.key)
    sent = skipped = 0
    for person in people:
        choice = wanted.get((person.id, group.id))
        if choice is None or not choice.wants("message", going=True):
            skipped += 1
            continue
        with speaking(locale_of(person)):  # the reader's language, not the organizer's
            day, subject = day_and_subject()
            queue_notification(session, Notification(
                category="message", kind="message",
                recipient=Recipient(person.id, person.email, person.display_name,
                                    person.timezone, person.locale),
                group_id=group.id, group_name=group.name, group_slug=group.slug,
                subject=subject, template="message",
                dedupe_key=f"message:{message_id}:{person.id}",
                context={"sender": sender.display_name, "text": text, "title": title,
                         "url": url, "day": day},
                occurrence=(routine.id, occurrence.original_start),
            ))
        sent += 1
    locale = locale_of(sender)
    with speaking(locale):
        day, subject = day_and_subject()
        body_text, body_html = render(
            "message_copy", name=sender.display_name, text=text, title=title, url=url, day=day,
            count=sent, audience=str(AUDIENCES[audience]), group=group.name,
        )
        copy_subject = gettext("Copy: %(subject)s", subject=subject)
    queue(session, Draft(
        kind="message-copy", recipient=sender.email, user_id=sender.id,
        subject=copy_subject, body_text=body_text, body_html=body_html,
        dedupe_key=f"message:{message_id}:copy",
        headers={"List-Id": list_id(group.name, group.slug), **language_header(locale)},
    ))
    current_app.logger.info("message %s about routine %s to %s people", message_id, routine.id,
                            sent)
    return Sent(recipients=sent, skipped=skipped)
