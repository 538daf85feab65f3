"""The one way reminders, notices, digests and messages are queued.

Every such mail goes to one person about one group, in one category, so it gets the same
things wherever it comes from: the preferences check, ``List-Id``, one-click
``List-Unsubscribe`` for that category and group, the footer link to the preferences, the
occurrence's thread headers, the ``notification_queued`` hook, and the outbox's dedupe key
(sent at most once). Senders only say what is in the mail.

Each mail is written in its recipient's language (:attr:`Recipient.locale`, else the site's
default), whoever caused it: senders build a person's subject and lines inside
:func:`~planner.mail.render.speaking` (``with speaking(locale_of(person)):``) and
:func:`draft_of` renders the bodies in it too and sets ``Content-Language``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from flask import current_app
from sqlalchemy.orm import Session

from planner.mail.outbox import Draft, queue_many
from planner.mail.render import language_header, locale_of, render, speaking
from planner.notify import threads, unsubscribe
from planner.notify.preferences import CATEGORIES, CATEGORY_NAMES


@dataclass(frozen=True)
class Recipient:
    user_id: int
    email: str
    name: str
    timezone: str
    #: Their chosen locale (``User.locale``); None: the site's default.
    locale: str | None = None


@dataclass
class Notification:
    """One mail to one person about one group; ``context`` fills ``mail/<template>``."""

    category: str  # one of preferences.CATEGORIES
    kind: str  # the outbox kind: "reminder", "ask", "notice-changed", "digest", ...
    recipient: Recipient
    group_id: int
    group_name: str
    group_slug: str
    subject: str
    template: str
    dedupe_key: str
    context: dict[str, Any] = field(default_factory=dict)
    #: (routine_id, original_start) of the date it is about: threads the mail and lets the
    #: send-time check of its kind re-ask whether it should still go.
    occurrence: tuple[int, datetime] | None = None
    due_at: datetime | None = None
    #: Further headers the sender's send-time check reads back (the reminder's version).
    headers: dict[str, str] = field(default_factory=dict)


def list_id(group_name: str, group_slug: str) -> str:
    domain = current_app.config["FEED_UID_DOMAIN"]
    return f"{group_name} <{group_slug}.{domain}>"


def queue_notification(session: Session, note: Notification) -> Draft:
    """Render and queue ``note`` in the caller's transaction; returns the draft as queued.

    The caller has already asked :func:`planner.notify.preferences.may_send` (or
    :meth:`Choice.wants` for many people at once): this never decides who gets mail.
    """
    draft = draft_of(note)
    queue_many(session, [draft])
    return draft


def queue_notifications(session: Session, notes: list[Notification]) -> list[Draft]:
    """:func:`queue_notification` for many notes in the outbox's two statements (the minute
    scan's reminders), whatever their number."""
    drafts = [draft_of(note) for note in notes]
    if drafts:
        queue_many(session, drafts)
    return drafts


def draft_of(note: Notification) -> Draft:
    """The rendered draft of ``note``, its headers and the ``notification_queued`` hook."""
    if note.category not in CATEGORIES:
        raise ValueError(f"unknown mail category {note.category!r}")
    person = note.recipient
    locale = locale_of(person)
    with speaking(locale):
        links = {
            "unsubscribe_url": unsubscribe.link(
                user_id=person.user_id, group_id=note.group_id, category=note.category
            ),
            "preferences_url": unsubscribe.preferences_link(),
            "category_name": str(CATEGORY_NAMES[note.category]),
        }
        text, html = render(
            note.template, name=person.name, group=note.group_name, **links, **note.context
        )
        subject = str(note.subject)  # a lazy subject is made in the recipient's language
    headers = {"List-Id": list_id(note.group_name, note.group_slug), **language_header(locale),
               **note.headers}
    headers.update(
        unsubscribe.headers(user_id=person.user_id, group_id=note.group_id,
                            category=note.category)
    )
    about = ""
    if note.occurrence is not None:
        routine_id, original_start = note.occurrence
        headers.update(threads.headers(routine_id, original_start))
        about = threads.about(routine_id, original_start)
    draft = Draft(
        kind=note.kind,
        recipient=person.email,
        user_id=person.user_id,
        subject=subject,
        body_text=text,
        body_html=html,
        dedupe_key=note.dedupe_key,
        headers=headers,
        due_at=note.due_at,
        about=about,
    )
    plugins = current_app.extensions.get("planner")
    if plugins is not None:
        plugins.hook.notification_queued(
            draft=draft, category=note.category, user_id=person.user_id, group_id=note.group_id
        )
    return draft
