"""Issue 15's journey in Chromium: a member gets a reminder (the real minute scan, delivered over
SMTP to a real aiosmtpd), follows its "Were you there?" link, says she was there, adds a good
thing, and finds it under "Last time" on the next date's page (the reminder's own link).
axe-clean on both pages; run once with JavaScript and once without, since the presence and
good-thing forms are plain POST forms.

The dates are real ones around the wall clock (the served pages read it): a daily routine whose
previous date ended an hour ago and whose next starts in 22 hours, and a member reminded 24
hours before.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import expect

from planner.accounts.passwords import hash_password
from planner.db import get_session
from planner.mail.delivery import deliver_due
from planner.models import Group, MailSettings, Membership, Routine, Rsvp, User
from planner.notify import reminders

from .conftest import audit
from .server import LiveServer, make_app
from .steps import PASSWORD, ZONE, log_in

GOOD = "Olga's lentil soup, and we finally finished the puzzle"


@pytest.fixture
def served(tmp_path, smtp):
    app = make_app(tmp_path)
    app.config.update(SMTP_URL=smtp.url, SMTP_CA_FILE=str(smtp.cert))
    with LiveServer(app) as server:
        app.config["SITE_URL"] = server.url("")
        yield app, server
    app.extensions["planner_db"].engine.dispose()


def _world(app) -> dict[str, str]:
    """Olga set up a daily supper; Gina went to today's (over an hour ago) and is going
    tomorrow, reminded 24 hours before; Sam goes tomorrow for the first time."""
    local_now = datetime.now(ZoneInfo(ZONE)).replace(tzinfo=None, second=0, microsecond=0)
    today = local_now - timedelta(hours=2)
    tomorrow = today + timedelta(days=1)
    with app.app_context():
        db = get_session()
        people = {name: User(email=f"{name.lower()}@example.org", display_name=f"{name} Test",
                             password_hash=hash_password(PASSWORD), timezone=ZONE)
                  for name in ("Olga", "Gina", "Sam")}  # fmt: skip
        group = Group(slug="supper", name="Supper Club", visibility="private", timezone=ZONE)
        db.add_all([group, *people.values()])
        db.flush()
        routine = Routine(group_id=group.id, activity_key="gathering", title="Daily supper",
                          timezone=ZONE, start=today - timedelta(days=1), duration_minutes=60,
                          rrule="FREQ=DAILY", created_by_id=people["Olga"].id)  # fmt: skip
        db.add(routine)
        db.flush()
        for name, user in people.items():
            db.add(Membership(group_id=group.id, user_id=user.id,
                              role="owner" if name == "Olga" else "member"))
            db.add(MailSettings(user_id=user.id, reminder="hours", hours_before=24,
                                comments=False))
            db.add(Rsvp(routine_id=routine.id, original_start=tomorrow, user_id=user.id,
                        status="going"))
            if name != "Sam":
                db.add(Rsvp(routine_id=routine.id, original_start=today, user_id=user.id,
                            status="going"))
        db.commit()
    return {name: user.email for name, user in people.items()}


def _reminders(app, smtp) -> dict[str, str]:
    """One minute of the worker: the scan, then delivery; the received plain texts by address."""
    with app.app_context():
        assert reminders.scan(app) == 3
        assert deliver_due(app).sent == 3
    received = smtp.inbox.wait_for(3)
    return {m["To"].addresses[0].addr_spec:
            m.get_body(("plain",)).get_content().replace("\r\n", "\n") for m in received}


@pytest.mark.parametrize("javascript", [True, False], ids=["javascript", "no-javascript"])
def test_from_the_reminder_to_a_good_thing_on_the_next_date(served, smtp, person, axe_source,
                                                           javascript):
    app, server = served
    emails = _world(app)
    mails = _reminders(app, smtp)
    assert "Sam Test is coming for the first time — say hi" in mails[emails["Olga"]]
    text = mails[emails["Gina"]]
    there = re.search(r"Were you there on .*? Say so on that date's page: (\S+)", text)
    assert there, text
    link = there.group(1)
    assert link.startswith(server.url("/g/supper/r/")) and link.endswith("#who-came")
    next_date = re.search(r"The date: (\S+)", text).group(1)

    page = person(java_script_enabled=javascript)
    log_in(page, server.url("/login"), emails["Gina"])
    page.goto(link)
    came = page.locator("#who-came")
    expect(came.get_by_text("Were you there?")).to_be_visible()
    if javascript:
        assert audit(page, axe_source) == []
    else:  # nothing here needs a script: the buttons submit plain POST forms
        forms = page.locator("#who-came form, #good-things form")
        assert forms.count() >= 1
        for n in range(forms.count()):
            assert forms.nth(n).get_attribute("method") == "post"
            assert forms.nth(n).get_attribute("action")
    came.get_by_role("button", name="Yes, I was there").click()
    expect(page.get_by_text("Thanks for saying.")).to_be_visible()
    expect(page.locator("#who-came")).to_contain_text("You said you were there.")

    page.get_by_label("A good thing from this date").fill(GOOD)
    page.locator("#good-things").get_by_role("button", name="Add").click()
    expect(page.get_by_text("Thanks for sharing it.")).to_be_visible()
    expect(page.locator("#good-things")).to_contain_text(GOOD)

    page.goto(next_date)
    last = page.locator("section.last-time")
    expect(last.get_by_role("heading", name="Last time")).to_be_visible()
    expect(last).to_contain_text(GOOD)
    expect(last).to_contain_text("Gina Test")
    if javascript:
        assert audit(page, axe_source) == []
