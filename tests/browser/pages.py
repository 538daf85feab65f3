"""The main pages of the app on the demo data, found by clicking as a person would.

Audited (axe), measured (no sideways scroll) and photographed (``make screenshots``) from the
same list, so a page added here is checked everywhere.
"""

from __future__ import annotations

from dataclasses import dataclass

from .server import DEMO_PASSWORD

SUPPER = "thursday-supper-club"
DEMO_EMAIL = "ben@example.org"  # organizer of the supper club, owner of the football group


@dataclass(frozen=True)
class MainPage:
    name: str
    path: str
    logged_in: bool


VISITOR_PAGES = [
    MainPage("start", "/", False),
    MainPage("signup", "/signup", False),
    MainPage("login", "/login", False),
]


def log_in_demo(page, server, email: str = DEMO_EMAIL) -> None:
    page.goto(server.url("/login"))
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.get_by_role("button", name="Log out").wait_for()


def member_pages(page, server) -> list[MainPage]:
    """Pages seen logged in; ``page`` must be logged in as the demo owner. Routine and
    occurrence addresses are read from the group page's links, never built by hand."""
    page.goto(server.url(f"/g/{SUPPER}"))
    supper_occurrence = page.locator("ul.upcoming a", has_text="Thursday supper").first
    occurrence = supper_occurrence.get_attribute("href")
    routine = occurrence.rsplit("/", 1)[0]
    walk = page.locator("ul.upcoming a", has_text="walk").first.get_attribute("href")
    cancelled = page.locator("li.status-cancelled a").first.get_attribute("href")
    changed = page.locator("li.status-changed a").first.get_attribute("href")
    page.goto(server.url(routine))
    # The latest past supper: who came and its good things.
    past = page.locator("ul.occurrences.past a").first.get_attribute("href")
    page.goto(server.url(f"/g/{SUPPER}/members"))
    # A fellow member's page (shared history) and one's own (own dates, buddy, check-ins).
    fellow = page.locator("ul.members a", has_text="Ada").first.get_attribute("href")
    own = page.locator("ul.members a", has_text="Ben").first.get_attribute("href")
    football = server.url("/g/sunday-football")
    page.goto(football)
    game = page.locator("ul.upcoming a", has_text="kick-about").first.get_attribute("href")
    return [
        MainPage("dashboard", "/", True),
        MainPage("my-groups", "/groups/mine", True),
        MainPage("directory", "/groups", True),
        MainPage("group", f"/g/{SUPPER}", True),
        MainPage("members", f"/g/{SUPPER}/members", True),
        MainPage("member-history", fellow, True),
        MainPage("own-history", own, True),
        MainPage("invites", f"/g/{SUPPER}/invites", True),
        MainPage("new-group", "/groups/new", True),
        MainPage("routine-form", f"/g/{SUPPER}/routines/new", True),
        MainPage("routine", routine, True),
        MainPage("occurrence", occurrence, True),
        MainPage("past-occurrence", past, True),
        MainPage("walk-occurrence", walk, True),
        MainPage("cancelled-occurrence", cancelled, True),
        MainPage("changed-occurrence", changed, True),
        MainPage("change-date", f"{occurrence}/change", True),
        MainPage("slots", f"{routine}/slots", True),
        MainPage("upcoming", f"/g/{SUPPER}/upcoming", True),
        MainPage("game-occurrence", game, True),
        MainPage("account", "/account", True),
        MainPage("subscribe", "/feeds", True),
        MainPage("group-subscribe", f"/feeds/g/{SUPPER}/subscribe", True),
    ]
