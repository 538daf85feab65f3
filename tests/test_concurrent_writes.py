"""Ordinary writes at the same moment never fail: 16 people at a time sign up, join a group,
save their profiles, comment and answer, against real servers (werkzeug's threaded server and
gunicorn with four workers) on a SQLite file and on PostgreSQL.

On SQLite these used to answer 500 "database is locked": a deferred transaction that reads
and then writes cannot wait for the lock. Every write request now begins ``IMMEDIATE`` (see
:mod:`planner.db`), so they queue behind the busy timeout. The test counts every 5xx and then
checks that each write is in the database.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import func, select

from planner.models import Comment, Invite, Membership, Rsvp, User
from tests.joining import answer_path, key_of, make_routine, occurrence_path
from tests.test_concurrency import Browser, free_port, wait_until_up

AT_ONCE = 16
VENV_BIN = Path(sys.executable).parent
WERKZEUG = (
    "import sys; from werkzeug.serving import run_simple; from planner import create_app; "
    "run_simple('127.0.0.1', int(sys.argv[1]), create_app(), threaded=True)"
)


def start(kind: str, port: int, database_url: str, instance: Path, log: Path):
    env = {
        **os.environ,
        "PLANNER_DATABASE_URL": database_url,
        "PLANNER_SECRET_KEY": "concurrent-writes-secret",
        "PLANNER_INSTANCE_PATH": str(instance),
        "PLANNER_RATELIMIT_ENABLED": "false",
    }
    if kind == "werkzeug":
        command = [sys.executable, "-c", WERKZEUG, str(port)]
    else:
        command = [
            str(VENV_BIN / "gunicorn"), "--workers", "4", "--bind", f"127.0.0.1:{port}",
            "--timeout", "60", "planner:create_app()",
        ]
    return subprocess.Popen(command, env=env, stdout=log.open("w"), stderr=subprocess.STDOUT)


def at_once(people: list, action: Callable[[int, object], int]) -> list[str]:
    """Run ``action(i, person)`` for everyone at the same moment; the failures, by person."""
    barrier = threading.Barrier(len(people))
    failures: list[str] = []

    def run(i: int, person) -> None:
        barrier.wait()
        try:
            status = action(i, person)
        except Exception as exc:  # a dropped connection is a failed request too
            failures.append(f"{i}: {exc!r}")
            return
        if status >= 400:
            failures.append(f"{i}: {status}")

    threads = [threading.Thread(target=run, args=(i, p)) for i, p in enumerate(people)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    return failures


@pytest.mark.slow
@pytest.mark.parametrize("kind", ["werkzeug", "gunicorn"])
def test_sixteen_at_a_time_sign_up_join_edit_comment_and_answer(
    db, make_user, make_group, database_url, tmp_path, kind
):
    owner = make_user("Owner")
    group = make_group(owner, visibility="private")
    routine = make_routine(db, group, capacity=AT_ONCE // 2)
    invite = Invite(token="crowd-invite-token-0123456789", group_id=group.id)
    db.add(invite)
    db.commit()
    key = key_of(routine)
    log = tmp_path / f"{kind}.log"
    port = free_port()
    server = start(kind, port, database_url, tmp_path / "instance", log)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_until_up(base, server, log)
        browsers = [Browser() for _ in range(AT_ONCE)]
        tokens = [Browser.token(b.get(base + "/signup")) for b in browsers]

        def sign_up(i: int, browser) -> int:
            status, _ = browser.post(base + "/signup", {
                "email": f"crowd{i}@example.org", "display_name": f"Crowd {i}",
                "password": "a long enough password", "confirm": "a long enough password",
                "timezone": "UTC", "csrf_token": tokens[i],
            }, follow=False)
            return status

        failures = {"sign up": at_once(browsers, sign_up)}
        # A new session after sign-up: each form token is read again, as a browser would.
        tokens = [Browser.token(b.get(base + "/account")) for b in browsers]

        def post(path: str, fields: Callable[[int], dict]) -> Callable[[int, object], int]:
            def action(i: int, browser) -> int:
                data = {**fields(i), "csrf_token": tokens[i]}
                return browser.post(base + path, data, follow=False)[0]

            return action

        steps = {
            "join": post(f"/invite/{invite.token}", lambda i: {}),
            "profile": post("/account", lambda i: {"display_name": f"Renamed {i}",
                                                   "timezone": "Europe/Berlin"}),
            "comment": post(occurrence_path(group, routine, key) + "/comments",
                            lambda i: {"body": f"comment {i}"}),
            "answer": post(answer_path(group, routine, key), lambda i: {"status": "going"}),
        }
        for name, action in steps.items():
            failures[name] = at_once(browsers, action)
        output = log.read_text()
        assert not any(failures.values()), f"{failures}\n{output[-3000:]}"
        assert "Traceback" not in output, output[-3000:]
    finally:
        server.terminate()
        try:
            server.wait(20)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()

    db.commit()  # a fresh snapshot: the writes came from the servers
    crowd = list(db.scalars(select(User).where(User.email.like("crowd%@example.org"))))
    assert len(crowd) == AT_ONCE
    ids = [u.id for u in crowd]
    assert sorted(u.display_name for u in crowd) == sorted(f"Renamed {i}" for i in range(AT_ONCE))
    joined = db.scalar(
        select(func.count()).where(Membership.group_id == group.id, Membership.user_id.in_(ids))
    )
    assert joined == AT_ONCE
    assert db.scalar(select(Invite.uses).where(Invite.id == invite.id)) == AT_ONCE
    comments = db.scalar(select(func.count()).where(Comment.user_id.in_(ids)))
    assert comments == AT_ONCE
    answered = db.scalar(select(func.count()).where(Rsvp.user_id.in_(ids)))
    assert answered == AT_ONCE
