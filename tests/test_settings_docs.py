"""Every setting is documented, and every documented setting exists (as datasette does it).

A setting nobody can find is a setting nobody can use, and a documented one that no longer
exists sends an admin chasing nothing. The README's configuration table is the one place: each
row is ``| `PLANNER_<NAME>` | default | what |``.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from planner.config import DEFAULTS

README = Path(__file__).resolve().parent.parent / "README.md"
# Configured but deliberately without a default: generated into the instance folder.
WITHOUT_DEFAULT = {"SECRET_KEY"}


def documented() -> dict[str, str]:
    """``NAME -> default column`` of the README's configuration table."""
    section = README.read_text().split("## Configuration", 1)[1].split("\n## ", 1)[0]
    rows = re.findall(r"^\| `PLANNER_([A-Z0-9_]+)` \| ([^|]*) \|", section, re.MULTILINE)
    assert rows, "no configuration table found in README.md"
    return {name: default.strip() for name, default in rows}


@pytest.mark.parametrize("name", sorted(DEFAULTS))
def test_setting_is_documented(name: str) -> None:
    assert name in documented(), f"add a `PLANNER_{name}` row to README.md ## Configuration"


def test_no_documented_setting_is_gone() -> None:
    assert set(documented()) - set(DEFAULTS) - WITHOUT_DEFAULT == set()


@pytest.mark.parametrize(
    "name", sorted(k for k, v in DEFAULTS.items() if isinstance(v, int | str) and v != "")
)
def test_documented_default_matches(name: str) -> None:
    value = DEFAULTS[name]
    shown = str(value).lower() if isinstance(value, bool) else str(value)
    assert documented()[name].startswith(f"`{shown}`"), (name, documented()[name], shown)
