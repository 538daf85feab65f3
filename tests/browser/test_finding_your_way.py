"""Finding your way (issue 13), in Chromium on fresh data: Alice's private group with a
routine a month away is one click from everywhere, Bob finds it in My groups, the routine page
links its feed; the weekday follows the date; the answer buttons are on a phone's first screen;
the two-step confirm page passes axe."""

from __future__ import annotations

from datetime import timedelta

from playwright.sync_api import expect

from .conftest import PHONE, audit, horizontal_overflow
from .steps import (
    WEEKDAYS,
    create_group,
    create_routine,
    days_ahead,
    join_by_invite,
    make_invite,
    sign_up,
)


def test_a_private_group_a_month_ahead_is_always_one_click_away(live_server, person):
    alice, bob = person(), person()
    sign_up(alice, live_server.url("/signup"), "alice@example.org", "Alice Adler")
    slug = create_group(alice, live_server.url("/groups/new"), "Kitchen Table")
    group_url = live_server.url(f"/g/{slug}")
    first = days_ahead(30)
    routine_url = create_routine(alice, group_url, "Shared meal", "Monthly-ish meal", first)

    # The group page names the routine and its first date, and never "Nothing planned".
    alice.goto(group_url)
    routines = alice.locator("ul.routine-list")
    expect(routines).to_contain_text("Monthly-ish meal")
    expect(routines).to_contain_text(f"{first:%a} {first.day} {first:%b %Y}")
    expect(alice.get_by_text("Nothing planned")).to_have_count(0)
    occurrence_url = live_server.url(
        routines.locator("a", has_text="In 4 weeks").first.get_attribute("href")
    )

    # One click from Next up (/) and /account reaches the group, though nothing is within
    # Next up's two weeks; My groups lists it too.
    for start in ("/", "/account"):
        alice.goto(live_server.url(start))
        alice.locator(".my-group-links").get_by_role("link", name="Kitchen Table").click()
        expect(alice).to_have_url(group_url)
    alice.get_by_role("link", name="My groups", exact=True).click()
    alice.locator("li.my-group").get_by_role("link", name="Kitchen Table").click()
    expect(alice).to_have_url(group_url)
    alice.goto(occurrence_url)
    alice.get_by_role("link", name="← Kitchen Table").click()
    expect(alice).to_have_url(group_url)

    # The routine page links its own feed, with the per-client help.
    alice.goto(routine_url)
    feed = alice.locator("#calendar")
    webcal = feed.get_by_role("link", name="Subscribe in your calendar app").get_attribute("href")
    assert webcal.startswith("webcal://") and "/feeds/t/" in webcal and "/r/" in webcal
    download = feed.get_by_role("link", name="Download .ics").get_attribute("href")
    assert "/r/" in download and download.endswith(".ics")
    body = alice.request.get(download).text()
    assert "BEGIN:VCALENDAR" in body and "Monthly-ish meal" in body
    expect(feed.get_by_role("link", name="How to subscribe", exact=False)).to_be_visible()

    # Bob joins through the invite and finds the group from My groups.
    invite = make_invite(alice, group_url)
    join_by_invite(bob, live_server, invite, "bob@example.org", "Bob Berg")
    bob.goto(live_server.url("/"))
    bob.get_by_role("link", name="My groups", exact=True).click()
    card = bob.locator("li.my-group", has_text="Kitchen Table")
    expect(card).to_contain_text("Monthly-ish meal")
    expect(card).to_contain_text("You haven't answered yet")
    card.get_by_role("link", name="Kitchen Table").click()
    expect(bob).to_have_url(group_url)
    expect(bob.get_by_role("heading", level=1)).to_have_text("Kitchen Table")


def _ticked(page) -> list[str]:
    return [c for c in WEEKDAYS if page.locator(f"input[name=weekdays][value={c}]").is_checked()]


def _follow_the_date(page, group_url: str, script: bool) -> None:
    page.goto(group_url + "/routines/new")
    page.get_by_label("Every week", exact=False).check()
    before = _ticked(page)
    assert len(before) == 1
    target = days_ahead(9)
    while WEEKDAYS[target.weekday()] == before[0]:
        target += timedelta(days=1)
    page.get_by_label("Title").fill("Supper")
    page.get_by_label("First date").fill(target.isoformat())
    if script:  # routine-form.js moves the tick at once, before any submit
        assert _ticked(page) == [WEEKDAYS[target.weekday()]]
    else:
        assert _ticked(page) == before
    page.get_by_role("button", name="Preview", exact=True).click()
    words = page.locator("#preview-title + p").inner_text()
    day = f"{target:%A}"
    assert words.startswith(f"Every {day}") and " and " not in words, words
    assert _ticked(page) == [WEEKDAYS[target.weekday()]]


def test_the_weekday_follows_the_date(live_server, person):
    page = person()
    sign_up(page, live_server.url("/signup"), "olga@example.org", "Olga Org")
    slug = create_group(page, live_server.url("/groups/new"), "Suppers")
    _follow_the_date(page, live_server.url(f"/g/{slug}"), script=True)


def test_the_weekday_follows_the_date_without_javascript(live_server, person):
    page = person(java_script_enabled=False)
    sign_up(page, live_server.url("/signup"), "nojs@example.org", "Nora Nojs")
    slug = create_group(page, live_server.url("/groups/new"), "Suppers")
    _follow_the_date(page, live_server.url(f"/g/{slug}"), script=False)


def test_answer_buttons_are_on_the_first_phone_screen(owner, demo_server):
    page, pages = owner
    assert page.viewport_size == PHONE
    for name in ("occurrence", "walk-occurrence", "game-occurrence"):
        main = next(p for p in pages if p.name == name)
        page.goto(demo_server.url(main.path))
        buttons = page.locator("#answers .answer-buttons button:not(.link)")
        assert buttons.count() >= 3, name
        for i in range(buttons.count()):
            box = buttons.nth(i).bounding_box()
            assert box["y"] >= 0 and box["y"] + box["height"] <= PHONE["height"], (name, box)


def test_the_confirm_page_passes_axe_and_fits_a_phone(owner, demo_server, axe_source):
    page, pages = owner
    occurrence = next(p for p in pages if p.name == "occurrence")
    page.goto(demo_server.url(occurrence.path))
    page.get_by_role("button", name="Cancel this date").click()
    expect(page.get_by_role("button", name="Yes, cancel this date")).to_be_visible()
    assert audit(page, axe_source) == []
    assert horizontal_overflow(page) <= 0
    page.get_by_role("link", name="Keep it as it is").click()  # nothing was cancelled
    expect(page.locator("h1 .badge.cancelled")).to_have_count(0)


def _form_height(page) -> float:
    """From the form's top to the bottom of its Save button, in CSS pixels."""
    return page.evaluate(
        """() => {
          const form = document.querySelector("form.routine-form").getBoundingClientRect();
          const save = document.querySelector("button[name=save]").getBoundingClientRect();
          return save.bottom - form.top;
        }"""
    )


def test_a_simple_weekly_routine_form_fits_two_phone_screens(live_server, person):
    """The advanced parts (raw RRULE, places, the end, the zone) fold away; with and without
    JavaScript the untouched form reaches Save within two 375x812 screens."""
    for script in (True, False):
        page = person(java_script_enabled=script)
        email = f"form-{'js' if script else 'nojs'}@example.org"
        sign_up(page, live_server.url("/signup"), email, "Fran Form")
        slug = create_group(page, live_server.url("/groups/new"), f"Form {script}")
        page.goto(live_server.url(f"/g/{slug}/routines/new"))
        assert page.viewport_size == PHONE
        for folded in ("Places, guests and answers", "When it ends", "Every other week, month…"):
            assert page.locator("details.more", has_text=folded).get_attribute("open") is None
        expect(page.get_by_label("Repeat rule", exact=False)).to_be_hidden()
        height = _form_height(page)
        assert height <= 2 * PHONE["height"], (script, height)
        assert horizontal_overflow(page) == 0


def test_the_meal_how_it_works_choices_are_radios_in_a_row_each(live_server, person):
    page = person()
    sign_up(page, live_server.url("/signup"), "mara@example.org", "Mara Meal")
    slug = create_group(page, live_server.url("/groups/new"), "Soup Night")
    page.goto(live_server.url(f"/g/{slug}/routines/new"))
    kinds = page.get_by_label("Kind of activity")
    kinds.select_option(kinds.locator("option", has_text="Shared meal").get_attribute("value"))
    page.get_by_role("button", name="Show the fields for this kind").click()
    group = page.get_by_role("group", name="How it works")
    expect(group).to_be_visible()
    radios = group.get_by_role("radio")
    assert radios.count() >= 2
    assert page.locator("ul input[type=radio], li input[type=radio]").count() == 0
    for i in range(radios.count()):
        radio = radios.nth(i)
        label = page.locator(f"label[for='{radio.get_attribute('id')}']")
        dot, text = radio.bounding_box(), label.bounding_box()
        # the control sits left of its own label, on the same line, not as a list bullet
        assert dot["x"] + dot["width"] <= text["x"], (dot, text)
        assert abs((dot["y"] + dot["height"] / 2) - (text["y"] + text["height"] / 2)) < 12
    # Choosing one by its label works, as radios do.
    last_label = page.locator(f"label[for='{radios.nth(1).get_attribute('id')}']")
    last_label.click()
    expect(radios.nth(1)).to_be_checked()
    expect(radios.nth(0)).not_to_be_checked()
