"""A pytest plugin (entry point ``pytest11``) giving planner and plugin authors real fixtures.

Every test gets a fresh database: a SQLite file in ``tmp_path``, and, as a second parameter, a
PostgreSQL schema of its own on ``PLANNER_TEST_DATABASE_URL``. Without that variable the
PostgreSQL run skips with a reason; with ``CI=true`` such a skip is a failure instead.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from flask import Flask, g
from sqlalchemy import Engine, event, text
from sqlalchemy.engine import make_url

from planner import create_app
from planner.db import Base, get_session, make_engine
from planner.models import Group, Membership, User

PG_ENV = "PLANNER_TEST_DATABASE_URL"
# Flask-Login's user and Flask-WTF's signed token, cached in ``g`` for one request.
PER_REQUEST_G = ("_login_user", "csrf_token")
FAST_ARGON2 = {"time_cost": 1, "memory_cost": 1024, "parallelism": 1}


def in_ci() -> bool:
    return os.environ.get("CI", "").lower() in ("1", "true", "yes")


def skip_or_fail(reason: str) -> None:
    """Skip outside CI; in CI a missing PostgreSQL or Chromium must fail the run."""
    if in_ci():
        pytest.fail(f"{reason} (CI=true: this may not skip)")
    pytest.skip(reason)


def postgres_url() -> str:
    url = os.environ.get(PG_ENV)
    if not url:
        skip_or_fail(f"PostgreSQL tests need {PG_ENV}")
    return url  # type: ignore[return-value]


def schema_url(base_url: str, schema: str) -> str:
    """The base URL with ``search_path`` pinned to ``schema`` (works across processes too)."""
    url = make_url(base_url)
    return url.update_query_dict({"options": f"-csearch_path={schema}"}).render_as_string(
        hide_password=False
    )


@pytest.fixture(params=["sqlite", "postgres"])
def database_url(request, tmp_path) -> Iterator[str]:
    """An empty database (no tables) on each backend."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'test.sqlite3'}"
        return
    base = postgres_url()
    schema = f"t_{secrets.token_hex(6)}"
    admin = make_engine(base)
    try:
        with admin.begin() as conn:
            conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    except Exception as exc:  # server down or unreachable
        admin.dispose()
        skip_or_fail(f"PostgreSQL at {PG_ENV} is unreachable: {exc}")
    try:
        yield schema_url(base, schema)
    finally:
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture
def backend(database_url) -> str:
    return make_url(database_url).get_backend_name()


@pytest.fixture
def app_config(database_url, tmp_path) -> dict[str, Any]:
    """Override in a test module to change settings before the app is built."""
    return {
        "TESTING": True,
        "DATABASE_URL": database_url,
        "INSTANCE_PATH": str(tmp_path / "instance"),
        "SECRET_KEY": "test-" + secrets.token_hex(8),
        "WTF_CSRF_ENABLED": False,
        "RATELIMIT_ENABLED": False,
        "ARGON2_PARAMS": FAST_ARGON2,
        "SERVER_NAME": "planner.test",
    }


@pytest.fixture
def app(app_config):
    app = create_app(app_config)
    engine = make_engine(app.config["DATABASE_URL"])
    Base.metadata.create_all(engine)
    engine.dispose()

    # Requests reuse this fixture's app context (so tests and views share one session), and
    # with it ``g``: forget the per-request caches that would leak one client's login or CSRF
    # token into the next client's request.
    @app.before_request
    def _forget_per_request_caches() -> None:
        for key in PER_REQUEST_G:
            g.pop(key, None)

    with app.app_context():
        yield app
    app.extensions["planner_db"].engine.dispose()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


@pytest.fixture
def db(app):
    """The app context's session; commit what you set up so requests see it."""
    return get_session()


@pytest.fixture
def make_user(db) -> Callable[..., User]:
    """Create a user directly (fast); its password is ``password`` unless given."""
    from planner.accounts.passwords import hash_password

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
        db.add(user)
        db.commit()
        return user

    return make


@pytest.fixture
def make_group(db) -> Callable[..., Group]:
    """Create a group with an owner and optional members: ``make_group(owner, members=[...])``."""

    def make(
        owner: User,
        name: str = "Thursday Supper Club",
        visibility: str = "public",
        timezone: str = "Europe/Berlin",
        members: tuple[User, ...] | list[User] = (),
        organizers: tuple[User, ...] | list[User] = (),
        slug: str | None = None,
    ) -> Group:
        slug = slug or f"{name.lower().replace(' ', '-')}-{secrets.token_hex(2)}"
        group = Group(slug=slug, name=name, visibility=visibility, timezone=timezone)
        db.add(group)
        db.flush()
        db.add(Membership(group_id=group.id, user_id=owner.id, role="owner"))
        for user in organizers:
            db.add(Membership(group_id=group.id, user_id=user.id, role="organizer"))
        for user in members:
            db.add(Membership(group_id=group.id, user_id=user.id, role="member"))
        db.commit()
        return group

    return make


@contextmanager
def count_statements(app: Flask, *engines: Engine) -> Iterator[list[str]]:
    """Record every SQL statement the app's engine (and any further ``engines``) runs inside
    the block: ``with count_statements(app) as statements: client.get(path)``.

    Counted at the cursor, so lazy loads a template triggers are seen too; a page whose count
    grows with the data (an N+1) shows up as two different lengths for two data sizes.
    """
    statements: list[str] = []
    watched = {app.extensions["planner_db"].engine, *engines}

    def record(_conn, _cursor, statement, *_args) -> None:
        statements.append(statement)

    for engine in watched:
        event.listen(engine, "before_cursor_execute", record)
    try:
        yield statements
    finally:
        for engine in watched:
            event.remove(engine, "before_cursor_execute", record)


class Auth:
    """Logs a test client in and out through the real login form."""

    def __init__(self, client):
        self.client = client

    def login(self, user_or_email: User | str, password: str = "password"):
        email = user_or_email if isinstance(user_or_email, str) else user_or_email.email
        response = self.client.post("/login", data={"email": email, "password": password})
        assert response.status_code in (302, 303), response.get_data(as_text=True)[:500]
        return response

    def logout(self):
        return self.client.post("/logout")


@pytest.fixture
def auth(client) -> Auth:
    return Auth(client)


@pytest.fixture
def as_user(app, make_user) -> Callable[[User], Any]:
    """A fresh test client logged in as ``user``: several people in one test."""

    def client_for(user: User):
        c = app.test_client()
        Auth(c).login(user)
        return c

    return client_for
