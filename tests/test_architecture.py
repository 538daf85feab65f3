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


def test_a_domain_module_importing_the_web_layer_breaks_two_contracts(tmp_path: Path) -> None:
    run = lint_imports(tmp_path, {"feeds/leak.py": "import planner.web.extensions\n"})
    assert run.returncode == 1, run.stdout + run.stderr
    assert "Domain rooms never import the web layer BROKEN" in run.stdout
    assert "planner.feeds.leak -> planner.web.extensions" in run.stdout
    assert "Rooms are layered: web on top, scheduling and plugins at the bottom BROKEN" in (
        run.stdout
    )


def test_scheduling_reaching_for_sqlalchemy_breaks_its_contract(tmp_path: Path) -> None:
    run = lint_imports(tmp_path, {"scheduling/leak.py": "from sqlalchemy import select\n"})
    assert run.returncode == 1, run.stdout + run.stderr
    assert "Scheduling is date arithmetic only: no Flask, no SQLAlchemy BROKEN" in run.stdout


def test_a_cycle_between_rooms_breaks_the_acyclic_contract(tmp_path: Path) -> None:
    # scheduling is imported by feeds; an import back closes a cycle between the two rooms.
    run = lint_imports(tmp_path, {"scheduling/leak.py": "import planner.feeds.tokens\n"})
    assert run.returncode == 1, run.stdout + run.stderr
    assert "No import cycles between the rooms BROKEN" in run.stdout
