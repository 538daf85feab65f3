"""The translation catalogs: extract, update, compile and check them (``make translations``).

One command for every catalog planner ships: the core's ``messages`` (pages, forms, mail) and
``schedules`` (schedules in words, which the pure scheduling room loads without Flask), and each
built-in and example plugin's own ``messages``. It is Babel's API rather than four ``pybabel``
invocations per catalog, so the keywords, the Jinja options and the list of catalogs live in one
place and ``check`` (run by the suite, tests/test_catalogs.py) extracts exactly as ``extract``
does.

    python -m planner.dev.translations extract   # .pot from the sources, .po updated
    python -m planner.dev.translations compile   # .mo next to each .po (never committed)
    python -m planner.dev.translations check     # exit 1 on missing, untranslated, fuzzy,
                                                 # or placeholders that differ
"""

from __future__ import annotations

import argparse
import io
import re
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from babel.messages.catalog import Catalog, Message
from babel.messages.extract import extract_from_dir
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po, write_po

from planner.locales import IN_PROGRESS, TRANSLATED

ROOT = Path(__file__).resolve().parents[2]
KEYWORDS = {
    "_": None,
    "gettext": None,
    "ngettext": (1, 2),
    "pgettext": ((1, "c"), 2),
    "npgettext": ((1, "c"), 2, 3),
    "lazy_gettext": None,
    "_l": None,
    "lazy_ngettext": (1, 2),
    "lazy_pgettext": ((1, "c"), 2),
    "N_": None,  # marks a message for extraction only (scheduling's sentences)
    "NN_": (1, 2),
}
JINJA = "jinja2.ext:babel_extract"
JINJA_OPTIONS = {"extensions": "jinja2.ext.do", "newstyle_gettext": "true", "silent": "false"}
PLACEHOLDER = re.compile(r"%\((\w+)\)")


@dataclass(frozen=True)
class Source:
    """One catalog: where its sources are, how each kind of file is read, where it lives."""

    name: str
    root: Path  # sources are found under here
    methods: tuple[tuple[str, str], ...]  # (glob relative to root, extraction method)
    folder: Path  # <locale>/LC_MESSAGES/<domain>.po under here
    domain: str = "messages"

    @property
    def template(self) -> Path:
        return self.folder / f"{self.domain}.pot"

    def po(self, locale: str) -> Path:
        return self.folder / locale / "LC_MESSAGES" / f"{self.domain}.po"


def _plugin_sources() -> Iterator[Source]:
    packages = [*sorted((ROOT / "plugins").glob("*/__init__.py"))]
    packages += sorted((ROOT / "examples").glob("*/planner_*/__init__.py"))
    for init in packages:
        package = init.parent
        if not (package / "translations").is_dir():
            continue  # a plugin with no words of its own (ical, gathering, the webhook)
        yield Source(
            name=str(package.relative_to(ROOT)),
            root=package,
            methods=(("**.py", "python"), ("templates/**.html", JINJA)),
            folder=package / "translations",
        )


def sources() -> list[Source]:
    core = ROOT / "planner" / "translations"
    return [
        Source(
            name="planner",
            root=ROOT,
            methods=(
                ("planner/scheduling/**.py", "ignore"),  # its own domain, below
                ("planner/dev/**.py", "ignore"),  # developers' tools speak English
                ("planner/**.py", "python"),
                ("templates/**.html", JINJA),
                ("templates/**.txt", JINJA),
            ),
            folder=core,
        ),
        Source(
            name="planner (schedules)",
            root=ROOT / "planner" / "scheduling",
            methods=(("**.py", "python"),),
            folder=core,
            domain="schedules",
        ),
        *_plugin_sources(),
    ]


def extracted(source: Source) -> Catalog:
    """The catalog template the sources give today."""
    catalog = Catalog(project="planner", domain=source.domain, fuzzy=False)
    options = {pattern: JINJA_OPTIONS for pattern, method in source.methods if method == JINJA}
    for filename, lineno, message, comments, context in extract_from_dir(
        str(source.root), list(source.methods), options, KEYWORDS,
        comment_tags=("i18n:", "Translators:"), strip_comment_tags=True,
    ):
        catalog.add(message, None, [(filename, lineno)], auto_comments=comments, context=context)
    return catalog


def _read(path: Path, locale: str | None = None) -> Catalog:
    with path.open("rb") as handle:
        return read_po(handle, locale=locale)


def _write_po(path: Path, catalog: Catalog) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    buffer = io.BytesIO()
    write_po(buffer, catalog, width=100, sort_output=False, omit_header=False)
    path.write_bytes(buffer.getvalue())


def extract() -> None:
    """Write each .pot and bring each locale's .po up to date with it (new messages are added
    untranslated, gone ones dropped), as ``pybabel extract`` + ``update`` would."""
    for source in sources():
        template = extracted(source)
        _write_po(source.template, template)
        for locale in TRANSLATED:
            path = source.po(locale)
            if path.exists():
                catalog = _read(path, locale)
                catalog.update(template, no_fuzzy_matching=True)
                catalog.obsolete.clear()
            else:
                catalog = Catalog(locale=locale, domain=source.domain, project="planner")
                catalog.update(template, no_fuzzy_matching=True)
            _write_po(path, catalog)
        print(f"{source.name}: {len(template)} messages")


def compile_all(quiet: bool = False) -> int:
    """Compile every .po to its .mo; the number written."""
    written = 0
    for source in sources():
        for locale in TRANSLATED:
            path = source.po(locale)
            if not path.exists():
                continue
            catalog = _read(path, locale)
            with path.with_suffix(".mo").open("wb") as handle:
                write_mo(handle, catalog, use_fuzzy=False)
            written += 1
    if not quiet:
        print(f"compiled {written} catalogs")
    return written


def _ids(message: Message) -> tuple[str, ...]:
    return _strings(message.id)


def _strings(value: object) -> tuple[str, ...]:
    if isinstance(value, tuple | list):
        return tuple(str(v) for v in value)
    return (str(value or ""),)


def placeholders(text: str) -> set[str]:
    """The named values a message fills in (``%(name)s``): a translation must keep them all."""
    return set(PLACEHOLDER.findall(text))


def problems() -> list[str]:
    """Everything that would show a member English or a broken sentence in de, fr or es."""
    found: list[str] = []
    for source in sources():
        template = extracted(source)
        wanted = {(m.context, m.id) for m in template if m.id}
        for locale in TRANSLATED:
            path = source.po(locale)
            where = f"{source.name} [{locale}]"
            if not path.exists():
                found.append(f"{where}: no catalog at {path.relative_to(ROOT)}")
                continue
            catalog = _read(path, locale)
            have = {(m.context, m.id): m for m in catalog if m.id}
            for key in sorted(wanted - set(have), key=repr):
                found.append(f"{where}: missing {key[1]!r}")
            for key, message in have.items():
                if key not in wanted:
                    continue
                if message.fuzzy:
                    found.append(f"{where}: fuzzy {_ids(message)[0]!r}")
                translations = _strings(message.string)
                if not all(t.strip() for t in translations):
                    if locale not in IN_PROGRESS:
                        found.append(f"{where}: untranslated {_ids(message)[0]!r}")
                    continue
                source_marks = set().union(*(placeholders(i) for i in _ids(message)))
                for text in translations:
                    marks = placeholders(text)
                    # A plural's singular may say "one" in words instead of %(num)d.
                    if marks != source_marks and not (
                        isinstance(message.id, tuple) and marks <= source_marks
                    ):
                        found.append(
                            f"{where}: placeholders of {_ids(message)[0]!r} differ: "
                            f"{sorted(source_marks)} vs {sorted(marks)} in {text!r}"
                        )
    return found


def untranslated() -> dict[str, int]:
    """How many messages each language still lacks, over every catalog (``check`` prints it)."""
    counts = dict.fromkeys(TRANSLATED, 0)
    for source in sources():
        for locale in TRANSLATED:
            path = source.po(locale)
            if path.exists():
                counts[locale] += sum(
                    1 for m in _read(path, locale)
                    if m.id and not all(t.strip() for t in _strings(m.string))
                )
    return counts


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m planner.dev.translations")
    parser.add_argument("command", choices=("extract", "compile", "check"))
    args = parser.parse_args(argv)
    if args.command == "extract":
        extract()
        return 0
    if args.command == "compile":
        compile_all()
        return 0
    issues = problems()
    for locale, missing in untranslated().items():
        if missing:
            print(f"{locale}: {missing} messages not translated yet (shown in English)")
    for line in issues:
        print(line)
    print(f"{len(issues)} problems in the catalogs" if issues else "catalogs are complete")
    return 1 if issues else 0


if __name__ == "__main__":
    sys.exit(main())
