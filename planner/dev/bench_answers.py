"""Answers under load (``make bench`` prints it): 200 people press "going" at the same moment.

On PostgreSQL (a database of its own, made and dropped here) behind the README's production
command, ``gunicorn -w 4`` with its default sync workers: 200 logged-in members POST "going" to
one occurrence with room for 10, each on its own connection opened beforehand, all written
within a millisecond or two by one thread (see :func:`_storm`); then
200 answers spread over 20 occurrences (10 each). Each storm runs ``ROUNDS`` times on fresh
occurrences, because one storm of 200 requests on a 2-core machine is at the mercy of whatever
else the machine does for that second. Printed per round: answers per second (200 / time until
the last response), p50 and p99 latency, and whether the result is exact (10 going, 190 waiting,
the going ones the first ten to arrive); the target is judged on the median round, and every
round must be exact. Without PostgreSQL the section says so and skips.
"""

from __future__ import annotations

import os
import secrets
import selectors
import socket
import statistics
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

from planner.dev import bench_http

PEOPLE = 200
CAPACITY = 10
SPREAD = 20
WORKERS = 4
ROUNDS = 3
WARM_ANSWERS = 40
SERVER = os.environ.get(
    "PLANNER_BENCH_POSTGRES", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)


def _database() -> tuple[str, Any] | None:
    """A fresh database on the server (URL, admin engine), or None when it is not there."""
    from sqlalchemy import create_engine, text
    from sqlalchemy.exc import OperationalError

    try:
        admin = create_engine(
            SERVER, isolation_level="AUTOCOMMIT", connect_args={"connect_timeout": 3}
        )
        name = "planner_bench_" + secrets.token_hex(4)
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    except (OperationalError, ImportError) as error:
        print(f"Answers: skipped, PostgreSQL is not reachable at {SERVER} ({type(error).__name__}"
              "; set PLANNER_BENCH_POSTGRES).")
        return None
    return SERVER.rsplit("/", 1)[0] + "/" + name, admin


def _setup(app: Any) -> tuple[str, list[tuple[str, str]], list[str]]:
    """The group, a weekly routine with room for 10, 200 members with session cookies and
    CSRF tokens; returns the group's slug, the (cookie, token) pairs and the occurrence keys
    (one to warm up on, then for each round one for the first storm and SPREAD for the second)."""
    from flask import session as flask_session
    from flask_wtf.csrf import generate_csrf

    from planner.db import get_session
    from planner.models import Group, Membership, Routine, User
    from planner.routines.occurrences import routine_occurrences, utc_now
    from planner.web.login_session import start_session

    with app.app_context():
        db = get_session()
        group = Group(slug="busy", name="Busy group", visibility="public", timezone="UTC")
        db.add(group)
        db.flush()
        start = (utc_now() + timedelta(days=2)).replace(tzinfo=None, hour=19, minute=0,
                                                        second=0, microsecond=0)
        routine = Routine(group_id=group.id, activity_key="gathering", title="Match",
                          timezone="UTC", start=start, duration_minutes=90,
                          rrule="FREQ=WEEKLY", capacity=CAPACITY)  # fmt: skip
        users = [User(email=f"p{n}@bench.invalid", display_name=f"Player {n}",
                      password_hash="x", timezone="UTC") for n in range(PEOPLE)]  # fmt: skip
        db.add_all([routine, *users])
        db.flush()
        db.add_all(Membership(group_id=group.id, user_id=u.id, role="member") for u in users)
        db.commit()
        needed = 1 + ROUNDS * (1 + SPREAD)
        keys = [o.key for o in routine_occurrences(routine, future=needed)[0]][:needed]
        ids = [u.id for u in users]
    people = []
    name = app.config["SESSION_COOKIE_NAME"]
    for user_id in ids:
        with app.test_request_context("/"):
            user = get_session().get(User, user_id)
            assert user is not None
            start_session(user)
            token = generate_csrf()
            cookie = app.session_interface.get_signing_serializer(app).dumps(dict(flask_session))
            people.append((f"{name}={cookie}", token))
    return "busy", people, keys


def _storm(port: int, paths: list[str], people: list[tuple[str, str]]) -> list[float]:
    """Every person POSTs "going" to their path at once; their latencies in seconds.

    One thread and a selector: every connection is opened first, then each request is written
    in one ``send`` (a few microseconds apiece, so all 200 are out within a millisecond or two)
    and the responses are read as they come. The client shares the two cores with the servers
    and PostgreSQL, and 200 threads with ``http.client`` spent 1 to 1.5 ms of CPU per answer
    taking turns on the GIL: what the client burns is taken from the servers it measures.
    """
    socks: list[socket.socket] = []
    requests: list[bytes] = []
    for n, path in enumerate(paths):
        cookie, token = people[n]
        body = f"status=going&guests=0&csrf_token={token}".encode()
        head = (f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nCookie: {cookie}\r\n"
                "Content-Type: application/x-www-form-urlencoded\r\n"
                f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n")
        sock = socket.create_connection(("127.0.0.1", port), timeout=60)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        socks.append(sock)
        requests.append(head.encode() + body)
    latencies = [0.0] * len(socks)
    received = [b""] * len(socks)
    selector = selectors.DefaultSelector()
    try:
        started = time.perf_counter()
        for n, sock in enumerate(socks):
            sock.sendall(requests[n])  # a few hundred bytes: the socket's buffer takes them
            sock.setblocking(False)
            selector.register(sock, selectors.EVENT_READ, n)
        waiting = len(socks)
        deadline = started + 60
        while waiting:
            events = selector.select(timeout=max(0.0, deadline - time.perf_counter()))
            if not events:
                raise RuntimeError(f"{waiting} answers had no response within 60 s")
            for key, _ in events:
                n = key.data
                chunk = socks[n].recv(65536)
                received[n] += chunk
                if chunk and not _complete(received[n]):
                    continue
                latencies[n] = time.perf_counter() - started
                selector.unregister(socks[n])
                # Closed at once, as a browser does on "Connection: close": gunicorn's sync
                # worker lingers up to 2 s after its response for the client's FIN (its
                # ``close_graceful``), so an open socket held a worker that long.
                socks[n].close()
                waiting -= 1
    finally:
        selector.close()
        for sock in socks:
            sock.close()
    errors = [f"{paths[n]}: {r[:40]!r}" for n, r in enumerate(received)
              if not r.startswith((b"HTTP/1.1 303", b"HTTP/1.0 303"))]
    if errors:
        raise RuntimeError(f"{len(errors)} answers failed, first: {errors[0]}")
    return latencies


def _complete(response: bytes) -> bool:
    """Whether ``response`` holds a whole HTTP response (its headers and Content-Length)."""
    head, sep, body = response.partition(b"\r\n\r\n")
    if not sep:
        return False
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            return len(body) >= int(value)
    return False  # no length: the server closes the connection when it is done


def _exact(app: Any, keys: list[str], per: int) -> bool:
    from sqlalchemy import select

    from planner.db import get_session
    from planner.joining.attendance import attendance_of
    from planner.models import Routine, Rsvp
    from planner.scheduling.recurrence import parse_key

    ok = True
    with app.app_context():
        db = get_session()
        routine = db.scalars(select(Routine)).one()
        for key in keys:
            when = parse_key(key)
            found = attendance_of(db, routine.id, when)
            arrivals = list(db.scalars(select(Rsvp.user_id).where(
                Rsvp.routine_id == routine.id, Rsvp.original_start == when,
            ).order_by(Rsvp.answered_at, Rsvp.id)))  # fmt: skip
            going = [p.user_id for p in found.going]
            waiting = [p.user_id for p in found.waitlisted]
            ok = ok and len(going) == min(per, CAPACITY) and len(waiting) == per - len(going)
            ok = ok and going + waiting == arrivals
    return ok


def _figures(latencies: list[float]) -> tuple[float, float, float]:
    """(answers per second, p50, p99) of one storm."""
    ordered = sorted(latencies)
    p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]
    return len(ordered) / ordered[-1], statistics.median(ordered), p99


def _report(name: str, rounds: list[tuple[list[float], bool]], target: float) -> None:
    """One line per round, then the verdict on the median round (by rate)."""
    figures = [(*_figures(latencies), exact) for latencies, exact in rounds]
    for n, (rate, p50, p99, exact) in enumerate(figures, 1):
        print(f"  {name:<34} round {n}: {rate:6.1f} answers/s  p50 {p50:5.2f} s  "
              f"p99 {p99:5.2f} s  exact: {'yes' if exact else 'NO'}")
    rate, _p50, p99, _ = sorted(figures)[len(figures) // 2]
    exact = all(f[3] for f in figures)
    latency = target != 150 or p99 < 1.5
    met = rate >= target and latency and exact
    print(f"  {name:<34} median {rate:6.1f} answers/s, p99 {p99:.2f} s, "
          f"{'all rounds exact' if exact else 'NOT EXACT'}; target >= {target:g}/s"
          f"{' with p99 < 1.5 s' if target == 150 else ''}: {'met' if met else 'NOT MET'}")


def main_section(seconds: float = 0.0) -> None:
    made = _database()
    if made is None:
        return
    url, admin = made
    import tempfile

    from sqlalchemy import text

    from planner import create_app, models  # noqa: F401
    from planner.db import Base, make_engine

    try:
        engine = make_engine(url)
        Base.metadata.create_all(engine)
        engine.dispose()
        with tempfile.TemporaryDirectory(prefix="planner-bench-answers-") as tmp:
            config = {"DATABASE_URL": url, "INSTANCE_PATH": tmp, "RATELIMIT_ENABLED": False,
                      "SECRET_KEY": "bench-" + secrets.token_hex(8), "REDIS_URL": None}
            app = create_app(config)
            slug, people, keys = _setup(app)
            static = Path(tmp) / "static.ics"
            static.write_bytes(b"")
            env: dict[str, str] = {"PLANNER_DATABASE_URL": url, "PLANNER_INSTANCE_PATH": tmp,
                   "PLANNER_SECRET_KEY": str(config["SECRET_KEY"]),
                   "PLANNER_RATELIMIT_ENABLED": "false", "PLANNER_REDIS_URL": "null",
                   "PLANNER_BENCH_STATIC": str(static)}  # fmt: skip
            print(f"Answers: PostgreSQL, gunicorn -w {WORKERS} (sync workers), {PEOPLE} members "
                  f"each on their own connection, released at once, {ROUNDS} rounds. Load "
                  f"average before: {' '.join(f'{x:.2f}' for x in os.getloadavg())}.")
            one: list[tuple[list[float], bool]] = []
            spread: list[tuple[list[float], bool]] = []
            with bench_http.gunicorn(env, workers=WORKERS, threads=0) as port:
                base = f"/g/{slug}/r/1/"
                # Warm every worker (imports, first connections) before timing: a member's
                # GET of an occurrence no storm answers opens each worker's database
                # connections and runs the statements an answer starts with (the bare
                # endpoint alone left both to the first storm).
                bench_http.rate(f"http://127.0.0.1:{port}/bench/trivial", {}, 1.0)
                warm = f"http://127.0.0.1:{port}{base}{keys[0]}"
                bench_http.rate(warm, {"Cookie": people[0][0]}, 1.0)
                # And the answer's own statements: psycopg prepares a statement on its fifth
                # run per connection, so the first storm also paid for planning what a
                # server that has been up a while runs prepared. 40 answers to that same
                # occurrence, as a storm of its own (not timed), give each worker ten.
                _storm(port, [base + keys[0] + "/answer"] * WARM_ANSWERS, people[:WARM_ANSWERS])
                for n in range(ROUNDS):
                    first = 1 + n * (1 + SPREAD)
                    mine = keys[first : first + 1 + SPREAD]
                    latencies = _storm(port, [base + mine[0] + "/answer"] * PEOPLE, people)
                    one.append((latencies, _exact(app, mine[:1], PEOPLE)))
                    paths = [base + mine[1 + k % SPREAD] + "/answer" for k in range(PEOPLE)]
                    latencies = _storm(port, paths, people)
                    spread.append((latencies, _exact(app, mine[1:], PEOPLE // SPREAD)))
            _report("200 answers to one occurrence", one, 150)
            _report(f"200 answers over {SPREAD} occurrences", spread, 300)
            print(f"  load average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
            app.extensions["planner_db"].engine.dispose()
    finally:
        name = url.rsplit("/", 1)[1]
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
