"""Feed benchmark (``make bench``): prints figures, asserts nothing.

A reference group (50 weekly routines, each with 10 changed and 10 cancelled upcoming
occurrences) in a fresh SQLite file. Measured:

* in process: the cold render (feed cache empty: load from the database, build, serialize) and
  the same calendar built naively with icalendar (``Event.add`` for every property,
  ``add_missing_timezones()`` with its default 1970-2038 range, ``to_ical()``) from the same
  rows, both with and without the database load;
* over HTTP, on a real threaded werkzeug server on 127.0.0.1 in a separate process, with one
  keep-alive connection (the load generator is this module's own ``http.client`` loop): a
  trivial Flask endpoint on the same app (for scale), the feed's bytes sent as a static
  response, a warm feed GET (cached bytes), the same gzipped, a 304 GET (If-None-Match), a
  cold GET (version bumped before each one), and the group, routine and occurrence pages;
  rates are printed as fractions of the trivial endpoint's, measured in the same run.

Not here yet (issue 14): gunicorn -w 2 with 8 connections, Radicale side by side, and
concurrent answers on PostgreSQL.

Targets (docs/feeds.md): warm and 304 GETs within 2x of the trivial endpoint; cold render at
least 3x faster than the naive build.
"""

from __future__ import annotations

import argparse
import http.client
import multiprocessing
import secrets
import socket
import statistics
import tempfile
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from planner.dev.bench_naive import naive_calendar

ROUTINES = 50
CHANGED = 10
CANCELLED = 10
ZONE = "Europe/Berlin"
SLUG = "reference"


def _config(instance: Path) -> dict[str, Any]:
    return {
        "DATABASE_URL": f"sqlite:///{instance / 'bench.sqlite3'}",
        "INSTANCE_PATH": str(instance),
        "SECRET_KEY": "bench-" + secrets.token_hex(8),
        "RATELIMIT_ENABLED": False,
        "REDIS_URL": None,
    }


def populate(session) -> int:
    """The reference group; returns its id. Overrides fall inside the feed's window."""
    from planner.models import Group, Override, Routine

    group = Group(slug=SLUG, name="Reference group", visibility="public", timezone=ZONE)
    session.add(group)
    session.flush()
    today = datetime.now(ZoneInfo(ZONE)).replace(tzinfo=None, hour=0, minute=0, second=0)
    today = today.replace(microsecond=0)
    for i in range(ROUTINES):
        start = today - timedelta(weeks=52) + timedelta(days=i % 7, hours=17 + i % 4)
        routine = Routine(
            group_id=group.id,
            activity_key="gathering",
            title=f"Routine {i}: supper, games; talk",
            description="Bring something to share.\nEveryone welcome.",
            location="Community hall, room 2",
            timezone=ZONE,
            start=start,
            duration_minutes=120,
            rrule="FREQ=WEEKLY",
        )
        session.add(routine)
        session.flush()
        first = start + timedelta(weeks=52)
        for w in range(CHANGED + CANCELLED):
            original = first + timedelta(weeks=w)
            if w % 2:
                session.add(Override(routine_id=routine.id, original_start=original,
                                     status="cancelled"))
            else:
                session.add(
                    Override(
                        routine_id=routine.id,
                        original_start=original,
                        status="changed",
                        start=original + timedelta(hours=1),
                        title=f"Routine {i} (moved)",
                        note="A different room this time.",
                        sequence=1,
                    )
                )
    session.commit()
    return group.id


def _median_ms(fn: Callable[[], Any], runs: int) -> tuple[float, Any]:
    times, result = [], None
    for _ in range(runs):
        start = time.perf_counter()
        result = fn()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times), result


def _paired_ms(a: Callable[[], Any], b: Callable[[], Any], runs: int) -> tuple[float, float]:
    """Medians of two functions run alternately, so a busy machine slows both alike."""
    times_a, times_b = [], []
    for _ in range(runs):
        times_a.append(_median_ms(a, 1)[0])
        times_b.append(_median_ms(b, 1)[0])
    return statistics.median(times_a), statistics.median(times_b)


def in_process(app, group_id: int, runs: int) -> dict[str, float]:
    from planner.db import get_session
    from planner.feeds import sources as feed_sources
    from planner.feeds import vtimezone
    from planner.models import Group
    from planner.routines.occurrences import load_routines
    from planner_plugins.ical import ICS

    base = "http://127.0.0.1"
    figures: dict[str, float] = {}
    with app.test_request_context("/", base_url=base):
        session = get_session()
        group = session.get(Group, group_id)
        if group is None:
            raise SystemExit(f"no group with id {group_id}")
        win = feed_sources.window()

        def ours():
            session.expunge_all()
            return ICS.render(feed_sources.group_feed(session, group, base, win))

        def naive():
            session.expunge_all()
            return naive_calendar(load_routines(session, group_id, since=win.start), base)

        vtimezone._cached.cache_clear()
        figures["first render ever (zone not yet cached) ms"], body = _median_ms(ours, 1)
        figures["feed size KB"] = len(body) / 1024
        figures["events"] = body.count(b"BEGIN:VEVENT")
        figures["naive size KB"] = len(naive()) / 1024
        figures["cold render ms"], figures["naive build ms"] = _paired_ms(ours, naive, runs)

        session.expunge_all()
        routines = load_routines(session, group_id, since=win.start)
        feed = feed_sources.group_feed(session, group, base, win)

        def ours_render_only():
            feed._calendar = None
            return ICS.render(feed)

        (
            figures["cold render without DB load ms"],
            figures["naive build without DB load ms"],
        ) = _paired_ms(ours_render_only, lambda: naive_calendar(routines, base), runs)
    return figures


def _serve(config: dict[str, Any], port: int) -> None:
    import logging

    from werkzeug.serving import make_server

    from planner import create_app

    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # no line per request

    app = create_app(config)
    app.add_url_rule("/bench/trivial", "bench_trivial", lambda: "ok")
    static: dict[str, bytes] = {}

    def static_calendar():
        from flask import Response

        return Response(static["body"], content_type="text/calendar; charset=utf-8")

    app.add_url_rule("/bench/static", "bench_static", static_calendar)
    # The group feed's bytes as a static file would send them: read once, then only sent.
    static["body"] = app.test_client().get(f"/feeds/g/{SLUG}.ics").data
    make_server("127.0.0.1", port, app, threaded=True).serve_forever()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wait(port: int) -> None:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError("the benchmark server did not start")


def _first_occurrence_path(config: dict[str, Any]) -> str:
    """The next occurrence of the first routine (its page is the occurrence page figure)."""
    from planner import create_app
    from planner.db import get_session
    from planner.models import Routine
    from planner.routines.occurrences import routine_occurrences

    app = create_app(config)
    with app.app_context():
        routine = get_session().get(Routine, 1)
        assert routine is not None
        upcoming, _ = routine_occurrences(routine)
        path = f"/g/{SLUG}/r/{routine.id}/{upcoming[0].key}"
    app.extensions["planner_db"].engine.dispose()
    return path


def _body(conn: http.client.HTTPConnection, path: str, headers: dict[str, str]) -> bytes:
    conn.request("GET", path, headers=headers)
    return conn.getresponse().read()


def over_http(config: dict[str, Any], group_id: int, requests: int) -> dict[str, float]:
    from sqlalchemy import update

    from planner.db import make_engine
    from planner.models import Group

    port = _free_port()
    server = multiprocessing.get_context("fork").Process(
        target=_serve, args=(config, port), daemon=True
    )
    server.start()
    try:
        _wait(port)
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        engine = make_engine(config["DATABASE_URL"])

        def get(path: str, headers: dict[str, str] | None = None) -> http.client.HTTPResponse:
            conn.request("GET", path, headers=headers or {})
            response = conn.getresponse()
            response.read()
            return response

        feed = f"/feeds/g/{SLUG}.ics"
        etag = get(feed).getheader("ETag") or ""
        for _ in range(20):  # warm up both paths
            get("/bench/trivial")
            get(feed)

        def timed(path: str, headers=None, expect=200, before=None) -> float:
            times = []
            for _ in range(requests):
                if before:
                    before()
                start = time.perf_counter()
                response = get(path, headers)
                times.append((time.perf_counter() - start) * 1000)
                if response.status != expect:
                    raise RuntimeError(f"{path}: {response.status}, expected {expect}")
            return statistics.median(times)

        def bump():
            with engine.begin() as db:
                db.execute(
                    update(Group).where(Group.id == group_id).values(version=Group.version + 1)
                )

        figures = {
            "trivial endpoint ms": timed("/bench/trivial"),
            "warm feed GET ms": timed(feed),
            "warm feed GET, gzip ms": timed(feed, {"Accept-Encoding": "gzip"}),
            "304 GET ms": timed(feed, {"If-None-Match": etag}, expect=304),
        }
        figures["static bytes of the feed ms"] = timed("/bench/static")
        page_figures = {
            "group page ms": f"/g/{SLUG}",
            "routine page ms": f"/g/{SLUG}/r/1",
            "occurrence page ms": _first_occurrence_path(config),
        }
        for name, path in page_figures.items():
            get(path)  # warm up
            figures[name] = timed(path)
        figures["feed KB"] = len(_body(conn, feed, {})) / 1024
        figures["feed KB, gzip"] = len(_body(conn, feed, {"Accept-Encoding": "gzip"})) / 1024
        figures["cold feed GET ms"] = timed(feed, before=bump) if requests else 0.0
        figures["trivial endpoint ms (again)"] = timed("/bench/trivial")
        conn.close()
        engine.dispose()
        return figures
    finally:
        server.terminate()
        server.join(5)


#: Further sections of ``make bench``, run after the feed figures: each is called with no
#: arguments and prints its own figures (the mail bench adds itself here).
EXTRA_SECTIONS: list[Callable[[], None]] = []


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--renders", type=int, default=15, help="in-process runs (median)")
    parser.add_argument("--requests", type=int, default=300, help="HTTP requests per figure")
    args = parser.parse_args(argv)

    from planner import create_app, models  # noqa: F401  (models fill Base.metadata)
    from planner.db import Base, get_session, make_engine

    with tempfile.TemporaryDirectory(prefix="planner-bench-") as tmp:
        config = _config(Path(tmp))
        engine = make_engine(config["DATABASE_URL"])
        Base.metadata.create_all(engine)
        engine.dispose()
        app = create_app(config)
        with app.app_context():
            group_id = populate(get_session())
        print(f"Reference group: {ROUTINES} weekly routines, each {CHANGED} changed and "
              f"{CANCELLED} cancelled occurrences; SQLite; zone {ZONE}.")
        figures = in_process(app, group_id, args.renders)
        figures.update(over_http(config, group_id, args.requests))
        app.extensions["planner_db"].engine.dispose()

    width = max(len(k) for k in figures)
    for name, value in figures.items():
        print(f"  {name:<{width}}  {value:8.2f}")
    trivial = min(figures["trivial endpoint ms"], figures["trivial endpoint ms (again)"])
    print("Targets:")
    print(f"  warm GET / trivial      {figures['warm feed GET ms'] / trivial:5.2f}x  (<= 2)")
    print(f"  304 GET / trivial       {figures['304 GET ms'] / trivial:5.2f}x  (<= 2)")
    print(f"  naive / cold render     {figures['naive build ms'] / figures['cold render ms']:5.2f}x"
          "  (>= 3, both with the database load)")
    ratio = figures["naive build without DB load ms"] / figures["cold render without DB load ms"]
    print(f"  naive / cold, no DB     {ratio:5.2f}x  (>= 3)")
    print(f"  gzip GET / trivial      {figures['warm feed GET, gzip ms'] / trivial:5.2f}x")
    print("Rates as a fraction of the bare endpoint's (one keep-alive connection, same run):")
    for name in (
        "static bytes of the feed ms",
        "warm feed GET ms",
        "warm feed GET, gzip ms",
        "304 GET ms",
        "group page ms",
        "routine page ms",
        "occurrence page ms",
    ):
        print(f"  {name[:-3]:<28} {trivial / figures[name]:6.3f}x")
    static = figures["static bytes of the feed ms"]
    print(f"  warm feed / static bytes     {static / figures['warm feed GET ms']:6.3f}x"
          "  (>= 0.8 per byte served: same bytes)")
    print(f"  gzip feed / static bytes     {static / figures['warm feed GET, gzip ms']:6.3f}x"
          "  (>= 2)")
    for section in EXTRA_SECTIONS:
        section()

    from planner.dev import bench_mail  # self-contained: its own database and SMTP server

    bench_mail.main_section()


if __name__ == "__main__":
    main()
