"""What signing up, logging in, changing a password and deleting an account mean.

Deleting is refused while the person is the only owner of a group, because the group would be
left with nobody who can run it. Otherwise the database's foreign keys do the rest in one
statement: memberships, RSVPs, regular spots and claims go with the user (``ON DELETE
CASCADE``); comments stay and show "deleted member" (``SET NULL``).
"""

from __future__ import annotations

import hashlib
import secrets

from flask import current_app
from sqlalchemy import delete, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, aliased

from planner.accounts.passwords import check_password, hash_password, needs_rehash
from planner.accounts.verification import queue_verification
from planner.enums import Role
from planner.models import Group, Membership, User, utcnow


class EmailTaken(Exception):
    """An account with this email address already exists."""


def password_stamp(user: User) -> str:
    """A fingerprint of the password hash kept in the session: a new password changes it, so
    every other session (carrying the old one) ends."""
    return hashlib.sha256(user.password_hash.encode()).hexdigest()[:16]


def new_session_token() -> str:
    return secrets.token_urlsafe(24)


def issue_session_token(db: Session, user: User) -> str:
    """The account's session token, created on first log-in (rows older than the column)."""
    if user.session_token is None:
        user.session_token = new_session_token()
        db.commit()
    return user.session_token


def end_sessions(db: Session, user: User) -> str:
    """Refuse every session cookie of ``user`` issued so far; returns the new token (for the
    session that asked, when it stays logged in)."""
    user.session_token = new_session_token()
    db.commit()
    return user.session_token


def sign_up(db: Session, email: str, display_name: str, password: str, timezone: str) -> User:
    """A new account; raises :class:`EmailTaken` (also when the same address signed up a
    moment ago in another request)."""
    # Hashed before the first query: on SQLite that query takes the write lock, and argon2's
    # deliberate slowness must not be spent holding it while other sign-ups wait.
    password_hash = hash_password(password)
    if db.scalar(select(User.id).where(User.email == email)) is not None:
        raise EmailTaken
    user = User(
        email=email,
        display_name=display_name,
        password_hash=password_hash,
        session_token=new_session_token(),
        timezone=timezone,
        feed_token=secrets.token_urlsafe(24),
    )
    db.add(user)
    try:
        db.flush()
        # The column's default marks accounts verified (demo, tests, admins); sign-up is the
        # one way in that starts unconfirmed (SQLAlchemy applies a default over a None).
        user.email_verified_at = None
        db.flush()
        queue_verification(db, user)  # in the sign-up's own transaction
        db.commit()
    except IntegrityError:
        db.rollback()
        raise EmailTaken from None
    return user


def _dummy_hash() -> str:
    """A hash to verify against when the email is unknown, so timing does not tell."""
    cached: str | None = current_app.extensions.get("planner_dummy_hash")
    if cached is None:
        cached = current_app.extensions["planner_dummy_hash"] = hash_password(
            secrets.token_hex(16)
        )
    return cached


def authenticate(db: Session, email: str, password: str) -> User | None:
    """The account with this email and password, or None; an old hash is upgraded on the way."""
    user: User | None = db.scalar(select(User).where(User.email == email))
    # End the (write-locked, on SQLite) transaction before argon2 runs, so concurrent log-ins
    # do not queue behind each other's password checks.
    db.commit()
    if user is None:
        check_password(_dummy_hash(), password)
        return None
    if not check_password(user.password_hash, password):
        return None
    if needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
        db.commit()
    return user


def change_password(db: Session, user: User, current: str, new: str) -> bool:
    """False (nothing changed) when ``current`` is not the password."""
    if not check_password(user.password_hash, current):
        return False
    user.password_hash = hash_password(new)
    user.session_token = new_session_token()  # every other device logs in again
    db.commit()
    return True


def sole_owned_groups(db: Session, user_id: int) -> list[Group]:
    """Groups where ``user_id`` is an owner and no other owner exists (one query)."""
    other = aliased(Membership)
    other_owners = (
        select(func.count(other.id))
        .where(other.group_id == Membership.group_id, other.role == Role.OWNER)
        .where(other.user_id != user_id)
        .scalar_subquery()
    )
    return list(
        db.scalars(
            select(Group)
            .join(Membership, Membership.group_id == Group.id)
            .where(Membership.user_id == user_id, Membership.role == Role.OWNER)
            .where(other_owners == 0)
            .order_by(Group.name)
        )
    )


def touch_groups_of(db: Session, user_id: int) -> None:
    """Mark the person's groups changed: their name shows on those groups' pages (who is
    going), which are cached by the groups' versions."""
    group_ids = select(Membership.group_id).where(Membership.user_id == user_id)
    db.execute(
        update(Group)
        .where(Group.id.in_(group_ids))
        .values(version=Group.version + 1, updated_at=utcnow())
        .execution_options(synchronize_session=False)
    )


def delete_account(db: Session, user: User, commit: bool = True) -> None:
    """Delete ``user``; the caller has checked :func:`sole_owned_groups` and the password.

    ``commit=False`` leaves the transaction open for a caller that must add to it (the
    promotion mails of :func:`planner.joining.departures.delete_account`)."""
    group_ids = select(Membership.group_id).where(Membership.user_id == user.id)
    # Their answers leave the groups' feeds and pages: mark those groups changed.
    db.execute(
        update(Group)
        .where(Group.id.in_(group_ids))
        .values(version=Group.version + 1, updated_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    db.execute(delete(User).where(User.id == user.id))
    if commit:
        db.commit()
