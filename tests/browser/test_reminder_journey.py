"""The demo's evening-before reminder in Chromium: the served demo app on an injected clock runs
the real minute jobs at Ben's reminder hour, the worker writes the mail to ``instance/mail/``,
and the one-click link from that file opens the confirm page; its button answers, and the answer
shows on the page and on the date's page; the same without JavaScript. axe-clean throughout
(audited with JavaScript on: axe-core is a script)."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from email import policy
from email.parser import BytesParser
from pathlib import Path

import pytest
from playwright.sync_api import expect

from planner.db import get_session
from planner.dev.demo import QUIZ_TITLE, REMINDER_HOUR, load_demo
from planner.notify import answer_links
from planner.scheduling.zones import localize
from tests.reminder_world import set_clock, tick

from .conftest import audit
from .pages import log_in_demo
from .server import LiveServer, make_app
from .steps import your_answer

# Monday 10 May 2027, 11:00 in Berlin: the demo's pub quiz is tomorrow evening.
NOW = datetime(2027, 5, 10, 9, 0)
BEN = "ben@example.org"


@pytest.fixture
def reminder_server(tmp_path):
    """The demo on its own SQLite file, loaded and served on the injected clock."""
    app = make_app(tmp_path)
    set_clock(app, NOW)
    with LiveServer(app) as server:
        app.config["SITE_URL"] = server.url("")  # links in mail point at this server
        with app.app_context():
            load_demo(get_session())
        yield server
    app.extensions["planner_db"].engine.dispose()


def reminder_link(app, answer: str) -> str:
    """From the one reminder file for Ben about the quiz, the one-click link for ``answer``
    (told apart by its signed token, not by the mail's wording)."""
    found = []
    for path in sorted((Path(app.instance_path) / "mail").glob("*-reminder.eml")):
        with path.open("rb") as handle:
            message = BytesParser(policy=policy.default).parse(handle)
        if message["To"].addresses[0].addr_spec == BEN and QUIZ_TITLE in message["Subject"]:
            found.append(message)
    assert len(found) == 1, [m["Subject"] for m in found]
    text = found[0].get_body(("plain",)).get_content()
    links = set(re.findall(r"http://127\.0\.0\.1:\d+/a/[\w.\-]+", text))
    with app.app_context():
        wanted = [u for u in links
                  if (read := answer_links.read(u.rsplit("/", 1)[1])) and read[3] == answer]
    assert len(wanted) == 1, text
    return wanted[0]


@pytest.mark.parametrize("javascript", [True, False], ids=["js", "no-js"])
def test_the_demo_reminders_one_click_link_confirms_an_answer(
    reminder_server, person, axe_source, javascript
):
    app = reminder_server.app
    # Ben's hour, 20:00 in Berlin the evening before: the real jobs, then delivery to files.
    due = localize(datetime(2027, 5, 10, REMINDER_HOUR), "Europe/Berlin").astimezone(UTC)
    tick(app, due.replace(tzinfo=None))
    link = reminder_link(app, "maybe")

    # Opened from the mail: no log-in, the date and one confirm button.
    page = person(java_script_enabled=javascript)
    page.goto(link)
    expect(page.get_by_role("heading", level=1)).to_have_text(QUIZ_TITLE)
    expect(page.get_by_text("answering for Ben Okafor")).to_be_visible()
    expect(page.locator("p.when")).to_contain_text("Tue 11 May 2027, 19:30")
    assert not javascript or audit(page, axe_source) == []  # axe needs JavaScript
    page.get_by_role("button", name="Maybe").click()

    expect(page.get_by_role("heading", level=1)).to_have_text(QUIZ_TITLE)
    expect(page.get_by_role("status")).to_have_text("You answered maybe.")
    assert not javascript or audit(page, axe_source) == []

    # Ben's answer on the date's page, logged in.
    page.get_by_role("link", name="See who's going").click()
    occurrence = page.url
    log_in_demo(page, reminder_server, BEN)
    page.goto(occurrence)
    expect(your_answer(page)).to_have_attribute("data-status", "maybe")
    assert not javascript or audit(page, axe_source) == []
