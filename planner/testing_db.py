"""The session-wide parts of ``planner.testing``: tables built once, the plugin set loaded once.

A test's setup used to be most of its time: ``create_all`` on a new SQLite file, and on
PostgreSQL CREATE SCHEMA, ``create_all`` and DROP SCHEMA CASCADE (~380 ms against ~19 ms from
the pool, measured in one process, interleaved). Like the plugin module, this imports only pytest
and the standard library at pytest start.
"""

from __future__ import annotations

import os
import secrets
import shutil
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from sqlalchemy import Engine


PG_ENV = "PLANNER_TEST_DATABASE_URL"


def in_ci() -> bool:
    return os.environ.get("CI", "").lower() in ("1", "true", "yes")


def skip_or_fail(reason: str) -> None:
    """Skip outside CI; in CI a missing PostgreSQL or Chromium must fail the run."""
    if in_ci():
        pytest.fail(f"{reason} (CI=true: this may not skip)")
    pytest.skip(reason)


def schema_url(base_url: str, schema: str) -> str:
    """The base URL with ``search_path`` pinned to ``schema`` (works across processes too)."""
    from sqlalchemy.engine import make_url

    url = make_url(base_url)
    return url.update_query_dict({"options": f"-csearch_path={schema}"}).render_as_string(
        hide_password=False
    )


def _unreachable(exc: Exception) -> None:
    skip_or_fail(f"PostgreSQL at {PG_ENV} is unreachable: {exc}")


def _admin_engine(base: str) -> Engine:
    from planner.db import make_engine

    return make_engine(base)


# URLs of pooled schemas that have every table (this process's pools): planner_app skips them.
_BUILT: set[str] = set()


class _SchemaPool:
    """PostgreSQL schemas with every table, reused across a session's tests.

    A released schema is emptied (DELETE in reverse dependency order, every sequence back to
    1, so ids match a fresh database); one that cannot be emptied (a test changed its tables or
    left a lock) is dropped instead of being handed out again. URLs built by the pool are
    remembered (``_BUILT``) so ``planner_app`` knows not to build the tables again.
    """

    def __init__(self) -> None:
        self.free: list[str] = []
        self.schemas: dict[str, str] = {}
        self.admin: Engine | None = None

    def _engine(self, base: str) -> Engine:
        if self.admin is None:
            self.admin = _admin_engine(base)
        return self.admin

    def acquire(self, base: str) -> str:
        if self.free:
            return self.free.pop()
        import planner.models  # noqa: F401  (every table on Base.metadata)
        from planner.db import Base, make_engine

        schema = f"p_{secrets.token_hex(6)}"
        try:
            with self._engine(base).begin() as conn:
                conn.exec_driver_sql(f'CREATE SCHEMA "{schema}"')
        except Exception as exc:  # server down or unreachable
            _unreachable(exc)
        url = schema_url(base, schema)
        engine = make_engine(url)
        try:
            Base.metadata.create_all(engine)
        finally:
            engine.dispose()
        _BUILT.add(url)
        self.schemas[url] = schema
        return url

    def release(self, url: str) -> None:
        from planner.db import Base

        schema = self.schemas[url]
        tables = [t.name for t in reversed(Base.metadata.sorted_tables)]
        # One round trip: a statement each would cost more than building the tables anew.
        script = "SET LOCAL lock_timeout = '2s';"
        script += "".join(f'DELETE FROM "{schema}"."{name}";' for name in tables)
        script += (
            "SELECT setval(quote_ident(n.nspname) || '.' || quote_ident(c.relname), 1, false) "
            "FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
            f"WHERE c.relkind = 'S' AND n.nspname = '{schema}'"
        )
        assert self.admin is not None
        try:
            with self.admin.begin() as conn:
                conn.exec_driver_sql(script)
        except Exception:
            self.drop(url)
            return
        self.free.append(url)

    def drop(self, url: str) -> None:
        assert self.admin is not None
        schema = self.schemas.pop(url)
        _BUILT.discard(url)
        with self.admin.begin() as conn:
            conn.exec_driver_sql(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')

    def close(self) -> None:
        for url in list(self.schemas):
            self.drop(url)
        if self.admin is not None:
            self.admin.dispose()


@pytest.fixture(scope="session")
def _planner_schema_pool() -> Iterator[_SchemaPool]:
    pool = _SchemaPool()
    try:
        yield pool
    finally:
        pool.close()


@pytest.fixture(scope="session")
def _planner_sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> str:
    """A SQLite file with every table, built once per session and copied for each test."""
    import planner.models  # noqa: F401  (every table on Base.metadata)
    from planner.db import Base, make_engine

    path = tmp_path_factory.mktemp("planner-template") / "template.sqlite3"
    engine = make_engine(f"sqlite:///{path}")
    Base.metadata.create_all(engine)
    engine.dispose()
    return str(path)


def _build_tables(request: pytest.FixtureRequest, url: str) -> None:
    """Every table: a copy of the session's template file for a new SQLite file, nothing for a
    pooled PostgreSQL schema, ``create_all`` for anything else (a URL a test chose itself)."""
    from sqlalchemy.engine import make_url

    from planner.db import Base, make_engine

    parsed = make_url(url)
    backend = parsed.get_backend_name()
    if backend == "postgresql" and url in _BUILT:
        return
    if backend == "sqlite" and parsed.database not in (None, "", ":memory:"):
        target = Path(parsed.database)
        if not target.exists() and target.parent.is_dir():
            shutil.copyfile(request.getfixturevalue("_planner_sqlite_template"), target)
            return
    engine = make_engine(url)
    Base.metadata.create_all(engine)
    engine.dispose()


_PLUGIN_CACHE: dict[tuple[str, ...], Any] = {}
_PLUGIN_SETTINGS = ("DISABLED_PLUGINS", "PLUGINS", "EXTRA_PLUGINS")


@contextmanager
def _cached_plugins() -> Iterator[None]:
    """Load the plugins once per session while ``create_app`` runs, not once per test.

    Only the default set is shared: a test that disables, allows or adds plugins, or puts a
    distribution on ``sys.path``, gets its own load (and the warnings it logs). The cache is
    keyed by ``sys.path``, so a plugin installed by a test is never missed.
    """
    from planner.plugins import manager

    real = manager.load

    def load(config: dict[str, Any]) -> Any:
        if any(config.get(name) for name in _PLUGIN_SETTINGS):
            return real(config)
        key = tuple(sys.path)
        found = _PLUGIN_CACHE.get(key)
        if found is None:
            found = _PLUGIN_CACHE[key] = real(config)
        return found

    manager.load = load
    try:
        yield
    finally:
        manager.load = real


_BUILDERS: dict[tuple[Any, ...], Any] = {}


@contextmanager
def _cached_url_builders() -> Iterator[None]:
    """Compile each URL rule's builder once per session while ``create_app`` runs.

    Werkzeug writes and compiles two Python functions per rule when a rule is added (the
    ``url_for`` builders): 95% of ``create_app``, ~45 of its ~53 ms for the app's 82 rules,
    measured with cProfile over 20 apps. The generated code depends only on the rule's parsed
    parts and its defaults, and takes the rule as its argument, so a rule with the same parts
    in the next test's app reuses the function; any other rule compiles its own.
    """
    from werkzeug.routing import Rule

    real = Rule._compile_builder

    def compile_builder(rule: Any, append_unknown: bool = True) -> Any:
        defaults = rule.defaults or {}
        resolved = tuple(
            (str(name), rule._converters[name].to_url(value) if name in rule._converters else None)
            for name, value in defaults.items()
        )
        key = (append_unknown, rule.rule, tuple(rule._trace), resolved)
        found = _BUILDERS.get(key)
        if found is None:
            found = _BUILDERS[key] = real(rule, append_unknown)
        return found

    Rule._compile_builder = compile_builder  # type: ignore[method-assign, assignment]
    try:
        yield
    finally:
        Rule._compile_builder = real  # type: ignore[method-assign]
