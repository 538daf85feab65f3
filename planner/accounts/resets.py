"""Password reset by mail: a signed link, valid for an hour, good for one use.

The token (itsdangerous, salt ``password-reset``) carries the user id and the password stamp
(:func:`planner.accounts.people.password_stamp`). Setting a password changes the stamp, so the
same link, or any older one, stops working the moment it is used or the password is changed
another way: single use without a table of spent tokens.

Asking for a reset answers the same whether or not the address has an account; the mail is
queued in the request's transaction and sent by the worker. A reset is an account-security
mail, so it goes to unverified addresses too: it proves the address as well as verification.
"""

from __future__ import annotations

from flask import current_app
from flask_babel import gettext
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlalchemy import select
from sqlalchemy.orm import Session

from planner.accounts.passwords import hash_password
from planner.accounts.people import password_stamp
from planner.mail.delivery import clock
from planner.mail.outbox import Draft, queue
from planner.mail.render import language_header, locale_of, render, site_link, speaking
from planner.mail.signing import serializer
from planner.models import User

SALT = "password-reset"
MAX_AGE = 3600


class ResetError(ValueError):
    """The link cannot be used; ``str()`` says why, for the page."""


def _serializer() -> URLSafeTimedSerializer:
    return serializer(SALT)


def make_token(user: User) -> str:
    token: str = _serializer().dumps({"u": user.id, "s": password_stamp(user)})
    return token


def request_reset(db: Session, email: str) -> None:
    """Queue a reset mail when ``email`` has an account; say nothing either way."""
    user = db.scalar(select(User).where(User.email == email.strip().lower()))
    if user is None:
        return
    url = site_link("reset.choose", token=make_token(user))
    locale = locale_of(user)
    with speaking(locale):
        text, html = render("reset", name=user.display_name, url=url)
        subject = gettext("Reset your %(site)s password", site=current_app.config["SITE_NAME"])
    minute = clock(current_app._get_current_object()).strftime("%Y%m%d%H%M")  # type: ignore[attr-defined]
    queue(
        db,
        Draft(
            kind="reset",
            recipient=user.email,
            user_id=user.id,
            subject=subject,
            body_text=text,
            body_html=html,
            headers=language_header(locale),
            # One per minute at most, however often the button is pressed.
            dedupe_key=f"reset:{user.id}:{password_stamp(user)}:{minute}",
        ),
    )
    db.commit()


def user_for_token(db: Session, token: str) -> User:
    """The account a valid, unused, unexpired link belongs to, or :class:`ResetError`."""
    try:
        data = _serializer().loads(token, max_age=MAX_AGE)
    except SignatureExpired:
        raise ResetError(gettext("This reset link has expired (links work for one hour). "
                                 "Ask for a new one below.")) from None
    except BadSignature:
        raise ResetError(
            gettext("This reset link is not valid. Ask for a new one below.")
        ) from None
    user = db.get(User, data.get("u")) if isinstance(data, dict) else None
    if user is None or data.get("s") != password_stamp(user):
        raise ResetError(gettext("This reset link was already used, or the password was changed "
                                 "since. Ask for a new one below."))
    return user


def reset_password(db: Session, token: str, new_password: str) -> User:
    user = user_for_token(db, token)
    user.password_hash = hash_password(new_password)
    db.commit()
    return user
