"""Small touches with JavaScript on: answering in place, relative days that stay true."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from flask import g
from playwright.sync_api import expect

from planner.web.timefmt import relative_day

from .steps import (
    answer,
    create_group,
    create_routine,
    days_ahead,
    group_with_guest,
    open_occurrence,
    sign_up,
    your_answer,
)


def test_answering_does_not_reload_the_page(live_server, person):
    host, guest, _, supper = group_with_guest(
        live_server, person, kind="Shared meal", title="Soup night"
    )
    occurrence = open_occurrence(guest, supper, 0)
    guest.evaluate("() => { window.stillHere = 'yes'; }")
    requests = []
    guest.on("request", lambda r: requests.append((r.resource_type, r.method, r.url)))

    answer(guest, "Going")
    expect(your_answer(guest)).to_contain_text("You're going")
    expect(guest.get_by_role("status").filter(has_text="You're going")).to_have_count(2)
    assert guest.evaluate("() => window.stillHere") == "yes"  # same document, no navigation
    assert guest.url == occurrence
    assert [r for r in requests if r[0] == "document"] == []
    assert ("fetch", "POST", occurrence + "/answer") in requests

    # Taking a slot and then releasing it go the same way, and focus stays on the slot.
    guest.get_by_role("button", name="Take “Dessert”").click()
    expect(guest.locator("#slots li", has_text="Dessert")).to_contain_text("Gus Guest")
    guest.locator("#slots li", has_text="Dessert").get_by_role("button", name="Release").click()
    expect(guest.locator("#slots li", has_text="Dessert")).not_to_contain_text("Gus Guest")
    assert guest.evaluate("() => window.stillHere") == "yes"

    # What was saved is what a fresh page shows (and what the host sees).
    host.goto(occurrence)
    expect(host.locator("#answers .who")).to_contain_text("Gus Guest")


def test_answering_from_next_up_stays_on_the_dashboard(live_server, person):
    _, guest, _, _ = group_with_guest(live_server, person, kind="Shared meal", title="Soup")
    guest.goto(live_server.url("/"))
    guest.evaluate("() => { window.stillHere = 'yes'; }")
    needs = guest.locator(".needs-answer li.next-up")
    expect(needs).to_have_count(1)  # one row per routine, "2 dates need your answer"
    expect(needs.first).to_contain_text("2 dates need your answer")
    first = needs.first.get_attribute("id")
    needs.first.get_by_role("button", name="Can't go").click()
    # The row moves on to the routine's next open date, in place, without a reload.
    expect(needs.first).not_to_have_attribute("id", first)
    expect(needs.first).not_to_contain_text("dates need your answer")
    assert guest.evaluate("() => window.stillHere") == "yes"


def test_a_refused_answer_falls_back_to_the_servers_page(live_server, person):
    """A stale CSRF token: the server's reason shows, as it would without JavaScript."""
    _, guest, _, supper = group_with_guest(live_server, person, kind="Shared meal", title="Soup")
    open_occurrence(guest, supper, 0)
    guest.evaluate(
        "() => document.querySelectorAll('input[name=csrf_token]')"
        ".forEach(i => { i.value = 'stale'; })"
    )
    answer(guest, "Going")
    expect(guest.locator("main")).to_contain_text("expired")
    guest.reload()
    expect(your_answer(guest)).to_contain_text("You haven't answered yet")


CASES = [
    # (occurrence start in UTC, now in UTC, zone)
    (datetime(2026, 3, 12, 18, 0), datetime(2026, 3, 12, 8, 0), "Europe/Berlin"),
    (datetime(2026, 3, 12, 18, 0), datetime(2026, 3, 11, 23, 30), "Europe/Berlin"),
    (datetime(2026, 3, 12, 18, 0), datetime(2026, 3, 11, 22, 30), "Europe/Berlin"),
    (datetime(2026, 3, 29, 22, 30), datetime(2026, 3, 28, 12, 0), "Europe/Berlin"),  # DST
    (datetime(2026, 3, 12, 18, 0), datetime(2026, 3, 9, 12, 0), "America/New_York"),
    (datetime(2026, 3, 12, 18, 0), datetime(2026, 3, 13, 12, 0), "Pacific/Auckland"),
    (datetime(2026, 3, 12, 18, 0), datetime(2026, 2, 20, 12, 0), "UTC"),
    (datetime(2026, 3, 12, 18, 0), datetime(2026, 1, 1, 12, 0), "Asia/Kolkata"),
    (datetime(2026, 3, 12, 18, 0), datetime(2026, 3, 20, 12, 0), "Europe/London"),
    (datetime(2026, 3, 12, 18, 0), datetime(2026, 6, 20, 12, 0), "Europe/London"),
]


@pytest.fixture
def flask_g(live_app):
    with live_app.test_request_context():
        yield g


def test_relative_days_in_the_browser_match_the_server(page, live_server, flask_g):
    page.goto(live_server.url("/login"))
    for start, now, zone in CASES:
        start, now = start.replace(tzinfo=UTC), now.replace(tzinfo=UTC)
        server = relative_day(start, zone, now=now)
        browser = page.evaluate(
            "([iso, zone, now]) => planner.relativeDay(iso, zone, new Date(now))",
            [start.isoformat(), zone, now.isoformat()],
        )
        assert browser == server, (start, now, zone)


def test_relative_days_refresh_on_a_page_left_open(live_server, page):
    """Open at "tomorrow"; a day later, with the tab still open, the same line says "today"."""
    page.clock.install(time=datetime.now(UTC))
    sign_up(page, live_server.url("/signup"), "hana@example.org", "Hana Host")
    slug = create_group(page, live_server.url("/groups/new"), "Supper Friends")
    create_routine(page, live_server.url(f"/g/{slug}"), "Shared meal", "Soup", days_ahead(1))
    first = page.locator("ul.occurrences li .relative").first
    expect(first).to_have_text("tomorrow")
    page.evaluate("() => { window.stillHere = 'yes'; }")
    page.clock.fast_forward(24 * 60 * 60 * 1000)  # milliseconds
    expect(first).to_have_text("today")
    expect(page.locator("ul.occurrences li .relative").nth(1)).to_have_text("in 7 days")
    assert page.evaluate("() => window.stillHere") == "yes"
