"""The translation catalogs are complete (issue 16): the check CI runs on every change.

``python -m planner.dev.translations check`` extracts every marked string from the sources as
``make translations`` does, and fails when one is missing from a German, French or Spanish
catalog, when a message there is untranslated or fuzzy, or when a translation's named
placeholders differ from its source's (a ``%(name)s`` lost in translation would raise at
render time, or silently drop the name).
"""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog
from babel.messages.pofile import read_po, write_po

from planner.dev import translations
from planner.locales import TRANSLATED


def test_every_catalog_is_complete():
    problems = translations.problems()
    assert not problems, f"{len(problems)} problems:\n" + "\n".join(problems[:60])


def test_every_catalog_declares_its_plural_rule():
    """gettext picks a plural form by the catalog's own rule: it must have one, with the forms
    the language has (CLDR gives French a third form, for millions: "1 000 000 de personnes")."""
    for source in translations.sources():
        for locale in TRANSLATED:
            with source.po(locale).open("rb") as handle:
                catalog = read_po(handle, locale=locale)
            assert catalog.num_plurals >= 2, (source.name, locale)
            assert "n" in catalog.plural_expr, (source.name, locale, catalog.plural_expr)
            for message in catalog:
                if message.id and isinstance(message.id, tuple):
                    assert len(message.string) == catalog.num_plurals, (source.name, message.id)


@pytest.fixture
def broken_catalog(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """A copy of the German core catalog with one message spoilt as ``spoil`` says."""

    def make(spoil) -> list[str]:
        core = translations.sources()[0]
        with core.po("de").open("rb") as handle:
            catalog: Catalog = read_po(handle, locale="de")
        spoil(catalog)
        folder = tmp_path / "translations"
        target = folder / "de" / "LC_MESSAGES" / "messages.po"
        target.parent.mkdir(parents=True)
        buffer = io.BytesIO()
        write_po(buffer, catalog)
        target.write_bytes(buffer.getvalue())
        for locale in ("fr", "es"):
            other = folder / locale / "LC_MESSAGES" / "messages.po"
            other.parent.mkdir(parents=True)
            other.write_bytes(core.po(locale).read_bytes())
        moved = translations.Source(core.name, core.root, core.methods, folder, core.domain)
        monkeypatch.setattr(translations, "sources", lambda: [moved])
        return translations.problems()

    return make


def first_with_placeholder(catalog: Catalog):
    return next(m for m in catalog if m.id and isinstance(m.id, str) and "%(" in m.id)


def test_the_check_finds_a_missing_message(broken_catalog):
    def drop(catalog: Catalog) -> None:
        message = first_with_placeholder(catalog)
        del catalog[message.id]

    assert any("missing" in p for p in broken_catalog(drop))


def test_only_languages_in_progress_may_lack_translations():
    """A language is complete or says it is not: planner.locales.IN_PROGRESS."""
    from planner.locales import IN_PROGRESS

    complete = [locale for locale in TRANSLATED if locale not in IN_PROGRESS]
    assert set(TRANSLATED) == set(complete)
    missing = translations.untranslated()
    assert all(missing[locale] == 0 for locale in complete), missing


def test_the_check_finds_an_untranslated_and_a_fuzzy_message(broken_catalog, monkeypatch):
    monkeypatch.setattr(translations, "IN_PROGRESS", ())
    def spoil(catalog: Catalog) -> None:
        messages = [m for m in catalog if m.id and isinstance(m.id, str)]
        messages[0].string = ""
        messages[1].flags.add("fuzzy")

    found = broken_catalog(spoil)
    assert any("untranslated" in p for p in found) and any("fuzzy" in p for p in found)


def test_the_check_finds_a_lost_placeholder(broken_catalog):
    def spoil(catalog: Catalog) -> None:
        message = first_with_placeholder(catalog)
        message.string = "Kein Platzhalter mehr"

    assert any("placeholders" in p for p in broken_catalog(spoil))
