"""The newcomer's path, as the acceptance reads: ``planner run`` with the consumer in its own
process (what ``make run`` starts), sign up, "Forgot your password?": an ``.eml`` file appears
in ``instance/mail/`` within seconds, its link resets the password, and fails when used again.
CSRF is on, as in a real browser session (stdlib HTTP, tokens scraped from the forms)."""

from __future__ import annotations

import email
import email.policy
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest

from planner.migrate import upgrade
from tests.test_concurrency import Browser, free_port, wait_until_up

VENV_BIN = Path(sys.executable).parent


def wait_for_file(folder: Path, pattern: str, seconds: float = 15.0) -> Path:
    """Another process writes it: look until the deadline (this drives no clock)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        found = sorted(folder.glob(pattern))
        if found:
            return found[0]
        time.sleep(0.1)
    pytest.fail(f"no {pattern} in {folder} after {seconds} s")


@pytest.mark.slow
@pytest.mark.planner_backends("sqlite")
def test_make_run_delivers_the_reset_mail_as_a_file_and_the_link_works_once(tmp_path):
    instance = tmp_path / "instance"
    url = f"sqlite:///{instance / 'planner.sqlite3'}"
    instance.mkdir()
    upgrade(url)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = {**os.environ, "PLANNER_INSTANCE_PATH": str(instance), "PLANNER_MAIL_IN_PROCESS": "true",
           "PLANNER_SITE_URL": base, "PLANNER_RATELIMIT_ENABLED": "false"}
    for name in ("PLANNER_DATABASE_URL", "PLANNER_REDIS_URL", "PLANNER_SMTP_URL"):
        env.pop(name, None)
    log = tmp_path / "run.log"
    with log.open("wb") as out:
        server = subprocess.Popen(
            [str(VENV_BIN / "planner"), "run", "--host", "127.0.0.1", "--port", str(port)],
            env=env, stdout=out, stderr=subprocess.STDOUT,
        )
        try:
            wait_until_up(base, server, log)
            person = Browser()
            page = person.get(base + "/signup")
            status, _ = person.post(base + "/signup", {
                "csrf_token": Browser.token(page), "email": "new@example.org",
                "display_name": "Newcomer", "password": "first password",
                "confirm": "first password", "timezone": "Europe/Berlin",
            }, follow=False)
            assert status == 302
            stranger = Browser()  # logged out, on another device
            page = stranger.get(base + "/login")
            assert "Forgot your password?" in page
            page = stranger.get(base + "/password/forgot")
            status, _ = stranger.post(base + "/password/forgot", {
                "csrf_token": Browser.token(page), "email": "new@example.org",
            }, follow=False)
            assert status == 302
            path = wait_for_file(instance / "mail", "*-reset.eml")
            with path.open("rb") as handle:
                message = email.message_from_binary_file(handle, policy=email.policy.default)
            text = message.get_body(("plain",)).get_content()
            link = re.search(re.escape(base) + r"/password/reset/\S+", text).group(0)
            page = stranger.get(link)
            fields = {"csrf_token": Browser.token(page), "password": "second password",
                      "confirm": "second password"}
            assert stranger.post(link, fields, follow=False)[0] == 302
            again = Browser()
            page = again.get(base + "/password/forgot")  # any page: a session with a token
            fields["csrf_token"] = Browser.token(page)
            assert again.post(link, fields, follow=False)[0] == 400
            assert f"written to {path}" in log.read_text()  # the log says where
        finally:
            server.terminate()
            server.wait(20)
