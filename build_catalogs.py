"""Compile the gettext catalogs whenever setuptools builds planner (a wheel, an sdist install or
``pip install -e``), so the ``.mo`` files are built at install and never committed.

Self-contained on purpose: the build environment has setuptools and Babel but not planner's
own dependencies, so this cannot import ``planner.dev.translations``.
"""

from __future__ import annotations

from pathlib import Path

from setuptools.command.build_py import build_py

ROOT = Path(__file__).resolve().parent
FOLDERS = ("planner/translations", "plugins/*/translations")


def compile_tree(root: Path = ROOT) -> int:
    """Write ``X.mo`` next to every ``<folder>/<locale>/LC_MESSAGES/X.po``; the number."""
    from babel.messages.mofile import write_mo
    from babel.messages.pofile import read_po

    written = 0
    for pattern in FOLDERS:
        for po in sorted(root.glob(f"{pattern}/*/LC_MESSAGES/*.po")):
            with po.open("rb") as handle:
                catalog = read_po(handle, locale=po.parent.parent.name)
            with po.with_suffix(".mo").open("wb") as handle:
                write_mo(handle, catalog, use_fuzzy=False)
            written += 1
    return written


class BuildPy(build_py):
    def run(self) -> None:
        compile_tree()
        self.__dict__.pop("data_files", None)  # collected again, now with the .mo files
        super().run()
