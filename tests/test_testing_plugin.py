"""The ``planner.testing`` pytest plugin as a plugin author meets it: namespaced fixtures, a lazy
import, and a choice of database backends. Runs of pytest in a subprocess see the plugin exactly
as an outside project does (through the ``pytest11`` entry point, no conftest of ours)."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from planner.enums import Answer, Visibility
from planner.models import Slot
from planner.testing import occurrence_path

OUTSIDE_TEST = """
    import pytest

    def test_db(planner_backend):
        assert planner_backend in ("sqlite", "postgresql")

    @pytest.mark.planner_backends("sqlite")
    def test_sqlite_only(planner_database_url):
        assert planner_database_url.startswith("sqlite")

    def test_no_short_names(request):
        with pytest.raises(pytest.FixtureLookupError):
            request.getfixturevalue("app")
"""


def run_pytest(tmp_path: Path, ini: str = "", **env: str) -> subprocess.CompletedProcess:
    (tmp_path / "test_outside.py").write_text(textwrap.dedent(OUTSIDE_TEST))
    (tmp_path / "pytest.ini").write_text(f"[pytest]\n{ini}\n")
    environ = {k: v for k, v in os.environ.items() if k not in ("CI", "PLANNER_TEST_BACKENDS")}
    environ.pop("PLANNER_TEST_DATABASE_URL", None)
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-rA", "-p", "no:cacheprovider", str(tmp_path)],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env={**environ, **env},
    )


def test_importing_the_plugin_does_not_import_the_app():
    code = "import sys, planner.testing; print(sorted(m for m in sys.modules if 'flask' in m))"
    found = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert found.returncode == 0, found.stderr
    assert found.stdout.strip() == "[]"


def test_both_backends_by_default_postgres_skipping_without_a_url(tmp_path):
    result = run_pytest(tmp_path)
    assert "PASSED test_outside.py::test_db[sqlite]" in result.stdout
    assert "SKIPPED" in result.stdout and "need PLANNER_TEST_DATABASE_URL" in result.stdout
    assert "test_sqlite_only[postgres]" not in result.stdout
    assert "PASSED test_outside.py::test_no_short_names" in result.stdout


@pytest.mark.parametrize(
    "how",
    [{"ini": "planner_backends = sqlite"}, {"PLANNER_TEST_BACKENDS": "sqlite"}],
    ids=["ini", "env"],
)
def test_an_author_can_run_sqlite_only(tmp_path, how):
    result = run_pytest(tmp_path, **how)
    assert result.returncode == 0, result.stdout
    assert "[postgres]" not in result.stdout.replace("deselected", "")
    assert "4 passed" not in result.stdout and "3 passed" in result.stdout


def test_in_ci_a_postgres_skip_is_a_failure(tmp_path):
    result = run_pytest(tmp_path, CI="true")
    assert result.returncode == 1
    assert "ERROR test_outside.py::test_db[postgres]" in result.stdout
    assert "CI=true: this may not skip" in result.stdout


def test_make_routine(db, make_user, make_group, make_routine):
    group = make_group(make_user("Olga"))
    routine = make_routine(group, "meals", {"theme": "Soups"})
    assert routine.details["theme"] == "Soups" and routine.details["style"] == "potluck"
    assert routine.rrule.startswith("FREQ=WEEKLY;BYDAY=") and routine.duration_minutes == 120
    slots = db.query(Slot).filter_by(routine_id=routine.id).order_by(Slot.position).all()
    assert [s.label for s in slots] == ["Main", "Salad", "Dessert", "Drinks"]
    with pytest.raises(ValueError, match="Sport"):
        make_routine(group, "sports", {"sport": ""})
    with pytest.raises(ValueError, match="no activity type 'nope'"):
        make_routine(group, "nope")


def test_answer_and_fetch_feed(make_user, make_group, make_routine, answer, fetch_feed, as_user):
    owner, member = make_user("Olga"), make_user("Ana")
    group = make_group(owner, members=[member], visibility=Visibility.PRIVATE)
    routine = make_routine(group, "sports", {"sport": "Football", "min_players": 2})
    answer(member, routine, Answer.GOING)
    answer(owner, routine, Answer.GOING)
    page = as_user(member).get(occurrence_path(routine)).get_data(as_text=True)
    assert "2 players going" in page
    calendar = fetch_feed(group, user=member)
    [master] = calendar.walk("VEVENT")
    assert str(master["SUMMARY"]) == "Sports" and str(master["STATUS"]) == "TENTATIVE"
    assert [str(c) for c in master["CATEGORIES"].cats] == ["Sports"]
