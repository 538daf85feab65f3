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


# -- where xdist runs what ---------------------------------------------------------------------

#: Tests that are a long pole on their own (``--durations``), longest first. With ``--dist
#: loadfile`` each copy (sqlite, postgres) is a unit of its own, handed out first, so the two
#: copies run side by side on two workers. They share nothing with the other tests of their
#: file but session fixtures.
ALONE = (
    ("tests/test_hostile_input.py", "test_junk_in_every_form_field"),
    ("tests/test_reminder_property.py", "test_the_mails_sent_are_exactly_the_expected_ones"),
    ("tests/test_hostile_input.py", "test_junk_in_path_parameters"),
    ("tests/test_hostile_input.py", "test_junk_in_query_strings_and_headers"),
)


def work_unit(nodeid: str) -> tuple[str, int | None]:
    """The test's xdist unit, its file, or for an ``ALONE`` test itself; and for an alone one its
    rank (its place in ``ALONE``)."""
    name = nodeid.split("::", 1)[0]
    test = nodeid.rsplit("::", 1)[-1].split("[", 1)[0]
    if (name, test) in ALONE:
        return nodeid, ALONE.index((name, test))
    return name, None


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_make_scheduler(config: pytest.Config, log: Any) -> Any:
    """``--dist loadfile`` (what ``.ci/run`` uses), but an ``ALONE`` test is a unit of its own.

    Every other test stays with its file (a file's tests may share module fixtures, and those of
    tests/test_feeds.py Redis db 15). Units go out in collection order, which
    ``pytest_collection_modifyitems`` makes longest first. (``--dist loadgroup`` with
    ``xdist_group`` marks would say this too, but pytest-xdist 3.8 cannot rename the node ids
    of pytest 9 that it relies on, so its groups are silently ignored.)
    """
    if config.getvalue("dist") != "loadfile":
        return None
    from xdist.scheduler import LoadFileScheduling

    class LoadFileAloneScheduling(LoadFileScheduling):
        def _split_scope(self, nodeid: str) -> str:
            return work_unit(nodeid)[0]

    config.option.loadscopereorder = False
    return LoadFileAloneScheduling(config, log)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Order the units longest first, the alone ones, then files by test count (as xdist's own
    reordering would), keeping the tests of a file in their order."""
    units: dict[str, list[pytest.Item]] = {}
    alone: dict[str, int] = {}
    for item in items:
        unit, rank = work_unit(item.nodeid)
        if rank is not None:
            alone[unit] = rank
        units.setdefault(unit, []).append(item)
    ordered = sorted(units, key=lambda u: (u not in alone, alone.get(u, 0), -len(units[u])))
    items[:] = [item for unit in ordered for item in units[unit]]


@pytest.fixture
def smtp(tmp_path):
    """A real SMTP server (aiosmtpd over STARTTLS on 127.0.0.1) for one test; read what it
    received with ``smtp.inbox.messages`` or ``smtp.inbox.wait_for(n)``."""
    from tests.mail_support import SmtpServer

    server = SmtpServer(tmp_path).start()
    yield server
    server.stop()

