"""Docs and tests cannot drift from the hooks (as datasette does it).

Every hook in :mod:`planner.plugins.hookspecs` must have a heading ``hook_name(arg, ...)`` with its
exact argument names in ``docs/plugins.md``, a docstring, and a test function named
``test_hook_<name>`` somewhere under ``tests/``.
"""

from __future__ import annotations

import ast
import inspect
import re
from pathlib import Path

import pytest

from planner.plugins import hookspecs
from planner.plugins.manager import make_manager

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs" / "plugins.md"
HOOKS = sorted(name for name in dir(make_manager().hook) if not name.startswith("_"))


def headings() -> set[str]:
    return {
        m.group(1).strip().strip("`")
        for m in re.finditer(r"^#{2,4}\s+(.+)$", DOCS.read_text(), re.MULTILINE)
    }


def defined_test_names() -> set[str]:
    names = set()
    for path in ROOT.joinpath("tests").rglob("test_*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                names.add(node.name)
    return names


def test_every_hookspec_is_collected():
    assert "register_activity_types" in HOOKS and "rsvp_changed" in HOOKS
    assert len(HOOKS) == 13


@pytest.mark.parametrize("hook", HOOKS)
def test_hook_is_documented_with_its_exact_arguments(hook):
    spec = getattr(hookspecs, hook)
    args = ", ".join(inspect.signature(spec).parameters)
    expected = f"{hook}({args})"
    assert expected in headings(), f"docs/plugins.md needs a heading `{expected}`"


@pytest.mark.parametrize("hook", HOOKS)
def test_hook_has_a_docstring(hook):
    assert (getattr(hookspecs, hook).__doc__ or "").strip(), f"{hook} has no docstring"


@pytest.mark.parametrize("hook", HOOKS)
def test_hook_has_a_test(hook):
    wanted = f"test_hook_{hook}"
    assert any(name == wanted or name.startswith(wanted + "_") for name in defined_test_names()), (
        f"no test named {wanted} under tests/"
    )
