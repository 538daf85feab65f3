"""Accessibility in Chromium: axe-core on every main page, labels, errors, keyboard only."""

from __future__ import annotations

from playwright.sync_api import expect

from .conftest import audit
from .pages import VISITOR_PAGES, log_in_demo
from .server import new_context

UNLABELLED = """() => [...document.querySelectorAll('input, select, textarea')]
  .filter(el => el.type !== 'hidden')
  .filter(el => !(el.labels && [...el.labels].some(l => l.textContent.trim()))
                && !el.getAttribute('aria-label') && !el.getAttribute('aria-labelledby'))
  .map(el => el.outerHTML.slice(0, 120))"""

DANGLING = """() => [...document.querySelectorAll('[aria-describedby], [aria-labelledby]')]
  .flatMap(el => ['aria-describedby', 'aria-labelledby']
    .flatMap(a => (el.getAttribute(a) || '').split(/\\s+/).filter(Boolean))
    .filter(id => !document.getElementById(id))
    .map(id => el.tagName.toLowerCase() + ' -> #' + id))"""


def check_page(page, axe_source) -> dict:
    problems = {}
    violations = audit(page, axe_source)
    if violations:
        problems["axe"] = violations
    unlabelled = page.evaluate(UNLABELLED)
    if unlabelled:
        problems["unlabelled"] = unlabelled
    dangling = page.evaluate(DANGLING)
    if dangling:
        problems["dangling aria references"] = dangling
    return problems


def test_visitor_pages_pass_axe_and_label_every_input(page, demo_server, axe_source):
    found = {}
    for main in VISITOR_PAGES:
        page.goto(demo_server.url(main.path))
        problems = check_page(page, axe_source)
        if problems:
            found[main.name] = problems
    assert found == {}


def test_member_pages_pass_axe_and_label_every_input(owner, demo_server, axe_source):
    page, pages = owner
    found = {}
    for main in pages:
        response = page.goto(demo_server.url(main.path))
        assert response.status == 200, main
        problems = check_page(page, axe_source)
        if problems:
            found[main.name] = problems
    assert found == {}


def error_links(page) -> list[dict]:
    """Every field marked invalid, with whether its error message is tied to it."""
    return page.evaluate(
        """() => [...document.querySelectorAll('[aria-invalid=true]')].map(el => {
             const ids = (el.getAttribute('aria-describedby') || '').split(/\\s+/);
             const errors = ids.map(id => document.getElementById(id))
               .filter(e => e && e.classList.contains('error'));
             return {name: el.name, tied: errors.length === 1 && !!errors[0].textContent.trim()};
           })"""
    )


def test_form_errors_are_tied_to_their_fields(page, demo_server, axe_source):
    page.goto(demo_server.url("/signup"))
    page.get_by_label("Email").fill("not an address")
    page.get_by_label("Password", exact=True).fill("short")
    page.get_by_role("button", name="Create my account").click()
    links = error_links(page)
    assert {link["name"] for link in links} >= {"email", "display_name", "password", "confirm"}
    assert all(link["tied"] for link in links), links
    described = page.get_by_label("Email").get_attribute("aria-describedby")
    assert "email-error" in described.split()
    expect(page.locator("#email-error")).to_contain_text("does not look like an email")
    assert check_page(page, axe_source) == {}


def test_routine_form_errors_are_tied_to_their_fields(owner, demo_server, axe_source):
    page, _ = owner
    page.goto(demo_server.url("/g/thursday-supper-club/routines/new"))
    page.get_by_label("Title").fill("")
    page.get_by_label("Duration", exact=False).fill("")
    page.get_by_role("button", name="Save", exact=True).click()
    links = error_links(page)
    assert "title" in {link["name"] for link in links}
    assert all(link["tied"] for link in links), links
    assert check_page(page, axe_source) == {}


def focused(page) -> str:
    return page.evaluate(
        "() => { const e = document.activeElement; if (!e) return '';"
        " const text = (e.textContent || e.value || '').trim();"
        " return text + '|' + (e.closest('section') || {}).id; }"
    )


def tab_to(page, text: str, section: str, limit: int = 120) -> None:
    """Press Tab until the focused element reads ``text`` inside section ``#section``."""
    seen = []
    for _ in range(limit):
        page.keyboard.press("Tab")
        now = focused(page)
        if now == f"{text}|{section}":
            return
        seen.append(now)
    raise AssertionError(f"Tab never reached {text!r} in #{section}: {seen[-10:]}")


def test_answering_by_keyboard_alone(browser, demo_server):
    """Dev answers the next walk and takes a slot with Tab, Enter and Space only."""
    ctx = new_context(browser)
    page = ctx.new_page()
    try:
        log_in_demo(page, demo_server, "dev@example.org")
        page.goto(demo_server.url("/g/thursday-supper-club"))
        href = page.locator("ul.upcoming a", has_text="Thursday supper").first.get_attribute(
            "href"
        )
        page.goto(demo_server.url(href))

        page.keyboard.press("Tab")
        assert focused(page).startswith("Skip to content")

        tab_to(page, "Maybe", "answers")
        page.keyboard.press("Enter")
        expect(page.locator("#answers .your-answer")).to_contain_text("You said maybe")
        # Focus stays on the answer just given (no jump to the top of the page).
        assert focused(page) == "Maybe|answers"

        tab_to(page, "Going", "answers")
        page.keyboard.press("Space")
        expect(page.locator("#answers .your-answer")).to_contain_text("You're going")
        expect(page.locator("#answers button[value=going]")).to_have_attribute(
            "aria-pressed", "true"
        )

        tab_to(page, "Take “Dessert”", "slots")
        page.keyboard.press("Enter")
        expect(page.locator("#slots li", has_text="Dessert")).to_contain_text("Dev Patel")
    finally:
        ctx.close()
