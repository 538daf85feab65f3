"""Writing outbox rows: the one way any room asks for a mail.

A row is added to the caller's session and committed with the change that causes it, so a mail
exists exactly when its cause does. Nothing is sent here: after the commit the queue is nudged
(:mod:`planner.mail.queue`), and the minute sweep picks up anything a nudge missed.

The dedupe key is unique in the database; the insert is ``ON CONFLICT DO NOTHING`` on both
SQLite and PostgreSQL, so two requests racing to queue the same mail leave one row and no error.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime
from email.headerregistry import Address
from typing import Any

from flask import current_app
from sqlalchemy import event, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from planner import clock
from planner.models import OutboxMessage, User

log = logging.getLogger(__name__)

#: What an account with an unconfirmed address still gets: mail about the account itself.
ACCOUNT_KINDS = frozenset({"verify", "reset", "email-change", "email-notice"})
#: Rows per multi-row INSERT: 16 columns each stays far below SQLite's 32766 bound parameters.
INSERT_BATCH = 500


class MailInputError(ValueError):
    """Input that must not reach a mail header (CR/LF, a malformed address); ``str()`` is a
    message for the person. Nothing was queued."""


@dataclass
class Draft:
    """A mail about to be queued. Plugins see (and may edit) it in ``mail_queued``."""

    kind: str
    recipient: str
    subject: str
    body_text: str
    body_html: str = ""
    dedupe_key: str = ""
    user_id: int | None = None
    headers: dict[str, str] = field(default_factory=dict)
    due_at: datetime | None = None
    #: What the mail is about ("routine_id:key"), for the send-time check of its kind.
    about: str = ""


def check_header_text(value: str, what: str) -> str:
    """Refuse CR/LF (and other control characters) in text that lands in a header."""
    if any(ch in value for ch in "\r\n") or any(ord(ch) < 32 and ch != "\t" for ch in value):
        raise MailInputError(f"The {what} may not contain line breaks or control characters.")
    return value


def check_address(value: str) -> str:
    """A single plain address (``name@domain``), or :class:`MailInputError`."""
    check_header_text(value, "address")
    from email_validator import EmailNotValidError, validate_email

    try:
        checked = validate_email(value, check_deliverability=False)
    except EmailNotValidError as exc:
        raise MailInputError(f"{value!r} is not a valid e-mail address: {exc}") from None
    normalized: str = checked.normalized
    Address(addr_spec=normalized)  # what delivery will build; raises on anything odd
    return normalized


def queue(session: Session, draft: Draft) -> None:
    """Add ``draft`` to the outbox in the caller's transaction (committed by the caller).

    Mail for an account whose address is unconfirmed is dropped unless it is account mail
    (:data:`ACCOUNT_KINDS`). Plugins' ``mail_queued`` hooks run first and may edit the draft.
    A draft whose dedupe key is already in the outbox is skipped silently: that mail is queued
    (or sent) already.
    """
    queue_many(session, [draft])


def queue_many(session: Session, drafts: list[Draft]) -> int:
    """:func:`queue` for many drafts in two statements whatever their number (one read of the
    recipients' confirmations, one multi-row insert): the minute reminder scan queues hundreds
    at once and must not cost a statement per mail. Returns how many drafts were offered to the
    insert (those already in the outbox are skipped by it)."""
    for draft in drafts:
        check_address(draft.recipient)
        check_header_text(draft.subject, "subject")
        for name, value in draft.headers.items():
            check_header_text(name, "header name")
            check_header_text(value, "header")
    asking = {d.user_id for d in drafts if d.user_id is not None and d.kind not in ACCOUNT_KINDS}
    verified: set[int] = set()
    if asking:
        verified = set(
            session.scalars(
                select(User.id).where(User.id.in_(asking), User.email_verified_at.is_not(None))
            )
        )
    plugins = current_app.extensions.get("planner")
    now = clock.naive_now()
    rows: list[dict[str, Any]] = []
    for draft in drafts:
        if draft.user_id in asking and draft.user_id not in verified:
            log.info("not queueing %s mail: %s has not confirmed the address", draft.kind,
                     draft.recipient)
            continue
        if plugins is not None:
            plugins.hook.mail_queued(draft=draft)
        rows.append(_values(draft, now))
    if not rows:
        return 0
    dialect = session.get_bind().dialect.name
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    statement = insert(OutboxMessage).on_conflict_do_nothing(index_elements=["dedupe_key"])
    for at in range(0, len(rows), INSERT_BATCH):  # one multi-row INSERT per batch
        session.execute(statement.values(rows[at : at + INSERT_BATCH]))
    _nudge_after_commit(session)
    return len(rows)


def _values(draft: Draft, now: datetime) -> dict[str, Any]:
    return dict(
        kind=draft.kind,
        recipient=draft.recipient,
        user_id=draft.user_id,
        dedupe_key=(draft.dedupe_key or f"{draft.kind}:{draft.recipient}:{now.isoformat()}")[
            :255
        ],
        subject=draft.subject,
        body_text=draft.body_text,
        body_html=draft.body_html,
        headers=dict(draft.headers),
        state="queued",
        due_at=draft.due_at or now,
        attempts=0,
        last_error="",
        path="",
        about=draft.about[:64],
        created_at=now,
        claimed_until=None,
        sent_at=None,
    )


def _nudge_after_commit(session: Session) -> None:
    """Wake a worker once the rows are committed (not before: it would find nothing)."""
    if session.info.get("mail_nudge"):
        return
    session.info["mail_nudge"] = True
    app = current_app._get_current_object()  # type: ignore[attr-defined]

    def _after_commit(_session: Session) -> None:
        session.info.pop("mail_nudge", None)
        from planner.mail.queue import nudge

        nudge(app)

    def _after_rollback(_session: Session, _previous: object) -> None:
        session.info.pop("mail_nudge", None)
        if event.contains(session, "after_commit", _after_commit):
            event.remove(session, "after_commit", _after_commit)

    event.listen(session, "after_commit", _after_commit, once=True)
    event.listen(session, "after_soft_rollback", _after_rollback, once=True)
