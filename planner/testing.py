"""A pytest plugin (entry point ``pytest11``) giving planner and its plugin authors real fixtures.

Every fixture is namespaced (``planner_app``, ``planner_client``, ``planner_db``, ``make_user``,
``make_group``, ``make_routine``, ``answer``, ``fetch_feed``...), so installing planner never
takes a generic name such as ``app`` or ``db`` from another project's tests. Like
``datasette/_pytest_plugin.py``, this module imports only pytest and the standard library at
pytest start; planner itself is imported inside the fixtures that need it.

Every database test runs once per backend: a SQLite file in ``tmp_path`` and a PostgreSQL schema
of its own on ``PLANNER_TEST_DATABASE_URL``. Which backends run is the author's choice: the
``planner_backends`` ini option (default ``sqlite postgres``), the ``PLANNER_TEST_BACKENDS``
environment variable (wins over the ini option), and per test the marker
``@pytest.mark.planner_backends("sqlite")``. Without the variable the PostgreSQL copy skips with
a reason; with ``CI=true`` that skip is a failure instead, so CI cannot go green untested.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

import pytest

# Fixtures defined there, found by pytest on this plugin module; light to import like this one.
from planner.testing_db import (  # the two session fixtures are found here by pytest
    PG_ENV,
    _admin_engine,
    _build_tables,
    _cached_plugins,
    _cached_url_builders,
    _planner_schema_pool,  # noqa: F401
    _planner_sqlite_template,  # noqa: F401
    _SchemaPool,
    in_ci,  # noqa: F401  (public: planner.testing.in_ci)
    schema_url,
    skip_or_fail,
)
from planner.testing_world import (
    answer,
    fetch_feed,
    make_group,
    make_routine,
    make_user,
    next_evening,
    occurrence_path,
)

if TYPE_CHECKING:
    from flask import Flask
    from flask.testing import FlaskClient
    from sqlalchemy import Engine
    from sqlalchemy.orm import Session
    from werkzeug.test import TestResponse

    from planner.models import User

BACKENDS_ENV = "PLANNER_TEST_BACKENDS"
BACKENDS = ("sqlite", "postgres")
__all__ = [
    "Auth",
    "answer",
    "base_config",
    "count_statements",
    "fetch_feed",
    "make_group",
    "make_routine",
    "make_user",
    "next_evening",
    "occurrence_path",
    "skip_or_fail",
]
# Flask-Login's user, Flask-WTF's signed token and Flask-Babel's locale, cached in ``g`` for
# one request.
PER_REQUEST_G = ("_login_user", "csrf_token", "_flask_babel")
FAST_ARGON2 = {"time_cost": 1, "memory_cost": 1024, "parallelism": 1}


# -- choosing backends ------------------------------------------------------------------------


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addini(
        "planner_backends",
        "database backends planner fixtures run each test on (sqlite, postgres)",
        type="args",
        default=list(BACKENDS),
    )


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "planner_backends(*names): run this test only on these database backends"
    )
    config.addinivalue_line("markers", "postgres: needs PostgreSQL (PLANNER_TEST_DATABASE_URL)")


def configured_backends(config: pytest.Config) -> list[str]:
    """The backends asked for by ``PLANNER_TEST_BACKENDS``, else the ``planner_backends`` ini."""
    from_env = os.environ.get(BACKENDS_ENV)
    names = from_env.replace(",", " ").split() if from_env else config.getini("planner_backends")
    unknown = set(names) - set(BACKENDS)
    if unknown:
        raise pytest.UsageError(f"unknown planner backend(s) {sorted(unknown)}: use {BACKENDS}")
    return list(names)


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Parametrize ``planner_database_url`` (and so every fixture on top of it) by backend."""
    if "planner_database_url" not in metafunc.fixturenames:
        return
    wanted = configured_backends(metafunc.config)
    marker = metafunc.definition.get_closest_marker("planner_backends")
    names = list(marker.args) if marker else wanted
    params = []
    for name in names:
        marks: list[Any] = [pytest.mark.postgres] if name == "postgres" else []
        if name not in wanted:
            marks.append(pytest.mark.skip(reason=f"{name} is not in planner_backends"))
        params.append(pytest.param(name, marks=marks, id=name))
    metafunc.parametrize("planner_database_url", params, indirect=True)


def postgres_url() -> str:
    url = os.environ.get(PG_ENV)
    if not url:
        skip_or_fail(f"PostgreSQL tests need {PG_ENV}")
    return url  # type: ignore[return-value]


# -- the app and its database -----------------------------------------------------------------


@pytest.fixture
def planner_database_url(request: pytest.FixtureRequest, tmp_path: Any) -> Iterator[str]:
    """An empty database (no tables) on the backend this copy of the test runs on.

    When the test also uses ``planner_app`` (which would build every table at once anyway) a
    PostgreSQL copy gets a schema from this session's pool instead: built once, emptied and
    its sequences reset after each test, which costs a fraction of CREATE SCHEMA, create_all
    and DROP SCHEMA per test. ``planner_app`` sees it is built and skips ``create_all``.
    """
    backend = getattr(request, "param", "sqlite")
    if backend == "sqlite":
        yield f"sqlite:///{tmp_path / 'test.sqlite3'}"
        return
    base = postgres_url()
    if "planner_app" in getattr(request.node, "fixturenames", ()):
        pool: _SchemaPool = request.getfixturevalue("_planner_schema_pool")
        url = pool.acquire(base)
        try:
            yield url
        finally:
            pool.release(url)
        return
    schema = f"t_{secrets.token_hex(6)}"
    admin = _admin_engine(base)
    try:
        with admin.begin() as conn:
            conn.exec_driver_sql(f'CREATE SCHEMA "{schema}"')
    except Exception as exc:  # server down or unreachable
        admin.dispose()
        skip_or_fail(f"PostgreSQL at {PG_ENV} is unreachable: {exc}")
    try:
        yield schema_url(base, schema)
    finally:
        with admin.begin() as conn:
            conn.exec_driver_sql(f'DROP SCHEMA "{schema}" CASCADE')
        admin.dispose()


@pytest.fixture
def planner_backend(planner_database_url: str) -> str:
    """``"sqlite"`` or ``"postgresql"``: the SQLAlchemy backend name of this copy."""
    from sqlalchemy.engine import make_url

    return make_url(planner_database_url).get_backend_name()


def base_config(database_url: str, tmp_path: Any) -> dict[str, Any]:
    """Test settings: fast password hashing, no CSRF or rate limits, a fixed host name."""
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
def planner_app_config(planner_database_url: str, tmp_path: Any) -> dict[str, Any]:
    """Override (taking ``planner_app_config`` as an argument) to change settings, e.g.
    ``{**planner_app_config, "WEBHOOK_URL": ...}``, before the app is built."""
    return base_config(planner_database_url, tmp_path)


@pytest.fixture
def planner_app(
    request: pytest.FixtureRequest, planner_app_config: dict[str, Any]
) -> Iterator[Flask]:
    """The real app on a fresh database with every table, inside an app context."""
    from flask import g

    from planner import create_app

    with _cached_plugins(), _cached_url_builders():
        app = create_app(planner_app_config)
    _build_tables(request, app.config["DATABASE_URL"])

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
def planner_client(planner_app: Flask) -> FlaskClient:
    return planner_app.test_client()


@pytest.fixture
def planner_db(planner_app: Flask) -> Session:
    """The app context's session; commit what you set up so requests see it."""
    from planner.db import get_session

    return get_session()


class Auth:
    """Logs a test client in and out through the real login form."""

    def __init__(self, client: FlaskClient):
        self.client = client

    def login(self, user_or_email: User | str, password: str = "password") -> TestResponse:
        email = user_or_email if isinstance(user_or_email, str) else user_or_email.email
        response = self.client.post("/login", data={"email": email, "password": password})
        assert response.status_code in (302, 303), response.get_data(as_text=True)[:500]
        return response

    def logout(self) -> TestResponse:
        return self.client.post("/logout")


@pytest.fixture
def planner_as_user(planner_app: Flask) -> Callable[[User], FlaskClient]:
    """A fresh test client logged in as ``user``: several people in one test."""

    def client_for(user: User) -> FlaskClient:
        client = planner_app.test_client()
        Auth(client).login(user)
        return client

    return client_for


@contextmanager
def count_statements(
    app: Flask, *engines: Engine, keep_pages: bool = False
) -> Iterator[list[str]]:
    """Record every SQL statement the app's engine (and any further ``engines``) runs inside
    the block: ``with count_statements(app) as statements: client.get(path)``.

    Counted at the cursor, so lazy loads a template triggers are seen too; a page whose count
    grows with the data (an N+1) shows up as two different lengths for two data sizes.
    Rendered pages are dropped first (:mod:`planner.web.page_cache`), so what is counted is the
    page's real work, not a cache hit; ``keep_pages`` keeps them, to count what a hit costs.
    """
    from sqlalchemy import event

    cache = app.extensions.get("planner_page_cache")
    if cache is not None and not keep_pages:
        cache.clear()

    statements: list[str] = []
    watched = {app.extensions["planner_db"].engine, *engines}

    def record(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        statements.append(statement)

    for engine in watched:
        event.listen(engine, "before_cursor_execute", record)
    try:
        yield statements
    finally:
        for engine in watched:
            event.remove(engine, "before_cursor_execute", record)
