"""Invite links: organizers create and revoke them; anyone holding one can join the group.

A use is counted with one conditional ``UPDATE ... WHERE uses < max_uses`` in the same
transaction as the new membership, so concurrent joins can never exceed the maximum (PostgreSQL
re-checks the condition after waiting for the row; SQLite serializes with ``BEGIN IMMEDIATE``).
"""

from __future__ import annotations

import secrets
from datetime import timedelta

from flask_babel import gettext, lazy_gettext
from sqlalchemy import or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from planner.db import immediate
from planner.enums import Role
from planner.models import Group, Invite, Membership, User, bump_group_version, utcnow

UNKNOWN = lazy_gettext("This invite link does not exist. Check that you copied all of it.")


class _Unusable(Exception):
    pass


def invite_by_token(db: Session, token: str) -> Invite | None:
    return db.scalar(select(Invite).where(Invite.token == token))


def join_by_token(db: Session, token: str, user: User) -> tuple[Group | None, str]:
    """Join the invite's group as ``user``: (group, message) on success or when already a
    member, (None, why) when the invite cannot be used (``UNKNOWN`` when it does not exist)."""
    row = db.execute(
        select(Invite, Membership.id)
        .outerjoin(
            Membership,
            (Membership.group_id == Invite.group_id) & (Membership.user_id == user.id),
        )
        .where(Invite.token == token)
    ).first()
    if row is None:
        return None, str(UNKNOWN)
    invite, membership_id = row
    group = invite.group
    if membership_id is not None:
        return group, gettext("You are already a member of %(group)s.", group=group.name)
    reason = invite.unusable_reason()
    if reason:
        return None, reason
    try:
        with immediate(db):
            now = utcnow()
            counted = db.execute(
                update(Invite)
                .where(
                    Invite.id == invite.id,
                    Invite.revoked_at.is_(None),
                    or_(Invite.expires_at.is_(None), Invite.expires_at > now),
                    or_(Invite.max_uses.is_(None), Invite.uses < Invite.max_uses),
                )
                .values(uses=Invite.uses + 1)
                .execution_options(synchronize_session=False)
            )
            if counted.rowcount != 1:
                raise _Unusable
            db.add(Membership(group_id=group.id, user_id=user.id, role=Role.MEMBER))
            db.flush()
            bump_group_version(db, group.id)
    except _Unusable:
        db.refresh(invite)
        return None, invite.unusable_reason() or str(UNKNOWN)
    except IntegrityError:  # joined a moment ago in another tab; the use was rolled back
        return group, gettext("You are already a member of %(group)s.", group=group.name)
    return group, gettext("Welcome to %(group)s!", group=group.name)


def group_invites(db: Session, group_id: int) -> list[Invite]:
    """Newest first: the one just made is at the top of the organizers' list."""
    return list(
        db.scalars(
            select(Invite)
            .where(Invite.group_id == group_id)
            .order_by(Invite.created_at.desc(), Invite.id.desc())
        )
    )


def create_invite(
    db: Session,
    group_id: int,
    created_by_id: int,
    expires_in_days: int | None,
    max_uses: int | None,
) -> Invite:
    invite = Invite(
        token=secrets.token_urlsafe(16),  # 128 bits
        group_id=group_id,
        created_by_id=created_by_id,
        expires_at=utcnow() + timedelta(days=expires_in_days) if expires_in_days else None,
        max_uses=max_uses or None,
    )
    db.add(invite)
    db.commit()
    return invite


def group_invite(db: Session, group_id: int, invite_id: int) -> Invite | None:
    """The invite, only if it is this group's (an id from another group is None)."""
    invite = db.get(Invite, invite_id)
    if invite is None or invite.group_id != group_id:
        return None
    return invite


def revoke_invite(db: Session, invite: Invite) -> None:
    """Idempotent: revoking twice keeps the first time."""
    if invite.revoked_at is None:
        invite.revoked_at = utcnow()
        db.commit()
