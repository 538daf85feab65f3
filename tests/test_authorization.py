"""Every registered route, tried as anonymous, outsider, member, organizer and owner.

The cases live in ``tests/routes_*.py`` (format: :mod:`authz`). A route without a case fails
:func:`test_every_route_has_a_case`, so a new view cannot ship without its authorization row.
"""

from __future__ import annotations

import importlib
from pathlib import Path

import pytest
from werkzeug.exceptions import MethodNotAllowed, NotFound

from planner import create_app
from planner.models import User
from planner.testing import Auth
from tests.authz import LOGIN, OK, ROLES, RouteCase, World, build_world, clear_database

HERE = Path(__file__).resolve().parent
IGNORED_ENDPOINTS = {"static"}
IGNORED_METHODS = {"HEAD", "OPTIONS"}


def collect_cases() -> list[RouteCase]:
    cases: list[RouteCase] = []
    for path in sorted(HERE.glob("routes_*.py")):
        module = importlib.import_module(f"tests.{path.stem}")
        cases.extend(module.ROUTES)
    return cases


CASES = collect_cases()


def registered_routes(app) -> set[tuple[str, str]]:
    routes = set()
    for rule in app.url_map.iter_rules():
        if rule.endpoint in IGNORED_ENDPOINTS:
            continue
        for method in (rule.methods or set()) - IGNORED_METHODS:
            routes.add((rule.endpoint, method))
    return routes


def test_every_route_has_a_case(tmp_path):
    app = create_app(
        {
            "TESTING": True,
            "DATABASE_URL": f"sqlite:///{tmp_path / 'routes.sqlite3'}",
            "INSTANCE_PATH": str(tmp_path / "instance"),
            "SECRET_KEY": "routes",
        }
    )
    covered = {(case.endpoint, case.method) for case in CASES}
    missing = sorted(registered_routes(app) - covered)
    assert not missing, "routes without a case in tests/routes_*.py:\n" + "\n".join(
        f"  {endpoint} {method}" for endpoint, method in missing
    )
    stale = sorted(covered - registered_routes(app))
    assert not stale, f"cases for routes the app does not register: {stale}"


def test_case_ids_are_unique():
    ids = [case.id for case in CASES]
    duplicates = sorted({i for i in ids if ids.count(i) > 1})
    assert not duplicates, f"give these cases a distinct note=: {duplicates}"


def _matches(outcome, status: int, location: str) -> bool:
    if isinstance(outcome, tuple):
        return any(_matches(o, status, location) for o in outcome)
    to_login = status in (301, 302, 303, 307, 308) and "/login" in location
    if outcome == OK:
        return status < 400 and not to_login
    if outcome == LOGIN:
        return to_login
    return status == outcome


def _client_for(app, world: World, role: str):
    client = app.test_client()
    if role != "anonymous":
        user: User = world.users[role]
        Auth(client).login(user.email)
    return client


def _fill(case: RouteCase, db, world: World) -> tuple[str, dict | None]:
    values = world.values(case.group)
    if case.setup is not None:
        values.update(case.setup(db, world) or {})
    path = case.path.format(**values)
    data = case.data(world) if callable(case.data) else case.data
    return path, dict(data) if data is not None else None


@pytest.mark.parametrize("case", CASES, ids=[case.id for case in CASES])
def test_route_by_role(app, db, case: RouteCase):
    failures = []
    world = build_world(db)
    dirty = False
    for role in ROLES:
        if dirty:
            clear_database(db)
            world = build_world(db)
        path, data = _fill(case, db, world)
        try:
            endpoint, _args = app.url_map.bind("planner.test").match(path, case.method)
        except (NotFound, MethodNotAllowed):
            endpoint = None
        assert endpoint == case.endpoint, f"{case.method} {path} routes to {endpoint}"
        client = _client_for(app, world, role)
        response = client.open(path, method=case.method, data=data)
        dirty = case.method != "GET"
        expected = case.expected(role)
        location = response.headers.get("Location", "")
        if not _matches(expected, response.status_code, location):
            failures.append(
                f"{role}: expected {expected}, got {response.status_code} {location}".rstrip()
            )
    assert not failures, f"{case.method} {case.path} ({case.group} group):\n  " + "\n  ".join(
        failures
    )
