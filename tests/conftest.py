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

from planner.testing import Auth, base_config


def _alias(name: str, fixture: Callable[..., Any]) -> Any:
    """``name`` as a fixture that returns the namespaced one ``fixture`` asks for by its
    parameter name (static, so pytest still sees the sqlite/postgres parametrisation)."""
    return pytest.fixture(name=name)(fixture)


database_url = _alias("database_url", lambda planner_database_url: planner_database_url)
backend = _alias("backend", lambda planner_backend: planner_backend)
app = _alias("app", lambda planner_app: planner_app)
client = _alias("client", lambda planner_client: planner_client)
db = _alias("db", lambda planner_db: planner_db)  # commit what you set up so requests see it
as_user = _alias("as_user", lambda planner_as_user: planner_as_user)
runner = _alias("runner", lambda planner_app: planner_app.test_cli_runner())
auth = _alias("auth", lambda planner_client: Auth(planner_client))


@pytest.fixture
def app_config(planner_database_url: str, tmp_path: Any) -> dict[str, Any]:
    """Override in a test module to change settings before the app is built."""
    return base_config(planner_database_url, tmp_path)


@pytest.fixture
def planner_app_config(app_config: dict[str, Any]) -> dict[str, Any]:
    return app_config
