"""The project's short fixture names, on top of the namespaced ones of ``planner.testing``.

The pytest plugin (also offered to plugin authors) only defines ``planner_*`` and ``make_*``
names, so it never shadows another project's ``app`` or ``db``; planner's own tests keep their
short names here. ``app_config`` stays the one to override in a test module: the plugin's app is
built from it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient, FlaskCliRunner
from sqlalchemy.orm import Session

from planner.models import User
from planner.testing import Auth, base_config


@pytest.fixture
def database_url(planner_database_url: str) -> str:
    return planner_database_url


@pytest.fixture
def backend(planner_backend: str) -> str:
    return planner_backend


@pytest.fixture
def app_config(planner_database_url: str, tmp_path: Any) -> dict[str, Any]:
    """Override in a test module to change settings before the app is built."""
    return base_config(planner_database_url, tmp_path)


@pytest.fixture
def planner_app_config(app_config: dict[str, Any]) -> dict[str, Any]:
    return app_config


@pytest.fixture
def app(planner_app: Flask) -> Flask:
    return planner_app


@pytest.fixture
def client(planner_client: FlaskClient) -> FlaskClient:
    return planner_client


@pytest.fixture
def runner(planner_app: Flask) -> FlaskCliRunner:
    return planner_app.test_cli_runner()


@pytest.fixture
def db(planner_db: Session) -> Session:
    """The app context's session; commit what you set up so requests see it."""
    return planner_db


@pytest.fixture
def auth(planner_client: FlaskClient) -> Auth:
    return Auth(planner_client)


@pytest.fixture
def as_user(planner_as_user: Callable[[User], FlaskClient]) -> Callable[[User], FlaskClient]:
    return planner_as_user
