"""Confirming addresses by mail: at sign-up, on request (resend), and when changing it.

Links are signed (itsdangerous, one salt per purpose) and carry the address they confirm, so a
link for an address the account no longer has does nothing. Until an address is confirmed the
account works, but only account mail (verification, reset, the change notices) goes to it:
:data:`planner.mail.outbox.ACCOUNT_KINDS` is what :func:`planner.mail.outbox.queue` lets
through.

Changing the address needs the password; the confirmation goes to the new address and a notice
to the old one, and the address only changes when the new one's link is opened.
"""

from __future__ import annotations

from flask import current_app
from flask_babel import gettext
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from planner.accounts.passwords import check_password
from planner.mail.delivery import clock
from planner.mail.outbox import Draft, check_address, queue
from planner.mail.render import language_header, locale_of, render, site_link, speaking
from planner.mail.signing import serializer
from planner.models import User, utcnow

VERIFY_SALT, CHANGE_SALT = "verify-email", "change-email"
VERIFY_MAX_AGE = 7 * 24 * 3600
CHANGE_MAX_AGE = 24 * 3600


class VerificationError(ValueError):
    """A link or request that cannot be used; ``str()`` is for the page."""


def _serializer(salt: str) -> URLSafeTimedSerializer:
    return serializer(salt)


def _minute() -> str:
    return clock(current_app._get_current_object()).strftime("%Y%m%d%H%M")  # type: ignore[attr-defined]


def queue_verification(db: Session, user: User) -> None:
    """Queue the "confirm your address" mail in the caller's transaction."""
    token = _serializer(VERIFY_SALT).dumps({"u": user.id, "e": user.email})
    url = site_link("verify.confirm", token=token)
    locale = locale_of(user)
    with speaking(locale):
        text, html = render("verify", name=user.display_name, url=url)
        subject = gettext("Confirm your address for %(site)s",
                          site=current_app.config["SITE_NAME"])
    queue(db, Draft(
        kind="verify", recipient=user.email, user_id=user.id,
        subject=subject, body_text=text, body_html=html, headers=language_header(locale),
        dedupe_key=f"verify:{user.id}:{user.email}:{_minute()}",
    ))


def resend(db: Session, user: User) -> bool:
    """False when there is nothing to confirm."""
    if user.email_verified_at is not None:
        return False
    queue_verification(db, user)
    db.commit()
    return True


def _load(salt: str, token: str, max_age: int) -> dict[str, object]:
    try:
        data = _serializer(salt).loads(token, max_age=max_age)
    except SignatureExpired:
        raise VerificationError(
            gettext("This confirmation link has expired. Ask for a new one.")
        ) from None
    except BadSignature:
        raise VerificationError(gettext("This confirmation link is not valid.")) from None
    if not isinstance(data, dict):
        raise VerificationError(gettext("This confirmation link is not valid."))
    return data


def confirm(db: Session, token: str) -> User:
    data = _load(VERIFY_SALT, token, VERIFY_MAX_AGE)
    user = db.get(User, data.get("u"))
    if user is None or user.email != data.get("e"):
        raise VerificationError(gettext("This link is for an address the account no longer has."))
    if user.email_verified_at is None:
        user.email_verified_at = utcnow()
        db.commit()
    return user


def request_change(db: Session, user: User, new_email: str, password: str) -> None:
    """Mail a confirmation to ``new_email`` and a notice to the current address."""
    if not check_password(user.password_hash, password):
        raise VerificationError(gettext("That is not your password."))
    new_email = check_address(new_email.strip()).lower()
    if new_email == user.email:
        raise VerificationError(gettext("That is already your address."))
    if db.scalar(select(User.id).where(User.email == new_email)) is not None:
        raise VerificationError(gettext("Another account already uses that address."))
    token = _serializer(CHANGE_SALT).dumps({"u": user.id, "old": user.email, "new": new_email})
    url = site_link("verify.change", token=token)
    site = current_app.config["SITE_NAME"]
    locale = locale_of(user)
    with speaking(locale):
        text, html = render("email_change", name=user.display_name, url=url, new=new_email)
        subject = gettext("Confirm your new address for %(site)s", site=site)
    queue(db, Draft(
        kind="email-change", recipient=new_email, user_id=user.id,
        subject=subject, body_text=text, body_html=html, headers=language_header(locale),
        dedupe_key=f"email-change:{user.id}:{new_email}:{_minute()}",
    ))
    with speaking(locale):
        text, html = render("email_notice", name=user.display_name, new=new_email)
        subject = gettext("Your %(site)s address is being changed", site=site)
    queue(db, Draft(
        kind="email-notice", recipient=user.email, user_id=user.id,
        subject=subject, body_text=text, body_html=html, headers=language_header(locale),
        dedupe_key=f"email-notice:{user.id}:{new_email}:{_minute()}",
    ))
    db.commit()


def confirm_change(db: Session, token: str) -> User:
    data = _load(CHANGE_SALT, token, CHANGE_MAX_AGE)
    user = db.get(User, data.get("u"))
    if user is None or user.email != data.get("old"):
        raise VerificationError(
            gettext("This link was already used, or the address changed since.")
        )
    user.email = str(data.get("new"))
    user.email_verified_at = utcnow()
    try:
        db.commit()
    except IntegrityError:
        db.rollback()
        raise VerificationError(
            gettext("Another account took that address in the meantime.")
        ) from None
    return user
