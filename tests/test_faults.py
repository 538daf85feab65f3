"""Faults degrade gently: a database that is down, or is not a database, is a 503 with
``Retry-After`` and a page that needs no database, within seconds, for anonymous and logged-in
visitors alike. (Redis down: ``tests/test_hardening.py::test_redis_down_log_in_still_works``.)

Every fault is real: a port nobody listens on, a socket server that answers garbage, one that
accepts and never answers, a SQLite file in a folder that does not exist.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress

import pytest

from planner import create_app
from planner.testing import Auth

LIMIT = 10  # seconds: the bound on any fault


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]  # closed again when the block ends: nobody listens


@contextmanager
def fake_server(reply: bytes | None) -> Iterator[int]:
    """A TCP server that writes ``reply`` to every connection (None: says nothing at all)."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)
    listener.settimeout(0.2)
    stop = threading.Event()
    held: list[socket.socket] = []

    def serve() -> None:
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            held.append(conn)
            if reply is not None:
                with suppress(OSError):
                    conn.sendall(reply)

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield listener.getsockname()[1]
    finally:
        stop.set()
        thread.join(2)
        for conn in held:
            conn.close()
        listener.close()


def broken_app(tmp_path, url: str):
    return create_app({
        "TESTING": False,  # errors go through the handlers, as in production
        "DATABASE_URL": url,
        "DATABASE_CONNECT_TIMEOUT": 2,
        "SECRET_KEY": "faults",
        "INSTANCE_PATH": str(tmp_path / "instance"),
        "RATELIMIT_ENABLED": False,
        "WTF_CSRF_ENABLED": False,
    })


def logged_in_cookie(app, make_user) -> str:
    """A session cookie from the working app (same secret): a visitor who was logged in."""
    user = make_user("Nina")
    client = app.test_client()
    Auth(client).login(user)
    cookie = client.get_cookie("session", domain=app.config["SERVER_NAME"])
    assert cookie is not None
    return cookie.value


def check_unavailable(app, cookie: str | None) -> None:
    client = app.test_client()
    if cookie:
        client.set_cookie("session", cookie, domain=app.config["SERVER_NAME"])
    # Each request against a silent server waits the whole connect timeout (2 s, libpq's
    # minimum): a logged-in visitor's pages are two, so the test stays well under 10 s.
    for path in ("/groups", "/account") if cookie else ("/", "/groups", "/account"):
        started = time.monotonic()
        response = client.get(path)
        elapsed = time.monotonic() - started
        assert elapsed < LIMIT, f"{path}: {elapsed:.1f} s"
        if not cookie and path != "/groups":
            # Pages that need no database still work for anonymous visitors.
            assert response.status_code in (200, 302), (path, response.status_code)
            continue
        assert response.status_code == 503, (path, response.status_code)
        assert response.headers["Retry-After"].isdigit()
        body = response.get_data(as_text=True)
        assert "cannot reach its database" in body and "</html>" in body
        assert "Internal Server Error" not in body
        assert response.headers["Content-Security-Policy"]
    missing = client.get("/no-such-page")  # the 404 page asks who is logged in
    assert missing.status_code == (503 if cookie else 404)
    text = client.get("/groups", headers={"Accept": "text/plain"})
    assert text.status_code == 503 and text.content_type.startswith("text/plain")


FAULTS = {
    "closed port": lambda stack: f"postgresql+psycopg://planner@127.0.0.1:{closed_port()}/x",
    "garbage": lambda stack: "postgresql+psycopg://planner@127.0.0.1:{}/x".format(
        stack(fake_server(b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello" * 20))
    ),
    "silent": lambda stack: f"postgresql+psycopg://planner@127.0.0.1:{stack(fake_server(None))}/x",
    "sqlite folder gone": lambda stack: "sqlite:////nonexistent-planner-folder/db.sqlite3",
}


@pytest.mark.planner_backends("sqlite")  # the working app only mints the cookie
@pytest.mark.parametrize("fault", list(FAULTS))
@pytest.mark.parametrize("visitor", ["anonymous", "logged in"])
def test_database_fault_is_a_503_within_seconds(app, make_user, tmp_path, fault, visitor):
    from contextlib import ExitStack

    cookie = logged_in_cookie(app, make_user) if visitor == "logged in" else None
    with ExitStack() as stack:
        url = FAULTS[fault](stack.enter_context)
        broken = broken_app(tmp_path, url)
        broken.config["SERVER_NAME"] = app.config["SERVER_NAME"]
        if cookie:
            broken.config["SECRET_KEY"] = app.config["SECRET_KEY"]
        check_unavailable(broken, cookie)


class TestLockedSqlite:
    """A write that cannot get SQLite's lock within the busy timeout is a 503 that saved
    nothing, never a 500."""

    @pytest.fixture
    def app_config(self, app_config):
        return {**app_config, "DATABASE_BUSY_TIMEOUT": 0.5}

    @pytest.mark.planner_backends("sqlite")
    def test_a_write_behind_a_held_lock_is_a_503_and_saves_nothing(
        self, app, db, database_url, as_user, make_user
    ):
        import sqlite3

        from sqlalchemy.engine import make_url

        from planner.models import User

        user = make_user("Nina")
        user_id = user.id
        client = as_user(user)
        db.commit()
        holder = sqlite3.connect(make_url(database_url).database, isolation_level=None)
        holder.execute("BEGIN IMMEDIATE")  # another process in the middle of a long write
        try:
            started = time.monotonic()
            response = client.post("/account", data={"display_name": "Renamed",
                                                      "timezone": "UTC"})
            elapsed = time.monotonic() - started
        finally:
            holder.execute("ROLLBACK")
            holder.close()
        assert response.status_code == 503
        assert response.headers["Retry-After"].isdigit()
        assert "try again" in response.get_data(as_text=True)
        assert elapsed < LIMIT
        db.rollback()
        assert db.get(User, user_id).display_name == "Nina"
