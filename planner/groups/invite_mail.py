"""Inviting people by e-mail: organizers paste up to 50 addresses and a short note.

All of it is checked before anything is written, so a batch with one bad address (malformed,
or a header-injection attempt in the note) sends nothing and says which one. The batch gets one
fresh invite link (30 days, as many uses as addresses mailed); each address gets its own mail
with it, queued in the same transaction as the link. Addresses that already belong to members
are skipped and reported; the dedupe key (group, address, link) keeps a double submit from
mailing anyone twice.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass, field
from datetime import timedelta

from flask import current_app
from sqlalchemy import select
from sqlalchemy.orm import Session

from planner.mail.outbox import Draft, MailInputError, check_address, check_header_text, queue
from planner.mail.render import render, site_link
from planner.models import Group, Invite, Membership, User, utcnow

MAX_ADDRESSES = 50
NOTE_MAX = 500
LINK_DAYS = 30
_SEPARATORS = re.compile(r"[,;\s]+")


class InviteMailError(ValueError):
    """Nothing was sent; ``str()`` says why, for the form."""


@dataclass
class InviteMailResult:
    mailed: list[str] = field(default_factory=list)
    skipped_members: list[str] = field(default_factory=list)
    invite: Invite | None = None


def parse_addresses(text: str) -> list[str]:
    """Distinct, checked addresses in pasted order; :class:`InviteMailError` names the bad."""
    if "\r" in text.replace("\r\n", "\n"):
        raise InviteMailError("The addresses may not contain stray line breaks.")
    raw = [part for part in _SEPARATORS.split(text or "") if part]
    if not raw:
        raise InviteMailError("Paste at least one e-mail address.")
    seen: dict[str, None] = {}
    bad: list[str] = []
    for part in raw:
        try:
            seen.setdefault(check_address(part).lower(), None)
        except MailInputError:
            bad.append(part)
    if bad:
        shown = ", ".join(bad[:5]) + (" ..." if len(bad) > 5 else "")
        raise InviteMailError(f"These are not e-mail addresses: {shown}. Nothing was sent.")
    if len(seen) > MAX_ADDRESSES:
        raise InviteMailError(
            f"That is {len(seen)} addresses: invite at most {MAX_ADDRESSES} at a time. "
            "Nothing was sent."
        )
    return list(seen)


def check_note(note: str) -> str:
    note = (note or "").strip()
    if len(note) > NOTE_MAX:
        raise InviteMailError(f"Keep the note to {NOTE_MAX} characters.")
    try:
        check_header_text(note, "note")
    except MailInputError as error:
        raise InviteMailError(f"{error} Nothing was sent.") from None
    return note


def invite_by_email(
    db: Session, group: Group, organizer: User, addresses_text: str, note: str
) -> InviteMailResult:
    """Queue one invite mail per new address (with one new link); skip current members."""
    addresses = parse_addresses(addresses_text)
    note = check_note(note)
    try:
        check_header_text(organizer.display_name, "display name")
    except MailInputError as error:
        raise InviteMailError(str(error)) from None
    members = set(
        db.scalars(
            select(User.email)
            .join(Membership, Membership.user_id == User.id)
            .where(Membership.group_id == group.id, User.email.in_(addresses))
        )
    )
    result = InviteMailResult(skipped_members=[a for a in addresses if a in members])
    to_mail = [a for a in addresses if a not in members]
    if not to_mail:
        return result
    invite = Invite(
        token=secrets.token_urlsafe(16),
        group_id=group.id,
        created_by_id=organizer.id,
        expires_at=utcnow() + timedelta(days=LINK_DAYS),
        max_uses=len(to_mail),
    )
    db.add(invite)
    db.flush()
    url = site_link("invites.show", token=invite.token)
    text, html = render(
        "invite", inviter=organizer.display_name, group=group.name, note=note, url=url,
        days=LINK_DAYS,
    )
    domain = current_app.config["FEED_UID_DOMAIN"]
    for address in to_mail:
        queue(
            db,
            Draft(
                kind="invite",
                recipient=address,
                subject=f"{organizer.display_name} invites you to {group.name}",
                body_text=text,
                body_html=html,
                dedupe_key=f"invite:{group.id}:{address}:{invite.id}",
                headers={"List-Id": f"{group.name} <{group.slug}.{domain}>"},
            ),
        )
    db.commit()
    result.mailed, result.invite = to_mail, invite
    return result
