"""The reset mail end to end in Chromium: the served app (CSRF on) queues it, huey's consumer in
threads delivers it over STARTTLS with AUTH to a real aiosmtpd, and the person follows the link
from the received message to choose a new password; the link then fails if used again."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from planner import create_app
from planner.mail.queue import start_in_threads
from planner.migrate import upgrade
from planner.testing import FAST_ARGON2

from .server import LiveServer
from .steps import log_in, sign_up

LINK = re.compile(r"http://127\.0\.0\.1:\d+/password/reset/[\w.\-]+")


@pytest.fixture
def mail_server(tmp_path, smtp):
    url = f"sqlite:///{tmp_path / 'browser.sqlite3'}"
    upgrade(url)
    app = create_app({
        "DATABASE_URL": url,
        "INSTANCE_PATH": str(tmp_path / "instance"),
        "SECRET_KEY": "browser-mail-tests",
        "ARGON2_PARAMS": FAST_ARGON2,
        "RATELIMIT_ENABLED": False,
        "SMTP_URL": smtp.url,
        "SMTP_CA_FILE": str(smtp.cert),
        "MAIL_FROM": "Planner <planner@example.org>",
    })
    with LiveServer(app) as server:
        app.config["SITE_URL"] = server.url("")
        consumer = start_in_threads(app)
        try:
            yield server
        finally:
            consumer.stop(graceful=True)
    app.extensions["planner_db"].engine.dispose()


def test_forgot_password_mail_arrives_over_smtp_and_its_link_works_once(
    mail_server, smtp, person
):
    page = person()
    sign_up(page, mail_server.url("/signup"), "nora@example.org", "Nora")
    page.get_by_role("button", name="Log out").click()
    page.goto(mail_server.url("/login"))
    page.get_by_role("link", name="Forgot your password?").click()
    page.get_by_label("Email").fill("nora@example.org")
    page.get_by_role("button", name="Mail me a link").click()
    expect(page.get_by_text("If an account has that address")).to_be_visible()

    received = smtp.inbox.wait_for(2)  # sign-up's "confirm your address", then the reset
    assert received[0]["Subject"].startswith("Confirm your address")
    [message] = [m for m in received if m["Subject"].startswith("Reset your")]
    assert message["To"] == "nora@example.org"
    assert message["Auto-Submitted"] == "auto-generated"
    assert message["Message-ID"] and message["Date"]
    assert message.get_content_type() == "multipart/alternative"
    text = message.get_body(("plain",)).get_content()
    html = message.get_body(("html",)).get_content()
    [link] = set(LINK.findall(text))
    assert link in html

    page.goto(link)
    page.get_by_label("New password", exact=True).fill("a fresh password")
    page.get_by_label("New password again").fill("a fresh password")
    page.get_by_role("button", name="Set the new password").click()
    expect(page.get_by_text("Your password is changed, and you are logged in.")).to_be_visible()
    page.get_by_role("button", name="Log out").click()
    log_in(page, mail_server.url("/login"), "nora@example.org", "a fresh password")
    page.get_by_role("button", name="Log out").click()

    page.goto(link)
    expect(page.get_by_text("This reset link was already used")).to_be_visible()
