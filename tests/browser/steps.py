"""What a person does in the browser, one function per step, through the real forms.

Every step goes through visible labels and buttons (never a direct POST), so a renamed label
or a broken form fails the journey the way it would fail a person.
"""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from playwright.sync_api import Page, expect

PASSWORD = "correct horse battery"
ZONE = "Europe/Berlin"
WEEKDAYS = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")


def local_today(zone: str = ZONE) -> date:
    return datetime.now(ZoneInfo(zone)).date()


def sign_up(page: Page, url: str, email: str, name: str) -> None:
    """From wherever ``page`` is: open the sign-up form (unless already there) and fill it."""
    if "/signup" not in page.url:
        page.goto(url)
    page.get_by_label("Email").fill(email)
    page.get_by_label("Display name").fill(name)
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_label("Password again").fill(PASSWORD)
    page.get_by_label("Your timezone").select_option(ZONE)
    page.get_by_role("button", name="Create my account").click()
    expect(page.get_by_role("button", name="Log out")).to_be_visible()


def log_in(page: Page, url: str, email: str, password: str = PASSWORD) -> None:
    page.goto(url)
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("button", name="Log out")).to_be_visible()


def create_group(page: Page, url: str, name: str, private: bool = True) -> str:
    """Start a group from the directory page; returns its slug."""
    page.goto(url)
    page.get_by_label("Name").fill(name)
    page.get_by_label("Private" if private else "Public", exact=False).check()
    page.get_by_label("Group timezone").select_option(ZONE)
    page.get_by_role("button", name="Create the group").click()
    expect(page.get_by_role("heading", level=1, name=name)).to_be_visible()
    return page.url.rstrip("/").rsplit("/", 1)[-1]


def create_routine(
    page: Page,
    group_url: str,
    kind: str,
    title: str,
    first: date,
    details: dict[str, str] | None = None,
    checks: dict[str, bool] | None = None,
    time: str = "19:00",
) -> str:
    """A weekly routine from the group page's "New routine" button; returns its page URL.

    ``kind`` is the label in "Kind of activity"; the details fields appear after "Show the
    fields for this kind" (shown once the kind changes), as they do without JavaScript.
    """
    page.goto(group_url)
    page.get_by_role("link", name="New routine").click()
    kinds = page.get_by_label("Kind of activity")
    kinds.select_option(kinds.locator("option", has_text=kind).get_attribute("value"))
    show = page.get_by_role("button", name="Show the fields for this kind")
    if show.is_visible():  # with JavaScript it shows only once the kind differs from the fields
        show.click()
    page.get_by_label("Title").fill(title)
    page.get_by_label("First date").fill(first.isoformat())
    page.get_by_label("Starts at").fill(time)
    page.get_by_label("Every week", exact=False).check()
    for code in WEEKDAYS:
        box = page.locator(f"input[name=weekdays][value={code}]")
        box.set_checked(code == WEEKDAYS[first.weekday()])
    for label, value in (details or {}).items():
        page.get_by_label(label, exact=True).fill(value)
    for label, on in (checks or {}).items():
        page.get_by_label(label, exact=True).set_checked(on)
    page.get_by_role("button", name="Save", exact=True).click()
    expect(page.get_by_role("heading", level=1, name=title)).to_be_visible()
    return page.url


def occurrence_link(page: Page, routine_url: str, nth: int = 0):
    """The ``nth`` upcoming occurrence's link on the routine page."""
    page.goto(routine_url)
    return page.locator("ul.occurrences:not(.past) li.occurrence a").nth(nth)


def open_occurrence(page: Page, routine_url: str, nth: int = 0) -> str:
    occurrence_link(page, routine_url, nth).click()
    expect(page.locator("#answers")).to_be_visible()
    return page.url


def make_invite(page: Page, group_url: str) -> str:
    """Create an invite link and copy it with the page's copy button (or read the box)."""
    page.goto(group_url)
    page.get_by_role("link", name="Invite people").click()
    page.get_by_role("button", name="Create link").click()
    return copy(page, page.get_by_label("Invite link").first)


def copy(page: Page, box) -> str:
    """Press the copy button of a read-only address box and return what landed on the
    clipboard, checked against the box (which a person without JavaScript copies by hand)."""
    origin = re.match(r"https?://[^/]+", page.url).group(0)
    page.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=origin)
    box_id = box.get_attribute("id")
    page.locator(f'button[data-copy="{box_id}"]').click()
    expect(page.locator(f'[data-copied-for="{box_id}"]')).to_have_text("Copied.")
    copied = page.evaluate("() => navigator.clipboard.readText()")
    assert copied == box.input_value()
    return copied


def answer(page: Page, label: str) -> None:
    """Press an answer button in the occurrence page's "Who's coming" panel."""
    page.locator("#answers").get_by_role("button", name=label, exact=True).click()


def your_answer(page: Page):
    return page.locator("#answers .your-answer")


def key_of(url: str) -> str:
    match = re.search(r"/(\d{8}T\d{4})", url)
    assert match, url
    return match.group(1)


def days_ahead(n: int) -> date:
    return local_today() + timedelta(days=n)


def group_with_guest(server, person, guest_options=None, **routine):
    """A host with a private group and one routine (``routine`` as for create_routine, first
    date tomorrow by default), and a guest who joined through an invite link.

    Returns ``(host_page, guest_page, group_url, routine_url)``.
    """
    host, guest = person(), person(**(guest_options or {}))
    sign_up(host, server.url("/signup"), "host@example.org", "Hana Host")
    slug = create_group(host, server.url("/groups/new"), "Neighbours")
    group_url = server.url(f"/g/{slug}")
    routine.setdefault("first", days_ahead(1))
    routine_url = create_routine(host, group_url, **routine)
    invite = make_invite(host, group_url)
    join_by_invite(guest, server, invite, "guest@example.org", "Gus Guest")
    return host, guest, group_url, routine_url


def join_by_invite(page: Page, server, invite: str, email: str, name: str) -> None:
    page.goto(invite)
    page.get_by_role("link", name="Sign up and join").click()
    sign_up(page, server.url("/signup"), email, name)
    expect(page.get_by_text("you are a member")).to_be_visible()
