"""An outbox row as an :class:`email.message.EmailMessage`, built only from structured parts.

Addresses go through :class:`email.headerregistry.Address` and every header through the
``email`` package's policy, so no text from a person can start a header of its own; the outbox
refuses CR/LF before a row is written (:func:`planner.mail.outbox.check_header_text`).
"""

from __future__ import annotations

import hashlib
from datetime import UTC
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime, parseaddr

from planner.models import OutboxMessage


def sender(mail_from: str, site_name: str) -> Address:
    name, addr = parseaddr(mail_from)
    return Address(display_name=name or site_name, addr_spec=addr or mail_from)


def build(row: OutboxMessage, mail_from: str, site_name: str, msgid_domain: str) -> EmailMessage:
    """Multipart text + HTML with Message-ID, Date, Auto-Submitted and the row's own headers
    (``List-Id`` for group mail). The Message-ID is stable per row, so a resend after a crash
    carries the same one and clients can drop the duplicate."""
    msg = EmailMessage()
    msg["From"] = sender(mail_from, site_name)
    msg["To"] = Address(addr_spec=row.recipient)
    msg["Subject"] = row.subject
    msg["Date"] = format_datetime(row.created_at.replace(tzinfo=UTC))
    digest = hashlib.sha256(row.dedupe_key.encode()).hexdigest()[:16]
    msg["Message-ID"] = f"<outbox-{row.id}.{digest}@{msgid_domain}>"
    msg["Auto-Submitted"] = "auto-generated"
    msg.set_content(row.body_text)
    if row.body_html:
        msg.add_alternative(row.body_html, subtype="html")
    # After the bodies: making the message multipart moves every Content-* header into the
    # first part, and Content-Language belongs to the whole mail.
    for name, value in (row.headers or {}).items():
        msg[name] = value
    return msg

