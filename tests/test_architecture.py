"""The import contracts in pyproject.toml must bite, not just pass.

A contract that passes can also be a contract that matches nothing (a renamed package, a typo in
a module name). So each test here copies the real ``planner`` package into a temporary folder,
plants one import that a contract forbids, and runs ``lint-imports`` with the real contracts
against the copy: it must fail and name the contract. The copy shadows the installed package
through PYTHONPATH, so the plugins and examples are still found where they are installed.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")

pytestmark = pytest.mark.skipif(not LINT_IMPORTS.exists(), reason="import-linter not installed")


def lint_imports(
    tmp_path: Path, plant: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    shutil.copytree(
        ROOT / "planner", tmp_path / "planner", ignore=shutil.ignore_patterns("__pycache__")
    )
    for module, source in (plant or {}).items():
        (tmp_path / "planner" / module).write_text(source)
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    env = {**os.environ, "PYTHONPATH": str(tmp_path)}
    return subprocess.run(
        [str(LINT_IMPORTS), "--no-cache", "--no-logo", "pyproject.toml"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_the_real_tree_keeps_every_contract(tmp_path: Path) -> None:
    run = lint_imports(tmp_path)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "0 broken" in run.stdout


@pytest.mark.parametrize(
    ("leak", "code", "broken"),
    [
        pytest.param(
            "feeds/leak.py",
            "import planner.web.extensions\n",
            [
                "Domain rooms never import the web layer BROKEN",
                "planner.feeds.leak -> planner.web.extensions",
                "Rooms are layered: web on top, scheduling and plugins at the bottom BROKEN",
            ],
            id="domain-imports-web",
        ),
        pytest.param(
            "scheduling/leak.py",
            "from sqlalchemy import select\n",
            ["Scheduling is date arithmetic only: no Flask, no SQLAlchemy BROKEN"],
            id="scheduling-imports-sqlalchemy",
        ),
        pytest.param(
            # scheduling is imported by feeds; an import back closes a cycle between the rooms.
            "scheduling/leak.py",
            "import planner.feeds.tokens\n",
            ["No import cycles between the rooms BROKEN"],
            id="cycle-between-rooms",
        ),
    ],
)
def test_one_bad_import_breaks_its_contract(
    tmp_path: Path, leak: str, code: str, broken: list[str]
) -> None:
    run = lint_imports(tmp_path, {leak: code})
    assert run.returncode == 1, run.stdout + run.stderr
    output = " ".join(run.stdout.split())  # lint-imports wraps long contract names
    for expected in broken:
        assert expected in output, run.stdout
