"""The fixtures of ``planner.testing`` that make a world to test in: people, groups, routines,
answers through the real route, feeds fetched through the app. Split from the plugin module to
keep each small; like it, this imports only pytest and the standard library at pytest start.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from datetime import date, datetime, time, timedelta
from typing import TYPE_CHECKING, Any

import pytest

from planner.enums import Answer  # no Flask, no SQLAlchemy: safe at pytest start

if TYPE_CHECKING:
    from flask import Flask
    from flask.testing import FlaskClient
    from icalendar import Calendar
    from sqlalchemy.orm import Session
    from werkzeug.test import TestResponse

    from planner.models import Group, Routine, User


# -- people, groups, routines -----------------------------------------------------------------


@pytest.fixture
def make_user(planner_db: Session) -> Callable[..., User]:
    """Create a user directly (fast); its password is ``password`` unless given."""
    from planner.accounts.passwords import hash_password
    from planner.models import User

    counter = iter(range(1, 10_000))

    def make(
        name: str | None = None,
        email: str | None = None,
        password: str = "password",
        timezone: str = "Europe/Berlin",
    ) -> User:
        n = next(counter)
        name = name or f"Person {n}"
        user = User(
            email=(email or f"{name.lower().replace(' ', '.')}.{n}@example.org").lower(),
            display_name=name,
            password_hash=hash_password(password),
            timezone=timezone,
            feed_token=secrets.token_urlsafe(24),
        )
        planner_db.add(user)
        planner_db.commit()
        return user

    return make


@pytest.fixture
def make_group(planner_db: Session) -> Callable[..., Group]:
    """Create a group with an owner and optional members: ``make_group(owner, members=[...])``."""
    from planner.enums import Role, Visibility
    from planner.models import Group, Membership

    def make(
        owner: User,
        name: str = "Thursday Supper Club",
        visibility: str = Visibility.PUBLIC,
        timezone: str = "Europe/Berlin",
        members: tuple[User, ...] | list[User] = (),
        organizers: tuple[User, ...] | list[User] = (),
        slug: str | None = None,
    ) -> Group:
        slug = slug or f"{name.lower().replace(' ', '-')}-{secrets.token_hex(2)}"
        group = Group(slug=slug, name=name, visibility=visibility, timezone=timezone)
        planner_db.add(group)
        planner_db.flush()
        planner_db.add(Membership(group_id=group.id, user_id=owner.id, role=Role.OWNER))
        for user in organizers:
            planner_db.add(Membership(group_id=group.id, user_id=user.id, role=Role.ORGANIZER))
        for user in members:
            planner_db.add(Membership(group_id=group.id, user_id=user.id, role=Role.MEMBER))
        planner_db.commit()
        return group

    return make


def next_evening(days: int = 7) -> datetime:
    """19:00 a week from today, as the routine form proposes: inside every feed window,
    whenever the tests run."""
    return datetime.combine(date.today() + timedelta(days=days), time(19, 0))


def occurrence_path(routine: Routine, when: datetime | str | None = None) -> str:
    """The page of one occurrence (the first unless ``when``, a start or a key, says)."""
    from flask import url_for

    key = _key(routine, when)
    return url_for(
        "events.show", slug=routine.group.slug, routine_id=routine.id, key=key, _external=False
    )


@pytest.fixture
def make_routine(planner_app: Flask, planner_db: Session) -> Callable[..., Routine]:
    """Create a routine of any activity type as the routine form would: ``details`` validated
    and completed by the type's own form (a :class:`ValueError` names what does not fit),
    the type's default slots added, the group's feeds marked as changed.

    ``make_routine(group, "meals", {"theme": "Soups"})`` has the form's schedule defaults: a
    week from today at 19:00 for two hours, weekly on that weekday, in the group's time zone.
    Any other column (``start``, ``rrule``, ``capacity``...) can be given by name. It does not
    send ``routine_saved``: post the real form to test that.
    """
    from planner.models import Routine, bump_group_version, default_slot_rows
    from planner.scheduling.recurrence import WEEKDAYS

    plugins = planner_app.extensions["planner"]

    def make(
        group: Group,
        activity_key: str = "gathering",
        details: dict[str, Any] | None = None,
        *,
        title: str | None = None,
        start: datetime | None = None,
        rrule: str | None = None,
        **columns: Any,
    ) -> Routine:
        activity = plugins.activity(activity_key)
        if activity.is_generic:
            raise ValueError(f"no activity type {activity_key!r} is installed")
        start = start or next_evening()
        check = activity.check(details or {})
        if not check.ok:
            raise ValueError(check.message)
        routine = Routine(
            group_id=group.id,
            activity_key=activity_key,
            title=title or str(activity.label),
            timezone=columns.pop("timezone", group.timezone),
            start=start,
            rrule=f"FREQ=WEEKLY;BYDAY={WEEKDAYS[start.weekday()]}" if rrule is None else rrule,
            duration_minutes=columns.pop("duration_minutes", 120),
            details=activity.merge(None, check.data),
            **columns,
        )
        planner_db.add(routine)
        planner_db.flush()
        planner_db.add_all(default_slot_rows(routine.id, activity.default_slots))
        bump_group_version(planner_db, group.id)
        planner_db.commit()
        return routine

    return make


def _key(routine: Routine, when: datetime | str | None) -> str:
    from planner.scheduling.recurrence import format_key

    if isinstance(when, str):
        return when
    return format_key(when or routine.start)


@pytest.fixture
def answer(planner_app: Flask, planner_as_user: Callable[[User], FlaskClient]) -> Callable:
    """``answer(user, routine, "going", when=None, guests=0)``: the member answers one
    occurrence (the first unless ``when``, a start or a key, says) through the real route."""
    from flask import url_for

    def post(
        user: User,
        routine: Routine,
        status: str = Answer.GOING,
        when: datetime | str | None = None,
        **form: Any,
    ) -> TestResponse:
        path = url_for(
            "rsvps.answer",
            slug=routine.group.slug,
            routine_id=routine.id,
            key=_key(routine, when),
        )
        response = planner_as_user(user).post(path, data={"status": str(status), **form})
        assert response.status_code in (302, 303), response.get_data(as_text=True)[:500]
        return response

    return post


@pytest.fixture
def fetch_feed(planner_client: FlaskClient) -> Callable[..., Calendar]:
    """GET a feed through the app and parse it with icalendar: ``fetch_feed(group)``,
    ``fetch_feed(routine)``, ``fetch_feed(group, user=member)`` for a private group's token
    feed, or ``fetch_feed("/feeds/...")``. Asserts a 200."""
    from flask import url_for
    from icalendar import Calendar

    from planner.models import Group

    def fetch(what: Group | Routine | str, user: User | None = None) -> Calendar:
        if isinstance(what, str):
            path = what
        else:
            group = what if isinstance(what, Group) else what.group
            args: dict[str, Any] = {"slug": group.slug, "ext": "ics"}
            kind = "group" if isinstance(what, Group) else "routine"
            if kind == "routine":
                args["routine_id"] = what.id
            if user is not None:
                path = url_for(f"feeds.{kind}_token", token=user.feed_token, **args)
            else:
                path = url_for(f"feeds.{kind}_public", **args)
        response = planner_client.get(path)
        assert response.status_code == 200, response.get_data(as_text=True)[:500]
        return Calendar.from_ical(response.data)

    return fetch
