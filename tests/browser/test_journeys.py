"""Whole journeys in Chromium against the served app, with CSRF on, as two or more people.

Each person is a separate browser context (own cookies), on a phone-sized screen, and goes
only through what the pages offer: labels, buttons, links, the invite link they were given.
"""

from __future__ import annotations

import re
from datetime import timedelta
from urllib.request import urlopen

from icalendar import Calendar
from playwright.sync_api import expect

from .steps import (
    answer,
    copy,
    create_group,
    create_routine,
    days_ahead,
    group_with_guest,
    key_of,
    make_invite,
    open_occurrence,
    sign_up,
    your_answer,
)


def fetch_feed(url: str) -> tuple[str, Calendar]:
    """GET a feed as a calendar app would (no cookies), parsed by icalendar."""
    with urlopen(url, timeout=10) as response:  # noqa: S310 - a 127.0.0.1 test server
        assert response.status == 200
        assert response.headers["Content-Type"].startswith("text/calendar")
        body = response.read().decode()
    return body, Calendar.from_ical(body)


def events_named(calendar: Calendar, summary: str) -> list:
    return [e for e in calendar.walk("VEVENT") if str(e.get("SUMMARY")) == summary]


def test_shared_meal_from_sign_up_to_calendar(live_server, person):
    host, guest = person(), person()

    # The host signs up, starts a private group and a weekly potluck supper from tomorrow.
    sign_up(host, live_server.url("/signup"), "hana@example.org", "Hana Host")
    slug = create_group(host, live_server.url("/groups/new"), "Supper Friends")
    group_url = live_server.url(f"/g/{slug}")
    first = days_ahead(1)
    supper = create_routine(
        host,
        group_url,
        "Shared meal",
        "Thursday supper",
        first,
        details={"Theme or cuisine": "Soups"},
    )
    expect(host.locator(".activity-details")).to_contain_text("Potluck")
    # Relative days show next to the dates.
    expect(host.locator("ul.occurrences li").first).to_contain_text("tomorrow")
    expect(host.locator("ul.occurrences li").nth(1)).to_contain_text("in 8 days")

    # The host copies an invite link; the guest opens it in their own browser.
    invite = make_invite(host, group_url)
    assert invite.startswith(live_server.url("/invite/"))
    guest.goto(invite)
    expect(guest.get_by_role("heading", level=1, name="Supper Friends")).to_be_visible()
    guest.get_by_role("link", name="Sign up and join").click()
    sign_up(guest, live_server.url("/signup"), "gus@example.org", "Gus Guest")
    guest.goto(group_url)
    expect(guest.get_by_text("you are a member")).to_be_visible()

    # The guest answers "going" for the first supper and takes the Dessert slot.
    first_supper = open_occurrence(guest, supper, 0)
    answer(guest, "Going")
    expect(your_answer(guest)).to_contain_text("You're going")
    guest.get_by_role("button", name="Take “Dessert”").click()
    expect(guest.locator("#slots")).to_contain_text("Dessert: Gus Guest")

    # The host sees the guest in "Who's coming" and on the Dessert slot.
    open_occurrence(host, supper, 0)
    expect(host.locator("#answers .who")).to_contain_text("Gus Guest")
    expect(host.locator("#slots li", has_text="Dessert")).to_contain_text("Gus Guest")

    # The host cancels the second supper; the guest's "Next up" shows it cancelled.
    second = open_occurrence(host, supper, 1)
    host.get_by_label("Reason", exact=False).fill("Kitchen is being painted")
    host.get_by_role("button", name="Cancel this date").click()
    host.get_by_role("button", name="Yes, cancel this date").click()
    expect(host.locator("h1 .badge")).to_have_text("Cancelled")
    guest.goto(live_server.url("/"))
    cancelled = guest.locator(f"li.next-up[id$='{key_of(second)}']").last
    expect(cancelled).to_contain_text("Thursday supper")
    expect(cancelled.locator(".badge.cancelled")).to_be_visible()
    expect(cancelled.locator(".when")).to_contain_text("In 8 days")
    going = guest.locator(f"li.next-up[id$='{key_of(first_supper)}']").last
    expect(going.locator(".when")).to_contain_text("Tomorrow")
    expect(going.locator(".your-answer")).to_contain_text("You're going")

    # The Subscribe page's https address serves a feed with the weekly routine.
    host.goto(group_url)
    host.get_by_role("link", name=re.compile("More ways to subscribe")).click()
    address = copy(host, host.locator(".feed-url input").first)
    assert address.startswith(live_server.url("/feeds/"))
    body, calendar = fetch_feed(address)
    [event] = [e for e in events_named(calendar, "Thursday supper") if "RRULE" in e]
    assert event["RRULE"]["FREQ"] == ["WEEKLY"]
    assert "EXDATE" in event or "STATUS:CANCELLED" in body


def test_device_free_walk_carries_its_reminder(live_server, person):
    host, guest, group_url, walk = group_with_guest(
        live_server,
        person,
        kind="Device-free walk",
        title="Forest walk",
        time="09:30",
        details={
            "Meeting point": "Old oak by the lake",
            "Calendar reminder (minutes before)": "45",
        },
    )
    guest.goto(walk)
    details = guest.locator(".activity-details")
    expect(details).to_contain_text("Old oak by the lake")
    expect(details).to_contain_text("45 minutes before")
    expect(details).to_contain_text("Phones away")

    # The guest's calendar (the group's private feed, from the Subscribe page) carries the
    # reminder as a VALARM 45 minutes before each walk.
    guest.goto(live_server.url("/feeds"))
    box = guest.locator(".feed-url input").nth(1)  # after "Your plans": the group's address
    address = copy(guest, box)
    _, calendar = fetch_feed(address)
    [event] = events_named(calendar, "Forest walk")
    [alarm] = event.walk("VALARM")
    assert str(alarm["ACTION"]) == "DISPLAY"
    assert alarm["TRIGGER"].dt == -timedelta(minutes=45)
    assert "Phones away" in str(event["DESCRIPTION"])


def test_game_goes_on_as_players_answer(live_server, person):
    host, guest, _, game = group_with_guest(
        live_server,
        person,
        kind="Sports",
        title="Park football",
        details={"Sport": "Football", "Minimum players": "2"},
    )
    status = host.locator(".sports-panel .game-status")
    open_occurrence(host, game, 0)
    expect(status).to_contain_text("Not on yet")
    expect(status).to_contain_text("0 of 2 players")

    answer(host, "Going")
    expect(status).to_contain_text("Not on yet")
    expect(status).to_contain_text("1 of 2 players going: 1 more needed")

    open_occurrence(guest, game, 0)
    answer(guest, "Going")
    expect(guest.locator(".sports-panel .game-status")).to_contain_text("On 2 players going")

    host.reload()
    expect(status).to_contain_text("On")
    expect(status).not_to_contain_text("Not on yet")
    expect(host.locator(".sports-panel .teams")).to_contain_text("Gus Guest")


def test_regular_goes_by_default_and_declines_once(live_server, person):
    host, guest, _, supper = group_with_guest(
        live_server, person, kind="Shared meal", title="Soup night"
    )
    first = open_occurrence(guest, supper, 0)
    guest.get_by_role("button", name="Become a regular").click()
    expect(your_answer(guest)).to_contain_text("You're going")
    expect(your_answer(guest)).to_contain_text("You're a regular")

    # Every later occurrence has the regular's default answer, until they say otherwise.
    second = open_occurrence(guest, supper, 1)
    expect(your_answer(guest)).to_contain_text("You're going")
    answer(guest, "Can't go")
    expect(your_answer(guest)).to_contain_text("You can't go")

    guest.goto(first)
    expect(your_answer(guest)).to_contain_text("You're going")

    # The host sees the regular going to the first and not the second.
    host.goto(first)
    expect(host.locator("#answers .who")).to_contain_text("Gus Guest")
    host.goto(second)
    who = host.locator("#answers .who")
    expect(who.locator("h3", has_text="Can't go")).to_be_visible()
    expect(who).to_contain_text("Gus Guest")
    assert key_of(first) != key_of(second)
