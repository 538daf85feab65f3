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
from flask_babel import gettext
from sqlalchemy import select
from sqlalchemy.orm import Session

from planner import locales
from planner.mail.outbox import Draft, MailInputError, check_address, check_header_text, queue
from planner.mail.render import default_locale, language_header, render, site_link, speaking
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
        raise InviteMailError(gettext("The addresses may not contain stray line breaks."))
    raw = [part for part in _SEPARATORS.split(text or "") if part]
    if not raw:
        raise InviteMailError(gettext("Paste at least one e-mail address."))
    seen: dict[str, None] = {}
    bad: list[str] = []
    for part in raw:
        try:
            seen.setdefault(check_address(part).lower(), None)
        except MailInputError:
            bad.append(part)
    if bad:
        shown = ", ".join(bad[:5]) + (" ..." if len(bad) > 5 else "")
        raise InviteMailError(
            gettext("These are not e-mail addresses: %(addresses)s. Nothing was sent.",
                    addresses=shown)
        )
    if len(seen) > MAX_ADDRESSES:
        raise InviteMailError(
            gettext("That is %(count)d addresses: invite at most %(most)d at a time. "
                    "Nothing was sent.", count=len(seen), most=MAX_ADDRESSES)
        )
    return list(seen)


def check_note(note: str) -> str:
    note = (note or "").strip()
    if len(note) > NOTE_MAX:
        raise InviteMailError(gettext("Keep the note to %(num)d characters.", num=NOTE_MAX))
    try:
        check_header_text(note, "note")
    except MailInputError as error:
        raise InviteMailError(gettext("%(error)s Nothing was sent.", error=error)) from None
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
    # Each mail in the language of the one invited: their account's, else the group's.
    accounts: dict[str, str | None] = {
        email: chosen
        for email, chosen in db.execute(
            select(User.email, User.locale).where(User.email.in_(to_mail))
        )
    }
    group_default = locales.supported(group.language, default_locale()) or default_locale()
    written: dict[str, tuple[str, str, str]] = {}  # locale -> subject, text, html
    domain = current_app.config["FEED_UID_DOMAIN"]
    for address in to_mail:
        chosen = accounts.get(address)
        locale = locales.supported(chosen, default_locale()) if chosen else None
        locale = locale or group_default
        if locale not in written:
            with speaking(locale):
                text, html = render(
                    "invite", inviter=organizer.display_name, group=group.name, note=note,
                    url=url, days=LINK_DAYS,
                )
                subject = gettext("%(name)s invites you to %(group)s",
                                  name=organizer.display_name, group=group.name)
            written[locale] = (subject, text, html)
        subject, text, html = written[locale]
        queue(
            db,
            Draft(
                kind="invite",
                recipient=address,
                subject=subject,
                body_text=text,
                body_html=html,
                dedupe_key=f"invite:{group.id}:{address}:{invite.id}",
                headers={"List-Id": f"{group.name} <{group.slug}.{domain}>",
                         **language_header(locale)},
            ),
        )
    db.commit()
    result.mailed, result.invite = to_mail, invite
    return result
