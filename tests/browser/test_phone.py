"""Phone first: at 375x812 no main page scrolls sideways, and the answer buttons fit."""

from __future__ import annotations

from .conftest import PHONE, horizontal_overflow
from .pages import VISITOR_PAGES

# Elements wider than the screen, to name the culprit when a page overflows.
TOO_WIDE = """() => [...document.querySelectorAll('body *')]
  .filter(el => el.getBoundingClientRect().right > window.innerWidth + 0.5)
  .slice(0, 5).map(el => el.tagName.toLowerCase() + '.' + el.className)"""


def measure(page) -> dict:
    overflow = horizontal_overflow(page)
    return {"overflow": overflow, "culprits": page.evaluate(TOO_WIDE)} if overflow > 0 else {}


def test_visitor_pages_fit_a_phone(page, demo_server):
    assert page.viewport_size == PHONE
    found = {}
    for main in VISITOR_PAGES:
        page.goto(demo_server.url(main.path))
        if problem := measure(page):
            found[main.name] = problem
    assert found == {}


def test_member_pages_fit_a_phone(owner, demo_server):
    page, pages = owner
    assert page.viewport_size == PHONE
    found = {}
    for main in pages:
        page.goto(demo_server.url(main.path))
        if problem := measure(page):
            found[main.name] = problem
    assert found == {}


def test_answer_buttons_are_big_enough_to_tap(owner, demo_server):
    """WCAG 2.5.8: targets of at least 24x24 CSS pixels; ours aim for 44 high."""
    page, pages = owner
    occurrence = next(p for p in pages if p.name == "occurrence")
    page.goto(demo_server.url(occurrence.path))
    buttons = page.locator("#answers .answer-buttons button")
    assert buttons.count() >= 3
    for i in range(buttons.count()):
        box = buttons.nth(i).bounding_box()
        if buttons.nth(i).get_attribute("class") == "link":
            continue
        assert box["height"] >= 44 and box["width"] >= 44, box
        assert box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"], box
