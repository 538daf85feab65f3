"""Capacity stays exact when many people answer at once: threads, and separate server processes.

Issue 5 point 4: at least 50 distinct members answer "going" to an occurrence of capacity 10 at
the same moment. Exactly 10 must be going, the rest waiting in one consistent order, and every
response must tell its sender the truth (the ten "you're going" answers are the ten going; the
waiting positions 1..N are each reported once and match the final list). No request may fail.

The multi-process test starts two gunicorn servers (two worker processes each, four threads per
worker) on 127.0.0.1 against the test's database, logs every member in through the real login
form and sends the answers with stdlib HTTP clients. CSRF stays ON for the servers: each client
scrapes its token from a page, exactly as a browser form would send it.
"""

from __future__ import annotations

import html
import json
import os
import re
import socket
import sqlite3
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from http.cookiejar import CookieJar
from pathlib import Path

import pytest
from sqlalchemy import select, text
from sqlalchemy.engine import make_url

from planner.db import immediate, make_engine
from planner.joining import answers, locks
from planner.joining.attendance import attendance_of
from planner.models import Rsvp
from planner.testing import FAST_ARGON2
from tests.joining import answer_path, key_of, last_flash, make_routine

MEMBERS = 55
CAPACITY = 10
WAITING = re.compile(r"number (\d+) on the waitlist")
VENV_BIN = Path(sys.executable).parent


def check_consistent(db, routine, reports: dict[int, str]) -> None:
    """Final state exact, and every sender was told the truth about their own answer."""
    db.commit()  # end this session's read snapshot: the answers came from other sessions
    a = attendance_of(db, routine.id, routine.start)
    assert len(a.going) == CAPACITY and a.going_count == CAPACITY
    assert len(a.waitlisted) == MEMBERS - CAPACITY
    told_going = {uid for uid, message in reports.items() if message == "You're going."}
    assert told_going == {p.user_id for p in a.going}
    positions = {}
    for uid, message in reports.items():
        if uid in told_going:
            continue
        match = WAITING.search(message)
        assert match, f"unexpected answer for {uid}: {message!r}"
        positions[int(match.group(1))] = uid
    assert sorted(positions) == list(range(1, MEMBERS - CAPACITY + 1))
    assert [positions[i] for i in sorted(positions)] == [p.user_id for p in a.waitlisted]
    # The order is the arrival order that was stored, not an accident of reading.
    db.expire_all()
    rows = db.scalars(
        select(Rsvp).where(Rsvp.routine_id == routine.id).order_by(Rsvp.answered_at, Rsvp.id)
    ).all()
    assert [r.user_id for r in rows] == [p.user_id for p in a.going + a.waitlisted]


@pytest.fixture
def crowd(db, make_user, make_group):
    owner = make_user("Owner")
    members = [make_user(f"Member {i:02d}") for i in range(MEMBERS)]
    group = make_group(owner, visibility="private", members=members)
    routine = make_routine(db, group, capacity=CAPACITY)
    return group, routine, members


# --------------------------------------------------------------------------- one process, threads


def test_threads_answering_at_once_fill_exactly_the_capacity(db, crowd, as_user):
    group, routine, members = crowd
    clients = {m.id: as_user(m) for m in members}
    path = answer_path(group, routine, key_of(routine))
    barrier = threading.Barrier(MEMBERS)
    reports: dict[int, str] = {}
    errors: list[str] = []

    def go(user_id: int) -> None:
        client = clients[user_id]
        barrier.wait()
        try:
            response = client.post(path, data={"status": "going"})
            if response.status_code != 303:
                errors.append(f"{user_id}: {response.status_code}")
            reports[user_id] = last_flash(client)
        except Exception as exc:  # any crash is a failed request
            errors.append(f"{user_id}: {exc!r}")

    threads = [threading.Thread(target=go, args=(m.id,)) for m in members]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert not errors
    assert len(reports) == MEMBERS
    check_consistent(db, routine, reports)


# --------------------------------------------------------------------------- locks


@pytest.mark.planner_backends("sqlite")
def test_sqlite_immediate_really_takes_the_write_lock(db, database_url):
    path = make_url(database_url).database
    with immediate(db):
        db.execute(text("SELECT 1"))
        other = sqlite3.connect(path, timeout=0, isolation_level=None)
        try:
            with pytest.raises(sqlite3.OperationalError, match="locked"):
                other.execute("BEGIN IMMEDIATE")
        finally:
            other.close()
    other = sqlite3.connect(path, timeout=0, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")  # released at commit
    other.execute("ROLLBACK")
    other.close()


class TestPostgresLockTimeout:
    """The occurrence lock's wait follows ``DATABASE_BUSY_TIMEOUT`` on PostgreSQL too."""

    @pytest.fixture
    def app_config(self, app_config):
        return {**app_config, "DATABASE_BUSY_TIMEOUT": 0.2}

    @pytest.mark.planner_backends("postgres")
    def test_a_lock_timeout_is_a_try_again_page(self, db, database_url, crowd, as_user):
        group, routine, members = crowd
        holder = make_engine(database_url)
        started = time.monotonic()
        try:
            with holder.begin() as conn:
                conn.execute(
                    text("SELECT pg_advisory_xact_lock(:a, :b)"),
                    {"a": routine.id, "b": locks._minutes(routine.start)},
                )
                response = as_user(members[0]).post(
                    answer_path(group, routine, key_of(routine)), data={"status": "going"}
                )
        finally:
            holder.dispose()
        assert response.status_code == 503
        assert "try again" in response.get_data(as_text=True)
        assert attendance_of(db, routine.id, routine.start).going == ()
        # The configured 0.2 s, not the 10 s default (a generous bound for a loaded host).
        assert time.monotonic() - started < 5


def test_busy_becomes_503_never_500(db, crowd, as_user, monkeypatch):
    group, routine, members = crowd

    def busy(*args, **kwargs):
        raise answers.Busy("database is locked")

    monkeypatch.setattr(answers, "answer", busy)
    response = as_user(members[0]).post(
        answer_path(group, routine, key_of(routine)), data={"status": "going"}
    )
    assert response.status_code == 503
    assert response.headers["Retry-After"] == "2"
    assert "please try again" in response.get_data(as_text=True)


# --------------------------------------------------------------------------- separate servers


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, req, fp, code, msg, headers, newurl):
        return None


class Browser:
    """One person's cookie jar against the servers (stdlib only)."""

    def __init__(self):
        self.jar = CookieJar()
        self.follow = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.jar))
        self.stay = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(self.jar), NoRedirect()
        )

    def get(self, url: str) -> str:
        with self.follow.open(url, timeout=60) as response:
            return response.read().decode()

    def post(self, url: str, data: dict, follow: bool = True) -> tuple[int, str]:
        body = urllib.parse.urlencode(data).encode()
        opener = self.follow if follow else self.stay
        try:
            with opener.open(url, body, timeout=60) as response:
                return response.status, response.read().decode()
        except urllib.error.HTTPError as error:  # NoRedirect turns 3xx into HTTPError
            return error.code, error.headers.get("Location", "")

    @staticmethod
    def token(page: str) -> str:
        return re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)


def start_server(port: int, database_url: str, instance: Path, log: Path) -> subprocess.Popen:
    env = {
        **os.environ,
        "PLANNER_DATABASE_URL": database_url,
        "PLANNER_SECRET_KEY": "concurrency-test-shared-secret",
        "PLANNER_INSTANCE_PATH": str(instance),
        "PLANNER_RATELIMIT_ENABLED": "false",
        # The test's cheap hashes as the servers' own cost: at production cost every log-in
        # below upgraded its hash first, which was most of this test's time.
        "PLANNER_ARGON2_PARAMS": json.dumps(FAST_ARGON2),
    }
    command = [
        str(VENV_BIN / "gunicorn"),
        "--workers", "2",
        "--threads", "4",
        "--bind", f"127.0.0.1:{port}",
        "--timeout", "120",
        "planner:create_app()",
    ]
    return subprocess.Popen(command, env=env, stdout=log.open("w"), stderr=subprocess.STDOUT)


def wait_until_up(base: str, process: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"server exited early:\n{log.read_text()[-3000:]}")
        try:
            with urllib.request.urlopen(base + "/login", timeout=2) as response:
                if response.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            time.sleep(0.2)
    pytest.fail(f"server at {base} did not start:\n{log.read_text()[-3000:]}")


@pytest.mark.slow
def test_separate_server_processes_fill_exactly_the_capacity(
    db, crowd, database_url, tmp_path
):
    group, routine, members = crowd
    db.commit()
    servers = []
    try:
        bases = []
        for n in range(2):
            port = free_port()
            log = tmp_path / f"server{n}.log"
            process = start_server(port, database_url, tmp_path / "instance", log)
            servers.append((process, log))
            bases.append(f"http://127.0.0.1:{port}")
        for (process, log), base in zip(servers, bases, strict=True):
            wait_until_up(base, process, log)

        browsers: dict[int, tuple[Browser, str, str]] = {}
        for i, member in enumerate(members):
            base = bases[i % len(bases)]
            browser = Browser()
            token = Browser.token(browser.get(base + "/login"))
            status, _ = browser.post(
                base + "/login",
                {"email": member.email, "password": "password", "csrf_token": token},
            )
            assert status == 200
            # The session is new after logging in, so the form token is read again from a page.
            page_token = Browser.token(browser.get(base + "/"))
            # Answers go to the *other* server than the one that logged the person in.
            browsers[member.id] = (browser, bases[(i + 1) % len(bases)], page_token)

        path = answer_path(group, routine, key_of(routine))
        barrier = threading.Barrier(MEMBERS)
        reports: dict[int, str] = {}
        errors: list[str] = []

        def go(user_id: int) -> None:
            browser, base, token = browsers[user_id]
            barrier.wait()
            try:
                code, location = browser.post(
                    base + path,
                    {"status": "going", "csrf_token": token, "next": "/"},
                    follow=False,
                )
                if code != 303 or not location.endswith("/"):
                    errors.append(f"{user_id}: {code} {location}")
                    return
                page = browser.get(base + "/")
                flash = re.search(r'class="flash flash-success">([^<]+)<', page)
                reports[user_id] = html.unescape(flash.group(1)) if flash else page[:200]
            except Exception as exc:
                errors.append(f"{user_id}: {exc!r}")

        threads = [threading.Thread(target=go, args=(m.id,)) for m in members]
        for t in threads:
            t.start()
        for t in threads:
            t.join(180)
        logs = "\n".join(log.read_text()[-2000:] for _, log in servers)
        assert not errors, logs
        assert "Traceback" not in logs, logs
        check_consistent(db, routine, reports)
    finally:
        for process, _ in servers:
            process.terminate()
        for process, _ in servers:
            try:
                process.wait(20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
