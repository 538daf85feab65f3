"""Route-by-role authorization table: every registered route, tried as five people.

Add ``tests/routes_<area>.py`` with ``ROUTES: list[RouteCase]`` (``from tests.authz import ...``):
``RouteCase("groups.members", "GET", "/g/{slug}/members", access="member")``. ``access``
("public" | "login" | "member" | "organizer" | "owner") expands per role (``RouteCase.expected``):
private group (default ``group="private"``): outsiders 404, plain members 403 for organizer
actions; ``group="public"``: outsiders 403. ``expect={"owner": 409}`` overrides a role; an outcome
is a status, OK (2xx/3xx, not to /login), LOGIN, or a tuple of those. ``path`` placeholders come
from ``World.values`` (slug, routine_id, occurrence, invite, feed_token, comment_id, slot_id,
target_id...); ``data`` is a dict or ``f(world)``; ``setup(session, world) -> dict`` adds rows and
placeholders. After any non-GET the world is rebuilt, so destructive cases are fine.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import pytest
from sqlalchemy.orm import Session

from planner.accounts.passwords import hash_password
from planner.db import Base
from planner.models import Comment, Group, Invite, Membership, Routine, Slot, User

ROLES = ("anonymous", "outsider", "member", "organizer", "owner")
OK = "ok"
LOGIN = "login"
OCCURRENCE = "20261203T1900"
OCCURRENCE_START = datetime(2026, 12, 3, 19, 0)

Outcome = int | str | tuple[int | str, ...]

# Who gets what for each access level; "hidden" means 404 in a private group, 403 in a public.
_LEVELS: dict[str, dict[str, str]] = {
    "public": dict(anonymous=OK, outsider=OK, member=OK, organizer=OK, owner=OK),
    "login": dict(anonymous=LOGIN, outsider=OK, member=OK, organizer=OK, owner=OK),
    "member": dict(anonymous="anon", outsider="hidden", member=OK, organizer=OK, owner=OK),
    "organizer": dict(
        anonymous="anon", outsider="hidden", member="forbidden", organizer=OK, owner=OK
    ),
    "owner": dict(
        anonymous="anon", outsider="hidden", member="forbidden", organizer="forbidden", owner=OK
    ),
}


@dataclass(frozen=True)
class RouteCase:
    endpoint: str
    method: str = "GET"
    path: str = ""
    access: str = "member"
    group: str = "private"
    data: Mapping[str, Any] | Callable[[World], Mapping[str, Any]] | None = None
    expect: Mapping[str, Outcome] = field(default_factory=dict)
    setup: Callable[[Session, World], Mapping[str, Any]] | None = None
    note: str = ""

    @property
    def id(self) -> str:
        suffix = f"-{self.note}" if self.note else ""
        return f"{self.endpoint}-{self.method}-{self.group}{suffix}"

    def expected(self, role: str) -> Outcome:
        """The outcome ``role`` should get, from ``access`` unless ``expect`` overrides it."""
        if role in self.expect:
            return self.expect[role]
        if self.access not in _LEVELS:
            raise ValueError(f"{self.id}: unknown access level {self.access!r}")
        symbolic = _LEVELS[self.access][role]
        private = self.group == "private"
        if symbolic == "anon":
            # Either answer is fine: neither tells a stranger whether a private group exists.
            return (LOGIN, 404) if private else (LOGIN, 403)
        if symbolic == "hidden":
            return 404 if private else 403
        if symbolic == "forbidden":
            return 403
        return symbolic


@dataclass
class World:
    """The people and rows every case can point at; ``values(group)`` fills path templates."""

    users: dict[str, User]
    groups: dict[str, Group]
    routines: dict[str, Routine]
    slots: dict[str, Slot]
    comments: dict[str, Comment]
    invites: dict[str, Invite]
    extra: dict[str, Any] = field(default_factory=dict)

    def values(self, group: str) -> dict[str, Any]:
        g = self.groups[group]
        return {
            "slug": g.slug,
            "group_id": g.id,
            "routine_id": self.routines[group].id,
            "occurrence": OCCURRENCE,
            "slot_id": self.slots[group].id,
            "comment_id": self.comments[group].id,
            "invite": self.invites[group].token,
            "invite_id": self.invites[group].id,
            "feed_token": self.users["member"].feed_token,
            "target_id": self.users["target"].id,
            "owner_id": self.users["owner"].id,
            "organizer_id": self.users["organizer"].id,
            "member_id": self.users["member"].id,
            "outsider_id": self.users["outsider"].id,
            **self.extra,
        }


def _user(session: Session, key: str) -> User:
    user = User(
        email=f"{key}@example.org",
        display_name=key.title(),
        password_hash=hash_password("password"),
        timezone="Europe/Berlin",
        feed_token=secrets.token_urlsafe(24),
    )
    session.add(user)
    return user


def build_world(session: Session) -> World:
    """Two groups (private and public) with the same cast, each with a routine, slot, comment
    and invite. Commits, so requests see it."""
    users = {k: _user(session, k) for k in ("owner", "organizer", "member", "target", "outsider")}
    session.flush()
    groups, routines, slots, comments, invites = {}, {}, {}, {}, {}
    for visibility in ("private", "public"):
        group = Group(
            slug=f"{visibility}-club",
            name=f"{visibility.title()} Club",
            description="A group for the authorization table.",
            visibility=visibility,
            timezone="Europe/Berlin",
        )
        session.add(group)
        session.flush()
        for key, role in (
            ("owner", "owner"),
            ("organizer", "organizer"),
            ("member", "member"),
            ("target", "member"),
        ):
            session.add(Membership(group_id=group.id, user_id=users[key].id, role=role))
        routine = Routine(
            group_id=group.id,
            activity_key="gathering",
            title="Thursday gathering",
            timezone="Europe/Berlin",
            start=OCCURRENCE_START,
            duration_minutes=120,
            rrule="FREQ=WEEKLY;BYDAY=TH",
            details={},
            created_by_id=users["organizer"].id,
        )
        session.add(routine)
        session.flush()
        slot = Slot(routine_id=routine.id, label="Host", capacity=1, position=0)
        comment = Comment(
            routine_id=routine.id,
            original_start=OCCURRENCE_START,
            user_id=users["member"].id,
            body="See you there.",
        )
        invite = Invite(
            token=secrets.token_urlsafe(16), group_id=group.id, created_by_id=users["owner"].id
        )
        session.add_all([slot, comment, invite])
        session.flush()
        groups[visibility], routines[visibility] = group, routine
        slots[visibility], comments[visibility], invites[visibility] = slot, comment, invite
    session.commit()
    return World(users, groups, routines, slots, comments, invites)


def clear_database(session: Session) -> None:
    """Delete every row (children first) so the next role starts from a fresh world."""
    session.rollback()
    for table in reversed(Base.metadata.sorted_tables):
        session.execute(table.delete())
    session.commit()
    session.expunge_all()


@pytest.fixture
def world(db) -> World:
    return build_world(db)
