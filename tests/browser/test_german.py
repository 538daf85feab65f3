"""planner in German, in Chromium (issue 16): a German browser signs up, starts a group and a
routine and answers, every page in German with ``<html lang="de">``; axe-core finds no language
problem (nor any other serious one) on the way, and at 375 px no page scrolls sideways, though
German words run long.

Fields are found by their names here (the journey in English finds them by label): what is
checked is the German on the page, not the German of every label.
"""

from __future__ import annotations

from playwright.sync_api import expect

from .conftest import PHONE, audit, horizontal_overflow
from .pages import DEMO_EMAIL, DEMO_PASSWORD, member_pages
from .steps import PASSWORD, WEEKDAYS, ZONE, days_ahead

LANGUAGE_RULES = {"html-has-lang", "html-lang-valid", "valid-lang", "html-xml-lang-mismatch"}


def german_page(page, axe_source: str, seen: dict[str, list]) -> None:
    """The page is German, says so, and axe-core finds nothing serious on it."""
    assert page.locator("html").get_attribute("lang") == "de", page.url
    problems = audit(page, axe_source)
    if problems:
        seen[page.url] = problems


def test_a_german_journey_sign_up_routine_answer(live_server, person, axe_source):
    page = person(locale="de-DE")
    audits: dict[str, list] = {}

    page.goto(live_server.url("/signup"))
    german_page(page, axe_source, audits)
    expect(page.get_by_role("heading", level=1)).to_have_text("Registrieren")
    page.locator("input[name=email]").fill("greta@example.org")
    page.locator("input[name=display_name]").fill("Greta")
    page.locator("input[name=password]").fill(PASSWORD)
    page.locator("input[name=confirm]").fill(PASSWORD)
    page.locator("select[name=timezone]").select_option(ZONE)
    assert page.locator("main select[name=locale]").input_value() == "de"  # the browser's, kept
    page.locator("main form button[type=submit]").click()
    expect(page.get_by_role("button", name="Abmelden")).to_be_visible()
    german_page(page, axe_source, audits)

    page.goto(live_server.url("/groups/new"))
    page.locator("input[name=name]").fill("Donnerstagsessen")
    page.locator("input[name=visibility][value=private]").check()
    page.locator("select[name=timezone]").select_option(ZONE)
    page.locator("main form button[type=submit]").click()
    expect(page.get_by_role("heading", level=1, name="Donnerstagsessen")).to_be_visible()
    german_page(page, axe_source, audits)
    slug = page.url.rstrip("/").rsplit("/", 1)[-1]

    page.goto(live_server.url(f"/g/{slug}/routines/new"))
    german_page(page, axe_source, audits)
    # The week starts on Monday in German: the first weekday box is Montag.
    expect(page.locator("input[name=weekdays]").first).to_have_attribute("value", "MO")
    first = days_ahead(2)
    page.locator("input[name=title]").fill("Gemeinsames Abendessen")
    page.locator("input[name=start_date]").fill(first.isoformat())
    page.locator("input[name=start_time]").fill("19:00")
    page.locator("input[name=repeat][value=weekly]").check()
    for code in WEEKDAYS:
        page.locator(f"input[name=weekdays][value={code}]").set_checked(
            code == WEEKDAYS[first.weekday()]
        )
    page.locator("button[name=preview][value=preview]").click()
    weekday = ("Montag", "Dienstag", "Mittwoch", "Donnerstag", "Freitag", "Samstag", "Sonntag")[
        first.weekday()
    ]
    expect(page.locator("main")).to_contain_text(f"Jeden {weekday} um 19:00")
    page.locator("button[name=save]").click()
    expect(page.get_by_role("heading", level=1, name="Gemeinsames Abendessen")).to_be_visible()
    expect(page.locator("main")).to_contain_text(f"Jeden {weekday} um 19:00")
    expect(page.locator("ul.occurrences li").first).to_contain_text("übermorgen")
    german_page(page, axe_source, audits)

    page.locator("ul.occurrences a").first.click()
    german_page(page, axe_source, audits)
    page.locator("#answers button[name=status][value=going]").click()
    expect(page.locator("#answers .your-answer")).to_contain_text("Du kommst")
    german_page(page, axe_source, audits)

    language = {u: [p for p in v if p["id"] in LANGUAGE_RULES] for u, v in audits.items()}
    assert not any(language.values()), language
    assert audits == {}


def test_german_pages_fit_a_phone(demo_server, person):
    """Every main page of the demo, in German (the browser's language), at 375 px: nothing
    wider than the screen."""
    page = person(locale="de-DE")
    page.goto(demo_server.url("/login"))
    assert page.locator("html").get_attribute("lang") == "de"
    page.locator("input[name=email]").fill(DEMO_EMAIL)
    page.locator("input[name=password]").fill(DEMO_PASSWORD)
    page.locator("main form button[type=submit]").click()
    expect(page.get_by_role("button", name="Abmelden")).to_be_visible()
    assert page.viewport_size == PHONE
    wide = {}
    for main in member_pages(page, demo_server):
        page.goto(demo_server.url(main.path))
        assert page.locator("html").get_attribute("lang") == "de", main.path
        if (overflow := horizontal_overflow(page)) > 0:
            wide[main.name] = overflow
    assert wide == {}
